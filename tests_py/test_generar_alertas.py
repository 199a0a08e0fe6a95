"""generar_alertas (command and Python API) on a real SQLite file and the throwaway MariaDB.

Expected messages are written out here from DOMAIN.md's formats, not taken from the engine, so a
wrong format in either place fails. Every test runs once per backend (``db_alias``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
from collections import Counter
from io import StringIO

import forneria_ops
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.test import override_settings
from forneria_ops.models import EjecucionTarea
from support.aliases import extra_alias
from ventas.legacy import generar_alertas_automaticas
from ventas.models import Alertas, FacturaProveedor, Lotes, Productos

HOY = dt.date(2025, 12, 10)

EXPIRY = re.compile(r" (vence en -?\d+ días - (URGENTE|PRECAUCIÓN|OK)|YA VENCIÓ hace \d+ días)$")
LOW = re.compile(r" - STOCK BAJO: -?\d+\.\d{3} unidades \(mínimo: -?\d+\)$")


def kind_of(alerta: Alertas) -> str | None:
    """The alert's kind, read the way an operator would (independent of the engine)."""
    if alerta.factura_proveedor_id is not None:
        return "factura"
    if LOW.search(alerta.mensaje):
        return "stock"
    if EXPIRY.search(alerta.mensaje):
        return "vencimiento"
    return None


def active_per_key(alias: str) -> Counter:
    counts: Counter = Counter()
    for a in Alertas.objects.using(alias).filter(estado="activa"):
        kind = kind_of(a)
        if kind is not None:
            counts[(kind, a.productos_id or a.factura_proveedor_id)] += 1
    return counts


def snapshot(alias: str) -> list[tuple]:
    return sorted(
        Alertas.objects.using(alias).values_list(
            "id", "tipo_alerta", "mensaje", "estado", "productos_id", "factura_proveedor_id"
        )
    )


def run(alias: str, *args: str, fecha: dt.date = HOY) -> str:
    out = StringIO()
    call_command("generar_alertas", f"--database={alias}", f"--fecha={fecha}", *args, stdout=out)
    return out.getvalue()


def report(alias: str, fecha: dt.date = HOY, **kw) -> dict:
    return forneria_ops.generar_alertas_informe(using=alias, fecha=fecha, **kw)


def active(alias: str, **filters) -> list[tuple[str, str]]:
    rows = Alertas.objects.using(alias).filter(estado="activa", **filters)
    return sorted((a.tipo_alerta, a.mensaje) for a in rows)


def producto(alias: str, pk: int) -> Productos:
    return Productos.objects.using(alias).get(pk=pk)


# -- the rules, edge by edge ------------------------------------------------------------------

PRODUCT_BANDS = [
    (-1, "prod_d_minus_1", "Pan amasado", "roja", "Pan amasado YA VENCIÓ hace 1 días"),
    (0, "prod_d_0", "Marraqueta", "roja", "Marraqueta vence en 0 días - URGENTE"),
    (13, "prod_d_13", "Torta tres leches", "roja", "Torta tres leches vence en 13 días - URGENTE"),
    (14, "prod_d_14", "Kuchen de nuez", "amarilla", "Kuchen de nuez vence en 14 días - PRECAUCIÓN"),
    (29, "prod_d_29", "Pan de pascua", "amarilla", "Pan de pascua vence en 29 días - PRECAUCIÓN"),
    (
        30,
        "prod_d_30",
        "Galletas de mantequilla",
        "verde",
        "Galletas de mantequilla vence en 30 días - OK",
    ),
]


@pytest.mark.parametrize("dias,edge,nombre,colour,message", PRODUCT_BANDS)
def test_product_expiry_band_edges(db_alias, seeded, dias, edge, nombre, colour, message):
    s = seeded(db_alias, productos=0, facturas=0, alertas_existentes=False)
    report(db_alias)
    pid = s["edges"][edge]
    assert producto(db_alias, pid).nombre == nombre
    assert (colour, message) in active(db_alias, productos_id=pid)


