"""The OAuth web flow (google-auth-oauthlib) with `state` and PKCE.

`oauth_start` keeps the state, the PKCE code verifier, the tenant and the products asked for
in the Django session; `oauth_finish` pops them before anything else, so a forged state, a
replayed callback or a callback from another session finds nothing and stores nothing.

The callback's Flow is built without scopes on purpose: with `include_granted_scopes`
Google answers with every scope the account granted so far, and oauthlib would raise
"Scope has changed" for that; what Google granted is read from its answer instead.
"""

from __future__ import annotations

import base64
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from django.conf import settings
from google_auth_oauthlib.flow import Flow
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from integrations.google.scopes import PRODUCT_LABELS, PRODUCTS, scopes_for

SESSION_KEY = "orion_google_oauth"
TOKEN_TIMEOUT_S = 20


class OAuthRefused(Exception):
    """The flow ended without tokens; the message is shown to the person as is."""


@dataclass(frozen=True)
class Grant:
    """What one completed consent gave: tokens (secret, kept out of the repr that lands in
    tracebacks and error reports) and what may be shown."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float
    refresh_expires_at: float | None
    scopes: tuple[str, ...]
    email: str

    def secret(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
            "refresh_expires_at": self.refresh_expires_at,
        }


def client_config() -> dict[str, Any]:
    return {
        "web": {
            "client_id": settings.ORION_GOOGLE_CLIENT_ID,
            "client_secret": settings.ORION_GOOGLE_CLIENT_SECRET,
            "auth_uri": settings.ORION_GOOGLE_AUTH_URI,
            "token_uri": settings.ORION_GOOGLE_TOKEN_URI,
        }
    }


def oauth_configured() -> bool:
    return bool(settings.ORION_GOOGLE_CLIENT_ID and settings.ORION_GOOGLE_CLIENT_SECRET)


def oauth_start(
    *, session: Any, tenant_id: int, products: list[str], redirect_uri: str, login_hint: str = ""
) -> str:
    """The Google consent URL for `products`; the flow's secrets wait in `session`."""
    flow = Flow.from_client_config(
        client_config(),
        scopes=scopes_for(products),
        redirect_uri=redirect_uri,
        autogenerate_code_verifier=True,
    )
    extra = {"login_hint": login_hint} if login_hint else {}
    url, state = flow.authorization_url(
        access_type="offline", prompt="consent", include_granted_scopes="true", **extra
    )
    session[SESSION_KEY] = {
        "state": state,
        "verifier": flow.code_verifier,
        "tenant": tenant_id,
        "products": products,
    }
    return url


def _email(id_token: str | None) -> str:
    """The address in the ID token Google's token endpoint just sent us over TLS (OpenID
    Connect Core 3.1.3.7: received directly from the token endpoint, TLS stands in for the
    signature check); only its audience is checked."""
    if not id_token or id_token.count(".") != 2:
        return ""
    payload = id_token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return ""
    if not isinstance(claims, dict) or claims.get("aud") != settings.ORION_GOOGLE_CLIENT_ID:
        return ""
    return str(claims.get("email", ""))[:320]


def oauth_finish(
    *, session: Any, tenant_id: int, params: dict[str, str], redirect_uri: str
) -> tuple[Grant, list[str]]:
    """Exchange the callback's code (with the PKCE verifier) for tokens: the grant and the
    products that were asked for. Raises OAuthRefused with a message for the person."""
    pending = session.pop(SESSION_KEY, None)
    state = params.get("state", "")
    if (
        not isinstance(pending, dict)
        or not state
        or not hmac.compare_digest(str(pending.get("state", "")), state)
    ):
        raise OAuthRefused(
            "This Google sign-in is not valid any more (it was already used, or it did not "
            "start here). Nothing was connected; start again from Integrations."
        )
    if pending.get("tenant") != tenant_id:
        raise OAuthRefused(
            "This Google sign-in was started for another company. Nothing was connected."
        )
    products = [p for p in pending.get("products", []) if p in PRODUCTS]
    names = " and ".join(PRODUCT_LABELS[p] for p in products)
    if params.get("error"):
        if params["error"] == "access_denied":
            raise OAuthRefused(f"Access to {names} was declined at Google. Nothing was connected.")
        raise OAuthRefused(
            f"Google did not grant access to {names} ({params['error'][:80]}). "
            "Nothing was connected."
        )
    if not params.get("code"):
        raise OAuthRefused("Google sent no authorization code. Nothing was connected.")
    flow = Flow.from_client_config(
        client_config(),
        scopes=None,
        redirect_uri=redirect_uri,
        state=state,
        code_verifier=pending.get("verifier"),
    )
    try:
        token = flow.fetch_token(code=params["code"], timeout=TOKEN_TIMEOUT_S)
    except OAuth2Error as exc:
        raise OAuthRefused(
            f"Google refused the sign-in ({exc.error}). Nothing was connected; try again."
        ) from exc
    except requests.RequestException as exc:
        raise OAuthRefused(
            "Google could not be reached to finish the sign-in. Nothing was connected; try again."
        ) from exc
    if not token.get("refresh_token"):
        raise OAuthRefused(
            "Google sent no offline access (refresh token). Nothing was connected; try again."
        )
    scopes = token.get("scope") or []
    if isinstance(scopes, str):
        scopes = scopes.split()
    refresh_in = token.get("refresh_token_expires_in")
    grant = Grant(
        access_token=token["access_token"],
        refresh_token=token["refresh_token"],
        expires_at=float(token.get("expires_at") or time.time() + 3600),
        refresh_expires_at=time.time() + float(refresh_in) if refresh_in else None,
        scopes=tuple(sorted(set(scopes))),
        email=_email(token.get("id_token")),
    )
    return grant, products
