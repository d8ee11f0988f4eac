"""The deliveries list and a delivery's page with its attempts, with the fixed cast: the
tenant's people read them, an outsider gets 404 for another tenant's delivery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import AttemptOutcome, Delivery, DeliveryAttempt, DeliveryStatus

from .conftest import text

pytestmark = pytest.mark.django_db
ROLES = ["owner", "admin", "member", "viewer"]


def delivery(tenant, *, status=DeliveryStatus.QUEUED, body="Lunch menu is up", **kw) -> Delivery:
    return Delivery.objects.unscoped().create(
        tenant=tenant, key=f"k-{body}", body=body, status=status, **{"kind": "telegram", **kw}
    )


def attempt(d: Delivery, number: int, outcome: str, **kw) -> DeliveryAttempt:
    return DeliveryAttempt.objects.unscoped().create(
        tenant_id=d.tenant_id, delivery=d, number=number, outcome=outcome, **kw
    )


@pytest.fixture
def retried(cast) -> Delivery:
    d = delivery(cast.tenant, status=DeliveryStatus.SENT, sent_at=timezone.now(), attempt_count=2)
    attempt(
        d,
        1,
        AttemptOutcome.TRANSIENT,
        http_status=429,
        error="Too Many Requests: retry after 3",
        retry_after_ms=3000,
        finished_at=timezone.now(),
    )
    attempt(d, 2, AttemptOutcome.SENT, http_status=200, finished_at=timezone.now())
    return d


@pytest.mark.parametrize("role", ROLES)
def test_the_tenants_people_see_a_delivery_and_every_attempt(client_as, retried, role):
    response = client_as(role).get(f"/integrations/deliveries/{retried.pk}/")
    assert response.status_code == 200
    shown = text(response)
    assert 'data-status="sent"' in shown and "Lunch menu is up" in shown
    assert shown.count("<tr data-outcome=") == 2
    assert 'data-outcome="transient"' in shown and 'data-outcome="sent"' in shown
    assert "429" in shown and "Too Many Requests: retry after 3" in shown and "3000 ms" in shown
    assert 'http-equiv="refresh"' not in shown  # final: no more reloading


def test_a_delivery_not_yet_final_reloads_until_it_is(client_as, cast):
    d = delivery(cast.tenant, status=DeliveryStatus.RETRYING)
    d.next_attempt_at = timezone.now() + timedelta(seconds=3)
    d.save()
    shown = text(client_as("viewer").get(f"/integrations/deliveries/{d.pk}/"))
    assert '<meta http-equiv="refresh" content="2">' in shown
    assert "reloads every 2 s" in shown and "Next try" in shown
    Delivery.objects.unscoped().filter(pk=d.pk).update(
        status=DeliveryStatus.FAILED, last_error="The bot was blocked by the user."
    )
    shown = text(client_as("viewer").get(f"/integrations/deliveries/{d.pk}/"))
    assert 'http-equiv="refresh"' not in shown
    assert "The bot was blocked by the user." in shown


@pytest.mark.parametrize("role", ROLES)
def test_another_tenants_delivery_is_404_for_everyone(client_as, cast, role):
    theirs = delivery(cast.other_tenant, body="Globex secret recipe")
    assert client_as(role).get(f"/integrations/deliveries/{theirs.pk}/").status_code == 404


def test_outsider_gets_404_for_the_tenants_delivery(client_as, retried):
    response = client_as("outsider").get(f"/integrations/deliveries/{retried.pk}/")
    assert response.status_code == 404
    assert "Lunch menu is up" not in text(response)


@pytest.mark.parametrize("role", [*ROLES, "outsider"])
def test_the_list_and_the_index_show_only_the_own_tenants_deliveries(
    client_as, cast, retried, role
):
    delivery(cast.other_tenant, body="Globex secret recipe")
    client = client_as(role)
    listed = text(client.get("/integrations/deliveries/"))
    index = text(client.get("/integrations/"))
    assert "Recent deliveries" in index
    mine = role != "outsider"
    assert ("Globex secret recipe" in listed) is not mine
    assert ("Lunch menu is up" in listed) is mine
    assert ("Lunch menu is up" in index) is mine
    assert (f"/integrations/deliveries/{retried.pk}/" in index) is mine


def test_the_list_pages_and_costs_a_fixed_number_of_queries(
    client_as, cast, django_assert_max_num_queries
):
    for n in range(60):
        delivery(cast.tenant, body=f"message {n}")
    client = client_as("owner")
    with django_assert_max_num_queries(12):
        first = text(client.get("/integrations/deliveries/"))
    assert "message 59" in first and "message 0" not in first and "Page 1 of 2" in first
    assert "message 0" in text(client.get("/integrations/deliveries/?page=2"))


def test_signed_out_goes_to_login(client, retried):
    response = client.get(f"/integrations/deliveries/{retried.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("purpose", ["invitation", "account"])
@pytest.mark.parametrize("role", ROLES)
def test_a_one_time_link_is_never_shown(client_as, cast, role, purpose):
    """An invitation's link, or an account mail's (email verification, password reset)."""
    link = "http://testserver/invitations/accept/one-time-secret-token/"
    invitation = delivery(
        cast.tenant, body=f"Join Acme Plumbing: {link}", purpose=purpose, kind="email"
    )
    client = client_as(role)
    pages = [
        client.get("/integrations/"),
        client.get("/integrations/deliveries/"),
        client.get(f"/integrations/deliveries/{invitation.pk}/"),
    ]
    for response in pages:
        assert response.status_code == 200
        assert "one-time-secret-token" not in text(response)
    assert "(not shown: it carries a one-time link)" in text(pages[2])
