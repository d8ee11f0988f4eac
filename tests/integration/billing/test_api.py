"""Budget and usage endpoints with the fixed cast: everyone in the tenant reads, only
owners change the budget, bad input is a 400 next to its field, outsiders see only their
own tenant."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from billing.models import Budget, UsageEvent
from billing.services.budgets import budget_set
from tenants.models import AuditEvent
from tenants.scope import tenant_scope

pytestmark = pytest.mark.django_db
URL, USAGE = "/api/v1/billing/budget/", "/api/v1/billing/usage/"
ROLES = ["owner", "admin", "member", "viewer"]


@pytest.fixture
def budget(cast):
    with tenant_scope(cast.tenant):
        return budget_set(tenant=cast.tenant, limit_cents=5_000)


@pytest.mark.parametrize("role", ROLES)
def test_everyone_in_the_tenant_reads_the_budget(api_as, budget, role):
    body = api_as(role).get(URL).json()
    assert body["limit_cents"] == 5_000 and body["soft_pct"] == 80 and body["spent_cents"] == 0


@pytest.mark.parametrize(
    ("role", "status"), [("owner", 200), ("admin", 403), ("member", 403), ("viewer", 403)]
)
def test_only_owners_change_the_budget_audited(api_as, cast, budget, role, status):
    response = api_as(role).put(URL, {"limit_cents": 9_000}, format="json")
    assert response.status_code == status, response.content
    with tenant_scope(cast.tenant):
        assert Budget.objects.get().limit_cents == (9_000 if status == 200 else 5_000)
        raised = AuditEvent.objects.filter(verb="budget.set", actor_user=cast.user(role))
        assert raised.exists() is (status == 200)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"limit_cents": -5}, "limit_cents"),
        ({"limit_cents": 10**12}, "limit_cents"),
        ({"limit_cents": "lots"}, "limit_cents"),
        ({}, "limit_cents"),
        ({"limit_cents": 100, "soft_pct": 0}, "soft_pct"),
    ],
)
def test_nonsense_budgets_are_a_400_next_to_the_field(api_as, cast, budget, body, field):
    response = api_as("owner").put(URL, body, format="json")
    body = response.json()
    assert response.status_code == 400, response.content
    assert field in body.get("errors", body), body  # the API's error shape names the field
    with tenant_scope(cast.tenant):
        assert Budget.objects.get().limit_cents == 5_000


def test_outsiders_see_their_own_tenant_only(api_as, cast, budget):
    client = api_as("outsider")
    assert client.get(URL).json()["limit_cents"] is None  # Globex has set none
    assert client.put(URL, {"limit_cents": 1}, format="json").status_code == 200
    with tenant_scope(cast.tenant):
        assert Budget.objects.get().limit_cents == 5_000  # ours untouched
    with tenant_scope(cast.other_tenant):
        assert Budget.objects.get().limit_cents == 1


def test_anonymous_is_refused():
    from rest_framework.test import APIClient

    for url in (URL, USAGE):
        assert APIClient().get(url).status_code == 401


def _usage(tenant, key, **values):
    UsageEvent.objects.create(
        tenant=tenant,
        key=key,
        input_tokens=1000,
        output_tokens=100,
        **{"provider": "zhipu", "model": "glm-4.7", "cost_micros": 1_100, **values},
    )


@pytest.mark.parametrize("role", ROLES)
def test_the_daily_report_per_agent_and_session_with_fallbacks(api_as, cast, role):
    tenant = cast.tenant
    tenant.timezone = "Europe/Berlin"
    tenant.save()
    with tenant_scope(tenant):
        day = datetime(2026, 11, 24, 22, 30, tzinfo=UTC)  # 23:30 in Berlin: the 24th
        _usage(tenant, "a", agent_id=1, session_id=10, created_at=day)
        _usage(
            tenant,
            "b",
            agent_id=1,
            session_id=11,
            created_at=day,
            model="claude-haiku-4-5",
            fell_back=True,
            cost_micros=9_000,
        )
        _usage(tenant, "c", agent_id=2, session_id=12, created_at=day)
        _usage(tenant, "late", agent_id=2, created_at=datetime(2026, 11, 24, 23, 30, tzinfo=UTC))
    report = api_as(role).get(USAGE, {"day": "2026-11-24"}).json()
    first, second = report["agents"]
    assert (first["agent_id"], first["calls"], first["fell_back"]) == (1, 2, 1)
    assert first["models"] == ["claude-haiku-4-5", "glm-4.7"]
    assert first["cost_cents"] == 1.01 and first["output_tokens"] == 200
    assert (second["agent_id"], second["calls"]) == (2, 1)  # 00:30 on the 25th is not in
    assert [s["session_id"] for s in report["sessions"]] == [10, 11, 12]


def test_a_bad_day_is_a_400_and_outsiders_see_none_of_ours(api_as, cast):
    with tenant_scope(cast.tenant):
        _usage(cast.tenant, "ours", agent_id=1, created_at=datetime.now(UTC))
    assert api_as("owner").get(USAGE, {"day": "yesterday"}).status_code == 400
    for day in ("9999-12-31", "0001-01-01"):  # a local midnight past what a date holds
        response = api_as("owner").get(USAGE, {"day": day})
        assert response.status_code == 400, day
    assert api_as("owner").get(USAGE).json()["agents"][0]["calls"] == 1
    assert api_as("outsider").get(USAGE).json()["agents"] == []
