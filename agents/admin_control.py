"""Staff admin for the control plane: agents, their work (goals, tasks, comments), runs with
their transcript, tool calls and model calls, sessions and agent API keys.

The admin runs outside any tenant scope and reads through `unscoped()`. Every edit goes
through the agents' services inside the row's tenant scope, so it is validated and
audited exactly like a customer's edit; a service's ValidationError becomes form errors
(the admin answers 400, see `StaffAdmin.render_change_form`) and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from agents.admin import ReadOnlyAdmin, UnscopedAdmin, UnscopedForeignKeys
from agents.models import (
    Agent,
    AgentApiKey,
    AgentStatus,
    Comment,
    FailoverAttempt,
    Goal,
    ModelCall,
    Run,
    Session,
    SessionMessage,
    Task,
    ToolCallRecord,
)
from agents.services.agents import (
    EDITABLE_FIELDS,
    agent_create,
    agent_pause,
    agent_resume,
    agent_terminate,
    agent_update,
)
from agents.services.api_keys import api_key_revoke
from agents.services.run_now import agent_run_now
from agents.services.work import TASK_FIELDS, goal_update, task_update
from tenants.scope import tenant_scope

# -- forms whose save is the service -----------------------------------------------------


class ServiceForm(forms.ModelForm):
    """A model form whose validation *is* the service call.

    The admin saves only a valid form, and a service's ValidationError must reach the
    form as errors (never a 500 from `save_model`), so the service runs when the form is
    cleaned, inside the admin's transaction and the row's tenant scope; a refusal writes
    nothing (the services are atomic). `save(commit=False)` then hands the admin the row
    the service wrote, and `save_model` does nothing. Only for admins without editable
    inlines (an invalid inline would re-render after the write).

    A field left out of the POST keeps its current value (its default on add), the way a
    PATCH does; sent empty, a required field is still an error.
    """

    actor: Any = None  # set by the admin before validation
    tenant_fields: tuple[str, ...] = ()  # foreign keys to the row's tenant's rows

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._defaulted: set[str] = set()
        for name, field in self.fields.items():
            model_field = self._meta.model._meta.get_field(name)
            if field.required and model_field.has_default():
                field.required = False
                self._defaulted.add(name)
        if not self.is_bound:
            self._narrow()

    def _narrow(self) -> None:
        """Choices of the row's own tenant only (all rows are accepted when posted, so
        the service, not the choice list, says what is wrong with another tenant's)."""
        tenant_id = self.instance.tenant_id
        if tenant_id is None:
            return
        for name in self.tenant_fields:
            field = self.fields.get(name)
            if isinstance(field, forms.ModelChoiceField):
                rows = field.queryset.model.objects.unscoped().filter(tenant_id=tenant_id)
                if self.instance.pk is not None and field.queryset.model is type(self.instance):
                    rows = rows.exclude(pk=self.instance.pk)
                field.queryset = rows

    def full_clean(self) -> None:
        super().full_clean()
        if self.is_bound:
            self._narrow()  # re-rendered with errors: the same narrowed choices as on GET

    def submitted(self) -> dict[str, Any]:
        """The values the person sent (omitted fields left out, see the class)."""
        values = {}
        for name, field in self.fields.items():
            if name not in self.cleaned_data:
                continue
            if field.widget.value_omitted_from_data(self.data, self.files, self.add_prefix(name)):
                continue
            value = self.cleaned_data[name]
            if name in self._defaulted and value in (None, ""):
                self.add_error(name, field.error_messages["required"])
                continue
            values[name] = value
        return values

    def service_save(self, values: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _post_clean(self) -> None:
        if self.errors:
            return
        values = self.submitted()
        if self.errors:
            return
        try:
            with transaction.atomic():  # a refusal half-way (update, then status) undoes all
                self.instance = self.service_save(values)
        except ValidationError as exc:
            self.add_service_errors(exc)

    def add_service_errors(self, exc: ValidationError) -> None:
        errors = (
            exc.error_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.error_list}
        )
        for field, items in errors.items():
            texts = [m for e in items for m in ValidationError(e).messages]
            if field in self.fields or field == NON_FIELD_ERRORS:
                self.add_error(None if field == NON_FIELD_ERRORS else field, texts)
            else:
                self.add_error(None, [f"{field}: {t}" for t in texts])

    def save(self, commit: bool = True) -> Any:
        self.save_m2m = lambda: None  # the service wrote everything
        return self.instance


