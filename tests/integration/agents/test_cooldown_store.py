"""Cooldown rows under concurrent workers: failures are events applied under the row lock,
probes are compare-and-set claims. Real PostgreSQL, real processes."""

from __future__ import annotations

import multiprocessing
import time
from datetime import timedelta

import pytest
from django.db import connection, connections

from agents.models import ProfileCooldown
from agents.services.failover_store import RowCooldownStore
from orion.reliability import ErrorClass

pytestmark = pytest.mark.django_db(transaction=True)

E = ErrorClass
WORKERS = 8
STAGGER_S = 0.15


def _needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): row locks across processes")


def _fail_later(key: str, go_at: float, out) -> None:  # runs in a child process
    from orion.core.rows import independent_close

    store = RowCooldownStore([key])  # the snapshot every worker starts from (stale soon)
    time.sleep(max(go_at - time.time(), 0.0))
    now = time.time()
    state = store.apply_failure(key, "", E.SERVER, now=now)
    out.put((now, state.cooldown_until))
    independent_close()


def _probe(key: str, go_at: float, now: float, out) -> None:  # runs in a child process
    from orion.core.rows import independent_close

    store = RowCooldownStore([key])
    time.sleep(max(go_at - time.time(), 0.0))
    out.put(store.claim_probe(key, "", now=now, interval=30.0))
    independent_close()


def _run_children(target, args_of) -> list:
    connections.close_all()  # children must not share the parent's sockets
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    children = [ctx.Process(target=target, args=(*args_of(i), out)) for i in range(WORKERS)]
    for child in children:
        child.start()
    results = [out.get(timeout=30) for _ in children]
    for child in children:
        child.join(timeout=30)
        assert child.exitcode == 0
    return results


def test_staggered_failures_of_8_workers_never_extend_the_first_cooldown(setup):
    _needs_postgres()
    key = str(setup.k1.pk)
    start = time.time() + 1.0
    results = _run_children(_fail_later, lambda i: (key, start + i * STAGGER_S))
    first_failure = min(now for now, _ in results)
    last_failure = max(now for now, _ in results)
    assert last_failure - first_failure >= (WORKERS - 1) * STAGGER_S * 0.8
    row = ProfileCooldown.objects.get(profile=setup.k1, scope="")
    # the first failure opened a 30 s window; the 7 later ones found it active
    assert abs(row.cooldown_until.timestamp() - (first_failure + 30.0)) < 0.01
    assert row.error_count == WORKERS
    # every worker saw the same window, whatever its snapshot said
    assert {round(until, 2) for _, until in results} == {round(first_failure + 30.0, 2)}


def test_exactly_one_of_8_workers_gets_the_probe(setup):
    _needs_postgres()
    key = str(setup.k1.pk)
    # cooling for 5 more minutes; the last probe (the failure itself) is 31 s old
    RowCooldownStore([key]).apply_failure(key, "", E.SERVER, now=time.time() - 31)
    row = ProfileCooldown.objects.get(profile=setup.k1)
    ProfileCooldown.objects.filter(pk=row.pk).update(
        cooldown_until=row.last_failure_at + timedelta(seconds=300)
    )
    start = time.time() + 1.0
    now = time.time() + 1.0
    results = _run_children(_probe, lambda i: (key, start, now))
    assert sorted(results) == [False] * (WORKERS - 1) + [True]
    # the slot is taken for 30 s, then free again
    store = RowCooldownStore([key])
    assert not store.claim_probe(key, "", now=now + 29, interval=30.0)
    assert store.claim_probe(key, "", now=now + 30.5, interval=30.0)


def test_a_disabled_key_gets_no_probe(setup):
    key = str(setup.k1.pk)
    store = RowCooldownStore([key])
    now = time.time()
    store.apply_failure(key, "", E.BILLING, now=now - 60)
    assert not store.claim_probe(key, "", now=now, interval=30.0)


def test_billing_failures_stay_at_the_24h_cap(setup):
    key = str(setup.k1.pk)
    now, hours = time.time(), []
    for _ in range(6):
        state = RowCooldownStore([key]).apply_failure(key, "", E.BILLING, now=now)
        hours.append(round((state.disabled_until - now) / 3600, 3))
        now = state.disabled_until  # it fails again as soon as it is tried
    assert hours == [5, 10, 20, 24, 24, 24]
    row = ProfileCooldown.objects.get(profile=setup.k1, scope="")
    assert (row.billing_disable_count, row.revoked_disable_count) == (6, 0)


def test_billing_and_revoked_counters_are_independent(setup):
    key = str(setup.k1.pk)
    store = RowCooldownStore([key])
    now = time.time()
    for _ in range(3):
        store.apply_failure(key, "", E.BILLING, now=now)
    state = store.apply_failure(key, "", E.AUTH_PERMANENT, now=now + 1)
    # the first revoked-key disable: 10 min from its own counter, not doubled by billing's
    assert state.revoked_disable_count == 1
    assert state.billing_disable_count == 3
    # the billing disable (20 h) is longer and is never shortened by the revoked one
    assert state.disabled_until == pytest.approx(now + 20 * 3600)
    later = now + 30 * 3600
    state = store.apply_failure(key, "", E.AUTH_PERMANENT, now=later)
    assert state.disabled_until == pytest.approx(later + 20 * 60)  # 10 min doubled once


def test_a_success_resets_the_row(setup):
    key = str(setup.k1.pk)
    RowCooldownStore([key]).apply_failure(key, "glm-4.7", E.RATE_LIMIT, now=time.time())
    store = RowCooldownStore([key])
    store.apply_success(key, "glm-4.7")
    row = ProfileCooldown.objects.get(profile=setup.k1, scope="glm-4.7")
    assert (row.error_count, row.cooldown_until) == (0, None)


def test_the_store_writes_commit_on_their_own_connection_inside_atomic(setup):
    """A cooldown written while the caller holds a transaction is visible to others at
    once (and survives the caller's rollback)."""
    _needs_postgres()
    from django.db import transaction

    key = str(setup.k1.pk)

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        RowCooldownStore([key]).apply_failure(key, "", E.SERVER, now=time.time())
        raise Rollback
    assert ProfileCooldown.objects.filter(profile=setup.k1, scope="").exists()
