"""verificar_vencimientos / validar_vencimientos (commands and Python API) on a real SQLite file
and the throwaway MariaDB.

Expected rows are worked out here from DOMAIN.md and the issue (lot -> ``vencido`` with
``cantidad`` 0, one ``historial_merma`` row and one ``salida`` movement per lot, products left
without stock to ``en_merma``), not read back from the engine's report. Every test runs once per
backend (``db_alias``); the edges come from ``seed(..., vencimientos=True)``.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections import defaultdict
from decimal import Decimal
from io import StringIO

import forneria_ops
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.utils import timezone
from forneria_ops.models import EjecucionTarea
from ventas.models import Alertas, HistorialMerma, Lotes, MovimientosInventario, Productos
from ventas.schema import TABLES

HOY = dt.date(2025, 12, 10)
#: How every motivo this job writes starts (the seed's own waste rows say "vencido", "húmedo"…).
MOTIVO = "Vencimiento: "


def D(s: str) -> Decimal:
    return Decimal(s)


def seed(seeded, alias: str, **kw) -> dict:
    kw.setdefault("productos", 0)
    kw.setdefault("facturas", 0)
    return seeded(alias, vencimientos=True, **kw)["edges"]


def run(alias: str, *args: str, fecha: dt.date = HOY, command: str = "verificar_vencimientos"):
    out = StringIO()
    call_command(command, f"--database={alias}", f"--fecha={fecha}", *args, stdout=out)
    return out.getvalue()


def verificar(alias: str, fecha: dt.date = HOY, **kw) -> dict:
    return forneria_ops.verificar_vencimientos(alias, fecha=fecha, **kw)


def producto(alias: str, pk: int) -> Productos:
    return Productos.objects.using(alias).get(pk=pk)


def lote(alias: str, pk: int) -> Lotes:
    return Lotes.objects.using(alias).get(pk=pk)


def historial(alias: str, pk: int) -> list[tuple[Decimal, str]]:
    rows = HistorialMerma.objects.using(alias).filter(
        producto_id=pk, motivo_merma__startswith=MOTIVO
    )
    return sorted((h.cantidad_merma, h.motivo_merma) for h in rows)


def mermas(alias: str, pk: int) -> list[tuple]:
    rows = MovimientosInventario.objects.using(alias).filter(productos_id=pk, origen="merma")
    return sorted((m.tipo_movimiento, m.cantidad, m.referencia_id, m.tipo_referencia) for m in rows)


def dump(alias: str, skip: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Every row of every shop table, to prove that nothing changed."""
    out = {}
    with connections[alias].cursor() as cur:
        for table in (t for t in TABLES if t not in skip):
            cur.execute(f"SELECT * FROM {table} ORDER BY id")
            out[table] = [tuple(map(str, row)) for row in cur.fetchall()]
    return out


def fresh(when) -> bool:
    """A date-and-time column written by this run (Django reads it back aware)."""
    return abs((timezone.now() - when).total_seconds()) < 120


# -- lots --------------------------------------------------------------------------------------


def test_lot_expired_yesterday_goes_to_waste_today_and_tomorrow_stay(db_alias, seeded):
    e = seed(seeded, db_alias)
    pid = e["venc_lotes_ayer_hoy_manana"]
    verificar(db_alias)

    ayer = lote(db_alias, e["venc_lote_ayer"])
    assert (ayer.estado, ayer.cantidad) == ("vencido", D("0"))
    assert fresh(ayer.modificado)
    for key, qty in (("venc_lote_hoy", "5.000"), ("venc_lote_manana", "6.000")):
        still = lote(db_alias, e[key])
        assert (still.estado, still.cantidad) == ("activo", D(qty)), key

    p = producto(db_alias, pid)
    # 4.500 + 5.000 + 6.000 before; the 4.500 kg lot is gone; today's lot is next (FEFO).
    assert (p.estado_merma, p.cantidad, p.caducidad) == ("activo", D("11.000"), HOY)
    lot_id = e["venc_lote_ayer"]
    assert historial(db_alias, pid) == [
        (D("4.500"), f"Vencimiento: lote L{pid}-02 (id {lot_id}) venció el 09/12/2025")
    ]
    # INT column: 4.500 rounds half away from zero to 5.
    assert mermas(db_alias, pid) == [("salida", 5, lot_id, "lote")]
    h = HistorialMerma.objects.using(db_alias).get(producto_id=pid)
    assert h.activo and fresh(h.fecha_merma) and fresh(h.creado)