LOT_BANDS = [
    ("prod_lots_d_minus_1", "roja", "Hallulla YA VENCIÓ hace 1 días"),
    ("prod_lots_d_0", "roja", "Berlín de crema vence en 0 días - URGENTE"),
    ("prod_lots_d_13", "roja", "Empanada de pino vence en 13 días - URGENTE"),
    ("prod_lots_d_14", "amarilla", "Pie de limón vence en 14 días - PRECAUCIÓN"),
    ("prod_lots_d_29", "amarilla", "Queque de piña vence en 29 días - PRECAUCIÓN"),
    ("prod_lots_d_30", "verde", "Alfajor de maicena vence en 30 días - OK"),
]


@pytest.mark.parametrize("edge,colour,message", LOT_BANDS)
def test_lot_expiry_band_edges(db_alias, seeded, edge, colour, message):
    s = seeded(db_alias, productos=0, facturas=0, alertas_existentes=False)
    report(db_alias)
    assert active(db_alias, productos_id=s["edges"][edge]) == [(colour, message)]


INVOICE_BANDS = [
    (-1, "roja", "VENCIDA hace 1 días"),
    (0, "roja", "vence en 0 días"),
    (7, "roja", "vence en 7 días"),
    (8, "amarilla", "vence en 8 días"),
    (30, "amarilla", "vence en 30 días"),
    (31, "verde", "vence en 31 días"),
]


@pytest.mark.parametrize("prefix", ["inv", "inv_parcial"])
@pytest.mark.parametrize("dias,colour,middle", INVOICE_BANDS)
def test_invoice_band_edges(db_alias, seeded, prefix, dias, colour, middle):
    s = seeded(db_alias, productos=0, facturas=0, alertas_existentes=False)
    report(db_alias)
    name = f"{prefix}_d_{'minus_1' if dias < 0 else dias}"
    f = (
        FacturaProveedor.objects.using(db_alias)
        .select_related("proveedor")
        .get(pk=s["edges"][name])
    )
    total = f"{f.total_con_iva:.2f}"
    expected = f"Factura {f.numero_factura} de {f.proveedor.nombre} {middle} - ${total}"
    assert active(db_alias, factura_proveedor_id=f.pk) == [(colour, expected)]


def test_low_stock_at_the_minimum_and_the_default_minimum(db_alias, seeded):
    s = seeded(db_alias, productos=0, facturas=0, alertas_existentes=False)
    result = report(db_alias)
    e = s["edges"]
    low = {
        a.productos_id: a.mensaje for a in Alertas.objects.using(db_alias) if kind_of(a) == "stock"
    }
    assert low[e["prod_stock_eq_min"]] == "Chilenito - STOCK BAJO: 7.000 unidades (mínimo: 7)"
    assert low[e["prod_default_min_eq"]] == (
        "Cachitos de manjar - STOCK BAJO: 5.000 unidades (mínimo: 5)"
    )
    assert e["prod_default_min_above"] not in low
    assert (
        low[e["prod_fractional_low"]] == "Pan de centeno - STOCK BAJO: 2.500 unidades (mínimo: 3)"
    )
    assert low[e["prod_zero_stock"]] == "Dobladita - STOCK BAJO: 0.000 unidades (mínimo: 4)"
    assert result["counts"]["stock_bajo"] == len(low)


def test_fefo_takes_the_earliest_active_lot_with_stock(db_alias, seeded):
    s = seeded(db_alias, productos=0, facturas=0, alertas_existentes=False)
    report(db_alias)
    pid = s["edges"]["prod_mixed_lots"]
    # Product date says 20 days; the zero-stock active lot (-4) does not count; the -2 lot does.
    assert producto(db_alias, pid).caducidad == HOY + dt.timedelta(days=20)
    assert active(db_alias, productos_id=pid) == [
        ("roja", "Pan de molde integral YA VENCIÓ hace 2 días")
    ]
    # Sell that lot out: the next active lot (+20) decides, and the alert follows in place.
    Lotes.objects.using(db_alias).filter(pk=s["edges"]["lot_mixed_expired"]).update(
        cantidad=0, estado="agotado"
    )
    again = report(db_alias)
    assert (again["created"], again["updated"]) == (0, 1)
    assert active(db_alias, productos_id=pid) == [
        ("amarilla", "Pan de molde integral vence en 20 días - PRECAUCIÓN")
    ]


