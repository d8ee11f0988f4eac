"""Stripe subscriptions: Checkout to subscribe, the Customer Portal to change card or
plan, and the webhook that keeps each tenant's BillingAccount up to date.

Out-of-order events converge because no event's snapshot is trusted: each handled event
only names a subscription, which is re-fetched from the Stripe API while the tenant's
account row is locked, and written as it is now. Whatever order events arrive in, the
last one applied wrote the latest state. Of two subscriptions of one tenant (cancelled,
then a new one), the one created later at Stripe is the current one."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from billing.models import BillingAccount, Plan, StripeEvent, SubscriptionStatus
from billing.services.accounts import billing_account_get
from billing.services.stripe_api import StripeNotConfigured, stripe_client
from tenants.models import Tenant
from tenants.scope import tenant_scope
from tenants.services.audit import audit_record

logger = logging.getLogger(__name__)

HANDLED_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "invoice.paid",
        "invoice.payment_failed",
    }
)
LIVE_STATUSES = (
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.PAST_DUE,
)
STRIPE_STATUSES = {
    "trialing": SubscriptionStatus.TRIALING,
    "active": SubscriptionStatus.ACTIVE,
    "past_due": SubscriptionStatus.PAST_DUE,
    "unpaid": SubscriptionStatus.PAST_DUE,  # retries exhausted: still not paid
    "canceled": SubscriptionStatus.CANCELED,
    "incomplete_expired": SubscriptionStatus.CANCELED,
    "paused": SubscriptionStatus.CANCELED,
    "incomplete": SubscriptionStatus.NONE,  # the first payment has not gone through
}


class BillingUnavailable(Exception):
    """Stripe could not be reached or refused the request: nothing was changed."""


class WebhookRejected(Exception):
    """The webhook's signature or body is not a valid Stripe event (answer 400)."""


NOT_AN_EVENT = "The body is not a Stripe event."


def grace_days() -> int:
    return settings.ORION_BILLING_GRACE_DAYS  # declared and validated in orion/settings.py


def _url(name: str, query: str = "") -> str:
    return f"{settings.SITE_URL.rstrip('/')}{reverse(name)}{query}"


def _stripe_call(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except StripeNotConfigured as exc:
        raise BillingUnavailable("Payments are not set up on this server yet.") from exc
    except stripe.StripeError as exc:
        logger.warning("stripe call failed: %s", exc.__class__.__name__)
        raise BillingUnavailable(
            "The payment provider could not be reached; nothing changed. Try again shortly."
        ) from exc


def checkout_start(*, tenant: Tenant, plan_id: str, actor_user: Any) -> str:
    """A Stripe Checkout Session subscribing the tenant to an offered plan; returns its
    URL. ValidationError for a plan not on offer or a tenant already subscribed."""
    plan, plan_id = None, str(plan_id)
    if plan_id.isascii() and plan_id.isdigit() and len(plan_id) < 19:  # a bigint
        plan = Plan.objects.filter(pk=int(plan_id), active=True).first()
    if plan is None:
        offered = ", ".join(Plan.objects.filter(active=True).values_list("name", flat=True))
        raise ValidationError(
            f"There is no plan {plan_id[:40]!r} on offer"
            + (f": choose one of {offered}." if offered else "; no plans are offered yet.")
        )
    account = billing_account_get(tenant_id=tenant.pk)
    if account.status in LIVE_STATUSES:
        raise ValidationError(
            f"This company already has a subscription ({account.get_status_display()}): "
            "change the plan or the card under “Manage billing”."
        )
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [{"price": plan.stripe_price_id, "quantity": 1}],
        "client_reference_id": str(tenant.pk),
        "metadata": {"tenant_id": str(tenant.pk)},
        "subscription_data": {"metadata": {"tenant_id": str(tenant.pk)}},
        "success_url": _url("billing:account", "?checkout=done"),
        "cancel_url": _url("billing:account", "?checkout=cancelled"),
    }
    if account.stripe_customer_id:
        params["customer"] = account.stripe_customer_id
    elif getattr(actor_user, "email", ""):
        params["customer_email"] = actor_user.email
    options = {"idempotency_key": _checkout_key(params, account)}
    session = _stripe_call(
        lambda: stripe_client().v1.checkout.sessions.create(params=params, options=options)
    )
    audit_record(
        tenant=tenant,
        verb="billing.checkout_started",
        target=account,
        actor_user=actor_user,
        after={"plan": plan.name, "session": session.id},
    )
    return session.url