def test_a_lot_dated_today_is_not_expired_until_tomorrow(db_alias, seeded):
    e = seed(seeded, db_alias)
    verificar(db_alias)
    assert lote(db_alias, e["venc_lote_hoy"]).estado == "activo"
    manana = HOY + dt.timedelta(days=1)
    report = verificar(db_alias, fecha=manana, detail=True)
    assert lote(db_alias, e["venc_lote_hoy"]).estado == "vencido"
    assert lote(db_alias, e["venc_lote_manana"]).estado == "activo"
    p = producto(db_alias, e["venc_lotes_ayer_hoy_manana"])
    assert (p.cantidad, p.caducidad) == (D("6.000"), manana)
    assert e["venc_lote_hoy"] in [lot["lot_id"] for lot in report["plan"]["lots"]]


def test_product_with_mixed_lots_keeps_its_good_stock(db_alias, seeded):
    """prod_mixed_lots: agotado, activo with 0 (expired), activo 3.000 expired, agotado, activo
    10.500 in 20 days; its caducidad (hoy+20) was already the later lot's."""
    e = seed(seeded, db_alias)
    pid = e["prod_mixed_lots"]
    verificar(db_alias)
    assert lote(db_alias, e["lot_mixed_expired"]).estado == "vencido"
    empty = lote(db_alias, e["lot_mixed_zero_active"])
    assert (empty.estado, empty.cantidad) == ("activo", D("0")), "nothing to waste: left alone"
    later = lote(db_alias, e["lot_mixed_later"])
    assert (later.estado, later.cantidad) == ("activo", D("10.500"))
    p = producto(db_alias, pid)
    assert (p.estado_merma, p.cantidad, p.caducidad) == (
        "activo",
        D("10.500"),
        HOY + dt.timedelta(days=20),
    )
    assert [q for q, _ in historial(db_alias, pid)] == [D("3.000")]
    assert mermas(db_alias, pid) == [("salida", 3, e["lot_mixed_expired"], "lote")]


def test_product_left_without_stock_goes_to_waste_the_apps_way(db_alias, seeded):
    e = seed(seeded, db_alias)
    pid = e["venc_todos_lotes_vencidos"]
    a, b = e["venc_lote_vencido_a"], e["venc_lote_vencido_b"]
    verificar(db_alias)
    p = producto(db_alias, pid)
    assert (p.estado_merma, p.cantidad, p.caducidad, p.elaboracion) == ("en_merma", 0, None, None)
    assert p.cantidad_merma == 4  # 2.250 + 1.500 kg, whole units
    assert p.motivo_merma == (
        f"Vencimiento: sin stock tras vencer sus lotes L{pid}-02 (id {a}) del 07/12/2025, "
        f"L{pid}-03 (id {b}) del 09/12/2025"
    )
    assert fresh(p.fecha_merma) and fresh(p.modificado)
    # One history row per lot and none for the product: the waste is counted once.
    assert [q for q, _ in historial(db_alias, pid)] == [D("1.500"), D("2.250")]
    assert mermas(db_alias, pid) == sorted([("salida", 2, a, "lote"), ("salida", 2, b, "lote")])
    for lot_id in (a, b):
        assert (lote(db_alias, lot_id).estado, lote(db_alias, lot_id).cantidad) == ("vencido", 0)


def test_zero_stock_lots_and_products_are_left_alone(db_alias, seeded):
    e = seed(seeded, db_alias)
    before_lot = lote(db_alias, e["lot_mixed_zero_active"])
    sin_stock = e["venc_sin_lotes_cero"]
    before_p = producto(db_alias, sin_stock)
    verificar(db_alias)
    after_lot = lote(db_alias, e["lot_mixed_zero_active"])
    assert (after_lot.estado, after_lot.cantidad, after_lot.modificado) == (
        before_lot.estado,
        before_lot.cantidad,
        before_lot.modificado,
    )
    after_p = producto(db_alias, sin_stock)
    assert (after_p.estado_merma, after_p.caducidad, after_p.modificado) == (
        "activo",
        before_p.caducidad,
        before_p.modificado,
    )
    assert historial(db_alias, sin_stock) == [] and mermas(db_alias, sin_stock) == []


# -- products without lots ----------------------------------------------------------------------


