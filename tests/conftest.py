"""Suite-wide fixtures: the fixed cast, and the guard against leaving 127.0.0.1.

Tests run on PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set (always in CI) and
on SQLite otherwise; the header says which, and `-rs` lists every skip with its reason.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from orion.core import loopback_guard


def pytest_report_header(config: pytest.Config) -> list[str]:
    db = os.environ.get("DATABASE_URL", "")
    redis = os.environ.get("REDIS_URL", "")
    where = db.split("@")[-1] if db else "SQLite under var/ (DATABASE_URL not set)"
    return [
        f"orion database: {where}",
        f"orion redis: {redis or 'none (REDIS_URL not set): Redis-backed tests are skipped'}",
    ]


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> Iterator[None]:
    loopback_guard.install()
    yield
    loopback_guard.uninstall()


@pytest.fixture(autouse=True)
def _fresh_model_config_cache() -> Iterator[None]:
    """Each test's rows are rolled back (and SQLite reuses ids): drop the per-process
    model-chain cache so no test sees another's configuration."""
    from agents.selectors import chain_cache_clear
    from orion.core.rows import independent_close

    chain_cache_clear()
    yield
    chain_cache_clear()
    independent_close()  # the model-call ledger's own connection: never left open


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL not set: this test needs a real Redis")
    return url


@dataclass
class Cast:
    """The fixed cast of every endpoint test."""

    tenant: object
    other_tenant: object
    owner: object
    admin: object
    member: object
    viewer: object
    outsider: object  # owner of other_tenant, no membership in tenant

    def user(self, role: str):
        return getattr(self, role)


def make_user(email: str, *, password: str = "s3cret-Pass-42", **flags: object):
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(
        username=email, email=email, password=password, **flags
    )
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


@pytest.fixture
def cast(db) -> Cast:
    from tenants.models import Membership, Role
    from tenants.services.tenants import tenant_create_for_owner

    owner = make_user("owner@acme.test")
    tenant = tenant_create_for_owner(name="Acme Plumbing", owner=owner)
    people = {}
    for role in (Role.ADMIN, Role.MEMBER, Role.VIEWER):
        people[role] = make_user(f"{role}@acme.test")
        Membership.objects.create(tenant=tenant, user=people[role], role=role)
    outsider = make_user("owner@globex.test")
    other = tenant_create_for_owner(name="Globex Bakery", owner=outsider)
    return Cast(
        tenant=tenant,
        other_tenant=other,
        owner=owner,
        admin=people[Role.ADMIN],
        member=people[Role.MEMBER],
        viewer=people[Role.VIEWER],
        outsider=outsider,
    )


@pytest.fixture
def client_as(cast: Cast) -> Callable:
    """`client_as("member")` is a Django test client signed in as that cast member."""
    from django.test import Client

    def make(role: str) -> Client:
        client = Client()
        client.force_login(cast.user(role))
        return client

    return make


@pytest.fixture
def api_as(cast: Cast) -> Callable:
    from rest_framework.test import APIClient

    def make(role: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(cast.user(role))
        return client

    return make
