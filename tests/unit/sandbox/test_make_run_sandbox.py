"""`make run`'s helpers for the sandbox and the embedded worker: which port the sandbox
gets, waiting for it, and every queue the control plane routes to."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from orion.celery import QUEUES
from orion.run import sandbox_port, sandbox_wait, worker_queues
from orion.sandbox import SandboxServer


def test_the_worker_consumes_every_named_and_dedicated_queue(monkeypatch):
    monkeypatch.delenv("ORION_DEDICATED_TENANT_QUEUES", raising=False)
    assert worker_queues() == list(QUEUES)
    assert {"default", "agents"} <= set(worker_queues())  # dispatcher tick, heartbeats
    monkeypatch.setenv("ORION_DEDICATED_TENANT_QUEUES", "7, 12")
    queues = worker_queues()
    assert queues[: len(QUEUES)] == list(QUEUES)
    assert {"agents.t7", "default.t12", "monitoring.t12"} <= set(queues)
    assert len(queues) == 3 * len(QUEUES)


def test_the_sandbox_port_is_next_to_the_web_port_unless_taken_or_set(monkeypatch):
    monkeypatch.delenv("ORION_SANDBOX_PORT", raising=False)
    with socket.socket() as web:
        web.bind(("127.0.0.1", 0))
        base = web.getsockname()[1]
    if base + 99 >= 65536:
        pytest.skip("the free port found is too close to the top of the range")
    with socket.socket() as taken:
        try:
            taken.bind(("127.0.0.1", base + 99))
        except OSError:
            pytest.skip("the port next to the free one is in use already")
        taken.listen()
        other = sandbox_port("127.0.0.1", base)
        assert other != base + 99 and 0 < other < 65536
    assert sandbox_port("127.0.0.1", base) == base + 99
    monkeypatch.setenv("ORION_SANDBOX_PORT", "8123")
    assert sandbox_port("127.0.0.1", base) == 8123


def test_waiting_for_the_sandbox_returns_once_it_answers_and_fails_if_it_died():
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with SandboxServer() as sandbox:
            sandbox_wait(alive, "127.0.0.1", sandbox.port)
    finally:
        alive.kill()
        alive.wait()
    dead = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    dead.wait()
    with pytest.raises(RuntimeError, match="exited with 3"):
        sandbox_wait(dead, "127.0.0.1", 9)
