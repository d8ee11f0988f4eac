"""The company-wide kill switch, and the OpenAPI schema with the control plane in it."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tenants.models import AuditEvent, Tenant
from tenants.scope import tenant_scope

from .conftest import ROLES

pytestmark = pytest.mark.django_db
ADMIN_WRITE = {"owner": 200, "admin": 200, "member": 403, "viewer": 403}


@pytest.mark.parametrize("role", ROLES)
def test_kill_switch_needs_admin(api_as, cast, world, role):
    client = api_as(role)
    response = client.post("/api/v1/heartbeats/pause/")
    assert response.status_code == ADMIN_WRITE[role]
    cast.tenant.refresh_from_db()
    assert cast.tenant.heartbeats_paused == (ADMIN_WRITE[role] == 200)
    if ADMIN_WRITE[role] != 200:
        assert client.post("/api/v1/heartbeats/resume/").status_code == 403
        return
    assert response.json() == {"heartbeats_paused": True}
    assert client.post("/api/v1/heartbeats/resume/").json() == {"heartbeats_paused": False}
    with tenant_scope(cast.tenant):
        verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"tenant.heartbeats_paused", "tenant.heartbeats_resumed"} <= verbs


def test_outsiders_switch_is_its_own(api_as, cast, world):
    assert api_as("outsider").post("/api/v1/heartbeats/pause/").status_code == 200
    assert Tenant.objects.get(pk=cast.other_tenant.pk).heartbeats_paused is True
    assert Tenant.objects.get(pk=cast.tenant.pk).heartbeats_paused is False


def test_the_schema_builds_without_warnings_and_describes_the_control_plane():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in (
        "/api/v1/agents/",
        "/api/v1/agents/{id}/keys/",
        "/api/v1/tasks/{id}/checkout/",
        "/api/v1/tasks/{id}/context/",
        "/api/v1/runs/{id}/",
        "/api/v1/agent/inbox/",
        "/api/v1/heartbeats/pause/",
    ):
        assert path in paths, path
    checkout = paths["/api/v1/tasks/{id}/checkout/"]["post"]
    assert "409" in checkout["responses"] and checkout["description"]
    assert schema["components"]["securitySchemes"]["agentKey"]["scheme"] == "bearer"
    # --fail-on-warn: any warning or error makes the command fail.
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=io.StringIO())
