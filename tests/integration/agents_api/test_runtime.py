"""The heartbeat procedure over HTTP with an agent key, the way an outside runtime works:
inbox → checkout → context → comment → status → release, and acknowledging messages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import Agent, Comment, Run, SessionMessage, Task
from agents.services.work import comment_create, task_create
from tenants.models import AuditEvent
from tenants.scope import tenant_scope

from .conftest import EVERYONE

pytestmark = pytest.mark.django_db


def test_a_whole_heartbeat_over_http(cast, world, agent_key, django_capture_on_commit_callbacks):
    runtime, _ = agent_key()  # Max's key
    with tenant_scope(cast.tenant):
        waiting = task_create(title="Waiting on a supplier", assignee=world.writer)
        blocked = task_create(title="Blocked", assignee=world.writer, blockers=[waiting.pk])
        task_create(title="Someone else's", assignee=world.boss)
        comment_create(
            task=world.task, body="@Max use the friendly template", actor_user=cast.owner
        )
    inbox = runtime.get("/api/v1/agent/inbox/").json()
    assert inbox["agent"] == world.writer.pk
    titles = [t["title"] for t in inbox["tasks"]]
    assert world.task.title in titles and "Blocked" not in titles
    assert "Someone else's" not in titles and blocked.pk not in [t["id"] for t in inbox["tasks"]]
    [message] = inbox["messages"]
    assert message["task"] == world.task.pk and "friendly template" in message["content"]

    checkout = runtime.post(f"/api/v1/tasks/{world.task.pk}/checkout/")
    assert checkout.status_code == 200, checkout.content
    run = Run.objects.unscoped().get(pk=checkout.json()["run"])
    assert (run.agent_id, run.trigger, run.status) == (world.writer.pk, "manual", "running")

    context = runtime.get(f"/api/v1/tasks/{world.task.pk}/context/").json()
    assert context["mission"] == cast.tenant.mission
    assert [g["id"] for g in context["goals"]] == [world.mission_goal.pk, world.goal.pk]
    assert context["comments"][-1]["body"] == "@Max use the friendly template"
    assert context["instructions"] == ""

    Agent.objects.unscoped().filter(pk=world.writer.pk).update(
        next_heartbeat_at=timezone.now() + timedelta(hours=1), wake_trigger=""
    )
    with tenant_scope(cast.tenant), django_capture_on_commit_callbacks(execute=True):
        posted = runtime.post(
            f"/api/v1/tasks/{world.task.pk}/comments/",
            {"body": "Sent 12 review requests. @Max note to self"},
            format="json",
        )
    assert posted.status_code == 201, posted.content
    comment = Comment.objects.unscoped().get(pk=posted.json()["id"])
    assert comment.author_agent_id == world.writer.pk and comment.author_user_id is None
    assert posted.json()["mentions"] == []  # an agent never mentions (wakes) itself
    world.writer.refresh_from_db()
    assert world.writer.wake_trigger == ""

    done = runtime.patch(f"/api/v1/tasks/{world.task.pk}/", {"status": "done"}, format="json")
    assert done.status_code == 200 and done.json()["completed_at"] is not None
    acked = runtime.post(
        "/api/v1/agent/inbox/ack/", {"messages": [message["id"], 999999]}, format="json"
    )
    assert acked.json() == {"acknowledged": 1}
    assert SessionMessage.objects.unscoped().get(pk=message["id"]).run_id == run.pk
    released = runtime.post(f"/api/v1/tasks/{world.task.pk}/release/").json()
    assert released["released"] is True
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert runtime.get("/api/v1/agent/inbox/").json()["messages"] == []

    with tenant_scope(cast.tenant):
        by_agent = AuditEvent.objects.filter(actor_type="agent").values_list("verb", flat=True)
        assert {"comment.created", "task.updated", "task.checked_out", "task.released"} <= set(
            by_agent
        )


def test_a_key_works_for_its_own_agent_only(world, agent_key):
    runtime, _ = agent_key()
    other = {"agent": world.boss.pk}
    url = f"/api/v1/tasks/{world.task.pk}"
    assert runtime.post(f"{url}/checkout/", other, format="json").status_code == 400
    assert runtime.post(f"{url}/release/", other, format="json").status_code == 400
    assert runtime.get(f"/api/v1/agent/inbox/?agent={world.boss.pk}").status_code == 400
    assert not Run.objects.unscoped().exists()


def test_two_runtimes_one_task_one_wins(cast, world, agent_key):
    max_runtime, _ = agent_key(world.writer)
    cora_runtime, _ = agent_key(world.boss)
    first = max_runtime.post(f"/api/v1/tasks/{world.task.pk}/checkout/")
    second = cora_runtime.post(f"/api/v1/tasks/{world.task.pk}/checkout/")
    assert (first.status_code, second.status_code) == (200, 409)
    assert second.json()["holder_run"] == first.json()["run"]
    assert Task.objects.unscoped().get(pk=world.task.pk).checkout_run_id == first.json()["run"]


@pytest.mark.parametrize("role", EVERYONE)
def test_people_read_an_agents_inbox_by_naming_it(api_as, world, role):
    client = api_as(role)
    response = client.get(f"/api/v1/agent/inbox/?agent={world.writer.pk}")
    if role == "outsider":
        assert response.status_code == 404
        own = client.get(f"/api/v1/agent/inbox/?agent={world.other_agent.pk}").json()
        assert [t["title"] for t in own["tasks"]] == ["Bake"]
        return
    assert response.status_code == 200
    assert [t["id"] for t in response.json()["tasks"]] == [world.task.pk]
    assert client.get("/api/v1/agent/inbox/").status_code == 400  # which agent?


@pytest.mark.parametrize(
    ("role", "code"),
    [("owner", 200), ("admin", 200), ("member", 200), ("viewer", 403), ("outsider", 404)],
)
def test_acknowledging_needs_member(api_as, cast, world, role, code):
    with tenant_scope(cast.tenant):
        comment_create(task=world.task, body="@Max ping", actor_user=cast.owner)
    pending = SessionMessage.objects.unscoped().get()
    response = api_as(role).post(
        "/api/v1/agent/inbox/ack/",
        {"agent": world.writer.pk, "messages": [pending.pk]},
        format="json",
    )
    assert response.status_code == code, response.content
    pending.refresh_from_db()
    assert (pending.status == "done") == (code == 200)


def test_inbox_queries_do_not_grow(cast, world, agent_key, django_assert_max_num_queries):
    runtime, _ = agent_key()
    with tenant_scope(cast.tenant):
        comment_create(task=world.task, body="@Max first", actor_user=cast.owner)
    with django_assert_max_num_queries(8) as few:
        runtime.get("/api/v1/agent/inbox/")
    with tenant_scope(cast.tenant):
        for i in range(10):
            task = task_create(title=f"T{i}", assignee=world.writer)
            comment_create(task=task, body=f"@Max look at {i}", actor_user=cast.owner)
    with django_assert_max_num_queries(len(few.captured_queries)):
        inbox = runtime.get("/api/v1/agent/inbox/").json()
    assert (len(inbox["tasks"]), len(inbox["messages"])) == (11, 11)
