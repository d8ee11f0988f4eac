"""Accounts through the real allauth forms: sign-up (with the company), verification,
sign in/out, password reset, and the 2FA page. allauth's mails ride the Delivery path
(queued on the person's tenant, sent on commit): tests reading them run the send task
eagerly (`eager`) in a transactional test."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from integrations.models import Delivery, DeliveryStatus
from tenants.models import AuditEvent, Membership, Role, Tenant
from tenants.scope import tenant_scope
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

User = get_user_model()
PASSWORD = "Corr3ct-Horse-Battery"


def _signup(client, email="founder@newco.test", company="NewCo Bikes"):
    return client.post(
        "/accounts/signup/",
        {"email": email, "password1": PASSWORD, "password2": PASSWORD, "company_name": company},
    )


def _link(message, pattern) -> str:
    match = re.search(r"https?://[^/\s]+(" + pattern + r")", message.body)
    assert match, message.body
    return match.group(1)


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_signup_page_uses_the_layout_and_asks_for_the_company(db):
    body = Client().get("/accounts/signup/").content.decode()
    assert 'name="company_name"' in body
    assert 'class="site"' in body  # the portal header: allauth renders inside base.html


@pytest.mark.django_db(transaction=True)
def test_signup_creates_user_tenant_owner_and_audit_and_mails_verification(db, mailoutbox, eager):
    response = _signup(Client())
    assert response.status_code == 302
    user = User.objects.get(email="founder@newco.test")
    tenant = Tenant.objects.get(name="NewCo Bikes")
    assert Membership.objects.get(tenant=tenant).user == user
    assert Membership.objects.get(tenant=tenant).role == Role.OWNER
    with tenant_scope(tenant):
        assert list(AuditEvent.objects.values_list("verb", "actor_user")) == [
            ("tenant.created", user.pk)
        ]
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["founder@newco.test"]
    assert "/accounts/confirm-email/" in mailoutbox[0].body
    (delivery,) = Delivery.objects.unscoped().filter(purpose="account")
    assert (delivery.tenant_id, delivery.kind, delivery.recipient, delivery.status) == (
        tenant.pk,
        "email",
        "founder@newco.test",
        DeliveryStatus.SENT,
    )  # the new owner's tenant, created by the form before allauth sends the verification
    assert "/accounts/confirm-email/" not in delivery.body  # the one-time link is not kept


def test_signup_without_company_is_refused(db):
    response = Client().post(
        "/accounts/signup/",
        {
            "email": "x@newco.test",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "company_name": " ",
        },
    )
    assert response.status_code == 400
    assert (
        "Give your company a name" in response.content.decode()
        or "required" in response.content.decode()
    )
    assert not User.objects.filter(email="x@newco.test").exists()


@pytest.mark.django_db(transaction=True)
def test_login_is_refused_until_the_email_is_verified(db, mailoutbox, eager):
    _signup(Client())
    client = Client()
    response = client.post(
        "/accounts/login/", {"login": "founder@newco.test", "password": PASSWORD}
    )
    assert not _signed_in(client)
    assert response.status_code == 302 and "confirm-email" in response["Location"]
    assert "Sign in" in client.get("/").content.decode()  # still the anonymous landing page

    confirm = _link(mailoutbox[-1], r"/accounts/confirm-email/[^/\s]+/")
    verifier = Client()
    assert verifier.get(confirm).status_code == 200
    assert verifier.post(confirm).status_code == 302

    client = Client()
    response = client.post(
        "/accounts/login/", {"login": "founder@newco.test", "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert _signed_in(client)
    assert "NewCo Bikes" in client.get("/").content.decode()


def test_taken_email_is_a_clear_400_and_creates_nothing(cast, mailoutbox):
    users, tenants = User.objects.count(), Tenant.objects.count()
    response = _signup(Client(), email="OWNER@acme.test", company="Copycat Ltd")
    assert response.status_code == 400
    assert "already registered with this email" in response.content.decode()
    assert (User.objects.count(), Tenant.objects.count()) == (users, tenants)
    assert not Tenant.objects.filter(name="Copycat Ltd").exists()
    assert mailoutbox == []


def test_login_and_logout(db):
    make_user("pat@acme.test")
    client = Client()
    assert (
        client.post("/accounts/login/", {"login": "pat@acme.test", "password": "wrong"}).status_code
        == 400
    )
    assert not _signed_in(client)
    response = client.post(
        "/accounts/login/", {"login": "pat@acme.test", "password": "s3cret-Pass-42"}
    )
    assert response.status_code == 302 and _signed_in(client)
    assert client.get("/").status_code == 404  # signed in, but no team yet
    assert client.get("/accounts/logout/").status_code == 200  # GET only asks; it does not sign out
    assert _signed_in(client)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and not _signed_in(client)
    assert 'href="/accounts/login/"' in client.get("/").content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("email", ["member@acme.test", "pat@nowhere.test"])
def test_password_reset_mails_a_working_link(cast, mailoutbox, eager, email):
    """A member's reset rides the Delivery path on their tenant; someone in no team at all
    (no tenant to queue it on) gets allauth's direct send."""
    if email == "pat@nowhere.test":
        make_user(email)
    client = Client()
    assert client.post("/accounts/password/reset/", {"email": email}).status_code == 302
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [email]
    queued = Delivery.objects.unscoped().filter(purpose="account")
    expected = [(cast.tenant.pk, email, DeliveryStatus.SENT)] if "acme" in email else []
    assert list(queued.values_list("tenant_id", "recipient", "status")) == expected
    link = _link(mailoutbox[0], r"/accounts/password/reset/key/[^/\s]+/")
    form_url = client.get(link)["Location"]  # allauth moves the key into the session
    new = "N3w-Password-Please"
    assert client.post(form_url, {"password1": new, "password2": new}).status_code == 302
    fresh = Client()
    fresh.post("/accounts/login/", {"login": email, "password": new})
    assert _signed_in(fresh)


def test_two_factor_page_is_reachable_and_linked(client_as):
    client = client_as("member")
    response = client.get("/accounts/2fa/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Authenticator App" in body
    assert 'class="site"' in body
    assert 'href="/accounts/2fa/"' in client.get("/settings/").content.decode()
