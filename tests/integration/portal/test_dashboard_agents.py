"""The dashboard's agent card (filled in by the agents app through tenants' card registry):
the real count and the last runs of the member's own tenant, in constant queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agents.models import Agent, Run
from agents.services.agents import agent_create
from tenants.dashboard import dashboard_card_register, dashboard_cards
from tenants.scope import tenant_scope
from tests.integration.portal.conftest import ROLES

pytestmark = pytest.mark.django_db


def _agents(tenant, *names: str) -> list[Agent]:
    with tenant_scope(tenant):
        return [agent_create(tenant=tenant, name=n, role="admin") for n in names]


def _runs(tenant, agent: Agent, n: int, *, label: str, start: int = 0) -> None:
    now = timezone.now()
    for i in range(start, start + n):
        Run.objects.unscoped().create(
            tenant=tenant,
            agent=agent,
            status="succeeded" if i % 2 else "skipped",
            trigger="schedule",
            summary=f"{label} summary {i}",
            created_at=now,
        )
    # created_at is auto_now_add: spread the runs out so "latest" is well defined
    for offset, run in enumerate(Run.objects.unscoped().filter(agent=agent).order_by("id")):
        Run.objects.unscoped().filter(pk=run.pk).update(
            created_at=now - timedelta(minutes=100 - offset)
        )


@pytest.fixture
def staffed(cast):
    acme = _agents(cast.tenant, "Ada", "Bob", "Cy")
    with tenant_scope(cast.tenant):
        from agents.services.agents import agent_pause

        agent_pause(agent=acme[2])
    _runs(cast.tenant, acme[0], 7, label="acme")
    globex = _agents(cast.other_tenant, "Gus")
    _runs(cast.other_tenant, globex[0], 2, label="globex")
    return acme, globex


@pytest.mark.parametrize("role", ROLES)
def test_members_see_their_tenants_count_and_last_five_runs(client_as, staffed, role):
    body = client_as(role).get("/").content.decode()
    assert "3 agents" in body
    assert "2 active" in body and "1 paused" in body
    assert "No agents yet" not in body
    shown = [i for i in range(7) if f"acme summary {i}<" in body]
    assert shown == [2, 3, 4, 5, 6]  # the 5 latest
    assert body.index("acme summary 6") < body.index("acme summary 2")  # newest first
    assert "Ada" in body and "Succeeded" in body and "schedule" in body
    assert "globex" not in body and "Gus" not in body


def test_outsider_sees_its_own_tenants_card_only(client_as, staffed):
    body = client_as("outsider").get("/").content.decode()
    assert "1 agent<" in body
    assert "globex summary 0" in body and "globex summary 1" in body and "Gus" in body
    assert "acme summary" not in body and "Ada" not in body


def test_no_agents_keeps_the_empty_state(client_as, cast):
    body = client_as("owner").get("/").content.decode()
    assert "No agents yet" in body
    assert body.count("Not set up yet") == 3


def test_agents_without_runs_say_so(client_as, cast):
    _agents(cast.tenant, "Ada")
    body = client_as("viewer").get("/").content.decode()
    assert "1 agent<" in body and "No runs yet" in body


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/").status_code == 200
    return len(ctx.captured_queries)


def test_dashboard_queries_stay_constant_with_more_runs_and_agents(client_as, cast):
    (ada,) = _agents(cast.tenant, "Ada")
    _runs(cast.tenant, ada, 2, label="few")
    client = client_as("member")
    few = _queries(client)
    more = _agents(cast.tenant, *[f"agent-{i}" for i in range(10)])
    for agent in more:
        _runs(cast.tenant, agent, 3, label=agent.name)
    assert _queries(client) == few


def test_the_agent_card_costs_two_queries(cast, rf, django_assert_num_queries):
    from agents.dashboard import agent_card

    (ada,) = _agents(cast.tenant, "Ada")
    _runs(cast.tenant, ada, 9, label="x")
    with tenant_scope(cast.tenant), django_assert_num_queries(2):
        card = agent_card()
        assert [r.agent.name for r in card["runs"]] == ["Ada"] * 5
    assert card["total"] == 1


def test_registry_replaces_by_key_and_skips_empty_cards(rf):
    from tenants import dashboard

    saved = dict(dashboard._providers)
    try:
        dashboard._providers.clear()
        dashboard_card_register("probe", lambda request: {"n": 1})
        dashboard_card_register("probe", lambda request: {"n": 2})
        dashboard_card_register("nothing", lambda request: None)
        cards = dashboard_cards(rf.get("/"))
        assert cards == {"probe": {"n": 2}}
    finally:
        dashboard._providers.clear()
        dashboard._providers.update(saved)