def _checkout_key(params: dict[str, Any], account: BillingAccount) -> str:
    """The same request on the same UTC day, while the account is on the same subscription,
    gets Stripe's same Checkout Session (a session lives 24 hours): a double click or a
    second tab cannot open two sessions that could both be paid."""
    material = [params, account.stripe_subscription_id, timezone.now().date().isoformat()]
    digest = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
    return f"checkout-{account.tenant_id}-{digest[:32]}"


def portal_start(*, tenant: Tenant, actor_user: Any) -> str:
    """A Stripe Customer Portal session (card, plan, cancel); returns its URL."""
    account = billing_account_get(tenant_id=tenant.pk)
    if not account.stripe_customer_id:
        raise ValidationError("Subscribe to a plan first: there is nothing to manage yet.")
    params = {"customer": account.stripe_customer_id, "return_url": _url("billing:account")}
    session = _stripe_call(lambda: stripe_client().v1.billing_portal.sessions.create(params=params))
    audit_record(tenant=tenant, verb="billing.portal_opened", target=account, actor_user=actor_user)
    return session.url


def stripe_webhook_receive(*, payload: bytes, signature: str | None) -> str:
    """Verify, then apply the event once: the StripeEvent row (unique event id) is written
    in the transaction that applies it, so a replay finds it and is ignored, and a
    failure (Stripe unreachable: BillingUnavailable) leaves nothing for Stripe's retry to
    trip on. Returns what was done."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise StripeNotConfigured("STRIPE_WEBHOOK_SECRET is not set")
    try:
        stripe.Webhook.construct_event(payload, signature, secret)  # verifies, then parses
    except stripe.SignatureVerificationError as exc:
        raise WebhookRejected("Bad or missing Stripe-Signature header.") from exc
    except (ValueError, TypeError, AttributeError) as exc:  # a signed body that is no object
        raise WebhookRejected(NOT_AN_EVENT) from exc
    event_id, kind, created, obj = _event_fields(payload)
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = StripeEvent.objects.create(event_id=event_id, type=kind[:80], created=created)
        except IntegrityError:
            return f"ignored: event {event_id} was received before"
        tenant_id, outcome, applied = _apply(kind, obj, created)
        StripeEvent.objects.filter(pk=row.pk).update(
            processed=applied, outcome=outcome[:200], tenant_id=tenant_id
        )
    return outcome


def _event_fields(payload: bytes) -> tuple[str, str, datetime, dict]:
    """The event's id, type, creation time and object, each of the shape stored."""
    try:
        event = json.loads(payload)
        event_id, kind, obj = event["id"], event["type"], event["data"]["object"]
        created = datetime.fromtimestamp(int(event["created"]), tz=UTC)
    except (ValueError, KeyError, TypeError, OverflowError) as exc:
        raise WebhookRejected(NOT_AN_EVENT) from exc
    id_max = StripeEvent._meta.get_field("event_id").max_length
    if not (isinstance(event_id, str) and 0 < len(event_id) <= id_max):
        raise WebhookRejected(NOT_AN_EVENT)
    if not isinstance(kind, str) or not isinstance(obj, dict):
        raise WebhookRejected(NOT_AN_EVENT)
    return event_id, kind, created, obj


def _subscription_id(kind: str, obj: dict) -> str:
    if kind.startswith("customer.subscription."):
        return obj.get("id") or ""
    if kind.startswith("invoice."):
        parent = (obj.get("parent") or {}).get("subscription_details") or {}
        return parent.get("subscription") or obj.get("subscription") or ""
    return obj.get("subscription") or ""


