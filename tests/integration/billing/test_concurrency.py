"""Budgets under real concurrency: separate processes racing one PostgreSQL budget, and a
worker killed while its reservation is held."""

from __future__ import annotations

import json
import signal
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from billing.models import BudgetPeriod, Reservation, ReservationStatus, UsageEvent
from billing.models.budgets import TENANT_WIDE
from billing.services.budgets import budget_reserve, budget_set, reservations_expire
from tenants.scope import tenant_scope
from tests.integration.control_plane.processes import require_postgresql, spawn

pytestmark = pytest.mark.django_db(transaction=True)
CENT = 10_000

RACERS = r"""
import json, os, sys, time
from billing.services.budgets import BudgetExceeded, UsageFacts, budget_reserve, budget_settle
from tenants.models import Tenant
from tenants.scope import tenant_scope
tenant_id, count, go = {args}


def race(n):
    tenant = Tenant.objects.get(pk=tenant_id)  # this child's own connection
    with tenant_scope(tenant_id):
        os.write(1, b"ready\n")  # one write per line: fifty children share the pipe
        give_up = time.time() + 60
        while not os.path.exists(go) and time.time() < give_up:
            time.sleep(0.002)
        try:
            held = budget_reserve(
                tenant=tenant, key=f"race-{{n}}", amount_micros={cent},
                agent_id=n % 3 + 1, agent_limit_cents=100,
            )
        except BudgetExceeded:
            return {{"lost": n}}
        time.sleep(0.05)  # the call
        budget_settle(reservation=held, cost_micros={cent}, usage=UsageFacts(model="glm-4.7"))
        return {{"won": n}}


children = []
for n in range(count):  # forked before any connection exists: none is shared
    pid = os.fork()
    if pid == 0:
        try:
            line = json.dumps(race(n))
        except BaseException as exc:
            line = json.dumps({{"error": repr(exc)}})
        try:
            os.write(1, line.encode() + b"\n")
        finally:
            os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
"""


def test_fifty_processes_race_a_budget_with_room_for_ten(cast, tmp_path: Path):
    require_postgresql()
    tenant = cast.tenant
    with tenant_scope(tenant):
        budget_set(tenant=tenant, limit_cents=10)  # room for ten calls of one cent
    go = tmp_path / "go"
    parent = spawn(RACERS.format(args=(tenant.pk, 50, str(go)), cent=CENT))
    try:
        for _ in range(50):  # every child connected and waiting
            line = parent.stdout.readline()
            assert line.strip() == "ready", line or parent.stderr.read()
    finally:
        go.touch()  # let them all go (and end), whatever happened
    out, err = parent.communicate(timeout=120)
    assert parent.returncode == 0, err
    results = [json.loads(line) for line in out.strip().splitlines()]
    winners = [r["won"] for r in results if "won" in r]
    assert len(winners) == 10 and len(results) == 50, err
    with tenant_scope(tenant):
        company = BudgetPeriod.objects.get(agent_id=TENANT_WIDE)
        assert company.spent_micros == 10 * CENT == company.limit_micros
        assert company.reserved_micros == 0
        agents = BudgetPeriod.objects.exclude(agent_id=TENANT_WIDE)
        assert sum(p.spent_micros for p in agents) == 10 * CENT
        assert UsageEvent.objects.filter(key__startswith="race-").count() == 10


HOLDER = """
import time
from billing.services.budgets import budget_reserve
from tenants.models import Tenant
from tenants.scope import tenant_scope
tenant_id, = {args}
with tenant_scope(tenant_id):
    budget_reserve(tenant=Tenant.objects.get(pk=tenant_id), key="doomed", amount_micros={amount})
    print("held", flush=True)
    time.sleep(60)  # killed mid-call
"""


def test_a_killed_workers_reservation_expires(cast):
    require_postgresql()
    tenant = cast.tenant
    with tenant_scope(tenant):
        budget_set(tenant=tenant, limit_cents=10)
    worker = spawn(HOLDER.format(args=(tenant.pk,), amount=8 * CENT))
    assert worker.stdout.readline().strip() == "held", worker.stderr.read()
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    with tenant_scope(tenant):
        assert BudgetPeriod.objects.get(agent_id=TENANT_WIDE).reserved_micros == 8 * CENT
        assert reservations_expire() == 0  # not yet
        later = timezone.now() + timedelta(hours=1)
        assert reservations_expire(now=later) == 1
        assert Reservation.objects.get(key="doomed").status == ReservationStatus.EXPIRED
        assert BudgetPeriod.objects.get(agent_id=TENANT_WIDE).reserved_micros == 0
        budget_reserve(tenant=tenant, key="after", amount_micros=10 * CENT)  # room again
