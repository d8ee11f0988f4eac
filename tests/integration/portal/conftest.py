"""Portal fixtures on top of the suite's fixed cast."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tenants.models import Invitation, Membership

ROLES = ["owner", "admin", "member", "viewer"]
CAST = [*ROLES, "outsider"]


@pytest.fixture
def membership_of(cast) -> Callable[..., Membership]:
    """`membership_of("viewer")`: that cast member's membership in cast.tenant."""

    def get(role: str, tenant=None) -> Membership:
        return Membership.objects.get(tenant=tenant or cast.tenant, user=cast.user(role))

    return get


@pytest.fixture
def invite(cast, membership_of) -> Callable[..., tuple[Invitation, str]]:
    """`invite("new@x.test", "member")`: an invitation to cast.tenant made by its owner."""
    from tenants.services.invitations import invitation_create

    def make(email: str = "new@acme.test", role: str = "member", *, by: str = "owner"):
        return invitation_create(actor_membership=membership_of(by), email=email, role=role)

    return make


@pytest.fixture
def eager(monkeypatch) -> None:
    """The Delivery path's on-commit send task runs in the request, as a worker would run
    it at once, so a queued mail (an invitation, allauth's account mails) lands in
    `mailoutbox`. The send reads the delivery on its own connection: tests using this are
    transactional (`django_db(transaction=True)`)."""
    from orion.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
