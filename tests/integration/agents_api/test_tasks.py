"""/api/v1/tasks/: the fixed cast, filters, other companies' rows, checkout (409 on
conflict), release, comments and mentions, a task's context, bounded queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import Agent, Comment, Run, RunStatus, SessionMessage, Task
from agents.services.agents import agent_pause
from agents.services.work import comment_create, task_create
from tenants.models import AuditEvent
from tenants.scope import tenant_scope

from .conftest import EVERYONE, ROLES

pytestmark = pytest.mark.django_db
MEMBER_CREATE = {"owner": 201, "admin": 201, "member": 201, "viewer": 403}
MEMBER_WRITE = {"owner": 200, "admin": 200, "member": 200, "viewer": 403, "outsider": 404}


def _live_run(agent, *, lease_s: int = 600) -> Run:
    now = timezone.now()
    return Run.objects.unscoped().create(
        tenant_id=agent.tenant_id,
        agent=agent,
        status=RunStatus.RUNNING,
        lease_owner="worker-1",
        lease_until=now + timedelta(seconds=lease_s),
        started_at=now,
        last_progress_at=now,
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_member_reads_tasks(api_as, world, role):
    client = api_as(role)
    rows = client.get("/api/v1/tasks/").json()["results"]
    assert [t["title"] for t in rows] == [world.task.title]
    task = client.get(f"/api/v1/tasks/{world.task.pk}/").json()
    assert (task["assignee"], task["goal"], task["status"]) == (
        world.writer.pk,
        world.goal.pk,
        "todo",
    )


def test_task_filters(api_as, cast, world):
    with tenant_scope(cast.tenant):
        task_create(title="Plan the week", assignee=world.boss, status="backlog")
        task_create(title="Unassigned", goal=world.mission_goal)
    client = api_as("viewer")

    def titles(query):
        response = client.get(f"/api/v1/tasks/?{query}")
        assert response.status_code == 200, response.content
        return sorted(t["title"] for t in response.json()["results"])

    assert titles(f"assignee={world.boss.pk}") == ["Plan the week"]
    assert titles("status=backlog") == ["Plan the week"]
    assert titles(f"goal={world.mission_goal.pk}") == ["Unassigned"]
    assert titles(f"goal={world.goal.pk}&status=todo") == [world.task.title]
    assert titles(f"assignee={world.other_agent.pk}") == []
    assert client.get("/api/v1/tasks/?status=someday").status_code == 400
    assert client.get("/api/v1/tasks/?assignee=max").status_code == 400


def test_outsider_gets_404_for_our_tasks(api_as, world):
    client = api_as("outsider")
    assert [t["title"] for t in client.get("/api/v1/tasks/").json()["results"]] == ["Bake"]
    base = f"/api/v1/tasks/{world.task.pk}"
    for url in (f"{base}/", f"{base}/comments/", f"{base}/context/"):
        assert client.get(url).status_code == 404, url
    assert client.patch(f"{base}/", {"status": "done"}, format="json").status_code == 404
    for action in ("checkout", "release"):
        body = {"agent": world.other_agent.pk}
        assert client.post(f"{base}/{action}/", body, format="json").status_code == 404
    assert client.post(f"{base}/comments/", {"body": "hi"}, format="json").status_code == 404
    world.task.refresh_from_db()
    assert world.task.status == "todo" and world.task.checkout_run_id is None


@pytest.mark.parametrize("role", ROLES)
def test_creating_a_task_needs_member(
    api_as, cast, world, role, django_capture_on_commit_callbacks
):
    Agent.objects.unscoped().filter(pk=world.boss.pk).update(
        next_heartbeat_at=timezone.now() + timedelta(hours=1)
    )
    # In a request the service's commit runs the wake inside the view's scope; here the
    # test's transaction defers it, so it runs in the company's scope explicitly.
    with tenant_scope(cast.tenant), django_capture_on_commit_callbacks(execute=True):
        response = api_as(role).post(
            "/api/v1/tasks/",
            {"title": "Call the supplier", "assignee": world.boss.pk, "priority": 2},
            format="json",
        )
    assert response.status_code == MEMBER_CREATE[role], response.content
    created = Task.objects.unscoped().filter(title="Call the supplier").first()
    assert (created is not None) == (MEMBER_CREATE[role] == 201)
    world.boss.refresh_from_db()
    if created is not None:
        assert created.created_by_user == cast.user(role)
        assert world.boss.wake_trigger == "assignment"  # the assignee is woken
    else:
        assert world.boss.wake_trigger == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"assignee": "__other_agent__"}, "assignee"),
        ({"goal": "__other_goal__"}, "goal"),
        ({"parent": "__other_task__"}, "parent"),
        ({"blockers": ["__other_task__"]}, "blockers"),
        ({"status": "someday"}, "status"),
        ({"priority": 9}, "priority"),
        ({"title": ""}, "title"),
    ],
)
def test_bad_task_input_is_a_400_and_nothing_written(api_as, world, body, field):
    ids = {
        "__other_agent__": world.other_agent.pk,
        "__other_goal__": world.other_goal.pk,
        "__other_task__": world.other_task.pk,
    }

    def swap(value):
        if isinstance(value, list):
            return [ids.get(v, v) for v in value]
        return ids.get(value, value) if isinstance(value, str) else value

    body = {k: swap(v) for k, v in body.items()}
    tasks = Task.objects.unscoped().count()
    events = AuditEvent.objects.unscoped().count()
    response = api_as("member").post("/api/v1/tasks/", {"title": "New", **body}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    if field == "assignee":
        assert "not in this company" in str(response.json())
    before = Task.objects.unscoped().filter(pk=world.task.pk).values().get()
    response = api_as("member").patch(f"/api/v1/tasks/{world.task.pk}/", body, format="json")
    assert response.status_code == 400, response.content
    assert Task.objects.unscoped().filter(pk=world.task.pk).values().get() == before
    assert Task.objects.unscoped().count() == tasks
    assert AuditEvent.objects.unscoped().count() == events


@pytest.mark.parametrize("role", EVERYONE)
def test_patch_a_task(api_as, world, role):
    response = api_as(role).patch(
        f"/api/v1/tasks/{world.task.pk}/",
        {"status": "blocked", "blockers": []},
        format="json",
    )
    assert response.status_code == MEMBER_WRITE[role], response.content
    world.task.refresh_from_db()
    assert (world.task.status == "blocked") == (MEMBER_WRITE[role] == 200)


@pytest.mark.parametrize("role", EVERYONE)
def test_checkout_and_release_roles(api_as, world, role):
    client = api_as(role)
    url = f"/api/v1/tasks/{world.task.pk}"
    response = client.post(f"{url}/checkout/", {"agent": world.writer.pk}, format="json")
    assert response.status_code == MEMBER_WRITE[role], response.content
    world.task.refresh_from_db()
    if MEMBER_WRITE[role] != 200:
        assert world.task.checkout_run_id is None
        assert not Run.objects.unscoped().filter(agent=world.writer).exists()
        release = client.post(f"{url}/release/", {"agent": world.writer.pk})
        assert release.status_code == MEMBER_WRITE[role]
        return
    run = Run.objects.unscoped().get(pk=response.json()["run"])
    assert (run.agent_id, run.trigger, run.status) == (world.writer.pk, "manual", "running")
    assert run.lease_until > timezone.now()
    assert world.task.checkout_run_id == run.pk
    assert world.task.status == "in_progress"
    # Again: the same run answers, nothing new opened.
    again = client.post(f"{url}/checkout/", {"agent": world.writer.pk}, format="json")
    assert again.json()["run"] == run.pk
    assert Run.objects.unscoped().filter(agent=world.writer).count() == 1
    released = client.post(f"{url}/release/", {"agent": world.writer.pk}, format="json")
    assert released.json() == {"task": world.task.pk, "agent": world.writer.pk, "released": True}
    world.task.refresh_from_db()
    run.refresh_from_db()
    assert world.task.checkout_run_id is None
    assert run.status == "succeeded"  # the API-opened run ended with its last task
    with tenant_scope(world.task.tenant_id):
        verbs = list(AuditEvent.objects.filter(target_id=str(world.task.pk)).values_list("verb"))
    assert ("task.checked_out",) in verbs and ("task.released",) in verbs


def test_checkout_held_by_another_live_run_is_a_409(api_as, world):
    holder = _live_run(world.boss)
    Task.objects.unscoped().filter(pk=world.task.pk).update(checkout_run=holder)
    response = api_as("member").post(
        f"/api/v1/tasks/{world.task.pk}/checkout/", {"agent": world.writer.pk}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["holder_run"] == holder.pk
    world.task.refresh_from_db()
    assert world.task.checkout_run_id == holder.pk
    # The run opened for the losing checkout does not stay live.
    assert not Run.objects.unscoped().filter(agent=world.writer, status="running").exists()
    # Releasing for an agent that does not hold it changes nothing.
    response = api_as("member").post(
        f"/api/v1/tasks/{world.task.pk}/release/", {"agent": world.writer.pk}, format="json"
    )
    assert response.json()["released"] is False
    world.task.refresh_from_db()
    assert world.task.checkout_run_id == holder.pk


def test_a_dead_runs_lease_is_reclaimed(api_as, world):
    dead = _live_run(world.boss, lease_s=-60)
    Task.objects.unscoped().filter(pk=world.task.pk).update(checkout_run=dead)
    response = api_as("member").post(
        f"/api/v1/tasks/{world.task.pk}/checkout/", {"agent": world.writer.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    world.task.refresh_from_db()
    assert world.task.checkout_run_id == response.json()["run"] != dead.pk


def test_checkout_uses_the_agents_live_run(api_as, world):
    live = _live_run(world.writer)
    response = api_as("member").post(
        f"/api/v1/tasks/{world.task.pk}/checkout/", {"agent": world.writer.pk}, format="json"
    )
    assert response.json()["run"] == live.pk
    assert Run.objects.unscoped().filter(agent=world.writer).count() == 1


@pytest.mark.parametrize("agent", ["missing", "other_company", "paused"])
def test_checkout_for_a_wrong_agent_is_a_400(api_as, cast, world, agent):
    body = {}
    if agent == "other_company":
        body = {"agent": world.other_agent.pk}
    elif agent == "paused":
        with tenant_scope(cast.tenant):
            agent_pause(agent=world.writer)
        body = {"agent": world.writer.pk}
    response = api_as("member").post(
        f"/api/v1/tasks/{world.task.pk}/checkout/", body, format="json"
    )
    assert response.status_code == 400, response.content
    assert "agent" in response.json()["errors"]
    world.task.refresh_from_db()
    assert world.task.checkout_run_id is None
    assert not Run.objects.unscoped().exists()


@pytest.mark.parametrize("role", ROLES)
def test_comments(api_as, cast, world, role, django_capture_on_commit_callbacks):
    client = api_as(role)
    url = f"/api/v1/tasks/{world.task.pk}/comments/"
    Agent.objects.unscoped().filter(pk=world.boss.pk).update(
        next_heartbeat_at=timezone.now() + timedelta(hours=1)
    )
    with tenant_scope(cast.tenant), django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"body": "@Cora please check the wording"}, format="json")
    code = MEMBER_CREATE[role]
    assert response.status_code == code, response.content
    rows = client.get(url).json()["results"]
    world.boss.refresh_from_db()
    if code != 201:
        assert rows == []
        assert world.boss.wake_trigger == ""
        return
    comment = response.json()
    assert comment["author"] == f"{role}@acme.test"
    assert comment["mentions"] == [world.boss.pk]
    assert [r["id"] for r in rows] == [comment["id"]]
    assert world.boss.wake_trigger == "mention"
    pending = SessionMessage.objects.unscoped().get(session__agent=world.boss)
    assert pending.status == "pending" and "wording" in pending.content


def test_empty_comment_is_a_400(api_as, world):
    url = f"/api/v1/tasks/{world.task.pk}/comments/"
    assert api_as("member").post(url, {"body": "  "}, format="json").status_code == 400
    assert not Comment.objects.unscoped().exists()


@pytest.mark.parametrize("role", ROLES)
def test_task_context(api_as, cast, world, role):
    with tenant_scope(cast.tenant):
        for i in range(12):
            comment_create(task=world.task, body=f"note {i}", actor_agent=world.boss)
    context = api_as(role).get(f"/api/v1/tasks/{world.task.pk}/context/").json()
    assert context["mission"] == "Fix every leak in Leiden within a day"
    assert [g["title"] for g in context["goals"]] == [
        world.mission_goal.title,
        world.goal.title,
    ]
    assert context["task"]["id"] == world.task.pk
    assert [c["body"] for c in context["comments"]] == [f"note {i}" for i in range(2, 12)]
    assert context["instructions"] is None  # a person asked
    assert "You do this because: Be the most trusted plumber in town" in context["prompt"]


def test_list_queries_do_not_grow(api_as, cast, world, django_assert_max_num_queries):
    client = api_as("member")
    comments = f"/api/v1/tasks/{world.task.pk}/comments/"
    with tenant_scope(cast.tenant):
        comment_create(task=world.task, body="@Cora first", actor_user=cast.owner)
    with django_assert_max_num_queries(6) as tasks_few:
        assert client.get("/api/v1/tasks/").status_code == 200
    with django_assert_max_num_queries(6) as comments_few:
        assert client.get(comments).status_code == 200
    with tenant_scope(cast.tenant):
        first = Task.objects.get(pk=world.task.pk)
        for i in range(10):
            task = task_create(title=f"Task {i}", assignee=world.boss, goal=world.goal)
            task.blockers.set([first])
            comment_create(task=first, body=f"@Cora @Max note {i}", actor_user=cast.owner)
            comment_create(task=first, body=f"from the boss {i}", actor_agent=world.boss)
    with django_assert_max_num_queries(len(tasks_few.captured_queries)):
        assert len(client.get("/api/v1/tasks/").json()["results"]) == 11
    with django_assert_max_num_queries(len(comments_few.captured_queries)):
        assert len(client.get(comments).json()["results"]) == 21
