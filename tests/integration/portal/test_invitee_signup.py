"""Signing up from an invitation: no company name, no tenant of one's own, and the
invitation is where the invitee ends up after verifying their email."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from integrations.models import Delivery
from tenants.models import Membership, Role, Tenant

pytestmark = pytest.mark.django_db

PASSWORD = "Corr3ct-Horse-Battery"


def _signup(client: Client, path: str, email: str = "new@acme.test"):
    return client.post(
        f"{path}signup/",
        {"email": email, "password1": PASSWORD, "password2": PASSWORD, "next": path},
    )


def _confirm_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", message.body)
    assert match, message.body
    return match.group(1)


def test_the_invitation_page_offers_a_signup_without_a_company(invite):
    _, token = invite("new@acme.test")
    page = Client().get(f"/invite/{token}/").content.decode()
    assert f'href="/invite/{token}/signup/"' in page
    signup = Client().get(f"/invite/{token}/signup/")
    body = signup.content.decode()
    assert signup.status_code == 200
    assert 'name="company_name"' not in body
    assert 'value="new@acme.test"' in body and "Acme Plumbing" in body


@pytest.mark.django_db(transaction=True)
def test_signing_up_from_an_invitation_creates_no_tenant(cast, invite, mailoutbox, eager):
    _, token = invite("new@acme.test")
    tenants_before = Tenant.objects.count()
    response = _signup(Client(), f"/invite/{token}/")
    assert response.status_code == 302
    user = get_user_model().objects.get(email="new@acme.test")
    assert not Membership.objects.filter(user=user).exists()
    assert Tenant.objects.count() == tenants_before
    assert f"next=%2Finvite%2F{token}%2F" in mailoutbox[-1].body
    # The verification rides the Delivery path on the inviting tenant.
    account = Delivery.objects.unscoped().filter(purpose="account")
    assert list(account.values_list("tenant_id", "recipient")) == [
        (cast.tenant.pk, "new@acme.test")
    ]


@pytest.mark.django_db(transaction=True)
def test_an_invitee_signing_up_with_another_address_is_mailed_on_the_inviting_tenant(
    cast, invite, mailoutbox, eager
):
    _, token = invite("new@acme.test")
    response = _signup(Client(), f"/invite/{token}/", email="private@home.test")
    assert response.status_code == 302
    assert mailoutbox[-1].to == ["private@home.test"]
    account = Delivery.objects.unscoped().filter(purpose="account")
    assert list(account.values_list("tenant_id", "recipient")) == [
        (cast.tenant.pk, "private@home.test")
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("same_browser", [True, False])
def test_verifying_leads_to_the_invitation_then_sign_in_to_membership(
    cast, invite, mailoutbox, eager, same_browser
):
    _, token = invite("new@acme.test")
    signup_client = Client()
    _signup(signup_client, f"/invite/{token}/")
    other = signup_client if same_browser else Client()
    link = _confirm_link(mailoutbox[-1])
    page = other.get(link).content.decode()
    assert f'value="/invite/{token}/"' in page  # the confirm form keeps `next`
    response = other.post(link)
    assert response.status_code == 302 and response["Location"] == f"/invite/{token}/"
    page = other.get(f"/invite/{token}/").content.decode()
    assert f"/accounts/login/?next=/invite/{token}/" in page
    signin = other.post(
        f"/accounts/login/?next=/invite/{token}/",
        {"login": "new@acme.test", "password": PASSWORD, "next": f"/invite/{token}/"},
    )
    assert signin["Location"] == f"/invite/{token}/"
    assert other.post(f"/invite/{token}/")["Location"] == "/"
    user = get_user_model().objects.get(email="new@acme.test")
    assert list(Membership.objects.filter(user=user).values_list("tenant", "role")) == [
        (cast.tenant.pk, Role.MEMBER)
    ]


def test_the_invitee_signup_refuses_bad_input_and_bad_links(cast, invite):
    _, token = invite("new@acme.test")
    response = Client().post(f"/invite/{token}/signup/", {"email": "new@acme.test"})
    assert response.status_code == 400
    assert not get_user_model().objects.filter(email="new@acme.test").exists()
    assert Client().get("/invite/nonsense/signup/").status_code == 404


def test_a_signed_in_visitor_goes_straight_to_the_invitation(client_as, invite):
    _, token = invite("new@acme.test")
    response = client_as("outsider").get(f"/invite/{token}/signup/")
    assert response.status_code == 302 and response["Location"] == f"/invite/{token}/"
