"""What the control-plane API reads and writes. Read serializers are model serializers over
rows the view fetched (with their relations joined); write serializers only check shapes
and types, and the services check everything else (tenant, cycles, cron, ...)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from agents.models import (
    Agent,
    AgentApiKey,
    AgentRole,
    Comment,
    FailoverAttempt,
    Goal,
    GoalStatus,
    ModelCall,
    Run,
    RunStatus,
    ScheduleKind,
    SessionMessage,
    Task,
    TaskPriority,
    TaskStatus,
    ToolCallRecord,
)


class NoEmptyPatchMixin:
    """A PATCH/POST with nothing to do is a clear 400, not a silent 200."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError("Nothing to change: send at least one field.")
        return attrs


# -- agents ---------------------------------------------------------------------------------


class AgentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Agent
        fields = [
            "id",
            "name",
            "title",
            "role",
            "template",
            "instructions",
            "status",
            "pause_reason",
            "reports_to",
            "model_chain",
            "schedule_kind",
            "interval_s",
            "cron",
            "next_heartbeat_at",
            "wake_trigger",
            "allowed_tools",
            "max_steps",
            "max_run_tokens",
            "monthly_budget_cents",
            "created_at",
        ]
        read_only_fields = fields


class AgentWriteSerializer(NoEmptyPatchMixin, serializers.Serializer):
    """Agent fields a person may set; `name` and `role` are required on create."""

    name = serializers.CharField(max_length=80)
    role = serializers.ChoiceField(choices=AgentRole.choices)
    title = serializers.CharField(max_length=120, required=False, allow_blank=True)
    template = serializers.CharField(max_length=40, required=False, allow_blank=True)
    instructions = serializers.CharField(required=False, allow_blank=True)
    reports_to = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    model_chain = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    schedule_kind = serializers.ChoiceField(choices=ScheduleKind.choices, required=False)
    interval_s = serializers.IntegerField(required=False, help_text="seconds, 60 to 604800")
    cron = serializers.CharField(
        max_length=120,
        required=False,
        allow_blank=True,
        help_text="five fields, in the company's time zone (schedule_kind cron)",
    )
    allowed_tools = serializers.ListField(
        child=serializers.CharField(max_length=80), required=False, max_length=100
    )
    max_steps = serializers.IntegerField(required=False)
    max_run_tokens = serializers.IntegerField(required=False)
    monthly_budget_cents = serializers.IntegerField(required=False, allow_null=True, min_value=0)


# -- goals ----------------------------------------------------------------------------------


class GoalSerializer(serializers.ModelSerializer):
    class Meta:
        model = Goal
        fields = ["id", "title", "description", "parent", "owner", "status", "created_at"]
        read_only_fields = fields


class GoalWriteSerializer(NoEmptyPatchMixin, serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    parent = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    owner = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    status = serializers.ChoiceField(
        choices=GoalStatus.choices, required=False, help_text="on update only"
    )


# -- tasks and comments ---------------------------------------------------------------------


class TaskSerializer(serializers.ModelSerializer):
    blockers = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Task
        fields = [
            "id",
            "title",
            "body",
            "status",
            "priority",
            "assignee",
            "goal",
            "parent",
            "blockers",
            "due_at",
            "model_chain",
            "checkout_run",
            "checked_out_at",
            "created_by_user",
            "created_by_agent",
            "created_at",
            "updated_at",
            "completed_at",
        ]
        read_only_fields = fields


class TaskWriteSerializer(NoEmptyPatchMixin, serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=TaskStatus.choices, required=False)
    priority = serializers.ChoiceField(choices=TaskPriority.choices, required=False)
    assignee = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    goal = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    parent = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    due_at = serializers.DateTimeField(required=False, allow_null=True)
    model_chain = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    blockers = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=100
    )


class TaskFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=TaskStatus.choices, required=False)
    assignee = serializers.IntegerField(required=False, min_value=1)
    goal = serializers.IntegerField(required=False, min_value=1)


class CheckoutRequestSerializer(serializers.Serializer):
    agent = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="the agent whose run takes the task; required for a person, "
        "an agent key always checks out for its own agent",
    )


class CheckoutSerializer(serializers.Serializer):
    task = serializers.IntegerField()
    agent = serializers.IntegerField()
    run = serializers.IntegerField(help_text="the live run that holds the task")
    status = serializers.CharField(help_text="the task's status after the checkout")


class ReleaseSerializer(serializers.Serializer):
    task = serializers.IntegerField()
    agent = serializers.IntegerField()
    released = serializers.BooleanField()


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    holder_run = serializers.IntegerField(allow_null=True)


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author_label", read_only=True)
    mentions = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Comment
        fields = [
            "id",
            "task",
            "author",
            "author_user",
            "author_agent",
            "run",
            "body",
            "mentions",
            "created_at",
        ]
        read_only_fields = fields


class CommentWriteSerializer(serializers.Serializer):
    body = serializers.CharField(
        max_length=20_000, help_text="@Name mentions an agent: it gets the comment and wakes"
    )


# -- runs -----------------------------------------------------------------------------------


