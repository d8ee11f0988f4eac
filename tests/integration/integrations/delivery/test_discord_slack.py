"""Discord webhooks and Slack chat.postMessage over their fakes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.delivery.services import delivery_send_now
from integrations.models import AttemptOutcome, ConnectionStatus, DeliveryStatus
from orion.core.fakes.server import Reply

from .conftest import SLACK_TOKEN, attempts, connection_of, enqueue, fresh, run_to_end

pytestmark = pytest.mark.django_db(transaction=True)


def test_discord_posts_with_wait_and_no_mentions(cast, dc):
    delivery = run_to_end(enqueue(cast.tenant, "discord", body="@everyone hello"))
    assert delivery.status == DeliveryStatus.SENT
    request = dc.requests[0]
    assert (request.path, request.query) == ("/api/v10/webhooks/123/hook-token", {"wait": "true"})
    assert request.json()["allowed_mentions"] == {"parse": []}
    assert delivery.provider_message_id == str(dc.accepted[0]["id"])


def test_discord_retry_after_from_the_body_sets_the_countdown(cast, dc):
    dc.retry_after = 0.75
    dc.fail_next("429")
    delivery = enqueue(cast.tenant, "discord")
    before = timezone.now()
    result = delivery_send_now(delivery_id=delivery.pk)
    assert result.status == DeliveryStatus.RETRYING
    assert 0.75 <= result.retry_in <= 0.75 * 1.1 + 0.01  # the body's figure, not the header's 1
    (attempt,) = attempts(delivery)
    assert (attempt.http_status, attempt.retry_after_ms) == (429, 750)
    due = fresh(delivery).next_attempt_at
    assert before + timedelta(seconds=0.74) <= due <= timezone.now() + timedelta(seconds=0.85)
    assert run_to_end(delivery).status == DeliveryStatus.SENT
    assert len(dc.accepted) == 1


def test_a_deleted_discord_webhook_disables_the_channel_after_one_attempt(cast, dc):
    dc.delete_webhook("123")
    delivery = run_to_end(enqueue(cast.tenant, "discord"))
    assert delivery.status == DeliveryStatus.FAILED and len(dc.requests) == 1
    connection = connection_of(delivery)
    assert connection.status == ConnectionStatus.DISABLED
    assert "webhook no longer works" in connection.last_error


def test_a_webhook_address_elsewhere_never_leaves_for_that_host(cast, dc):
    from integrations.services.connections import connection_connect

    delivery = enqueue(cast.tenant, "discord")
    connection_connect(
        tenant_id=cast.tenant.pk,
        kind="discord",
        config={},
        secret={"webhook_url": "http://169.254.169.254/latest/meta-data"},
    )
    delivery = run_to_end(delivery)
    assert delivery.status == DeliveryStatus.FAILED and dc.requests == []
    assert connection_of(delivery).status == ConnectionStatus.DISABLED


def test_slack_sends_the_key_in_the_metadata(cast, sl):
    delivery = run_to_end(enqueue(cast.tenant, "slack", key="report:7"))
    assert delivery.status == DeliveryStatus.SENT
    (request,) = sl.requests
    assert request.headers["authorization"] == f"Bearer {SLACK_TOKEN}"
    assert request.json()["metadata"] == {
        "event_type": "orion_delivery",
        "event_payload": {"key": "report:7"},
    }
    assert delivery.provider_message_id == sl.accepted[0]["ts"]


@pytest.mark.parametrize(
    "error", ["token_revoked", "invalid_auth", "channel_not_found", "is_archived", "not_in_channel"]
)
def test_slack_errors_that_break_the_channel_disable_it(cast, sl, error):
    sl.fail_next(error)
    delivery = run_to_end(enqueue(cast.tenant, "slack"))
    assert delivery.status == DeliveryStatus.FAILED and len(sl.requests) == 1
    connection = connection_of(delivery)
    assert connection.status == ConnectionStatus.DISABLED and error in connection.last_error


def test_slack_other_refusals_fail_the_message_not_the_channel(cast, sl):
    sl.fail_next("msg_too_long")
    delivery = run_to_end(enqueue(cast.tenant, "slack"))
    assert delivery.status == DeliveryStatus.FAILED
    assert connection_of(delivery).status == ConnectionStatus.CONNECTED


def test_slack_429_honours_retry_after(cast, sl):
    sl.retry_after = 0.5
    sl.fail_next("429")
    delivery = enqueue(cast.tenant, "slack")
    result = delivery_send_now(delivery_id=delivery.pk)
    assert 0.5 <= result.retry_in <= 0.56
    assert run_to_end(delivery).status == DeliveryStatus.SENT


def test_slack_ambiguous_answer_is_asked_about_and_not_resent(cast, sl):
    sl.fail_next("accept_then_500")
    delivery = run_to_end(enqueue(cast.tenant, "slack"))
    assert delivery.status == DeliveryStatus.SENT
    assert len(sl.accepted) == 1 and delivery.provider_message_id == sl.accepted[0]["ts"]
    (attempt,) = attempts(delivery)
    assert attempt.outcome == AttemptOutcome.SENT  # settled by asking Slack
    assert [r.path for r in sl.requests] == ["/api/chat.postMessage", "/api/conversations.history"]


def test_slack_ambiguous_answer_without_the_message_is_sent_again(cast, sl):
    sl.fail_next("500")
    delivery = run_to_end(enqueue(cast.tenant, "slack"))
    assert delivery.status == DeliveryStatus.SENT and len(sl.accepted) == 1
    assert [a.outcome for a in attempts(delivery)] == [AttemptOutcome.UNKNOWN, AttemptOutcome.SENT]
    assert "not found at the provider" in attempts(delivery)[0].error


def test_slack_that_cannot_be_asked_ends_unknown_after_the_tries(cast, sl):
    sl.fail_next("accept_then_500")
    sl.script("GET", "/api/conversations.history", Reply(status=503))
    delivery = run_to_end(enqueue(cast.tenant, "slack"))
    assert delivery.status == DeliveryStatus.UNKNOWN and len(sl.accepted) == 1
    assert "gave up after 3 tries" in delivery.last_error
    assert [a.outcome for a in attempts(delivery)] == [AttemptOutcome.UNKNOWN] * 3
    assert "could not ask" in attempts(delivery)[1].error


@pytest.mark.parametrize(
    "history",
    [
        {"ok": True, "messages": "none", "has_more": False},
        {"ok": True, "messages": [], "has_more": True, "response_metadata": "next"},
    ],
)
def test_slack_history_in_a_shape_it_never_has_ends_unknown_not_resent(cast, sl, history):
    sl.fail_next("accept_then_500")
    sl.script("GET", "/api/conversations.history", Reply(json=history))
    delivery = run_to_end(enqueue(cast.tenant, "slack"))
    assert delivery.status == DeliveryStatus.UNKNOWN and len(sl.accepted) == 1
    assert "shape it never has" in delivery.last_error


def test_slack_history_items_without_our_metadata_are_skipped(cast, sl):
    sl.fail_next("500")
    odd = [
        "junk",
        {"ts": "1.0", "metadata": "x"},
        {"ts": "2.0", "metadata": {"event_payload": ["k1"]}},
    ]
    sl.script("GET", "/api/conversations.history", Reply(json={"ok": True, "messages": odd}))
    delivery = run_to_end(enqueue(cast.tenant, "slack"))
    assert delivery.status == DeliveryStatus.SENT and len(sl.accepted) == 1
    assert [a.outcome for a in attempts(delivery)] == [AttemptOutcome.UNKNOWN, AttemptOutcome.SENT]
