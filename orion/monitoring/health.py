"""Readiness checks behind /readyz: database, broker, a worker answering, beat fresh.

/readyz is public: details name the failing kind of error only; the full error is logged.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from kombu import Connection

from orion.monitoring.models import ProcessPulse
from orion.monitoring.pulses import pulse_is_fresh, pulse_latest

logger = logging.getLogger(__name__)


def _failed(check: str, exc: Exception) -> tuple[bool, str]:
    logger.warning("readiness check %s failed: %s", check, exc)
    return False, type(exc).__name__


def check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, connection.vendor
    except Exception as exc:
        return _failed("database", exc)


def check_broker() -> tuple[bool, str]:
    url = settings.CELERY_BROKER_URL
    try:
        with Connection(url, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True, url.split("://", 1)[0]
    except Exception as exc:
        return _failed("broker", exc)


def check_pulse(kind: str) -> tuple[bool, str]:
    beat = pulse_latest(kind=kind)
    if beat is None:
        return False, "never seen"
    return pulse_is_fresh(beat), f"last seen {beat.seen_at.isoformat()}"


def readiness() -> dict[str, dict]:
    checks = {
        "database": check_database(),
        "broker": check_broker(),
        "worker": check_pulse(ProcessPulse.Kind.WORKER),
        "beat": check_pulse(ProcessPulse.Kind.BEAT),
    }
    return {name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()}
