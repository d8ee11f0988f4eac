"""Gmail operations for the agents' tools, on the tenant's connection.

`gmail_send` sends at most once per call key: the ExternalAction row (with the mail's
Message-ID) is committed before the request leaves; a re-run that finds it started asks
Gmail (`rfc822msgid:`) whether the mail is there and sends only when it is not.
`gmail_draft` does the same with Gmail's drafts.
"""

from __future__ import annotations

from typing import Any

from integrations.google.calls import GoogleClient, google_client
from integrations.google.errors import GoogleError, GoogleNoAnswer, GoogleRefused
from integrations.google.mail import compose, header_map, message_id_for, plain_text
from integrations.models import ActionStatus, ExternalAction
from integrations.services.actions import action_begin, action_finish, action_restart

PRODUCT = "gmail"
LISTED_HEADERS = ["From", "To", "Cc", "Subject", "Date", "Message-ID"]


def _summary(message: dict[str, Any]) -> dict[str, Any]:
    headers = header_map(message.get("payload", {}))
    return {
        "id": message["id"],
        "thread_id": message.get("threadId", ""),
        "from": headers.get("from", ""),
        "to": headers.get("to", ""),
        "subject": headers.get("subject", ""),
        "date": headers.get("date", ""),
        "message_id": headers.get("message-id", ""),
        "labels": message.get("labelIds", []),
        "snippet": message.get("snippet", ""),
    }


def gmail_search(*, tenant_id: int, query: str, max_results: int = 10) -> list[dict[str, Any]]:
    with google_client(tenant_id=tenant_id, product=PRODUCT) as gmail:
        messages = gmail.service.users().messages()
        listed = gmail.run(
            messages.list(userId="me", q=query, maxResults=max_results), what="the search"
        )
        found = []
        for item in listed.get("messages", [])[:max_results]:
            request = messages.get(
                userId="me", id=item["id"], format="metadata", metadataHeaders=LISTED_HEADERS
            )
            found.append(_summary(gmail.run(request, what="a message")))
    return found


def gmail_read(*, tenant_id: int, message_id: str) -> dict[str, Any]:
    with google_client(tenant_id=tenant_id, product=PRODUCT) as gmail:
        request = gmail.service.users().messages().get(userId="me", id=message_id)
        message = gmail.run(request, what=f"message {message_id}")
    return {**_summary(message), "text": plain_text(message.get("payload", {}))}


def _payload(raw: str, thread_id: str) -> dict[str, Any]:
    return {"raw": raw, **({"threadId": thread_id} if thread_id else {})}


def _begin(
    gmail: GoogleClient, *, tenant_id: int, key: str, seed: str, field: str, mail: dict[str, str]
) -> tuple[ExternalAction, bool, str]:
    """Check the mail (bad input writes no row), then the action row for `key` (its kind
    is the key's prefix): (row, fresh, the Message-ID every run gives the mail). The
    Message-ID comes from `seed` and is kept in the row's result under `field`."""
    sender = gmail.access.email
    compose(sender=sender, **mail)
    wanted = message_id_for(tenant_id=tenant_id, call_key=seed, domain=sender.rpartition("@")[2])
    action, fresh = action_begin(
        tenant_id=tenant_id, key=key, kind=key.partition(":")[0], result={field: wanted}
    )
    return action, fresh, action.result.get(field) or wanted


def _by_message_id(message_id: str) -> str:
    return f"rfc822msgid:{message_id.strip('<>')}"


def _draft_landed(gmail: GoogleClient, message_id: str) -> dict[str, Any] | None:
    """Gmail's draft whose message has this Message-ID, or None when Gmail has none."""
    query = _by_message_id(message_id)
    request = gmail.service.users().drafts().list(userId="me", q=query, maxResults=1)
    found = gmail.run(request, what="the draft check").get("drafts") or []
    return found[0] if found else None


def gmail_draft(
    *, tenant_id: int, call_key: str, to: str, subject: str, body: str, **extra: str
) -> dict[str, Any]:
    """A draft once per `call_key`: it carries a Message-ID from the key, so a re-run that
    finds its action unfinished asks Gmail for that draft before making one."""
    if not call_key:
        raise GoogleError("gmail_draft needs the call's idempotency key")
    thread_id = extra.pop("thread_id", "")
    mail = {"to": to, "subject": subject, "body": body, **extra}
    with google_client(tenant_id=tenant_id, product=PRODUCT) as gmail:
        key = f"gmail.draft:{call_key}"
        action, fresh, message_id = _begin(
            gmail, tenant_id=tenant_id, key=key, seed=key, field="rfc822msgid", mail=mail
        )
        if not fresh:
            if action.status == ActionStatus.DONE:
                return {**action.result, "already_done": True}
            landed = (
                None if action.status == ActionStatus.FAILED else _draft_landed(gmail, message_id)
            )
            if landed is not None:
                result = {
                    "draft_id": landed["id"],
                    "message_id": (landed.get("message") or {}).get("id", ""),
                }
                action_finish(action_id=action.pk, status=ActionStatus.DONE, result=result)
                return {**result, "already_done": True}
        raw = compose(sender=gmail.access.email, message_id=message_id, **mail)
        request = (
            gmail.service.users()
            .drafts()
            .create(userId="me", body={"message": _payload(raw, thread_id)})
        )
        try:
            made = gmail.run(request, what="the draft")
        except GoogleRefused as exc:
            if exc.definite:
                action_finish(action_id=action.pk, status=ActionStatus.FAILED, error=str(exc))
            raise
    result = {"draft_id": made["id"], "message_id": made.get("message", {}).get("id", "")}
    action_finish(action_id=action.pk, status=ActionStatus.DONE, result=result)
    return result