# -- the fixes --------------------------------------------------------------------------------


def test_twice_on_the_same_data_one_alert_per_key_and_no_changes(db_alias, seeded):
    seeded(db_alias, productos=300)
    first = run(db_alias)
    assert "created" in first
    per_key = active_per_key(db_alias)
    assert per_key and max(per_key.values()) == 1
    before = snapshot(db_alias)
    second = report(db_alias)
    assert second["counts"]["total"] == 0
    assert (second["created"], second["updated"], second["resolved"]) == (0, 0, 0)
    assert snapshot(db_alias) == before


def test_eight_runs_at_once_never_duplicate(db_alias, seeded):
    seeded(db_alias, productos=300)
    results, errors = [], []

    def one() -> None:
        try:
            results.append(report(db_alias, wait=60, detail=False))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(results) == 8
    # Exactly one run did the work; the seven that waited for the lock found nothing to do.
    doing = [r for r in results if r["created"] or r["updated"] or r["resolved"]]
    assert len(doing) == 1
    assert all(r["counts"]["total"] == 0 for r in results if r is not doing[0])
    assert max(active_per_key(db_alias).values()) == 1
    assert report(db_alias)["counts"]["total"] == 0


def test_expired_alerts_no_longer_duplicate_and_old_copies_are_resolved(db_alias, seeded):
    s = seeded(db_alias, productos=0, facturas=0)
    pid = s["edges"]["prod_vencio_duplicados"]
    assert Alertas.objects.using(db_alias).filter(productos_id=pid, estado="activa").count() == 3
    for _ in range(3):
        report(db_alias)
    assert active(db_alias, productos_id=pid) == [
        ("roja", 'Torta "Selva Negra" YA VENCIÓ hace 5 días')
    ]
    # The shop's own code, for contrast, adds a copy on every run.
    generar_alertas_automaticas(HOY, using=db_alias)
    assert len(active(db_alias, productos_id=pid)) == 2


def test_null_expiry_aborts_nothing_and_is_reported_at_verbosity_2(db_alias, seeded):
    s = seeded(db_alias, productos=0, facturas=0, alertas_existentes=False)
    pid = s["edges"]["prod_null_caducidad"]
    out = run(db_alias, "-v", "2")
    assert f"no expiry date: producto {pid} Tostadas de la casa" in out
    assert not Alertas.objects.using(db_alias).filter(productos_id=pid).exists()
    # Products after it in id order still got their alerts.
    later = s["edges"]["prod_emoji"]
    assert later > pid
    assert active(db_alias, productos_id=later) == [
        ("amarilla", "Torta de cumpleaños 🎂 vence en 20 días - PRECAUCIÓN")
    ]
    assert "no expiry date" not in run(db_alias)  # verbosity 1: summary only


def test_alerts_whose_condition_ended_are_resolved(db_alias, seeded):
    s = seeded(db_alias, productos=0, facturas=0)
    e = s["edges"]
    stale = [
        "alert_stale_inv_pagado",
        "alert_stale_inv_cancelado",
        "alert_stale_inv_deleted",
        "alert_stale_prod_deleted",
        "alert_stale_zero_stock",
        "alert_stale_en_merma",
        "alert_stock_to_resolve",
    ]
    result = report(db_alias)
    estados = dict(Alertas.objects.using(db_alias).values_list("id", "estado"))
    assert {k: estados[e[k]] for k in stale} == dict.fromkeys(stale, "resuelta")
    reasons = {r["id"]: r["reason"] for r in result["plan"]["resolve"]}
    assert reasons[e["alert_stale_inv_pagado"]] == "invoice_settled"
    assert reasons[e["alert_stale_prod_deleted"]] == "product_not_active"
    assert reasons[e["alert_stale_zero_stock"]] == "out_of_stock"
    assert reasons[e["alert_stock_to_resolve"]] == "stock_recovered"

    # And later changes: an invoice paid, a product deactivated, another restocked.
    Productos.objects.using(db_alias).filter(pk=e["prod_d_13"]).update(estado_merma="inactivo")
    Productos.objects.using(db_alias).filter(pk=e["prod_stock_eq_min"]).update(cantidad=50)
    FacturaProveedor.objects.using(db_alias).filter(pk=e["inv_d_0"]).update(estado_pago="pagado")
    again = report(db_alias)
    assert again["resolved"] == 3
    assert active(db_alias, productos_id=e["prod_d_13"]) == []
    assert active(db_alias, factura_proveedor_id=e["inv_d_0"]) == []
    # Restocked: its low-stock alert is gone; its expiry alert and the hand-written one stay.
    assert {m for _, m in active(db_alias, productos_id=e["prod_stock_eq_min"])} == {
        "Chilenito vence en 60 días - OK",
        "Revisar cadena de frío de la vitrina",
    }


