"""Delivery fixtures (the fakes are in ../conftest.py): a connected channel per kind, and
a driver that runs a delivery to its end honouring its retry times (sleeping in the test,
as the countdown would in the broker)."""

from __future__ import annotations

import time
from email.message import Message

import pytest

from integrations.delivery.services import delivery_enqueue, delivery_send_now
from integrations.models import (
    AttemptOutcome,
    Connection,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
)
from integrations.services.connections import connection_connect

TOKEN = "123456:" + "A" * 35
SLACK_TOKEN = "xoxb-1-" + "b" * 24


def connect(tenant, kind: str, fake=None) -> Connection:
    config, secret = {
        "telegram": ({"chat_id": "-1001"}, {"token": TOKEN}),
        "discord": ({}, {"webhook_url": "https://discord.com/api/webhooks/123/hook-token"}),
        "slack": ({"channel": "C0123456"}, {"token": SLACK_TOKEN}),
        "email": ({"address": "ops@acme.test"}, None),
    }[kind]
    return connection_connect(tenant_id=tenant.pk, kind=kind, config=config, secret=secret)


def enqueue(tenant, kind: str, body: str = "Hello <b>team</b>", key: str = "k1") -> Delivery:
    connect(tenant, kind)
    (delivery,) = delivery_enqueue(tenant_id=tenant.pk, kind=kind, body=body, key=key, subject="Hi")
    return delivery


def run_to_end(delivery: Delivery, *, max_runs: int = 10) -> Delivery:
    """Run the send as the task would, waiting out each retry's countdown."""
    for _ in range(max_runs):
        result = delivery_send_now(delivery_id=delivery.pk)
        if result.retry_in is None:
            break
        time.sleep(result.retry_in)
    return fresh(delivery)


def fresh(delivery: Delivery) -> Delivery:
    return Delivery.objects.unscoped().get(pk=delivery.pk)


def attempts(delivery: Delivery) -> list[DeliveryAttempt]:
    return list(DeliveryAttempt.objects.unscoped().filter(delivery=delivery).order_by("number"))


def mailed_after_outage(delivery: Delivery, smtp) -> tuple[Delivery, Message]:
    """A mail queued while the SMTP server was down: retrying after one transient attempt,
    then, the server back, sent as one message to its recipient."""
    assert (delivery.kind, delivery.status) == ("email", DeliveryStatus.RETRYING)
    (attempt,) = attempts(delivery)
    assert attempt.outcome == AttemptOutcome.TRANSIENT
    assert "could not reach the mail server" in attempt.error
    smtp.start()
    delivery = run_to_end(delivery)
    assert delivery.status == DeliveryStatus.SENT
    (message,) = smtp.messages
    assert message["To"] == delivery.recipient
    return delivery, message


def connection_of(delivery: Delivery) -> Connection:
    return Connection.objects.unscoped().get(pk=delivery.connection_id)


@pytest.fixture
def eager(monkeypatch):
    """Celery tasks run where they are queued (the on-commit send, the sweep's re-queue)."""
    from orion.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)


@pytest.fixture
def worker(redis_url):
    """`start(**env)`: a real Celery worker process on the deliveries queue (Redis broker,
    the test database), with `env` (e.g. a fake's base URL) in its environment."""
    import os
    import subprocess
    import sys

    from orion.celery import app
    from tests.integration.control_plane.processes import (
        ROOT,
        require_postgresql,
        test_database_url,
    )

    require_postgresql()
    app.control.purge()  # nothing left over from another test's queueing
    started: list[subprocess.Popen] = []

    def start(**env: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "orion",
                "worker",
                "-Q",
                "deliveries",
                "-P",
                "threads",
                "-c",
                "4",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "warning",
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "DATABASE_URL": test_database_url(),
                "DJANGO_SETTINGS_MODULE": "orion.settings_test",
                **env,
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
