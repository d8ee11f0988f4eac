"""Tasks, their comments, checkout and release, and a task's context. Reads: any member;
writes: member or above, and agent keys (which act as their agent)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from agents.api.base import (
    ControlPlaneView,
    agent_in_scope,
    query_params,
    tasks_serialized,
    validated,
)
from agents.api.serializers import (
    CheckoutRequestSerializer,
    CheckoutSerializer,
    CommentSerializer,
    CommentWriteSerializer,
    ConflictSerializer,
    ReleaseSerializer,
    TaskContextSerializer,
    TaskFilterSerializer,
    TaskSerializer,
    TaskWriteSerializer,
)
from agents.context import RECENT_COMMENTS, goal_ancestry, task_prompt
from agents.models import Agent, Comment, Task
from agents.services.api_work import api_task_checkout, api_task_release
from agents.services.work import CheckoutConflict, comment_create, task_create, task_update

TAGS = ["tasks"]


def _comments() -> QuerySet:
    return Comment.objects.select_related("author_agent", "author_user").prefetch_related(
        Prefetch("mentions", queryset=Agent.objects.only("id"))
    )


class TaskListView(mixins.ListModelMixin, ControlPlaneView):
    serializer_class = TaskSerializer

    def scoped_queryset(self) -> QuerySet:
        return tasks_serialized().order_by("-priority", "id")

    @extend_schema(
        tags=TAGS,
        summary="List tasks",
        description="Most important first. Filters: status, assignee (agent id), goal.",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, description="a task status"),
            OpenApiParameter("assignee", OpenApiTypes.INT, description="an agent id"),
            OpenApiParameter("goal", OpenApiTypes.INT, description="a goal id"),
        ],
    )
    def get(self, request: Request) -> Response:
        filters = validated(TaskFilterSerializer, query_params(request))
        rows = self.filter_queryset(self.get_queryset())
        if "status" in filters:
            rows = rows.filter(status=filters["status"])
        if "assignee" in filters:
            rows = rows.filter(assignee_id=filters["assignee"])
        if "goal" in filters:
            rows = rows.filter(goal_id=filters["goal"])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(TaskSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Create a task",
        description="Member or above, or an agent key. An assignee, goal, parent or blocker "
        'of another company is a 400 ("not in this company") and nothing is written. The '
        "assignee is woken (not when it created the task itself).",
        request=TaskWriteSerializer,
        responses={201: TaskSerializer},
    )
    def post(self, request: Request) -> Response:
        values = validated(TaskWriteSerializer, request.data)
        task = task_create(**values, **self.actor())
        return Response(TaskSerializer(task).data, status=status.HTTP_201_CREATED)


class TaskDetailView(mixins.RetrieveModelMixin, ControlPlaneView):
    serializer_class = TaskSerializer

    def scoped_queryset(self) -> QuerySet:
        return tasks_serialized()

    @extend_schema(tags=TAGS, summary="A task")
    def get(self, request: Request, pk: int) -> Response:
        return self.retrieve(request, pk=pk)

    @extend_schema(
        tags=TAGS,
        summary="Change a task",
        description="Member or above, or an agent key (how an outside runtime reports a "
        "status). Only the fields sent change; references of another company are a 400.",
        request=TaskWriteSerializer,
        responses=TaskSerializer,
    )
    def patch(self, request: Request, pk: int) -> Response:
        task = self.get_object()
        values = validated(TaskWriteSerializer, request.data, partial=True)
        task = task_update(task=task, **values, **self.actor())
        fresh = self.scoped_queryset().get(pk=task.pk)
        return Response(TaskSerializer(fresh).data)


class TaskObjectView(ControlPlaneView):
    """Base of the endpoints under one task: the task is looked up first (another
    company's is a 404), then the role is checked."""

    serializer_class = TaskSerializer

    def scoped_queryset(self) -> QuerySet:
        return Task.objects.all()

    def working_agent(self, requested: int | None) -> Agent:
        """The agent a checkout or release is for: an agent key's own, else the one named."""
        own = self.calling_agent
        if own is not None:
            if requested not in (None, own.pk):
                raise serializers.ValidationError(
                    {"agent": "An agent key works for its own agent only."}
                )
            return own
        if requested is None:
            raise serializers.ValidationError({"agent": "Name the agent (its id)."})
        return agent_in_scope(requested)


class TaskCheckoutView(TaskObjectView):
    @extend_schema(
        tags=TAGS,
        summary="Check a task out",
        description="Takes the task for an agent's live run (compare-and-set; a dead run's "
        "lease is reclaimed). A person names the agent; an agent key checks out for its "
        "own agent. Without a live run one is opened (trigger manual). Another live run "
        "holding the task is a 409.",
        request=CheckoutRequestSerializer,
        responses={
            200: CheckoutSerializer,
            409: OpenApiResponse(ConflictSerializer, description="held by another live run"),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        task = self.get_object()
        body = validated(CheckoutRequestSerializer, request.data)
        agent = self.working_agent(body.get("agent"))
        try:
            run = api_task_checkout(task=task, agent=agent, **self.actor())
        except CheckoutConflict as exc:
            return Response(
                {
                    "detail": f"Task {task.pk} is checked out by run {exc.holder_run_id}.",
                    "holder_run": exc.holder_run_id,
                },
                status=status.HTTP_409_CONFLICT,
            )
        return Response({"task": task.pk, "agent": agent.pk, "run": run.pk, "status": task.status})


class TaskReleaseView(TaskObjectView):
    @extend_schema(
        tags=TAGS,
        summary="Release a task",
        description="Gives the task back if the agent's live run holds it (`released` "
        "false otherwise). A run opened over the API ends with its last task.",
        request=CheckoutRequestSerializer,
        responses=ReleaseSerializer,
    )
    def post(self, request: Request, pk: int) -> Response:
        task = self.get_object()
        body = validated(CheckoutRequestSerializer, request.data)
        agent = self.working_agent(body.get("agent"))
        released = api_task_release(task=task, agent=agent, **self.actor())
        return Response({"task": task.pk, "agent": agent.pk, "released": released})


class TaskCommentsView(TaskObjectView):
    serializer_class = CommentSerializer

    @extend_schema(tags=TAGS, summary="A task's comments", description="Oldest first.")
    def get(self, request: Request, pk: int) -> Response:
        task = self.get_object()
        page = self.paginate_queryset(_comments().filter(task=task).order_by("created_at", "id"))
        return self.get_paginated_response(CommentSerializer(page, many=True).data)

    @extend_schema(
        tags=TAGS,
        summary="Comment on a task",
        description="Member or above, or an agent key. Each @mentioned agent (never the "
        "author) gets the comment in its inbox and is woken.",
        request=CommentWriteSerializer,
        responses={201: CommentSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        task = self.get_object()
        body = validated(CommentWriteSerializer, request.data)
        comment = comment_create(task=task, body=body["body"], **self.actor())
        return Response(
            CommentSerializer(_comments().get(pk=comment.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class TaskContextView(TaskObjectView):
    serializer_class = TaskContextSerializer

    @extend_schema(
        tags=TAGS,
        summary="What an agent is told about a task",
        description="The company mission, the goal ancestry (why the task matters), the "
        "task, its recent comments and, for an agent key, its agent's instructions: the "
        "context an in-house heartbeat gives the model.",
        responses=TaskContextSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        task = self.get_object()
        agent = self.calling_agent
        recent = list(
            _comments().filter(task=task).order_by("-created_at", "-id")[:RECENT_COMMENTS]
        )
        data = {
            "mission": self.tenant.mission,
            "instructions": agent.instructions if agent is not None else None,
            "goals": list(reversed(goal_ancestry(goal_id=task.goal_id))),
            "task": tasks_serialized().get(pk=task.pk),
            "comments": list(reversed(recent)),
            "prompt": task_prompt(task=task),
        }
        return Response(TaskContextSerializer(data).data)
