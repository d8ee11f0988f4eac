"""The portal's forms. They check the shape of the input; the services decide the rest
(cycles, other tenants' rows, names taken) and their ValidationErrors land next to the
field they name (`service_errors_add`). Choice fields read the request's tenant scope, so
another tenant's agent or goal is "not in this company"."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from agents.models import Agent, AgentStatus, Goal, ScheduleKind, TaskPriority, TaskStatus
from agents.portal.once import TOKEN_FIELD, submit_token_new
from agents.services.starter import MAX_MISSION
from agents.starter_teams import DEFAULT_TEAM, TEAMS

NOT_OURS = "That {what} is not in this company."


def service_errors_add(form: forms.Form, exc: ValidationError) -> None:
    """A service's ValidationError, next to the fields it names (else on top)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class OnceForm(forms.Form):
    """A form that creates something: it carries the one-time token of `agents.portal.once`."""

    submit_token = forms.CharField(
        widget=forms.HiddenInput,
        max_length=64,
        error_messages={"required": "This form expired: please send it again."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault(TOKEN_FIELD, submit_token_new())


def _agent_field(*, label: str, required: bool = False) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=Agent.objects.none(),
        required=required,
        label=label,
        empty_label="— nobody —",
        error_messages={"invalid_choice": NOT_OURS.format(what="agent")},
    )


def _goal_field(*, label: str = "Goal") -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=Goal.objects.none(),
        required=False,
        label=label,
        empty_label="— none —",
        error_messages={"invalid_choice": NOT_OURS.format(what="goal")},
    )


def _scoped(form: forms.Form) -> None:
    """Fill the choice fields from the request's tenant scope (built per request)."""
    for field in form.fields.values():
        if isinstance(field, forms.ModelChoiceField):
            model = field.queryset.model
            rows = model.objects.all()
            if model is Agent:
                rows = rows.exclude(status=AgentStatus.TERMINATED)
            field.queryset = rows.order_by("pk")


class StarterTeamForm(forms.Form):
    team = forms.ChoiceField(
        choices=[(key, team.label) for key, team in TEAMS.items()],
        initial=DEFAULT_TEAM,
        label="Starter team",
    )
    mission = forms.CharField(
        label="Your company's mission",
        max_length=MAX_MISSION,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="A sentence or two. Every agent reads it before it works.",
    )


class AgentForm(forms.Form):
    title = forms.CharField(max_length=120, required=False, label="Job title")
    instructions = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 6}), label="Instructions"
    )
    reports_to = _agent_field(label="Reports to")
    schedule_kind = forms.ChoiceField(choices=ScheduleKind.choices, label="Schedule")
    cron = forms.CharField(
        max_length=120,
        required=False,
        label="Cron expression",
        help_text="In your time zone, e.g. 30 7 * * 1-5 (weekdays at 07:30).",
    )
    interval_s = forms.IntegerField(
        min_value=60, max_value=7 * 24 * 3600, label="Every (seconds)", required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _scoped(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("schedule_kind") == ScheduleKind.INTERVAL and not data.get("interval_s"):
            self.add_error("interval_s", "How many seconds between heartbeats?")
        if data.get("schedule_kind") == ScheduleKind.INTERVAL and "cron" in data:
            data.pop("cron")
        if data.get("schedule_kind") == ScheduleKind.CRON and not data.get("interval_s"):
            data.pop("interval_s", None)
        return data


class TaskForm(OnceForm):
    title = forms.CharField(max_length=200, label="Title")
    body = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Details"
    )
    assignee = _agent_field(label="Assign to")
    goal = _goal_field()
    priority = forms.TypedChoiceField(
        choices=TaskPriority.choices, coerce=int, initial=TaskPriority.NORMAL, label="Priority"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _scoped(self)


class TaskMoveForm(forms.Form):
    status = forms.ChoiceField(choices=TaskStatus.choices, label="Status")


class TaskAssignForm(forms.Form):
    assignee = _agent_field(label="Assign to")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _scoped(self)


class CommentForm(OnceForm):
    body = forms.CharField(
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Comment",
        help_text="Write @Name to ask an agent: it gets the comment and wakes.",
    )


class GoalForm(OnceForm):
    title = forms.CharField(max_length=200, label="Goal")
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Description"
    )
    parent = _goal_field(label="Serves")
    owner = _agent_field(label="Owner")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _scoped(self)


class BoardFilterForm(forms.Form):
    agent = _agent_field(label="Agent")
    goal = _goal_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _scoped(self)
        self.fields["agent"].empty_label = "— any agent —"
        self.fields["goal"].empty_label = "— any goal —"