def _tenant_id(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


def _tenant_hint(kind: str, obj: dict) -> int | None:
    """The tenant an event names (our metadata, the checkout's reference), else the one
    whose Stripe customer it is."""
    details = (obj.get("parent") or {}).get("subscription_details") or {}
    for candidate in (
        (obj.get("metadata") or {}).get("tenant_id"),
        obj.get("client_reference_id") if kind == "checkout.session.completed" else None,
        (details.get("metadata") or {}).get("tenant_id"),
    ):
        if (tenant_id := _tenant_id(candidate)) is not None:
            return tenant_id
    customer = obj.get("customer")
    if not isinstance(customer, str) or not customer:
        return None
    return (
        BillingAccount.objects.unscoped()
        .filter(stripe_customer_id=customer)
        .values_list("tenant_id", flat=True)
        .first()
    )


def _fetch(sub_id: str) -> dict | None:
    """The subscription as Stripe has it now (None: Stripe does not know it)."""
    try:
        return stripe_client().v1.subscriptions.retrieve(sub_id).to_dict()
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            return None
        raise BillingUnavailable(f"Stripe refused to return subscription {sub_id}") from exc
    except (stripe.StripeError, StripeNotConfigured) as exc:
        raise BillingUnavailable(f"Stripe could not be asked for subscription {sub_id}") from exc


def _apply(kind: str, obj: dict, created: datetime) -> tuple[int | None, str, bool]:
    if kind not in HANDLED_EVENTS:
        return None, f"ignored: {kind} is not handled", False
    sub_id = _subscription_id(kind, obj)
    if not sub_id:
        return None, "ignored: the event names no subscription", False
    tenant_id = _tenant_hint(kind, obj)
    if tenant_id is None:
        sub = _fetch(sub_id)
        tenant_id = _tenant_id((sub or {}).get("metadata", {}).get("tenant_id"))
    if tenant_id is None or not Tenant.objects.filter(pk=tenant_id).exists():
        return None, f"ignored: no company for subscription {sub_id}", False
    billing_account_get(tenant_id=tenant_id)
    with tenant_scope(tenant_id):
        account = (
            BillingAccount.objects.select_for_update(of=("self",)).select_related("plan").get()
        )
        sub = _fetch(sub_id)  # under the lock: whoever writes last fetched last
        if sub is None:
            return tenant_id, f"ignored: Stripe does not know subscription {sub_id}", False
        owner = _tenant_id(sub.get("metadata", {}).get("tenant_id"))
        if owner is not None and owner != tenant_id:
            return None, f"ignored: subscription {sub_id} belongs to another company", False
        return tenant_id, _subscription_write(account, sub, created), True


def _subscription_write(account: BillingAccount, sub: dict, event_created: datetime) -> str:
    started = datetime.fromtimestamp(int(sub["created"]), tz=UTC)
    current, current_started = account.stripe_subscription_id, account.subscription_created
    if current not in ("", sub["id"]) and current_started and started < current_started:
        return f"ignored: {sub['id']} is older than the current subscription {current}"
    items = (sub.get("items") or {}).get("data") or [{}]
    price = (items[0].get("price") or {}).get("id", "")
    period_end = items[0].get("current_period_end") or sub.get("current_period_end")
    status = STRIPE_STATUSES.get(sub.get("status", ""), SubscriptionStatus.NONE)
    before = {"status": account.status, "plan": account.plan.name if account.plan else None}
    if status != SubscriptionStatus.PAST_DUE:
        account.grace_until = None
    elif account.status != SubscriptionStatus.PAST_DUE or account.grace_until is None:
        account.grace_until = timezone.now() + timedelta(days=grace_days())
    customer = sub.get("customer")
    account.stripe_customer_id = customer if isinstance(customer, str) else customer["id"]
    account.stripe_subscription_id = sub["id"]
    account.subscription_created = started
    account.stripe_price_id = price
    account.plan = Plan.objects.filter(stripe_price_id=price).first() if price else None
    account.status = status
    account.current_period_end = (
        datetime.fromtimestamp(int(period_end), tz=UTC) if period_end else None
    )
    account.last_event_at = max(filter(None, (account.last_event_at, event_created)))
    account.save()
    after = {"status": status, "plan": account.plan.name if account.plan else None}
    if after != before:
        audit_record(
            tenant=account.tenant_id,
            verb="billing.subscription_changed",
            target=account,
            before=before,
            after=after,
        )
    outcome = f"{sub['id']} is {status}"
    if price and account.plan is None:
        logger.warning("stripe price %s of subscription %s is not a plan", price, sub["id"])
        outcome += f"; its price {price} is not a plan (add it in the admin)"
    return outcome
