"""A 503 that says when to come back (Retry-After) is retried then, not on the backoff."""

from __future__ import annotations

import pytest

from integrations.delivery.services import delivery_send_now
from integrations.models import AttemptOutcome, DeliveryStatus
from orion.core.fakes.server import Reply

from .conftest import attempts, enqueue, run_to_end

pytestmark = pytest.mark.django_db(transaction=True)

ROUTES = {
    "telegram": ("tg", "/bot*", "_send_message"),
    "discord": ("dc", "/api/v10/webhooks/*", "_execute"),
    "slack": ("sl", "/api/chat.postMessage", "_post"),
}


@pytest.mark.parametrize("kind", list(ROUTES))
def test_a_503_with_retry_after_waits_that_long(cast, kind, request):
    name, path, handler = ROUTES[kind]
    fake = request.getfixturevalue(name)
    unavailable = Reply(status=503, headers={"Retry-After": "1"}, json={"ok": False})
    fake.script("POST", path, [unavailable], default=getattr(fake, handler))
    delivery = enqueue(cast.tenant, kind)
    first = delivery_send_now(delivery_id=delivery.pk)
    assert first.status == DeliveryStatus.RETRYING
    assert 1.0 <= first.retry_in <= 1.1  # the server's figure, not the ~0.3-0.5 s backoff
    assert attempts(delivery)[0].retry_after_ms == 1000
    delivery = run_to_end(delivery)
    assert delivery.status == DeliveryStatus.SENT and len(fake.accepted) == 1
    assert [a.outcome for a in attempts(delivery)] == [
        AttemptOutcome.TRANSIENT,
        AttemptOutcome.SENT,
    ]
    second = fake.requests[1].received_at - fake.requests[0].received_at
    assert second >= 1.0
