"""Resuming a walk from its ledger: same position, no repeated step, no re-sleep."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orion.reliability import (
    AttemptRecord,
    ErrorClass,
    FallbackSummaryError,
    InMemoryLedger,
)

from .fakes import GEMINI, GLM, OLLAMA, T0, Profiles, Rig, fail

E = ErrorClass


class WorkerDied(BaseException):
    """Stands for SIGKILL / OOM: nothing after it runs."""


def rig(*chain, **profiles) -> Rig:
    table = {"zhipu": ["z1", "z2"], "gemini": ["g1"], "ollama": ["o1"]}
    table.update(profiles)
    return Rig(list(chain), Profiles(table))


def record(seq: int, try_no: int, status: str, error_class=None, **kw) -> AttemptRecord:
    return AttemptRecord(
        seq=seq,
        candidate_index=kw.pop("candidate_index", 0),
        provider=kw.pop("provider", "zhipu"),
        model=kw.pop("model", "glm-4.7"),
        profile_id=kw.pop("profile_id", "z1"),
        try_no=try_no,
        status=status,
        error_class=error_class,
        started_at=T0,
        **kw,
    )


def test_two_failed_records_resume_at_attempt_3_without_repeat_or_sleep() -> None:
    r = rig(GLM, GEMINI)
    r.ledger.begin("call", record(1, 1, "failed", E.SERVER, http_status=500))
    r.ledger.begin("call", record(2, 2, "failed", E.SERVER, http_status=500))
    r.clock.advance(5.0)  # the restart took longer than the pending backoff
    send = r.script()
    result = r.walker().walk("call", send)
    assert send.calls == [("glm-4.7", "z1")]
    assert [(a.seq, a.try_no, a.status) for a in result.attempts] == [
        (1, 1, "failed"),
        (2, 2, "failed"),
        (3, 3, "succeeded"),
    ]
    assert r.clock.sleeps == []
    assert r.store.states == {}  # replayed failures are not cooled again


def test_started_record_becomes_interrupted_and_consumes_its_try() -> None:
    r = rig(GLM, GEMINI)
    r.ledger.begin("call", record(1, 1, "failed", E.SERVER))
    r.ledger.begin("call", record(2, 2, "failed", E.SERVER))
    r.ledger.begin("call", record(3, 3, "started"))
    send = r.script()
    result = r.walker().walk("call", send)
    # Try 3 on z1 happened (maybe): never repeated. z1 is out of tries: next profile.
    assert send.calls == [("glm-4.7", "z2")]
    third = r.ledger.load("call")[2]
    assert (third.status, third.error_class) == ("interrupted", E.UNKNOWN)
    assert [a.seq for a in result.attempts] == [1, 2, 3, 4]
    assert result.attempts[3].try_no == 1


def test_interrupted_first_try_is_retried_as_try_2() -> None:
    r = rig(GLM)
    r.ledger.begin("call", record(1, 1, "started"))
    send = r.script()
    r.walker().walk("call", send)
    assert [(a.profile_id, a.try_no) for a in r.ledger.load("call")] == [("z1", 1), ("z1", 2)]


def test_worker_death_mid_send_then_resume_end_to_end() -> None:
    r = rig(GLM, GEMINI)
    send = r.script(outcomes={("glm-4.7", "z1"): [fail(E.OVERLOADED, status=503), WorkerDied()]})
    with pytest.raises(WorkerDied):
        r.walker().walk("call", send)
    assert [a.status for a in r.ledger.load("call")] == ["failed", "started"]
    sleeps_before = list(r.clock.sleeps)
    r.clock.advance(5.0)
    result = r.walker().walk("call", send)
    assert r.clock.sleeps == sleeps_before  # the restart took its time: no re-sleep
    assert [(a.try_no, a.status) for a in result.attempts] == [
        (1, "failed"),
        (2, "interrupted"),
        (3, "succeeded"),
    ]


def test_resume_after_success_returns_without_sending() -> None:
    r = rig(GLM, GEMINI)
    r.ledger.begin("call", record(1, 1, "failed", E.AUTH))
    r.ledger.begin("call", record(2, 1, "succeeded", profile_id="z2"))
    send = r.script()
    result = r.walker().walk("call", send)
    assert send.calls == []
    assert result.replayed and result.value is None
    assert (result.candidate, result.profile.id) == (GLM, "z2")


def test_resume_after_a_surfaced_failure_raises_again_without_sending() -> None:
    r = rig(GLM, GEMINI)
    r.ledger.begin("call", record(1, 1, "failed", E.CONTENT_POLICY, http_status=400))
    send = r.script()
    with pytest.raises(FallbackSummaryError) as info:
        r.walker().walk("call", send)
    assert info.value.surfaced and send.calls == []


def test_replay_keeps_retry_after_decisions() -> None:
    # Live, a Retry-After of 600 s meant "fail over now": replay must agree.
    r = rig(GLM, GEMINI)
    r.ledger.begin("call", record(1, 1, "failed", E.RATE_LIMIT, retry_after=600.0))
    send = r.script()
    r.walker().walk("call", send)
    assert send.calls == [("glm-4.7", "z2")]


def test_replay_keeps_context_overflow_skips() -> None:
    r = rig(GLM, OLLAMA, GEMINI)
    r.ledger.begin("call", record(1, 1, "failed", E.CONTEXT_OVERFLOW))
    send = r.script()
    assert r.walker().walk("call", send).candidate == GEMINI
    assert send.calls == [("gemini-flash-lite", "g1")]


def test_replay_keeps_probe_single_try() -> None:
    r = rig(GLM)
    r.ledger.begin("call", record(1, 1, "failed", E.RATE_LIMIT, probe=True))
    send = r.script()
    r.walker().walk("call", send)
    assert send.calls == [("glm-4.7", "z2")]


def test_ledger_from_another_chain_is_rejected() -> None:
    r = rig(GLM)
    r.ledger.begin("call", record(1, 1, "failed", E.SERVER, candidate_index=4))
    with pytest.raises(ValueError, match="names candidate 4"):
        r.walker().walk("call", r.script())


# --- property: a crash between attempts changes nothing ------------------------------

OUTCOMES = st.one_of(
    st.just("ok"),
    st.sampled_from(list(ErrorClass)).map(fail),
    st.builds(lambda s: fail(E.RATE_LIMIT, retry_after=s), st.sampled_from([1.0, 2.0, 90.0])),
)


class DyingLedger(InMemoryLedger):
    """Persists the outcome of attempt `die_after`, then the worker dies."""

    def __init__(self, die_after: int) -> None:
        super().__init__()
        self.die_after = die_after

    def finish(self, call_id: str, record: AttemptRecord) -> None:
        super().finish(call_id, record)
        if record.seq == self.die_after:
            raise WorkerDied


def fresh_rig(**parts) -> Rig:
    # Distinct providers per candidate: no cooldown written by one step can steer another.
    profiles = Profiles({"zhipu": ["z1", "z2"], "gemini": ["g1", "g2"], "ollama": ["o1"]})
    return Rig([GLM, GEMINI, OLLAMA], profiles, **parts)


def walk(r: Rig, outcomes: dict) -> None:
    with contextlib.suppress(FallbackSummaryError):
        r.walker().walk("call", r.script(outcomes=outcomes))


def rows(ledger: InMemoryLedger) -> list[tuple]:
    return [
        (a.seq, a.candidate_index, a.profile_id, a.try_no, a.status, a.error_class)
        for a in ledger.load("call")
    ]


KEYS = [
    ("glm-4.7", "z1"),
    ("glm-4.7", "z2"),
    ("gemini-flash-lite", "g1"),
    ("gemini-flash-lite", "g2"),
    ("llama3.1:8b", "o1"),
]


@settings(database=None, max_examples=300, deadline=None)
@given(
    script=st.dictionaries(st.sampled_from(KEYS), st.lists(OUTCOMES, max_size=3)),
    die_after=st.integers(min_value=1, max_value=15),
)
def test_resume_after_a_crash_between_attempts_walks_the_same_steps(script, die_after) -> None:
    straight = fresh_rig()
    walk(straight, {k: list(v) for k, v in script.items()})

    outcomes = {k: list(v) for k, v in script.items()}  # shared by both workers
    first = fresh_rig(ledger=DyingLedger(die_after))
    try:
        walk(first, outcomes)
    except WorkerDied:
        first.ledger.die_after = 0
        second = fresh_rig(ledger=first.ledger, store=first.store)
        second.clock.now = first.clock.now + 60  # the restart takes a while
        walk(second, outcomes)
    assert rows(first.ledger) == rows(straight.ledger)


@settings(database=None, max_examples=200, deadline=None)
@given(
    script=st.dictionaries(st.sampled_from(KEYS), st.lists(OUTCOMES, max_size=3)),
    die_on_call=st.integers(min_value=1, max_value=15),
)
def test_death_mid_send_never_repeats_a_step(script, die_on_call) -> None:
    outcomes = {k: list(v) for k, v in script.items()}
    first = fresh_rig()
    send = first.script(outcomes=outcomes)
    original = send.__call__

    def dying_send(candidate, profile):
        if len(send.calls) + 1 == die_on_call:
            send.calls.append((candidate.model, profile.id))
            raise WorkerDied
        return original(candidate, profile)

    died = False
    try:
        with contextlib.suppress(FallbackSummaryError):
            first.walker().walk("call", dying_send)
    except WorkerDied:
        died = True
        second = fresh_rig(ledger=first.ledger, store=first.store)
        second.clock.now = first.clock.now + 60
        walk(second, outcomes)
    records = first.ledger.load("call")
    keys = [(a.candidate_index, a.profile_id, a.try_no) for a in records]
    assert len(keys) == len(set(keys))
    assert [a.seq for a in records] == list(range(1, len(records) + 1))
    assert all(a.status != "started" for a in records)
    assert [a.seq for a in records if a.status == "interrupted"] == ([die_on_call] if died else [])


def test_a_resumed_walk_waits_out_the_retry_after_of_its_last_record() -> None:
    r = rig(GLM, GEMINI)
    r.ledger.begin(
        "call",
        record(1, 1, "failed", E.RATE_LIMIT, http_status=429, retry_after=3.0, duration_ms=100.0),
    )
    r.clock.advance(1.0)  # the worker died 0.9 s into its 3 s wait; restarted at once
    send = r.script()
    r.walker().walk("call", send)
    assert r.clock.sleeps == [pytest.approx(2.1)]
    assert send.calls == [("glm-4.7", "z1")]


def test_a_resumed_walk_waits_out_at_least_the_backoff_floor() -> None:
    r = rig(GLM, GEMINI)
    r.ledger.begin("call", record(1, 1, "failed", E.SERVER, http_status=500))
    send = r.script()
    r.walker().walk("call", send)
    assert r.clock.sleeps == [pytest.approx(0.3 * 0.9)]  # the jittered floor's lower bound


def test_a_resumed_walk_whose_pending_wait_passes_its_deadline_stops() -> None:
    r = rig(GLM, GEMINI)
    r.ledger.begin("call", record(1, 1, "failed", E.RATE_LIMIT, retry_after=30.0))
    send = r.script()
    with pytest.raises(FallbackSummaryError) as caught:
        r.walker().walk("call", send, deadline=T0 + 10)
    assert caught.value.deadline and send.calls == []
