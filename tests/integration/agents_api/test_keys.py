"""Agent API keys: issued once (only the hash kept), listed, revoked, and authenticating
an outside runtime as its agent inside its own company only. Unauthenticated is a 401."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from agents.models import AgentApiKey, AgentStatus
from agents.services.api_keys import api_key_authenticate, api_key_revoke
from tenants.models import AuditEvent
from tenants.scope import tenant_scope

from .conftest import EVERYONE, ROLES, key_client

pytestmark = pytest.mark.django_db
ADMIN_CREATE = {"owner": 201, "admin": 201, "member": 403, "viewer": 403, "outsider": 404}
ADMIN_WRITE = {"owner": 200, "admin": 200, "member": 403, "viewer": 403, "outsider": 404}


@pytest.mark.parametrize("role", EVERYONE)
def test_issuing_a_key_needs_admin_and_shows_it_once(api_as, cast, world, role):
    client = api_as(role)
    url = f"/api/v1/agents/{world.writer.pk}/keys/"
    response = client.post(url, {"label": "laptop runtime"}, format="json")
    assert response.status_code == ADMIN_CREATE[role], response.content
    if ADMIN_CREATE[role] != 201:
        assert not AgentApiKey.objects.unscoped().exists()
        return
    issued = response.json()
    plaintext = issued["key"]
    assert plaintext.startswith(f"orion_ak_{issued['prefix']}_")
    row = AgentApiKey.objects.unscoped().get(pk=issued["id"])
    assert row.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    secret = plaintext[len(f"orion_ak_{issued['prefix']}_") :]
    assert len(secret) >= 40
    stored = " ".join(str(v) for v in AgentApiKey.objects.unscoped().values().get().values())
    assert plaintext not in stored and secret not in stored
    audit = " ".join(
        str(e) for e in AuditEvent.objects.unscoped().filter(verb="agent_key.created").values()
    )
    assert issued["prefix"] in audit and secret not in audit
    # Listed afterwards without the key, by anyone in the company.
    for reader in ROLES:
        listed = api_as(reader).get(url).json()
        assert [k["prefix"] for k in listed] == [issued["prefix"]]
        assert "key" not in listed[0] and listed[0]["label"] == "laptop runtime"
        assert listed[0]["revoked"] is False
        assert plaintext not in api_as(reader).get(url).content.decode()


@pytest.mark.parametrize("role", EVERYONE)
def test_revoking_a_key_needs_admin(api_as, world, agent_key, role):
    runtime, issued = agent_key()
    assert runtime.get("/api/v1/agent/inbox/").status_code == 200
    url = f"/api/v1/agents/{world.writer.pk}/keys/{issued.key.pk}/revoke/"
    response = api_as(role).post(url)
    assert response.status_code == ADMIN_WRITE[role], response.content
    issued.key.refresh_from_db()
    assert (issued.key.revoked_at is not None) == (ADMIN_WRITE[role] == 200)
    expected = 401 if ADMIN_WRITE[role] == 200 else 200
    assert runtime.get("/api/v1/agent/inbox/").status_code == expected


def test_a_key_of_another_agent_is_not_revoked_through_this_one(api_as, world, agent_key):
    _, issued = agent_key(world.boss)
    url = f"/api/v1/agents/{world.writer.pk}/keys/{issued.key.pk}/revoke/"
    assert api_as("owner").post(url).status_code == 404
    issued.key.refresh_from_db()
    assert issued.key.revoked_at is None


def test_unauthenticated_calls_are_401_with_a_challenge(world):
    client = APIClient()
    for method, url in [
        ("get", "/api/v1/agents/"),
        ("get", f"/api/v1/tasks/{world.task.pk}/"),
        ("post", f"/api/v1/tasks/{world.task.pk}/checkout/"),
        ("get", "/api/v1/agent/inbox/"),
        ("post", "/api/v1/heartbeats/pause/"),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 401, (url, response.status_code)
        assert response["WWW-Authenticate"].startswith("Bearer")
    other_scheme = APIClient()
    other_scheme.credentials(HTTP_AUTHORIZATION="Bearer some-other-token")
    assert other_scheme.get("/api/v1/agents/").status_code == 401


@pytest.mark.parametrize(
    "bad", ["garbage", "wrong_secret", "unknown_prefix", "revoked", "terminated", "suspended"]
)
def test_bad_keys_are_401(cast, world, agent_key, bad):
    _, issued = agent_key()
    plaintext = issued.plaintext
    if bad == "garbage":
        plaintext = "orion_ak_nonsense"
    elif bad == "wrong_secret":
        plaintext = plaintext[:-4] + ("AAAA" if not plaintext.endswith("AAAA") else "BBBB")
    elif bad == "unknown_prefix":
        plaintext = "orion_ak_0123456789ab_" + plaintext.split("_", 3)[3]
    elif bad == "revoked":
        with tenant_scope(cast.tenant):
            api_key_revoke(key=issued.key)
    elif bad == "terminated":
        world.writer.__class__.objects.unscoped().filter(pk=world.writer.pk).update(
            status=AgentStatus.TERMINATED
        )
    else:
        cast.tenant.status = "suspended"
        cast.tenant.save()
    response = key_client(plaintext).get(f"/api/v1/tasks/{world.task.pk}/")
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_key_sees_only_its_own_company(world, agent_key):
    runtime, _ = agent_key(world.other_agent)
    assert [t["title"] for t in runtime.get("/api/v1/tasks/").json()["results"]] == ["Bake"]
    assert [a["name"] for a in runtime.get("/api/v1/agents/").json()["results"]] == ["Otto"]
    base = f"/api/v1/tasks/{world.task.pk}"
    assert runtime.get(f"{base}/").status_code == 404
    assert runtime.get(f"{base}/context/").status_code == 404
    assert runtime.post(f"{base}/checkout/").status_code == 404
    assert runtime.post(f"{base}/comments/", {"body": "hi"}, format="json").status_code == 404
    assert runtime.patch(f"{base}/", {"status": "done"}, format="json").status_code == 404
    # Assigning its own company's task to our agent: "not in this company", nothing written.
    response = runtime.patch(
        f"/api/v1/tasks/{world.other_task.pk}/", {"assignee": world.writer.pk}, format="json"
    )
    assert response.status_code == 400
    assert "not in this company" in str(response.json())
    world.task.refresh_from_db()
    world.other_task.refresh_from_db()
    assert world.task.status == "todo" and world.task.checkout_run_id is None
    assert world.other_task.assignee_id == world.other_agent.pk


def test_a_key_has_member_rights_only(world, agent_key):
    runtime, _ = agent_key()
    assert runtime.post("/api/v1/agents/", {"name": "X", "role": "admin"}).status_code == 403
    assert runtime.patch(f"/api/v1/agents/{world.writer.pk}/", {"title": "boss"}).status_code == 403
    assert runtime.post(f"/api/v1/agents/{world.writer.pk}/keys/").status_code == 403
    assert runtime.post("/api/v1/heartbeats/pause/").status_code == 403
    assert runtime.post("/api/v1/goals/", {"title": "x"}).status_code == 403
    assert AgentApiKey.objects.unscoped().count() == 1
    world.writer.refresh_from_db()
    assert world.writer.title == ""


def test_last_used_is_recorded_at_most_once_a_minute(world, agent_key):
    runtime, issued = agent_key()
    assert issued.key.last_used_at is None
    runtime.get("/api/v1/agent/inbox/")
    issued.key.refresh_from_db()
    first = issued.key.last_used_at
    assert first is not None
    runtime.get("/api/v1/agent/inbox/")
    issued.key.refresh_from_db()
    assert issued.key.last_used_at == first
    earlier = timezone.now() - timedelta(minutes=2)
    AgentApiKey.objects.unscoped().filter(pk=issued.key.pk).update(last_used_at=earlier)
    assert api_key_authenticate(plaintext=issued.plaintext).last_used_at > earlier
    issued.key.refresh_from_db()
    assert issued.key.last_used_at > earlier


def test_a_key_beside_a_session_acts_for_the_keys_company(cast, world, agent_key):
    """The key decides the company (TenantPrincipal), whatever person is signed in."""
    runtime, _ = agent_key()
    runtime.force_login(cast.outsider)
    titles = [t["title"] for t in runtime.get("/api/v1/tasks/").json()["results"]]
    assert titles == [world.task.title]
    assert runtime.get(f"/api/v1/tasks/{world.other_task.pk}/").status_code == 404
