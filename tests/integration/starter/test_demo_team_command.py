"""`manage.py orion_demo_team`: the sandbox provider, keys and chain, the demo tenant's
starter team with its first heartbeats due now; idempotent; never touches what staff
configured; and, against a real sandbox server, heartbeats that succeed with failover."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from agents.models import (
    Agent,
    AuthProfile,
    ChainCandidate,
    FailoverAttempt,
    Goal,
    ModelChain,
    Provider,
    Run,
    RunStatus,
    Task,
    TaskStatus,
)
from agents.services.dispatch import dispatch_due
from agents.services.heartbeat import heartbeat_execute
from orion.sandbox import SandboxServer
from tenants.management.commands.orion_demo import OWNER_EMAIL
from tenants.scope import tenant_scope
from tenants.services.tenants import tenant_create_for_owner
from tests.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)
URL = "http://127.0.0.1:8099/v1"


@pytest.fixture
def demo(db):
    owner = make_user(OWNER_EMAIL)
    return tenant_create_for_owner(name="Demo Bakery", owner=owner, timezone="Europe/Amsterdam")


def _run(url: str = URL) -> str:
    out = StringIO()
    call_command("orion_demo_team", "--sandbox-url", url, stdout=out)
    return out.getvalue()


def _counts(tenant) -> tuple[int, ...]:
    with tenant_scope(tenant):
        team = (Agent.objects.count(), Goal.objects.count(), Task.objects.count())
    config = (
        Provider.objects.count(),
        AuthProfile.objects.count(),
        ModelChain.objects.count(),
        ChainCandidate.objects.count(),
    )
    return team + config


def test_first_run_makes_the_sandbox_the_default_and_the_team_due_now(demo):
    before = timezone.now()
    out = _run()
    provider = Provider.objects.get(name="sandbox")
    assert (provider.kind, provider.base_url) == ("openai", URL)
    keys = list(AuthProfile.objects.filter(provider=provider).order_by("priority"))
    assert [k.label for k in keys] == ["sandbox-key-1", "sandbox-key-2"]
    assert all(k.secret.reveal().startswith("sandbox-key-not-a-secret") for k in keys)
    chain = ModelChain.objects.get(name="sandbox")
    assert chain.is_default
    assert [(c.provider.name, c.model) for c in chain.candidates.order_by("position")] == [
        ("sandbox", "sandbox-large"),
        ("sandbox", "sandbox-small"),
    ]
    demo.refresh_from_db()
    assert demo.mission
    with tenant_scope(demo):
        agents = list(Agent.objects.all())
        assert len(agents) == 5
        # The team follows the platform default (the sandbox now; real keys once staff
        # make a real chain the default).
        assert {a.model_chain_id for a in agents} == {None}
        assert all(
            before <= a.next_heartbeat_at <= timezone.now() + timedelta(seconds=5) for a in agents
        )
    assert "Cora, Iris, Webb, Maya, Remy (new" in out and "sandbox" in out


def test_a_second_run_duplicates_nothing_and_follows_the_new_url(demo):
    _run()
    counts = _counts(demo)
    out = _run("http://127.0.0.1:8123/v1/")
    assert _counts(demo) == counts
    assert Provider.objects.get(name="sandbox").base_url == "http://127.0.0.1:8123/v1"
    assert "already there" in out


def test_what_staff_configured_is_never_touched(demo):
    real = Provider.objects.create(
        name="openai", kind="openai", base_url="https://api.openai.com/v1"
    )
    key = AuthProfile.objects.create(provider=real, label="prod", secret="sk-real-key-0001")
    prod = ModelChain.objects.create(name="prod", is_default=True)
    ChainCandidate.objects.create(chain=prod, position=1, provider=real, model="gpt-4o-mini")
    _run()
    prod.refresh_from_db()
    real.refresh_from_db()
    key.refresh_from_db()
    assert prod.is_default and not ModelChain.objects.get(name="sandbox").is_default
    assert real.base_url == "https://api.openai.com/v1"
    assert key.secret.reveal() == "sk-real-key-0001"
    assert list(prod.candidates.values_list("model", flat=True)) == ["gpt-4o-mini"]
    # A sandbox chain staff edited keeps its candidates too.
    sandbox = ModelChain.objects.get(name="sandbox")
    sandbox.candidates.filter(position=2).delete()
    _run()
    assert list(sandbox.candidates.values_list("model", flat=True)) == ["sandbox-large"]


def test_no_demo_tenant_is_a_clear_error(db):
    with pytest.raises(CommandError, match="run `orion_demo` first"):
        _run()
    assert not Provider.objects.filter(name="sandbox").exists()


def test_a_bad_url_is_a_clear_error_with_nothing_written(demo):
    with pytest.raises(CommandError, match=r"sandbox provider: .*valid URL"):
        _run("not a url")
    assert not Provider.objects.filter(name="sandbox").exists()
    with tenant_scope(demo):
        assert not Agent.objects.exists()


def _work(tenant, ticks: int = 12) -> list[Run]:
    """Dispatch due agents and run their heartbeats in this process, like the worker."""
    done: list[Run] = []
    for _ in range(ticks):
        queued: list[Run] = []
        dispatch_due(enqueue=queued.append)
        if not queued:
            break
        for run in queued:
            with tenant_scope(run.tenant_id):
                heartbeat_execute(run_id=run.pk, owner="test-worker")
                done.append(Run.objects.get(pk=run.pk))
    return done


def test_the_demo_team_works_on_the_sandbox_with_failover(demo):
    """The issue's "done when", in-process: runs succeed, attempts and a fallback recorded."""
    with SandboxServer() as sandbox:
        _run(sandbox.base_url)
        runs = _work(demo)
    assert runs and {r.status for r in runs} == {RunStatus.SUCCEEDED}
    with tenant_scope(demo):
        tasks = dict(Task.objects.values_list("title", "status"))
        assert tasks["Draft this week's social post"] == TaskStatus.IN_REVIEW
        assert set(tasks.values()) == {TaskStatus.DONE, TaskStatus.IN_REVIEW}
        attempts = list(FailoverAttempt.objects.values_list("model", "status", "http_status"))
        assert ("sandbox-large", "failed", 429) in attempts
        assert ("sandbox-large", "failed", 503) in attempts
        fell_back = Run.objects.filter(fell_back=True, answered_model="sandbox-small")
        assert fell_back.exists()
    assert sandbox.faults_sent >= 6  # 3 tries of the rate-limited key, 3 of the overload
