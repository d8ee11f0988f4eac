"""`make run`'s server stack, for real: web + worker + embedded beat on the embedded default
(SQLite and the filesystem broker in a temporary var/), ready within 90 s, then a sign-in."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
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
