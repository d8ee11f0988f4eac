"""Every team page for the fixed cast: members of every role read them, another company's
agent, task or run is a 404, only the roles that may write see the forms."""

from __future__ import annotations

import pytest

from tests.integration.team_portal.conftest import ROLES, STEERS, WORKS

pytestmark = pytest.mark.django_db


def _pages(team) -> dict[str, str]:
    return {
        "agents": "/agents/",
        "agent": f"/agents/{team.task.assignee_id}/",
        "board": "/tasks/",
        "task": f"/tasks/{team.task.pk}/",
        "goals": "/goals/",
        "run": f"/runs/{team.run.pk}/",
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", ["agents", "agent", "board", "task", "goals", "run"])
def test_members_read_every_page(client_as, team, role, page):
    response = client_as(role).get(_pages(team)[page])
    assert response.status_code == 200
    body = response.content.decode()
    assert "Globex" not in body and "Gus" not in body


@pytest.mark.parametrize("page", ["agent", "task", "run"])
def test_outsider_gets_404_on_another_companys_rows(client_as, team, page):
    assert client_as("outsider").get(_pages(team)[page]).status_code == 404


def test_outsider_lists_only_its_own_company(client_as, team):
    client = client_as("outsider")
    assert "Gus" in client.get("/agents/").content.decode()
    board = client.get("/tasks/").content.decode()
    assert "Globex secret task" in board and "Answer Mrs Smith" not in board
    assert client.get(f"/agents/{team.other_agent.pk}/").status_code == 200


def test_anonymous_is_sent_to_sign_in(client, team):
    response = client.get("/tasks/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_org_chart_nests_reports_under_their_boss(client_as, team):
    body = client_as("viewer").get("/agents/").content.decode()
    cora, iris = team.coordinator.name, team.task.assignee.name
    assert body.index(cora) < body.index(iris)
    assert body.count('<ul class="tree">') == 1 and "<ul><li>" in body.replace("\n", "").replace(
        "  ", ""
    )


@pytest.mark.parametrize("role", ROLES)
def test_only_owners_and_admins_see_the_steering_forms(client_as, team, role):
    agent = client_as(role).get(f"/agents/{team.coordinator.pk}/").content.decode()
    goals = client_as(role).get("/goals/").content.decode()
    steer = role in STEERS
    assert ("Run now" in agent) is steer
    assert ("Pause" in agent) is steer
    assert ("Add goal" in goals) is steer


@pytest.mark.parametrize("role", ROLES)
def test_members_and_up_see_the_work_forms(client_as, team, role):
    board = client_as(role).get("/tasks/").content.decode()
    task = client_as(role).get(f"/tasks/{team.task.pk}/").content.decode()
    works = role in WORKS
    assert ("Add task" in board) is works
    assert ('name="body"' in task) is works and (">Move<" in task) is works


def test_agent_page_shows_schedule_chain_and_last_runs(client_as, team):
    body = client_as("viewer").get(f"/agents/{team.task.assignee_id}/").content.decode()
    assert "Next heartbeat" in body and "Orion's default chain" in body
    assert "sandbox-small" in body and "fell back" in body and "160" in body  # tokens


def test_run_page_shows_transcript_tools_and_every_attempt(client_as, team):
    body = client_as("member").get(f"/runs/{team.run.pk}/").content.decode()
    assert "The inbox is clear" in body and "Work your inbox." in body
    assert "list_tasks" in body and "status: todo" in body
    assert "primary key" in body and "rate_limit" in body and "HTTP 429" in body
    assert "backup key" in body and "sandbox/sandbox-large" in body
    assert "yes, model 2 of the chain" in body
    assert "sk-test" not in body


def test_board_filters_by_agent_and_goal(client_as, team):
    client = client_as("member")
    iris = team.task.assignee
    body = client.get(f"/tasks/?agent={team.coordinator.pk}").content.decode()
    assert "Answer Mrs Smith" not in body
    body = client.get(f"/tasks/?agent={iris.pk}").content.decode()
    assert "Answer Mrs Smith" in body
    # another company's agent in the filter is ignored with its error, not a 500
    response = client.get(f"/tasks/?agent={team.other_agent.pk}")
    assert response.status_code == 200
    assert "That agent is not in this company." in response.content.decode()


def test_goal_tree_starts_at_the_mission(client_as, team):
    body = client_as("viewer").get("/goals/").content.decode()
    assert "Fix every leak in town." in body
    assert "open," in body


def test_times_are_in_the_tenants_time_zone(client_as, team, cast):
    cast.tenant.timezone = "Asia/Kathmandu"  # +05:45, unmistakable
    cast.tenant.save(update_fields=["timezone"])
    body = client_as("viewer").get(f"/runs/{team.run.pk}/").content.decode()
    assert "+0545" in body or "+05:45" in body


def test_static_assets_are_served_by_the_app(client_as, team):
    body = client_as("viewer").get("/agents/").content.decode()
    assert "/static/agents/portal.js" in body and "/static/agents/portal.css" in body
    assert "http" not in body.split("/static/agents/portal.js")[0].rsplit('src="', 1)[1]


def test_static_file_answers(client):
    response = client.get("/static/agents/portal.js")
    assert response.status_code == 200
    assert b"data-poll" in b"".join(response.streaming_content)
