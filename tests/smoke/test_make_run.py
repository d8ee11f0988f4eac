"""`make run`'s server stack, for real: web + worker + embedded beat on the embedded default
(SQLite and the filesystem broker in a temporary var/), ready within 90 s, then a sign-in;
and the demo team's heartbeats succeed on the sandbox model server with failover recorded."""

from __future__ import annotations

import itertools
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.smoke


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def stack(tmp_path: Path):
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update({"ORION_VAR_DIR": str(tmp_path), "DEBUG": "1", "ORION_TESTING": ""})
    log = (tmp_path / "run.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "orion.run", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield f"http://127.0.0.1:{port}", tmp_path, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _wait_ready(base: str, proc: subprocess.Popen, log: Path, within: float = 90.0) -> dict:
    deadline, last = time.monotonic() + within, None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the stack exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            response = httpx.get(f"{base}/readyz", timeout=2)
            last = response.json()
            if response.status_code == 200:
                return last
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail(
        f"/readyz not OK within {within:.0f} s; last answer {last}\n{log.read_text()[-3000:]}"
    )


SANDBOX_WORK = {
    "succeeded sandbox runs": "SELECT count(*) FROM agents_run "
    "WHERE status = 'succeeded' AND answered_provider = 'sandbox'",
    "failed sandbox attempts": "SELECT count(*) FROM agents_failoverattempt "
    "WHERE status = 'failed' AND provider = 'sandbox'",
}


def _wait_sandbox_work(db: Path, log: Path, within: float = 60.0) -> dict[str, int]:
    """Until the demo team has a succeeded run and a failed attempt (read-only, from the
    stack's SQLite file while it runs)."""
    deadline, seen = time.monotonic() + within, {}
    while time.monotonic() < deadline:
        try:
            with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
                seen = {k: conn.execute(q).fetchone()[0] for k, q in SANDBOX_WORK.items()}
        except sqlite3.OperationalError:
            pass  # the schema is being written, or a writer holds the file: try again
        if seen and all(seen.values()):
            return seen
        time.sleep(1)
    pytest.fail(f"no sandbox work within {within:.0f} s: {seen}\n{log.read_text()[-3000:]}")


def test_make_run_stack_serves_and_signs_in(stack):
    base, var, proc = stack
    ready = _wait_ready(base, proc, var / "run.log")
    assert {name for name, check in ready["checks"].items() if check["ok"]} == {
        "database",
        "broker",
        "worker",
        "beat",
    }
    password = (var / "demo-password").read_text().strip()
    assert password in (var / "run.log").read_text(), "make run must print the credentials"
    staff_password = (var / "staff-password").read_text().strip()
    assert staff_password != password, "the demo owner and staff get a password each"
    assert staff_password in (var / "run.log").read_text()

    with httpx.Client(base_url=base, timeout=10) as client:
        page = client.get("/accounts/login/")
        assert page.status_code == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = client.post(
            "/accounts/login/",
            data={
                "login": "owner@demo.orion.local",
                "password": password,
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": f"{base}/accounts/login/"},
            follow_redirects=True,
        )
        assert response.status_code == 200
        assert "Demo Bakery" in response.text
        assert str(response.url).rstrip("/") == base
        # An invitation's emailed link reaches this server (its port, not SITE_URL's 8000).
        team = client.get("/team/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', team.text).group(1)
        client.post(
            "/team/invite/",
            data={"email": "new@demo.test", "role": "member", "csrfmiddlewaretoken": token},
            headers={"Referer": f"{base}/team/"},
        )

    # No API key configured: the demo team works on the sandbox model, and it fails now
    # and then so the failover shows.
    # The invitation mail goes out through the Delivery path: the worker sends it after
    # the invitation commits, so wait for it.
    deadline = time.monotonic() + 30
    while f"{base}/invite/" not in (log := (var / "run.log").read_text()):
        if time.monotonic() > deadline:
            pytest.fail(f"the invitation link must carry the served port:\n{log[-3000:]}")
        time.sleep(0.5)
    assert "sandbox model server on http://127.0.0.1:" in log
    assert "Demo team of Demo Bakery: Cora, Iris, Webb, Maya, Remy" in log
    _wait_sandbox_work(var / "orion.sqlite3", var / "run.log")

    # A normal stop: within 5 s, no ERROR, and one line per event.
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert time.monotonic() - started < 5.0
    log = (var / "run.log").read_text()
    assert "ERROR" not in log, log[-3000:]
    lines = log.splitlines()
    doubled = [a for a, b in itertools.pairwise(lines) if a == b and a.strip()]
    assert not doubled, doubled[:5]
