"""The integrations page with the fixed cast: members see their own tenant's connections,
an outsider sees none of them."""

from __future__ import annotations

import pytest

from integrations.models import Connection, ConnectionStatus

pytestmark = pytest.mark.django_db
PAGE = "/integrations/"


@pytest.fixture
def broken(cast):
    Connection.objects.unscoped().create(
        tenant=cast.tenant,
        kind="telegram",
        status=ConnectionStatus.ERROR,
        last_error="The bot was removed from the chat.",
        secret='{"token": "123:very-secret"}',
    )


@pytest.mark.parametrize("role", ["owner", "admin", "member", "viewer"])
def test_members_see_status_and_last_error_never_the_secret(client_as, broken, role):
    response = client_as(role).get(PAGE)
    assert response.status_code == 200
    text = response.content.decode()
    assert "<h1>Integrations</h1>" in text
    assert "very-secret" not in text


def test_outsider_sees_only_its_own_tenant(client_as, broken):
    response = client_as("outsider").get(PAGE)
    assert response.status_code == 200
    assert "The bot was removed from the chat." not in response.content.decode()


def test_signed_out_goes_to_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
