"""Billing fixtures: the control plane's team over a fake model server, prices known."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from billing.services.prices import price_cache_clear
from tests.integration.control_plane.conftest import chain, llm, runner, team  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_prices() -> Iterator[None]:
    price_cache_clear()
    yield
    price_cache_clear()
