"""Budgets that are never overspent: reserve a call's maximum cost before it runs, settle
to the real cost after, release what a crashed call held when its reservation expires.

Every change to a BudgetPeriod applies an event to the row's current values in one
conditional UPDATE ("spent + reserved + this call <= limit"): the row count says whether
the reservation fit, so concurrent workers can never together pass the limit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BigIntegerField, Case, DateTimeField, F, IntegerField, Q, Value, When
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from billing.models import (
    Budget,
    BudgetPeriod,
    Reservation,
    ReservationStatus,
    UsageEvent,
)
from billing.models.budgets import MICROS_PER_CENT, TENANT_WIDE
from billing.signals import budget_room
from tenants.models import Tenant
from tenants.services.audit import audit_record

DEFAULT_RESERVATION_TTL_S = 900  # longer than any model call may run (Celery soft limit)


class BudgetExceeded(Exception):
    """The call's maximum cost does not fit in a budget this month: it must not run."""

    def __init__(self, *, who: str, limit_micros: int, month: date) -> None:
        self.who = who
        self.limit_micros = limit_micros
        self.month = month
        super().__init__(
            f"the {who} budget of {limit_micros / MICROS_PER_CENT / 100:.2f} USD for "
            f"{month:%Y-%m} has no room for this call"
        )


@dataclass(frozen=True)
class Limit:
    agent_id: int  # TENANT_WIDE for the tenant's own budget
    limit_micros: int | None
    soft_pct: int = 80


@dataclass(frozen=True)
class UsageFacts:
    """What the caller knows about a finished call, for its UsageEvent."""

    provider: str = ""
    model: str = ""
    auth_profile: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    unpriced: bool = False
    fell_back: bool = False
    attempts: int = 1
    latency_ms: float | None = None
    session_id: int | None = None


def month_of(*, tz: str, at: datetime) -> date:
    """The first day of `at`'s calendar month in time zone `tz`."""
    return at.astimezone(ZoneInfo(tz)).date().replace(day=1)


def _limits(tenant_id: int, agent_id: int | None, agent_limit_cents: int | None) -> list[Limit]:
    row = Budget.objects.filter(tenant_id=tenant_id).values_list("limit_cents", "soft_pct").first()
    limits = [
        Limit(TENANT_WIDE, row[0] * MICROS_PER_CENT, row[1]) if row else Limit(TENANT_WIDE, None)
    ]
    if agent_id is not None:
        cap = agent_limit_cents * MICROS_PER_CENT if agent_limit_cents is not None else None
        limits.append(Limit(agent_id, cap))
    return limits


def _fits(limit: Limit, amount: int) -> Q:
    where = Q(agent_id=limit.agent_id)
    if limit.limit_micros is not None:
        headroom = limit.limit_micros - amount
        where &= Q(spent_micros__lte=headroom - F("reserved_micros"))
    return where


def _take(tenant_id: int, month: date, limits: list[Limit], amount: int) -> int:
    """Add `amount` to every applicable period's reservations if it fits in all of them;
    returns how many rows took it (fewer than len(limits): roll back)."""
    fits = Q()
    for limit in limits:
        fits |= _fits(limit, amount)
    return (
        BudgetPeriod.objects.filter(tenant_id=tenant_id, month=month)
        .filter(fits)
        .update(
            reserved_micros=F("reserved_micros") + amount,
            limit_micros=Case(
                *(
                    When(
                        agent_id=lim.agent_id, then=Cast(Value(lim.limit_micros), BigIntegerField())
                    )
                    for lim in limits
                ),
                output_field=BigIntegerField(),
            ),
            soft_pct=Case(
                *(
                    When(agent_id=lim.agent_id, then=Cast(Value(lim.soft_pct), IntegerField()))
                    for lim in limits
                ),
                output_field=IntegerField(),
            ),
        )
    )


