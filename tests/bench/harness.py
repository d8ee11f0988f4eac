"""What every benchmark shares: Django on a throwaway database, percentiles, the report.

Each benchmark module `tests/bench/<name>.py` defines `run() -> dict[str, float | int | str]`.
The harness writes `var/bench/<name>.json` and prints `BENCH <name> key=value ...` last.
Like the tests, it uses DATABASE_URL / REDIS_URL when set (a throwaway test_* database),
SQLite otherwise.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from time import perf_counter

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "var" / "bench"


@contextmanager
def django_test_db() -> Iterator[None]:
    """Django set up on a fresh test database that is dropped afterwards."""
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def timed_ms(fn: Callable[[], object], n: int, *, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        start = perf_counter()
        fn()
        samples.append((perf_counter() - start) * 1000)
    return samples


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def report(name: str, result: dict) -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    result = {k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}
    (OUT_DIR / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"BENCH {name} " + " ".join(f"{k}={v}" for k, v in result.items()), flush=True)
