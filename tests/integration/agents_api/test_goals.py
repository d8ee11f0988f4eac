"""/api/v1/goals/: the fixed cast, cycles and other companies' goals."""

from __future__ import annotations

import pytest

from agents.models import Goal
from tenants.models import AuditEvent

from .conftest import EVERYONE, ROLES

pytestmark = pytest.mark.django_db
ADMIN_CREATE = {"owner": 201, "admin": 201, "member": 403, "viewer": 403}
ADMIN_WRITE = {"owner": 200, "admin": 200, "member": 403, "viewer": 403, "outsider": 404}


@pytest.mark.parametrize("role", ROLES)
def test_every_member_reads_goals(api_as, world, role):
    client = api_as(role)
    rows = client.get("/api/v1/goals/").json()["results"]
    assert [g["title"] for g in rows] == [world.mission_goal.title, world.goal.title]
    goal = client.get(f"/api/v1/goals/{world.goal.pk}/").json()
    assert goal["parent"] == world.mission_goal.pk
    assert goal["owner"] == world.writer.pk


def test_outsider_gets_404_for_our_goals(api_as, world):
    client = api_as("outsider")
    assert [g["title"] for g in client.get("/api/v1/goals/").json()["results"]] == [
        "Sell more bread"
    ]
    assert client.get(f"/api/v1/goals/{world.goal.pk}/").status_code == 404
    response = client.patch(f"/api/v1/goals/{world.goal.pk}/", {"title": "x"}, format="json")
    assert response.status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_creating_a_goal_needs_admin(api_as, world, role):
    response = api_as(role).post(
        "/api/v1/goals/",
        {"title": "Answer every call", "parent": world.mission_goal.pk},
        format="json",
    )
    assert response.status_code == ADMIN_CREATE[role], response.content
    exists = Goal.objects.unscoped().filter(title="Answer every call").exists()
    assert exists == (ADMIN_CREATE[role] == 201)


@pytest.mark.parametrize("role", EVERYONE)
def test_patch_a_goal(api_as, world, role):
    response = api_as(role).patch(
        f"/api/v1/goals/{world.goal.pk}/", {"status": "achieved"}, format="json"
    )
    assert response.status_code == ADMIN_WRITE[role]
    world.goal.refresh_from_db()
    assert (world.goal.status == "achieved") == (ADMIN_WRITE[role] == 200)


@pytest.mark.parametrize(
    "case",
    ["cycle", "self", "other_company_parent", "other_company_owner", "no_title", "new_status"],
)
def test_bad_goal_input_is_a_400_and_nothing_changes(api_as, world, case):
    client = api_as("owner")
    events = AuditEvent.objects.unscoped().count()
    goals = list(Goal.objects.unscoped().order_by("id").values())
    if case == "cycle":
        response = client.patch(
            f"/api/v1/goals/{world.mission_goal.pk}/", {"parent": world.goal.pk}, format="json"
        )
        field = "parent"
    elif case == "self":
        response = client.patch(
            f"/api/v1/goals/{world.goal.pk}/", {"parent": world.goal.pk}, format="json"
        )
        field = "parent"
    elif case == "other_company_parent":
        response = client.post(
            "/api/v1/goals/", {"title": "x", "parent": world.other_goal.pk}, format="json"
        )
        field = "parent"
    elif case == "other_company_owner":
        response = client.post(
            "/api/v1/goals/", {"title": "x", "owner": world.other_agent.pk}, format="json"
        )
        field = "owner"
    elif case == "no_title":
        response = client.post("/api/v1/goals/", {"description": "x"}, format="json")
        field = "title"
    else:
        response = client.post("/api/v1/goals/", {"title": "x", "status": "dropped"})
        field = "status"
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert list(Goal.objects.unscoped().order_by("id").values()) == goals
    assert AuditEvent.objects.unscoped().count() == events


def test_goal_list_queries_do_not_grow(api_as, cast, world, django_assert_max_num_queries):
    from agents.services.work import goal_create
    from tenants.scope import tenant_scope

    client = api_as("viewer")
    with django_assert_max_num_queries(4) as few:
        assert client.get("/api/v1/goals/").status_code == 200
    with tenant_scope(cast.tenant):
        for i in range(12):
            goal_create(title=f"Goal {i}", parent=world.goal)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get("/api/v1/goals/").json()["results"]) == 14
