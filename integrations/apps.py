from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        from integrations.delivery.services import outbound_deliver
        from orion.core.outbound import outbound_register

        outbound_register(outbound_deliver)
