"""The Delivery path under load: 1,000 deliveries across Telegram, Discord, Slack and email
against the fakes (real HTTP servers and a real SMTP server on 127.0.0.1), 20 % of them
refused once (429 with the provider's retry_after / Retry-After, or 503; SMTP 451).

PRODUCERS threads (web requests, agents) enqueue each delivery in its own transaction
(delivery_enqueue, as the product does; the on-commit publish goes to the Redis named by
REDIS_URL, as in production, else to kombu's in-memory transport; nothing consumes it and
the queues are purged at the end). A driver plays
the worker pool: WORKERS threads run `delivery_send_now` (the task's body) on deliveries
as they are queued, and a retry goes back on a timer for exactly the `retry_in` the
engine returned (the countdown the task would give Celery), so the floors and the
providers' waits are honoured in real time. Nothing sleeps in a "worker" thread. The
fakes, producers and driver share one process (and its GIL) on this 2-core machine.

Reported: per_s (the burst of N: deliveries settled per second, first enqueue to last
settle), p50/p95_ms end to end for the burst (created_at to sent_at, from the rows: the
time spent queued behind the burst included), light_p50/p95_ms for N_LIGHT more sent at
LIGHT_PER_S (no queue: the path's own latency, retries included), duplicates (messages
a fake took more than once), lost (deliveries not sent, or sent without the fake having
the message), retried (deliveries that needed a second try), requests (HTTP requests).
"""

from __future__ import annotations

import heapq
import os
import queue
import threading
import time

