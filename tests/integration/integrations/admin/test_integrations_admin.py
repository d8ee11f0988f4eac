"""Staff admin of integrations: connections per tenant with status and kind filters and the
secret never shown or editable; deliveries with their attempts; outside actions. All
read-only; customers cannot reach it."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.utils import timezone

from integrations.models import (
    AttemptOutcome,
    Connection,
    ConnectionStatus,
    Delivery,
    DeliveryAttempt,
    ExternalAction,
)
from integrations.services.connections import connection_connect, connection_secret
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
A = "/admin/integrations"
TOKEN = "123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-Hs"


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def staff(db) -> Client:
    client = Client()
    client.force_login(make_user("ops@orion.test", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def rows(cast):
    tg = connection_connect(
        tenant_id=cast.tenant.pk,
        kind="telegram",
        config={"chat_id": "-100"},
        secret={"token": TOKEN},
    )
    Connection.objects.unscoped().filter(pk=tg.pk).update(
        status=ConnectionStatus.DISABLED, last_error="Forbidden: bot was kicked"
    )
    connection_connect(
        tenant_id=cast.other_tenant.pk,
        kind="email",
        config={"address": "a@globex.test"},
        secret=None,
    )
    delivery = Delivery.objects.unscoped().create(
        tenant=cast.tenant, key="k1", kind="telegram", body="Lunch is up", status="sent"
    )
    DeliveryAttempt.objects.unscoped().create(
        tenant=cast.tenant,
        delivery=delivery,
        number=1,
        outcome=AttemptOutcome.TRANSIENT,
        http_status=429,
        error="Too Many Requests: retry after 3",
        finished_at=timezone.now(),
    )
    DeliveryAttempt.objects.unscoped().create(
        tenant=cast.tenant,
        delivery=delivery,
        number=2,
        outcome=AttemptOutcome.SENT,
        http_status=200,
    )
    action = ExternalAction.objects.unscoped().create(
        tenant=cast.tenant, key="run:1:s1:t0", kind="gmail.send"
    )
    return tg, delivery, action


def test_connections_across_tenants_with_status_and_kind_filters(staff, cast, rows):
    listed = text(staff.get(f"{A}/connection/"))
    assert "Acme Plumbing" in listed and "Globex Bakery" in listed
    assert "stored (encrypted, never shown)" in listed and "Forbidden: bot was kicked" in listed
    disabled = text(staff.get(f"{A}/connection/?status__exact=disabled"))
    assert "Acme Plumbing" in disabled and "Globex Bakery" not in disabled
    email = text(staff.get(f"{A}/connection/?kind__exact=email"))
    assert "Globex Bakery" in email and "Acme Plumbing" not in email
    email_row = Connection.objects.unscoped().get(kind="email")
    email_page = text(staff.get(f"{A}/connection/{email_row.pk}/change/"))
    assert "a@globex.test" in email_page and "stored (encrypted" not in email_page
    found = text(staff.get(f"{A}/connection/?q=globex"))
    assert "Globex Bakery" in found and "Acme Plumbing" not in found


def test_a_connections_secret_is_never_shown_nor_editable(staff, rows):
    tg = rows[0]
    page = staff.get(f"{A}/connection/{tg.pk}/change/")
    assert page.status_code == 200
    shown = text(page)
    encrypted = Connection.objects.unscoped().get(pk=tg.pk).secret.token
    assert TOKEN not in shown and encrypted not in shown
    assert 'name="secret"' not in shown and "stored (encrypted, never shown)" in shown
    refused = staff.post(f"{A}/connection/{tg.pk}/change/", {"secret": "x", "status": "connected"})
    assert refused.status_code == 403
    fresh = Connection.objects.unscoped().get(pk=tg.pk)
    assert connection_secret(fresh) == {"token": TOKEN} and fresh.status == "disabled"
    assert staff.get(f"{A}/connection/add/").status_code == 403
    assert staff.post(f"{A}/connection/{tg.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Connection.objects.unscoped().filter(pk=tg.pk).exists()


def test_a_delivery_shows_its_attempts_read_only(staff, rows):
    delivery = rows[1]
    listed = text(staff.get(f"{A}/delivery/?status__exact=sent&kind__exact=telegram"))
    assert "k1" in listed
    shown = text(staff.get(f"{A}/delivery/{delivery.pk}/change/"))
    assert "Lunch is up" in shown
    assert "Too Many Requests: retry after 3" in shown and "429" in shown
    assert "Transient error" in shown and "Sent" in shown
    assert 'name="attempts-0-error"' not in shown  # read-only, not an input
    assert staff.post(f"{A}/delivery/{delivery.pk}/change/", {}).status_code == 403


def test_outside_actions_are_listed_read_only(staff, rows):
    action = rows[2]
    assert "run:1:s1:t0" in text(staff.get(f"{A}/externalaction/"))
    assert staff.get(f"{A}/externalaction/{action.pk}/change/").status_code == 200
    assert staff.post(f"{A}/externalaction/{action.pk}/change/", {}).status_code == 403


@pytest.mark.parametrize("role", ["owner", "admin", "member", "viewer", "outsider"])
def test_customers_cannot_reach_the_admin(client_as, rows, role):
    response = client_as(role).get(f"{A}/connection/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
