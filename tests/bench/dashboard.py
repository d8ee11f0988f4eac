"""A signed-in dashboard request: latency and query count, against /healthz (the floor of
a request through the same middleware stack) in the same run."""

from __future__ import annotations

N = 300


def run() -> dict:
    from tests.bench.harness import django_test_db, p50, pct, timed_ms

    with django_test_db():
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from tenants.services.tenants import tenant_create_for_owner, tenant_update_settings
        from tests.conftest import make_user

        owner = make_user("owner@bench.test")
        tenant = tenant_create_for_owner(name="Bench Bakery", owner=owner)
        for i in range(50):
            tenant_update_settings(
                tenant=tenant, actor=owner, name=f"Bench Bakery {i}", timezone="UTC"
            )
        client = Client()
        client.force_login(owner)
        assert client.get("/").status_code == 200

        with CaptureQueriesContext(connection) as queries:
            client.get("/")
        query_count = len(queries.captured_queries)  # now: a reconnect clears the log
        dashboard = timed_ms(lambda: client.get("/"), N)
        floor = timed_ms(lambda: client.get("/healthz"), N)
        return {
            "requests": N,
            "db": connection.vendor,
            "dashboard_p50_ms": p50(dashboard),
            "dashboard_p99_ms": pct(dashboard, 99),
            "dashboard_queries": query_count,
            "healthz_p50_ms": p50(floor),
            "ratio_vs_healthz": p50(dashboard) / p50(floor),
        }
