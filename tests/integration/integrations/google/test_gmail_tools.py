"""The Gmail tools against the fake Gmail; a send retried after a crash sends once."""

from __future__ import annotations

import pytest

from agents.tools import ToolError
from integrations.models import ActionStatus, ExternalAction
from integrations.services.actions import action_begin

pytestmark = pytest.mark.django_db(transaction=True)
MAIL = {"to": "Customer <customer@example.test>", "subject": "Your quote", "body": "Hello!"}


def _sends(google):
    return [r for r in google.requests if r.path == "/gmail/v1/users/me/messages/send"]


def _action(cast, key: str) -> ExternalAction:
    return ExternalAction.objects.unscoped().get(tenant=cast.tenant, key=key)


def test_search_and_read(google, gmail_connected, call_tool):
    wanted = google.add_message(sender="bob@example.test", subject="Leak in kitchen", body="Help")
    google.add_message(sender="eve@example.test", subject="Newsletter", body="Deals")
    found = call_tool("gmail_search", {"query": "from:bob", "max_results": 5})
    assert [(m["id"], m["subject"]) for m in found] == [(wanted, "Leak in kitchen")]
    read = call_tool("gmail_read", {"message_id": wanted})
    assert read["text"].strip() == "Help"
    assert read["from"] == "bob@example.test"
    with pytest.raises(ToolError, match="found nothing"):
        call_tool("gmail_read", {"message_id": "nope"})
    with pytest.raises(ToolError, match="max_results must be between 1 and 25"):
        call_tool("gmail_search", {"query": "x", "max_results": 500})


def test_send_goes_out_once_with_a_message_id_from_the_call(
    cast, google, gmail_connected, call_tool
):
    sent = call_tool("gmail_send", MAIL, key="run:7:s2:t0")
    (mail,) = google.sent
    assert mail["id"] == sent["id"]
    assert google.header(mail["id"], "Message-ID") == sent["message_id"]
    assert google.header(mail["id"], "To") == "Customer <customer@example.test>"
    assert google.header(mail["id"], "From") == google.email
    action = _action(cast, "gmail.send:run:7:s2:t0")
    assert action.status == ActionStatus.DONE
    assert action.result["id"] == sent["id"]
    again = call_tool("gmail_send", MAIL, key="run:7:s2:t0")  # the run is replayed
    assert again["already_sent"] is True and again["id"] == sent["id"]
    assert len(_sends(google)) == 1
    other = call_tool("gmail_send", MAIL, key="run:7:s3:t0")  # another call: another mail
    assert other["message_id"] != sent["message_id"]
    assert len(google.sent) == 2


def test_a_send_retried_after_a_crash_sends_once(
    durable_rows, cast, google, gmail_connected, call_tool
):
    """Gmail accepted the mail, then the connection dropped before the answer (the worker
    might as well have died): the row stays started; the re-run asks Gmail and finds it."""
    google.after_accept["gmail.send"] = "close"
    with pytest.raises(ToolError, match=r"may have gone out.*rfc822msgid"):
        call_tool("gmail_send", MAIL, key="run:9:s1:t0")
    assert len(google.sent) == 1
    assert len(_sends(google)) == 1  # the transport did not silently send it again
    action = _action(cast, "gmail.send:run:9:s1:t0")  # kept although the tool's
    assert action.status == ActionStatus.STARTED  # transaction rolled back

    result = call_tool("gmail_send", MAIL, key="run:9:s1:t0")
    assert result["already_sent"] is True
    assert result["id"] == google.sent[0]["id"]
    assert len(google.sent) == 1 and len(_sends(google)) == 1
    checks = [r for r in google.requests if r.query.get("q", "").startswith("rfc822msgid:")]
    assert (
        checks and checks[0].query["q"] == f"rfc822msgid:{action.result['message_id'].strip('<>')}"
    )
    assert _action(cast, "gmail.send:run:9:s1:t0").status == ActionStatus.DONE


