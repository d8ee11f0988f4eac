"""Writing and reading process heartbeats (workers via a beat-scheduled task, beat via its
own publishes), so /readyz can say whether each one is alive without a broadcast."""

from __future__ import annotations

import socket
from datetime import timedelta
from typing import Any

from celery.signals import beat_init, before_task_publish
from django.utils import timezone

from orion.monitoring.models import Heartbeat

HEARTBEAT_TASK = "orion.monitoring.tasks.worker_heartbeat"
FRESH_FOR = timedelta(seconds=60)
_in_beat = False


def heartbeat_record(*, kind: str, hostname: str | None = None) -> None:
    Heartbeat.objects.update_or_create(
        kind=kind,
        hostname=hostname or socket.gethostname(),
        defaults={"seen_at": timezone.now()},
    )


def heartbeat_latest(*, kind: str) -> Heartbeat | None:
    return Heartbeat.objects.filter(kind=kind).order_by("-seen_at").first()


def heartbeat_is_fresh(beat: Heartbeat | None) -> bool:
    return beat is not None and timezone.now() - beat.seen_at <= FRESH_FOR


@beat_init.connect
def _mark_beat_process(**_: Any) -> None:
    global _in_beat
    _in_beat = True


@before_task_publish.connect
def _beat_published(sender: str | None = None, **_: Any) -> None:
    if _in_beat and sender == HEARTBEAT_TASK:
        heartbeat_record(kind=Heartbeat.Kind.BEAT)
