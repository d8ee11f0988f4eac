"""The base of every control-plane endpoint: TenantAPIView (tenant scope, role checks, 404
for another tenant's rows) with agent keys accepted beside the session, and helpers that
tell who is calling."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Prefetch, QuerySet
from rest_framework import serializers
from rest_framework.request import Request

from agents.api.auth import AgentKeyAuthentication, AgentPrincipal
from agents.models import Agent, Task
from tenants.api import TenantAPIView
from tenants.api_auth import SessionAuthentication


class ControlPlaneView(TenantAPIView):
    # The agent-key class comes first: its authenticate_header makes DRF answer 401.
    authentication_classes: ClassVar = [
        AgentKeyAuthentication,
        SessionAuthentication,
    ]

    @property
    def calling_agent(self) -> Agent | None:
        """The agent behind an agent key, None for a person."""
        user = self.request.user
        return user.agent if isinstance(user, AgentPrincipal) else None

    def actor(self) -> dict[str, Any]:
        """The actor keywords every service takes: the person, or the key's agent."""
        agent = self.calling_agent
        if agent is not None:
            return {"actor_user": None, "actor_agent": agent}
        return {"actor_user": self.request.user, "actor_agent": None}

    def person_actor(self) -> dict[str, Any]:
        """For services that only know people (agents are refused those by role)."""
        return {"actor_user": self.actor()["actor_user"]}


def validated(serializer_class: type[serializers.Serializer], data: Any, **kwargs: Any) -> dict:
    """Validate request data (or query params) with `serializer_class`; 400 when bad."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def query_params(request: Request) -> dict[str, str]:
    """The query string as single values (filters take one value each)."""
    return {key: request.query_params.get(key) for key in request.query_params}


def agent_in_scope(agent_id: int | None, field: str = "agent") -> Agent:
    """The current tenant's agent with this id, or a 400 naming the field."""
    agent = Agent.objects.filter(pk=agent_id).first() if agent_id else None
    if agent is None:
        raise serializers.ValidationError({field: "That agent is not in this company."})
    return agent


def tasks_serialized(rows: QuerySet | None = None) -> QuerySet:
    """`rows` (every task by default) with their blockers' ids prefetched, as
    TaskSerializer reads them."""
    rows = Task.objects.all() if rows is None else rows
    return rows.prefetch_related(Prefetch("blockers", queryset=Task.objects.only("id")))
