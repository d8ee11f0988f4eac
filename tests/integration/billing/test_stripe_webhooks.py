"""Stripe webhooks with real signatures against a fake Stripe API: bad signatures are a
400, replays are ignored, out-of-order events converge on Stripe's current state, a
failed payment opens a grace period after which billing stops the agents."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from billing.models import BillingAccount, StripeEvent, SubscriptionStatus
from billing.selectors import billing_block_reason
from orion.core.fakes import Reply
from tenants.models import AuditEvent
from tenants.scope import tenant_scope
from tests.integration.billing.conftest import WEBHOOK, WEBHOOK_SECRET

pytestmark = pytest.mark.django_db


def account(tenant) -> BillingAccount:
    with tenant_scope(tenant):
        return BillingAccount.objects.select_related("plan").get()


def sub_fetches(fake, sub_id: str) -> int:
    return sum(1 for r in fake.requests if r.path == f"/v1/subscriptions/{sub_id}")


def test_checkout_completed_records_the_subscription(cast, fake_stripe, subscribed):
    acct = account(cast.tenant)
    sub = fake_stripe.subscriptions[subscribed]
    assert acct.status == SubscriptionStatus.ACTIVE and acct.plan.name == "Starter"
    assert acct.stripe_customer_id == sub["customer"] and acct.stripe_subscription_id == subscribed
    assert acct.current_period_end.timestamp() == sub["items"]["data"][0]["current_period_end"]
    assert acct.grace_until is None and acct.last_event_at is not None
    event = StripeEvent.objects.get()
    assert event.type == "checkout.session.completed" and event.processed
    assert event.tenant_id == cast.tenant.pk
    with tenant_scope(cast.tenant):
        change = AuditEvent.objects.get(verb="billing.subscription_changed")
    assert change.before["status"] == "none" and change.after == {
        "status": "active",
        "plan": "Starter",
    }


@pytest.mark.parametrize(
    "how", ["missing", "wrong secret", "tampered body", "stale timestamp", "garbage header"]
)
def test_a_bad_or_missing_signature_is_a_400_and_changes_nothing(cast, fake_stripe, plans, how):
    sub = fake_stripe.subscription_add(
        customer=fake_stripe.customer_add(), price="price_team",
        metadata={"tenant_id": str(cast.tenant.pk)},
    )  # fmt: skip
    event = fake_stripe.event("customer.subscription.updated", sub)
    secret, stamp = WEBHOOK_SECRET, None
    if how == "wrong secret":
        secret = "whsec_someone_else"
    if how == "stale timestamp":
        stamp = int(time.time()) - 3600
    body, signature = fake_stripe.signed(event, secret, timestamp=stamp)
    if how == "tampered body":
        body = body.replace(b'"price_team"', b'"price_free"')
    headers = {} if how == "missing" else {"HTTP_STRIPE_SIGNATURE": signature}
    if how == "garbage header":
        headers = {"HTTP_STRIPE_SIGNATURE": "nonsense"}
    response = Client().post(WEBHOOK, data=body, content_type="application/json", **headers)
    assert response.status_code == 400
    assert "Stripe-Signature" in response.json()["detail"]
    assert not StripeEvent.objects.exists()
    assert not BillingAccount.objects.unscoped().exists()
    assert sub_fetches(fake_stripe, sub["id"]) == 0


def test_a_signed_body_that_is_not_an_event_is_a_400(fake_stripe):
    body = b'{"hello": "world"}'
    from orion.core.fakes.stripe import stripe_signature

    header = stripe_signature(body, WEBHOOK_SECRET, int(time.time()))
    response = Client().post(
        WEBHOOK, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert response.status_code == 400 and "not a Stripe event" in response.json()["detail"]
    assert not StripeEvent.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b"[1]",
        b"null",
        b'{"id": "evt_1", "type": ["invoice.paid"], "created": 1, "data": {"object": {}}}',
        b'{"id": "evt_1", "type": "invoice.paid", "created": 1e300, "data": {"object": {}}}',
        b'{"id": "evt_1", "type": "x", "created": 99999999999999, "data": {"object": {}}}',
        b'{"id": "evt_1", "type": "invoice.paid", "created": 1, "data": []}',
        ('{"id": "evt_' + "x" * 200 + '", "type": "invoice.paid", "created": 1, '
         '"data": {"object": {}}}').encode(),
    ],
)  # fmt: skip
def test_a_signed_body_of_the_wrong_shape_is_a_400(fake_stripe, body):
    from orion.core.fakes.stripe import stripe_signature

    header = stripe_signature(body, WEBHOOK_SECRET, int(time.time()))
    response = Client().post(
        WEBHOOK, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert response.status_code == 400 and "not a Stripe event" in response.json()["detail"]
    assert not StripeEvent.objects.exists()


def test_webhook_only_takes_post(fake_stripe):
    assert Client().get(WEBHOOK).status_code == 405


def test_a_replayed_event_is_ignored(cast, fake_stripe, subscribed, deliver):
    failed = fake_stripe.event(
        "invoice.payment_failed", fake_stripe.invoice(subscribed, paid=False)
    )
    fake_stripe.subscription_set(subscribed, status="past_due")
    assert deliver(failed).status_code == 200
    grace = account(cast.tenant).grace_until
    fetches = sub_fetches(fake_stripe, subscribed)
    fake_stripe.subscription_set(subscribed, status="canceled")  # would change the account
    response = deliver(failed)
    assert response.status_code == 200 and "received before" in response.json()["outcome"]
    assert sub_fetches(fake_stripe, subscribed) == fetches  # not applied again
    acct = account(cast.tenant)
    assert acct.status == SubscriptionStatus.PAST_DUE and acct.grace_until == grace
    assert StripeEvent.objects.filter(event_id=failed["id"]).count() == 1


def test_out_of_order_events_converge_on_stripes_current_state(
    cast, fake_stripe, subscribed, deliver
):
    """Payment failed, then paid, then the plan changed: Stripe sends the events in the
    opposite order. Each event re-fetches the subscription, so stale snapshots never win."""
    fake_stripe.subscription_set(subscribed, status="past_due")
    failed = fake_stripe.event(
        "invoice.payment_failed", fake_stripe.invoice(subscribed, paid=False)
    )
    stale_update = fake_stripe.event(
        "customer.subscription.updated", fake_stripe.subscriptions[subscribed]
    )
    fake_stripe.subscription_set(subscribed, status="active")
    paid = fake_stripe.event("invoice.paid", fake_stripe.invoice(subscribed, paid=True))
    fake_stripe.subscription_set(subscribed, price="price_team")
    changed = fake_stripe.event(
        "customer.subscription.updated", fake_stripe.subscriptions[subscribed]
    )
    assert stale_update["data"]["object"]["status"] == "past_due"  # the snapshot is stale

    for event in (changed, paid, stale_update, failed):
        assert deliver(event).status_code == 200
        acct = account(cast.tenant)
        assert (acct.status, acct.plan.name, acct.grace_until) == ("active", "Team", None)
    assert StripeEvent.objects.filter(processed=True).count() == 5


def test_a_deleted_subscription_stays_cancelled_after_late_updates(
    cast, fake_stripe, subscribed, deliver
):
    update = fake_stripe.event(
        "customer.subscription.updated", fake_stripe.subscriptions[subscribed]
    )
    fake_stripe.subscription_set(subscribed, status="canceled")
    deleted = fake_stripe.event(
        "customer.subscription.deleted", fake_stripe.subscriptions[subscribed]
    )
    assert deliver(deleted).status_code == 200
    assert deliver(update).status_code == 200
    assert account(cast.tenant).status == SubscriptionStatus.CANCELED


def test_the_newer_subscription_wins_over_a_late_event_of_the_old_one(
    cast, fake_stripe, subscribed, deliver
):
    old = fake_stripe.subscriptions[subscribed]
    fake_stripe.subscription_set(subscribed, status="canceled")
    old_deleted = fake_stripe.event("customer.subscription.deleted", old)
    new = fake_stripe.subscription_add(
        customer=old["customer"], price="price_team", metadata={"tenant_id": str(cast.tenant.pk)}
    )
    new["created"] = old["created"] + 60
    assert deliver(fake_stripe.event("customer.subscription.created", new)).status_code == 200
    response = deliver(old_deleted)  # arrives late
    assert response.status_code == 200 and "older than the current" in response.json()["outcome"]
    acct = account(cast.tenant)
    assert (acct.stripe_subscription_id, acct.status, acct.plan.name) == (
        new["id"],
        "active",
        "Team",
    )


def test_an_event_of_a_subscription_stripe_does_not_know_is_ignored(
    cast, fake_stripe, plans, deliver
):
    ghost = {
        "id": "sub_ghost",
        "object": "subscription",
        "customer": "cus_x",
        "metadata": {"tenant_id": str(cast.tenant.pk)},
    }
    response = deliver(fake_stripe.event("customer.subscription.updated", ghost))
    assert response.status_code == 200 and "does not know" in response.json()["outcome"]
    assert account(cast.tenant).status == SubscriptionStatus.NONE
    assert StripeEvent.objects.get().processed is False


def test_a_tenant_id_that_is_no_integer_names_no_company(fake_stripe, plans, deliver):
    sub = fake_stripe.subscription_add(
        customer=fake_stripe.customer_add(), price="price_team", metadata={"tenant_id": "\u00b2"}
    )
    response = deliver(fake_stripe.event("customer.subscription.updated", sub))
    assert response.status_code == 200 and "no company" in response.json()["outcome"]
    assert not BillingAccount.objects.unscoped().exists()


def test_unhandled_event_types_are_recorded_and_ignored(fake_stripe, deliver):
    response = deliver(fake_stripe.event("charge.refunded", {"id": "ch_1", "object": "charge"}))
    assert response.status_code == 200 and "not handled" in response.json()["outcome"]
    assert StripeEvent.objects.get().processed is False


def test_a_price_that_is_no_plan_is_recorded_and_flagged(cast, fake_stripe, subscribed, deliver):
    fake_stripe.subscription_set(subscribed, price="price_unknown")
    response = deliver(
        fake_stripe.event("customer.subscription.updated", fake_stripe.subscriptions[subscribed])
    )
    assert response.status_code == 200
    assert "price_unknown is not a plan" in response.json()["outcome"]
    acct = account(cast.tenant)
    assert acct.plan is None and acct.stripe_price_id == "price_unknown" and acct.status == "active"


def test_stripe_unreachable_is_a_503_and_nothing_is_stored_so_the_retry_applies(
    cast, fake_stripe, subscribed, deliver
):
    fake_stripe.subscription_set(subscribed, status="past_due")
    failed = fake_stripe.event(
        "invoice.payment_failed", fake_stripe.invoice(subscribed, paid=False)
    )
    error = {"error": {"type": "invalid_request_error", "message": "try later"}}
    fake_stripe.script(
        "GET", f"/v1/subscriptions/{subscribed}", [Reply(status=400, json=error)],
        default=lambda request: Reply(json=fake_stripe.subscriptions[subscribed]),
    )  # fmt: skip
    response = deliver(failed)
    assert response.status_code == 503
    assert not StripeEvent.objects.filter(event_id=failed["id"]).exists()
    assert account(cast.tenant).status == SubscriptionStatus.ACTIVE
    assert deliver(failed).status_code == 200  # Stripe's retry
    assert account(cast.tenant).status == SubscriptionStatus.PAST_DUE


def test_webhooks_without_a_configured_secret_are_deferred(fake_stripe, settings, deliver):
    settings.STRIPE_WEBHOOK_SECRET = ""
    response = deliver(fake_stripe.event("charge.refunded", {"id": "ch_1"}))
    assert response.status_code == 503 and not StripeEvent.objects.exists()


def test_payment_failed_opens_a_grace_period_then_billing_blocks(
    cast, fake_stripe, subscribed, deliver, settings
):
    settings.ORION_BILLING_GRACE_DAYS = 3
    fake_stripe.subscription_set(subscribed, status="past_due")
    before = timezone.now()
    deliver(
        fake_stripe.event("invoice.payment_failed", fake_stripe.invoice(subscribed, paid=False))
    )
    acct = account(cast.tenant)
    assert acct.status == SubscriptionStatus.PAST_DUE
    assert before + timedelta(days=3) <= acct.grace_until <= timezone.now() + timedelta(days=3)
    # A second failure (Stripe's retry of the payment) does not extend the grace period.
    deliver(
        fake_stripe.event("invoice.payment_failed", fake_stripe.invoice(subscribed, paid=False))
    )
    assert account(cast.tenant).grace_until == acct.grace_until
    assert billing_block_reason(tenant_id=cast.tenant.pk) == ""
    later = acct.grace_until + timedelta(seconds=1)
    reason = billing_block_reason(tenant_id=cast.tenant.pk, now=later)
    assert reason.startswith("billing: payment past due, grace period ended")
    assert billing_block_reason(tenant_id=cast.other_tenant.pk, now=later) == ""
    fake_stripe.subscription_set(subscribed, status="active")
    deliver(fake_stripe.event("invoice.paid", fake_stripe.invoice(subscribed, paid=True)))
    assert account(cast.tenant).grace_until is None
    assert billing_block_reason(tenant_id=cast.tenant.pk, now=later) == ""


def test_an_event_for_another_companys_subscription_is_not_applied(
    cast, fake_stripe, plans, deliver
):
    theirs = fake_stripe.subscription_add(
        customer=fake_stripe.customer_add(), price="price_team",
        metadata={"tenant_id": str(cast.other_tenant.pk)},
    )  # fmt: skip
    forged = json.loads(json.dumps(theirs))
    forged["metadata"] = {"tenant_id": str(cast.tenant.pk)}
    response = deliver(fake_stripe.event("customer.subscription.updated", forged))
    assert "belongs to another company" in response.json()["outcome"]
    assert not BillingAccount.objects.unscoped().exclude(status="none").exists()
