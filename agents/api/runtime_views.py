"""The heartbeat procedure over HTTP, for an outside agent runtime with an agent key (the
way Paperclip's adapters work): GET /agent/inbox → POST /tasks/{id}/checkout → GET
/tasks/{id}/context → POST /tasks/{id}/comments and PATCH /tasks/{id} → POST
/agent/inbox/ack for the messages it handled. A person may look at (and acknowledge) an
agent's inbox by naming the agent."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from agents.api.base import ControlPlaneView, query_params, tasks_serialized, validated
from agents.api.serializers import InboxAckSerializer, InboxSerializer
from agents.models import (
    Agent,
    MessageStatus,
    SessionMessage,
)
from agents.selectors import tasks_actionable
from agents.services.api_work import api_inbox_ack

TAGS = ["agent runtime"]
INBOX_TASKS = 50
INBOX_MESSAGES = 200


class InboxAgentSerializer(serializers.Serializer):
    agent = serializers.IntegerField(required=False, min_value=1)


class InboxView(ControlPlaneView):
    serializer_class = InboxSerializer

    def scoped_queryset(self) -> QuerySet:
        return Agent.objects.none()

    def inbox_agent(self, requested: int | None) -> Agent:
        own = self.calling_agent
        if own is not None:
            if requested not in (None, own.pk):
                raise serializers.ValidationError(
                    {"agent": "An agent key reads its own agent's inbox only."}
                )
            return own
        if requested is None:
            raise serializers.ValidationError({"agent": "Name the agent (its id)."})
        agent = Agent.objects.filter(pk=requested).first()
        if agent is None:  # the inbox is the resource read: another company's is a 404
            raise exceptions.NotFound()
        return agent

    @extend_schema(
        tags=TAGS,
        summary="An agent's inbox",
        description="Step one of a heartbeat: the agent's actionable tasks (assigned, to do "
        "or in progress, not blocked by an open task; most important first) and the "
        "messages waiting for it (mentions, oldest first). An agent key reads its own; a "
        "person names the agent with ?agent=<id>.",
        parameters=[OpenApiParameter("agent", OpenApiTypes.INT, description="people only")],
        responses=InboxSerializer,
    )
    def get(self, request: Request) -> Response:
        agent = self.inbox_agent(
            validated(InboxAgentSerializer, query_params(request)).get("agent")
        )
        tasks = tasks_serialized(tasks_actionable(agent=agent))[:INBOX_TASKS]
        messages = (
            SessionMessage.objects.filter(session__agent=agent, status=MessageStatus.PENDING)
            .select_related("session")
            .order_by("id")[:INBOX_MESSAGES]
        )
        data = {"agent": agent.pk, "tasks": list(tasks), "messages": list(messages)}
        return Response(InboxSerializer(data).data)


class InboxAckView(InboxView):
    @extend_schema(
        tags=TAGS,
        summary="Acknowledge inbox messages",
        description="Marks the agent's waiting messages as handled (by its live run, if "
        "any). Ids that are not the agent's waiting messages are ignored; the answer "
        "counts the ones acknowledged. Member or above, or the agent's key.",
        request=inline_serializer(
            "InboxAckRequest",
            {
                "agent": serializers.IntegerField(required=False, help_text="people only"),
                "messages": serializers.ListField(child=serializers.IntegerField()),
            },
        ),
        responses=inline_serializer("InboxAckResult", {"acknowledged": serializers.IntegerField()}),
    )
    def post(self, request: Request) -> Response:
        agent = self.inbox_agent(validated(InboxAgentSerializer, request.data).get("agent"))
        ids = validated(InboxAckSerializer, request.data)["messages"]
        done = api_inbox_ack(agent=agent, message_ids=ids, **self.actor())
        return Response({"acknowledged": done})