def test_product_without_lots_past_its_date_goes_to_waste(db_alias, seeded):
    e = seed(seeded, db_alias)
    pid = e["prod_d_minus_1"]  # 24.000 units, caducidad yesterday, no lots
    verificar(db_alias)
    p = producto(db_alias, pid)
    assert (p.estado_merma, p.cantidad, p.caducidad, p.elaboracion) == ("en_merma", 0, None, None)
    assert (p.cantidad_merma, p.motivo_merma) == (24, "Vencimiento: producto venció el 09/12/2025")
    assert fresh(p.fecha_merma)
    assert historial(db_alias, pid) == [(D("24.000"), "Vencimiento: producto venció el 09/12/2025")]
    assert mermas(db_alias, pid) == [("salida", 24, pid, "producto")]
    # Today's date is still good; a fraction of a kilogram still leaves a movement of 1.
    hoy = producto(db_alias, e["prod_d_0"])
    assert (hoy.estado_merma, hoy.cantidad) == ("activo", D("24.000"))
    kg = e["venc_sin_lotes_fraccion"]
    assert producto(db_alias, kg).cantidad_merma == 1
    assert [q for q, _ in historial(db_alias, kg)] == [D("0.750")]
    assert mermas(db_alias, kg) == [("salida", 1, kg, "producto")]


def test_a_product_whose_own_date_passed_but_whose_lots_are_good_is_left_alone(db_alias, seeded):
    e = seed(seeded, db_alias)
    pid = e["venc_caducidad_vieja"]
    before = producto(db_alias, pid)
    verificar(db_alias)
    after = producto(db_alias, pid)
    assert (after.estado_merma, after.cantidad, after.caducidad) == (
        "activo",
        before.cantidad,
        before.caducidad,
    )


def test_deleted_inactive_and_already_wasted_products_are_left_alone(db_alias, seeded):
    e = seed(seeded, db_alias)
    keys = [
        "venc_eliminado_lotes",
        "venc_inactivo_lotes",
        "venc_eliminado_sin_lotes",
        "venc_inactivo_sin_lotes",
        "prod_vencido",  # legacy estado_merma 'vencido', caducidad 3 days ago
        "prod_en_merma",
        "prod_deleted",
    ]
    ids = [e[k] for k in keys]

    def rows():
        products = list(
            Productos.objects.using(db_alias).filter(pk__in=ids).order_by("pk").values()
        )
        lots = list(
            Lotes.objects.using(db_alias).filter(productos_id__in=ids).order_by("pk").values()
        )
        return products, lots

    history = HistorialMerma.objects.using(db_alias).filter(producto_id__in=ids)
    before = rows(), history.count()
    assert any(lot["estado"] == "activo" and lot["cantidad"] > 0 for lot in before[0][1])
    verificar(db_alias)
    assert (rows(), history.count()) == before
    assert not MovimientosInventario.objects.using(db_alias).filter(
        productos_id__in=ids, origen="merma"
    )


# -- value, alerts ------------------------------------------------------------------------------


def test_value_lost_is_quantity_times_unit_price_exactly(db_alias, seeded):
    e = seed(seeded, db_alias)
    report = verificar(db_alias, detail=True)
    by_product = {c["product_id"]: c for c in report["plan"]["products"]}
    # Masa madre: (2.250 + 1.500) kg x $1990.50 = $7464.375 (three decimals: nothing rounded).
    assert by_product[e["venc_todos_lotes_vencidos"]]["value"] == "7464.375"
    lots = {lot["lot_id"]: lot for lot in report["plan"]["lots"]}
    assert lots[e["venc_lote_vencido_a"]]["value"] == "4478.625"
    # Queso fresco: 0.750 kg x $8999.90 = $6749.925.
    assert by_product[e["venc_sin_lotes_fraccion"]]["value"] == "6749.925"
    # The total is the exact sum over the history rows written, priced from the database.
    total = Decimal(0)
    for h in HistorialMerma.objects.using(db_alias).filter(motivo_merma__startswith=MOTIVO):
        total += h.cantidad_merma * producto(db_alias, h.producto_id).precio_por_unidad_venta
    assert Decimal(report["value"]) == total


def test_alerts_of_wasted_stock_are_resolved_in_the_same_run(db_alias, seeded):
    e = seed(seeded, db_alias)

    def estado(key: str) -> str:
        return Alertas.objects.using(db_alias).get(pk=e[key]).estado

    others = {
        a.pk: a.estado
        for a in Alertas.objects.using(db_alias).exclude(
            pk__in=[
                e[k]
                for k in (
                    "venc_alerta_vencio",
                    "venc_alerta_stock",
                    "venc_alerta_ignorada",
                    "alert_vencio_dup_a",
                    "alert_vencio_dup_b",
                    "alert_vencio_dup_c",
                )
            ]
        )
    }
    report = verificar(db_alias)
    # Every lot of Masa madre went to waste: its expiry and low-stock alerts go too.
    assert estado("venc_alerta_vencio") == "resuelta"
    assert estado("venc_alerta_stock") == "resuelta"
    # An ignored expiry alert about the lot that went to waste: generar_alertas writes the next.
    assert estado("venc_alerta_ignorada") == "resuelta"
    # The duplicated 'YA VENCIÓ' copies of a product without lots that went to waste.
    for key in ("alert_vencio_dup_a", "alert_vencio_dup_b", "alert_vencio_dup_c"):
        assert estado(key) == "resuelta", key
    assert report["alerts_resolved"] == 6
    # Every other alert, the hand-written one included, is as it was.
    assert {
        a.pk: a.estado for a in Alertas.objects.using(db_alias).filter(pk__in=list(others))
    } == others


