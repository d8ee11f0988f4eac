"""OpenAPI description of the API's session authentication (loaded by TenantsConfig)."""

from __future__ import annotations

from drf_spectacular.authentication import SessionScheme


class OrionSessionScheme(SessionScheme):
    target_class = "tenants.api_auth.SessionAuthentication"