N = int(os.environ.get("BENCH_N", "1000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "8"))
PRODUCERS = int(os.environ.get("BENCH_PRODUCERS", "4"))
N_LIGHT = int(os.environ.get("BENCH_N_LIGHT", "200"))
LIGHT_PER_S = float(os.environ.get("BENCH_LIGHT_PER_S", "20"))
TENANTS = 5
KINDS = ("telegram", "discord", "slack", "email")
DEADLINE_S = 180


def _fault(index: int) -> str | None:
    """The scripted first-try fault of message `index`: 20 % of messages, half 429, half 503."""
    if index % 5:
        return None
    return "429" if index % 10 == 0 else "503"


def _index(text: str) -> int:
    return int(text.split(":", 1)[0].removeprefix("bench "))


class Driver:
    """WORKERS threads sending due deliveries; a timer thread re-queues retries when due."""

    def __init__(self) -> None:
        self.ready: queue.Queue[int | None] = queue.Queue()
        self.timers: list[tuple[float, int]] = []
        self.lock = threading.Condition()
        self.settled = 0
        self.settled_at = 0.0
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(WORKERS)]
        self.threads.append(threading.Thread(target=self._timer, daemon=True))

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def _work(self) -> None:
        from django.db import connection

        from integrations.delivery.services import delivery_send_now
        from orion.core.rows import independent_close

        try:
            while (delivery_id := self.ready.get()) is not None:
                try:
                    result = delivery_send_now(delivery_id=delivery_id)
                except Exception as exc:  # a bench must report, not hang
                    self.errors.append(repr(exc))
                    continue
                with self.lock:
                    if result.retry_in is not None:
                        heapq.heappush(
                            self.timers, (time.monotonic() + result.retry_in, delivery_id)
                        )
                        self.lock.notify()
                    else:
                        self.settled += 1
                        self.settled_at = time.monotonic()
                        self.lock.notify_all()
        finally:
            connection.close()
            independent_close()

    def _timer(self) -> None:
        with self.lock:
            while not self.stop.is_set():
                now = time.monotonic()
                while self.timers and self.timers[0][0] <= now:
                    self.ready.put(heapq.heappop(self.timers)[1])
                wait = self.timers[0][0] - now if self.timers else 0.5
                self.lock.wait(timeout=max(wait, 0.001))

    def wait_settled(self, n: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.lock:
            while self.settled < n and time.monotonic() < deadline:
                self.lock.wait(timeout=0.2)
            return self.settled >= n

    def close(self) -> None:
        self.stop.set()
        with self.lock:
            self.lock.notify_all()
        for _ in range(WORKERS):
            self.ready.put(None)
        for thread in self.threads:
            thread.join(timeout=10)


def run() -> dict:
    from orion.celery import app
    from orion.core import loopback_guard
    from orion.core.fakes.messaging import FakeDiscord, FakeSlack, FakeTelegram
    from orion.core.fakes.smtp import FakeSMTP
    from tests.bench.harness import django_test_db, p50, pct

    broker = os.environ.get("REDIS_URL") or "memory://"
    app.conf.broker_url = broker
    loopback_guard.install()
    with (
        django_test_db(),
        FakeTelegram(retry_after=1) as tg,
        FakeDiscord(retry_after=0.5) as dc,
        FakeSlack(retry_after=1) as sl,
        FakeSMTP() as smtp,
    ):
        from django.conf import settings
        from django.db import transaction

        from integrations.delivery.services import delivery_enqueue
        from integrations.models import Delivery, DeliveryAttempt, DeliveryStatus
        from integrations.services.connections import connection_connect
        from tenants.services.tenants import tenant_create_for_owner
        from tests.conftest import make_user

        settings.ORION_TELEGRAM_API_BASE = tg.base_url
        settings.ORION_DISCORD_API_BASE = dc.base_url
        settings.ORION_SLACK_API_BASE = sl.base_url
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = smtp.host, smtp.port
        for fake in (tg, dc, sl):
            fake.fault_for = lambda payload, seen: (
                _fault(_index(str(payload.get("text") or payload.get("content"))))
                if seen == 1
                else None
            )
        smtp.fault_for = lambda text, seen: (
            "data_451" if seen == 1 and _fault(_index(text)) else None
        )

        tenants = []
        for t in range(TENANTS):
            tenant = tenant_create_for_owner(name=f"Bench {t}", owner=make_user(f"o{t}@bench.test"))
            connection_connect(
                tenant_id=tenant.pk,
                kind="telegram",
                config={"chat_id": f"-100{t}"},
                secret={"token": f"{t}:" + "a" * 35},
            )
            connection_connect(
                tenant_id=tenant.pk,
                kind="discord",
                config={},
                secret={"webhook_url": dc.webhook_url(str(t))},
            )
            connection_connect(
                tenant_id=tenant.pk,
                kind="slack",
                config={"channel": f"C00{t}XYZ"},
                secret={"token": f"xoxb-{t}-" + "b" * 24},
            )
            tenants.append(tenant)

        driver = Driver()
        driver.start()
        enqueue_ms: list[float] = []

        def produce(indexes: range, pace_s: float = 0.0) -> None:
            from django.db import connection

            try:
                for i in indexes:
                    if pace_s:
                        time.sleep(pace_s)
                    kind = KINDS[i % len(KINDS)]
                    t0 = time.perf_counter()
                    with transaction.atomic():
                        (delivery,) = delivery_enqueue(
                            tenant_id=tenants[i % TENANTS].pk,
                            kind=kind,
                            body=f"bench {i}: the daily report is <b>ready</b>",
                            key=f"bench-{i}",
                            subject="Bench",
                            recipient=f"user{i}@bench.test" if kind == "email" else "",
                        )
                    enqueue_ms.append((time.perf_counter() - t0) * 1000)
                    driver.ready.put(delivery.pk)  # the worker takes the published message
            finally:
                connection.close()

        started = time.monotonic()
        producers = [
            threading.Thread(target=produce, args=(range(p, N, PRODUCERS),))
            for p in range(PRODUCERS)
        ]
        for producer in producers:
            producer.start()
        for producer in producers:
            producer.join()
        produced_s = time.monotonic() - started
        finished = driver.wait_settled(N, DEADLINE_S)
        elapsed = driver.settled_at - started
        # Light load: the same mix at LIGHT_PER_S, well under capacity.
        produce(range(N, N + N_LIGHT), pace_s=1 / LIGHT_PER_S)
        finished = driver.wait_settled(N + N_LIGHT, DEADLINE_S) and finished
        driver.close()

        rows = list(
            Delivery.objects.unscoped().values_list(
                "key", "status", "created_at", "sent_at", "body"
            )
        )
        sent = [r for r in rows if r[1] == DeliveryStatus.SENT]
        burst = [(r[3] - r[2]).total_seconds() * 1000 for r in sent if _index(r[4]) < N]
        light = [(r[3] - r[2]).total_seconds() * 1000 for r in sent if _index(r[4]) >= N]
        taken = [m["text"] for fake in (tg, dc, sl) for m in fake.accepted] + [
            m.get_payload().strip() for m in smtp.messages
        ]
        taken_set = set(taken)
        lost = (N + N_LIGHT - len(sent)) + sum(1 for r in sent if r[4] not in taken_set)
        retried = (
            DeliveryAttempt.objects.unscoped()
            .values("delivery_id")
            .distinct()
            .filter(number=2)
            .count()
        )
        from django.db import connection

        app.control.purge()  # the task messages no worker here consumed
        return {
            "db": connection.vendor,
            "broker": broker.split(":", 1)[0],
            "n": N,
            "workers": WORKERS,
            "producers": PRODUCERS,
            "per_s": N / elapsed if finished and elapsed > 0 else 0.0,
            "p50_ms": p50(burst) if burst else -1.0,
            "p95_ms": pct(burst, 95) if burst else -1.0,
            "light_per_s": LIGHT_PER_S,
            "light_p50_ms": p50(light) if light else -1.0,
            "light_p95_ms": pct(light, 95) if light else -1.0,
            "duplicates": len(taken) - len(taken_set),
            "lost": lost,
            "retried": retried,
            "enqueue_p50_ms": p50(enqueue_ms),
            "produced_s": produced_s,
            "elapsed_s": elapsed,
            "requests": len(tg.requests) + len(dc.requests) + len(sl.requests),
            "smtp_messages": len(smtp.messages),
            "errors": len(driver.errors),
            "driver": "threads-honouring-retry_in",
        }