def test_a_send_that_never_left_is_sent_by_the_rerun(cast, google, gmail_connected, call_tool):
    """The worker died after committing the row, before the request left."""
    action_begin(
        tenant_id=cast.tenant.pk,
        key="gmail.send:run:5:s1:t0",
        kind="gmail.send",
        result={"message_id": "<orion.before-crash@acme-mail.test>"},
    )
    result = call_tool("gmail_send", MAIL, key="run:5:s1:t0")
    assert "already_sent" not in result
    (mail,) = google.sent
    assert google.header(mail["id"], "Message-ID") == "<orion.before-crash@acme-mail.test>"
    assert _action(cast, "gmail.send:run:5:s1:t0").status == ActionStatus.DONE


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"to": "not an address"}, "to: 'not an address' is not a valid email address"),
        ({"subject": "two\nlines"}, "subject: must be one line"),
        ({"body": "  "}, "body: the message is empty"),
        ({"cc": "x@"}, "cc: 'x@' is not a valid email address"),
        ({"to": "a@example.com\nBcc: b@example.com"}, "to: must be one line"),
        ({"to": "a@example.com,\r\n b@example.com"}, "to: must be one line"),
        ({"subject": "two\u2028lines"}, "subject: must be one line"),
        ({"body": "half a pair \ud800"}, "body: .* cannot be sent"),
    ],
)
def test_bad_mail_is_refused_before_anything_is_recorded(
    cast, google, gmail_connected, call_tool, change, message
):
    with pytest.raises(ToolError, match=message):
        call_tool("gmail_send", {**MAIL, **change})
    assert _sends(google) == []
    assert not ExternalAction.objects.unscoped().filter(tenant=cast.tenant).exists()


def test_a_refused_send_is_recorded_failed(durable_rows, cast, google, gmail_connected, call_tool):
    from orion.core.fakes.server import Reply

    google.fail_once(
        "POST",
        "/gmail/v1/users/me/messages/send",
        Reply(status=400, json={"error": {"code": 400, "message": "Invalid To header"}}),
    )
    with pytest.raises(ToolError, match="Gmail refused the send \\(400: Invalid To header\\)"):
        call_tool("gmail_send", MAIL, key="run:3:s1:t0")
    action = _action(cast, "gmail.send:run:3:s1:t0")
    assert action.status == ActionStatus.FAILED
    assert "Invalid To header" in action.error
    assert google.sent == []
    sent = call_tool("gmail_send", MAIL, key="run:3:s1:t0")  # a failed send may be redone
    assert [m["id"] for m in google.sent] == [sent["id"]]


def test_draft(cast, google, gmail_connected, call_tool):
    made = call_tool("gmail_draft", {**MAIL, "in_reply_to": "<abc@example.test>"}, key="k1")
    (draft,) = google.drafts.values()
    assert draft["id"] == made["draft_id"]
    assert google.header(draft["message_id"], "In-Reply-To") == "<abc@example.test>"
    assert "DRAFT" in google.messages[draft["message_id"]]["labelIds"]
    assert google.sent == []
    assert call_tool("gmail_draft", MAIL, key="k1")["already_done"] is True
    assert len(google.drafts) == 1


def test_label(google, gmail_connected, call_tool):
    message = google.add_message(subject="Quote request")
    done = call_tool("gmail_label", {"message_id": message, "add": ["Leads"], "remove": ["UNREAD"]})
    leads = next(i for i, label in google.labels.items() if label["name"] == "Leads")
    assert set(done["labels"]) == {"INBOX", leads}
    assert google.messages[message]["labelIds"] == ["INBOX", leads]
    listed = [r for r in google.requests if r.path.endswith("/labels") and r.method == "GET"]
    assert len(listed) == 1  # one look at the labels serves both add and remove
    call_tool("gmail_label", {"message_id": message, "add": ["leads"]})  # no second label
    assert sum(1 for label in google.labels.values() if label["name"] == "Leads") == 1
    with pytest.raises(ToolError, match="Gmail has no label 'Nope'"):
        call_tool("gmail_label", {"message_id": message, "remove": ["Nope"]})
    with pytest.raises(ToolError, match="nothing to change"):
        call_tool("gmail_label", {"message_id": message})


def test_static_discovery_and_the_endpoint_override(google, all_connected, call_tool):
    """No discovery document is fetched; Gmail's paths sit under the base, Calendar's
    under base + calendar/v3/."""
    call_tool("gmail_search", {"query": "x"})
    call_tool("calendar_list_events", {"time_min": "2030-01-01T00:00:00Z"})
    paths = [r.path for r in google.requests]
    assert paths == ["/gmail/v1/users/me/messages", "/calendar/v3/calendars/primary/events"]


def test_a_draft_retried_after_a_crash_is_made_once(
    durable_rows, cast, google, gmail_connected, call_tool
):
    """Gmail stored the draft, then the answer was lost: the re-run finds the draft by
    its Message-ID instead of making a second one."""
    google.after_accept["gmail.draft"] = "close"
    with pytest.raises(ToolError, match="did not answer"):
        call_tool("gmail_draft", MAIL, key="run:9:s1:t1")
    assert len(google.drafts) == 1
    assert _action(cast, "gmail.draft:run:9:s1:t1").status == ActionStatus.STARTED
    made = call_tool("gmail_draft", MAIL, key="run:9:s1:t1")
    (draft,) = google.drafts.values()
    assert made["draft_id"] == draft["id"]
    assert made["already_done"] is True
    assert _action(cast, "gmail.draft:run:9:s1:t1").status == ActionStatus.DONE
