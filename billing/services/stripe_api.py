"""The Stripe client, pointed at ORION_STRIPE_API_BASE (a fake server in tests).

stripe-python directly, not dj-stripe: billing already owns its models (plans, accounts,
events) and needs five Stripe objects, while dj-stripe mirrors Stripe's whole schema in
dozens of tables and syncs them on its own terms."""

from __future__ import annotations

import stripe
from django.conf import settings


class StripeNotConfigured(RuntimeError):
    """STRIPE_SECRET_KEY (or STRIPE_WEBHOOK_SECRET for webhooks) is not set."""


def stripe_client() -> stripe.StripeClient:
    key = settings.STRIPE_SECRET_KEY
    if not key:
        raise StripeNotConfigured("STRIPE_SECRET_KEY is not set")
    return stripe.StripeClient(
        api_key=key,
        base_addresses={"api": settings.ORION_STRIPE_API_BASE},
        max_network_retries=2,
    )
