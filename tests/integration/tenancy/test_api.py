"""The tenant-scoped REST API with the fixed cast: owner, admin, member, viewer, outsider."""

import pytest
from django.db.models import QuerySet
from rest_framework.test import APIClient

from tenants.api import TenantAPIView
from tenants.models import AuditEvent, Membership, Role
from tenants.scope import tenant_scope

pytestmark = pytest.mark.django_db
ROLES = ["owner", "admin", "member", "viewer"]


def _membership(cast, role):
    return Membership.objects.get(tenant=cast.tenant, user=cast.user(role))


@pytest.mark.parametrize("role", ROLES)
def test_members_read_their_tenant(api_as, cast, role):
    client = api_as(role)
    assert client.get("/api/v1/tenant/").json()["name"] == "Acme Plumbing"
    emails = [m["email"] for m in client.get("/api/v1/team/").json()["results"]]
    assert emails == sorted(f"{r}@acme.test" for r in ROLES)
    audit = client.get("/api/v1/audit/").json()["results"]
    assert [e["verb"] for e in audit] == ["tenant.created"]
    member = _membership(cast, "member")
    assert client.get(f"/api/v1/team/{member.pk}/").json()["role"] == "member"


def test_outsider_sees_only_its_own_tenant_and_404_for_ours(api_as, cast):
    client = api_as("outsider")
    assert client.get("/api/v1/tenant/").json()["name"] == "Globex Bakery"
    assert [m["email"] for m in client.get("/api/v1/team/").json()["results"]] == [
        "owner@globex.test"
    ]
    member = _membership(cast, "member")
    assert client.get(f"/api/v1/team/{member.pk}/").status_code == 404
    assert client.patch(f"/api/v1/team/{member.pk}/", {"role": "viewer"}).status_code == 404
    assert client.delete(f"/api/v1/team/{member.pk}/").status_code == 404
    member.refresh_from_db()
    assert member.role == "member"


def test_anonymous_is_refused():
    for url in ("/api/v1/team/", "/api/v1/tenant/", "/api/v1/audit/"):
        response = APIClient().get(url)
        assert response.status_code == 401 and "WWW-Authenticate" in response


@pytest.mark.parametrize(
    ("role", "status"), [("owner", 200), ("admin", 200), ("member", 403), ("viewer", 403)]
)
def test_role_change_needs_admin(api_as, cast, role, status):
    target = _membership(cast, "viewer" if role != "viewer" else "member")
    before = target.role
    response = api_as(role).patch(
        f"/api/v1/team/{target.pk}/", {"role": "member" if before == "viewer" else "viewer"}
    )
    assert response.status_code == status, response.content
    target.refresh_from_db()
    assert (target.role != before) == (status == 200)
    with tenant_scope(cast.tenant):
        changed = AuditEvent.objects.filter(verb="membership.role_changed").count()
    assert changed == (1 if status == 200 else 0)


def test_bad_role_is_a_clear_400(api_as, cast):
    target = _membership(cast, "member")
    response = api_as("owner").patch(f"/api/v1/team/{target.pk}/", {"role": "emperor"})
    assert response.status_code == 400
    assert "role" in response.json()["errors"]


def test_removing_the_last_owner_is_refused_and_changes_nothing(api_as, cast):
    owner = _membership(cast, "owner")
    response = api_as("owner").delete(f"/api/v1/team/{owner.pk}/")
    assert response.status_code == 400
    assert "at least one owner" in str(response.json())
    assert Membership.objects.filter(pk=owner.pk).exists()
    response = api_as("owner").patch(f"/api/v1/team/{owner.pk}/", {"role": "admin"})
    assert response.status_code == 400
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_admin_cannot_touch_an_owner(api_as, cast):
    owner = _membership(cast, "owner")
    assert api_as("admin").delete(f"/api/v1/team/{owner.pk}/").status_code == 403
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_overriding_get_queryset_is_refused_at_class_creation():
    with pytest.raises(TypeError, match="scoped_queryset"):

        class Sneaky(TenantAPIView):
            def get_queryset(self) -> QuerySet:
                return Membership.objects.all()


def test_a_viewer_of_another_tenant_gets_404_not_403(cast):
    from tests.conftest import make_user

    stranger = make_user("viewer@globex.test")
    Membership.objects.create(tenant=cast.other_tenant, user=stranger, role=Role.VIEWER)
    client = APIClient()
    client.force_authenticate(stranger)
    member = _membership(cast, "member")
    assert client.patch(f"/api/v1/team/{member.pk}/", {"role": "viewer"}).status_code == 404
    assert client.delete(f"/api/v1/team/{member.pk}/").status_code == 404


@pytest.mark.parametrize("role", ["member", "viewer", "admin"])
def test_anyone_may_leave_the_team(api_as, cast, role):
    mine = _membership(cast, role)
    assert api_as(role).delete(f"/api/v1/team/{mine.pk}/").status_code == 204
    assert not Membership.objects.filter(pk=mine.pk).exists()
    with tenant_scope(cast.tenant):
        assert AuditEvent.objects.filter(verb="membership.removed").count() == 1


def test_a_member_still_cannot_remove_someone_else(api_as, cast):
    other = _membership(cast, "viewer")
    assert api_as("member").delete(f"/api/v1/team/{other.pk}/").status_code == 403
    assert Membership.objects.filter(pk=other.pk).exists()


def test_a_session_request_chooses_the_membership_once(client_as, django_assert_num_queries):
    client = client_as("member")
    client.get("/api/v1/tenant/")  # warm the session
    # session, user, memberships (middleware); the tenant answer needs no query of its own
    with django_assert_num_queries(3):
        assert client.get("/api/v1/tenant/").json()["name"] == "Acme Plumbing"