def test_ignored_alert_is_not_reopened_for_the_same_condition(db_alias, seeded):
    s = seeded(db_alias, productos=0, facturas=0)
    e = s["edges"]
    report(db_alias)
    ignored = Alertas.objects.using(db_alias).get(pk=e["alert_ignorada"])
    assert ignored.estado == "ignorada"
    assert active(db_alias, productos_id=e["prod_d_0"]) == []
    # Tomorrow the product has expired: a worse condition, so a new active alert.
    report(db_alias, fecha=HOY + dt.timedelta(days=1))
    assert active(db_alias, productos_id=e["prod_d_0"]) == [
        ("roja", "Marraqueta YA VENCIÓ hace 1 días")
    ]


def test_hand_written_alerts_are_never_touched(db_alias, seeded):
    s = seeded(db_alias, productos=0, facturas=0)
    manual = Alertas.objects.using(db_alias).get(pk=s["edges"]["alert_manual"])
    report(db_alias)
    report(db_alias, fecha=HOY + dt.timedelta(days=40))
    after = Alertas.objects.using(db_alias).get(pk=manual.pk)
    assert (after.estado, after.mensaje, after.tipo_alerta) == (
        manual.estado,
        manual.mensaje,
        manual.tipo_alerta,
    )


def test_today_is_the_local_date_not_utc(db_alias, seeded, monkeypatch):
    seeded(db_alias, productos=0, facturas=0, alertas_existentes=False)
    # 02:30 UTC on the 11th is still the evening of the 10th in Santiago (UTC-3 in December).
    instant = dt.datetime(2025, 12, 11, 2, 30, tzinfo=dt.timezone.utc)
    monkeypatch.setattr("django.utils.timezone.now", lambda: instant)
    out = StringIO()
    call_command("generar_alertas", f"--database={db_alias}", "--json", stdout=out)
    assert json.loads(out.getvalue())["today"] == "2025-12-10"


# -- command and API behaviour ----------------------------------------------------------------


def test_dry_run_changes_nothing_and_prints_the_plan(db_alias, seeded):
    s = seeded(db_alias, productos=50)
    before = snapshot(db_alias)
    out = run(db_alias, "--dry-run")
    assert snapshot(db_alias) == before
    assert out.splitlines()[0].startswith("generar_alertas (dry run, nothing written): 2025-12-10")
    assert "  create  vencimiento producto " in out
    assert f"alerta {s['edges']['alert_stale_inv_pagado']} (invoice_settled)" in out
    assert not EjecucionTarea.objects.filter(tarea="generar_alertas", base_datos=db_alias).exists()


def test_json_report_and_counts_match_the_apps_keys(db_alias, seeded):
    seeded(db_alias, productos=100)
    out = run(db_alias, "--json")
    data = json.loads(out)
    assert set(data["counts"]) == {
        "roja",
        "amarilla",
        "verde",
        "stock_bajo",
        "facturas_vencidas",
        "total",
    }
    c = data["counts"]
    assert (
        c["total"]
        == c["roja"] + c["amarilla"] + c["verde"] + c["stock_bajo"] + c["facturas_vencidas"]
    )
    assert c["total"] == data["created"] + data["updated"]
    assert len(data["plan"]["create"]) == data["created"]


