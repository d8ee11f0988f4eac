"""Cooldown rows under concurrent workers: a stale view never shortens a cooldown."""

import time

import pytest

from agents.models import ProfileCooldown
from agents.services.failover_store import RowCooldownStore
from orion.reliability import CooldownState

pytestmark = pytest.mark.django_db


def test_a_stale_worker_does_not_shorten_another_workers_cooldown(setup):
    now = time.time()
    key = str(setup.k1.pk)
    first, stale = RowCooldownStore([key]), RowCooldownStore([key])  # both load: no rows
    first.put(
        key,
        "",
        CooldownState(error_count=3, cooldown_until=now + 300, reason="auth", last_failure_at=now),
    )
    stale.put(
        key,
        "",
        CooldownState(
            error_count=1, cooldown_until=now + 30, reason="server", last_failure_at=now - 1
        ),
    )
    row = ProfileCooldown.objects.get(profile=setup.k1, scope="")
    assert row.error_count == 3
    assert row.reason == "auth"
    assert abs(row.cooldown_until.timestamp() - (now + 300)) < 0.01


def test_a_success_resets_the_row(setup):
    now = time.time()
    key = str(setup.k1.pk)
    RowCooldownStore([key]).put(
        key, "glm-4.7", CooldownState(error_count=2, cooldown_until=now + 60)
    )
    store = RowCooldownStore([key])
    store.put(key, "glm-4.7", CooldownState())
    row = ProfileCooldown.objects.get(profile=setup.k1, scope="glm-4.7")
    assert (row.error_count, row.cooldown_until) == (0, None)
