"""A fake Stripe API as a real HTTP server on 127.0.0.1, and webhooks signed as Stripe
signs them.

    with FakeStripe() as fake:                  # stripe's api base: fake.url
        ... our code creates a Checkout Session through stripe-python ...
        event = fake.checkout_complete(session_id)          # what Stripe does on payment
        body, signature = fake.signed(event, "whsec_test")  # POST to our webhook endpoint
        fake.subscription_set(sub_id, status="past_due")    # a renewal payment failed

It keeps customers, subscriptions, Checkout Sessions and Customer Portal sessions in
memory and answers in Stripe's shapes (objects with "object", errors as {"error": {...}}),
so stripe-python's own parsing is exercised. Requests without a Bearer key get Stripe's 401.
A Checkout Session created again with the same Idempotency-Key and the same parameters is
the same session, as at Stripe (other parameters under a used key: Stripe's 400).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from typing import Any

from orion.core.fakes.server import FakeServer, Reply, Request

__all__ = ["FakeStripe", "stripe_signature"]

MONTH_S = 30 * 24 * 3600


def stripe_signature(payload: bytes, secret: str, timestamp: int) -> str:
    """The Stripe-Signature header: HMAC-SHA256 of "<timestamp>.<body>" with the secret."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _error(status: int, message: str, *, kind: str = "invalid_request_error", code: str = ""):
    return Reply(status=status, json={"error": {"type": kind, "message": message, "code": code}})