# -- runs: again, dry, at once, the whole database --------------------------------------------


def test_second_run_the_same_day_changes_nothing(db_alias, seeded):
    seed(seeded, db_alias, productos=300, lotes_sin_retirar=0.3)
    first = verificar(db_alias)
    assert first["lots_expired"] > 10 and first["products_wasted"] > 3
    before = dump(db_alias)
    again = run(db_alias, "--json")
    data = json.loads(again)
    totals = ("lots_expired", "products_updated", "products_wasted", "history_rows")
    assert [data[k] for k in totals] == [0, 0, 0, 0]
    assert (data["alerts_resolved"], data["value"]) == (0, "0.00")
    assert dump(db_alias) == before


def test_dry_run_changes_nothing_and_plans_what_the_run_does(db_alias, seeded):
    seed(seeded, db_alias, productos=200, lotes_sin_retirar=0.3)
    before = dump(db_alias)
    out = run(db_alias, "--dry-run")
    assert out.startswith("verificar_vencimientos (dry run, nothing written): 2025-12-10")
    assert " lote " in out and "moved to waste" in out and "resolve alerta" in out
    dry = verificar(db_alias, dry_run=True, detail=True)
    assert dump(db_alias) == before
    assert not EjecucionTarea.objects.filter(tarea="verificar_vencimientos").exists()
    done = verificar(db_alias, detail=True)
    for key in ("lots_expired", "products_wasted", "history_rows", "quantity", "value"):
        assert dry[key] == done[key], key
    assert dry["plan"]["lots"] == done["plan"]["lots"]


def sums(alias: str) -> tuple[dict[int, Decimal], Decimal, dict[int, Decimal]]:
    """Per product stock (productos.cantidad), active lot stock, and recorded waste so far."""
    stock = {pk: qty for pk, qty in Productos.objects.using(alias).values_list("pk", "cantidad")}
    lots = sum(
        Lotes.objects.using(alias).filter(estado="activo").values_list("cantidad", flat=True),
        Decimal(0),
    )
    waste: dict[int, Decimal] = defaultdict(Decimal)
    for pk, qty in HistorialMerma.objects.using(alias).values_list("producto_id", "cantidad_merma"):
        waste[pk] += qty
    return stock, lots, waste


def test_accounting_invariant_over_the_whole_database(db_alias, seeded):
    """stock before = stock after + waste recorded, for every product and for all lots."""
    seed(seeded, db_alias, productos=600, lotes_sin_retirar=0.3)
    stock0, lots0, waste0 = sums(db_alias)
    report = verificar(db_alias)
    stock1, lots1, waste1 = sums(db_alias)
    recorded = {pk: waste1[pk] - waste0[pk] for pk in waste1 if waste1[pk] != waste0[pk]}
    assert len(recorded) == report["products_updated"] + report["products_wasted"] > 50
    for pk in stock0:
        assert stock0[pk] == stock1[pk] + recorded.get(pk, Decimal(0)), pk
    assert sum(stock0.values()) == sum(stock1.values()) + sum(recorded.values())
    assert Decimal(report["quantity"]) == sum(recorded.values())
    # Lots: the active stock dropped by exactly what the lot rows of the history say.
    from_lots = sum(
        HistorialMerma.objects.using(db_alias)
        .filter(motivo_merma__startswith="Vencimiento: lote")
        .values_list("cantidad_merma", flat=True),
        Decimal(0),
    )
    assert lots0 == lots1 + from_lots
    moves = MovimientosInventario.objects.using(db_alias).filter(origen="merma")
    assert moves.count() == report["movements"] == report["history_rows"]


def test_two_runs_at_once_waste_each_lot_once(db_alias, seeded):
    seed(seeded, db_alias, productos=300, lotes_sin_retirar=0.3)
    expected = verificar(db_alias, dry_run=True)
    reports: list[dict] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            reports.append(verificar(db_alias, wait=60))
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(r["lots_expired"] for r in reports) == [0, 0, expected["lots_expired"]]
    history = HistorialMerma.objects.using(db_alias).filter(motivo_merma__startswith=MOTIVO)
    assert history.count() == expected["history_rows"]


