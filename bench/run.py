"""Run the benchmarks: ``./dev bench [name ...] [-- options]``.

Every ``bench/bench_<name>.py`` is one benchmark with a ``main(argv)``; each runs the tool a shop
would otherwise use in the same run as forneria-ops and prints both figures and their ratio.
With names, only those run (``./dev bench alertas``); ``--list`` shows what there is.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available() -> dict[str, Path]:
    return {p.stem.removeprefix("bench_"): p for p in sorted(HERE.glob("bench_*.py"))}


def main(argv: list[str]) -> int:
    names, rest = (
        (argv[: argv.index("--")], argv[argv.index("--") + 1 :])
        if "--" in argv
        else (
            argv,
            [],
        )
    )
    benches = available()
    if "--list" in names:
        for name, path in benches.items():
            doc = (importlib.import_module(f"bench_{name}").__doc__ or "").strip().splitlines()
            print(f"{name:14} {doc[0] if doc else path.name}")
        return 0
    unknown = [n for n in names if n not in benches]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(benches)}")
        return 2
    for name in names or list(benches):
        print(f"\n######## bench {name} ########", flush=True)
        started = time.perf_counter()
        importlib.import_module(f"bench_{name}").main(rest)
        print(f"######## bench {name}: {time.perf_counter() - started:.0f} s ########", flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.exit(main(sys.argv[1:]))
