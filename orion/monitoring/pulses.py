"""Process pulses: the last sign of life of each worker (via a beat-scheduled task) and of
beat (via its own publishes), so /readyz can tell whether each is alive without a broadcast."""

from __future__ import annotations

import socket
from datetime import timedelta
from typing import Any

from celery.signals import beat_init, before_task_publish
from django.utils import timezone

from orion.monitoring.models import ProcessPulse

PULSE_TASK = "orion.monitoring.tasks.worker_pulse"
FRESH_FOR = timedelta(seconds=60)
_in_beat = False


def pulse_record(*, kind: str, hostname: str | None = None) -> None:
    ProcessPulse.objects.update_or_create(
        kind=kind,
        hostname=hostname or socket.gethostname(),
        defaults={"seen_at": timezone.now()},
    )


def pulse_latest(*, kind: str) -> ProcessPulse | None:
    return ProcessPulse.objects.filter(kind=kind).order_by("-seen_at").first()


def pulse_is_fresh(beat: ProcessPulse | None) -> bool:
    return beat is not None and timezone.now() - beat.seen_at <= FRESH_FOR


@beat_init.connect
def _mark_beat_process(**_: Any) -> None:
    global _in_beat
    _in_beat = True


@before_task_publish.connect
def _beat_published(sender: str | None = None, **_: Any) -> None:
    if _in_beat and sender == PULSE_TASK:
        pulse_record(kind=ProcessPulse.Kind.BEAT)
