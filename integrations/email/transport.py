"""Email through Django's configured mail backend (SMTP in production).

One message per delivery, to `recipient`, with a Message-ID derived from the delivery's
key: a receiving server or mailbox that sees the same Message-ID twice may drop the
copy, but SMTP has no idempotency key we can rely on. Hence: failing to reach or log in
to the mail server sends nothing and is retried; a 4xx reply (the server declined for
now, before accepting the message) is retried; a 5xx reply fails the delivery; a
connection that drops or times out after the conversation began may have delivered the
message, so the delivery becomes unknown.
"""

from __future__ import annotations

import contextlib
import hashlib
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from integrations.delivery.errors import Ambiguous, Permanent, Transient
from integrations.delivery.policy import timeout_s
from integrations.delivery.transports import Outgoing

WHAT = "the mail server"


def message_id(*, tenant_id: int, key: str) -> str:
    digest = hashlib.sha256(f"{tenant_id}:{key}".encode()).hexdigest()[:32]
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "orion.local"
    return f"<delivery.{digest}@{domain}>"


def send(message: Outgoing) -> str:
    if not message.recipient:
        raise Permanent("There is no address to send this email to.")
    ident = message_id(tenant_id=message.tenant_id, key=message.key)
    connection = get_connection(fail_silently=False, timeout=timeout_s())
    try:
        connection.open()
    except (OSError, smtplib.SMTPException) as exc:
        raise Transient(f"could not reach {WHAT} ({type(exc).__name__}: {exc})") from exc
    email = EmailMessage(
        subject=message.subject,
        body=message.text,
        to=[message.recipient],
        headers={"Message-ID": ident},
        connection=connection,
    )
    try:
        sent = connection.send_messages([email])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        error = f"{WHAT} refused the address {message.recipient} ({codes})"
        if codes and all(code >= 500 for code in codes):
            raise Permanent(error) from exc
        raise Transient(error) from exc
    except smtplib.SMTPResponseException as exc:
        reply = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else exc.smtp_error
        )
        error = f"{WHAT} answered {exc.smtp_code} ({reply})"
        if 400 <= exc.smtp_code < 500:
            raise Transient(error) from exc
        raise Permanent(error) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise Ambiguous(
            f"the connection to {WHAT} broke before it confirmed the message ({type(exc).__name__})"
        ) from exc
    finally:
        with contextlib.suppress(Exception):
            connection.close()
    if not sent:
        raise Transient(f"{WHAT} took nothing")
    return ident
