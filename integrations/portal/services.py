"""Writes a person makes from the integrations pages besides connecting: a test message."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q

from integrations.delivery.services import delivery_enqueue
from integrations.models import ConnectionKind, Delivery
from tenants.services.audit import audit_record

TEST_SUBJECT = "Test message from Orion"


@transaction.atomic
def delivery_send_test(
    *, tenant_id: int, kind: str, text: str, nonce: str, actor_user: Any
) -> Delivery:
    """Queue a test message on the tenant's `kind` channel (email: to its notification
    address). The form's nonce is the key, so the same form sent twice is one delivery
    (and one audit entry). ValidationError when the channel cannot take it (not
    connected, disabled, text refused)."""
    key = f"test:{kind}:{nonce}"
    seen = (
        Delivery.objects.unscoped()
        .filter(Q(key=key) | Q(key__startswith=f"{key}#"), tenant_id=tenant_id)
        .exists()
    )
    deliveries = delivery_enqueue(
        tenant_id=tenant_id,
        kind=kind,
        body=text,
        key=key,
        subject=TEST_SUBJECT if kind == ConnectionKind.EMAIL else "",
        purpose="test",
    )
    if not seen:
        audit_record(
            tenant=tenant_id,
            verb="integration.test_sent",
            target=deliveries[0],
            actor_user=actor_user,
            after={"kind": kind, "deliveries": [d.pk for d in deliveries], "chars": len(text)},
        )
    return deliveries[0]
