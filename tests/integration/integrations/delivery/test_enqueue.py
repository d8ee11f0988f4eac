"""Queueing: validation, splitting, idempotency, the outbound port's targets."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from integrations.delivery.services import delivery_enqueue
from integrations.models import ConnectionStatus, Delivery, DeliveryStatus
from integrations.services.connections import connection_connect, connection_record_error
from orion.core.outbound import Channel, Outbound, outbound_send

pytestmark = pytest.mark.django_db


def _deliveries(tenant):
    return list(Delivery.objects.unscoped().filter(tenant=tenant).order_by("pk"))


@pytest.fixture
def telegram(cast):
    return connection_connect(
        tenant_id=cast.tenant.pk,
        kind="telegram",
        config={"chat_id": "-100"},
        secret={"token": "1:a"},
    )


def test_a_message_is_one_queued_delivery_sent_after_commit(
    cast, telegram, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        (delivery,) = delivery_enqueue(
            tenant_id=cast.tenant.pk, kind="telegram", body="Hello", key="k1", purpose="test"
        )
    assert len(callbacks) == 1
    assert (delivery.status, delivery.connection_id, delivery.body) == (
        DeliveryStatus.QUEUED,
        telegram.pk,
        "Hello",
    )
    assert delivery.next_attempt_at is not None  # due now: the sweep finds a lost kick


def test_the_same_key_returns_the_same_rows_and_queues_nothing(
    cast, telegram, django_capture_on_commit_callbacks
):
    first = delivery_enqueue(tenant_id=cast.tenant.pk, kind="telegram", body="x" * 5000, key="k")
    with django_capture_on_commit_callbacks() as callbacks:
        again = delivery_enqueue(tenant_id=cast.tenant.pk, kind="telegram", body="other", key="k")
    assert [d.pk for d in again] == [d.pk for d in first]
    assert callbacks == []
    assert len(_deliveries(cast.tenant)) == 2


@pytest.mark.parametrize(
    ("kind", "limit"), [("telegram", 4096), ("discord", 2000), ("slack", 4000)]
)
def test_a_long_message_is_split_at_the_providers_limit(cast, kind, limit):
    secret = {"webhook_url": "https://discord.com/api/webhooks/1/t"} if kind == "discord" else {}
    connection_connect(tenant_id=cast.tenant.pk, kind=kind, config={}, secret=secret)
    body = "\n".join(f"line {i} " + "word " * 20 for i in range(120))
    parts = delivery_enqueue(tenant_id=cast.tenant.pk, kind=kind, body=body, key="long")
    assert len(parts) > 1
    assert [d.key for d in parts] == [f"long#{i}" for i in range(1, len(parts) + 1)]
    assert all(len(d.body) <= limit for d in parts)
    assert "".join(d.body for d in parts) == body
    assert all(d.body.endswith("\n") for d in parts[:-1])  # cut at line ends


def test_email_is_never_split(cast):
    (mail,) = delivery_enqueue(
        tenant_id=cast.tenant.pk, kind="email", body="y" * 50_000, key="m", recipient="a@b.test"
    )
    assert (mail.recipient, len(mail.body)) == ("a@b.test", 50_000)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "telegram", "body": "  \n "}, "The message is empty"),
        ({"kind": "telegram", "body": "z" * 4096 * 11}, "at most 10 are sent"),
        ({"kind": "discord", "body": "hi"}, "Discord is not connected"),
        ({"kind": "pigeon", "body": "hi"}, "is not a channel"),
        ({"kind": "email", "body": "hi", "recipient": "not-an-address"}, "not an email"),
        ({"kind": "email", "body": "hi"}, "no address"),
        ({"kind": "telegram", "body": "hi", "key": ""}, "delivery key"),
    ],
)
def test_refusals_say_why_and_write_nothing(cast, telegram, kwargs, message):
    kwargs = {"key": "bad", **kwargs}
    with pytest.raises(ValidationError, match=message):
        delivery_enqueue(tenant_id=cast.tenant.pk, **kwargs)
    assert _deliveries(cast.tenant) == []


def test_a_disabled_channel_is_refused_with_its_error(cast, telegram):
    connection_record_error(
        connection_id=telegram.pk, error="bot was kicked", status=ConnectionStatus.DISABLED
    )
    with pytest.raises(ValidationError, match=r"Telegram is disabled \(bot was kicked\)"):
        delivery_enqueue(tenant_id=cast.tenant.pk, kind="telegram", body="hi", key="k")


def test_email_without_recipient_uses_the_email_connection(cast):
    connection_connect(
        tenant_id=cast.tenant.pk, kind="email", config={"address": "ops@acme.test"}, secret=None
    )
    (mail,) = delivery_enqueue(tenant_id=cast.tenant.pk, kind="email", body="hi", key="k")
    assert mail.recipient == "ops@acme.test"


def test_outbound_targets_per_channel(cast, telegram):
    slack = connection_connect(
        tenant_id=cast.tenant.pk, kind="slack", config={"channel": "C1"}, secret={"token": "x"}
    )
    connection_record_error(connection_id=slack.pk, error="gone", status="disabled")
    t = cast.tenant.pk
    emails = outbound_send(
        Outbound(t, Channel.EMAIL, "r1", "Report", subject="S", to=("a@x.test", "b@x.test"))
    )
    team = outbound_send(Outbound(t, Channel.TEAM, "r2", "Team news"))
    owner = outbound_send(Outbound(t, Channel.OWNER, "r3", "For the owner", subject="S"))
    rows = {d.pk: d for d in _deliveries(cast.tenant)}
    assert [(rows[i].kind, rows[i].recipient, rows[i].key) for i in emails] == [
        ("email", "a@x.test", "r1:email:a@x.test"),
        ("email", "b@x.test", "r1:email:b@x.test"),
    ]
    assert [(rows[i].kind, rows[i].key) for i in team] == [("telegram", "r2:telegram")]
    assert [(rows[i].kind, rows[i].recipient) for i in owner] == [
        ("email", "owner@acme.test"),
        ("telegram", ""),
    ]
    assert outbound_send(Outbound(t, Channel.TEAM, "r2", "Team news")) == team


def test_team_with_nothing_connected_is_nothing(cast):
    assert outbound_send(Outbound(cast.other_tenant.pk, Channel.TEAM, "k", "hello")) == []


def test_only_mail_to_the_notification_address_belongs_to_the_email_connection(cast):
    email = connection_connect(
        tenant_id=cast.tenant.pk, kind="email", config={"address": "ops@acme.test"}, secret=None
    )
    (own,) = delivery_enqueue(tenant_id=cast.tenant.pk, kind="email", body="hi", key="a")
    (other,) = delivery_enqueue(
        tenant_id=cast.tenant.pk, kind="email", body="hi", key="b", recipient="x@y.test"
    )
    assert (own.connection_id, other.connection_id) == (email.pk, None)
