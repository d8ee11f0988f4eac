"""The portal's budget and usage page with the fixed cast."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from billing.models import Budget, UsageEvent
from billing.services.budgets import budget_set
from tenants.models import AuditEvent
from tenants.scope import tenant_scope

pytestmark = pytest.mark.django_db
PAGE = "/billing/"


@pytest.fixture
def ours(cast):
    with tenant_scope(cast.tenant):
        budget_set(tenant=cast.tenant, limit_cents=5_000)
        UsageEvent.objects.create(
            key="k1",
            agent_id=3,
            model="glm-4.7",
            input_tokens=1_000,
            output_tokens=100,
            cost_micros=1_100,
            fell_back=True,
            created_at=datetime.now(UTC),
        )


@pytest.mark.parametrize(
    ("role", "form"), [("owner", True), ("admin", False), ("member", False), ("viewer", False)]
)
def test_everyone_sees_budget_and_usage_only_owners_get_the_form(client_as, ours, role, form):
    response = client_as(role).get(PAGE)
    assert response.status_code == 200
    text = response.content.decode()
    assert "50 USD" in text and "glm-4.7" in text
    assert ('name="limit_usd"' in text) is form


@pytest.mark.parametrize(
    ("role", "status"), [("owner", 302), ("admin", 403), ("member", 403), ("viewer", 403)]
)
def test_only_owners_change_the_budget(client_as, cast, ours, role, status):
    response = client_as(role).post(PAGE, {"limit_usd": "80.00", "soft_pct": "90"})
    assert response.status_code == status
    with tenant_scope(cast.tenant):
        budget = Budget.objects.get()
        assert budget.limit_cents == (8_000 if status == 302 else 5_000)
        assert AuditEvent.objects.filter(
            verb="budget.set", actor_user=cast.user(role)
        ).exists() is (status == 302)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"limit_usd": "-1", "soft_pct": "80"}, "limit_usd"),
        ({"limit_usd": "99999999", "soft_pct": "80"}, "limit_usd"),
        ({"limit_usd": "lots", "soft_pct": "80"}, "limit_usd"),
        ({"limit_usd": "10", "soft_pct": "0"}, "soft_pct"),
    ],
)
def test_bad_input_is_a_400_next_to_the_field(client_as, cast, ours, data, field):
    response = client_as("owner").post(PAGE, data)
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    with tenant_scope(cast.tenant):
        assert Budget.objects.get().limit_cents == 5_000


def test_outsiders_see_and_change_only_their_own(client_as, cast, ours):
    client = client_as("outsider")
    text = client.get(PAGE).content.decode()
    assert "none set" in text and "glm-4.7" not in text
    assert client.post(PAGE, {"limit_usd": "1", "soft_pct": "80"}).status_code == 302
    with tenant_scope(cast.tenant):
        assert Budget.objects.get().limit_cents == 5_000
    with tenant_scope(cast.other_tenant):
        assert Budget.objects.get().limit_cents == 100


def test_anonymous_goes_to_the_login_page(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