def test_a_run_holding_the_lock_makes_the_command_wait_then_fail_clearly(db_alias, seeded):
    seed(seeded, db_alias)
    before = dump(db_alias)
    conn = connections.create_connection(db_alias)
    try:
        conn.ensure_connection()
        with conn.cursor() as cur:
            if conn.vendor == "mysql":
                name = f"forneria_ops.verificar_vencimientos.{conn.settings_dict['NAME']}"
                cur.execute("SELECT GET_LOCK(%s, 0)", [name])
                assert cur.fetchone()[0] == 1
            else:
                conn.connection.isolation_level = None
                cur.execute("BEGIN IMMEDIATE")
        with pytest.raises(CommandError, match="another verificar_vencimientos run holds the lock"):
            run(db_alias, "--wait", "0.2")
        with pytest.raises(forneria_ops.LockBusyError):
            verificar(db_alias, wait=0)
        assert dump(db_alias) == before
    finally:
        conn.close()
    assert verificar(db_alias)["lots_expired"] > 0


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True, databases=["default", "mysql"])
def test_a_sale_during_the_run_is_not_overwritten(seeded):
    """MariaDB: a till sells from an expired lot after the run read it and before it writes.
    The run notices (its rows are re-read under lock), starts over and wastes what is left."""
    from ventas.schema import create_schema

    create_schema("mysql")
    e = seed(seeded, "mysql")
    lot_id, pid = e["venc_lote_ayer"], e["venc_lotes_ayer_hoy_manana"]
    till = connections.create_connection("mysql")
    till.ensure_connection()
    result: dict = {}
    try:
        with till.cursor() as cur:
            cur.execute("START TRANSACTION")
            cur.execute("SELECT cantidad FROM lotes WHERE id = %s FOR UPDATE", [lot_id])
            cur.execute("UPDATE lotes SET cantidad = cantidad - 1 WHERE id = %s", [lot_id])
            cur.execute("UPDATE productos SET cantidad = cantidad - 1 WHERE id = %s", [pid])

        def job() -> None:
            try:
                result["report"] = verificar("mysql", wait=30)
            except BaseException as exc:
                result["error"] = exc
            finally:
                connections.close_all()

        worker = threading.Thread(target=job)
        worker.start()
        time.sleep(1.5)  # the run has read its snapshot and waits for the till's row lock
        with till.cursor() as cur:
            cur.execute("COMMIT")
        worker.join(60)
    finally:
        till.close()
    assert "error" not in result, result.get("error")
    assert result["report"]["retries"] == 1
    assert [q for q, _ in historial("mysql", pid)] == [D("3.500")]
    p = producto("mysql", pid)
    assert p.cantidad == D("11.000")  # 15.500 - 1 sold - 3.500 wasted


@pytest.mark.django_db(transaction=True, databases=["default", "mysql"])
def test_both_databases_give_the_same_results(seeded):
    from ventas.schema import create_schema

    plans = {}
    rows = {}
    for alias in ("default", "mysql"):
        create_schema(alias)
        seed(seeded, alias, productos=400, lotes_sin_retirar=0.2)
        report = verificar(alias, detail=True)
        for key in ("database", "vendor", "timings"):
            report.pop(key)
        plans[alias] = report
        rows[alias] = (
            list(
                Productos.objects.using(alias)
                .order_by("pk")
                .values_list("pk", "cantidad", "caducidad", "estado_merma", "cantidad_merma")
            ),
            list(Lotes.objects.using(alias).order_by("pk").values_list("pk", "cantidad", "estado")),
            list(
                HistorialMerma.objects.using(alias)
                .order_by("pk")
                .values_list("producto_id", "cantidad_merma", "motivo_merma")
            ),
            list(
                MovimientosInventario.objects.using(alias)
                .order_by("pk")
                .values_list("productos_id", "cantidad", "origen", "referencia_id")
            ),
            list(Alertas.objects.using(alias).order_by("pk").values_list("pk", "estado")),
        )
    assert plans["default"] == plans["mysql"]
    assert rows["default"] == rows["mysql"]
    assert plans["default"]["lots_expired"] > 20


