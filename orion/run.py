"""`make run`: migrate, create the demo, then serve web + a Celery worker with embedded beat.

One command for a fresh machine; with nothing configured it uses SQLite and kombu's
filesystem broker under var/. Ctrl-C (or SIGTERM) stops every process it started.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

from orion.celery import QUEUES


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port {args.port} is not a TCP port")

    _manage("migrate", "--noinput", "-v", "0")
    _manage("orion_demo")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "orion",
            "worker",
            "-B",
            "-Q",
            ",".join(QUEUES),
            "-c",
            "2",
            "--without-mingle",
            "--without-gossip",
            "-l",
            os.environ.get("CELERY_LOG_LEVEL", "warning"),
        ]
    )
    web = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"{args.host}:{args.port}", "--noreload"]
    )
    print(f"Orion is serving http://{args.host}:{args.port}/ (Ctrl-C stops it)", flush=True)

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    children = [web, worker]
    try:
        while not stopping and all(p.poll() is None for p in children):
            time.sleep(0.5)
    finally:
        for proc in children:
            if proc.poll() is None:
                proc.terminate()
        for proc in children:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    if not stopping:
        print("a process of the stack exited on its own; stopped the rest", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