def _landed(gmail: GoogleClient, message_id: str) -> str:
    """Gmail's id of the mail with this Message-ID, or "" when Gmail has none."""
    query = _by_message_id(message_id)
    request = gmail.service.users().messages().list(userId="me", q=query, maxResults=1)
    found = gmail.run(request, what="the sent-mail check")
    return found["messages"][0]["id"] if found.get("messages") else ""


def gmail_send(
    *, tenant_id: int, call_key: str, to: str, subject: str, body: str, **extra: str
) -> dict[str, Any]:
    """Send a mail once per `call_key`, whatever crashes or re-runs happen around it."""
    if not call_key:
        raise GoogleError("gmail_send needs the call's idempotency key")
    thread_id = extra.pop("thread_id", "")
    mail = {"to": to, "subject": subject, "body": body, **extra}
    with google_client(tenant_id=tenant_id, product=PRODUCT) as gmail:
        action, fresh, message_id = _begin(
            gmail,
            tenant_id=tenant_id,
            key=f"gmail.send:{call_key}",
            seed=call_key,
            field="message_id",
            mail=mail,
        )
        if not fresh:
            if action.status == ActionStatus.DONE:
                return {**action.result, "already_sent": True}
            landed = "" if action.status == ActionStatus.FAILED else _landed(gmail, message_id)
            if landed:
                result = {"message_id": message_id, "id": landed}
                action_finish(action_id=action.pk, status=ActionStatus.DONE, result=result)
                return {**result, "already_sent": True}
            action_restart(action_id=action.pk)
        raw = compose(sender=gmail.access.email, message_id=message_id, **mail)
        request = gmail.service.users().messages().send(userId="me", body=_payload(raw, thread_id))
        try:
            sent = gmail.run(request, what="the send")
        except GoogleNoAnswer as exc:
            raise GoogleError(
                "Gmail did not confirm the send, so it may have gone out. Do not send it "
                f"again before checking with gmail_search '{_by_message_id(message_id)}'."
            ) from exc
        except GoogleRefused as exc:
            if exc.definite:
                action_finish(action_id=action.pk, status=ActionStatus.FAILED, error=str(exc))
            raise
    result = {"message_id": message_id, "id": sent["id"], "thread_id": sent.get("threadId", "")}
    action_finish(action_id=action.pk, status=ActionStatus.DONE, result=result)
    return result


def _label_ids(
    gmail: GoogleClient, by_name: dict[str, str], names: list[str], *, create: bool
) -> list[str]:
    """The ids of `names` in `by_name` (lower-cased name -> id), creating missing ones."""
    labels = gmail.service.users().labels()
    ids = []
    for name in names:
        label_id = by_name.get(name.lower())
        if label_id is None and not create:
            raise GoogleError(f"Gmail has no label {name!r}")
        if label_id is None:
            made = gmail.run(labels.create(userId="me", body={"name": name}), what="the label")
            label_id = by_name[name.lower()] = made["id"]
        ids.append(label_id)
    return ids


def gmail_label(
    *, tenant_id: int, message_id: str, add: list[str], remove: list[str]
) -> dict[str, Any]:
    """Add labels (created when missing) to a message and remove others."""
    if not add and not remove:
        raise GoogleError("nothing to change: pass add or remove")
    with google_client(tenant_id=tenant_id, product=PRODUCT) as gmail:
        request = gmail.service.users().labels().list(userId="me")
        known = gmail.run(request, what="the labels")
        by_name = {label["name"].lower(): label["id"] for label in known.get("labels", [])}
        body = {
            "addLabelIds": _label_ids(gmail, by_name, add, create=True),
            "removeLabelIds": _label_ids(gmail, by_name, remove, create=False),
        }
        request = gmail.service.users().messages().modify(userId="me", id=message_id, body=body)
        changed = gmail.run(request, what=f"message {message_id}")
    return {"id": changed["id"], "labels": changed.get("labelIds", [])}
