"""What the Google card and page show: the account, what was granted and what to do."""

from __future__ import annotations

from typing import Any

from integrations.google.oauth import oauth_configured
from integrations.google.scopes import (
    CALENDAR_EVENTS,
    CALENDAR_FREEBUSY,
    GMAIL_MODIFY,
    PRODUCT_LABELS,
    PRODUCTS,
)
from integrations.models import Connection, ConnectionStatus

SCOPE_WORDS = {
    GMAIL_MODIFY: "Gmail: read, search, draft, send and label mail",
    CALENDAR_EVENTS: "Calendar: see, create and change events",
    CALENDAR_FREEBUSY: "Calendar: see when you are free or busy",
    "https://www.googleapis.com/auth/userinfo.email": "Your Google address",
    "openid": "Sign-in identity",
}


def google_overview(connection: Connection | None) -> dict[str, Any]:
    config = connection.config if connection else {}
    granted = set(config.get("scopes", []))
    products = [
        {
            "key": key,
            "label": PRODUCT_LABELS[key],
            "granted": set(scopes) <= granted,
            "missing": [SCOPE_WORDS[s] for s in scopes if s not in granted],
        }
        for key, scopes in PRODUCTS.items()
    ]
    return {
        "email": config.get("email", ""),
        "scopes": [SCOPE_WORDS.get(s, s) for s in sorted(granted)],
        "products": products,
        "needs_reconnect": bool(connection)
        and connection.status in (ConnectionStatus.NEEDS_RECONNECT, ConnectionStatus.EXPIRING),
        "configured": oauth_configured(),
    }
