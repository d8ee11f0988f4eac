"""/healthz answers without dependencies; /readyz reports each dependency honestly."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orion.monitoring.models import ProcessPulse
from orion.monitoring.pulses import pulse_record

pytestmark = pytest.mark.django_db


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_unavailable_without_worker_and_beat(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is True
    assert checks["broker"]["ok"] is True
    assert checks["worker"] == {"ok": False, "detail": "never seen"}
    assert checks["beat"]["ok"] is False


def test_readyz_ok_with_fresh_pulses(client):
    pulse_record(kind=ProcessPulse.Kind.WORKER, hostname="w1")
    pulse_record(kind=ProcessPulse.Kind.BEAT, hostname="b1")
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ok"


def test_readyz_flags_a_stale_worker(client):
    pulse_record(kind=ProcessPulse.Kind.BEAT, hostname="b1")
    ProcessPulse.objects.create(
        kind="worker", hostname="w1", seen_at=timezone.now() - timedelta(minutes=5)
    )
    checks = client.get("/readyz").json()["checks"]
    assert checks["worker"]["ok"] is False
    assert checks["worker"]["detail"].startswith("last seen ")
    assert "w1" not in str(checks)  # a public endpoint names no hosts
    assert checks["beat"]["ok"] is True


def test_worker_pulse_task_records_the_worker(db):
    from orion.monitoring.tasks import worker_pulse

    worker_pulse.apply()
    assert ProcessPulse.objects.filter(kind="worker").count() == 1


def test_with_redis_configured_the_cache_and_broker_use_it(redis_url, settings):
    from django.core.cache import cache

    from orion.monitoring.health import check_broker

    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    cache.set("orion-test-key", {"n": 1}, timeout=5)
    assert cache.get("orion-test-key") == {"n": 1}
    assert check_broker() == (True, "redis")


def test_a_failing_check_names_the_error_kind_only(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    checks = client.get("/readyz").json()["checks"]
    assert checks["broker"]["ok"] is False
    assert "127.0.0.1" not in checks["broker"]["detail"]
