"""Prices and costs. Every cost is micro-USD (an integer): a price in USD per million
tokens is exactly micro-USD per token, and sums of many tiny calls stay exact."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from billing.models import ModelPrice
from billing.services.staff import staff_row_save

logger = logging.getLogger(__name__)
PRICE_CACHE_S = 30.0


@dataclass(frozen=True)
class Price:
    input: Decimal
    output: Decimal
    cached_input: Decimal
    unpriced: bool = False


# A model missing from the price table is charged like the dearest common model (Claude
# Opus list prices, cache reads at the full input price): never free, rarely undercharged.
UNPRICED = Price(Decimal(15), Decimal(75), Decimal(15), unpriced=True)
_cache: dict[tuple[str, str], tuple[float, Price]] = {}


def price_cache_clear() -> None:
    """Forget cached prices (after an edit in this process; others re-read within 30 s)."""
    _cache.clear()


def price_for(*, provider: str, model: str) -> Price:
    """The price of `model` at `provider`: the provider's own row, else the row for any
    provider, else UNPRICED (logged, and flagged on the usage it prices)."""
    now = time.monotonic()
    hit = _cache.get((provider, model))
    if hit is not None and hit[0] > now:
        return hit[1]
    rows = {
        row.provider: row
        for row in ModelPrice.objects.filter(model=model, provider__in=(provider, ""))
    }
    row = rows.get(provider) or rows.get("")
    if row is None:
        logger.warning("no price for model %r of provider %r: charged as unpriced", model, provider)
        price = UNPRICED
    elif row.local:
        price = Price(Decimal(0), Decimal(0), Decimal(0))
    else:
        price = Price(
            row.input_usd_per_mtok, row.output_usd_per_mtok, row.cached_input_usd_per_mtok
        )
    _cache[(provider, model)] = (now + PRICE_CACHE_S, price)
    return price


def cost_micros(
    *, price: Price, input_tokens: int, output_tokens: int, cached_tokens: int = 0
) -> int:
    """What a call cost, rounded up to the micro-USD. `input_tokens` includes the cached
    ones (as providers report them)."""
    cached = min(max(cached_tokens, 0), max(input_tokens, 0))
    exact = (
        (max(input_tokens, 0) - cached) * price.input
        + cached * price.cached_input
        + max(output_tokens, 0) * price.output
    )
    return math.ceil(exact)


def prompt_tokens_estimate(*, utf8_bytes: int, messages: int) -> int:
    """An upper estimate of a prompt's tokens: a token is rarely under 3 bytes of UTF-8
    (about 4 in English; one CJK character is 3 bytes and about one token), plus a few
    tokens of framing per message."""
    return math.ceil(utf8_bytes / 3) + 8 * messages


PRICE_FIELDS = (
    "provider",
    "model",
    "input_usd_per_mtok",
    "output_usd_per_mtok",
    "cached_input_usd_per_mtok",
    "local",
)


def _snapshot(row: ModelPrice) -> dict[str, str]:
    return {name: str(getattr(row, name)) for name in PRICE_FIELDS}


def model_price_save(*, row: ModelPrice, actor_user: Any) -> ModelPrice:
    """Save a staff edit of the price table (validated, audited)."""
    staff_row_save(row=row, actor_user=actor_user, verb="model_price.saved", snapshot=_snapshot)
    price_cache_clear()
    return row
