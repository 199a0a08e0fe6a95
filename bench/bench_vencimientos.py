"""verificar_vencimientos and scan_vencimientos: forneria-ops against per-row Django ORM, same run.

What runs, on a durable throwaway MariaDB (fsync on commit, as production):

1. ``scan_vencimientos(7)`` at 20,000 products / ~200,000 lots: many sequential calls, as the
   app's ``api/proximos-vencimientos`` view makes them (the engine connection comes from the
   per-process pool); p50/p95/max. For reference, the app's own view query (product dates only,
   ``Productos.objects.filter(caducidad__range=...)``) timed the same way.
2. ``verificar_vencimientos`` at 200,000 products / ~2,000,000 lots, seeded once (untimed, about
   a minute) with ``lotes_sin_retirar`` (default 5 %: lots that expired 1-10 days ago and are
   still ``activo``) besides the products without lots already past their date. Before every
   timed run the rows a run changes are put back from snapshot tables (lots, products, open
   alerts; the history and movement rows added are deleted), then checked by a dry run. The
   competitor is ``demo/ventas/legacy_vencimientos.py``: the same rules in plain ORM, row by
   row, in one ``transaction.atomic`` (the tests prove both leave the same rows). Both are timed
   in process, wall clock around one call, Django and the engine loaded.

Options: ``--products N`` (200000; 0 skips part 2), ``--lots-per-product N`` (10),
``--sin-retirar F`` (0.05), ``--runs N`` (5, forneria-ops), ``--legacy-runs N`` (1),
``--scan-products N`` (20000; 0 skips part 1), ``--calls N`` (300).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from decimal import Decimal

from common import (
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
SCAN = "bench_scan"
BIG = "bench_venc"

#: Columns of productos a run may change (restored from the snapshot before each timed run).
PRODUCT_COLUMNS = (
    "cantidad",
    "caducidad",
    "elaboracion",
    "estado_merma",
    "motivo_merma",
    "fecha_merma",
    "cantidad_merma",
    "modificado",
)


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench vencimientos")
    p.add_argument("--products", type=int, default=200_000)
    p.add_argument("--lots-per-product", type=int, default=10)
    p.add_argument("--sin-retirar", type=float, default=0.05)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--legacy-runs", type=int, default=1)
    p.add_argument("--scan-products", type=int, default=20_000)
    p.add_argument("--calls", type=int, default=300)
    return p.parse_args(argv)


def seed_alias(alias: str, products: int, lots: int, sin_retirar: float) -> None:
    from ventas.schema import create_schema
    from ventas.seed import seed

    create_schema(alias)
    print(f"\n-- seeding {products:,} products (untimed) ...", flush=True)
    seconds, counts = timed(
        lambda: seed(
            alias,
            productos=products,
            lotes_por_producto=lots,
            hoy=HOY,
            lotes_sin_retirar=sin_retirar,
        )
    )
    print(
        f"   {counts['productos']:,} products, {counts['lotes']:,} lots, "
        f"{counts['alertas']:,} alerts in {seconds:.0f} s",
        flush=True,
    )


def app_view(alias: str, dias: int) -> dict:
    """The app's ``productos_por_vencer_api`` body (product dates only), for reference."""
    from ventas.models import Productos

    limite = HOY + dt.timedelta(days=dias)
    qs = (
        Productos.objects.using(alias)
        .filter(eliminado__isnull=True, caducidad__range=(HOY, limite))
        .order_by("caducidad", "nombre")
    )
    items = [{"id": p.id, "nombre": p.nombre, "caducidad": p.caducidad.isoformat()} for p in qs]
    return {"count": len(items), "items": items}


def scan_part(args: argparse.Namespace) -> None:
    import forneria_ops

    print(f"\n-- scan_vencimientos(7) at {args.scan_products:,} products, {args.calls} calls")
    forneria_ops.scan_vencimientos(7, using=SCAN, fecha=HOY)  # pool warm-up
    rows = []
    for label, call in (
        (
            "forneria-ops scan_vencimientos(7)",
            lambda: forneria_ops.scan_vencimientos(7, using=SCAN, fecha=HOY),
        ),
        (
            "forneria-ops scan_vencimientos(30)",
            lambda: forneria_ops.scan_vencimientos(30, using=SCAN, fecha=HOY),
        ),
        ("the app's view query (7 days, product dates only)", lambda: app_view(SCAN, 7)),
    ):
        times = repeat(call, args.calls)
        count = call()["count"]
        rows.append(
            [
                label,
                count,
                fmt_s(percentile(times, 50)),
                fmt_s(percentile(times, 95)),
                fmt_s(max(times)),
            ]
        )
    print_table(["call", "items", "p50", "p95", "max"], rows)


