from django.db import models


class ProcessPulse(models.Model):
    """The last sign of life of a platform process (a worker, beat), for /readyz."""

    class Kind(models.TextChoices):
        WORKER = "worker", "Celery worker"
        BEAT = "beat", "Celery beat"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    hostname = models.CharField(max_length=200)
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "hostname"], name="pulse_kind_host_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.hostname} @ {self.seen_at:%H:%M:%S}"
