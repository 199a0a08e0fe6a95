"""backup_database: forneria-ops against ``mariadb-dump | gzip -6`` and ``mydumper -c``.

What runs, on a durable throwaway MariaDB (fsync on commit, as production), filled by the test
project's seed (``--products`` products, ``--lots`` lots each (100), invoices, alerts):

1. Backup, each tool ``--runs`` times, median wall time, largest peak RSS, output size:
   - ``mariadb-dump --single-transaction --quick DB | gzip -6 > f.sql.gz`` (what the manuals do);
   - ``mydumper -t 2 -c`` (the Debian package; one compressed file per table);
   - forneria-ops ``backup(threads=2, level=6)`` in a child process (peak RSS of that process).
2. Restore into an empty schema: ``gunzip < f | mariadb DB`` against forneria-ops ``restore``
   (threads=2) of the same dump.

Peak memory is the largest child's ``ru_maxrss`` (``RUSAGE_CHILDREN``): for a pipeline, its
largest process. The stock tools connect as root over the socket, ours as the test user over the
socket: no password on any command line. The server runs on the same 2 cores as the tools, so
wall times are lower bounds on a dedicated machine.

Options: ``--products N`` (20000), ``--big N`` (0: skip; 200000 for the ~2 GB run), ``--runs N``
(3), ``--threads N`` (2), ``--restore-runs N`` (default ``--runs``; 0 skips the restores).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from common import durable_mariadb, fmt_s, median, print_table, run_measured, setup_django, timed

HERE = Path(__file__).resolve().parent
HOY = dt.date(2025, 12, 10)


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench backup")
    p.add_argument("--products", type=int, default=20_000)
    p.add_argument("--big", type=int, default=0)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--restore-runs", type=int, default=None, help="restore rounds (default: --runs; 0 skips)"
    )
    p.add_argument("--lots", type=int, default=100, help="lots per product (100: ~2M rows at 20k)")
    return p.parse_args(argv)


def size_of(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


# Runs argv in a fresh process and reports the peak RSS of its largest descendant (each waited-for
# process folds its own children's peak into its parent's RUSAGE_CHILDREN), so an earlier, bigger
# child of this process (the server's installer) cannot hide the figure.
WRAP = (
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[1:])\n"
    "print('PEAK_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(r.returncode)\n"
)


def run_peak(argv: list[str], env: dict[str, str] | None = None, cwd: str | None = None) -> dict:
    r = run_measured([sys.executable, "-c", WRAP, *argv], env=env, cwd=cwd)
    err = r["stderr"].decode(errors="replace")
    peak = [line for line in err.splitlines() if line.startswith("PEAK_KB ")]
    r["peak_mb"] = int(peak[-1].split()[1]) / 1024 if peak else None
    return r


def child(server, *args: str, **env: str) -> dict:
    full_env = dict(os.environ, **server.env(), **env)
    r = run_peak(
        [sys.executable, str(HERE / "_backup_child.py"), *args], env=full_env, cwd=str(HERE)
    )
    if r["returncode"] != 0:
        raise SystemExit(f"child failed:\n{r['stdout'].decode()}\n{r['stderr'].decode()}")
    out = json.loads(r["stdout"].decode().strip().splitlines()[-1])
    out["wall"] = r["seconds"]
    out["peak_mb"] = r["peak_mb"]
    return out


def shell(cmd: str) -> dict:
    r = run_peak(["bash", "-o", "pipefail", "-c", cmd])
    if r["returncode"] != 0:
        raise SystemExit(f"failed: {cmd}\n{r['stderr'].decode()}")
    return r


def one_scale(args: argparse.Namespace, server, products: int, label: str) -> None:
    from django.db import connections
    from ventas.schema import create_schema
    from ventas.seed import seed

    name = f"bench_backup_{products}"
    server.create_database(name, exist_ok=True)
    from common import add_database

    add_database(name, server.django_settings(name))
    create_schema(name)
    seconds, counts = timed(
        lambda: seed(name, productos=products, lotes_por_producto=args.lots, hoy=HOY)
    )
    with connections[name].cursor() as cur:
        cur.execute(
            "SELECT SUM(DATA_LENGTH + INDEX_LENGTH), SUM(TABLE_ROWS) FROM information_schema.TABLES"
            " WHERE TABLE_SCHEMA = %s",
            [name],
        )
        size, approx_rows = cur.fetchone()
    connections[name].close()
    total_rows = sum(v for k, v in counts.items() if isinstance(v, int))
    print(
        f"\n-- {label}: {products:,} products, {total_rows:,} rows seeded in {seconds:.0f} s "
        f"(untimed); {int(size or 0) / 2**20:.0f} MiB on disk",
        flush=True,
    )
    sock = server.socket
    client = f"mariadb --no-defaults --socket={sock} --user=root"
    work = Path(tempfile.mkdtemp(prefix="bench_backup_"))
    try:
        results: dict[str, list[dict]] = {
            "mariadb-dump | gzip -6": [],
            "mydumper -t 2 -c": [],
            "forneria-ops": [],
        }
        sizes: dict[str, int] = {}
        for run in range(args.runs):
            f = work / f"dump{run}.sql.gz"
            r = shell(
                f"mariadb-dump --no-defaults --socket={sock} --user=root --single-transaction "
                f"--quick {name} | gzip -6 > {f}"
            )
            results["mariadb-dump | gzip -6"].append(r)
            sizes["mariadb-dump | gzip -6"] = size_of(f)
            if shutil.which("mydumper"):
                d = work / f"mydumper{run}"
                r = shell(
                    f"mydumper --socket={sock} --user=root -B {name} -t {args.threads} -c -o {d}"
                )
                results["mydumper -t 2 -c"].append(r)
                sizes["mydumper -t 2 -c"] = size_of(d)
                shutil.rmtree(d)
            ours = child(
                server, "backup", name, str(work), str(args.threads), BENCH_NAME=f"ours{run}"
            )
            results["forneria-ops"].append(
                {"seconds": ours["wall"], "peak_mb": ours["peak_mb"], "inner": ours["seconds"]}
            )
            sizes["forneria-ops"] = ours["bytes"]
            if run < args.runs - 1:
                f.unlink()
                for p in work.glob(f"ours{run}.*"):
                    p.unlink()
        base = median([r["seconds"] for r in results["mariadb-dump | gzip -6"]])
        base_size = sizes["mariadb-dump | gzip -6"]
        rows = []
        for tool, rs in results.items():
            if not rs:
                rows.append([tool, "not installed", "", "", "", ""])
                continue
            wall = median([r["seconds"] for r in rs])
            peaks = [r["peak_mb"] for r in rs if r["peak_mb"] is not None]
            rows.append(
                [
                    tool,
                    fmt_s(wall),
                    f"{max(peaks):.0f} MiB" if peaks else "n/a",
                    f"{sizes[tool] / 2**20:.1f} MiB",
                    f"{wall / base:.2f}x",
                    f"{sizes[tool] / base_size:.3f}x",
                ]
            )
        print(f"   backup, median of {args.runs}:")
        print_table(
            ["tool", "wall", "peak RSS", "output", "time vs dump|gzip", "size vs dump|gzip"], rows
        )

        # Restore the same content both ways.
        restore_runs = args.runs if args.restore_runs is None else args.restore_runs
        if restore_runs < 1:
            print("   restore: skipped (--restore-runs 0)")
            return
        last = args.runs - 1
        stock_file = work / f"dump{last}.sql.gz"
        ours_file = work / f"ours{last}.sql.gz"
        restore_rows = []
        stock_times, our_times, our_peaks, stock_peaks = [], [], [], []
        for _ in range(restore_runs):
            target = f"{name}_r"
            server.drop_database(target)
            server.create_database(target)
            r = shell(f"gunzip < {stock_file} | {client} {target}")
            stock_times.append(r["seconds"])
            if r["peak_mb"] is not None:
                stock_peaks.append(r["peak_mb"])
            server.drop_database(target)
            server.create_database(target)
            ours = child(
                server, "restore", name, str(ours_file), str(args.threads), BENCH_TARGET=target
            )
            our_times.append(ours["wall"])
            if ours["peak_mb"] is not None:
                our_peaks.append(ours["peak_mb"])
        server.drop_database(f"{name}_r")
        sb, so = median(stock_times), median(our_times)
        restore_rows.append(
            [
                "gunzip | mariadb",
                fmt_s(sb),
                f"{max(stock_peaks):.0f} MiB" if stock_peaks else "n/a",
                "1.00x",
            ]
        )
        restore_rows.append(
            [
                "forneria-ops restore",
                fmt_s(so),
                f"{max(our_peaks):.0f} MiB" if our_peaks else "n/a",
                f"{so / sb:.2f}x",
            ]
        )
        print(f"   restore into an empty schema, median of {restore_runs}:")
        print_table(["tool", "wall", "peak RSS", "time vs gunzip|mariadb"], restore_rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        server.drop_database(name)


def main(argv: list[str]) -> None:
    args = parse(argv)
    server = durable_mariadb()
    try:
        setup_django()
        one_scale(args, server, args.products, "small")
        if args.big:
            one_scale(args, server, args.big, "big")
    finally:
        from django.db import connections

        connections.close_all()
        server.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
