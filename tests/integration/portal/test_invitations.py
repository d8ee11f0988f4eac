"""Inviting by email and accepting the emailed link."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tenants.middleware import SESSION_KEY
from tenants.models import AuditEvent, Invitation, Membership, Role
from tenants.scope import tenant_scope
from tests.conftest import make_user
from tests.integration.portal.conftest import CAST

pytestmark = pytest.mark.django_db


def _link_path(message) -> str:
    match = re.search(r"https?://[^/\s]+(/invite/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


@pytest.mark.django_db(transaction=True)
def test_invite_mail_has_a_working_link(client_as, cast, mailoutbox, monkeypatch):
    from orion.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)  # the Delivery path's send task
    response = client_as("admin").post(
        "/team/invite/", {"email": "newbie@x.test", "role": "viewer"}
    )
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["newbie@x.test"]
    assert "Acme Plumbing" in mail.subject
    path = _link_path(mail)

    newbie = make_user("newbie@x.test")
    client = Client()
    client.force_login(newbie)
    page = client.get(path)
    assert page.status_code == 200
    assert "Acme Plumbing" in page.content.decode() and "Viewer" in page.content.decode()
    assert "Accept invitation" in page.content.decode()

    response = client.post(path)
    assert response.status_code == 302 and response["Location"] == "/"
    membership = Membership.objects.get(tenant=cast.tenant, user=newbie)
    assert membership.role == Role.VIEWER
    assert client.session[SESSION_KEY] == cast.tenant.pk
    assert "Welcome to Acme Plumbing" in client.get("/").content.decode()
    with tenant_scope(cast.tenant):
        assert AuditEvent.objects.filter(verb="invitation.accepted", actor_user=newbie).count() == 1


def test_the_token_is_not_stored(invite):
    invitation, token = invite()
    assert token not in invitation.token_hash
    assert not Invitation.objects.unscoped().filter(token_hash=token).exists()


def test_anonymous_sees_the_invitation_and_is_sent_to_sign_in_or_up(invite):
    _, token = invite(role="admin")
    path = f"/invite/{token}/"
    page = Client().get(path)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Acme Plumbing" in body and "Admin" in body
    assert f"/accounts/login/?next=/invite/{token}/" in body
    assert f"/invite/{token}/signup/" in body
    response = Client().post(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next=/invite/{token}/"
    assert Invitation.objects.unscoped().get(token_hash__isnull=False).accepted_at is None


def test_sign_in_then_accept(invite, cast):
    _, token = invite()
    make_user("new@acme.test")
    client = Client()
    response = client.post(
        f"/accounts/login/?next=/invite/{token}/",
        {"login": "new@acme.test", "password": "s3cret-Pass-42"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/invite/{token}/"
    assert client.post(response["Location"]).status_code == 302
    assert Membership.objects.filter(tenant=cast.tenant, user__email="new@acme.test").exists()


@pytest.mark.parametrize("role", CAST)
def test_invitation_page_for_the_cast(client_as, cast, invite, role):
    _, token = invite(role="viewer")
    client = client_as(role)
    assert client.get(f"/invite/{token}/").status_code == 200
    before = Membership.objects.filter(tenant=cast.tenant).count()
    response = client.post(f"/invite/{token}/")
    assert response.status_code == 302
    mine = Membership.objects.get(tenant=cast.tenant, user=cast.user(role))
    if role == "outsider":  # the link is the credential: the outsider joins, as invited
        assert mine.role == Role.VIEWER
        assert Membership.objects.filter(tenant=cast.tenant).count() == before + 1
        assert "Acme Plumbing" in client.get("/").content.decode()  # switched to it
    else:  # already in: the invitation is used up, the role is kept
        assert mine.role == role
        assert Membership.objects.filter(tenant=cast.tenant).count() == before
        assert "already in Acme Plumbing" in client.get("/").content.decode()
    assert client.post(f"/invite/{token}/").status_code == 410


def test_unknown_token_is_404(client_as, cast):
    client = client_as("outsider")
    for method in ("get", "post"):
        response = getattr(client, method)("/invite/not-a-real-token/")
        assert response.status_code == 404
        assert "not valid" in response.content.decode()
    assert not Membership.objects.filter(tenant=cast.tenant, user=cast.outsider).exists()


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        ({"expires_at": timezone.now() - timedelta(seconds=1)}, "expired"),
        ({"revoked_at": timezone.now()}, "withdrawn"),
        ({"accepted_at": timezone.now()}, "already been used"),
    ],
)
def test_expired_withdrawn_or_used_token_is_410_and_no_membership(
    client_as, cast, invite, spoil, message
):
    invitation, token = invite()
    Invitation.objects.unscoped().filter(pk=invitation.pk).update(**spoil)
    client = client_as("outsider")
    for method in ("get", "post"):
        response = getattr(client, method)(f"/invite/{token}/")
        assert response.status_code == 410
        assert message in response.content.decode()
    assert not Membership.objects.filter(tenant=cast.tenant, user=cast.outsider).exists()


def test_accepting_twice_the_second_is_refused(cast, invite):
    _, token = invite(role="member")
    first, second = make_user("a@x.test"), make_user("b@x.test")
    client_a, client_b = Client(), Client()
    client_a.force_login(first)
    client_b.force_login(second)
    assert client_a.post(f"/invite/{token}/").status_code == 302
    response = client_b.post(f"/invite/{token}/")
    assert response.status_code == 410
    assert "already been used" in response.content.decode()
    assert not Membership.objects.filter(user=second).exists()
    assert client_a.post(f"/invite/{token}/").status_code == 410


def test_withdrawn_through_the_team_page_stops_the_link(client_as, cast, invite):
    invitation, token = invite()
    assert (
        client_as("admin").post(f"/team/invitations/{invitation.pk}/withdraw/").status_code == 302
    )
    assert client_as("outsider").post(f"/invite/{token}/").status_code == 410
    assert not Membership.objects.filter(tenant=cast.tenant, user=cast.outsider).exists()
