from integrations.models.actions import ActionStatus, ExternalAction
from integrations.models.connection import (
    MESSAGING_KINDS,
    Connection,
    ConnectionKind,
    ConnectionStatus,
)
from integrations.models.delivery import AttemptOutcome, Delivery, DeliveryAttempt, DeliveryStatus

__all__ = [
    "MESSAGING_KINDS",
    "ActionStatus",
    "AttemptOutcome",
    "Connection",
    "ConnectionKind",
    "ConnectionStatus",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryStatus",
    "ExternalAction",
]
