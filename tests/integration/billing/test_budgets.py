"""Budgets in one process: reserve the maximum, settle the real cost, refuse what does
not fit, replays charged once, crashed holds expire, months in the tenant's time zone,
raises validated and audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from billing.models import Budget, BudgetPeriod, Reservation, ReservationStatus, UsageEvent
from billing.models.budgets import TENANT_WIDE
from billing.selectors import budget_has_room
from billing.services.budgets import (
    BudgetExceeded,
    UsageFacts,
    budget_release,
    budget_reserve,
    budget_set,
    budget_settle,
    month_of,
    reservations_expire,
)
from tenants.models import AuditEvent
from tenants.scope import tenant_scope

pytestmark = pytest.mark.django_db
CENT = 10_000  # micro-USD


@pytest.fixture
def tenant(cast):
    with tenant_scope(cast.tenant):
        budget_set(tenant=cast.tenant, limit_cents=100)  # 1 USD
        yield cast.tenant


def _period(tenant, agent_id=TENANT_WIDE) -> BudgetPeriod:
    return BudgetPeriod.objects.get(tenant=tenant, agent_id=agent_id)


def test_reserve_then_settle_to_the_real_cost_with_a_usage_event(tenant):
    held = budget_reserve(tenant=tenant, key="k1", amount_micros=30 * CENT, agent_id=7, run_id=3)
    assert _period(tenant).reserved_micros == 30 * CENT
    assert _period(tenant, 7).reserved_micros == 30 * CENT
    facts = UsageFacts(provider="zhipu", model="glm-4.7", input_tokens=900, output_tokens=50)
    assert budget_settle(reservation=held, cost_micros=2 * CENT, usage=facts)
    for agent_id in (TENANT_WIDE, 7):
        period = _period(tenant, agent_id)
        assert (period.reserved_micros, period.spent_micros) == (0, 2 * CENT)
    event = UsageEvent.objects.get(key="k1")
    assert (event.agent_id, event.run_id, event.cost_micros, event.model) == (
        7,
        3,
        2 * CENT,
        "glm-4.7",
    )


def test_a_call_that_does_not_fit_is_refused_and_nothing_is_held(tenant):
    budget_reserve(tenant=tenant, key="a", amount_micros=70 * CENT)
    with pytest.raises(BudgetExceeded) as refused:
        budget_reserve(tenant=tenant, key="b", amount_micros=31 * CENT)
    assert refused.value.who == "company"
    period = _period(tenant)
    assert period.reserved_micros == 70 * CENT and period.exceeded_at is not None
    assert not Reservation.objects.filter(key="b").exists()
    budget_reserve(tenant=tenant, key="c", amount_micros=30 * CENT)  # exactly full fits


def test_the_agents_own_limit_refuses_while_the_company_has_room(tenant):
    budget_reserve(tenant=tenant, key="a", amount_micros=8 * CENT, agent_id=5, agent_limit_cents=10)
    with pytest.raises(BudgetExceeded) as refused:
        budget_reserve(
            tenant=tenant, key="b", amount_micros=3 * CENT, agent_id=5, agent_limit_cents=10
        )
    assert refused.value.who == "agent"
    assert _period(tenant).reserved_micros == 8 * CENT  # the company row gave it back
    budget_reserve(tenant=tenant, key="c", amount_micros=3 * CENT, agent_id=6, agent_limit_cents=10)


def test_a_replayed_call_is_charged_once(tenant):
    first = budget_reserve(tenant=tenant, key="run-1-step-1", amount_micros=10 * CENT)
    again = budget_reserve(tenant=tenant, key="run-1-step-1", amount_micros=10 * CENT)
    assert again.pk == first.pk and _period(tenant).reserved_micros == 10 * CENT
    assert budget_settle(reservation=first, cost_micros=CENT, usage=UsageFacts())
    replay = budget_reserve(tenant=tenant, key="run-1-step-1", amount_micros=10 * CENT)
    assert replay.status == ReservationStatus.SETTLED
    assert not budget_settle(reservation=replay, cost_micros=CENT, usage=UsageFacts())
    assert not budget_release(reservation=replay)
    period = _period(tenant)
    assert (period.spent_micros, period.reserved_micros) == (CENT, 0)
    assert UsageEvent.objects.filter(key="run-1-step-1").count() == 1


def test_a_failed_call_gives_its_hold_back(tenant):
    held = budget_reserve(tenant=tenant, key="x", amount_micros=50 * CENT)
    assert budget_release(reservation=held)
    period = _period(tenant)
    assert (period.spent_micros, period.reserved_micros) == (0, 0)
    assert not UsageEvent.objects.filter(key="x").exists()


def test_a_crashed_calls_hold_expires_and_a_late_settlement_still_counts_once(tenant):
    past = datetime.now(UTC) - timedelta(hours=2)
    held = budget_reserve(tenant=tenant, key="crashed", amount_micros=90 * CENT, now=past)
    with pytest.raises(BudgetExceeded):
        budget_reserve(tenant=tenant, key="blocked", amount_micros=20 * CENT)
    assert reservations_expire() == 1
    assert reservations_expire() == 0
    assert _period(tenant).reserved_micros == 0
    assert Reservation.objects.get(key="crashed").status == ReservationStatus.EXPIRED
    budget_reserve(tenant=tenant, key="now-fits", amount_micros=20 * CENT)
    # The crashed worker's call did answer: its late settlement counts the cost only.
    assert budget_settle(reservation=held, cost_micros=5 * CENT, usage=UsageFacts())
    period = _period(tenant)
    assert (period.spent_micros, period.reserved_micros) == (5 * CENT, 20 * CENT)


def test_a_replay_of_an_expired_hold_takes_it_again(tenant):
    past = datetime.now(UTC) - timedelta(hours=2)
    budget_reserve(tenant=tenant, key="k", amount_micros=40 * CENT, now=past)
    reservations_expire()
    again = budget_reserve(tenant=tenant, key="k", amount_micros=40 * CENT)
    assert again.status == ReservationStatus.HELD and _period(tenant).reserved_micros == 40 * CENT


def test_the_soft_threshold_is_recorded_when_spend_reaches_it(tenant):
    held = budget_reserve(tenant=tenant, key="a", amount_micros=79 * CENT)
    budget_settle(reservation=held, cost_micros=79 * CENT, usage=UsageFacts())
    assert _period(tenant).soft_reached_at is None
    held = budget_reserve(tenant=tenant, key="b", amount_micros=CENT)
    budget_settle(reservation=held, cost_micros=CENT, usage=UsageFacts())
    reached = _period(tenant).soft_reached_at
    assert reached is not None
    held = budget_reserve(tenant=tenant, key="c", amount_micros=CENT)
    budget_settle(reservation=held, cost_micros=CENT, usage=UsageFacts())
    assert _period(tenant).soft_reached_at == reached  # stamped once


def test_the_month_rolls_over_at_midnight_in_the_tenants_time_zone(tenant):
    tenant.timezone = "America/Los_Angeles"
    tenant.save()
    # 31 Jan 23:30 in Los Angeles is already 1 Feb in UTC: still January's budget.
    late_january = datetime(2026, 2, 1, 7, 30, tzinfo=UTC)
    assert month_of(tz=tenant.timezone, at=late_january) == date(2026, 1, 1)
    held = budget_reserve(tenant=tenant, key="jan", amount_micros=100 * CENT, now=late_january)
    budget_settle(reservation=held, cost_micros=100 * CENT, usage=UsageFacts())
    with pytest.raises(BudgetExceeded):
        budget_reserve(
            tenant=tenant, key="jan-2", amount_micros=CENT, now=late_january + timedelta(minutes=29)
        )
    assert not budget_has_room(tenant=tenant, now=late_january)
    february = late_january + timedelta(minutes=31)  # 1 Feb 00:01 in Los Angeles
    assert budget_has_room(tenant=tenant, now=february)
    budget_reserve(tenant=tenant, key="feb", amount_micros=CENT, now=february)
    months = set(BudgetPeriod.objects.filter(tenant=tenant).values_list("month", flat=True))
    assert months == {date(2026, 1, 1), date(2026, 2, 1)}


@pytest.mark.parametrize(
    "limit,soft,field",
    [(-1, 80, "limit_cents"), (10**9, 80, "limit_cents"), (100, 0, "soft_pct")],
)
def test_nonsense_budgets_are_refused_and_nothing_is_written(tenant, cast, limit, soft, field):
    with pytest.raises(ValidationError) as refused:
        budget_set(tenant=tenant, limit_cents=limit, soft_pct=soft, actor_user=cast.owner)
    assert field in refused.value.message_dict
    assert Budget.objects.get(tenant=tenant).limit_cents == 100
    assert not AuditEvent.objects.filter(verb="budget.set", actor_user=cast.owner).exists()


def test_a_raise_is_audited_with_before_and_after(tenant, cast):
    budget_set(tenant=tenant, limit_cents=250, actor_user=cast.owner)
    event = AuditEvent.objects.filter(verb="budget.set").order_by("-id").first()
    assert event.before == {"limit_cents": 100, "soft_pct": 80}
    assert event.after == {"limit_cents": 250, "soft_pct": 80}
    assert event.actor_user == cast.owner


def test_negative_reservations_are_a_programming_error(tenant):
    with pytest.raises(ValueError):
        budget_reserve(tenant=tenant, key="neg", amount_micros=-1)


def test_on_postgresql_reserve_and_settle_are_one_statement_each(tenant, django_assert_num_queries):
    from django.db import connection

    budget_reserve(tenant=tenant, key="first", amount_micros=CENT, agent_id=3)
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement path is PostgreSQL's")
    with django_assert_num_queries(1):
        held = budget_reserve(tenant=tenant, key="second", amount_micros=CENT, agent_id=3)
    assert Reservation.objects.get(pk=held.pk).status == ReservationStatus.HELD
    assert _period(tenant, 3).reserved_micros == 2 * CENT == _period(tenant).reserved_micros
    with django_assert_num_queries(1):
        assert budget_settle(reservation=held, cost_micros=300, usage=UsageFacts(model="m"))
    assert UsageEvent.objects.get(key="second").cost_micros == 300
    for agent_id in (TENANT_WIDE, 3):
        assert (
            _period(tenant, agent_id).reserved_micros,
            _period(tenant, agent_id).spent_micros,
        ) == (
            CENT,
            300,
        )
