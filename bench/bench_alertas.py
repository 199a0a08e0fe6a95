"""generar_alertas: forneria-ops against the shop's per-product Django ORM loop, same run.

What runs, on a durable throwaway MariaDB (fsync on commit, as production):

1. 20,000 products / ~200,000 lots / 4,000 invoices (``seed_forneria``'s generator). Three
   starting states, each restored before every timed run, both sides timed the same way
   (wall clock around one in-process call, Django and the engine already loaded):
   - ``install``: the table as the shop's buggy code left it (stale and duplicated alerts);
   - ``daily``: yesterday's alerts are current, today every expiry message moves by a day;
   - ``nochange``: a second run the same day.
   The competitor is ``demo/ventas/legacy.py``: the app's rules from DOMAIN.md with one query or
   more per product and invoice, as the app does (it skips NULL expiry dates instead of crashing).
2. The dashboard path at 20,000 products, data already up to date: 8 threads calling
   ``forneria_ops.generar_alertas()`` (what a view calls on each page load) in a loop; p50/p95.
   Also the same load with every caller queueing for the lock (each call a full check).
3. 200,000 products / ~2,000,000 lots: the first run (empty ``alertas``: every alert created) and
   a run with nothing to change, each in a fresh Python process reporting its own wall time around
   the call and its peak RSS.

Options: ``--products N`` (20000), ``--big N`` (200000; 0 skips), ``--runs N`` (5, sidecar),
``--legacy-runs N`` (3), ``--calls N`` (per dashboard thread, 40).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import (
    add_database,
    durable_mariadb,
    fmt_s,
    median,
    percentile,
    print_table,
    repeat,
    setup_django,
    timed,
)

HOY = dt.date(2025, 12, 10)
ALIAS = "bench"
HERE = Path(__file__).resolve().parent


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench alertas")
    p.add_argument("--products", type=int, default=20_000)
    p.add_argument("--big", type=int, default=200_000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--legacy-runs", type=int, default=3)
    p.add_argument("--calls", type=int, default=40)
    return p.parse_args(argv)


class Snapshots:
    """Copies of the ``alertas`` table to restore a starting state before each timed run."""

    def __init__(self, alias: str) -> None:
        self.alias = alias

    def _exec(self, *sql: str) -> None:
        from django.db import connections

        with connections[self.alias].cursor() as cur:
            for statement in sql:
                cur.execute(statement)

    def save(self, name: str) -> None:
        self._exec(
            f"DROP TABLE IF EXISTS snap_{name}",
            f"CREATE TABLE snap_{name} LIKE alertas",
            f"INSERT INTO snap_{name} SELECT * FROM alertas",
        )

    def restore(self, name: str) -> None:
        self._exec("DELETE FROM alertas", f"INSERT INTO alertas SELECT * FROM snap_{name}")

    def count_active(self) -> int:
        from django.db import connections

        with connections[self.alias].cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM alertas WHERE estado = 'activa'")
            return cur.fetchone()[0]


def sidecar(fecha: dt.date):
    import forneria_ops

    return forneria_ops.generar_alertas(using=ALIAS, fecha=fecha, wait=60)


def legacy(fecha: dt.date):
    from ventas.legacy import generar_alertas_automaticas

    return generar_alertas_automaticas(fecha, using=ALIAS)


def compare(args: argparse.Namespace, snaps: Snapshots) -> None:
    print(f"\n-- generar_alertas at {args.products:,} products: legacy ORM vs forneria-ops")
    yesterday = HOY - dt.timedelta(days=1)
    # The states: as seeded (the app's leftovers), after yesterday's run, after today's run.
    snaps.save("install")
    sidecar(yesterday)
    snaps.save("daily")
    sidecar(HOY)
    snaps.save("nochange")
    rows = []
    for state in ("install", "daily", "nochange"):
        ours = repeat(lambda: sidecar(HOY), args.runs, before=lambda s=state: snaps.restore(s))
        snaps.restore(state)
        counts = sidecar(HOY)
        theirs = repeat(
            lambda: legacy(HOY), args.legacy_runs, before=lambda s=state: snaps.restore(s)
        )
        ratio = median(theirs) / median(ours)
        rows.append(
            [
                state,
                fmt_s(median(theirs)),
                fmt_s(median(ours)),
                f"{ratio:,.0f}x",
                counts["total"],
            ]
        )
        print(
            f"   {state}: legacy {[round(t, 2) for t in theirs]} s, "
            f"forneria-ops {[round(t * 1000) for t in ours]} ms",
            flush=True,
        )
    print_table(
        ["state", "legacy ORM (median)", "forneria-ops (median)", "ratio", "alerts changed"],
        rows,
    )
    server_floor(args, snaps)


def server_floor(args: argparse.Namespace, snaps: Snapshots) -> None:
    """How long the server alone takes to insert the rows an install run creates.

    ``INSERT INTO alertas SELECT ...`` of exactly those rows, one transaction, no client
    round trips: the lower bound for any client writing them (the table's six secondary
    indexes and two foreign keys are maintained per row). Puts the install ratio in context.
    """
    from django.db import connections, transaction

    snaps.restore("install")
    sidecar(HOY)
    snaps.save("installed")
    floors = []
    for _ in range(args.runs):
        snaps.restore("install")
        with connections[ALIAS].cursor() as cur:
            cur.execute("SELECT COALESCE(MAX(id), 0) FROM snap_install")
            last = cur.fetchone()[0]
            t0 = time.perf_counter()
            with transaction.atomic(using=ALIAS):
                cur.execute(f"INSERT INTO alertas SELECT * FROM snap_installed WHERE id > {last}")
                created = cur.rowcount
            floors.append(time.perf_counter() - t0)
    print(
        f"   server floor: INSERT ... SELECT of the {created:,} rows an install run creates "
        f"takes {fmt_s(median(floors))} on the server alone (median of {args.runs})"
    )


class SkipCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.skipped = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "skipped" in record.getMessage():
            self.skipped += 1


def dashboard(args: argparse.Namespace, snaps: Snapshots) -> None:
    import forneria_ops
    from django.db import connections

    print(f"\n-- dashboard path at {args.products:,} products, data up to date, 8 callers")
    snaps.restore("nochange")
    sidecar(HOY)
    logger = logging.getLogger("forneria_ops")
    counter = SkipCounter()
    logger.addHandler(counter)
    logger.setLevel(logging.INFO)
    rows = []
    for label, wait in (("page load (API default: no queueing)", None), ("every call queues", 60)):
        latencies: list[float] = []
        lock = threading.Lock()
        counter.skipped = 0

        def caller(wait=wait, latencies=latencies, lock=lock) -> None:
            mine = []
            for _ in range(args.calls):
                seconds, _ = timed(lambda: forneria_ops.generar_alertas(using=ALIAS, wait=wait))
                mine.append(seconds)
            with lock:
                latencies.extend(mine)
            connections.close_all()

        threads = [threading.Thread(target=caller) for _ in range(8)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        rows.append(
            [
                label,
                len(latencies),
                counter.skipped,
                fmt_s(percentile(latencies, 50)),
                fmt_s(percentile(latencies, 95)),
                fmt_s(max(latencies)),
                f"{len(latencies) / wall:.0f}/s",
            ]
        )
    logger.removeHandler(counter)
    print_table(["mode", "calls", "returned at once (busy)", "p50", "p95", "max", "rate"], rows)
    print(
        "   busy: another caller held the lock, so this one returned zeros at once; the data "
        "were already up to date (see README, 'What a second caller gets')."
    )


def child_run(server, database: str, fecha: dt.date, wait: float = 60) -> dict:
    """One generar_alertas call in a fresh process: its own wall time and peak RSS."""
    env = dict(os.environ, **server.env(), BENCH_DATABASE=database)
    done = subprocess.run(
        [sys.executable, str(HERE / "_alertas_child.py"), fecha.isoformat(), str(wait)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"child run failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def big(args: argparse.Namespace, server) -> None:
    from django.db import connections
    from ventas.schema import create_schema
    from ventas.seed import seed

    name = "bench_alertas_big"
    server.create_database(name, exist_ok=True)
    add_database("big", server.django_settings(name))
    print(f"\n-- {args.big:,} products: seeding (untimed) ...", flush=True)
    create_schema("big")
    seconds, counts = timed(
        lambda: seed(
            "big", productos=args.big, lotes_por_producto=10, hoy=HOY, alertas_existentes=False
        )
    )
    print(
        f"   seeded {counts['productos']:,} products, {counts['lotes']:,} lots, "
        f"{counts['factura_proveedor']:,} invoices in {seconds:.0f} s",
        flush=True,
    )
    rows = []
    first, nochange = [], []
    for _ in range(3):
        with connections["big"].cursor() as cur:
            cur.execute("TRUNCATE TABLE alertas")
        first.append(child_run(server, name, HOY))
        nochange.append(child_run(server, name, HOY))
    for label, runs in (
        ("first run (creates every alert)", first),
        ("nothing to change", nochange),
    ):
        rows.append(
            [
                label,
                f"{runs[0]['created']:,} created, {runs[0]['updated']:,} updated",
                fmt_s(median([r["seconds"] for r in runs])),
                f"{max(r['peak_mb'] for r in runs):.0f} MiB",
                f"{median([r['baseline_mb'] for r in runs]):.0f} MiB",
                "/".join(
                    f"{median([r['engine_ms'][k] for r in runs]) / 1000:.2f}"
                    for k in ("read_ms", "plan_ms", "write_ms")
                ),
            ]
        )
    print_table(
        [
            "run",
            "changes",
            "wall (median of 3)",
            "peak RSS (max)",
            "before the call",
            "read/plan/write s",
        ],
        rows,
    )


def main(argv: list[str]) -> None:
    args = parse(argv)
    server = durable_mariadb()
    try:
        name = "bench_alertas"
        server.create_database(name)
        setup_django({ALIAS: server.django_settings(name)})
        from ventas.schema import create_schema
        from ventas.seed import seed

        create_schema(ALIAS)
        seconds, counts = timed(
            lambda: seed(
                ALIAS,
                productos=args.products,
                lotes_por_producto=10,
                facturas=args.products // 5,
                hoy=HOY,
            )
        )
        print(
            f"seeded {counts['productos']:,} products, {counts['lotes']:,} lots, "
            f"{counts['factura_proveedor']:,} invoices, {counts['alertas']:,} alerts "
            f"in {seconds:.0f} s (untimed)"
        )
        snaps = Snapshots(ALIAS)
        compare(args, snaps)
        dashboard(args, snaps)
        if args.big:
            big(args, server)
    finally:
        from django.db import connections

        connections.close_all()
        server.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
