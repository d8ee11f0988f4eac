"""Every control-plane admin page: open for staff, closed to everyone else, and bounded in
queries however many rows there are."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.models import AgentApiKey, ModelCall
from agents.services.agents import agent_create
from tenants.scope import tenant_scope
from tests.integration.control_admin.conftest import A, history_add, run_with_history, text

pytestmark = pytest.mark.django_db

MODELS = ["agent", "goal", "task", "comment", "run", "session", "agentapikey"]
READ_ONLY = ["comment", "run", "session", "agentapikey"]


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, text(response)[:2000]
    return len(ctx.captured_queries)


@pytest.mark.parametrize("model", MODELS)
def test_staff_open_every_changelist_and_detail(staff, world, model, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = staff.get(f"{A}/{model}/")
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1
    with django_assert_max_num_queries(20):
        response = staff.get(f"{A}/{model}/{world.row(model).pk}/change/")
    assert response.status_code == 200, text(response)[:3000]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("role", ["owner", "admin", "member", "viewer", "outsider"])
def test_non_staff_are_redirected_to_the_admin_login(client_as, world, model, role):
    for url in (f"{A}/{model}/", f"{A}/{model}/{world.row(model).pk}/change/"):
        response = client_as(role).get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_anonymous_is_redirected_too(client, world):
    response = client.get(f"{A}/run/{world.run.pk}/change/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("model", READ_ONLY)
def test_records_are_read_only(staff, world, model):
    row = world.row(model)
    body = text(staff.get(f"{A}/{model}/{row.pk}/change/"))
    assert 'name="_save"' not in body
    assert staff.post(f"{A}/{model}/{row.pk}/change/", {}).status_code == 403
    assert staff.get(f"{A}/{model}/add/").status_code == 403
    assert staff.post(f"{A}/{model}/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert type(row).objects.unscoped().filter(pk=row.pk).exists()


def test_agent_list_shows_state_schedule_and_chain(staff, world):
    response = staff.get(f"{A}/agent/")
    rows = {a.name: a for a in response.context["cl"].result_list}
    assert {"Max", "Cora", "Gus"} <= set(rows)  # every tenant's agents
    body = text(response)
    for column in ("Tenant", "Role", "Status", "Pause reason", "Next heartbeat at", "Model chain"):
        assert column in body
    assert "Acme Plumbing" in body and "Globex Bakery" in body
    filtered = staff.get(f"{A}/agent/?status__exact=paused")
    assert filtered.context["cl"].result_count == 0


def test_run_page_shows_transcript_tool_calls_and_every_attempt(staff, cast, world):
    other = run_with_history(cast.tenant, world.boss)
    body = text(staff.get(f"{A}/run/{world.run.pk}/change/"))
    for thing in (
        world.run.summary,
        "claude-haiku",  # the model that answered
        f"line {world.run.pk}.1",  # the transcript
        "task_comment",  # the tool call
        '"body": "done"',  # its arguments
        f"run-{world.run.pk}-step-1",  # the model call
        "zhipu/glm-4.7",  # the failed attempt's model
        "rate_limit",  # its error class
        "429",  # its HTTP status
        "main",  # which key
        "24",  # how long the second try took (ms)
        "probe",
    ):
        assert thing in body, thing
    assert f"run-{other.pk}-step-1" not in body  # only this run's calls
    assert f"line {other.pk}.1" not in body
    assert body.index("#1 (try 1)") < body.index("#2 (try 1)")


def test_run_page_queries_do_not_grow_with_steps(staff, world):
    url = f"{A}/run/{world.run.pk}/change/"
    few = _queries(staff, url)
    for step in range(2, 9):
        history_add(world.run, step=step)
    assert ModelCall.objects.unscoped().filter(run=world.run).count() == 8
    body = text(staff.get(url))
    assert f"run-{world.run.pk}-step-8" in body and f"line {world.run.pk}.8" in body
    assert _queries(staff, url) == few


def _more(cast, n: int, offset: int) -> None:
    """n more agents (and a run, a key, a session each) in both tenants."""
    from agents.services.api_keys import api_key_create
    from agents.services.work import comment_create, goal_create, task_create

    for i in range(offset, offset + n):
        tenant = cast.tenant if i % 2 else cast.other_tenant
        with tenant_scope(tenant):
            agent = agent_create(tenant=tenant, name=f"agent-{i}", role="admin")
            goal = goal_create(title=f"goal {i}", owner=agent)
            task = task_create(title=f"task {i}", assignee=agent, goal=goal)
            comment_create(task=task, body=f"comment {i}", actor_agent=agent)
            run_with_history(tenant, agent, task=task)
            api_key_create(agent=agent)


@pytest.mark.parametrize("model", MODELS)
def test_changelists_do_not_query_per_row(staff, cast, world, model):
    _more(cast, 2, 0)
    few = _queries(staff, f"{A}/{model}/")
    _more(cast, 12, 2)
    assert _queries(staff, f"{A}/{model}/") == few


def test_agent_api_key_hash_is_never_shown(staff, world):
    key = AgentApiKey.objects.unscoped().get(pk=world.key.pk)
    for url in (f"{A}/agentapikey/", f"{A}/agentapikey/{key.pk}/change/"):
        body = text(staff.get(url))
        assert key.key_hash not in body
        assert "key_hash" not in body and "Key hash" not in body
        assert key.prefix in body


def test_task_page_lists_its_comments_read_only(staff, world):
    body = text(staff.get(f"{A}/task/{world.task.pk}/change/"))
    assert "Please keep it short" in body
    assert "owner@acme.test" in body
    assert 'name="comments-0-body"' not in body


def test_session_page_lists_its_messages(staff, world):
    body = text(staff.get(f"{A}/session/{world.session.pk}/change/"))
    assert "line " in body


def test_agent_page_links_to_its_runs(staff, world):
    body = text(staff.get(f"{A}/agent/{world.agent.pk}/change/"))
    link = f"{A}/run/?agent__id__exact={world.agent.pk}"
    assert link in body
    response = staff.get(link)
    assert [r.pk for r in response.context["cl"].result_list] == [world.run.pk]
    assert "rate_limit" not in text(response)  # the list stays a list: no attempts in it