def budget_reserve(
    *,
    tenant: Tenant,
    key: str,
    amount_micros: int,
    agent_id: int | None = None,
    agent_limit_cents: int | None = None,
    run_id: int | None = None,
    now: datetime | None = None,
) -> Reservation:
    """Hold `amount_micros` (the call's maximum cost) against the tenant's budget and the
    agent's (`agent_limit_cents`, None: no agent limit) for the current month in the
    tenant's time zone; commits before returning. Raises BudgetExceeded (nothing held).

    Keyed by the call's idempotency key: a replayed call gets its reservation back (a
    settled one: the call was metered already, do not settle again); one that expired
    is taken again."""
    if amount_micros < 0:
        raise ValueError("a reservation cannot be negative")
    now = now or timezone.now()
    month = month_of(tz=tenant.timezone, at=now)
    ttl = getattr(settings, "ORION_BUDGET_RESERVATION_TTL_S", DEFAULT_RESERVATION_TTL_S)
    expires = now + timedelta(seconds=ttl)
    fast = _fast_hold(
        tenant.pk, key, month, amount_micros, agent_id, agent_limit_cents, run_id, now, expires
    )
    if fast is not None:
        return fast
    existing = Reservation.objects.filter(key=key).first()
    if existing is not None and existing.status != ReservationStatus.EXPIRED:
        return existing
    limits = _limits(tenant.pk, agent_id, agent_limit_cents)
    values: dict[str, Any] = {
        "agent_id": agent_id,
        "run_id": run_id,
        "month": month,
        "amount_micros": amount_micros,
        "status": ReservationStatus.HELD,
        "expires_at": expires,
    }
    for attempt in range(2):
        with transaction.atomic():
            if _take(tenant.pk, month, limits, amount_micros) == len(limits):
                return _hold(tenant.pk, key, existing, values)
            transaction.set_rollback(True)  # a row that took it gives it back
        if attempt == 0:  # this month's rows may not exist yet
            BudgetPeriod.objects.bulk_create(
                [
                    BudgetPeriod(tenant_id=tenant.pk, agent_id=lim.agent_id, month=month)
                    for lim in limits
                ],
                ignore_conflicts=True,
            )
    raise _refusal(tenant.pk, month, limits, amount_micros, now)


# The common case in one statement (PostgreSQL): lock the month's rows that have room for
# `amount`, and only if all of them do and the key is new, add the hold to each and insert
# the reservation. A row another caller changed meanwhile is re-checked on its newest
# version (SELECT ... FOR UPDATE under READ COMMITTED), and the UPDATE adds to the current
# value. Anything else (first call of the month, a replayed key, no room) returns no id and
# takes the general path.
FAST_HOLD_SQL = """
WITH lim AS (
    SELECT (SELECT limit_cents::bigint * %(per_cent)s FROM billing_budget WHERE tenant_id = %(t)s)
               AS company,
           COALESCE((SELECT soft_pct FROM billing_budget WHERE tenant_id = %(t)s), 80) AS soft
), fit AS (
    SELECT p.id FROM billing_budgetperiod p, lim
    WHERE p.tenant_id = %(t)s AND p.month = %(m)s AND (
        (p.agent_id = 0 AND (lim.company IS NULL
            OR p.spent_micros + p.reserved_micros + %(a)s <= lim.company))
        OR (p.agent_id = %(ag)s AND (%(al)s::bigint IS NULL
            OR p.spent_micros + p.reserved_micros + %(a)s <= %(al)s::bigint)))
    ORDER BY p.id FOR UPDATE OF p
), ok AS (
    SELECT (SELECT count(*) FROM fit) = %(n)s AND NOT EXISTS (
        SELECT 1 FROM billing_reservation WHERE tenant_id = %(t)s AND key = %(k)s) AS ok
), upd AS (
    UPDATE billing_budgetperiod p SET
        reserved_micros = p.reserved_micros + %(a)s,
        limit_micros = CASE WHEN p.agent_id = 0 THEN lim.company ELSE %(al)s::bigint END,
        soft_pct = CASE WHEN p.agent_id = 0 THEN lim.soft ELSE 80 END
    FROM lim, ok WHERE ok.ok AND p.id IN (SELECT id FROM fit)
    RETURNING p.id
), ins AS (
    INSERT INTO billing_reservation
        (tenant_id, key, agent_id, run_id, month, amount_micros, status, expires_at,
         created_at, settled_at)
    SELECT %(t)s, %(k)s, %(ag)s, %(run)s, %(m)s, %(a)s, 'held', %(exp)s, %(now)s, NULL
    FROM ok WHERE ok.ok
    RETURNING id
)
SELECT (SELECT id FROM ins), (SELECT count(*) FROM upd)
"""


def _fast_hold(
    tenant_id: int,
    key: str,
    month: date,
    amount: int,
    agent_id: int | None,
    agent_limit_cents: int | None,
    run_id: int | None,
    now: datetime,
    expires: datetime,
) -> Reservation | None:
    if connection.vendor != "postgresql":
        return None
    params = {
        "per_cent": MICROS_PER_CENT,
        "t": tenant_id,
        "m": month,
        "a": amount,
        "ag": agent_id,
        "al": agent_limit_cents * MICROS_PER_CENT if agent_limit_cents is not None else None,
        "n": 1 if agent_id is None else 2,
        "k": key,
        "run": run_id,
        "exp": expires,
        "now": now,
    }
    with connection.cursor() as cursor:
        cursor.execute(FAST_HOLD_SQL, params)
        pk, _ = cursor.fetchone()
    if pk is None:
        return None
    held = Reservation(
        pk=pk,
        tenant_id=tenant_id,
        key=key,
        agent_id=agent_id,
        run_id=run_id,
        month=month,
        amount_micros=amount,
        status=ReservationStatus.HELD,
        expires_at=expires,
        created_at=now,
    )
    held._state.adding, held._state.db = False, connection.alias
    return held


