"""`make run` stops its children within its budget, even one that ignores SIGTERM."""

from __future__ import annotations

import sys
import time

from orion.run import STOP_S, _spawn, stop_children

STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"


def test_a_child_ignoring_sigterm_is_killed_within_the_budget():
    polite = _spawn([sys.executable, "-c", "import time; time.sleep(60)"])
    stubborn = _spawn([sys.executable, "-c", STUBBORN])
    time.sleep(0.5)  # let the stubborn one install its handler
    started = time.monotonic()
    stop_children([polite, stubborn])
    assert time.monotonic() - started < STOP_S + 0.5
    assert polite.returncode == -15 and stubborn.returncode == -9
