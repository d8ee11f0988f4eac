"""Celery glue for tenancy: every task starts outside any scope; `tenant_task` sets one.

A plain task therefore cannot read tenant rows (the manager fails closed), even when it
runs eagerly inside a request that had a scope.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import Token
from typing import Any

from celery import shared_task
from celery.signals import task_postrun, task_prerun

from tenants.scope import enter_scope, exit_scope, tenant_scope

_tokens: dict[str, Token] = {}


@task_prerun.connect
def _clear_scope(task_id: str | None = None, **_: Any) -> None:
    if task_id is not None:
        _tokens[task_id] = enter_scope(None)


@task_postrun.connect
def _restore_scope(task_id: str | None = None, **_: Any) -> None:
    token = _tokens.pop(task_id, None) if task_id is not None else None
    if token is not None:
        exit_scope(token)


def tenant_task(*task_args: Any, **task_options: Any) -> Callable:
    """Like `shared_task`, but the task takes a required `tenant_id` kwarg and runs in its scope.

    Use as `@tenant_task` or `@tenant_task(queue=..., ...)`; call as
    `task.delay_on_commit(tenant_id=tenant.pk, ...)`.
    """

    def decorate(fn: Callable) -> Any:
        @functools.wraps(fn)
        def run(*args: Any, tenant_id: int | None = None, **kwargs: Any) -> Any:
            if tenant_id is None:
                raise TypeError(f"{fn.__name__} needs a tenant_id keyword argument")
            with tenant_scope(int(tenant_id)):
                return fn(*args, tenant_id=int(tenant_id), **kwargs)

        return shared_task(**task_options)(run)

    if len(task_args) == 1 and callable(task_args[0]) and not task_options:
        return decorate(task_args[0])
    return decorate
