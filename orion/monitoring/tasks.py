from celery import shared_task

from orion.monitoring.heartbeats import heartbeat_record
from orion.monitoring.models import Heartbeat


@shared_task(ignore_result=True, expires=30)
def worker_heartbeat() -> None:
    """Scheduled every 10 s by beat; proves a worker is consuming the monitoring queue."""
    heartbeat_record(kind=Heartbeat.Kind.WORKER)
