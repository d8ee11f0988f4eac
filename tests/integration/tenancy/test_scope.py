"""The tenant scope fails closed; writes cannot cross tenants; audit rows are append-only."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tenants.models import AuditEvent, Invitation
from tenants.models.audit import AppendOnly
from tenants.models.owned import CrossTenantWrite
from tenants.scope import NoTenantScope, current_tenant_id, tenant_scope

pytestmark = pytest.mark.django_db


def _invite(tenant, email):
    return Invitation.objects.unscoped().create(
        tenant=tenant,
        email=email,
        token_hash=email.ljust(64, "0")[:64],
        expires_at=timezone.now() + timedelta(days=1),
    )


def test_default_manager_raises_outside_a_scope(cast):
    _invite(cast.tenant, "a@x.test")
    with pytest.raises(NoTenantScope, match="outside a tenant scope"):
        list(Invitation.objects.all())
    with pytest.raises(NoTenantScope):
        Invitation.objects.filter(email="a@x.test").exists()


def test_scope_shows_only_its_tenants_rows(cast):
    _invite(cast.tenant, "a@x.test")
    _invite(cast.other_tenant, "b@x.test")
    with tenant_scope(cast.tenant):
        assert list(Invitation.objects.values_list("email", flat=True)) == ["a@x.test"]
    with tenant_scope(cast.other_tenant.pk):
        assert list(Invitation.objects.values_list("email", flat=True)) == ["b@x.test"]
    assert Invitation.objects.unscoped().count() == 2


def test_scope_is_restored_after_the_block_even_on_error(cast):
    with pytest.raises(ZeroDivisionError), tenant_scope(cast.tenant):
        assert current_tenant_id() == cast.tenant.pk
        _ = 1 / 0
    assert current_tenant_id() is None


def test_saving_another_tenants_row_in_a_scope_is_refused(cast):
    row = _invite(cast.other_tenant, "b@x.test")
    with tenant_scope(cast.tenant), pytest.raises(CrossTenantWrite):
        row.email = "changed@x.test"
        row.save()
    row.refresh_from_db()
    assert row.email == "b@x.test"


def test_a_new_row_takes_the_scopes_tenant(cast):
    with tenant_scope(cast.tenant):
        row = Invitation(
            email="c@x.test", token_hash="c" * 64, expires_at=timezone.now() + timedelta(days=1)
        )
        row.save()
    assert row.tenant_id == cast.tenant.pk


def test_audit_events_are_append_only(cast):
    with tenant_scope(cast.tenant):
        event = AuditEvent.objects.first()
        assert event.verb == "tenant.created"
        with pytest.raises(AppendOnly):
            AuditEvent.objects.filter(pk=event.pk).update(verb="forged")
        with pytest.raises(AppendOnly):
            AuditEvent.objects.filter(pk=event.pk).delete()
        with pytest.raises(AppendOnly):
            event.verb = "forged"
            event.save()
        with pytest.raises(AppendOnly):
            event.delete()
    assert AuditEvent.objects.unscoped().get(pk=event.pk).verb == "tenant.created"


def test_querysets_can_be_built_anywhere_but_run_only_in_a_scope(cast):
    _invite(cast.tenant, "a@x.test")
    rows = Invitation.objects.filter(email="a@x.test")  # e.g. a form field's choices at import
    with pytest.raises(NoTenantScope):
        list(rows)
    with tenant_scope(cast.tenant):
        assert rows.count() == 1
    with tenant_scope(cast.other_tenant):
        assert rows.count() == 0
