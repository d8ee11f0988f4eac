"""Runs (heartbeats): the list, and one run with every model call and its failover attempts,
its tool calls and its transcript. Read-only; any member or agent key."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins
from rest_framework.request import Request
from rest_framework.response import Response

from agents.api.base import ControlPlaneView, query_params, validated
from agents.api.serializers import RunDetailSerializer, RunFilterSerializer, RunSerializer
from agents.models import FailoverAttempt, ModelCall, Run, SessionMessage, ToolCallRecord

TAGS = ["runs"]


class RunListView(mixins.ListModelMixin, ControlPlaneView):
    serializer_class = RunSerializer

    def scoped_queryset(self) -> QuerySet:
        return Run.objects.order_by("-created_at", "-id")

    @extend_schema(
        tags=TAGS,
        summary="List runs",
        description="Newest first. Filters: agent (id), status.",
        parameters=[
            OpenApiParameter("agent", OpenApiTypes.INT, description="an agent id"),
            OpenApiParameter("status", OpenApiTypes.STR, description="a run status"),
        ],
    )
    def get(self, request: Request) -> Response:
        filters = validated(RunFilterSerializer, query_params(request))
        rows = self.get_queryset()
        if "agent" in filters:
            rows = rows.filter(agent_id=filters["agent"])
        if "status" in filters:
            rows = rows.filter(status=filters["status"])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(RunSerializer(page, many=True).data)


class RunDetailView(mixins.RetrieveModelMixin, ControlPlaneView):
    serializer_class = RunDetailSerializer

    def scoped_queryset(self) -> QuerySet:
        attempts = FailoverAttempt.objects.select_related("profile").order_by("seq")
        calls = ModelCall.objects.order_by("created_at", "id").prefetch_related(
            Prefetch("attempts", queryset=attempts)
        )
        return Run.objects.prefetch_related(
            Prefetch("modelcall_set", queryset=calls, to_attr="api_model_calls"),
            Prefetch("tool_calls", queryset=ToolCallRecord.objects.order_by("step", "index")),
            Prefetch("messages", queryset=SessionMessage.objects.order_by("id")),
        )

    @extend_schema(
        tags=TAGS,
        summary="A run, in full",
        description="The run with its model calls (each failover attempt: provider, model, "
        "auth profile label — never a secret —, error class, HTTP status, duration, try "
        "number, probe), its tool calls and its transcript.",
    )
    def get(self, request: Request, pk: int) -> Response:
        return self.retrieve(request, pk=pk)