class AgentForm(ServiceForm):
    tenant_fields = ("reports_to",)
    # Declared so the form class can be built outside a tenant scope.
    reports_to = forms.ModelChoiceField(queryset=Agent.objects.unscoped(), required=False)

    class Meta:
        model = Agent
        fields = ["tenant", "status", *EDITABLE_FIELDS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        boss = cleaned.get("reports_to")
        tenant = cleaned.get("tenant") or (self.instance.tenant if self.instance.pk else None)
        if boss is not None and tenant is not None and boss.tenant_id != tenant.pk:
            self.add_error("reports_to", "Pick an agent of the same tenant.")
        elif boss is not None and self.instance.pk is not None and boss.pk == self.instance.pk:
            self.add_error("reports_to", "An agent cannot report to itself.")
        name = cleaned.get("name")
        if name and tenant is not None:
            taken = Agent.objects.unscoped().filter(tenant_id=tenant.pk, name__iexact=name.strip())
            if taken.exclude(pk=self.instance.pk).exists():
                self.add_error("name", f"An agent called {name!r} already exists in {tenant}.")
        status = cleaned.get("status")
        if (
            self.instance.pk is not None
            and self.instance.status == AgentStatus.TERMINATED
            and status not in (None, "", AgentStatus.TERMINATED)
        ):
            self.add_error("status", "A terminated agent stays terminated; add a new one.")
        return cleaned

    def service_save(self, values: dict[str, Any]) -> Agent:
        status = values.pop("status", None)
        tenant = values.pop("tenant", None) or self.instance.tenant
        with tenant_scope(tenant):
            if self.instance.pk is None:
                agent = agent_create(tenant=tenant, actor_user=self.actor, **values)
            else:
                agent = agent_update(agent=self.instance, actor_user=self.actor, **values)
            return _status_set(agent=agent, status=status, actor_user=self.actor)


def _status_set(*, agent: Agent, status: str | None, actor_user: Any) -> Agent:
    """The status picked in the form, through the service that owns that transition."""
    if not status or status == agent.status:
        return agent
    if status == AgentStatus.PAUSED:
        return agent_pause(agent=agent, actor_user=actor_user)
    if status == AgentStatus.ACTIVE:
        return agent_resume(agent=agent, actor_user=actor_user)
    return agent_terminate(agent=agent, actor_user=actor_user)


class GoalForm(ServiceForm):
    tenant_fields = ("parent", "owner")
    parent = forms.ModelChoiceField(queryset=Goal.objects.unscoped(), required=False)
    owner = forms.ModelChoiceField(queryset=Agent.objects.unscoped(), required=False)

    class Meta:
        model = Goal
        fields = ["title", "description", "parent", "owner", "status"]

    def service_save(self, values: dict[str, Any]) -> Goal:
        with tenant_scope(self.instance.tenant_id):
            return goal_update(goal=self.instance, actor_user=self.actor, **values)


class TaskForm(ServiceForm):
    tenant_fields = ("assignee", "goal", "parent")
    assignee = forms.ModelChoiceField(queryset=Agent.objects.unscoped(), required=False)
    goal = forms.ModelChoiceField(queryset=Goal.objects.unscoped(), required=False)
    parent = forms.ModelChoiceField(queryset=Task.objects.unscoped(), required=False)

    class Meta:
        model = Task
        fields = list(TASK_FIELDS)

    def service_save(self, values: dict[str, Any]) -> Task:
        with tenant_scope(self.instance.tenant_id):
            return task_update(task=self.instance, actor_user=self.actor, **values)


class ServiceFormAdmin(UnscopedAdmin):
    """Edits are the form's service call (see ServiceForm); `save_model` has nothing left
    to do."""

    save_as = False

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        return None

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        # Read-only inlines carry no data; left out of a POST, a missing management form
        # cannot fail the page after the service has written.
        if request.method == "POST":
            return []
        return super().get_inline_instances(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # agents are terminated, work is cancelled: the history stays


def _each_in_scope(
    request: HttpRequest, queryset: QuerySet, act: Callable[[Any], Any], done: str
) -> None:
    count = 0
    for obj in queryset:
        with tenant_scope(obj.tenant_id):
            if act(obj):
                count += 1
    messages.success(request, f"{done}: {count}.")


# -- agents -------------------------------------------------------------------------------


@admin.register(Agent)
class AgentAdmin(ServiceFormAdmin):
    form = AgentForm
    list_display = [
        "name",
        "tenant",
        "role",
        "status",
        "pause_reason",
        "next_heartbeat_at",
        "model_chain",
    ]
    list_filter = ["status", "pause_reason", "role", "schedule_kind", "tenant"]
    list_select_related = ["tenant", "model_chain"]
    search_fields = ["name", "title", "tenant__name"]
    actions = ["pause", "resume", "run_now"]
    fieldsets = [
        (None, {"fields": ["tenant", "name", "title", "role", "template", "instructions"]}),
        (
            "State",
            {"fields": ["status", "pause_reason", "next_heartbeat_at", "wake_trigger", "runs"]},
        ),
        ("Org chart and model", {"fields": ["reports_to", "model_chain"]}),
        ("Heartbeat schedule", {"fields": ["schedule_kind", "interval_s", "cron"]}),
        (
            "Limits and tools",
            {"fields": ["allowed_tools", "max_steps", "max_run_tokens", "monthly_budget_cents"]},
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("tenant", "model_chain", "reports_to")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        state = ["pause_reason", "next_heartbeat_at", "wake_trigger", "runs"]
        # An agent never moves between tenants: its runs, calls and tasks stay behind.
        return ["tenant", *state] if obj is not None else state

    @admin.display(description="runs")
    def runs(self, obj: Agent) -> str:
        if obj.pk is None:
            return "—"
        url = reverse("admin:agents_run_changelist")
        return format_html('<a href="{}?agent__id__exact={}">its runs</a>', url, obj.pk)

    @admin.action(description="Pause the selected agents")
    def pause(self, request: HttpRequest, queryset: QuerySet) -> None:
        def act(agent: Agent) -> bool:
            was = agent.status
            return agent_pause(agent=agent, actor_user=request.user).status != was

        _each_in_scope(request, queryset, act, "Paused")

    @admin.action(description="Resume the selected agents")
    def resume(self, request: HttpRequest, queryset: QuerySet) -> None:
        def act(agent: Agent) -> bool:
            was = agent.status
            return agent_resume(agent=agent, actor_user=request.user).status != was

        _each_in_scope(request, queryset, act, "Resumed")

    @admin.action(description="Run now (next dispatcher tick)")
    def run_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        def act(agent: Agent) -> bool:
            try:
                return agent_run_now(agent=agent, actor_user=request.user)
            except ValidationError:
                return False  # not active: counted as not woken

        _each_in_scope(request, queryset, act, "Brought forward (active agents only)")


# -- work ---------------------------------------------------------------------------------


@admin.register(Goal)
class GoalAdmin(ServiceFormAdmin):
    form = GoalForm
    list_display = ["title", "tenant", "status", "owner", "parent"]
    list_filter = ["status", "tenant"]
    list_select_related = ["tenant", "owner", "parent"]
    search_fields = ["title", "tenant__name"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # goals are the customer's and the agents'; staff correct them


class CommentInline(UnscopedForeignKeys, admin.TabularInline):
    model = Comment
    extra = 0
    can_delete = False
    fields = ["created_at", "author", "body", "run_id"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return Comment.objects.unscoped().select_related("author_user", "author_agent")

    @admin.display(description="author")
    def author(self, obj: Comment) -> str:
        return obj.author_label

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Task)
class TaskAdmin(ServiceFormAdmin):
    form = TaskForm
    list_display = ["title", "tenant", "status", "priority", "assignee", "checkout_run_id"]
    list_filter = ["status", "priority", "tenant"]
    list_select_related = ["tenant", "assignee"]
    search_fields = ["title", "tenant__name"]
    inlines = [CommentInline]
    readonly_fields = ["checkout_run", "checked_out_at", "completed_at", "created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # An own select_related makes the changelist skip list_select_related: name all.
        return super().get_queryset(request).select_related("tenant", "assignee", "checkout_run")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Comment)
class CommentAdmin(UnscopedAdmin, ReadOnlyAdmin):
    list_display = ["pk", "tenant", "task", "author", "created_at"]
    list_select_related = ["tenant", "task", "author_user", "author_agent"]
    list_filter = ["tenant"]
    search_fields = ["body", "task__title"]
    fields = ["tenant", "task", "author", "run", "body", "mentioned", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .select_related("tenant", "task", "author_user", "author_agent", "run")
        )

    @admin.display(description="author")
    def author(self, obj: Comment) -> str:
        return obj.author_label

    @admin.display(description="mentions")
    def mentioned(self, obj: Comment) -> str:
        names = Agent.objects.unscoped().filter(mentioned_in=obj).values_list("name", flat=True)
        return ", ".join(names) or "—"


# -- runs ---------------------------------------------------------------------------------


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class TranscriptInline(ReadOnlyInline):
    """The lines this run wrote (and the incoming messages it handled)."""

    model = SessionMessage
    fk_name = "run"
    verbose_name_plural = "transcript"
    fields = ["id", "step", "role", "status", "author_label", "content", "tool_calls"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return SessionMessage.objects.unscoped().order_by("id")


class ToolCallInline(ReadOnlyInline):
    model = ToolCallRecord
    verbose_name_plural = "tool calls"
    fields = ["step", "index", "name", "arguments", "status", "result", "duration_ms"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return ToolCallRecord.objects.unscoped().order_by("step", "index")


ATTEMPT_COLUMNS = ("try", "key", "model", "status", "error class", "HTTP", "ms", "probe")


def _attempt_row(a: FailoverAttempt) -> tuple[Any, ...]:
    ms = "" if a.duration_ms is None else f"{a.duration_ms:.0f}"
    return (
        f"#{a.seq} (try {a.try_no})",
        a.profile_key,
        f"{a.provider}/{a.model}",
        a.status,
        a.error_class or "—",
        a.http_status or "",
        ms,
        "probe" if a.probe else "",
    )


def _calls_table(calls: list[ModelCall]) -> SafeString:
    if not calls:
        return format_html("<p>{}</p>", "No model calls.")
    head = format_html_join("", "<th>{}</th>", ((c,) for c in ATTEMPT_COLUMNS))
    parts = []
    for call in calls:
        rows = format_html_join(
            "",
            "<tr>" + "<td>{}</td>" * len(ATTEMPT_COLUMNS) + "</tr>",
            (_attempt_row(a) for a in call.attempts.all()),
        )
        answered = f"{call.provider}/{call.model}" if call.model else "no answer"
        parts.append(
            format_html(
                "<h4>{} — {} ({}, {} in / {} out tokens)</h4>{}"
                "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
                call.key,
                call.status,
                answered,
                call.input_tokens,
                call.output_tokens,
                format_html("<p>{}</p>", call.error) if call.error else "",
                head,
                rows,
            )
        )
    return format_html_join("", "{}", ((p,) for p in parts))


@admin.register(Run)
class RunAdmin(UnscopedAdmin, ReadOnlyAdmin):
    list_display = [
        "pk",
        "tenant",
        "agent",
        "trigger",
        "status",
        "reason_short",
        "tokens",
        "answered_model",
        "fell_back",
        "coalesced",
        "created_at",
        "started_at",
        "ended_at",
    ]
    list_filter = ["status", "trigger", "fell_back", "tenant"]
    list_select_related = ["tenant", "agent"]
    search_fields = ["agent__name", "tenant__name", "reason", "summary"]
    inlines = [TranscriptInline, ToolCallInline]
    readonly_fields = ["model_calls"]
    fieldsets = [
        (None, {"fields": ["tenant", "agent", "trigger", "status", "reason", "task", "session"]}),
        (
            "Outcome",
            {
                "fields": [
                    "summary",
                    "error_detail",
                    "steps",
                    "input_tokens",
                    "output_tokens",
                    "cost",
                    "answered_provider",
                    "answered_model",
                    "fell_back",
                    "coalesced",
                    "next_attempt_at",
                ]
            },
        ),
        (
            "Timings and lease",
            {
                "fields": [
                    "created_at",
                    "started_at",
                    "last_progress_at",
                    "ended_at",
                    "lease_owner",
                    "lease_until",
                ]
            },
        ),
        ("Model calls and their failover attempts", {"fields": ["model_calls"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("tenant", "agent", "task", "session")

    @admin.display(description="reason")
    def reason_short(self, obj: Run) -> str:
        return Truncator(obj.reason).chars(80)

    @admin.display(description="tokens")
    def tokens(self, obj: Run) -> int:
        return obj.input_tokens + obj.output_tokens

    @admin.display(description="model calls")
    def model_calls(self, obj: Run) -> SafeString:
        attempts = FailoverAttempt.objects.unscoped().order_by("seq")
        calls = (
            ModelCall.objects.unscoped()
            .filter(run_id=obj.pk)
            .order_by("created_at", "id")
            .prefetch_related(Prefetch("attempts", queryset=attempts))
        )
        return _calls_table(list(calls))


# -- sessions and keys ----------------------------------------------------------------------


class SessionMessageInline(ReadOnlyInline):
    model = SessionMessage
    fk_name = "session"
    fields = ["id", "role", "status", "author_label", "content", "run_id", "step"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return SessionMessage.objects.unscoped().order_by("id")


@admin.register(Session)
class SessionAdmin(UnscopedAdmin, ReadOnlyAdmin):
    list_display = ["pk", "tenant", "agent", "key", "created_at"]
    list_select_related = ["tenant", "agent"]
    list_filter = ["tenant"]
    search_fields = ["key", "agent__name"]
    inlines = [SessionMessageInline]
    fields = ["tenant", "agent", "key", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("tenant", "agent")


@admin.register(AgentApiKey)
class AgentApiKeyAdmin(UnscopedAdmin, ReadOnlyAdmin):
    """The key's hash is never shown, not even here; revoking is the one write."""

    list_display = [
        "prefix",
        "tenant",
        "agent",
        "label",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_select_related = ["tenant", "agent"]
    list_filter = ["tenant"]
    search_fields = ["prefix", "label", "agent__name"]
    fields = ["prefix", "tenant", "agent", "label", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("tenant", "agent")

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        def act(key: AgentApiKey) -> bool:
            was = key.revoked_at
            return was is None and api_key_revoke(key=key, actor_user=request.user).revoked_at

        _each_in_scope(request, queryset, act, "Revoked")
