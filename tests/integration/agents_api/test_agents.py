"""/api/v1/agents/: the fixed cast on every endpoint, bad input, bounded queries."""

from __future__ import annotations

import pytest
from django.utils import timezone

from agents.models import Agent, AgentStatus
from agents.services.agents import agent_create
from tenants.models import AuditEvent
from tenants.scope import tenant_scope

from .conftest import EVERYONE, ROLES

pytestmark = pytest.mark.django_db
ADMIN_WRITE = {"owner": 200, "admin": 200, "member": 403, "viewer": 403, "outsider": 404}


def _agents(cast):
    with tenant_scope(cast.tenant):
        return {a.name: a for a in Agent.objects.all()}


@pytest.mark.parametrize("role", ROLES)
def test_every_member_reads_agents(api_as, world, role):
    client = api_as(role)
    rows = client.get("/api/v1/agents/").json()["results"]
    assert [a["name"] for a in rows] == ["Cora", "Max"]
    max_ = client.get(f"/api/v1/agents/{world.writer.pk}/").json()
    assert max_["reports_to"] == world.boss.pk
    assert max_["status"] == "active"
    assert max_["pause_reason"] == ""
    assert max_["schedule_kind"] == "interval"
    assert max_["interval_s"] == 3600
    assert max_["next_heartbeat_at"] is not None
    assert "model_chain" in max_


def test_outsider_sees_its_own_agents_and_404_for_ours(api_as, world):
    client = api_as("outsider")
    assert [a["name"] for a in client.get("/api/v1/agents/").json()["results"]] == ["Otto"]
    for url in (
        f"/api/v1/agents/{world.writer.pk}/",
        f"/api/v1/agents/{world.writer.pk}/keys/",
    ):
        assert client.get(url).status_code == 404
    assert client.patch(f"/api/v1/agents/{world.writer.pk}/", {"title": "x"}).status_code == 404


@pytest.mark.parametrize(
    ("role", "code"), [("owner", 201), ("admin", 201), ("member", 403), ("viewer", 403)]
)
def test_creating_an_agent_needs_admin(api_as, cast, world, role, code):
    response = api_as(role).post(
        "/api/v1/agents/",
        {"name": "Web", "role": "website", "schedule_kind": "cron", "cron": "30 7 * * 1-5"},
        format="json",
    )
    assert response.status_code == code, response.content
    created = "Web" in _agents(cast)
    assert created == (code == 201)
    if created:
        body = response.json()
        assert body["cron"] == "30 7 * * 1-5"
        assert body["next_heartbeat_at"] is not None
        with tenant_scope(cast.tenant):
            assert AuditEvent.objects.filter(verb="agent.created", target_repr="Web").exists()


def test_outsider_creates_in_its_own_company_only(api_as, cast, world):
    response = api_as("outsider").post(
        "/api/v1/agents/", {"name": "Bread bot", "role": "admin"}, format="json"
    )
    assert response.status_code == 201
    assert "Bread bot" not in _agents(cast)
    with tenant_scope(cast.other_tenant):
        assert Agent.objects.filter(name="Bread bot").exists()


@pytest.mark.parametrize("role", EVERYONE)
def test_patch_an_agent(api_as, world, role):
    response = api_as(role).patch(
        f"/api/v1/agents/{world.writer.pk}/",
        {"title": "Review collector", "interval_s": 900},
        format="json",
    )
    assert response.status_code == ADMIN_WRITE[role], response.content
    world.writer.refresh_from_db()
    assert (world.writer.title == "Review collector") == (ADMIN_WRITE[role] == 200)
    if ADMIN_WRITE[role] == 200:
        assert response.json()["interval_s"] == 900


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reports_to": "__writer__"}, "reports_to"),  # Cora → Max → Cora
        ({"reports_to": "__self__"}, "reports_to"),
        ({"reports_to": "__other__"}, "reports_to"),  # another company's agent
        ({"schedule_kind": "cron", "cron": "every tuesday"}, "cron"),
        ({"schedule_kind": "cron", "cron": "61 * * * *"}, "cron"),
        ({"interval_s": 5}, "interval_s"),
        ({"interval_s": "soon"}, "interval_s"),
        ({"allowed_tools": ["rm_rf"]}, "allowed_tools"),
        ({"role": "emperor"}, "role"),
        ({"name": "Max"}, "name"),
        ({}, "non_field_errors"),
    ],
)
def test_bad_agent_input_is_a_400_and_nothing_changes(api_as, cast, world, body, field):
    ids = {
        "__writer__": world.writer.pk,
        "__self__": world.boss.pk,
        "__other__": world.other_agent.pk,
    }
    body = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    before = Agent.objects.unscoped().filter(pk=world.boss.pk).values().get()
    events = AuditEvent.objects.unscoped().count()
    response = api_as("owner").patch(f"/api/v1/agents/{world.boss.pk}/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert Agent.objects.unscoped().filter(pk=world.boss.pk).values().get() == before
    assert AuditEvent.objects.unscoped().count() == events


def test_bad_cron_on_create_writes_nothing(api_as, cast, world):
    response = api_as("owner").post(
        "/api/v1/agents/",
        {"name": "Web", "role": "website", "schedule_kind": "cron", "cron": "* * *"},
        format="json",
    )
    assert response.status_code == 400
    assert "cron" in response.json()["errors"]
    assert "Web" not in _agents(cast)


@pytest.mark.parametrize("role", EVERYONE)
def test_pause_resume_run_now(api_as, cast, world, role):
    client = api_as(role)
    code = ADMIN_WRITE[role]
    url = f"/api/v1/agents/{world.writer.pk}"
    response = client.post(f"{url}/pause/")
    assert response.status_code == code
    world.writer.refresh_from_db()
    assert world.writer.status == (AgentStatus.PAUSED if code == 200 else AgentStatus.ACTIVE)
    if code != 200:
        assert client.post(f"{url}/resume/").status_code == code
        assert client.post(f"{url}/run-now/").status_code == code
        return
    assert response.json()["pause_reason"] == "manual"
    assert client.post(f"{url}/run-now/").status_code == 400  # paused: resume first
    resumed = client.post(f"{url}/resume/").json()
    assert resumed["status"] == "active"
    Agent.objects.unscoped().filter(pk=world.writer.pk).update(
        next_heartbeat_at=timezone.now() + timezone.timedelta(hours=1)
    )
    woken = client.post(f"{url}/run-now/").json()
    assert woken["woken"] is True
    world.writer.refresh_from_db()
    assert world.writer.wake_trigger == "manual"
    assert world.writer.next_heartbeat_at <= timezone.now()
    woke = AuditEvent.objects.unscoped().filter(verb="agent.woken", target_id=str(world.writer.pk))
    assert woke.get().actor_user == cast.user(role)  # who asked is audited


def test_agent_list_queries_do_not_grow(api_as, cast, world, django_assert_max_num_queries):
    client = api_as("member")
    with django_assert_max_num_queries(4) as few:
        assert client.get("/api/v1/agents/").status_code == 200
    with tenant_scope(cast.tenant):
        for i in range(15):
            agent_create(tenant=cast.tenant, name=f"Helper {i}", role="reporting")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get("/api/v1/agents/").json()["results"]) == 17
