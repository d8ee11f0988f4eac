"""The "run now" progress: the page polls a fragment that says
waiting for the dispatcher, running (with a link to the run), then finished."""

from __future__ import annotations

import pytest
from django.utils import timezone

from agents.models import Run
from agents.services.dispatch import dispatch_due
from tests.integration.team_portal.conftest import ROLES

pytestmark = pytest.mark.django_db


def _progress_url(client, agent) -> str:
    response = client.post(f"/agents/{agent.pk}/run-now/")
    assert response.status_code == 302
    since = response["Location"].split("since=")[1].split("#")[0]
    return f"/agents/{agent.pk}/progress/?since={since}"


def test_progress_from_waiting_to_finished(client_as, team):
    client, cora = client_as("owner"), team.coordinator
    url = _progress_url(client, cora)
    waiting = client.get(url).content.decode()
    assert "Waiting for the next dispatcher tick" in waiting and "data-poll=" in waiting

    opened = dispatch_due(enqueue=lambda run: None)  # the real tick, without a worker
    (run,) = [r for r in opened.runs if r.agent_id == cora.pk]
    assert run.trigger == "manual"
    running = client.get(url).content.decode()
    assert "Cora is queued" in running and f"/runs/{run.pk}/" in running
    assert "data-poll=" in running

    Run.objects.unscoped().filter(pk=run.pk).update(
        status="succeeded", summary="Briefing posted.", ended_at=timezone.now()
    )
    done = client.get(url).content.decode()
    assert "Finished" in done and "Briefing posted." in done and "data-poll" not in done


def test_asking_twice_is_harmless(client_as, team):
    client = client_as("admin")
    _progress_url(client, team.coordinator)
    _progress_url(client, team.coordinator)
    opened = dispatch_due(enqueue=lambda run: None)
    assert [r.agent_id for r in opened.runs].count(team.coordinator.pk) == 1


@pytest.mark.parametrize("role", ROLES)
def test_every_member_may_watch_progress(client_as, team, role):
    url = f"/agents/{team.coordinator.pk}/progress/?since={timezone.now().timestamp()}"
    assert client_as(role).get(url).status_code == 200


def test_outsider_cannot_watch(client_as, team):
    url = f"/agents/{team.coordinator.pk}/progress/?since={timezone.now().timestamp()}"
    assert client_as("outsider").get(url).status_code == 404


@pytest.mark.parametrize("since", ["", "soon", "-5", "1e30", "nan"])
def test_a_bad_since_is_a_400(client_as, team, since):
    url = f"/agents/{team.coordinator.pk}/progress/?since={since}"
    assert client_as("viewer").get(url).status_code == 400
