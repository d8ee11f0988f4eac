"""Staff see every tenant's Stripe state (read-only, filtered by status and by whether
billing stopped the agents), the Stripe events, usage and budgets; plans are edited with
an audit row; nobody else gets in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from billing.models import BillingAccount, Plan, StripeEvent, SubscriptionStatus, UsageReport
from orion.core.models import StaffAuditEvent
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
A = "/admin/billing"


@pytest.fixture
def staff(db) -> Client:
    client = Client()
    client.force_login(make_user("ops@orion.test", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def accounts(cast, plans):
    now = timezone.now()
    BillingAccount.objects.bulk_create([
        BillingAccount(tenant=cast.tenant, status=SubscriptionStatus.PAST_DUE,
                       grace_until=now - timedelta(hours=1), plan=plans["starter"]),
        BillingAccount(tenant=cast.other_tenant, status=SubscriptionStatus.ACTIVE,
                       plan=plans["team"]),
    ])  # fmt: skip
    StripeEvent.objects.create(
        event_id="evt_1", type="invoice.payment_failed", created=datetime(2026, 11, 1, tzinfo=UTC),
        processed=True, outcome="sub_1 is past_due", tenant=cast.tenant,
    )  # fmt: skip
    UsageReport.objects.bulk_create([UsageReport(tenant=cast.tenant, day=now.date())])


def _names(response) -> list[str]:
    return sorted(str(row.tenant) for row in response.context["cl"].result_list)


def test_staff_see_stripe_state_per_tenant_filtered_by_status(staff, accounts):
    assert _names(staff.get(f"{A}/billingaccount/")) == ["Acme Plumbing", "Globex Bakery"]
    assert _names(staff.get(f"{A}/billingaccount/?status=past_due")) == ["Acme Plumbing"]
    assert _names(staff.get(f"{A}/billingaccount/?status=active")) == ["Globex Bakery"]
    assert _names(staff.get(f"{A}/billingaccount/?stopped=yes")) == ["Acme Plumbing"]
    assert _names(staff.get(f"{A}/billingaccount/?stopped=grace")) == []
    row = BillingAccount.objects.unscoped().get(status="past_due")
    detail = staff.get(f"{A}/billingaccount/{row.pk}/change/")
    assert detail.status_code == 200 and not detail.context["has_change_permission"]
    assert (
        staff.post(f"{A}/billingaccount/{row.pk}/change/", {"status": "active"}).status_code == 403
    )
    assert staff.get(f"{A}/billingaccount/add/").status_code == 403


@pytest.mark.parametrize(
    "model", ["stripeevent", "usageevent", "usagereport", "budget", "budgetperiod", "plan"]
)
def test_staff_open_the_other_billing_lists(staff, accounts, model):
    response = staff.get(f"{A}/{model}/")
    assert response.status_code == 200
    if model in ("stripeevent", "usagereport", "plan"):
        assert response.context["cl"].result_count >= 1


def test_staff_edit_plans_with_an_audit_row_and_cannot_delete_them(staff, plans):
    plan = plans["starter"]
    form = {
        "name": "Starter",
        "stripe_price_id": "price_starter_v2",
        "monthly_usd": "35",
        "active": "on",
    }
    assert staff.post(f"{A}/plan/{plan.pk}/change/", form).status_code == 302
    plan.refresh_from_db()
    assert plan.stripe_price_id == "price_starter_v2"
    event = StaffAuditEvent.objects.get(verb="plan.saved")
    assert event.before["stripe_price_id"] == "price_starter" and event.after["monthly_usd"] == "35"
    assert staff.post(f"{A}/plan/{plan.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Plan.objects.filter(pk=plan.pk).exists()


@pytest.mark.parametrize("role", ["owner", "admin", "member", "viewer", "outsider"])
def test_tenant_people_cannot_open_the_billing_admin(client_as, accounts, role):
    for model in ("billingaccount", "stripeevent", "plan"):
        assert client_as(role).get(f"{A}/{model}/").status_code == 302  # to the admin login
