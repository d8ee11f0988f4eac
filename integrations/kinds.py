"""Each connection kind is a package `integrations/<kind>/` (transport or client, form,
views, templates, tests, like healthchecks' integrations). A package with a `card.py`
shows a card on the integrations page; one with a `urls.py` is served under
`/integrations/<kind>/`. Both are found by looking, so adding a kind edits no shared file.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import integrations

_NOT_KINDS = {"models", "migrations", "portal", "services", "delivery", "api", "admin"}


@dataclass(frozen=True)
class Card:
    """What a kind shows on the integrations page. `context(request, connection)` gives the
    card template its variables besides `connection` (None when not connected)."""

    kind: str
    label: str
    template: str
    order: int = 100
    context: Callable[[Any, Any], dict[str, Any]] | None = None


def kind_packages() -> list[str]:
    return sorted(
        m.name
        for m in pkgutil.iter_modules(integrations.__path__)
        if m.ispkg and m.name not in _NOT_KINDS
    )


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def kinds_with(module: str) -> list[str]:
    return [k for k in kind_packages() if _has(f"integrations.{k}.{module}")]


@cache
def cards() -> tuple[Card, ...]:
    found = [importlib.import_module(f"integrations.{k}.card").CARD for k in kinds_with("card")]
    return tuple(sorted(found, key=lambda c: (c.order, c.label)))
