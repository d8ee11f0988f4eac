"""The billing page: plan and status for everyone in the company, Subscribe (Checkout) and
Manage billing (Customer Portal) for owners, redirecting to the fake Stripe's URLs; the
past-due banner; the daily report's time."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone

from billing.models import BillingAccount, SubscriptionStatus
from tenants.models import AuditEvent
from tenants.scope import tenant_scope

pytestmark = pytest.mark.django_db
PAGE = "/billing/plan/"
SUBSCRIBE = "/billing/plan/subscribe/"
MANAGE = "/billing/plan/manage/"
REPORT_TIME = "/billing/plan/report-time/"
ROLES = ["owner", "admin", "member", "viewer"]


def _account(tenant) -> BillingAccount:
    with tenant_scope(tenant):
        return BillingAccount.objects.get_or_create(tenant_id=tenant.pk)[0]


def _stripe_posts(fake) -> list:
    return [r for r in fake.requests if r.method == "POST"]


@pytest.mark.parametrize("role", ROLES)
def test_everyone_sees_plan_and_status_only_owners_get_the_buttons(
    client_as, fake_stripe, subscribed, role
):
    response = client_as(role).get(PAGE)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Starter" in text and 'data-status="active"' in text
    assert ("Manage billing" in text) is (role == "owner")
    assert ('name="report_time"' in text) is (role == "owner")


def test_the_outsider_sees_only_their_own_company(client_as, fake_stripe, subscribed):
    text = client_as("outsider").get(PAGE).content.decode()
    assert 'data-status="none"' in text and "Starter (29" in text  # offered, not subscribed
    assert "Manage billing" not in text


def test_owner_subscribes_through_checkout(client_as, cast, fake_stripe, plans):
    response = client_as("owner").post(SUBSCRIBE, {"plan": plans["team"].pk})
    assert response.status_code == 303
    (session,) = fake_stripe.checkout_sessions.values()
    assert response["Location"] == session["url"] and session["url"].startswith(fake_stripe.url)
    form = _stripe_posts(fake_stripe)[0].form()
    assert form["line_items[0][price]"] == "price_team" and form["mode"] == "subscription"
    assert form["client_reference_id"] == str(cast.tenant.pk)
    assert form["subscription_data[metadata][tenant_id]"] == str(cast.tenant.pk)
    assert form["customer_email"] == "owner@acme.test"
    assert form["success_url"] == "https://orion.test/billing/plan/?checkout=done"
    with tenant_scope(cast.tenant):
        assert AuditEvent.objects.filter(verb="billing.checkout_started").exists()


@pytest.mark.parametrize("role", ["admin", "member", "viewer"])
def test_only_owners_subscribe_or_manage(client_as, fake_stripe, subscribed, plans, role):
    before = len(fake_stripe.requests)
    client = client_as(role)
    for url, data in ((SUBSCRIBE, {"plan": plans["team"].pk}), (MANAGE, {})):
        response = client.post(url, data)
        assert response.status_code == 403
        assert "Only owners" in response.content.decode()
    assert len(fake_stripe.requests) == before


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ("999999", "There is no plan '999999' on offer"),
        ("", "There is no plan"),
        ("x; drop", "no plan"),
        ("9" * 30, "no plan"),
        ("\u00b2", "no plan"),  # a digit to str.isdigit, not to int()
    ],
)
def test_a_plan_that_does_not_exist_is_a_clear_400(client_as, fake_stripe, plans, plan, message):
    response = client_as("owner").post(SUBSCRIBE, {"plan": plan})
    assert response.status_code == 400
    error = response.context["error"]
    assert message in error and "choose one of Starter, Team." in error
    assert _stripe_posts(fake_stripe) == []


def test_a_plan_no_longer_offered_is_refused(client_as, fake_stripe, plans):
    response = client_as("owner").post(SUBSCRIBE, {"plan": plans["old"].pk})
    assert response.status_code == 400 and _stripe_posts(fake_stripe) == []


def test_a_subscribed_company_changes_plan_in_the_portal_not_checkout(
    client_as, fake_stripe, subscribed, plans
):
    before = len(fake_stripe.checkout_sessions)
    response = client_as("owner").post(SUBSCRIBE, {"plan": plans["team"].pk})
    assert response.status_code == 400 and "Manage billing" in response.content.decode()
    assert len(fake_stripe.checkout_sessions) == before


def test_a_double_click_on_subscribe_opens_one_checkout(client_as, fake_stripe, plans):
    """Two open Checkout Sessions could both be paid: two subscriptions, one never seen."""
    client = client_as("owner")
    first = client.post(SUBSCRIBE, {"plan": plans["team"].pk})
    second = client.post(SUBSCRIBE, {"plan": plans["team"].pk})
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"] and len(fake_stripe.checkout_sessions) == 1
    other = client.post(SUBSCRIBE, {"plan": plans["starter"].pk})
    assert other["Location"] != first["Location"] and len(fake_stripe.checkout_sessions) == 2


def test_after_a_cancellation_subscribe_opens_a_new_checkout(
    client_as, fake_stripe, subscribed, plans, deliver
):
    fake_stripe.subscription_set(subscribed, status="canceled")
    sub = fake_stripe.subscriptions[subscribed]
    assert deliver(fake_stripe.event("customer.subscription.deleted", sub)).status_code == 200
    before = set(fake_stripe.checkout_sessions)
    response = client_as("owner").post(SUBSCRIBE, {"plan": plans["starter"].pk})
    assert response.status_code == 303
    (new,) = set(fake_stripe.checkout_sessions) - before
    assert response["Location"] == fake_stripe.checkout_sessions[new]["url"]


def test_owner_manages_billing_in_the_customer_portal(client_as, cast, fake_stripe, subscribed):
    response = client_as("owner").post(MANAGE)
    assert response.status_code == 303
    (session,) = fake_stripe.portal_sessions.values()
    assert response["Location"] == session["url"] and session["url"].startswith(fake_stripe.url)
    assert session["customer"] == _account(cast.tenant).stripe_customer_id
    assert session["return_url"] == "https://orion.test/billing/plan/"


def test_manage_billing_before_subscribing_is_a_400(client_as, fake_stripe):
    response = client_as("owner").post(MANAGE)
    assert response.status_code == 400 and "Subscribe to a plan first" in response.content.decode()
    assert fake_stripe.requests == []


def test_stripe_down_is_a_502_and_nothing_changes(client_as, cast, fake_stripe, plans, settings):
    settings.ORION_STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    settings.STRIPE_SECRET_KEY = "sk_test_down"
    response = client_as("owner").post(SUBSCRIBE, {"plan": plans["team"].pk})
    assert response.status_code == 502
    assert "could not be reached" in response.content.decode()
    with tenant_scope(cast.tenant):
        assert not AuditEvent.objects.filter(verb="billing.checkout_started").exists()


@pytest.mark.parametrize(("role", "grace", "banner"), [
    ("owner", timedelta(days=2), "update your card before"),
    ("viewer", timedelta(days=2), "update your card before"),
    ("owner", timedelta(seconds=-5), "your agents are stopped"),
])  # fmt: skip
def test_the_past_due_banner(client_as, cast, role, grace, banner):
    account = _account(cast.tenant)
    account.status, account.grace_until = SubscriptionStatus.PAST_DUE, timezone.now() + grace
    with tenant_scope(cast.tenant):
        account.save()
    for url in (PAGE, "/billing/", "/billing/usage/"):
        text = client_as(role).get(url).content.decode()
        assert 'data-banner="past-due"' in text and banner in text, url
    assert 'data-banner="past-due"' not in client_as("outsider").get(PAGE).content.decode()


def test_owner_sets_the_report_time(client_as, cast):
    response = client_as("owner").post(REPORT_TIME, {"report_time": "07:30"})
    assert response.status_code == 302
    assert _account(cast.tenant).report_time == time(7, 30)
    with tenant_scope(cast.tenant):
        event = AuditEvent.objects.get(verb="billing.report_time_set")
    assert event.before == {"report_time": "20:00"}
    assert event.after == {"report_time": "07:30", "timezone": cast.tenant.timezone}
    assert "07:30" in client_as("viewer").get(PAGE).content.decode()


@pytest.mark.parametrize("value", ["25:00", "7pm", "", "12:60", "20:00:00x"])
def test_a_bad_report_time_is_a_400_next_to_the_field(client_as, cast, value):
    response = client_as("owner").post(REPORT_TIME, {"report_time": value})
    assert response.status_code == 400
    assert response.context["form"].errors["report_time"]
    assert _account(cast.tenant).report_time == time(20, 0)


@pytest.mark.parametrize("role", ["admin", "member", "viewer"])
def test_only_owners_set_the_report_time(client_as, cast, role):
    response = client_as(role).post(REPORT_TIME, {"report_time": "07:30"})
    assert response.status_code == 403
    assert _account(cast.tenant).report_time == time(20, 0)


def test_the_outsider_sets_only_their_own_report_time(client_as, cast):
    assert client_as("outsider").post(REPORT_TIME, {"report_time": "06:00"}).status_code == 302
    assert _account(cast.tenant).report_time == time(20, 0)
    assert _account(cast.other_tenant).report_time == time(6, 0)


@pytest.mark.parametrize("url", [PAGE, "/billing/usage/", "/billing/usage.csv"])
def test_anonymous_goes_to_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("url", [SUBSCRIBE, MANAGE, REPORT_TIME])
def test_anonymous_posts_change_nothing(client, fake_stripe, url):
    response = client.post(url, {"plan": "1", "report_time": "01:00"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert fake_stripe.requests == [] and not BillingAccount.objects.unscoped().exists()


def test_the_outsider_subscribes_and_manages_only_their_own_company(
    client_as, cast, fake_stripe, subscribed, plans
):
    client = client_as("outsider")
    response = client.post(MANAGE)
    assert response.status_code == 400  # their company has no subscription; ours is not theirs
    assert fake_stripe.portal_sessions == {}
    response = client.post(SUBSCRIBE, {"plan": plans["team"].pk})
    assert response.status_code == 303
    session = list(fake_stripe.checkout_sessions.values())[-1]
    assert session["client_reference_id"] == str(cast.other_tenant.pk)
    assert session["customer"] is None  # not our company's Stripe customer
    assert session["customer_email"] == "owner@globex.test"


@pytest.mark.parametrize(
    ("query", "says"),
    [("done", "starts as soon as Stripe confirms"), ("cancelled", "nothing was charged")],
)
def test_back_from_checkout_the_page_says_what_happened(client_as, query, says):
    assert says in client_as("owner").get(PAGE, {"checkout": query}).content.decode()
