"""Error classes, the one action each class maps to, and the classified-failure value."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorClass(StrEnum):
    RATE_LIMIT = "rate_limit"
    OVERLOADED = "overloaded"
    TIMEOUT = "timeout"
    NETWORK = "network"
    SERVER = "server"
    AUTH = "auth"
    AUTH_PERMANENT = "auth_permanent"
    BILLING = "billing"
    CONTEXT_OVERFLOW = "context_overflow"
    CONTENT_POLICY = "content_policy"
    FORMAT = "format"
    MODEL_NOT_FOUND = "model_not_found"
    UNKNOWN = "unknown"


class Action(StrEnum):
    RETRY_SAME = "retry_same"
    ROTATE_PROFILE = "rotate_profile"
    NEXT_MODEL = "next_model"
    LARGER_MODEL = "larger_model"
    SURFACE = "surface"


ACTION: dict[ErrorClass, Action] = {
    ErrorClass.RATE_LIMIT: Action.RETRY_SAME,
    ErrorClass.OVERLOADED: Action.RETRY_SAME,
    ErrorClass.TIMEOUT: Action.RETRY_SAME,
    ErrorClass.NETWORK: Action.RETRY_SAME,
    ErrorClass.SERVER: Action.RETRY_SAME,
    ErrorClass.AUTH: Action.ROTATE_PROFILE,
    ErrorClass.AUTH_PERMANENT: Action.ROTATE_PROFILE,
    ErrorClass.BILLING: Action.ROTATE_PROFILE,
    ErrorClass.CONTEXT_OVERFLOW: Action.LARGER_MODEL,
    ErrorClass.MODEL_NOT_FOUND: Action.NEXT_MODEL,
    ErrorClass.UNKNOWN: Action.NEXT_MODEL,
    ErrorClass.CONTENT_POLICY: Action.SURFACE,
    ErrorClass.FORMAT: Action.SURFACE,
}

# When retries on one profile run out, a rate limit is that profile's problem (cool the
# (profile, model) scope and rotate); these are the provider's (cool the model on every
# profile of the provider and go to the next candidate).
PROVIDER_LEVEL: frozenset[ErrorClass] = frozenset(
    {ErrorClass.OVERLOADED, ErrorClass.TIMEOUT, ErrorClass.NETWORK, ErrorClass.SERVER}
)


@dataclass(frozen=True)
class Classified:
    """One failure, classified. `message` is short and already stripped of secrets."""

    error_class: ErrorClass
    action: Action
    status: int | None = None
    message: str = ""
    retry_after: float | None = None

    @classmethod
    def of(
        cls,
        error_class: ErrorClass,
        *,
        status: int | None = None,
        message: str = "",
        retry_after: float | None = None,
    ) -> Classified:
        """Build with the class's standard action."""
        return cls(error_class, ACTION[error_class], status, message, retry_after)


class AttemptFailed(Exception):
    """Raised by a walker's `send` callable: this attempt failed, here is why."""

    def __init__(self, classified: Classified) -> None:
        super().__init__(f"{classified.error_class}: {classified.message}")
        self.classified = classified
