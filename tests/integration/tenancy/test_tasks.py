"""Tasks start outside any scope; `tenant_task` scopes a task to its tenant_id."""

from datetime import timedelta

import pytest
from celery import shared_task
from django.utils import timezone

from tenants.models import Invitation
from tenants.scope import NoTenantScope, tenant_scope
from tenants.tasks import tenant_task

pytestmark = pytest.mark.django_db


@shared_task
def count_invitations_unscoped() -> int:
    return Invitation.objects.count()


@tenant_task
def count_invitations(*, tenant_id: int) -> list[str]:
    return sorted(Invitation.objects.values_list("email", flat=True))


@pytest.fixture
def invitations(cast):
    for tenant, email in ((cast.tenant, "a@x.test"), (cast.other_tenant, "b@x.test")):
        Invitation.objects.unscoped().create(
            tenant=tenant,
            email=email,
            token_hash=email.ljust(64, "0")[:64],
            expires_at=timezone.now() + timedelta(days=1),
        )


def test_a_task_without_tenant_id_cannot_read_tenant_rows(cast, invitations):
    result = count_invitations_unscoped.apply()
    assert isinstance(result.result, NoTenantScope)


def test_a_task_does_not_inherit_the_callers_scope(cast, invitations):
    with tenant_scope(cast.tenant):
        result = count_invitations_unscoped.apply()
    assert isinstance(result.result, NoTenantScope)


def test_tenant_task_reads_only_its_tenant(cast, invitations):
    assert count_invitations.apply(kwargs={"tenant_id": cast.tenant.pk}).get() == ["a@x.test"]
    other = count_invitations.apply(kwargs={"tenant_id": cast.other_tenant.pk}).get()
    assert other == ["b@x.test"]


def test_tenant_task_refuses_a_call_without_tenant_id(cast, invitations):
    result = count_invitations.apply()
    assert isinstance(result.result, TypeError)
    assert "tenant_id" in str(result.result)
