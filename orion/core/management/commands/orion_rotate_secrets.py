"""Re-encrypt every EncryptedTextField value with the newest key of ORION_SECRET_KEYS."""

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from orion.core.secrets import EncryptedTextField, Secret, SecretUndecryptable


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            names = [f.name for f in fields]
            rotated, broken = 0, 0
            with transaction.atomic():
                for row in model._base_manager.select_for_update().only("pk", *names):
                    try:
                        for name in names:
                            value = getattr(row, name)
                            if isinstance(value, Secret):
                                setattr(row, name, value.rotated())
                    except SecretUndecryptable:
                        broken += 1
                        continue
                    row.save(update_fields=names)
                    rotated += 1
            self.stdout.write(
                f"{model._meta.label}: {rotated} rows re-encrypted, {broken} undecryptable"
            )
