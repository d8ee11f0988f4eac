"""The API's default authentication (its own module: DRF reads it while its views import)."""

from __future__ import annotations

from rest_framework import authentication
from rest_framework.request import Request


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication, but an unauthenticated call answers 401 (with a
    WWW-Authenticate challenge), not 403: "sign in" and "not allowed" stay distinct."""

    def authenticate_header(self, request: Request) -> str:
        return 'Session realm="orion"'
