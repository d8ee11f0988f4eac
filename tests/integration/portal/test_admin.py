"""Staff admin for tenants: changelists open, audit events are read-only, tokens stay hidden."""

import pytest
from django.test import Client

from tenants.models import AuditEvent, Invitation, Tenant
from tenants.scope import tenant_scope
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "/admin/tenants/tenant/",
    "/admin/tenants/membership/",
    "/admin/tenants/invitation/",
    "/admin/tenants/auditevent/",
]


@pytest.fixture
def staff(cast, invite):
    invite("pending@x.test")
    client = Client()
    client.force_login(make_user("ops@orion.test", is_staff=True, is_superuser=True))
    return client


def _event(tenant):
    with tenant_scope(tenant):
        return AuditEvent.objects.get(verb="tenant.created")


@pytest.mark.parametrize("url", CHANGELISTS)
def test_staff_open_every_changelist(staff, url):
    response = staff.get(url)
    assert response.status_code == 200
    assert "Acme Plumbing" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/tenants/tenant/?q=acme&plan=trial&status=active",
        "/admin/tenants/membership/?q=member%40acme&role=member",
        "/admin/tenants/invitation/?q=pending",
        "/admin/tenants/auditevent/?verb=tenant.created&actor_type=user&q=owner",
    ],
)
def test_search_and_filters(staff, url):
    response = staff.get(url)
    assert response.status_code == 200
    assert "acme" in response.content.decode().lower()


def test_tenant_list_shows_member_counts(staff, cast):
    response = staff.get("/admin/tenants/tenant/")
    rows = {t.name: t.member_count for t in response.context["cl"].result_list}
    assert rows == {"Acme Plumbing": 4, "Globex Bakery": 1}


def test_staff_can_open_a_tenant_with_its_members(staff, cast):
    body = staff.get(f"/admin/tenants/tenant/{cast.tenant.pk}/change/").content.decode()
    assert "member@acme.test" in body
    assert "viewer@acme.test" in body


def test_audit_events_are_read_only(staff, cast):
    event = _event(cast.tenant)
    url = f"/admin/tenants/auditevent/{event.pk}/change/"
    page = staff.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert staff.post(url, {"verb": "tampered"}).status_code == 403
    assert staff.get("/admin/tenants/auditevent/add/").status_code == 403
    assert (
        staff.post(f"/admin/tenants/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert _event(cast.tenant).verb == "tenant.created"


def test_invitation_token_hash_is_never_shown(staff, cast):
    invitation = Invitation.objects.unscoped().get(email="pending@x.test")
    for url in ("/admin/tenants/invitation/", f"/admin/tenants/invitation/{invitation.pk}/change/"):
        response = staff.get(url)
        assert response.status_code == 200
        assert invitation.token_hash not in response.content.decode()
        body = response.content.decode().lower()
        assert "token_hash" not in body and "token hash" not in body


def test_staff_edit_of_a_tenant_is_audited(staff, cast):
    data = {
        "name": "Acme Plumbing",
        "timezone": "UTC",
        "plan": "pro",
        "status": "active",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    response = staff.post(f"/admin/tenants/tenant/{cast.tenant.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Tenant.objects.get(pk=cast.tenant.pk).plan == "pro"
    with tenant_scope(cast.tenant):
        event = AuditEvent.objects.get(verb="tenant.staff_changed")
    assert (event.before, event.after) == ({"plan": "trial"}, {"plan": "pro"})
    assert event.actor_user.email == "ops@orion.test"


def test_no_tenant_add_or_delete_in_admin(staff, cast):
    assert staff.get("/admin/tenants/tenant/add/").status_code == 403
    assert staff.get(f"/admin/tenants/tenant/{cast.tenant.pk}/delete/").status_code == 403


@pytest.mark.parametrize("url", CHANGELISTS)
def test_non_staff_are_redirected_to_the_admin_login(client_as, url):
    response = client_as("owner").get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
