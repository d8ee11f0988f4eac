from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "orion.core"
    label = "core"
