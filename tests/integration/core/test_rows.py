"""orion.core.rows writes what save() would, in one statement, on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from agents.models import FailoverAttempt, ModelCall
from orion.core.rows import row_insert, rows_update
from tenants.models import Invitation

pytestmark = pytest.mark.django_db


def _invitation(cast, token: str) -> Invitation:
    return Invitation(
        tenant=cast.tenant,
        email="a@x.test",
        token_hash=token,
        expires_at=timezone.now() + timedelta(days=1),
    )


@pytest.mark.parametrize("relaxed", [False, True])
def test_insert_sets_the_pk_and_applies_defaults(cast, relaxed):
    row = _invitation(cast, "a" * 64)
    pk = row_insert(row, relaxed=relaxed)
    assert pk == row.pk and not row._state.adding
    stored = Invitation.objects.unscoped().get(pk=pk)
    assert stored.role == "member"  # the model default
    assert stored.created_at is not None  # auto_now_add ran


def test_insert_on_conflict_keeps_the_existing_row(cast):
    first = row_insert(_invitation(cast, "b" * 64), conflict=("token_hash",))
    second = row_insert(_invitation(cast, "b" * 64), conflict=("token_hash",))
    assert first is not None and second is None
    assert Invitation.objects.unscoped().filter(token_hash="b" * 64).count() == 1


@pytest.mark.parametrize("relaxed", [False, True])
def test_updates_apply_together(cast, relaxed):
    call = ModelCall(tenant=cast.tenant, key="k")
    row_insert(call)
    attempt = FailoverAttempt(
        tenant=cast.tenant,
        call=call,
        seq=1,
        candidate_index=0,
        provider="p",
        model="m",
        profile_key="1",
        try_no=1,
        status="started",
        started_at=timezone.now(),
    )
    row_insert(attempt)
    rows_update(
        (FailoverAttempt, {"call": call.pk, "seq": 1}, {"status": "succeeded", "duration_ms": 1.5}),
        (ModelCall, {"id": call.pk}, {"status": "succeeded", "result": {"content": "hi"}}),
        relaxed=relaxed,
    )
    assert FailoverAttempt.objects.unscoped().get(pk=attempt.pk).status == "succeeded"
    stored = ModelCall.objects.unscoped().get(pk=call.pk)
    assert (stored.status, stored.result) == ("succeeded", {"content": "hi"})


@pytest.mark.django_db(transaction=True)  # autocommit, as in a worker
def test_relaxed_commit_is_scoped_to_its_own_statement(cast):
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        before = cursor.fetchone()[0]
    row_insert(_invitation(cast, "c" * 64), relaxed=True)
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == before


@pytest.mark.django_db(transaction=True)
def test_the_independent_connection_commits_whatever_the_caller_holds(cast):
    from django.db import transaction

    from orion.core.rows import INDEPENDENT_ALIAS, independent_alias

    if connection.vendor != "postgresql":
        assert independent_alias() == "default"  # SQLite: documented fallback
        pytest.skip("a second, independent connection needs PostgreSQL")

    class Rollback(Exception):
        pass

    using = independent_alias()
    assert using == INDEPENDENT_ALIAS
    with pytest.raises(Rollback), transaction.atomic():
        Invitation.objects.unscoped().filter(tenant=cast.tenant).delete()  # caller's work
        row_insert(_invitation(cast, "d" * 64), using=using)
        raise Rollback
    assert Invitation.objects.unscoped().filter(token_hash="d" * 64).exists()


@pytest.mark.django_db(transaction=True)
def test_insert_then_select_in_one_round_trip(cast):
    from django.test.utils import CaptureQueriesContext

    from orion.core.rows import independent_alias

    if connection.vendor != "postgresql":
        pytest.skip("several statements per round trip is PostgreSQL only here")
    from django.db import connections

    using = independent_alias()
    select = (
        f"SELECT token_hash FROM {Invitation._meta.db_table} WHERE token_hash = %s",
        ["e" * 64],
    )
    with CaptureQueriesContext(connections[using]) as queries:
        pk, rows = row_insert(
            _invitation(cast, "e" * 64), relaxed=True, using=using, then_select=select
        )
    assert pk is not None and rows == [("e" * 64,)]
    assert len(queries) == 1
    again, rows = row_insert(
        _invitation(cast, "e" * 64), conflict=("token_hash",), using=using, then_select=select
    )
    assert again is None and rows == [("e" * 64,)]
