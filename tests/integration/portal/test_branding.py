"""Orion's name where Django or allauth would show theirs, an icon, and a landing page."""

import pytest
from django.test import Client

from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_get_a_landing_page_with_sign_in_and_sign_up(db):
    response = Client().get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "AI agents" in body
    assert 'href="/accounts/signup/"' in body and 'href="/accounts/login/"' in body


def test_signed_in_people_still_get_their_dashboard(client_as):
    body = client_as("member").get("/").content.decode()
    assert "Acme Plumbing" in body and 'href="/accounts/signup/"' not in body


def test_the_favicon_is_served(db):
    response = Client().get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<svg")


def test_the_staff_admin_says_orion(db):
    client = Client()
    client.force_login(make_user("staff@orion.test", is_staff=True, is_superuser=True))
    body = client.get("/admin/").content.decode()
    assert "Orion staff admin" in body and "Django administration" not in body


@pytest.mark.django_db(transaction=True)
def test_account_emails_speak_as_orion(db, mailoutbox, eager):
    Client(HTTP_HOST="127.0.0.1:8055").post(
        "/accounts/signup/",
        {
            "email": "founder@newco.test",
            "password1": "Corr3ct-Horse-Battery",
            "password2": "Corr3ct-Horse-Battery",
            "company_name": "NewCo",
        },
    )
    mail = mailoutbox[-1]
    assert mail.subject.startswith("[Orion] ")
    assert "Hello from Orion!" in mail.body and "127.0.0.1:8055!" not in mail.body
    assert "http://127.0.0.1:8055/accounts/confirm-email/" in mail.body
