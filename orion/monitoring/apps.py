from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "orion.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from orion.monitoring import pulses  # noqa: F401  (connects the beat signals)