@pytest.mark.django_db(transaction=True, databases=["default", "mysql"])
def test_the_orm_reference_of_the_benchmark_leaves_the_same_rows(seeded):
    """``ventas.legacy_vencimientos`` (the benchmark's competitor) on SQLite, forneria-ops on
    MariaDB, the same seed: the same rows, so the benchmark compares the same work."""
    from ventas.legacy_vencimientos import verificar_vencimientos as legacy
    from ventas.schema import create_schema

    for alias in ("default", "mysql"):
        create_schema(alias)
        seed(seeded, alias, productos=400, lotes_sin_retirar=0.3)
    theirs = legacy(HOY, using="default")
    ours = verificar("mysql")
    for key in ("lots_expired", "products_updated", "products_wasted", "history_rows"):
        assert theirs[key] == ours[key], key
    assert (theirs["quantity"], theirs["value"]) == (D(ours["quantity"]), D(ours["value"]))

    def rows(alias: str) -> tuple:
        return (
            list(
                Productos.objects.using(alias)
                .order_by("pk")
                .values_list(
                    "pk",
                    "cantidad",
                    "caducidad",
                    "elaboracion",
                    "estado_merma",
                    "motivo_merma",
                    "cantidad_merma",
                )
            ),
            list(Lotes.objects.using(alias).order_by("pk").values_list("pk", "cantidad", "estado")),
            list(
                HistorialMerma.objects.using(alias)
                .order_by("pk")
                .values_list("producto_id", "cantidad_merma", "motivo_merma", "activo")
            ),
            list(
                MovimientosInventario.objects.using(alias)
                .order_by("pk")
                .values_list(
                    "productos_id",
                    "tipo_movimiento",
                    "cantidad",
                    "origen",
                    "referencia_id",
                    "tipo_referencia",
                )
            ),
            list(Alertas.objects.using(alias).order_by("pk").values_list("pk", "estado")),
        )

    assert rows("default") == rows("mysql")
    assert theirs["alerts_resolved"] == ours["alerts_resolved"] > 0


# -- commands and API ---------------------------------------------------------------------------


def test_command_output_and_its_alias(db_alias, seeded):
    seed(seeded, db_alias)
    dry = run(db_alias, "--dry-run", command="validar_vencimientos")
    assert dry.startswith("validar_vencimientos (dry run, nothing written): 2025-12-10")
    out = run(db_alias)
    lines = out.splitlines()
    assert lines[0].startswith(f"verificar_vencimientos: 2025-12-10 on {db_alias} (")
    assert lines[1] == (
        "  lots expired 5, products that kept stock 3, products moved to waste 4, "
        "history rows 8, alerts resolved 6"
    )
    assert lines[2].startswith("  quantity wasted 54.000, value lost $")
    assert len(lines) == 3, "verbosity 1 prints the summary only"
    again = run(db_alias, command="validar_vencimientos")
    assert "lots expired 0, products that kept stock 0, products moved to waste 0" in again
    assert run(db_alias, "-v", "0") == ""
    verbose = run(db_alias, "--verbose", fecha=HOY + dt.timedelta(days=1))
    # Tomorrow today's lots and dates have passed; verbosity 2 lists each lot and product.
    assert "  lote " in verbose and "  producto " in verbose and "  resolve alerta " in verbose
    timing = run(db_alias, "-v", "3")
    assert "total" in timing and "candidate products" in timing
    row = EjecucionTarea.objects.get(tarea="verificar_vencimientos", base_datos=db_alias)
    assert row.ejecuciones == 5 and row.fallos == 0  # the dry run is not recorded


def test_json_report(db_alias, seeded):
    e = seed(seeded, db_alias)
    data = json.loads(run(db_alias, "--json"))
    assert data["dry_run"] is False and data["today"] == "2025-12-10"
    assert {lot["lot_id"] for lot in data["plan"]["lots"]} >= {e["venc_lote_ayer"]}
    outcomes = {c["product_id"]: c["outcome"] for c in data["plan"]["products"]}
    assert outcomes[e["venc_lotes_ayer_hoy_manana"]] == "lots_expired"
    assert outcomes[e["venc_todos_lotes_vencidos"]] == "wasted_after_lots"
    assert outcomes[e["prod_d_minus_1"]] == "wasted_without_lots"
    assert isinstance(data["value"], str) and isinstance(data["quantity"], str)


def test_bad_input_is_refused_before_touching_data(db_alias, seeded):
    seed(seeded, db_alias)
    before = dump(db_alias)
    with pytest.raises(CommandError, match="not a date"):
        call_command("verificar_vencimientos", f"--database={db_alias}", "--fecha=10/12/2025")
    with pytest.raises(CommandError, match="--wait must be >= 0"):
        run(db_alias, "--wait", "-1")
    with pytest.raises(CommandError, match="database alias 'nope' is not in DATABASES"):
        call_command("verificar_vencimientos", "--database=nope", stdout=StringIO())
    with pytest.raises(forneria_ops.ConfigError, match="dias"):
        forneria_ops.scan_vencimientos(-1, using=db_alias)
    with pytest.raises(forneria_ops.ConfigError, match="dias"):
        forneria_ops.scan_vencimientos("7", using=db_alias)
    assert dump(db_alias) == before


