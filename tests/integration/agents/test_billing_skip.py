"""Billing stops the agents: once a payment is past due beyond its grace period, every
heartbeat of the tenant is skipped with the reason recorded, before any model call."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import Agent, RunStatus
from agents.services.work import task_create
from billing.models import BillingAccount, SubscriptionStatus
from tenants.scope import tenant_scope
from tests.integration.control_plane import conftest as control_plane

pytestmark = pytest.mark.django_db(transaction=True)
chain, llm, runner, team = (
    control_plane.chain, control_plane.llm, control_plane.runner, control_plane.team,
)  # fmt: skip


def _due_now(agent: Agent) -> None:
    Agent.objects.unscoped().filter(pk=agent.pk).update(
        next_heartbeat_at=timezone.now() - timedelta(seconds=1)
    )


def _past_due(tenant, *, grace_left: timedelta) -> None:
    with tenant_scope(tenant):
        BillingAccount.objects.update_or_create(
            tenant_id=tenant.pk,
            defaults={
                "status": SubscriptionStatus.PAST_DUE,
                "grace_until": timezone.now() + grace_left,
            },
        )


@pytest.mark.parametrize(
    ("grace_left", "skipped"), [(timedelta(hours=1), False), (timedelta(seconds=-1), True)]
)
def test_heartbeats_run_in_the_grace_period_and_are_skipped_after_it(
    team, llm, runner, grace_left, skipped
):
    with tenant_scope(team.tenant):
        task_create(title="Write the newsletter", assignee=team.writer)
    _past_due(team.tenant, grace_left=grace_left)
    _due_now(team.writer)
    done = runner.tick()
    assert [run.agent_id for run in done] == [team.writer.pk]
    run = done[0]
    if skipped:
        assert run.status == RunStatus.SKIPPED
        assert run.reason.startswith("billing: payment past due, grace period ended")
        assert llm.chat_requests == []
    else:
        assert run.status == RunStatus.SUCCEEDED and len(llm.chat_requests) >= 1


def test_another_companys_billing_does_not_stop_ours(team, llm, runner, cast):
    _past_due(cast.other_tenant, grace_left=timedelta(days=-1))
    with tenant_scope(team.tenant):
        task_create(title="Write the newsletter", assignee=team.writer)
    _due_now(team.writer)
    assert [run.status for run in runner.tick()] == [RunStatus.SUCCEEDED]
