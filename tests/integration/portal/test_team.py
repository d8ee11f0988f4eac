"""The team page and its actions with the fixed cast, and the team rules."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenants.models import AuditEvent, Invitation, Membership, Role
from tenants.scope import tenant_scope
from tests.conftest import make_user
from tests.integration.portal.conftest import ROLES

pytestmark = pytest.mark.django_db

# A refused action goes back to the team page with the reason (redirect after POST).
MANAGE = {"owner": 302, "admin": 302, "member": 302, "viewer": 302, "outsider": 404}
ALLOWED = {"owner", "admin"}


def audit_count(tenant, verb):
    with tenant_scope(tenant):
        return AuditEvent.objects.filter(verb=verb).count()


@pytest.mark.parametrize("role", ROLES)
def test_everyone_in_the_team_sees_members_and_invitations(client_as, invite, role):
    invite("pending@elsewhere.test", "viewer")
    response = client_as(role).get("/team/")
    assert response.status_code == 200
    body = response.content.decode()
    for email in ("owner@acme.test", "admin@acme.test", "member@acme.test", "viewer@acme.test"):
        assert email in body
    assert "pending@elsewhere.test" in body
    manages = role in ("owner", "admin")
    assert ("Send invitation" in body) == manages
    assert ("/role/" in body) == manages
    assert (">Remove</a>" in body) == manages
    assert ("/withdraw/" in body) == manages
    assert ("<form" in body.split("<main", 1)[1]) == manages


def test_admin_gets_no_owner_controls(client_as, membership_of):
    body = client_as("admin").get("/team/").content.decode()
    owner = membership_of("owner")
    assert f"/team/{owner.pk}/role/" not in body
    assert f"/team/{owner.pk}/remove/" not in body
    assert '<option value="owner"' not in body
    assert '<option value="owner"' in client_as("owner").get("/team/").content.decode()


# --- each action, each cast member --------------------------------------------------------


@pytest.mark.parametrize("role", [*ROLES, "outsider"])
def test_change_role(client_as, cast, membership_of, role):
    target = membership_of("viewer")
    response = client_as(role).post(f"/team/{target.pk}/role/", {"role": "member"})
    assert response.status_code == MANAGE[role]
    target.refresh_from_db()
    assert target.role == (Role.MEMBER if role in ALLOWED else Role.VIEWER)
    assert audit_count(cast.tenant, "membership.role_changed") == (role in ALLOWED)
    if role in {"member", "viewer"}:
        assert response["Location"] == "/team/"
        assert "Only owners and admins" in client_as(role).get("/team/").content.decode()


@pytest.mark.parametrize("role", [*ROLES, "outsider"])
def test_remove_member(client_as, cast, membership_of, role):
    target = membership_of("member" if role == "viewer" else "viewer")  # someone else
    response = client_as(role).post(f"/team/{target.pk}/remove/")
    assert response.status_code == MANAGE[role]
    assert Membership.objects.filter(pk=target.pk).exists() == (role not in ALLOWED)
    assert audit_count(cast.tenant, "membership.removed") == (role in ALLOWED)


@pytest.mark.parametrize("role", ["admin", "member", "viewer"])
def test_anyone_may_leave_the_team(client_as, cast, membership_of, role):
    mine = membership_of(role)
    response = client_as(role).post(f"/team/{mine.pk}/remove/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert not Membership.objects.filter(pk=mine.pk).exists()
    assert audit_count(cast.tenant, "membership.removed") == 1


@pytest.mark.parametrize("role", [*ROLES, "outsider"])
def test_withdraw_invitation(client_as, cast, invite, role):
    invitation, _ = invite("pending@elsewhere.test")
    response = client_as(role).post(f"/team/invitations/{invitation.pk}/withdraw/")
    assert response.status_code == MANAGE[role]
    invitation.refresh_from_db()
    assert (invitation.revoked_at is not None) == (role in ALLOWED)
    assert audit_count(cast.tenant, "invitation.revoked") == (role in ALLOWED)


@pytest.mark.parametrize("role", ROLES)
def test_invite(client_as, cast, django_capture_on_commit_callbacks, role):
    from integrations.models import Delivery

    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(role).post(
            "/team/invite/", {"email": "New@Person.test", "role": "member"}
        )
    allowed = role in ALLOWED
    assert response.status_code == MANAGE[role]
    invitations = Invitation.objects.unscoped().filter(tenant=cast.tenant)
    assert list(invitations.values_list("email", flat=True)) == (
        ["new@person.test"] if allowed else []
    )
    mails = Delivery.objects.unscoped().filter(tenant=cast.tenant, purpose="invitation")
    assert list(mails.values_list("kind", "recipient")) == (
        [("email", "new@person.test")] if allowed else []
    )  # queued on the Delivery path, sent by its task (tests/integration/integrations/delivery)
    assert response["Location"] == "/team/"


def test_outsiders_invite_goes_to_its_own_tenant(client_as, cast):
    response = client_as("outsider").post(
        "/team/invite/", {"email": "x@globex.test", "role": "member"}
    )
    assert response.status_code == 302
    assert not Invitation.objects.unscoped().filter(tenant=cast.tenant).exists()
    assert (
        Invitation.objects.unscoped()
        .filter(tenant=cast.other_tenant, email="x@globex.test")
        .exists()
    )


def test_outsider_gets_404_on_our_ids_and_changes_nothing(client_as, cast, invite, membership_of):
    client = client_as("outsider")
    owner = membership_of("owner")
    invitation, _ = invite()
    assert client.post(f"/team/{owner.pk}/role/", {"role": "viewer"}).status_code == 404
    assert client.post(f"/team/{owner.pk}/remove/").status_code == 404
    assert client.post(f"/team/invitations/{invitation.pk}/withdraw/").status_code == 404
    owner.refresh_from_db()
    invitation.refresh_from_db()
    assert owner.role == Role.OWNER and invitation.revoked_at is None
    assert audit_count(cast.tenant, "membership.role_changed") == 0


def test_members_get_404_on_another_tenants_ids(client_as, cast):
    theirs = Membership.objects.get(tenant=cast.other_tenant)
    for role in ("owner", "member"):
        assert client_as(role).post(f"/team/{theirs.pk}/remove/").status_code == 404
    assert Membership.objects.filter(pk=theirs.pk).exists()


def test_team_actions_are_post_only(client_as, membership_of):
    target = membership_of("viewer")
    client = client_as("owner")
    assert client.get(f"/team/{target.pk}/role/").status_code == 405
    assert client.get("/team/invite/").status_code == 405
    assert client.post("/team/").status_code == 405


# --- the rules ---------------------------------------------------------------------------


def test_role_change_by_a_member_is_refused_and_unchanged(client_as, membership_of):
    target = membership_of("viewer")
    response = client_as("member").post(f"/team/{target.pk}/role/", {"role": "admin"})
    assert response.status_code == 302 and response["Location"] == "/team/"
    target.refresh_from_db()
    assert target.role == Role.VIEWER


def test_removing_the_last_owner_is_refused_and_unchanged(client_as, cast, membership_of):
    owner = membership_of("owner")
    response = client_as("owner").post(f"/team/{owner.pk}/remove/", follow=True)
    assert response.redirect_chain == [("/team/", 302)]
    assert "at least one owner" in response.content.decode()
    assert Membership.objects.filter(pk=owner.pk, role=Role.OWNER).exists()
    assert audit_count(cast.tenant, "membership.removed") == 0


def test_demoting_the_last_owner_is_refused_and_unchanged(client_as, cast, membership_of):
    owner = membership_of("owner")
    response = client_as("owner").post(f"/team/{owner.pk}/role/", {"role": "admin"}, follow=True)
    assert response.redirect_chain == [("/team/", 302)]
    assert "at least one owner" in response.content.decode()
    owner.refresh_from_db()
    assert owner.role == Role.OWNER
    assert audit_count(cast.tenant, "membership.role_changed") == 0


def test_with_a_second_owner_the_first_may_step_down(client_as, membership_of):
    second = membership_of("admin")
    client = client_as("owner")
    assert client.post(f"/team/{second.pk}/role/", {"role": "owner"}).status_code == 302
    owner = membership_of("owner")
    assert client.post(f"/team/{owner.pk}/role/", {"role": "admin"}).status_code == 302
    owner.refresh_from_db()
    assert owner.role == Role.ADMIN


def test_admin_cannot_make_an_owner(client_as, cast, membership_of):
    target = membership_of("member")
    response = client_as("admin").post(f"/team/{target.pk}/role/", {"role": "owner"}, follow=True)
    assert response.redirect_chain == [("/team/", 302)]
    assert "only an owner" in response.content.decode().lower()
    target.refresh_from_db()
    assert target.role == Role.MEMBER


def test_admin_cannot_touch_the_owner(client_as, membership_of):
    owner = membership_of("owner")
    client = client_as("admin")
    assert client.post(f"/team/{owner.pk}/role/", {"role": "viewer"}).status_code == 302
    assert client.post(f"/team/{owner.pk}/remove/").status_code == 302
    assert Membership.objects.filter(pk=owner.pk).exists()
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_admin_cannot_invite_an_owner(client_as, cast):
    response = client_as("admin").post("/team/invite/", {"email": "boss@x.test", "role": "owner"})
    assert response.status_code == 403
    assert not Invitation.objects.unscoped().filter(tenant=cast.tenant).exists()


def test_bad_role_is_refused(client_as, membership_of):
    target = membership_of("viewer")
    response = client_as("owner").post(f"/team/{target.pk}/role/", {"role": "emperor"}, follow=True)
    assert response.redirect_chain == [("/team/", 302)]
    assert "Choose one of the listed roles" in response.content.decode()
    target.refresh_from_db()
    assert target.role == Role.VIEWER


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "not-an-email", "role": "member"}, "Enter a valid email address"),
        ({"email": "", "role": "member"}, "This field is required"),
        ({"email": "x@y.test", "role": "emperor"}, "Select a valid choice"),
        (
            {"email": "MEMBER@acme.test", "role": "viewer"},
            "member@acme.test is already in this team",
        ),
    ],
)
def test_bad_invitations_are_400_and_nothing_is_written(client_as, cast, mailoutbox, data, message):
    response = client_as("owner").post("/team/invite/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Invitation.objects.unscoped().filter(tenant=cast.tenant).exists()
    assert audit_count(cast.tenant, "invitation.created") == 0
    assert mailoutbox == []


def test_withdrawn_invitation_cannot_be_withdrawn_again(client_as, invite):
    invitation, _ = invite()
    client = client_as("owner")
    assert client.post(f"/team/invitations/{invitation.pk}/withdraw/").status_code == 302
    assert client.post(f"/team/invitations/{invitation.pk}/withdraw/").status_code == 404
    assert "No pending invitations." in client.get("/team/").content.decode()


def test_success_messages_are_flashed(client_as, membership_of):
    target = membership_of("viewer")
    response = client_as("owner").post(f"/team/{target.pk}/role/", {"role": "member"}, follow=True)
    assert "viewer@acme.test is now member." in response.content.decode()


# --- the list does not grow queries with the team ----------------------------------------


def _team_queries(client):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/team/").status_code == 200
    return len(ctx.captured_queries)


def test_team_list_query_count_does_not_grow_with_members(
    client_as, cast, invite, django_assert_max_num_queries
):
    client = client_as("owner")
    invite("first@x.test")
    small = _team_queries(client)
    for i in range(16):  # 4 + 16 = 20 members
        Membership.objects.create(
            tenant=cast.tenant, user=make_user(f"p{i}@acme.test"), role=Role.MEMBER
        )
    for i in range(5):
        invite(f"inv{i}@x.test")
    assert Membership.objects.filter(tenant=cast.tenant).count() == 20
    with django_assert_max_num_queries(small):
        response = client.get("/team/")
    assert response.content.decode().count('/role/"') == 20


# --- leaving and confirming ----------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_everyone_gets_a_leave_link_to_a_confirmation(client_as, membership_of, role):
    mine = membership_of(role)
    client = client_as(role)
    assert (
        f'href="/team/{mine.pk}/remove/">Leave Acme Plumbing</a>'
        in client.get("/team/").content.decode()
    )
    page = client.get(f"/team/{mine.pk}/remove/")
    assert page.status_code == 200
    assert "Leave Acme Plumbing?" in page.content.decode()
    assert Membership.objects.filter(pk=mine.pk).exists()  # asking changes nothing


@pytest.mark.parametrize("role", [*ROLES, "outsider"])
def test_removing_and_withdrawing_are_confirmed_first(client_as, cast, invite, membership_of, role):
    target = membership_of("member" if role == "viewer" else "viewer")
    invitation, _ = invite("pending@elsewhere.test")
    client = client_as(role)
    remove = client.get(f"/team/{target.pk}/remove/")
    withdraw = client.get(f"/team/invitations/{invitation.pk}/withdraw/")
    if role in ALLOWED:
        assert remove.status_code == withdraw.status_code == 200
        assert f"Remove {target.user.email} from Acme Plumbing?" in remove.content.decode()
        assert "Withdraw the invitation of pending@elsewhere.test?" in withdraw.content.decode()
        team = client.get("/team/").content.decode()
        assert f'<form class="inline" method="post" action="/team/{target.pk}/remove/"' not in team
    elif role == "outsider":
        assert remove.status_code == withdraw.status_code == 404
    else:
        assert remove["Location"] == withdraw["Location"] == "/team/"
    invitation.refresh_from_db()
    assert Membership.objects.filter(pk=target.pk).exists() and invitation.revoked_at is None


def test_the_last_owner_leaving_is_refused_on_the_team_page(client_as, membership_of):
    owner = membership_of("owner")
    client = client_as("owner")
    assert client.get(f"/team/{owner.pk}/remove/").status_code == 200
    response = client.post(f"/team/{owner.pk}/remove/", follow=True)
    assert response.redirect_chain == [("/team/", 302)]
    assert "at least one owner" in response.content.decode()
    assert client.get("/team/").status_code == 200  # a reload submits nothing
