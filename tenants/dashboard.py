"""Cards on the tenant's dashboard that apps above `tenants` fill in.

`tenants` may not import those apps (floors), so they register a provider here from
their `AppConfig.ready()`: `fn(request)` returns the context of its card (or None to
show the card's empty state). The dashboard view renders every registered card under
its key; the template decides how each one looks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

CardProvider = Callable[[HttpRequest], dict[str, Any] | None]

_providers: dict[str, CardProvider] = {}


def dashboard_card_register(key: str, fn: CardProvider) -> None:
    """Register (or replace: `ready()` may run twice) the provider of card `key`."""
    _providers[key] = fn


def dashboard_cards(request: HttpRequest) -> dict[str, dict[str, Any]]:
    """Each registered card's context, for the request's tenant (its scope is set)."""
    cards = {}
    for key, fn in _providers.items():
        context = fn(request)
        if context is not None:
            cards[key] = context
    return cards
