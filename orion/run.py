"""`make run`: migrate, create the demo, start the sandbox model server and give the demo
tenant its starter team on it, then serve web + a Celery worker with embedded beat.

One command for a fresh machine; with nothing configured it uses SQLite and kombu's
filesystem broker under var/, and the demo team talks to the sandbox model (no API key).
Ctrl-C (or SIGTERM) stops every process it started.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shlex
import signal
import socket
import subprocess
import sys
import time

from orion.celery import QUEUES
from orion.env import dev_secret

SANDBOX_READY_S = 15.0
STOP_S = 3.5


def _spawn(args: list[str]) -> subprocess.Popen:
    """A child in its own process group: Ctrl-C reaches only this process, which then stops
    the children (a Celery pool process hit by the terminal's signal logs an ERROR)."""
    return subprocess.Popen(args, process_group=0)


def stop_children(children: list[subprocess.Popen]) -> None:
    """SIGTERM each child and give them STOP_S together; a child still running then (the
    worker's warm shutdown takes longer on the filesystem broker) is killed with its
    process group. Late acks and the stuck-run sweep cover work cut short."""
    for proc in children:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + STOP_S
    for proc in children:
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], check=True)


def worker_queues() -> list[str]:
    """Every queue the control plane routes to: the named ones, and each dedicated tenant's
    (`<queue>.t<id>`, see orion.celery.route_task)."""
    tenants = [t.strip() for t in os.environ.get("ORION_DEDICATED_TENANT_QUEUES", "").split(",")]
    dedicated = [f"{q}.t{int(t)}" for t in tenants if t.isdigit() for q in QUEUES]
    return [*QUEUES, *dedicated]


def site_url(host: str, port: int) -> str:
    """SITE_URL for the stack: links in emails must reach the server that sent them, so
    the served host and port unless SITE_URL is set."""
    return os.environ.get("SITE_URL") or f"http://{host}:{port}"


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def sandbox_port(host: str, web_port: int) -> int:
    """ORION_SANDBOX_PORT, else 99 above the web port when free (8099 for 8000), else any."""
    if os.environ.get("ORION_SANDBOX_PORT"):
        return int(os.environ["ORION_SANDBOX_PORT"])
    if web_port + 99 < 65536 and _port_free(host, web_port + 99):
        return web_port + 99
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def sandbox_wait(proc: subprocess.Popen, host: str, port: int) -> None:
    """Until the sandbox answers GET /v1/models; raise if it exits or stays silent."""
    deadline = time.monotonic() + SANDBOX_READY_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the sandbox model server exited with {proc.returncode}")
        conn = http.client.HTTPConnection(host, port, timeout=1)
        try:
            conn.request("GET", "/v1/models")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.1)
    raise RuntimeError(f"the sandbox model server did not answer on {host}:{port}")


def sandbox_start(host: str, web_port: int) -> subprocess.Popen | None:
    """Start the sandbox model server and give the demo tenant its team on it. With
    ORION_SANDBOX_URL set, that (running) server is used and none is started; the server's
    flags come from ORION_SANDBOX_ARGS (e.g. "--no-faults")."""
    if os.environ.get("ORION_SANDBOX_URL"):
        _manage("orion_demo_team")
        return None
    port = sandbox_port(host, web_port)
    extra = shlex.split(os.environ.get("ORION_SANDBOX_ARGS", ""))
    proc = _spawn(
        [sys.executable, "-m", "orion.sandbox", "--host", host, "--port", str(port), *extra]
    )
    try:
        sandbox_wait(proc, host, port)
        _manage("orion_demo_team", "--sandbox-url", f"http://{host}:{port}/v1")
    except BaseException:
        proc.terminate()
        proc.wait(timeout=15)
        raise
    return proc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--no-sandbox",
        action="store_true",
        default=os.environ.get("ORION_SANDBOX", "1") == "0",
        help="no sandbox model server and no demo team (env ORION_SANDBOX=0)",
    )
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port {args.port} is not a TCP port")

    os.environ["SITE_URL"] = site_url(args.host, args.port)
    # A demo website (or WordPress) runs on this machine: the SSRF guard lets this local
    # stack reach 127.0.0.0/8, and nothing else private. Never set in production.
    os.environ.setdefault("ORION_SSRF_ALLOW_LOOPBACK", "1")
    _manage("migrate", "--noinput", "-v", "0")
    os.environ.setdefault("ORION_DEMO_OWNER_PASSWORD", dev_secret("demo-password", nbytes=12))
    os.environ.setdefault("ORION_DEMO_STAFF_PASSWORD", dev_secret("staff-password", nbytes=12))
    _manage("orion_demo")
    children: list[subprocess.Popen] = []
    if not args.no_sandbox:
        try:
            sandbox = sandbox_start(args.host, args.port)
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            print(f"make run: {exc}", file=sys.stderr)
            return 1
        if sandbox is not None:
            children.append(sandbox)
    worker = _spawn(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "orion",
            "worker",
            "-B",
            "-Q",
            ",".join(worker_queues()),
            "-c",
            "2",
            "--without-mingle",
            "--without-gossip",
            "-l",
            os.environ.get("CELERY_LOG_LEVEL", "warning"),
        ]
    )
    web = _spawn(
        [sys.executable, "manage.py", "runserver", f"{args.host}:{args.port}", "--noreload"]
    )
    print(f"Orion is serving http://{args.host}:{args.port}/ (Ctrl-C stops it)", flush=True)

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    children += [web, worker]
    try:
        while not stopping and all(p.poll() is None for p in children):
            time.sleep(0.2)
    finally:
        stop_children(children)
    if not stopping:
        print("a process of the stack exited on its own; stopped the rest", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
