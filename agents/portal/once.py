"""A double-submitted form does not create twice: each rendered form carries a one-time
token, and a POST claims it in the cache (Redis in production) before writing. A second
POST with the same token finds it claimed and only redirects. A refused submission gives
the token back so the corrected form can be sent again."""

from __future__ import annotations

import secrets

from django.core.cache import cache

TOKEN_FIELD = "submit_token"
TOKEN_TTL_S = 24 * 3600


def submit_token_new() -> str:
    return secrets.token_urlsafe(16)


def _key(token: str) -> str:
    return f"portal:submit:{token}"


def submit_claim(token: str) -> bool:
    """True for the first POST with `token`; False for a repeat (or no token at all)."""
    if not token or len(token) > 64:
        return False
    return cache.add(_key(token), 1, timeout=TOKEN_TTL_S)


def submit_release(token: str) -> None:
    cache.delete(_key(token))
