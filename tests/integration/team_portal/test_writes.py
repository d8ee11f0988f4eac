"""Every form of the team pages for the fixed cast: the roles that may write change the rows
through the audited services; lower roles get a 403 with nothing written; another
company's rows are a 404; bad input answers 400 with the error next to its field and the
values kept; a double submit does not create twice."""

from __future__ import annotations

import pytest

from agents.models import Agent, Comment, Goal, Task
from tenants.models import AuditEvent
from tenants.scope import tenant_scope
from tests.integration.team_portal.conftest import ROLES, STEERS, WORKS, form_token

pytestmark = pytest.mark.django_db


def _count(tenant, model) -> int:
    with tenant_scope(tenant):
        return model.objects.count()


# -- the starter team -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_starter_team_in_one_click(client_as, cast, role):
    client = client_as(role)
    response = client.post(
        "/agents/starter/", {"team": "small-business", "mission": "Bake the best bread."}
    )
    if role in STEERS:
        assert response.status_code == 302
        assert _count(cast.tenant, Agent) == 5
        cast.tenant.refresh_from_db()
        assert cast.tenant.mission == "Bake the best bread."
        page = client.get("/agents/").content.decode()
        assert "Your team is ready" in page and "Cora" in page
        goals = _count(cast.tenant, Goal)
        # a second click (double submit) creates nothing more
        client.post(
            "/agents/starter/", {"team": "small-business", "mission": "Bake the best bread."}
        )
        assert _count(cast.tenant, Agent) == 5
        assert goals > 0 and _count(cast.tenant, Goal) == goals
    else:
        assert response.status_code == 403
        assert _count(cast.tenant, Agent) == 0


