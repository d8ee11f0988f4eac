"""The task board by status (filter by agent or goal), a task's page with its comments, and
the work on it: create, move, assign, comment with @mentions. Members and above work tasks;
viewers read."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from agents.models import Task
from agents.portal.access import WORK, can_work, role_required
from agents.portal.forms import (
    BoardFilterForm,
    CommentForm,
    TaskAssignForm,
    TaskForm,
    TaskMoveForm,
    service_errors_add,
)
from agents.portal.once import submit_claim, submit_release
from agents.portal.selectors import task_board, task_comments, task_get, task_runs
from agents.portal.views.common import found
from agents.services.work import comment_create, task_create, task_update
from tenants.views.common import tenant_required

ALREADY_SENT = "That was sent already: nothing was added twice."


def _board(request: HttpRequest, form: TaskForm | None = None, status: int = 200) -> HttpResponse:
    filters = BoardFilterForm(request.GET or None)
    agent_id = goal_id = None
    if filters.is_bound and filters.is_valid():
        agent_id = getattr(filters.cleaned_data.get("agent"), "pk", None)
        goal_id = getattr(filters.cleaned_data.get("goal"), "pk", None)
    context = {
        "columns": task_board(agent_id=agent_id, goal_id=goal_id),
        "filters": filters,
        "filtered": agent_id is not None or goal_id is not None,
        "form": form or TaskForm(),
        "can_work": can_work(request),
    }
    return render(request, "agents/board.html", context, status=status)


@require_GET
@tenant_required
def board(request: HttpRequest) -> HttpResponse:
    return _board(request)


@require_POST
@tenant_required
@role_required(WORK)
def task_new(request: HttpRequest) -> HttpResponse:
    form = TaskForm(request.POST)
    if form.is_valid():
        token = form.cleaned_data.pop("submit_token")
        if not submit_claim(token):
            messages.info(request, ALREADY_SENT)
            return redirect("agents:board")
        try:
            task = task_create(actor_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            submit_release(token)
            service_errors_add(form, exc)
        else:
            messages.success(request, f"Task “{task.title}” was added.")
            return redirect("agents:task", pk=task.pk)
    return _board(request, form, status=400)


def _task_page(
    request: HttpRequest,
    task: Task,
    *,
    comment_form: CommentForm | None = None,
    move_form: TaskMoveForm | None = None,
    assign_form: TaskAssignForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "task": task,
        "comments": task_comments(task_id=task.pk),
        "runs": task_runs(task_id=task.pk),
        "comment_form": comment_form or CommentForm(),
        "move_form": move_form or TaskMoveForm(initial={"status": task.status}),
        "assign_form": assign_form or TaskAssignForm(initial={"assignee": task.assignee_id}),
        "can_work": can_work(request),
    }
    return render(request, "agents/task.html", context, status=status)


@require_GET
@tenant_required
def task_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _task_page(request, found(task_get(pk=pk), "task"))


def _back(request: HttpRequest, task: Task) -> HttpResponse:
    """Back to the board (keeping its filters) when the form came from there."""
    if request.POST.get("next") == "board":
        query = {k: request.POST[k] for k in ("agent", "goal") if request.POST.get(k)}
        url = reverse("agents:board")
        return redirect(f"{url}?{urlencode(query)}" if query else url)
    return redirect("agents:task", pk=task.pk)


def _update(request: HttpRequest, task: Task, form, done: str) -> HttpResponse:
    if form.is_valid():
        try:
            task_update(task=task, actor_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            service_errors_add(form, exc)
        else:
            messages.success(request, done)
            return _back(request, task)
    key = "move_form" if isinstance(form, TaskMoveForm) else "assign_form"
    return _task_page(request, task, status=400, **{key: form})


@require_POST
@tenant_required
@role_required(WORK)
def task_move(request: HttpRequest, pk: int) -> HttpResponse:
    task = found(task_get(pk=pk), "task")
    form = TaskMoveForm(request.POST)
    label = dict(TaskMoveForm.base_fields["status"].choices).get(request.POST.get("status"), "")
    return _update(request, task, form, f"“{task.title}” moved to {str(label).lower()}.")


@require_POST
@tenant_required
@role_required(WORK)
def task_assign(request: HttpRequest, pk: int) -> HttpResponse:
    task = found(task_get(pk=pk), "task")
    return _update(request, task, TaskAssignForm(request.POST), f"“{task.title}” was reassigned.")


@require_POST
@tenant_required
@role_required(WORK)
def task_comment(request: HttpRequest, pk: int) -> HttpResponse:
    task = found(task_get(pk=pk), "task")
    form = CommentForm(request.POST)
    if form.is_valid():
        token = form.cleaned_data["submit_token"]
        if not submit_claim(token):
            messages.info(request, ALREADY_SENT)
            return redirect("agents:task", pk=task.pk)
        try:
            comment = comment_create(
                task=task, body=form.cleaned_data["body"], actor_user=request.user
            )
        except ValidationError as exc:
            submit_release(token)
            service_errors_add(form, exc)
        else:
            names = ", ".join(a.name for a in comment.mentions.all())
            messages.success(
                request, f"Comment posted{f'; {names} will pick it up' if names else ''}."
            )
            return redirect(
                f"{reverse('agents:task', kwargs={'pk': task.pk})}#comment-{comment.pk}"
            )
    return _task_page(request, task, comment_form=form, status=400)
