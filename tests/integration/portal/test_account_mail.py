"""allauth's account mails ride the Delivery path: a mail server that is down (a real
aiosmtpd server on 127.0.0.1, stopped) no longer turns a sign-up or a password reset into
a 500; the delivery retries and the mail goes out once the server is back. Their bodies
carry one-time links: never shown on the deliveries pages, dropped once final."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from integrations.models import Delivery
from orion.core.fakes.smtp import FakeSMTP
from tenants.models import Membership, Tenant
from tests.conftest import make_user
from tests.integration.integrations.delivery.conftest import mailed_after_outage

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Corr3ct-Horse-Battery"


@pytest.fixture
def smtp(settings) -> Iterator[FakeSMTP]:
    """Django's SMTP backend pointed at a real SMTP server on 127.0.0.1."""
    with FakeSMTP() as fake:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = fake.host
        settings.EMAIL_PORT = fake.port
        settings.EMAIL_TIMEOUT = 5
        yield fake


def _signup(client: Client, email: str = "founder@newco.test"):
    return client.post(
        "/accounts/signup/",
        {"email": email, "password1": PASSWORD, "password2": PASSWORD, "company_name": "NewCo"},
    )


def test_signing_up_with_the_mail_server_down_redirects_and_the_mail_follows(smtp, eager):
    smtp.stop()
    client = Client()
    response = _signup(client)
    assert response.status_code == 302  # not a 500: the account and the tenant are saved
    assert "/accounts/confirm-email/" in response["Location"]
    user = get_user_model().objects.get(email="founder@newco.test")
    tenant = Tenant.objects.get(name="NewCo")
    assert Membership.objects.filter(user=user, tenant=tenant).exists()
    delivery = Delivery.objects.unscoped().get(purpose="account")
    assert (delivery.tenant_id, delivery.recipient) == (tenant.pk, "founder@newco.test")
    delivery, message = mailed_after_outage(delivery, smtp)
    assert message["Subject"].startswith("[Orion] ")
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^/\s]+/)", message.get_payload())
    assert link, message.get_payload()
    assert link.group(1) not in delivery.body  # the one-time link is not kept once sent

    verifier = Client()
    assert verifier.post(link.group(1)).status_code == 302
    client = Client()
    client.post("/accounts/login/", {"login": "founder@newco.test", "password": PASSWORD})
    assert "_auth_user_id" in client.session  # the mailed link verified the address


def test_a_password_reset_with_the_mail_server_down_is_sent_once_it_is_back(cast, smtp, eager):
    smtp.stop()
    response = Client().post("/accounts/password/reset/", {"email": "member@acme.test"})
    assert response.status_code == 302
    delivery = Delivery.objects.unscoped().get(purpose="account")
    assert (delivery.tenant_id, delivery.recipient) == (cast.tenant.pk, "member@acme.test")
    _, message = mailed_after_outage(delivery, smtp)
    assert "/accounts/password/reset/key/" in message.get_payload()


def test_each_account_mail_is_a_delivery_of_its_own(cast, mailoutbox, eager):
    client = Client()
    for _ in range(2):
        client.post("/accounts/password/reset/", {"email": "member@acme.test"})
    keys = list(Delivery.objects.unscoped().filter(purpose="account").values_list("key", flat=True))
    assert len(keys) == len(set(keys)) == 2 and len(mailoutbox) == 2


@pytest.mark.parametrize("role", ["owner", "viewer"])
def test_an_account_mails_body_is_not_shown_on_the_deliveries_pages(client_as, cast, smtp, role):
    """Queued, not yet sent (the body still holds the link): the team does not see it."""
    smtp.stop()  # the send task is not run eagerly here: the delivery stays queued
    Client().post("/accounts/password/reset/", {"email": "member@acme.test"})
    delivery = Delivery.objects.unscoped().get(purpose="account")
    key = re.search(r"/accounts/password/reset/key/([^/\s]+)/", delivery.body).group(1)
    client = client_as(role)
    pages = [
        client.get("/integrations/"),
        client.get("/integrations/deliveries/"),
        client.get(f"/integrations/deliveries/{delivery.pk}/"),
    ]
    for page in pages:
        assert page.status_code == 200
        assert key not in html.unescape(page.content.decode())
    assert "(not shown: it carries a one-time link)" in html.unescape(pages[2].content.decode())


def test_someone_in_no_team_with_the_mail_server_down_gets_words_not_a_500(db, smtp, caplog):
    """No tenant to queue it on: allauth's direct send, its failure caught, logged without
    the address and told to the person."""
    make_user("pat@nowhere.test")
    smtp.stop()
    client = Client()
    with caplog.at_level(logging.WARNING, logger="tenants.account_adapter"):
        response = client.post(
            "/accounts/password/reset/", {"email": "pat@nowhere.test"}, follow=True
        )
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "We could not send the email just now" in page
    assert not Delivery.objects.unscoped().exists()
    assert "password_reset_key" in caplog.text and "not sent" in caplog.text
    assert "pat@nowhere.test" not in caplog.text