def _hold(
    tenant_id: int, key: str, existing: Reservation | None, values: dict[str, Any]
) -> Reservation:
    if existing is None:
        return Reservation.objects.create(tenant_id=tenant_id, key=key, **values)
    Reservation.objects.filter(pk=existing.pk, status=ReservationStatus.EXPIRED).update(**values)
    existing.refresh_from_db()
    return existing


def _refusal(
    tenant_id: int, month: date, limits: list[Limit], amount: int, now: datetime
) -> BudgetExceeded:
    """Record the refusal on the budget(s) without room; the error to raise."""
    for limit in limits:
        if limit.limit_micros is None:
            continue
        rows = BudgetPeriod.objects.filter(tenant_id=tenant_id, month=month).filter(
            Q(agent_id=limit.agent_id) & ~_fits(limit, amount)
        )
        if rows.update(exceeded_at=now):
            who = "company" if limit.agent_id == TENANT_WIDE else "agent"
            return BudgetExceeded(who=who, limit_micros=limit.limit_micros, month=month)
    return BudgetExceeded(who="company", limit_micros=limits[0].limit_micros or 0, month=month)


def _periods(reservation: Reservation) -> Q:
    ids = [TENANT_WIDE] if reservation.agent_id is None else [TENANT_WIDE, reservation.agent_id]
    return Q(tenant_id=reservation.tenant_id, month=reservation.month, agent_id__in=ids)


def _soft_reached(cost: int, now: datetime) -> Coalesce:
    """soft_reached_at, stamped by the settlement that brings spend to the soft share."""
    reached = Q(limit_micros__isnull=False) & Q(
        spent_micros__gte=F("limit_micros") * F("soft_pct") / 100 - cost
    )
    return Coalesce(
        F("soft_reached_at"),
        Case(When(reached, then=Value(now)), default=None, output_field=DateTimeField()),
    )


def budget_settle(
    *,
    reservation: Reservation,
    cost_micros: int,
    usage: UsageFacts | None,
    now: datetime | None = None,
) -> bool:
    """Replace the reservation by the call's real cost (0 for a call that failed) and
    write its UsageEvent, together. False when it was settled already (a replay). A
    reservation that expired meanwhile gave its hold back already: only the cost counts."""
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        won = _fast_settle(reservation, cost_micros, usage, now)
        if won:
            reservation.status = ReservationStatus.SETTLED
        return won
    with transaction.atomic():
        held = reservation.amount_micros
        for status in (ReservationStatus.HELD, ReservationStatus.EXPIRED):
            if Reservation.objects.filter(pk=reservation.pk, status=status).update(
                status=ReservationStatus.SETTLED, settled_at=now
            ):
                break
            held = 0  # expired: the sweep gave the hold back already
        else:
            return False
        BudgetPeriod.objects.filter(_periods(reservation)).update(
            reserved_micros=F("reserved_micros") - held,
            spent_micros=F("spent_micros") + cost_micros,
            soft_reached_at=_soft_reached(cost_micros, now),
        )
        if usage is not None:
            UsageEvent.objects.bulk_create(
                [
                    UsageEvent(
                        tenant_id=reservation.tenant_id,
                        key=reservation.key,
                        agent_id=reservation.agent_id,
                        run_id=reservation.run_id,
                        cost_micros=cost_micros,
                        created_at=now,
                        **usage.__dict__,
                    )
                ],
                ignore_conflicts=True,
            )
    reservation.status = ReservationStatus.SETTLED
    return True