def test_starter_team_without_mission_keeps_the_form(client_as, cast):
    response = client_as("owner").post(
        "/agents/starter/", {"team": "small-business", "mission": " "}
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert _count(cast.tenant, Agent) == 0


def test_starter_team_unknown_team_is_a_field_error(client_as, cast):
    response = client_as("owner").post("/agents/starter/", {"team": "nope", "mission": "Bake."})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Select a valid choice." in body and "Bake." in body


# -- agents ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_pause_resume_and_run_now(client_as, team, role):
    client = client_as(role)
    cora = team.coordinator
    response = client.post(f"/agents/{cora.pk}/pause/")
    if role not in STEERS:
        assert response.status_code == 403
        cora.refresh_from_db()
        assert cora.status == "active"
        assert client.post(f"/agents/{cora.pk}/run-now/").status_code == 403
        return
    assert response.status_code == 302
    cora.refresh_from_db()
    assert cora.status == "paused" and cora.pause_reason == "manual"
    refused = client.post(f"/agents/{cora.pk}/run-now/")
    assert refused.status_code == 400 and "resume it first" in refused.content.decode()
    assert client.post(f"/agents/{cora.pk}/resume/").status_code == 302
    cora.refresh_from_db()
    assert cora.status == "active"
    response = client.post(f"/agents/{cora.pk}/run-now/")
    assert response.status_code == 302 and "?since=" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert "Waiting for the next dispatcher tick" in page and "data-poll=" in page
    verbs = set(
        AuditEvent.objects.unscoped().filter(tenant=cora.tenant).values_list("verb", flat=True)
    )
    assert {"agent.paused", "agent.resumed"} <= verbs


def test_outsider_cannot_touch_another_companys_agent(client_as, team):
    client = client_as("outsider")
    for action in ("pause", "resume", "run-now", "edit"):
        assert client.post(f"/agents/{team.coordinator.pk}/{action}/").status_code == 404
    team.coordinator.refresh_from_db()
    assert team.coordinator.status == "active"


def _edit(agent, **changes) -> dict:
    data = {
        "title": agent.title,
        "instructions": agent.instructions,
        "reports_to": agent.reports_to_id or "",
        "schedule_kind": agent.schedule_kind,
        "cron": agent.cron,
        "interval_s": agent.interval_s,
    }
    data.update(changes)
    return data


def test_edit_an_agent(client_as, team):
    cora = team.coordinator
    response = client_as("admin").post(
        f"/agents/{cora.pk}/edit/", _edit(cora, instructions="Brief me at 8.", cron="0 8 * * *")
    )
    assert response.status_code == 302
    cora.refresh_from_db()
    assert cora.instructions == "Brief me at 8." and cora.cron == "0 8 * * *"


def test_a_cycle_in_the_org_chart_is_refused_next_to_the_field(client_as, team):
    cora, iris = team.coordinator, team.task.assignee
    response = client_as("owner").post(
        f"/agents/{cora.pk}/edit/", _edit(cora, reports_to=iris.pk, instructions="kept text")
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "that is a cycle" in body and "kept text" in body
    cora.refresh_from_db()
    assert cora.reports_to_id is None


def test_a_bad_cron_is_a_field_error(client_as, team):
    cora = team.coordinator
    response = client_as("owner").post(f"/agents/{cora.pk}/edit/", _edit(cora, cron="every day"))
    assert response.status_code == 400
    assert "must have 5 fields" in response.content.decode()


def test_reporting_to_another_companys_agent_is_refused(client_as, team):
    cora = team.coordinator
    response = client_as("owner").post(
        f"/agents/{cora.pk}/edit/", _edit(cora, reports_to=team.other_agent.pk)
    )
    assert response.status_code == 400
    assert "That agent is not in this company." in response.content.decode()


def test_viewer_cannot_edit(client_as, team):
    cora = team.coordinator
    response = client_as("viewer").post(f"/agents/{cora.pk}/edit/", _edit(cora, title="Boss"))
    assert response.status_code == 403
    cora.refresh_from_db()
    assert cora.title != "Boss"


# -- tasks ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_create_a_task(client_as, team, cast, role):
    client = client_as(role)
    before = _count(cast.tenant, Task)
    data = {"title": "Call the supplier", "assignee": team.coordinator.pk, "priority": 2}
    if role not in WORKS:
        data["submit_token"] = "x" * 20
        assert client.post("/tasks/new/", data).status_code == 403
        assert _count(cast.tenant, Task) == before
        return
    data["submit_token"] = form_token(client, "/tasks/")
    response = client.post("/tasks/new/", data)
    assert response.status_code == 302
    again = client.post("/tasks/new/", data)  # the double submit
    assert again.status_code == 302
    assert _count(cast.tenant, Task) == before + 1
    with tenant_scope(cast.tenant):
        task = Task.objects.get(title="Call the supplier")
    assert task.assignee_id == team.coordinator.pk and task.created_by_user == cast.user(role)
    assert "nothing was added twice" in client.get(again["Location"]).content.decode()


def test_a_task_for_another_companys_agent_is_refused(client_as, team, cast):
    client = client_as("member")
    data = {
        "title": "Sneaky",
        "assignee": team.other_agent.pk,
        "priority": 1,
        "submit_token": form_token(client, "/tasks/"),
    }
    response = client.post("/tasks/new/", data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "That agent is not in this company." in body and 'value="Sneaky"' in body
    with tenant_scope(cast.tenant):
        assert not Task.objects.filter(title="Sneaky").exists()
    # the refused form's token still works once corrected
    data["assignee"] = ""
    assert client.post("/tasks/new/", data).status_code == 302


def test_a_task_without_title_keeps_the_values(client_as, team):
    client = client_as("member")
    response = client.post(
        "/tasks/new/",
        {
            "title": "",
            "body": "kept body",
            "priority": 1,
            "submit_token": form_token(client, "/tasks/"),
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "This field is required." in body and "kept body" in body


def test_a_form_without_its_token_is_refused(client_as, team):
    response = client_as("member").post("/tasks/new/", {"title": "No token", "priority": 1})
    assert response.status_code == 400
    assert "This form expired" in response.content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_move_and_assign(client_as, team, role):
    client, task = client_as(role), team.task
    moved = client.post(f"/tasks/{task.pk}/move/", {"status": "in_review"})
    assigned = client.post(f"/tasks/{task.pk}/assign/", {"assignee": team.coordinator.pk})
    task.refresh_from_db()
    if role in WORKS:
        assert moved.status_code == 302 and assigned.status_code == 302
        assert task.status == "in_review" and task.assignee_id == team.coordinator.pk
    else:
        assert moved.status_code == 403 and assigned.status_code == 403
        assert task.status == "todo"


def test_move_to_an_unknown_status_is_a_400(client_as, team):
    response = client_as("member").post(f"/tasks/{team.task.pk}/move/", {"status": "flying"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_assign_to_another_companys_agent_is_refused(client_as, team):
    response = client_as("member").post(
        f"/tasks/{team.task.pk}/assign/", {"assignee": team.other_agent.pk}
    )
    assert response.status_code == 400
    assert "That agent is not in this company." in response.content.decode()
    team.task.refresh_from_db()
    assert team.task.assignee_id != team.other_agent.pk


def test_outsider_cannot_touch_another_companys_task(client_as, team):
    client = client_as("outsider")
    assert client.post(f"/tasks/{team.task.pk}/move/", {"status": "done"}).status_code == 404
    assert client.post(f"/tasks/{team.task.pk}/comment/", {"body": "hi"}).status_code == 404
    team.task.refresh_from_db()
    assert team.task.status == "todo"


@pytest.mark.parametrize("role", ROLES)
def test_comment_with_a_mention(client_as, team, cast, role):
    client, task = client_as(role), team.task
    url = f"/tasks/{task.pk}/"
    data = {"body": f"@{team.coordinator.name} please check this"}
    if role not in WORKS:
        data["submit_token"] = "y" * 20
        assert client.post(f"{url}comment/", data).status_code == 403
        assert _count(cast.tenant, Comment) == 0
        return
    data["submit_token"] = form_token(client, url)
    response = client.post(f"{url}comment/", data)
    assert response.status_code == 302
    client.post(f"{url}comment/", data)  # double submit
    with tenant_scope(cast.tenant):
        comment = Comment.objects.get()
        assert [a.pk for a in comment.mentions.all()] == [team.coordinator.pk]
    page = client.get(url).content.decode()
    assert "please check this" in page and f"@{team.coordinator.name}</span>" in page


def test_an_empty_comment_is_a_field_error(client_as, team):
    client = client_as("member")
    url = f"/tasks/{team.task.pk}/"
    response = client.post(f"{url}comment/", {"body": "", "submit_token": form_token(client, url)})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


# -- goals ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_create_a_goal(client_as, team, cast, role):
    client = client_as(role)
    before = _count(cast.tenant, Goal)
    data = {"title": "Open a second shop", "owner": team.coordinator.pk}
    if role not in STEERS:
        data["submit_token"] = "z" * 20
        assert client.post("/goals/new/", data).status_code == 403
        assert _count(cast.tenant, Goal) == before
        return
    data["submit_token"] = form_token(client, "/goals/")
    assert client.post("/goals/new/", data).status_code == 302
    assert client.post("/goals/new/", data).status_code == 302
    assert _count(cast.tenant, Goal) == before + 1
    assert "Open a second shop" in client.get("/goals/").content.decode()


def test_a_goal_under_another_companys_goal_is_refused(client_as, team, cast):
    with tenant_scope(cast.other_tenant):
        from agents.services.work import goal_create

        theirs = goal_create(title="Globex goal")
    client = client_as("owner")
    data = {"title": "Mine", "parent": theirs.pk, "submit_token": form_token(client, "/goals/")}
    response = client.post("/goals/new/", data)
    assert response.status_code == 400
    assert "That goal is not in this company." in response.content.decode()
