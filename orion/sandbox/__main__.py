"""`python -m orion.sandbox [--port 8099] [--fail-every 3 | --no-faults]`: serve
the sandbox model until SIGTERM or Ctrl-C. Prints its base URL once it is listening."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from orion.sandbox.server import FAULT_KINDS, PRIMARY_MODEL, FaultPlan, SandboxServer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m orion.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099, help="0: any free port")
    parser.add_argument(
        "--fail-every",
        type=int,
        default=3,
        metavar="N",
        help="every N-th call to the primary model fails (0: never)",
    )
    parser.add_argument(
        "--faults",
        default=",".join(FAULT_KINDS),
        help="the faulty calls' faults in turn: 429 (rate limit on one key: rotation), "
        "503 (overloaded on every key: fallback to the next model)",
    )
    parser.add_argument("--retry-after", type=float, default=1.0, metavar="SECONDS")
    parser.add_argument("--primary", default=PRIMARY_MODEL, help="the model that fails")
    parser.add_argument("--no-faults", action="store_true", help="never fail")
    parser.add_argument("--quiet", action="store_true", help="do not log each fault")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not 0 <= args.port < 65536:
        parser.error(f"--port {args.port} is not a TCP port")
    try:
        plan = FaultPlan(
            every=0 if args.no_faults else args.fail_every,
            kinds=tuple(k.strip() for k in args.faults.split(",") if k.strip()),
            retry_after=args.retry_after,
            primary=args.primary,
        )
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(message)s",
        stream=sys.stderr,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        server = SandboxServer(host=args.host, port=args.port, faults=plan).start()
    except OSError as exc:
        print(f"sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    failing = (
        f"every {plan.every}. call to {plan.primary} fails ({', '.join(plan.kinds)} in turn)"
        if plan.every
        else "no faults"
    )
    print(f"sandbox model server on {server.base_url} ({failing})", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
