"""Shared pieces of the benchmarks: statistics, timing, memory, a durable MariaDB, Django.

Honest-numbers rules the benchmarks follow: both sides run in the same process run, on the same
data, timed the same way (wall clock around the call, no interpreter start-up); several
repetitions and medians (the machine has 2 cores and is noisy); the competing tool always runs
in the same invocation so ratios compare like with like.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for extra in (REPO / "tests_py", REPO / "demo", REPO / "bench"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 100 samples is the 95th smallest)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no samples")
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5 - 1e-9)))
    return ordered[rank - 1]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call, wall clock."""
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def repeat(
    fn: Callable[[], Any], runs: int, before: Callable[[], Any] | None = None
) -> list[float]:
    """Wall times of ``runs`` calls; ``before`` (untimed) resets the state before each."""
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        seconds, _ = timed(fn)
        times.append(seconds)
    return times


def fmt_s(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def peak_rss_mb_self() -> float:
    """Peak resident memory of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_measured(argv: list[str], env: dict[str, str] | None = None, **kw) -> dict[str, Any]:
    """Run a command, return wall time, exit code and peak RSS of it and its children (MiB).

    Peak memory comes from GNU time's %M for single processes; for pipelines run ``bash -c``
    and read the largest child (``RUSAGE_CHILDREN`` reports the largest of the waited-for
    children, which is what a pipeline's peak means to an operator sizing a machine).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, **kw)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "seconds": seconds,
        "returncode": done.returncode,
        "stdout": done.stdout,
        "stderr": done.stderr,
        # ru_maxrss of children is a running maximum: only a rise is attributable to this run.
        "peak_mb": (after / 1024) if after > before else None,
    }


def durable_mariadb(**kwargs):
    """A throwaway MariaDB with production durability (fsync on commit), not the tests' fast one."""
    from support.mariadb import ThrowawayMariaDB

    kwargs.setdefault("fast", False)
    kwargs.setdefault("buffer_pool", "512M")
    return ThrowawayMariaDB(**kwargs).start()


def setup_django(databases: dict[str, dict] | None = None) -> None:
    """Django with the test project's settings, plus benchmark databases."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproject.settings")
    from django.conf import settings

    if databases:
        settings.DATABASES.update(databases)
    import django

    django.setup()
    from django.core.management import call_command

    # The sidecar's own tables (run history) live in the default database.
    call_command("migrate", verbosity=0, database="default")


def add_database(alias: str, settings_dict: dict) -> None:
    """Add a DATABASES alias after ``django.setup()`` (with Django's defaults filled in)."""
    from django.db import connections

    both = {"default": connections.settings["default"], alias: dict(settings_dict)}
    connections.settings[alias] = connections.configure_settings(both)[alias]


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [list(map(str, headers))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))