def test_python_api_is_a_drop_in_for_the_apps_method(db_alias, seeded):
    seeded(db_alias, productos=100)
    counts = forneria_ops.generar_alertas(db_alias, fecha=HOY)
    assert set(counts) == {"roja", "amarilla", "verde", "stock_bajo", "facturas_vencidas", "total"}
    assert counts["total"] > 0
    assert forneria_ops.generar_alertas(db_alias, fecha=HOY)["total"] == 0
    row = EjecucionTarea.objects.get(tarea="generar_alertas", base_datos=db_alias)
    assert row.ultimo_ok and row.resumen["counts"] == counts


def test_a_page_load_does_not_queue_behind_a_running_job(db_alias, seeded):
    """The API's second caller returns zeros at once; the command's waits, then fails clearly."""
    seeded(db_alias, productos=20)
    before = snapshot(db_alias)
    # Hold the job's lock as a running job does, from another connection: GET_LOCK on MySQL,
    # SQLite's write lock (BEGIN IMMEDIATE).
    conn = connections.create_connection(db_alias)
    try:
        conn.ensure_connection()
        with conn.cursor() as cur:
            if conn.vendor == "mysql":
                name = f"forneria_ops.generar_alertas.{conn.settings_dict['NAME']}"
                cur.execute("SELECT GET_LOCK(%s, 0)", [name])
                assert cur.fetchone()[0] == 1
            else:
                conn.connection.isolation_level = None
                cur.execute("BEGIN IMMEDIATE")
        assert forneria_ops.generar_alertas(db_alias, fecha=HOY) == dict.fromkeys(
            forneria_ops.ALERT_COUNT_KEYS, 0
        )
        # A page load that found the job running is not a failed run.
        assert not EjecucionTarea.objects.filter(tarea="generar_alertas").exists()
        with pytest.raises(CommandError, match="another generar_alertas run holds the lock"):
            run(db_alias, "--wait", "0.2")
        assert snapshot(db_alias) == before
        if conn.vendor == "mysql":
            # (On SQLite the history write itself waits for the same write lock and is skipped.)
            row = EjecucionTarea.objects.get(tarea="generar_alertas", base_datos=db_alias)
            assert row.fallos == 1
    finally:
        conn.close()
    assert forneria_ops.generar_alertas(db_alias, fecha=HOY)["total"] > 0


def test_verbose_is_an_alias_of_verbosity_2_and_v0_is_silent(db_alias, seeded):
    seeded(db_alias, productos=0, facturas=0)
    verbose = run(db_alias, "--verbose", "--dry-run")
    v2 = run(db_alias, "-v", "2", "--dry-run")
    assert verbose == v2 and "no expiry date" in verbose
    assert run(db_alias, "-v", "0") == ""


@override_settings(
    FORNERIA_OPS={"EXPIRY_RED_DAYS": 5, "EXPIRY_YELLOW_DAYS": 10, "DEFAULT_MIN_STOCK": 8}
)
def test_thresholds_come_from_settings(db_alias, seeded):
    s = seeded(db_alias, productos=0, facturas=0, alertas_existentes=False)
    report(db_alias)
    e = s["edges"]
    assert active(db_alias, productos_id=e["prod_d_13"]) == [
        ("verde", "Torta tres leches vence en 13 días - OK")
    ]
    assert (
        "roja",
        "Brazo de reina - STOCK BAJO: 5.001 unidades (mínimo: 8)",
    ) in active(db_alias, productos_id=e["prod_default_min_above"])


@pytest.mark.django_db(transaction=True, databases=["default", "mysql"])
def test_both_databases_give_the_same_alerts(seeded):
    """The same seed on SQLite and MariaDB, the same runs: the same rows, id for id."""
    from ventas.schema import create_schema

    results = {}
    for alias in ("default", "mysql"):
        create_schema(alias)
        seeded(alias, productos=400)
        report(alias)
        report(alias, fecha=HOY + dt.timedelta(days=3))
        results[alias] = snapshot(alias)
    assert results["default"] == results["mysql"]
    assert len(results["default"]) > 400


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, databases=["default", "mysql"])
def test_wrong_password_fails_clearly_without_showing_it():
    bad = dict(connections["mysql"].settings_dict, PASSWORD="not-the-password-8472")
    with extra_alias("wrongpw", bad), pytest.raises(CommandError) as info:
        call_command("generar_alertas", "--database=wrongpw", stdout=StringIO())
    message = str(info.value)
    assert "access denied" in message and "8472" not in message
    assert isinstance(info.value.__cause__, forneria_ops.AuthError)


