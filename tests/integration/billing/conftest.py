"""Billing fixtures: the control plane's team over a fake model server, prices known, and
a fake Stripe API server that stripe-python is pointed at."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.test import Client

from billing.models import Plan
from billing.services.prices import price_cache_clear
from orion.core.fakes.stripe import FakeStripe
from tests.integration.control_plane.conftest import chain, llm, runner, team  # noqa: F401

WEBHOOK_SECRET = "whsec_test_orion_h5"
WEBHOOK = "/billing/stripe/webhook/"


@pytest.fixture(autouse=True)
def _fresh_prices() -> Iterator[None]:
    price_cache_clear()
    yield
    price_cache_clear()


@pytest.fixture
def fake_stripe(settings) -> Iterator[FakeStripe]:
    with FakeStripe() as server:
        settings.ORION_STRIPE_API_BASE = server.url
        settings.STRIPE_SECRET_KEY = "sk_test_orion"
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.SITE_URL = "https://orion.test"
        yield server


@pytest.fixture
def plans(db) -> dict[str, Plan]:
    return {
        "starter": Plan.objects.create(
            name="Starter", stripe_price_id="price_starter", monthly_usd=29
        ),
        "team": Plan.objects.create(name="Team", stripe_price_id="price_team", monthly_usd=99),
        "old": Plan.objects.create(name="Legacy", stripe_price_id="price_old", active=False),
    }


@pytest.fixture
def deliver(fake_stripe) -> Callable:
    """POST an event to the webhook endpoint, signed as Stripe signs it."""
    client = Client()

    def post(event: dict, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None):
        body, signature = fake_stripe.signed(event, secret, timestamp=timestamp)
        return client.post(
            WEBHOOK, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
        )

    return post


@pytest.fixture
def subscribed(cast, fake_stripe, plans, deliver) -> str:
    """The cast's company subscribed to Starter through Checkout; returns the subscription id."""
    from billing.services.subscriptions import checkout_start

    url = checkout_start(
        tenant=cast.tenant, plan_id=str(plans["starter"].pk), actor_user=cast.owner
    )
    session_id = url.rsplit("/", 1)[-1]
    response = deliver(fake_stripe.checkout_complete(session_id))
    assert response.status_code == 200, response.content
    return fake_stripe.checkout_sessions[session_id]["subscription"]
