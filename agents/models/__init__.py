from agents.models.agent import Agent, AgentRole, AgentStatus, Run, RunStatus
from agents.models.calls import FailoverAttempt, ModelCall, ModelCallStatus
from agents.models.providers import (
    AuthProfile,
    ChainCandidate,
    ModelChain,
    ProfileCooldown,
    Provider,
    ProviderKind,
)

__all__ = [
    "Agent",
    "AgentRole",
    "AgentStatus",
    "AuthProfile",
    "ChainCandidate",
    "FailoverAttempt",
    "ModelCall",
    "ModelCallStatus",
    "ModelChain",
    "ProfileCooldown",
    "Provider",
    "ProviderKind",
    "Run",
    "RunStatus",
]
