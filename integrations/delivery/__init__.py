"""The Delivery path: every outbound message (Telegram, Discord, Slack, email) is a Delivery
row with an idempotency key, sent by a Celery task under its channel's policy, one
DeliveryAttempt row per try, exactly once where the provider allows it.

Who writes what: `services.delivery_enqueue` (and the outbound port's handler) writes the
rows in the caller's transaction and queues `tasks.delivery_send` on commit; the task runs
`send.delivery_send_now` and, on a transient failure, queues itself again with a countdown;
`tasks.deliveries_sweep` queues again what the broker lost or a dead worker held.

After a crash (the attempt row is committed before every request; a re-run that finds it
`started` without an outcome never resends blindly):

=========  ===================================================================
Telegram   no idempotency key at the Bot API: the delivery becomes **unknown**.
Discord    webhooks take no idempotency key: **unknown**.
Slack      asked: the key rides in the message's `metadata`, `conversations.history`
           is searched for it; found: **sent**; not found: sent again.
Email      the Message-ID is derived from the key (a mailbox may drop a copy), but SMTP
           cannot be asked: **unknown**.
=========  ===================================================================

An ambiguous answer (500/502/504, a timeout after sending, a dropped SMTP connection) is
treated the same way: unknown, except Slack, which asks on its next try.
Policies (tries, floors, cap, jitter, size limits): `policy.py`.
"""
