"""The whole API against its own OpenAPI schema, with schemathesis: every operation, all
checks, a bounded number of generated examples, as a signed-in owner of one company while a
second company exists. No server errors, no undocumented status codes, no responses that
break the schema: every endpoint a later change adds is held to the same contract."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import ignored_auth

from orion.wsgi import application

pytestmark = pytest.mark.django_db

CSRF = "c" * 32
MAX_EXAMPLES = 8


@pytest.fixture
def keep_the_test_connection():
    """Calls go through the WSGI app, whose request signals would close the test's database
    connection (and its transaction); Django's test client disconnects them the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _owner_cookies(owner) -> dict[str, str]:
    client = Client()
    client.force_login(owner)
    return {"sessionid": client.cookies["sessionid"].value, "csrftoken": CSRF}


def _check(operation, cookies: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        case.cookies = {**(case.cookies or {}), **cookies}
        # ignored_auth would replay the call "without credentials", but the session cookie
        # is set here on every case; 401s are tested in tenancy/test_api_conventions.py.
        case.call_and_validate(headers={"X-CSRFToken": CSRF}, excluded_checks=[ignored_auth])

    run()


def test_every_operation_keeps_the_schema(cast, keep_the_test_connection):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    cookies = _owner_cookies(cast.owner)
    failures = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        try:
            _check(operation, cookies)
        except (Exception, BaseExceptionGroup) as exc:  # report every operation's failure
            failures.append(f"{operation.label}: {exc}")
    assert operations > 10
    assert not failures, "\n\n".join(failures)