def test_missing_table_fails_clearly_and_nothing_stays(db_alias, seeded):
    seed(seeded, db_alias)
    with connections[db_alias].cursor() as cur:
        cur.execute("DROP TABLE movimientos_inventario")
    before = dump(db_alias, skip=("movimientos_inventario",))
    with pytest.raises(CommandError, match="movimientos_inventario") as info:
        run(db_alias)
    assert isinstance(info.value.__cause__, forneria_ops.SchemaError)
    # The lots, products and history written before the failing insert were rolled back.
    assert dump(db_alias, skip=("movimientos_inventario",)) == before
    row = EjecucionTarea.objects.get(tarea="verificar_vencimientos", base_datos=db_alias)
    assert row.fallos == 1 and "movimientos_inventario" in row.ultimo_error


# -- scan_vencimientos ------------------------------------------------------------------------


def test_scan_lists_stock_expiring_within_n_days(db_alias, seeded):
    e = seed(seeded, db_alias)
    scan = forneria_ops.scan_vencimientos(7, using=db_alias, fecha=HOY)
    assert set(scan) >= {"count", "items"} and scan["count"] == len(scan["items"])
    dates = [(i["caducidad"], i["nombre"].lower()) for i in scan["items"]]
    assert dates == sorted(dates)
    assert all(0 <= i["dias_restantes"] <= 7 for i in scan["items"])
    by_lot = {i["lote_id"]: i for i in scan["items"] if i["lote_id"]}
    hoy = by_lot[e["venc_lote_hoy"]]
    assert hoy == {
        "id": e["venc_lotes_ayer_hoy_manana"],
        "nombre": "Pan de campo por kilo",
        "caducidad": "2025-12-10",
        "dias_restantes": 0,
        "lote_id": e["venc_lote_hoy"],
        "numero_lote": f"L{e['venc_lotes_ayer_hoy_manana']}-03",
        "cantidad": "5.000",
        "precio_por_unidad_venta": "1990.50",
        "valor": "9952.50",
    }
    assert by_lot[e["venc_lote_manana"]]["dias_restantes"] == 1
    assert e["venc_lote_ayer"] not in by_lot, "expired stock is not 'about to expire'"
    # A product without lots is one item (no lot); today's date is in the window.
    marraqueta = [i for i in scan["items"] if i["id"] == e["prod_d_0"]]
    assert marraqueta and marraqueta[0]["lote_id"] is None and marraqueta[0]["cantidad"] == "24.000"
    # Deleted, inactive, wasted and zero-stock products never show.
    hidden = {e[k] for k in ("prod_deleted", "prod_inactivo", "prod_en_merma", "prod_zero_stock")}
    assert not hidden & {i["id"] for i in scan["items"]}
    total = sum(Decimal(i["valor"]) for i in scan["items"])
    assert Decimal(scan["valor_total"]) == total
    json.dumps(scan)  # plain, JSON-safe values


def test_scan_windows_and_expired_stock(db_alias, seeded):
    e = seed(seeded, db_alias)
    seven = forneria_ops.scan_vencimientos(7, using=db_alias, fecha=HOY)
    fourteen = forneria_ops.scan_vencimientos(14, using=db_alias, fecha=HOY)
    thirty = forneria_ops.scan_vencimientos(30, using=db_alias, fecha=HOY)
    assert seven["count"] < fourteen["count"] < thirty["count"]
    assert seven["items"] == [i for i in fourteen["items"] if i["dias_restantes"] <= 7]
    with_expired = forneria_ops.scan_vencimientos(
        7, incluir_vencidos=True, using=db_alias, fecha=HOY
    )
    expired = [i for i in with_expired["items"] if i["dias_restantes"] < 0]
    assert e["venc_lote_ayer"] in {i["lote_id"] for i in expired}
    assert [i for i in with_expired["items"] if i["dias_restantes"] >= 0] == seven["items"]
    # After the run, nothing expired is left to list.
    verificar(db_alias)
    after = forneria_ops.scan_vencimientos(7, incluir_vencidos=True, using=db_alias, fecha=HOY)
    assert all(i["dias_restantes"] >= 0 for i in after["items"])


@pytest.mark.django_db(transaction=True, databases=["default", "mysql"])
def test_scan_is_the_same_on_both_databases(seeded):
    from ventas.schema import create_schema

    scans = {}
    for alias in ("default", "mysql"):
        create_schema(alias)
        seed(seeded, alias, productos=400, lotes_sin_retirar=0.2)
        scans[alias] = forneria_ops.scan_vencimientos(30, True, using=alias, fecha=HOY)
    assert scans["default"] == scans["mysql"]
    assert scans["default"]["count"] > 100
    assert any(i["dias_restantes"] < 0 for i in scans["default"]["items"])


