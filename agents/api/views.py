"""Agents, goals, agent keys and the company's heartbeat kill switch. Reads: any member;
writes: admin or owner. Work (tasks, comments, checkout) is in work_views, runs in
run_views, the agent-facing heartbeat procedure in runtime_views."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from agents.api.base import ControlPlaneView, validated
from agents.api.serializers import (
    AgentKeyCreateSerializer,
    AgentKeyIssuedSerializer,
    AgentKeySerializer,
    AgentSerializer,
    AgentWriteSerializer,
    GoalSerializer,
    GoalWriteSerializer,
    HeartbeatSwitchSerializer,
    WakeSerializer,
)
from agents.models import Agent, AgentApiKey, AgentStatus, Goal
from agents.services.agents import (
    agent_create,
    agent_pause,
    agent_resume,
    agent_update,
    tenant_heartbeats_set,
)
from agents.services.api_keys import api_key_create, api_key_revoke
from agents.services.run_now import agent_run_now
from agents.services.work import goal_create, goal_update
from tenants.models import Role

TAG_AGENTS = ["agents"]
TAG_GOALS = ["goals"]


# -- agents ---------------------------------------------------------------------------------


class AgentListView(mixins.ListModelMixin, ControlPlaneView):
    serializer_class = AgentSerializer
    write_role = Role.ADMIN

    def scoped_queryset(self) -> QuerySet:
        return Agent.objects.order_by("name", "id")

    @extend_schema(tags=TAG_AGENTS, summary="List the company's agents")
    def get(self, request: Request) -> Response:
        return self.list(request)

    @extend_schema(
        tags=TAG_AGENTS,
        summary="Create an agent",
        description="Admin or owner. Bad input (a reports_to cycle or another company's "
        "agent, a cron that does not parse, unknown tools) is a 400 with field errors and "
        "nothing is written. Its first heartbeat is scheduled from its interval or cron.",
        request=AgentWriteSerializer,
        responses={201: AgentSerializer},
    )
    def post(self, request: Request) -> Response:
        values = validated(AgentWriteSerializer, request.data)
        agent = agent_create(tenant=self.tenant, **values, **self.person_actor())
        return Response(AgentSerializer(agent).data, status=status.HTTP_201_CREATED)


class AgentDetailView(mixins.RetrieveModelMixin, ControlPlaneView):
    serializer_class = AgentSerializer
    write_role = Role.ADMIN

    def scoped_queryset(self) -> QuerySet:
        return Agent.objects.all()

    @extend_schema(tags=TAG_AGENTS, summary="An agent")
    def get(self, request: Request, pk: int) -> Response:
        return self.retrieve(request, pk=pk)

    @extend_schema(
        tags=TAG_AGENTS,
        summary="Change an agent",
        description="Admin or owner; only the fields sent change. A changed schedule moves "
        "the next heartbeat. Bad input is a 400 with field errors, nothing written.",
        request=AgentWriteSerializer,
        responses=AgentSerializer,
    )
    def patch(self, request: Request, pk: int) -> Response:
        agent = self.get_object()
        values = validated(AgentWriteSerializer, request.data, partial=True)
        agent = agent_update(agent=agent, **values, **self.person_actor())
        return Response(AgentSerializer(agent).data)


class AgentActionView(ControlPlaneView):
    """Base of the POST-only actions on one agent (admin or owner)."""

    serializer_class = AgentSerializer
    write_role = Role.ADMIN

    def scoped_queryset(self) -> QuerySet:
        return Agent.objects.all()


class AgentPauseView(AgentActionView):
    @extend_schema(
        tags=TAG_AGENTS,
        summary="Pause an agent",
        description="No new heartbeat starts; a running one stops at its next step.",
        request=None,
        responses=AgentSerializer,
    )
    def post(self, request: Request, pk: int) -> Response:
        agent = agent_pause(agent=self.get_object(), **self.person_actor())
        return Response(AgentSerializer(agent).data)


class AgentResumeView(AgentActionView):
    @extend_schema(
        tags=TAG_AGENTS,
        summary="Resume a paused agent",
        description="Its next heartbeat falls due at once.",
        request=None,
        responses=AgentSerializer,
    )
    def post(self, request: Request, pk: int) -> Response:
        agent = agent_resume(agent=self.get_object(), **self.person_actor())
        return Response(AgentSerializer(agent).data)


class AgentRunNowView(AgentActionView):
    @extend_schema(
        tags=TAG_AGENTS,
        summary="Run an agent's heartbeat now",
        description="Brings its next heartbeat forward to now (trigger manual); the "
        "dispatcher starts it on its next tick, or it coalesces into the running one. "
        "An agent that is not active is a 400.",
        request=None,
        responses={200: WakeSerializer, 400: OpenApiResponse(description="not active")},
    )
    def post(self, request: Request, pk: int) -> Response:
        agent = self.get_object()
        if agent.status != AgentStatus.ACTIVE:
            raise serializers.ValidationError(
                {"status": [f"{agent.name} is {agent.status}; resume it first."]}
            )
        woken = agent_run_now(agent=agent, **self.actor())
        agent.refresh_from_db()
        agent.woken = woken
        return Response(WakeSerializer(agent).data)


# -- agent keys -----------------------------------------------------------------------------


class AgentKeyListView(ControlPlaneView):
    serializer_class = AgentKeySerializer
    write_role = Role.ADMIN

    def scoped_queryset(self) -> QuerySet:
        return Agent.objects.all()

    @extend_schema(
        tags=TAG_AGENTS,
        summary="An agent's API keys",
        description="Prefixes, labels and use; never the keys (only their hashes are kept).",
        responses=AgentKeySerializer(many=True),
    )
    def get(self, request: Request, pk: int) -> Response:
        agent = self.get_object()
        keys = AgentApiKey.objects.filter(agent=agent).order_by("-created_at", "-id")
        return Response(AgentKeySerializer(keys, many=True).data)

    @extend_schema(
        tags=TAG_AGENTS,
        summary="Issue an API key for an agent",
        description="Admin or owner. The answer carries the full key "
        "(`orion_ak_<prefix>_<secret>`) this once; Orion stores only its SHA-256. An outside "
        "runtime sends it as `Authorization: Bearer <key>` and works as this agent.",
        request=AgentKeyCreateSerializer,
        responses={201: AgentKeyIssuedSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        agent = self.get_object()
        values = validated(AgentKeyCreateSerializer, request.data)
        issued = api_key_create(agent=agent, label=values.get("label", ""), **self.person_actor())
        issued.key.key = issued.plaintext
        return Response(AgentKeyIssuedSerializer(issued.key).data, status=status.HTTP_201_CREATED)


class AgentKeyRevokeView(ControlPlaneView):
    serializer_class = AgentKeySerializer
    write_role = Role.ADMIN

    def scoped_queryset(self) -> QuerySet:
        return Agent.objects.all()

    @extend_schema(
        tags=TAG_AGENTS,
        summary="Revoke an agent's API key",
        description="Admin or owner. The key stops working at once; revoking again is a no-op.",
        request=None,
        responses=AgentKeySerializer,
    )
    def post(self, request: Request, pk: int, key_id: int) -> Response:
        agent = self.get_object()
        key = AgentApiKey.objects.filter(agent=agent, pk=key_id).first()
        if key is None:
            raise exceptions.NotFound()
        key = api_key_revoke(key=key, **self.person_actor())
        return Response(AgentKeySerializer(key).data)


# -- goals ----------------------------------------------------------------------------------


class GoalListView(mixins.ListModelMixin, ControlPlaneView):
    serializer_class = GoalSerializer
    write_role = Role.ADMIN

    def scoped_queryset(self) -> QuerySet:
        return Goal.objects.order_by("id")

    @extend_schema(tags=TAG_GOALS, summary="List the company's goals")
    def get(self, request: Request) -> Response:
        return self.list(request)

    @extend_schema(
        tags=TAG_GOALS,
        summary="Create a goal",
        description="Admin or owner. A parent or owner of another company is a 400.",
        request=GoalWriteSerializer,
        responses={201: GoalSerializer},
    )
    def post(self, request: Request) -> Response:
        values = validated(GoalWriteSerializer, request.data)
        if "status" in values:
            raise serializers.ValidationError(
                {"status": ["A new goal is active; change its status later."]}
            )
        goal = goal_create(**values, **self.actor())
        return Response(GoalSerializer(goal).data, status=status.HTTP_201_CREATED)


class GoalDetailView(mixins.RetrieveModelMixin, ControlPlaneView):
    serializer_class = GoalSerializer
    write_role = Role.ADMIN

    def scoped_queryset(self) -> QuerySet:
        return Goal.objects.all()

    @extend_schema(tags=TAG_GOALS, summary="A goal")
    def get(self, request: Request, pk: int) -> Response:
        return self.retrieve(request, pk=pk)

    @extend_schema(
        tags=TAG_GOALS,
        summary="Change a goal",
        description="Admin or owner. Moving a goal under itself or its own descendant (a "
        "cycle) is a 400, nothing written.",
        request=GoalWriteSerializer,
        responses=GoalSerializer,
    )
    def patch(self, request: Request, pk: int) -> Response:
        goal = self.get_object()
        values = validated(GoalWriteSerializer, request.data, partial=True)
        goal = goal_update(goal=goal, **values, **self.actor())
        return Response(GoalSerializer(goal).data)


# -- the kill switch ------------------------------------------------------------------------


class HeartbeatSwitchView(ControlPlaneView):
    """The company-wide kill switch (admin or owner)."""

    serializer_class = HeartbeatSwitchSerializer
    write_role = Role.ADMIN
    paused: bool = True

    def scoped_queryset(self) -> QuerySet:
        return Agent.objects.none()

    @extend_schema(
        tags=TAG_AGENTS,
        request=None,
        responses=HeartbeatSwitchSerializer,
        description="Admin or owner. Paused: no heartbeat of any agent of the company "
        "starts, and running ones stop at their next step. Resumed: schedules apply again.",
    )
    def post(self, request: Request) -> Response:
        tenant = tenant_heartbeats_set(
            tenant=self.tenant, paused=self.paused, **self.person_actor()
        )
        return Response({"heartbeats_paused": tenant.heartbeats_paused})


class HeartbeatPauseView(HeartbeatSwitchView):
    paused = True


class HeartbeatResumeView(HeartbeatSwitchView):
    paused = False
