"""Tenant settings with the fixed cast."""

import pytest

from tenants.models import AuditEvent, Tenant
from tenants.scope import tenant_scope
from tests.integration.portal.conftest import ROLES

pytestmark = pytest.mark.django_db

EDIT = {"owner": 302, "admin": 302, "member": 403, "viewer": 403}


def _events(tenant):
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(verb="tenant.settings_changed"))


@pytest.mark.parametrize("role", ROLES)
def test_get_shows_form_only_to_owner_and_admin(client_as, role):
    response = client_as(role).get("/settings/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "UTC" in body
    assert ('name="timezone"' in body) == (EDIT[role] == 302)
    assert "/accounts/2fa/" in body


@pytest.mark.parametrize("role", ROLES)
def test_post(client_as, cast, role):
    response = client_as(role).post(
        "/settings/", {"name": "Acme Pipes", "timezone": "Europe/Amsterdam"}
    )
    assert response.status_code == EDIT[role]
    tenant = Tenant.objects.get(pk=cast.tenant.pk)
    if EDIT[role] == 302:
        assert (tenant.name, tenant.timezone) == ("Acme Pipes", "Europe/Amsterdam")
        [event] = _events(cast.tenant)
        assert event.actor_user == cast.user(role)
        assert event.before == {"name": "Acme Plumbing", "timezone": "UTC"}
    else:
        assert (tenant.name, tenant.timezone) == ("Acme Plumbing", "UTC")
        assert "Only owners and admins" in response.content.decode()
        assert _events(cast.tenant) == []


def test_outsider_post_changes_only_its_own_tenant(client_as, cast):
    response = client_as("outsider").post("/settings/", {"name": "Globex Bread", "timezone": "UTC"})
    assert response.status_code == 302
    assert Tenant.objects.get(pk=cast.tenant.pk).name == "Acme Plumbing"
    assert Tenant.objects.get(pk=cast.other_tenant.pk).name == "Globex Bread"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "Acme", "timezone": "Mars/Olympus"}, "is not a known time zone"),
        ({"name": "", "timezone": "UTC"}, "This field is required"),
        ({"name": "x" * 121, "timezone": "UTC"}, "at most 120 characters"),
    ],
)
def test_bad_input_is_400_and_nothing_changes(client_as, cast, data, message):
    response = client_as("owner").post("/settings/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    tenant = Tenant.objects.get(pk=cast.tenant.pk)
    assert (tenant.name, tenant.timezone) == ("Acme Plumbing", "UTC")
    assert _events(cast.tenant) == []


def test_service_refuses_a_non_manager_too(cast):
    from django.core.exceptions import PermissionDenied

    from tenants.services.tenants import tenant_update_settings

    with pytest.raises(PermissionDenied):
        tenant_update_settings(tenant=cast.tenant, actor=cast.member, name="Hacked", timezone="UTC")
    with pytest.raises(PermissionDenied):
        tenant_update_settings(
            tenant=cast.tenant, actor=cast.outsider, name="Hacked", timezone="UTC"
        )
    assert Tenant.objects.get(pk=cast.tenant.pk).name == "Acme Plumbing"


def test_saved_message(client_as):
    response = client_as("admin").post(
        "/settings/", {"name": "Acme", "timezone": "UTC"}, follow=True
    )
    assert "Settings saved." in response.content.decode()
