"""Sending one delivery: claim it, settle an interrupted attempt, try, record the outcome.

Every write here goes through `orion.core.rows.independent_alias()`: committed at once
and durably (synchronous commit), whatever transaction the caller holds. The order is
what makes a send happen once:

1. claim: one conditional UPDATE takes the delivery when it is due (queued or retrying
   with `next_attempt_at` passed) or when another worker's lease expired; the row count
   says who won, so two workers never send the same delivery;
2. a claim that finds the last attempt `started` (its worker died after the request may
   have left) or `unknown` does not send blindly: a transport that can be asked (Slack)
   is asked, anything else makes the delivery unknown;
3. the attempt row is committed before the request leaves;
4. the outcome and the delivery's next state are written together, in one statement
   guarded by the lease, before anything else (the connection's health) is touched.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, replace
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from integrations.delivery.errors import (
    Ambiguous,
    ChatMoved,
    DeliveryError,
    ParseRejected,
    Permanent,
    Transient,
)
from integrations.delivery.policy import (
    RETRY_AFTER_MAX_S,
    ChannelPolicy,
    channel_policy,
    lease_s,
)
from integrations.delivery.transports import Outgoing, can_ask, transport_for
from integrations.models import (
    MESSAGING_KINDS,
    AttemptOutcome,
    Connection,
    ConnectionStatus,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
)
from integrations.services.connections import (
    connection_record_error,
    connection_record_success,
    connection_secret,
    connection_touch_config,
)
from orion.core.rows import independent_alias, independent_refresh, row_insert, rows_update
from orion.core.secrets import SecretUndecryptable

FINAL = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN)
FOLLOW_UPS = 2  # a plain-text resend and a supergroup migration, at most once each
RETRIED = (AttemptOutcome.TRANSIENT, AttemptOutcome.UNKNOWN)
SUCCESS_RESOLUTION = timedelta(minutes=1)
# An invitation's body holds its one-time link (the invitation itself keeps only a hash);
# an account mail (allauth's: email verification, password reset) its one-time link too.
# Never shown to the team, and removed from the row once the delivery is final.
REDACTED_PURPOSES = {"invitation", "account"}
REDACTED = "(removed once final: it carried a one-time link)"


@dataclass(frozen=True)
class SendResult:
    status: str
    retry_in: float | None = None  # seconds until the delivery should be tried again


def delivery_send_now(*, delivery_id: int) -> SendResult:
    """Try `delivery_id` once now if it is due (the Celery task's body; also for tests and
    views). `retry_in` says when to run again: a transient failure, or not yet due."""
    independent_refresh()
    using = independent_alias()
    token = uuid.uuid4().hex
    now = timezone.now()
    due = Q(status__in=[DeliveryStatus.QUEUED, DeliveryStatus.RETRYING]) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    expired = Q(status=DeliveryStatus.SENDING, lease_until__lt=now)
    deliveries = Delivery.objects.unscoped().using(using)
    won = deliveries.filter(due | expired, pk=delivery_id).update(
        status=DeliveryStatus.SENDING,
        lease_until=now + timedelta(seconds=lease_s()),
        lease_token=token,
    )
    if not won:
        row = deliveries.filter(pk=delivery_id).values("status", "next_attempt_at").first()
        if row is None:
            return SendResult("missing")
        waiting = row["status"] in (DeliveryStatus.QUEUED, DeliveryStatus.RETRYING)
        if waiting and row["next_attempt_at"] is not None:
            wait = (row["next_attempt_at"] - now).total_seconds()
            return SendResult(row["status"], max(wait, 0.0))
        return SendResult(row["status"])
    delivery = deliveries.select_related("connection").get(pk=delivery_id)
    return _Send(delivery, token, using).run()


class _Send:
    def __init__(self, delivery: Delivery, token: str, using: str) -> None:
        self.delivery = delivery
        self.token = token
        self.using = using
        self.policy: ChannelPolicy = channel_policy(delivery.kind)
        self.transport = transport_for(delivery.kind)
        self.attempts = list(
            DeliveryAttempt.objects.unscoped()
            .using(using)
            .filter(delivery_id=delivery.pk)
            .order_by("number")
        )
        self.pending: list[tuple] = []

    # -- the steps ---------------------------------------------------------------------------

    def run(self) -> SendResult:
        connection = self.delivery.connection
        if self.delivery.kind in MESSAGING_KINDS:
            refusal = _unusable(self.delivery.kind, connection)
            if refusal:
                return self._finish(DeliveryStatus.FAILED, error=refusal)
        try:
            outgoing = self._outgoing(connection)
        except SecretUndecryptable:
            # Nothing was sent; left unhandled, every lease would claim it again, forever.
            return self._unreadable_secret(connection)
        last = self.attempts[-1] if self.attempts else None
        if last is not None and last.outcome in (AttemptOutcome.STARTED, AttemptOutcome.UNKNOWN):
            settled = self._settle(last, outgoing)
            if settled is not None:
                return settled
        for _ in range(FOLLOW_UPS + 1):
            attempt = self._attempt_open()
            try:
                provider_id = self.transport.send(outgoing)
            except ParseRejected as exc:
                self._attempt_close(attempt, AttemptOutcome.PERMANENT, exc, then="plain text")
                self.delivery.plain_text = True
                self.pending.append((Delivery, {"id": self.delivery.pk}, {"plain_text": True}))
                outgoing = replace(outgoing, plain=True)
                continue
            except ChatMoved as exc:
                self._attempt_close(
                    attempt, AttemptOutcome.PERMANENT, exc, then=f"the new chat {exc.chat_id}"
                )
                connection_touch_config(connection_id=connection.pk, chat_id=exc.chat_id)
                outgoing = replace(outgoing, config={**outgoing.config, "chat_id": exc.chat_id})
                continue
            except DeliveryError as exc:
                return self._failed_try(attempt, exc)
            return self._sent(attempt, provider_id)
        return self._finish(
            DeliveryStatus.FAILED, error="the provider kept refusing the message as sent"
        )

    def _unreadable_secret(self, connection: Connection | None) -> SendResult:
        error = (
            f"The stored {self.policy.label} secret can no longer be read (the key that "
            "encrypted it was removed): connect the channel again."
        )
        result = self._finish(DeliveryStatus.FAILED, error=error)
        if connection is not None:
            connection_record_error(
                connection_id=connection.pk, error=error, status=ConnectionStatus.DISABLED
            )
        return result

    def _settle(self, last: DeliveryAttempt, outgoing: Outgoing) -> SendResult | None:
        """The last try's outcome is not known. Asks the provider where it can be asked;
        None: it has no such message, send again."""
        if not can_ask(self.delivery.kind):
            error = (
                "the worker stopped after the message may have left; not sent again, "
                "to avoid a duplicate"
            )
            self._attempt_set(last, AttemptOutcome.UNKNOWN, error=error)
            return self._finish(DeliveryStatus.UNKNOWN, error=error)
        try:
            found = self.transport.lookup(replace(outgoing, since=self.attempts[0].started_at))
        except Transient as exc:
            # Ask again later. The unanswered question is an attempt of its own (nothing
            # sent), so that asking uses up the tries too.
            self._attempt_set(last, AttemptOutcome.UNKNOWN)
            self._attempt_set(
                self._attempt_open(), AttemptOutcome.UNKNOWN, error=f"could not ask: {exc.error}"
            )
            return self._retry_later(exc, give_up=DeliveryStatus.UNKNOWN)
        except DeliveryError as exc:
            self._attempt_set(last, AttemptOutcome.UNKNOWN, error=exc.error)
            return self._finish(DeliveryStatus.UNKNOWN, error=exc.error)
        if found is None:
            self._attempt_set(
                last, AttemptOutcome.UNKNOWN, error="not found at the provider: sending again"
            )
            return None
        self._attempt_set(last, AttemptOutcome.SENT, error="")
        return self._sent(None, found)

    def _failed_try(self, attempt: DeliveryAttempt, exc: DeliveryError) -> SendResult:
        if isinstance(exc, Transient):
            self._attempt_close(attempt, AttemptOutcome.TRANSIENT, exc)
            return self._retry_later(exc)
        if isinstance(exc, Ambiguous):
            self._attempt_close(attempt, AttemptOutcome.UNKNOWN, exc)
            if can_ask(self.delivery.kind):  # the next claim asks before sending again
                return self._retry_later(exc, give_up=DeliveryStatus.UNKNOWN)
            return self._finish(DeliveryStatus.UNKNOWN, error=exc.error)
        self._attempt_close(attempt, AttemptOutcome.PERMANENT, exc)
        result = self._finish(DeliveryStatus.FAILED, error=exc.error)
        if isinstance(exc, Permanent) and exc.disable and self.delivery.connection_id:
            connection_record_error(
                connection_id=self.delivery.connection_id,
                error=exc.error,
                status=ConnectionStatus.DISABLED,
            )
        return result

    def _retry_later(
        self, exc: DeliveryError, *, give_up: str = DeliveryStatus.FAILED
    ) -> SendResult:
        """Schedule the next try, or end with `give_up` when the tries are spent (unknown
        when the message may have landed)."""
        tries = self._tries()
        if not self.policy.retry.should_retry(tries):
            error = f"{exc.error} (gave up after {tries} tries)"
            result = self._finish(give_up, error=error)
            if self.delivery.connection_id and give_up == DeliveryStatus.FAILED:
                connection_record_error(connection_id=self.delivery.connection_id, error=error)
            return result
        retry_after = exc.retry_after if isinstance(exc, Transient) else None
        delay = self.policy.delay_s(max(tries, 1), retry_after=retry_after)
        return self._finish(
            DeliveryStatus.RETRYING,
            error=exc.error,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
            retry_in=delay,
        )

    def _sent(self, attempt: DeliveryAttempt | None, provider_id: str) -> SendResult:
        if attempt is not None:
            self._attempt_close(attempt, AttemptOutcome.SENT, None)
        result = self._finish(
            DeliveryStatus.SENT,
            error="",
            provider_message_id=provider_id[:200],
            sent_at=timezone.now(),
        )
        connection = self.delivery.connection
        if connection is not None and _success_news(connection):
            connection_record_success(connection_id=connection.pk)
        return result

    # -- rows ----------------------------------------------------------------------------------

    def _tries(self) -> int:
        """Tries used: failed attempts, less the rate limits the policy lets wait freely."""
        failed = [a for a in self.attempts if a.outcome in RETRIED]
        waited = sum(1 for a in failed if a.http_status == 429 and a.retry_after_ms is not None)
        return len(failed) - min(waited, self.policy.free_rate_limits)

    def _outgoing(self, connection: Connection | None) -> Outgoing:
        d = self.delivery
        return Outgoing(
            tenant_id=d.tenant_id,
            key=d.key,
            text=d.body,
            subject=d.subject,
            recipient=d.recipient,
            plain=d.plain_text,
            config=dict(connection.config) if connection else {},
            # Email needs no secret (Django's mail settings); its connection stores none.
            secret=connection_secret(connection) if connection and d.kind != "email" else {},
        )

    def _attempt_open(self) -> DeliveryAttempt:
        """The attempt row, committed (synchronous commit) before the request leaves."""
        self._flush()
        number = (self.attempts[-1].number if self.attempts else 0) + 1
        attempt = DeliveryAttempt(
            tenant_id=self.delivery.tenant_id, delivery_id=self.delivery.pk, number=number
        )
        row_insert(attempt, using=self.using)  # synchronous commit: never relaxed here
        self.attempts.append(attempt)
        return attempt

    def _attempt_close(
        self,
        attempt: DeliveryAttempt,
        outcome: str,
        exc: DeliveryError | None,
        *,
        then: str = "",
    ) -> None:
        error = "" if exc is None else exc.error + (f"; sending again as {then}" if then else "")
        retry_after = exc.retry_after if isinstance(exc, Transient) else None
        self._attempt_set(
            attempt,
            outcome,
            error=error,
            http_status=None if exc is None else exc.http_status,
            retry_after_ms=_retry_after_ms(retry_after),
        )

    def _attempt_set(self, attempt: DeliveryAttempt, outcome: str, **values: object) -> None:
        """Record an attempt's outcome; written with the next statement (`_flush`)."""
        attempt.outcome = outcome
        for name, value in values.items():
            setattr(attempt, name, value)
        self.pending.append(
            (
                DeliveryAttempt,
                {"id": attempt.pk},
                {"outcome": outcome, "finished_at": timezone.now(), **values},
            )
        )

    def _flush(self, *updates: tuple) -> None:
        """Pending outcomes and `updates` in one statement (one commit) on PostgreSQL."""
        batch, self.pending = [*self.pending, *updates], []
        if batch:
            rows_update(*batch, using=self.using)

    def _finish(
        self,
        status: str,
        *,
        error: str,
        retry_in: float | None = None,
        **values: object,
    ) -> SendResult:
        """The delivery's new state, written only while this run still holds the lease,
        together with the outcomes not yet written. A final state drops the body of a
        message that carried a one-time secret."""
        if status in FINAL and self.delivery.purpose in REDACTED_PURPOSES:
            values["body"] = REDACTED
        values = {
            "status": status,
            "last_error": error[:2000],
            "lease_until": None,
            "lease_token": "",
            "next_attempt_at": None,
            "attempt_count": self.attempts[-1].number if self.attempts else 0,
            **values,
        }
        self._flush((Delivery, {"id": self.delivery.pk, "lease_token": self.token}, values))
        return SendResult(status, retry_in)


def _retry_after_ms(seconds: float | None) -> int | None:
    """The provider's wait as the attempt keeps it, bounded like the delay it sets: a
    negative or absurd figure must not make the outcome's write fail (the delivery would
    sit in `sending` and end unknown, unsent)."""
    if seconds is None or not math.isfinite(seconds):
        return None
    return int(min(max(seconds, 0.0), RETRY_AFTER_MAX_S) * 1000)


def _success_news(connection: Connection) -> bool:
    """Is this success worth a write? A connected channel's last success is kept to the
    minute, not rewritten on every message."""
    if connection.status != ConnectionStatus.CONNECTED or connection.last_success_at is None:
        return True
    return timezone.now() - connection.last_success_at > SUCCESS_RESOLUTION


def _unusable(kind: str, connection: Connection | None) -> str:
    label = channel_policy(kind).label
    if connection is None:
        return f"The {label} connection was removed before the message was sent."
    if connection.status == ConnectionStatus.DISABLED:
        why = f" ({connection.last_error})" if connection.last_error else ""
        return f"The {label} connection is disabled{why}: reconnect it, then send again."
    return ""
