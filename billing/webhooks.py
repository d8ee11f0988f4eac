"""Stripe's webhook endpoint: no session, no CSRF token; the signature is the credential."""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing.services.stripe_api import StripeNotConfigured
from billing.services.subscriptions import (
    BillingUnavailable,
    WebhookRejected,
    stripe_webhook_receive,
)

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """400: not a validly signed event (Stripe does not retry a 4xx into success);
    503: we cannot apply it now (Stripe retries); 200: applied, or ignored (a replay)."""
    try:
        outcome = stripe_webhook_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
    except WebhookRejected as exc:
        return JsonResponse({"detail": str(exc)}, status=400)
    except (StripeNotConfigured, BillingUnavailable) as exc:
        logger.warning("stripe webhook deferred: %s", exc)
        return JsonResponse({"detail": "Not processed now; retry later."}, status=503)
    return JsonResponse({"received": True, "outcome": outcome})
