"""The Celery app: JSON only, late acks, named queues, per-tenant routing."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orion.settings")

app = Celery("orion")
app.config_from_object("django.conf:settings", namespace="CELERY")
# One direct exchange per queue, so a message routed to a queue lands in that queue only.
QUEUES = ("default", "agents", "deliveries", "monitoring")
app.conf.task_queues = [Queue(q, Exchange(q, type="direct"), routing_key=q) for q in QUEUES]
app.autodiscover_tasks()

# Which named queue each app's tasks belong to, by module prefix.
QUEUE_BY_PREFIX = {
    "agents.": "agents",
    "integrations.": "deliveries",
    "orion.monitoring.": "monitoring",
}


def route_task(
    name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **kw: Any
) -> dict:
    """Send a task to its app's queue; a tenant with a dedicated queue gets `<queue>.t<id>`."""
    from django.conf import settings

    queue = next((q for p, q in QUEUE_BY_PREFIX.items() if name.startswith(p)), "default")
    tenant_id = (kwargs or {}).get("tenant_id")
    if tenant_id is not None and int(tenant_id) in settings.ORION_DEDICATED_TENANT_QUEUES:
        queue = f"{queue}.t{int(tenant_id)}"
    return {"queue": queue}