class Snapshot:
    """The rows a run changes, copied aside once and put back before each timed run."""

    def __init__(self, alias: str) -> None:
        self.alias = alias

    def _exec(self, *statements: str, params=None) -> None:
        from django.db import connections

        with connections[self.alias].cursor() as cur:
            for sql in statements:
                cur.execute(sql, params)

    def _one(self, sql: str):
        from django.db import connections

        with connections[self.alias].cursor() as cur:
            cur.execute(sql)
            return cur.fetchone()[0]

    def save(self) -> None:
        hoy = HOY.isoformat()
        cols = ", ".join(PRODUCT_COLUMNS)
        self._exec(
            "DROP TABLE IF EXISTS snap_lotes, snap_productos, snap_alertas",
            "CREATE TABLE snap_lotes (PRIMARY KEY (id)) SELECT id, productos_id, estado, "
            "cantidad, modificado FROM lotes WHERE estado = 'activo' AND cantidad > 0 "
            f"AND fecha_caducidad < '{hoy}'",
            f"CREATE TABLE snap_productos (PRIMARY KEY (id)) SELECT id, {cols} FROM productos "
            f"WHERE eliminado IS NULL AND estado_merma = 'activo' AND (caducidad < '{hoy}' "
            "OR id IN (SELECT productos_id FROM snap_lotes))",
            "CREATE TABLE snap_alertas (PRIMARY KEY (id)) SELECT id, estado FROM alertas "
            "WHERE estado IN ('activa', 'ignorada')",
        )
        self.max_historial = self._one("SELECT COALESCE(MAX(id), 0) FROM historial_merma")
        self.max_movimiento = self._one("SELECT COALESCE(MAX(id), 0) FROM movimientos_inventario")

    def restore(self) -> None:
        sets = ", ".join(f"p.{c} = s.{c}" for c in PRODUCT_COLUMNS)
        self._exec(
            "UPDATE lotes l JOIN snap_lotes s ON s.id = l.id "
            "SET l.estado = s.estado, l.cantidad = s.cantidad, l.modificado = s.modificado",
            f"UPDATE productos p JOIN snap_productos s ON s.id = p.id SET {sets}",
            "UPDATE alertas a JOIN snap_alertas s ON s.id = a.id SET a.estado = s.estado",
            f"DELETE FROM historial_merma WHERE id > {int(self.max_historial)}",
            f"DELETE FROM movimientos_inventario WHERE id > {int(self.max_movimiento)}",
        )


def big_part(args: argparse.Namespace) -> None:
    import forneria_ops
    from ventas.legacy_vencimientos import verificar_vencimientos as legacy

    seed_alias(BIG, args.products, args.lots_per_product, args.sin_retirar)
    snap = Snapshot(BIG)
    snap.save()
    planned = forneria_ops.verificar_vencimientos(BIG, fecha=HOY, dry_run=True)
    keys = ("lots_expired", "products_updated", "products_wasted", "history_rows", "value")
    print(
        "   work of one run: "
        + ", ".join(
            f"{k} {planned[k]:,}" if isinstance(planned[k], int) else f"{k} {planned[k]}"
            for k in keys
        )
        + f", alerts_resolved {planned['alerts_resolved']:,}",
        flush=True,
    )

    def restore_and_check() -> None:
        snap.restore()
        again = forneria_ops.verificar_vencimientos(BIG, fecha=HOY, dry_run=True)
        if [again[k] for k in keys] != [planned[k] for k in keys]:
            raise SystemExit(f"restore failed: {again} != {planned}")

    engine: list[dict] = []

    def ours() -> None:
        report = forneria_ops.verificar_vencimientos(BIG, fecha=HOY, wait=60)
        engine.append(report["timings"])
        assert report["lots_expired"] == planned["lots_expired"]

    print(f"\n-- verificar_vencimientos at {args.products:,} products: legacy ORM vs forneria-ops")
    mine = repeat(ours, args.runs, before=restore_and_check)
    print(f"   forneria-ops: {[round(t, 2) for t in mine]} s", flush=True)
    parts = ("lock_ms", "read_ms", "plan_ms", "write_ms", "total_ms")
    print(
        "   engine (median ms): "
        + ", ".join(f"{p[:-3]} {median([t[p] for t in engine]):.0f}" for p in parts),
        flush=True,
    )
    results: list[dict] = []
    theirs = repeat(
        lambda: results.append(legacy(HOY, using=BIG)), args.legacy_runs, before=restore_and_check
    )
    print(f"   legacy ORM: {[round(t, 1) for t in theirs]} s", flush=True)
    for r in results:
        if r["lots_expired"] != planned["lots_expired"] or r["value"] != Decimal(planned["value"]):
            raise SystemExit(f"the ORM reference did different work: {r} vs {planned}")
    snap.restore()
    print_table(
        ["", "legacy ORM (median)", "forneria-ops (median)", "ratio", "engine total (median)"],
        [
            [
                f"{args.products:,} products",
                fmt_s(median(theirs)),
                fmt_s(median(mine)),
                f"{median(theirs) / median(mine):,.0f}x",
                fmt_s(median([t["total_ms"] for t in engine]) / 1000),
            ]
        ],
    )
    budget = 3.0
    verdict = "within" if median(mine) <= budget else "OVER"
    print(f"   forneria-ops median {median(mine):.2f} s: {verdict} the {budget:.0f} s budget")


def main(argv: list[str]) -> None:
    args = parse(argv)
    server = durable_mariadb()
    try:
        for name in (SCAN, BIG):
            server.create_database(name)
        setup_django({name: server.django_settings(name) for name in (SCAN, BIG)})
        if args.scan_products:
            seed_alias(SCAN, args.scan_products, 10, 0.0)
            scan_part(args)
        if args.products:
            big_part(args)
    finally:
        from django.db import connections

        connections.close_all()
        server.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