# -- the shop's real data ---------------------------------------------------------------------


def query(settings_dict: dict, sql: str, *params) -> list[tuple]:
    """Rows of a database outside the test's aliases, through its own connection."""
    import MySQLdb

    conn = MySQLdb.connect(
        host=settings_dict["HOST"],
        port=int(settings_dict["PORT"] or 3306),
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"],
        database=settings_dict["NAME"],
        charset="utf8mb4",
    )
    try:
        cur = conn.cursor()
        cur.execute(sql, params)
        return list(cur.fetchall())
    finally:
        conn.close()


@pytest.mark.django_db(transaction=True, databases=["default", "mysql"])
def test_real_production_export(real_export):
    """The export (taken 2025-12-10): nothing is expired that day; on 2025-12-16 pan keeps its
    January lot, galleta and pastel chocolate lose every lot and go to waste."""
    from test_generar_alertas import extra_alias

    def stock() -> dict[int, Decimal]:
        return dict(query(real_export, "SELECT id, cantidad FROM productos"))

    def waste() -> dict[int, Decimal]:
        rows = query(
            real_export,
            "SELECT producto_id, SUM(cantidad_merma) FROM historial_merma GROUP BY producto_id",
        )
        return defaultdict(Decimal, rows)

    with extra_alias("export", real_export) as alias:
        assert verificar(alias, fecha=dt.date(2025, 12, 10))["history_rows"] == 0
        stock0, waste0 = stock(), waste()
        report = verificar(alias, fecha=dt.date(2025, 12, 16), detail=True)
        assert (report["lots_expired"], report["products_updated"]) == (5, 1)
        assert (report["products_wasted"], report["alerts_resolved"]) == (2, 4)
        # 17 kg of pan, 24 galletas, 1 pastel; all at $2000.00 but the pastel ($20000.00).
        assert (report["quantity"], report["value"]) == ("42.000", "102000.00")
        assert verificar(alias, fecha=dt.date(2025, 12, 16))["history_rows"] == 0

    products = query(
        real_export,
        "SELECT id, estado_merma, cantidad, caducidad, cantidad_merma FROM productos "
        "WHERE id IN (2, 3, 4) ORDER BY id",
    )
    assert products == [
        (2, "activo", D("4.000"), dt.date(2026, 1, 8), 2),
        (3, "en_merma", D("0.000"), None, 24),
        (4, "en_merma", D("0.000"), None, 1),
    ]
    history = query(
        real_export,
        "SELECT producto_id, cantidad_merma, motivo_merma FROM historial_merma "
        "WHERE motivo_merma LIKE 'Vencimiento: %%' ORDER BY id",
    )
    assert sorted(history) == [
        (2, D("17.000"), "Vencimiento: lote prod-08-25 (id 2) venció el 14/12/2025"),
        (3, D("3.000"), "Vencimiento: lote EDIT-3-20251209192438 (id 7) venció el 12/12/2025"),
        (3, D("5.000"), "Vencimiento: lote FACT-1-16 (id 6) venció el 14/12/2025"),
        (3, D("16.000"), "Vencimiento: lote FACT-1-15 (id 5) venció el 12/12/2025"),
        (4, D("1.000"), "Vencimiento: lote FACT-5-10 (id 3) venció el 15/12/2025"),
    ]
    moves = query(
        real_export,
        "SELECT productos_id, tipo_movimiento, cantidad, referencia_id, tipo_referencia "
        "FROM movimientos_inventario WHERE origen = 'merma' ORDER BY referencia_id",
    )
    assert moves == [
        (2, "salida", 17, 2, "lote"),
        (4, "salida", 1, 3, "lote"),
        (3, "salida", 16, 5, "lote"),
        (3, "salida", 5, 6, "lote"),
        (3, "salida", 3, 7, "lote"),
    ]
    lots = query(real_export, "SELECT id, estado, cantidad FROM lotes ORDER BY id")
    assert [lot for lot in lots if lot[0] in (2, 3, 5, 6, 7, 8)] == [
        (2, "vencido", D("0.000")),
        (3, "vencido", D("0.000")),
        (5, "vencido", D("0.000")),
        (6, "vencido", D("0.000")),
        (7, "vencido", D("0.000")),
        (8, "activo", D("4.000")),
    ]
    active = query(real_export, "SELECT mensaje FROM alertas WHERE estado = 'activa'")
    assert active == [("Factura 1 de Amasandería VENCIDA hace 2 días - $29750.00",)]
    stock1, waste1 = stock(), waste()
    for pk in stock0:
        assert stock0[pk] == stock1[pk] + waste1[pk] - waste0[pk], pk
