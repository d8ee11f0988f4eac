"""Agent-key authentication: `Authorization: Bearer orion_ak_<prefix>_<secret>`.

The caller becomes an AgentPrincipal: it acts for the key's agent, inside the key's tenant
only, with member rights. It is listed first on the API's views so that DRF answers an
unauthenticated call 401 with a `WWW-Authenticate: Bearer` header instead of 403."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from agents.models import Agent, AgentApiKey
from agents.services.api_keys import KEY_PREFIX, api_key_authenticate
from tenants.api import TenantPrincipal

REALM = "orion"


class AgentPrincipal(TenantPrincipal):
    """An outside agent runtime, authenticated by one of its agent's keys."""

    def __init__(self, *, key: AgentApiKey) -> None:
        super().__init__(tenant=key.tenant)
        self.key = key
        self.agent: Agent = key.agent
        self.pk = None

    def __str__(self) -> str:
        return f"agent {self.agent.name} (key {self.key.prefix})"

    def get_username(self) -> str:
        return str(self)


class AgentKeyAuthentication(authentication.BaseAuthentication):
    """Bearer agent keys. A header without our key prefix is left to the next class; a
    key with our prefix that is unknown, wrong or revoked is refused (401)."""

    def authenticate(self, request: Request) -> tuple[AgentPrincipal, AgentApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token.startswith(KEY_PREFIX):
            return None
        key = api_key_authenticate(plaintext=token)
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked agent key.")
        return AgentPrincipal(key=key), key

    def authenticate_header(self, request: Request) -> str:
        return f'Bearer realm="{REALM}"'


class AgentKeyScheme(OpenApiAuthenticationExtension):
    target_class = "agents.api.auth.AgentKeyAuthentication"
    name = "agentKey"

    def get_security_definition(self, auto_schema: object) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An agent API key, `orion_ak_<prefix>_<secret>` (shown once).",
        }