class FakeStripe(FakeServer):
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host=host, port=port)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.customers: dict[str, dict] = {}
        self.subscriptions: dict[str, dict] = {}
        self.checkout_sessions: dict[str, dict] = {}
        self.portal_sessions: dict[str, dict] = {}
        self._idempotent: dict[str, tuple[dict, Reply]] = {}
        self._idempotent_lock = threading.Lock()
        self.script("POST", "/v1/checkout/sessions", self._checkout_create)
        self.script("POST", "/v1/billing_portal/sessions", self._portal_create)
        self.script("POST", "/v1/customers", self._customer_create)
        self.script("GET", "/v1/customers/*", self._retrieve(self.customers, "customer"))
        self.script(
            "GET", "/v1/subscriptions/*", self._retrieve(self.subscriptions, "subscription")
        )

    # -- what Stripe does outside the API (the tests' script) --------------------------------

    def checkout_complete(self, session_id: str, *, status: str = "active") -> dict:
        """The customer paid: a customer (unless the session had one) and a subscription
        to the session's price exist; returns the `checkout.session.completed` event."""
        session = self.checkout_sessions[session_id]
        customer = session["customer"] or self.customer_add(email=session["customer_email"])
        sub = self.subscription_add(
            customer=customer,
            price=session["line_items"][0]["price"],
            status=status,
            metadata=session["subscription_data"].get("metadata", {}),
        )
        session.update(customer=customer, subscription=sub["id"], status="complete")
        return self.event("checkout.session.completed", session)

    def customer_add(self, *, email: str = "") -> str:
        customer_id = self._new_id("cus")
        self.customers[customer_id] = {"id": customer_id, "object": "customer", "email": email}
        return customer_id

    def subscription_add(
        self, *, customer: str, price: str, status: str = "active", metadata: dict | None = None
    ) -> dict:
        now = int(time.time())
        sub_id = self._new_id("sub")
        self.subscriptions[sub_id] = {
            "id": sub_id,
            "object": "subscription",
            "customer": customer,
            "status": status,
            "created": now,
            "metadata": dict(metadata or {}),
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": self._new_id("si"),
                        "object": "subscription_item",
                        "price": {"id": price, "object": "price"},
                        "current_period_start": now,
                        "current_period_end": now + MONTH_S,
                    }
                ],
            },
        }
        return self.subscriptions[sub_id]

    def subscription_set(
        self, sub_id: str, *, status: str | None = None, price: str | None = None
    ) -> dict:
        """Change a subscription as Stripe would (a failed renewal, a plan change)."""
        sub = self.subscriptions[sub_id]
        if status is not None:
            sub["status"] = status
        if price is not None:
            sub["items"]["data"][0]["price"]["id"] = price
        return sub

    def invoice(self, sub_id: str, *, paid: bool) -> dict:
        """An invoice of the subscription, in the API version's shape (parent details)."""
        sub = self.subscriptions[sub_id]
        return {
            "id": self._new_id("in"),
            "object": "invoice",
            "customer": sub["customer"],
            "status": "paid" if paid else "open",
            "parent": {
                "type": "subscription_details",
                "subscription_details": {"subscription": sub_id, "metadata": sub["metadata"]},
            },
        }

    def event(self, type_: str, obj: dict, *, created: int | None = None) -> dict:
        """An event carrying a snapshot of `obj` as it is now."""
        return {
            "id": self._new_id("evt"),
            "object": "event",
            "type": type_,
            "created": created if created is not None else int(time.time()),
            "api_version": "2026-10-28.endive",
            "livemode": False,
            "data": {"object": json.loads(json.dumps(obj))},
        }

    @staticmethod
    def signed(event: dict, secret: str, *, timestamp: int | None = None) -> tuple[bytes, str]:
        """The webhook body and its Stripe-Signature header, as Stripe sends them."""
        body = json.dumps(event).encode()
        return body, stripe_signature(body, secret, timestamp or int(time.time()))

    # -- the API -----------------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}_fake{next(self._ids):06d}"

    @staticmethod
    def _unauthorized(request: Request) -> Reply | None:
        if not request.headers.get("authorization", "").startswith("Bearer sk_"):
            return _error(401, "Invalid API Key provided.", kind="invalid_request_error")
        return None

    def _checkout_create(self, request: Request) -> Reply:
        if denied := self._unauthorized(request):
            return denied
        form = request.form()
        key = request.headers.get("idempotency-key", "")
        with self._idempotent_lock:
            if key and key in self._idempotent:
                earlier, reply = self._idempotent[key]
                if earlier != form:
                    return _error(
                        400,
                        "Keys for idempotent requests can only be used with the "
                        "same parameters they were first used with.",
                        kind="idempotency_error",
                    )
                return reply
            reply = self._checkout_open(form)
            if key:
                self._idempotent[key] = (form, reply)
            return reply

    def _checkout_open(self, form: dict[str, str]) -> Reply:
        price = form.get("line_items[0][price]", "")
        if form.get("mode") != "subscription" or not price:
            return _error(400, "mode=subscription and line_items[0][price] are required.")
        session_id = self._new_id("cs")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "subscription",
            "status": "open",
            "url": f"{self.url}/pay/{session_id}",
            "customer": form.get("customer") or None,
            "customer_email": form.get("customer_email", ""),
            "client_reference_id": form.get("client_reference_id"),
            "success_url": form.get("success_url"),
            "cancel_url": form.get("cancel_url"),
            "subscription": None,
            "line_items": [
                {"price": price, "quantity": int(form.get("line_items[0][quantity]", 1))}
            ],
            "metadata": _nested(form, "metadata"),
            "subscription_data": {"metadata": _nested(form, "subscription_data[metadata]")},
        }
        self.checkout_sessions[session_id] = session
        return Reply(json={k: v for k, v in session.items() if k != "line_items"})

    def _portal_create(self, request: Request) -> Reply:
        if denied := self._unauthorized(request):
            return denied
        form = request.form()
        customer = form.get("customer", "")
        if customer not in self.customers:
            return _error(400, f"No such customer: '{customer}'", code="resource_missing")
        session_id = self._new_id("bps")
        session = {
            "id": session_id,
            "object": "billing_portal.session",
            "customer": customer,
            "return_url": form.get("return_url"),
            "url": f"{self.url}/portal/{session_id}",
        }
        self.portal_sessions[session_id] = session
        return Reply(json=session)

    def _customer_create(self, request: Request) -> Reply:
        if denied := self._unauthorized(request):
            return denied
        customer_id = self.customer_add(email=request.form().get("email", ""))
        return Reply(json=self.customers[customer_id])

    def _retrieve(self, store: dict[str, dict], kind: str):
        def answer(request: Request) -> Reply:
            if denied := self._unauthorized(request):
                return denied
            object_id = request.path.rstrip("/").rsplit("/", 1)[-1]
            if object_id not in store:
                return _error(404, f"No such {kind}: '{object_id}'", code="resource_missing")
            return Reply(json=store[object_id])

        return answer


def _nested(form: dict[str, str], prefix: str) -> dict[str, Any]:
    """`metadata[tenant_id]=7` form keys as {"tenant_id": "7"}."""
    head = f"{prefix}["
    return {
        key[len(head) : -1]: value
        for key, value in form.items()
        if key.startswith(head) and key.endswith("]") and "[" not in key[len(head) : -1]
    }