def test_missing_table_and_unknown_alias_fail_clearly(db_alias):
    with connections[db_alias].cursor() as cur:
        cur.execute("DROP TABLE movimientos_inventario")
        cur.execute("DROP TABLE historial_merma")
        cur.execute("DROP TABLE alertas")
    with pytest.raises(CommandError, match="alertas") as info:
        run(db_alias)
    assert isinstance(info.value.__cause__, forneria_ops.SchemaError)
    with pytest.raises(CommandError, match="database alias 'nope' is not in DATABASES"):
        call_command("generar_alertas", "--database=nope", stdout=StringIO())
    row = EjecucionTarea.objects.get(tarea="generar_alertas", base_datos=db_alias)
    assert row.fallos == 1 and "alertas" in row.ultimo_error


def test_bad_date_is_refused_before_touching_data(db_alias, seeded):
    seeded(db_alias, productos=0, facturas=0)
    before = snapshot(db_alias)
    with pytest.raises(CommandError, match="not a date"):
        call_command("generar_alertas", f"--database={db_alias}", "--fecha=10/12/2025")
    assert snapshot(db_alias) == before


def test_rust_log_records_reach_python_logging(db_alias, seeded, caplog):
    seeded(db_alias, productos=0, facturas=0, alertas_existentes=False)
    with caplog.at_level(logging.INFO, logger="forneria_ops"):
        forneria_ops._core.reset_logging_cache()
        report(db_alias)
    records = [r for r in caplog.records if r.name.startswith("forneria_ops._core")]
    assert any(
        "generar_alertas on" in r.getMessage() and "created" in r.getMessage() for r in records
    )


# -- the shop's real data ---------------------------------------------------------------------


def active_in(settings_dict: dict) -> list[tuple[str, str]]:
    """Active alerts of a database outside the test's aliases, through its own connection."""
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
        cur.execute("SELECT tipo_alerta, mensaje FROM alertas WHERE estado = 'activa'")
        return sorted(cur.fetchall())
    finally:
        conn.close()


@pytest.mark.django_db(transaction=True, databases=["default", "mysql"])
def test_real_production_export(real_export):
    with extra_alias("export", real_export):
        out = StringIO()
        call_command(
            "generar_alertas", "--database=export", "--fecha=2025-12-10", "--json", stdout=out
        )
        data = json.loads(out.getvalue())
        # The shop's own code ran that morning: its five active alerts are exactly ours (pan
        # takes its FEFO lot, 2025-12-14; galleta 2025-12-12; pastel 1.000 under its minimum 2).
        expected = [
            ("roja", "Factura 1 de Amasandería VENCIDA hace 2 días - $29750.00"),
            ("roja", "galleta vence en 2 días - URGENTE"),
            ("roja", "pan vence en 4 días - URGENTE"),
            ("roja", "pastel chocolate - STOCK BAJO: 1.000 unidades (mínimo: 2)"),
            ("roja", "pastel chocolate vence en 5 días - URGENTE"),
        ]
        assert active_in(real_export) == expected
        assert (data["created"], data["updated"], data["resolved"], data["unchanged"]) == (
            0,
            0,
            0,
            5,
        )
        # The next day four texts move by a day, in place; stock is unchanged.
        nxt = StringIO()
        call_command(
            "generar_alertas", "--database=export", "--fecha=2025-12-11", "--json", stdout=nxt
        )
        data = json.loads(nxt.getvalue())
        assert (data["created"], data["updated"], data["resolved"]) == (0, 4, 0)
        assert ("roja", "pan vence en 3 días - URGENTE") in active_in(real_export)
