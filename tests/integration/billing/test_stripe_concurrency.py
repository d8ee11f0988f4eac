"""The same Stripe event delivered twice at once (Stripe retries while the first delivery
is still being applied): applied exactly once, on real PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test import Client

from billing.models import BillingAccount, StripeEvent
from tests.integration.billing.conftest import WEBHOOK, WEBHOOK_SECRET

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_deliveries_of_one_event_at_once_apply_it_once(cast, fake_stripe, plans):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent transactions")
    sub = fake_stripe.subscription_add(
        customer=fake_stripe.customer_add(), price="price_team",
        metadata={"tenant_id": str(cast.tenant.pk)},
    )  # fmt: skip
    body, signature = fake_stripe.signed(
        fake_stripe.event("customer.subscription.updated", sub), WEBHOOK_SECRET
    )
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def deliver() -> None:
        try:
            start.wait()
            response = Client().post(
                WEBHOOK, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
            )
            outcomes.append(f"{response.status_code} {response.json()['outcome']}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == 4 and all(o.startswith("200 ") for o in outcomes)
    assert sum("received before" in o for o in outcomes) == 3
    assert StripeEvent.objects.count() == 1
    account = BillingAccount.objects.unscoped().get(tenant=cast.tenant)
    assert account.status == "active" and account.plan == plans["team"]
    fetches = [r for r in fake_stripe.requests if r.path == f"/v1/subscriptions/{sub['id']}"]
    assert len(fetches) == 1
