"""The reliability stack every outbound call goes through. Pure Python: no Django here.

errors/classify: what went wrong and what to do about it; retry: how long to wait;
cooldown: when a profile may be used again; failover: the walk over the model chain,
persisted through a Ledger before every attempt; summary: the error when all of it fails.
"""

from orion.reliability.chain import Candidate, Profile, StepKey
from orion.reliability.classify import NON_JSON_MESSAGE, classify_exception, classify_response
from orion.reliability.cooldown import (
    DEFAULT_SCHEDULE,
    CooldownSchedule,
    CooldownState,
    expires_at,
    is_usable,
    mark_probe,
    next_try_at,
    probe_allowed,
    record_failure,
    record_success,
)
from orion.reliability.errors import (
    ACTION,
    PROVIDER_LEVEL,
    Action,
    AttemptFailed,
    Classified,
    ErrorClass,
)
from orion.reliability.failover import (
    DEADLINE_RESERVE_S,
    MIN_ATTEMPT_S,
    FailoverWalker,
    WalkResult,
    attempt_time_left,
)
from orion.reliability.ledger import (
    AttemptRecord,
    AttemptStatus,
    CooldownStore,
    InMemoryCooldownStore,
    InMemoryLedger,
    Ledger,
)
from orion.reliability.redact import redact, safe_message
from orion.reliability.retry import POLICIES, RetryPolicy, policy_for
from orion.reliability.retry_after import parse_duration, parse_retry_after
from orion.reliability.summary import FallbackSummaryError

__all__ = [
    "ACTION",
    "DEADLINE_RESERVE_S",
    "DEFAULT_SCHEDULE",
    "MIN_ATTEMPT_S",
    "NON_JSON_MESSAGE",
    "POLICIES",
    "PROVIDER_LEVEL",
    "Action",
    "AttemptFailed",
    "AttemptRecord",
    "AttemptStatus",
    "Candidate",
    "Classified",
    "CooldownSchedule",
    "CooldownState",
    "CooldownStore",
    "ErrorClass",
    "FailoverWalker",
    "FallbackSummaryError",
    "InMemoryCooldownStore",
    "InMemoryLedger",
    "Ledger",
    "Profile",
    "RetryPolicy",
    "StepKey",
    "WalkResult",
    "attempt_time_left",
    "classify_exception",
    "classify_response",
    "expires_at",
    "is_usable",
    "mark_probe",
    "next_try_at",
    "parse_duration",
    "parse_retry_after",
    "policy_for",
    "probe_allowed",
    "record_failure",
    "record_success",
    "redact",
    "safe_message",
]
