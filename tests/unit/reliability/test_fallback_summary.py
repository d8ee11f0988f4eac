"""FallbackSummaryError: readable, complete, secret-free, picklable."""

from __future__ import annotations

import pickle

from orion.reliability import AttemptRecord, ErrorClass, FallbackSummaryError

E = ErrorClass
T = 1_700_000_000.0


def attempt(seq: int, **kw) -> AttemptRecord:
    values = dict(
        seq=seq,
        candidate_index=0,
        provider="zhipu",
        model="glm-4.7",
        profile_id="z1",
        try_no=seq,
        status="failed",
        error_class=E.SERVER,
        http_status=503,
        message="Service Unavailable",
        duration_ms=812.4,
        started_at=T,
    )
    values.update(kw)
    return AttemptRecord(**values)


def test_one_headline_then_one_line_per_attempt() -> None:
    err = FallbackSummaryError(
        [
            attempt(1),
            attempt(
                2,
                provider="ollama",
                model="llama3.1:8b",
                profile_id="o1",
                error_class=E.TIMEOUT,
                http_status=None,
                message="",
            ),
        ],
        soonest_expiry=T + 30,
        notes=["skipped anthropic/claude: no auth profiles for anthropic"],
    )
    lines = str(err).splitlines()
    assert lines[0] == (
        "all model candidates failed: 2 attempt(s), last error timeout, "
        "soonest retry 2023-11-14T22:13:50Z"
    )
    assert lines[1] == (
        "  #1 zhipu/glm-4.7 profile=z1 try=1 failed class=server http=503 812ms: "
        "Service Unavailable"
    )
    assert (
        lines[2] == "  #2 ollama/llama3.1:8b profile=o1 try=2 failed class=timeout http=- 812ms: -"
    )
    assert lines[3] == "  note: skipped anthropic/claude: no auth profiles for anthropic"
    assert err.last_class is E.TIMEOUT and not err.surfaced


def test_surfaced_headline() -> None:
    err = FallbackSummaryError([attempt(1, error_class=E.CONTENT_POLICY)], surfaced=True)
    assert str(err).startswith("model call failed with content_policy after 1 attempt(s)")


def test_no_attempts_and_unknown_expiry() -> None:
    err = FallbackSummaryError([], soonest_expiry=None)
    assert err.last_class is None
    assert "soonest retry unknown" in str(err)


def test_secrets_never_reach_the_summary() -> None:
    leaked = "Authorization: Bearer sk-ant-api03-" + "Z" * 40
    err = FallbackSummaryError([attempt(1, message=leaked)])
    assert "ZZZZZZZZ" not in str(err) and "sk-ant" not in str(err)


def test_pickles_for_celery() -> None:
    err = FallbackSummaryError([attempt(1)], soonest_expiry=T, surfaced=True, notes=["n"])
    back = pickle.loads(pickle.dumps(err))
    assert (back.attempts, back.soonest_expiry, back.surfaced, back.notes) == (
        err.attempts,
        T,
        True,
        ["n"],
    )
    assert str(back) == str(err)
