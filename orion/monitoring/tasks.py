from celery import shared_task

from orion.monitoring.models import ProcessPulse
from orion.monitoring.pulses import pulse_record


@shared_task(ignore_result=True, expires=30)
def worker_pulse() -> None:
    """Scheduled every 10 s by beat; proves a worker is consuming the monitoring queue."""
    pulse_record(kind=ProcessPulse.Kind.WORKER)
