"""`python -m tests.bench [NAME]`: run one benchmark or all of them."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

from tests.bench.harness import report

NOT_BENCHMARKS = {"harness"}


def names() -> list[str]:
    here = Path(__file__).parent
    return sorted(
        m.name
        for m in pkgutil.iter_modules([str(here)])
        if not m.name.startswith("_") and m.name not in NOT_BENCHMARKS
    )


def main(argv: list[str]) -> int:
    available = names()
    wanted = argv or available
    unknown = [n for n in wanted if n not in available]
    if unknown:
        print(
            f"unknown benchmark {', '.join(unknown)}; available: {', '.join(available)}",
            file=sys.stderr,
        )
        return 2
    for name in wanted:
        module = importlib.import_module(f"tests.bench.{name}")
        report(name, module.run())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
