"""The price table: what a million tokens cost per provider and model (platform-wide)."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

USD_PER_MTOK = {
    "max_digits": 10,
    "decimal_places": 4,
    "validators": [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(10_000))],
}


class ModelPrice(models.Model):
    """USD per million tokens. A price in USD per million tokens is also micro-USD per
    token, the unit every cost in billing is counted in. `provider` empty: any provider
    serving that model name (an exact provider row wins)."""

    provider = models.CharField(
        max_length=60, blank=True, help_text="the provider's name in Orion; empty: any provider"
    )
    model = models.CharField(max_length=120)
    input_usd_per_mtok = models.DecimalField(**USD_PER_MTOK)
    output_usd_per_mtok = models.DecimalField(**USD_PER_MTOK)
    cached_input_usd_per_mtok = models.DecimalField(**USD_PER_MTOK)
    local = models.BooleanField(default=False, help_text="runs on our own hardware: free")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider", "model"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "model"], name="modelprice_provider_model")
        ]

    def __str__(self) -> str:
        return f"{self.provider or '*'}/{self.model}"