# Settlement in one statement (PostgreSQL): claim the reservation (held or expired, read
# under its row lock, so the sweep and a settlement never both give a hold back), move its
# hold to the real cost on its month's counters and write the usage row.
FAST_SETTLE_SQL = """
WITH old AS (
    SELECT id, status FROM billing_reservation
    WHERE id = %(id)s AND status IN ('held', 'expired') FOR UPDATE
), won AS (
    UPDATE billing_reservation r SET status = 'settled', settled_at = %(now)s
    FROM old WHERE r.id = old.id
    RETURNING old.status AS was
), per AS (
    UPDATE billing_budgetperiod p SET
        reserved_micros = p.reserved_micros
            - CASE WHEN won.was = 'held' THEN %(held)s ELSE 0 END,
        spent_micros = p.spent_micros + %(cost)s,
        soft_reached_at = COALESCE(p.soft_reached_at, CASE
            WHEN p.limit_micros IS NOT NULL
                AND (p.spent_micros + %(cost)s) * 100 >= p.limit_micros * p.soft_pct
            THEN %(now)s::timestamptz END)
    FROM won
    WHERE p.tenant_id = %(t)s AND p.month = %(m)s AND p.agent_id IN (0, %(ag)s)
    RETURNING 1
), ins AS (
    INSERT INTO billing_usageevent
        (tenant_id, key, run_id, cost_micros, created_at, agent_id, provider, model,
         auth_profile, input_tokens, output_tokens, cached_tokens, unpriced, fell_back,
         attempts, latency_ms, session_id)
    SELECT %(t)s, %(k)s, %(run)s, %(cost)s, %(now)s, %(ag)s, %(provider)s, %(model)s,
        %(auth_profile)s, %(input_tokens)s, %(output_tokens)s, %(cached_tokens)s,
        %(unpriced)s, %(fell_back)s, %(attempts)s, %(latency_ms)s, %(session_id)s
    FROM won WHERE %(record)s
    ON CONFLICT (tenant_id, key) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM won), (SELECT count(*) FROM per), (SELECT count(*) FROM ins)
"""


def _fast_settle(
    reservation: Reservation, cost: int, usage: UsageFacts | None, now: datetime
) -> bool:
    params = {
        **(usage or UsageFacts()).__dict__,
        "id": reservation.pk,
        "now": now,
        "held": reservation.amount_micros,
        "cost": cost,
        "t": reservation.tenant_id,
        "m": reservation.month,
        "ag": reservation.agent_id,
        "k": reservation.key,
        "run": reservation.run_id,
        "record": usage is not None,
    }
    with connection.cursor() as cursor:
        cursor.execute(FAST_SETTLE_SQL, params)
        won, _, _ = cursor.fetchone()
    return bool(won)


def budget_release(*, reservation: Reservation) -> bool:
    """The call failed without a billable answer: give the whole hold back."""
    return budget_settle(reservation=reservation, cost_micros=0, usage=None)


def reservations_expire(*, now: datetime | None = None, batch: int = 500) -> int:
    """Give back the holds of calls that never settled (their worker died), across
    tenants; each one a compare-and-set, so a late settlement and the sweep never both
    give the same hold back. Returns how many expired."""
    now = now or timezone.now()
    stale = list(
        Reservation.objects.unscoped()
        .filter(status=ReservationStatus.HELD, expires_at__lt=now)
        .order_by("expires_at")[:batch]
    )
    expired = 0
    for reservation in stale:
        with transaction.atomic():
            if (
                not Reservation.objects.unscoped()
                .filter(pk=reservation.pk, status=ReservationStatus.HELD)
                .update(status=ReservationStatus.EXPIRED)
            ):
                continue
            BudgetPeriod.objects.unscoped().filter(_periods(reservation)).update(
                reserved_micros=F("reserved_micros") - reservation.amount_micros
            )
        expired += 1
    return expired


def budget_set(
    *, tenant: Tenant, limit_cents: int, soft_pct: int = 80, actor_user: Any = None
) -> Budget:
    """Set the tenant's monthly budget (audited). Raises ValidationError on nonsense
    (negative, above MAX_BUDGET_CENTS, soft share outside 1-100); nothing is written then.
    A raise tells the floors above at commit (paused-by-budget agents may resume)."""
    with transaction.atomic():
        budget = Budget.objects.select_for_update().filter(tenant_id=tenant.pk).first()
        before = (
            {"limit_cents": budget.limit_cents, "soft_pct": budget.soft_pct} if budget else None
        )
        budget = budget or Budget(tenant_id=tenant.pk)
        budget.limit_cents, budget.soft_pct = limit_cents, soft_pct
        budget.full_clean(exclude=["tenant"])
        budget.save()
        audit_record(
            tenant=tenant,
            verb="budget.set",
            target=budget,
            actor_user=actor_user,
            before=before,
            after={"limit_cents": limit_cents, "soft_pct": soft_pct},
        )
        if before is None or limit_cents > before["limit_cents"]:
            transaction.on_commit(lambda: budget_room.send(sender=Budget, tenant_id=tenant.pk))
    return budget