class RunSerializer(serializers.ModelSerializer):
    class Meta:
        model = Run
        fields = [
            "id",
            "agent",
            "trigger",
            "status",
            "reason",
            "task",
            "session",
            "created_at",
            "started_at",
            "last_progress_at",
            "ended_at",
            "steps",
            "summary",
            "input_tokens",
            "output_tokens",
            "cost",
            "error_detail",
            "answered_provider",
            "answered_model",
            "fell_back",
            "coalesced",
            "next_attempt_at",
        ]
        read_only_fields = fields


class RunFilterSerializer(serializers.Serializer):
    agent = serializers.IntegerField(required=False, min_value=1)
    status = serializers.ChoiceField(choices=RunStatus.choices, required=False)


class FailoverAttemptSerializer(serializers.ModelSerializer):
    profile = serializers.CharField(
        source="profile.label",
        default=None,
        read_only=True,
        help_text="the auth profile's label (never its secret)",
    )

    class Meta:
        model = FailoverAttempt
        fields = [
            "seq",
            "candidate_index",
            "provider",
            "model",
            "profile",
            "try_no",
            "probe",
            "status",
            "error_class",
            "http_status",
            "duration_ms",
            "retry_after",
            "started_at",
        ]
        read_only_fields = fields


class ModelCallSerializer(serializers.ModelSerializer):
    attempts = FailoverAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = ModelCall
        fields = [
            "id",
            "status",
            "provider",
            "model",
            "input_tokens",
            "output_tokens",
            "cached_tokens",
            "error",
            "soonest_expiry",
            "created_at",
            "finished_at",
            "attempts",
        ]
        read_only_fields = fields


class ToolCallSerializer(serializers.ModelSerializer):
    class Meta:
        model = ToolCallRecord
        fields = [
            "step",
            "index",
            "call_id",
            "name",
            "arguments",
            "status",
            "result",
            "started_at",
            "duration_ms",
        ]
        read_only_fields = fields


class TranscriptLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = SessionMessage
        fields = [
            "id",
            "role",
            "status",
            "author_label",
            "content",
            "tool_calls",
            "tool_call_id",
            "step",
            "created_at",
        ]
        read_only_fields = fields


class RunDetailSerializer(RunSerializer):
    model_calls = ModelCallSerializer(many=True, read_only=True, source="api_model_calls")
    tool_calls = ToolCallSerializer(many=True, read_only=True)
    transcript = TranscriptLineSerializer(many=True, read_only=True, source="messages")

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "model_calls", "tool_calls", "transcript"]
        read_only_fields = fields


# -- agent keys and the kill switch ---------------------------------------------------------


class AgentKeySerializer(serializers.ModelSerializer):
    revoked = serializers.SerializerMethodField()

    class Meta:
        model = AgentApiKey
        fields = [
            "id",
            "agent",
            "label",
            "prefix",
            "created_at",
            "last_used_at",
            "revoked_at",
            "revoked",
        ]
        read_only_fields = fields

    def get_revoked(self, key: AgentApiKey) -> bool:
        return key.revoked_at is not None


class AgentKeyCreateSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=80, required=False, allow_blank=True)


class AgentKeyIssuedSerializer(AgentKeySerializer):
    key = serializers.CharField(
        read_only=True, help_text="the full key, shown this once; only its hash is stored"
    )

    class Meta(AgentKeySerializer.Meta):
        fields = [*AgentKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class HeartbeatSwitchSerializer(serializers.Serializer):
    heartbeats_paused = serializers.BooleanField()


class WakeSerializer(AgentSerializer):
    woken = serializers.BooleanField(
        read_only=True, help_text="false when a heartbeat was already due"
    )

    class Meta(AgentSerializer.Meta):
        fields = [*AgentSerializer.Meta.fields, "woken"]
        read_only_fields = fields


# -- the agent-facing heartbeat procedure ---------------------------------------------------


class InboxMessageSerializer(serializers.ModelSerializer):
    session_key = serializers.CharField(source="session.key", read_only=True)
    task = serializers.SerializerMethodField()

    class Meta:
        model = SessionMessage
        fields = ["id", "session_key", "task", "author_label", "content", "created_at"]
        read_only_fields = fields

    def get_task(self, message: SessionMessage) -> int | None:
        kind, _, ident = message.session.key.partition(":")
        return int(ident) if kind == "task" and ident.isdigit() else None


class InboxSerializer(serializers.Serializer):
    agent = serializers.IntegerField()
    tasks = TaskSerializer(many=True, help_text="assigned, actionable, not blocked; best first")
    messages = InboxMessageSerializer(many=True, help_text="waiting for the agent, oldest first")


class InboxAckSerializer(serializers.Serializer):
    messages = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=500
    )


class GoalLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = Goal
        fields = ["id", "title", "description"]
        read_only_fields = fields


class TaskContextSerializer(serializers.Serializer):
    mission = serializers.CharField(help_text="the company's mission")
    instructions = serializers.CharField(
        allow_null=True, help_text="the calling agent's instructions (agent keys only)"
    )
    goals = GoalLineSerializer(many=True, help_text="goal ancestry, the mission's end first")
    task = TaskSerializer()
    comments = CommentSerializer(many=True, help_text="recent comments, oldest first")
    prompt = serializers.CharField(help_text="the same task text an in-house heartbeat sees")
