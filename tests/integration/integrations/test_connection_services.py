"""The shared connection writes: connect, replace, disconnect, success and error."""

from __future__ import annotations

import pytest

from integrations.models import Connection, ConnectionStatus
from integrations.services.connections import (
    connection_connect,
    connection_disconnect,
    connection_record_error,
    connection_record_success,
    connection_secret,
    connection_touch_config,
)
from tenants.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_connect_stores_the_secret_encrypted_and_audits_without_it(cast):
    conn = connection_connect(
        tenant_id=cast.tenant.pk,
        kind="telegram",
        config={"chat_id": "42"},
        secret={"token": "123:abc"},
        actor_user=cast.owner,
    )
    raw = Connection.objects.unscoped().filter(pk=conn.pk).values_list("secret", flat=True)[0]
    assert "123:abc" not in str(raw.token)
    fresh = Connection.objects.unscoped().get(pk=conn.pk)
    assert connection_secret(fresh) == {"token": "123:abc"}
    event = AuditEvent.objects.unscoped().get(tenant=cast.tenant, verb="integration.connected")
    assert "123:abc" not in str(event.after)


def test_reconnect_clears_the_error_and_none_keeps_the_secret(cast):
    conn = connection_connect(
        tenant_id=cast.tenant.pk, kind="slack", config={}, secret={"token": "xoxb-1"}
    )
    connection_record_error(
        connection_id=conn.pk, error="channel_not_found", status=ConnectionStatus.DISABLED
    )
    connection_record_success(connection_id=conn.pk)  # disabled stays disabled
    assert Connection.objects.unscoped().get(pk=conn.pk).status == ConnectionStatus.DISABLED
    connection_connect(
        tenant_id=cast.tenant.pk, kind="slack", config={"channel": "C1"}, secret=None
    )
    fresh = Connection.objects.unscoped().get(pk=conn.pk)
    assert (fresh.status, fresh.last_error) == (ConnectionStatus.CONNECTED, "")
    assert connection_secret(fresh) == {"token": "xoxb-1"}


def test_error_then_success_reconnects_and_config_merges(cast):
    conn = connection_connect(
        tenant_id=cast.tenant.pk, kind="telegram", config={"chat_id": "-1"}, secret={}
    )
    connection_record_error(connection_id=conn.pk, error="timed out")
    connection_record_success(connection_id=conn.pk)
    connection_touch_config(connection_id=conn.pk, chat_id="-100")
    fresh = Connection.objects.unscoped().get(pk=conn.pk)
    assert fresh.status == ConnectionStatus.CONNECTED
    assert fresh.last_success_at is not None
    assert fresh.config == {"chat_id": "-100"}


def test_disconnect_deletes_and_reports_whether_there_was_one(cast):
    connection_connect(tenant_id=cast.tenant.pk, kind="discord", config={}, secret={"u": "x"})
    assert connection_disconnect(tenant_id=cast.tenant.pk, kind="discord") is True
    assert connection_disconnect(tenant_id=cast.tenant.pk, kind="discord") is False
    assert not Connection.objects.unscoped().filter(tenant=cast.tenant).exists()
