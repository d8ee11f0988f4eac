"""The dispatcher tick: claim the agents whose heartbeat is due, advance their schedule,
open their Runs and enqueue the heartbeats. One platform task does this every second, so
scheduling cost stays flat with the number of agents (no PeriodicTask per agent).

Per tick, a constant number of queries whatever the number of agents:
  1. the due agents, at most `heartbeat_concurrency` per tenant (a window rank), locked
     with FOR UPDATE SKIP LOCKED so two dispatchers never take the same agent;
  2. the live runs of those tenants, locked (for the fairness cap and for coalescing);
  3. one INSERT of the new Runs; 4. one UPDATE of the agents' next due times (unnest);
  5. one UPDATE counting the coalesced heartbeats.
An agent over its tenant's cap stays due and is taken by a later tick."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Subquery, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from agents.models import LIVE_RUN_STATUSES, Agent, AgentStatus, Run, RunTrigger
from agents.services.schedule import next_heartbeat_after
from tenants.models import TenantStatus

DEFAULT_BATCH = 1000


@dataclass
class DispatchResult:
    runs: list[Run] = field(default_factory=list)
    coalesced: list[int] = field(default_factory=list)  # agent ids
    lags_s: list[float] = field(default_factory=list)  # due → dispatched, per new run


def _due(now: datetime, batch: int) -> list[Agent]:
    ranked = (
        Agent.objects.unscoped()
        .filter(
            status=AgentStatus.ACTIVE,
            next_heartbeat_at__lte=now,
            tenant__status=TenantStatus.ACTIVE,
            tenant__heartbeats_paused=False,
        )
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("tenant_id")], order_by=F("next_heartbeat_at").asc()
            )
        )
        .filter(rank__lte=F("tenant__heartbeat_concurrency"))
        .order_by()
        .values("pk")
    )
    return list(
        Agent.objects.unscoped()
        .filter(pk__in=Subquery(ranked))
        .select_related("tenant")
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("next_heartbeat_at")[:batch]
    )


def dispatch_due(
    *,
    now: datetime | None = None,
    batch: int = DEFAULT_BATCH,
    enqueue: Callable[[Run], None] | None = None,
) -> DispatchResult:
    """One tick. `enqueue` (default: the heartbeat Celery task) runs after commit."""
    if enqueue is None:
        from agents.tasks import heartbeat_enqueue as enqueue
    now = now or timezone.now()
    result = DispatchResult()
    with transaction.atomic():
        agents = _due(now, batch)
        if not agents:
            return result
        live: dict[int, set[int]] = defaultdict(set)  # tenant -> agents with a live run
        # Locked until the tick commits, so a run cannot end between being seen live here
        # and being counted as coalesced (its worker then sees the count and wakes again).
        for tenant_id, agent_id in (
            Run.objects.unscoped()
            .filter(tenant_id__in={a.tenant_id for a in agents}, status__in=LIVE_RUN_STATUSES)
            .select_for_update()
            .values_list("tenant_id", "agent_id")
        ):
            live[tenant_id].add(agent_id)
        new_runs: list[Run] = []
        advanced: list[Agent] = []
        for agent in agents:
            if agent.pk in live[agent.tenant_id]:
                result.coalesced.append(agent.pk)
            elif len(live[agent.tenant_id]) < agent.tenant.heartbeat_concurrency:
                live[agent.tenant_id].add(agent.pk)
                new_runs.append(
                    Run(
                        tenant_id=agent.tenant_id,
                        agent=agent,
                        trigger=agent.wake_trigger or RunTrigger.SCHEDULE,
                    )
                )
                result.lags_s.append((now - agent.next_heartbeat_at).total_seconds())
            else:
                continue  # over the tenant's cap: stays due for a later tick
            agent.next_heartbeat_at = next_heartbeat_after(
                agent=agent, timezone_name=agent.tenant.timezone, after=now
            )
            agent.wake_trigger = ""
            advanced.append(agent)
        result.runs = _insert_runs(new_runs)
        _advance(advanced)
        if result.coalesced:
            Run.objects.unscoped().filter(
                agent_id__in=result.coalesced, status__in=LIVE_RUN_STATUSES
            ).update(coalesced=F("coalesced") + 1)
        runs = list(result.runs)
        transaction.on_commit(lambda: [enqueue(run) for run in runs])
    return result


def _advance(agents: list[Agent]) -> None:
    """Write the agents' next due times in one statement. On PostgreSQL an UPDATE joined
    to unnest()ed arrays: Django's bulk_update builds a CASE per row in Python, ~1 ms per
    agent, which would make the tick the bottleneck at 10,000 agents."""
    if not agents:
        return
    if connection.vendor != "postgresql":
        Agent.objects.unscoped().bulk_update(agents, ["next_heartbeat_at", "wake_trigger"])
        return
    table = connection.ops.quote_name(Agent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS a SET next_heartbeat_at = v.due, wake_trigger = '' "  # noqa: S608
            "FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, due) WHERE a.id = v.id",
            [[a.pk for a in agents], [a.next_heartbeat_at for a in agents]],
        )


def _insert_runs(runs: list[Run]) -> list[Run]:
    """One INSERT; if a run was opened meanwhile by another path (the live-run constraint
    fires), insert one by one and drop the losers (they are coalesced into the winner)."""
    if not runs:
        return []
    try:
        with transaction.atomic():
            return Run.objects.unscoped().bulk_create(runs)
    except IntegrityError:
        made = []
        for run in runs:
            try:
                with transaction.atomic():
                    run.save()
                made.append(run)
            except IntegrityError:
                continue
        return made
