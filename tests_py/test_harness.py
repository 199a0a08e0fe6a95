"""Tests of the test harness itself: the throwaway server, the shop's schema, seed and legacy.

Everything else in tests_py stands on these pieces, so they are checked against real databases
(MariaDB and SQLite), with exact values wherever the domain defines them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

import MySQLdb
import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.db import connections
from django.db.models import Sum
from support.mariadb import MariaDBUnavailable, ThrowawayMariaDB
from ventas.legacy import generar_alertas_automaticas
from ventas.models import (
    Alertas,
    FacturaProveedor,
    HistorialMerma,
    Lotes,
    Productos,
    Proveedor,
)
from ventas.schema import TABLES, create_schema, schema_sql, truncate_all

HOY = date(2025, 12, 10)
MARIADB_PY = Path(__file__).with_name("support") / "mariadb.py"


def dias(n: int) -> date:
    return HOY + timedelta(days=n)


def fefo(alias: str, producto_id: int) -> date | None:
    """The first-expiring active lot with stock: what the shop sells first."""
    lote = (
        Lotes.objects.using(alias)
        .filter(productos_id=producto_id, estado="activo", cantidad__gt=0)
        .order_by("fecha_caducidad", "fecha_recepcion")
        .first()
    )
    return lote.fecha_caducidad if lote else None


def activas(alias: str, **filtro) -> list[str]:
    return sorted(
        Alertas.objects.using(alias)
        .filter(estado="activa", **filtro)
        .values_list("mensaje", flat=True)
    )


# -- the throwaway server -----------------------------------------------------------------------


@pytest.mark.mariadb
def test_password_user_connects_over_tcp_and_socket(mariadb_server):
    tcp = mariadb_server.connect()
    sock = mariadb_server.connect(tcp=False)
    try:
        cur = tcp.cursor()
        cur.execute("SELECT CURRENT_USER(), @@port, @@character_set_server, @@time_zone")
        assert cur.fetchone() == (
            "forneria@127.0.0.1",
            mariadb_server.port,
            "utf8mb4",
            "+00:00",
        )
        cur = sock.cursor()
        cur.execute("SELECT CURRENT_USER()")
        assert cur.fetchone() == ("forneria@localhost",)
    finally:
        tcp.close()
        sock.close()
    assert mariadb_server.port != 3306
    assert mariadb_server.host == "127.0.0.1"


@pytest.mark.mariadb
def test_wrong_password_and_passwordless_root_over_tcp_are_refused(mariadb_server):
    with pytest.raises(MySQLdb.OperationalError) as wrong:
        MySQLdb.connect(
            host=mariadb_server.host,
            port=mariadb_server.port,
            user=mariadb_server.user,
            password=mariadb_server.password + "x",
        )
    assert wrong.value.args[0] == 1045
    with pytest.raises(MySQLdb.OperationalError) as root:
        MySQLdb.connect(host=mariadb_server.host, port=mariadb_server.port, user="root")
    assert root.value.args[0] in (1045, 1130)


@pytest.mark.mariadb
def test_root_connect_create_and_drop_database(mariadb_server):
    name = mariadb_server.create_database("harness_tmp")
    conn = mariadb_server.root_connect()
    try:
        cur = conn.cursor()
        cur.execute(
            "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME "
            "FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
            [name],
        )
        assert cur.fetchone() == ("utf8mb4", "utf8mb4_spanish_ci")
        mariadb_server.drop_database(name)
        cur.execute(
            "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", [name]
        )
        assert cur.fetchone() == (0,)
    finally:
        conn.close()


@pytest.mark.mariadb
def test_binlog_is_on_for_the_session_server(mariadb_server):
    conn = mariadb_server.root_connect()
    try:
        cur = conn.cursor()
        cur.execute("SHOW MASTER STATUS")
        row = cur.fetchone()
    finally:
        conn.close()
    assert row is not None and row[0].startswith("binlog.") and row[1] > 0


@pytest.mark.mariadb
def test_client_cmd_runs_sql_without_a_password_on_argv(mariadb_server):
    cmd = mariadb_server.client_cmd()
    assert mariadb_server.password not in " ".join(cmd)
    assert not any(arg.startswith(("-p", "--password")) for arg in cmd)
    out = subprocess.run(
        [*cmd, "--batch", "--skip-column-names", "-e", "SELECT CURRENT_USER(), 'ñandú'"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split("\t") == ["root@localhost", "ñandú\n"]


@pytest.mark.django_db(databases=["mysql"])
def test_django_settings_entry_is_what_django_uses(mariadb_server):
    entry = mariadb_server.django_settings("x")
    assert entry["ENGINE"] == "django.db.backends.mysql"
    assert (entry["HOST"], entry["PORT"]) == ("127.0.0.1", str(mariadb_server.port))
    assert mariadb_server.django_settings("x", via_socket=True)["HOST"] == mariadb_server.socket
    with connections["mysql"].cursor() as cur:
        cur.execute("SELECT CURRENT_USER(), DATABASE(), @@character_set_connection")
        assert cur.fetchone() == ("forneria@127.0.0.1", "test_forneria", "utf8mb4")


@pytest.mark.mariadb
def test_from_env_attaches_and_never_stops_or_kills(mariadb_server):
    attached = ThrowawayMariaDB.from_env(mariadb_server.env())
    assert attached is not None and not attached.owned
    conn = attached.connect()
    conn.close()
    attached.stop()
    with pytest.raises(RuntimeError, match="refusing to kill a shared server"):
        attached.kill()
    assert mariadb_server.running
    assert ThrowawayMariaDB.from_env({}) is None


@pytest.mark.mariadb
def test_dedicated_server_kill_restart_stop(mariadb_server):
    """kill() is a crash: committed rows survive a restart; stop() leaves nothing behind."""
    server = ThrowawayMariaDB(binlog=False).start()
    tmpdir, port = server.tmpdir, server.port
    try:
        db = server.create_database("crash")
        conn = server.connect(db)
        conn.cursor().execute("CREATE TABLE t (id INT PRIMARY KEY) ENGINE=InnoDB")
        conn.cursor().execute("INSERT INTO t VALUES (1), (2)")
        conn.commit()
        server.kill()
        assert not server.running
        with pytest.raises(MySQLdb.OperationalError):
            conn.cursor().execute("SELECT 1")
        with pytest.raises(MySQLdb.OperationalError):
            server.connect(connect_timeout=2)
        server.restart()
        assert server.port == port
        again = server.connect(db)
        cur = again.cursor()
        cur.execute("SELECT COUNT(*) FROM t")
        assert cur.fetchone() == (2,)
        again.close()
    finally:
        server.stop()
    assert not tmpdir.exists() and not server.running


@pytest.mark.mariadb
def test_server_that_cannot_start_says_why_and_cleans_up(mariadb_server):
    server = ThrowawayMariaDB(extra_args=["--no-such-option-forneria"])
    with pytest.raises(MariaDBUnavailable, match="no-such-option-forneria") as info:
        server.start()
    assert "did not start" in str(info.value)
    assert server.tmpdir is None and not server.running


@pytest.mark.mariadb
def test_cli_run_passes_the_server_and_the_exit_code(mariadb_server, tmp_path):
    child = (
        "import os, sys, MySQLdb\n"
        "e = os.environ\n"
        "c = MySQLdb.connect(host=e['FORNERIA_TEST_MYSQL_HOST'],"
        " port=int(e['FORNERIA_TEST_MYSQL_PORT']), user=e['FORNERIA_TEST_MYSQL_USER'],"
        " password=e['FORNERIA_TEST_MYSQL_PASSWORD'])\n"
        "cur = c.cursor(); cur.execute('SELECT @@log_bin'); assert cur.fetchone() == (1,)\n"
        "print(e['FORNERIA_TEST_MYSQL_SOCKET'])\n"
        "sys.exit(7)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORNERIA_TEST_MYSQL_")}
    result = subprocess.run(
        [sys.executable, str(MARIADB_PY), "run", "--", sys.executable, "-c", child],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 7, result.stderr
    socket_path = Path(result.stdout.strip())
    assert socket_path.name == "mysqld.sock"
    assert not socket_path.parent.exists()  # server stopped, directory removed


# -- the shop's schema --------------------------------------------------------------------------


def test_schema_creates_every_table(db_alias):
    connection = connections[db_alias]
    with connection.cursor() as cur:
        existing = set(connection.introspection.table_names(cur))
    assert set(TABLES) <= existing
    for model in (Productos, Lotes, Alertas, FacturaProveedor, HistorialMerma, Proveedor):
        assert model.objects.using(db_alias).count() == 0


@pytest.mark.django_db(transaction=True, databases=["mysql"])
def test_mysql_schema_types_and_indexes():
    create_schema("mysql")
    with connections["mysql"].cursor() as cur:
        cur.execute(
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT "
            "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"
        )
        cols = {(t, c): (ty, n, d) for t, c, ty, n, d in cur.fetchall()}
        cur.execute(
            "SELECT TABLE_NAME, ENGINE, TABLE_COLLATION FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN %s",
            [TABLES],
        )
        tables = cur.fetchall()
        cur.execute(
            "SELECT INDEX_NAME, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) "
            "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_NAME = 'lotes' GROUP BY INDEX_NAME"
        )
        lot_indexes = dict(cur.fetchall())
    assert len(tables) == len(TABLES)
    assert {(e, c) for _, e, c in tables} == {("InnoDB", "utf8mb4_spanish_ci")}
    assert cols["productos", "cantidad"] == ("decimal(10,3)", "NO", "0.000")
    assert cols["productos", "precio"][:2] == ("decimal(10,2)", "NO")
    assert cols["productos", "caducidad"] == ("date", "YES", "NULL")
    assert cols["productos", "stock_minimo"] == ("int(11)", "YES", "NULL")
    assert cols["productos", "eliminado"] == ("timestamp", "YES", "NULL")
    assert cols["lotes", "fecha_caducidad"][:2] == ("date", "NO")
    assert cols["lotes", "estado"][0] == "enum('activo','agotado','vencido','en_merma')"
    assert cols["alertas", "fecha_generada"] == ("timestamp", "YES", "current_timestamp()")
    assert cols["alertas", "estado"] == ("varchar(20)", "YES", "'activa'")
    assert cols["alertas", "tipo_alerta"][0] == "enum('verde','amarilla','roja')"
    assert cols["factura_proveedor", "estado_pago"][0] == (
        "enum('pendiente','pagado','parcial','atrasado','cancelado')"
    )
    assert lot_indexes["idx_productos_estado"] == "productos_id,estado"
    assert lot_indexes["idx_fecha_caducidad"] == "fecha_caducidad"


@pytest.mark.django_db(transaction=True)
def test_sqlite_schema_keeps_indexes_and_foreign_keys():
    create_schema("default")
    with connections["default"].cursor() as cur:
        cur.execute("PRAGMA index_list(lotes)")
        names = {row[1] for row in cur.fetchall()}
        cur.execute("PRAGMA index_info(idx_productos_estado)")
        columns = [row[2] for row in cur.fetchall()]
        cur.execute("PRAGMA foreign_key_list(alertas)")
        fks = {(row[2], row[3], row[6]) for row in cur.fetchall()}
        cur.execute("PRAGMA foreign_keys")
        enforced = cur.fetchone()[0]
    assert {"idx_productos_estado", "idx_fecha_caducidad", "lotes_idx_estado"} <= names
    assert columns == ["productos_id", "estado"]
    assert fks == {
        ("productos", "productos_id", "NO ACTION"),
        ("factura_proveedor", "factura_proveedor_id", "CASCADE"),
    }
    assert enforced == 1


@pytest.mark.mariadb
def test_mysql_schema_matches_the_production_export(real_export, mariadb_server):
    """Our DDL against the shop's real one, column by column and index by index."""
    ours = mariadb_server.create_database("harness_schema")
    try:
        sql = schema_sql("mysql").encode()
        subprocess.run(mariadb_server.client_cmd(ours), input=sql, check=True, capture_output=True)
        conn = mariadb_server.root_connect()
        cur = conn.cursor()

        def describe(schema):
            cur.execute(
                "SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE, "
                "COLUMN_DEFAULT, COLLATION_NAME, EXTRA FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = %s AND TABLE_NAME IN %s",
                [schema, TABLES],
            )
            columns = set(cur.fetchall())
            cur.execute(
                "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, "
                "GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) "
                "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s "
                "AND TABLE_NAME IN %s GROUP BY TABLE_NAME, INDEX_NAME, NON_UNIQUE",
                [schema, TABLES],
            )
            indexes = set(cur.fetchall())
            cur.execute(
                "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, "
                "r.UPDATE_RULE, r.DELETE_RULE FROM information_schema.KEY_COLUMN_USAGE k "
                "JOIN information_schema.REFERENTIAL_CONSTRAINTS r "
                "ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA "
                "AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
                "WHERE k.TABLE_SCHEMA = %s AND k.TABLE_NAME IN %s",
                [schema, TABLES],
            )
            return columns, indexes, set(cur.fetchall())

        try:
            ours_cols, ours_idx, ours_fk = describe(ours)
            real_cols, real_idx, real_fk = describe(real_export["NAME"])
        finally:
            conn.close()
        assert ours_cols == real_cols
        assert ours_idx == real_idx
        assert ours_fk == real_fk
    finally:
        mariadb_server.drop_database(ours)


@pytest.mark.mariadb
def test_real_export_loads(real_export):
    conn = MySQLdb.connect(
        host=real_export["HOST"],
        port=int(real_export["PORT"]),
        user=real_export["USER"],
        password=real_export["PASSWORD"],
        database=real_export["NAME"],
        charset="utf8mb4",
    )
    try:
        cur = conn.cursor()
        cur.execute(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
        )
        assert cur.fetchone() == (28,)
        cur.execute("SELECT COUNT(*) FROM productos WHERE eliminado IS NULL")
        assert cur.fetchone()[0] > 0
        cur.execute("SELECT cantidad FROM lotes ORDER BY id LIMIT 1")
        assert isinstance(cur.fetchone()[0], Decimal)
    finally:
        conn.close()


def test_truncate_all_empties_and_restarts_ids(db_alias, seeded):
    seeded(db_alias, productos=40, lotes_por_producto=3)
    truncate_all(db_alias)
    for model in (Productos, Lotes, Alertas, FacturaProveedor):
        assert model.objects.using(db_alias).count() == 0
    create = Proveedor.objects.using(db_alias).create(nombre="Nueva")
    assert create.pk == 1


# -- seed ---------------------------------------------------------------------------------------


def test_seed_places_every_product_edge(db_alias, seeded):
    result = seeded(db_alias)
    e = result["edges"]
    p = {x.pk: x for x in Productos.objects.using(db_alias).all()}
    assert result["productos"] == len(p) == 200
    assert result["lotes"] == Lotes.objects.using(db_alias).count()

    for d, name in [(-1, "minus_1"), (0, "0"), (13, "13"), (14, "14"), (29, "29"), (30, "30")]:
        sin, con = p[e[f"prod_d_{name}"]], p[e[f"prod_lots_d_{name}"]]
        assert sin.caducidad == dias(d) and sin.cantidad > sin.stock_minimo
        assert not Lotes.objects.using(db_alias).filter(productos=sin).exists()
        assert con.caducidad == dias(d) == fefo(db_alias, con.pk)
        assert con.estado_merma == sin.estado_merma == "activo"
        assert con.eliminado is None and sin.eliminado is None

    mixed = p[e["prod_mixed_lots"]]
    assert mixed.caducidad == dias(20)
    assert fefo(db_alias, mixed.pk) == dias(-2)
    zero_active = Lotes.objects.using(db_alias).get(pk=e["lot_mixed_zero_active"])
    assert (zero_active.estado, zero_active.cantidad) == ("activo", Decimal("0.000"))
    assert zero_active.fecha_caducidad == dias(-4)
    assert Lotes.objects.using(db_alias).filter(productos=mixed, estado="agotado").count() == 2

    nul = p[e["prod_null_caducidad"]]
    assert nul.caducidad is None and nul.cantidad > 0 and nul.estado_merma == "activo"
    eq = p[e["prod_stock_eq_min"]]
    assert eq.cantidad == eq.stock_minimo == 7
    dflt = p[e["prod_default_min_eq"]]
    assert (dflt.stock_minimo, dflt.cantidad) == (None, Decimal("5.000"))
    above = p[e["prod_default_min_above"]]
    assert (above.stock_minimo, above.cantidad) == (None, Decimal("5.001"))
    assert p[e["prod_zero_stock"]].cantidad == Decimal("0.000")
    assert p[e["prod_fractional_low"]].cantidad == Decimal("2.500")
    assert p[e["prod_deleted"]].eliminado is not None
    assert p[e["prod_inactivo"]].estado_merma == "inactivo"
    assert p[e["prod_vencido"]].estado_merma == "vencido"
    merma = p[e["prod_en_merma"]]
    assert (merma.estado_merma, merma.caducidad, merma.cantidad) == ("en_merma", None, 0)
    assert merma.cantidad_merma > 0 and merma.fecha_merma is not None
    assert HistorialMerma.objects.using(db_alias).filter(producto=merma, activo=True).count() == 1
    assert p[e["prod_emoji"]].nombre == "Torta de cumpleaños 🎂"
    assert p[e["prod_vencio_duplicados"]].nombre == 'Torta "Selva Negra"'
    assert p[e["prod_quote"]].nombre == "Galletón 'Don Ñico'"


def test_seed_places_every_invoice_edge(db_alias, seeded):
    e = seeded(db_alias)["edges"]
    f = {x.pk: x for x in FacturaProveedor.objects.using(db_alias).all()}
    assert len(f) == 40
    for d, name in [(-1, "minus_1"), (0, "0"), (7, "7"), (8, "8"), (30, "30"), (31, "31")]:
        for estado, prefix in (("pendiente", "inv"), ("parcial", "inv_parcial")):
            factura = f[e[f"{prefix}_d_{name}"]]
            assert (factura.fecha_vencimiento, factura.estado_pago) == (dias(d), estado)
            assert factura.eliminado is None
    assert f[e["inv_pagado"]].estado_pago == "pagado"
    assert f[e["inv_cancelado"]].estado_pago == "cancelado"
    assert f[e["inv_atrasado"]].estado_pago == "atrasado"
    assert f[e["inv_deleted"]].eliminado is not None
    assert f[e["inv_null_vencimiento"]].fecha_vencimiento is None
    assert f[e["inv_d_minus_1"]].total_con_iva == Decimal("29750.00")
    nombres = set(Proveedor.objects.using(db_alias).values_list("nombre", flat=True))
    assert {"Molinos del Ñuble Ltda.", "Frutícola O'Higgins"} <= nombres


def test_seed_leaves_the_alerts_the_buggy_app_leaves(db_alias, seeded):
    e = seeded(db_alias)["edges"]
    a = {x.pk: x for x in Alertas.objects.using(db_alias).all()}
    assert a[e["alert_ignorada"]].estado == "ignorada"
    ignorada = a[e["alert_ignorada"]]
    assert ignorada.mensaje == "Marraqueta vence en 1 días - URGENTE"
    assert (ignorada.tipo_alerta, ignorada.productos_id) == ("roja", e["prod_d_0"])
    assert a[e["alert_manual"]].mensaje == "Revisar cadena de frío de la vitrina"
    dups = [a[e[k]] for k in ("alert_vencio_dup_a", "alert_vencio_dup_b", "alert_vencio_dup_c")]
    assert [x.mensaje for x in dups] == [
        'Torta "Selva Negra" YA VENCIÓ hace 3 días',
        'Torta "Selva Negra" YA VENCIÓ hace 3 días',
        'Torta "Selva Negra" YA VENCIÓ hace 4 días',
    ]
    assert {x.estado for x in dups} == {"activa"}
    pagada = a[e["alert_stale_inv_pagado"]]
    assert (pagada.estado, pagada.factura_proveedor_id) == ("activa", e["inv_pagado"])
    assert a[e["alert_stale_prod_deleted"]].productos_id == e["prod_deleted"]
    assert a[e["alert_stale_zero_stock"]].productos_id == e["prod_zero_stock"]
    assert a[e["alert_resuelta"]].estado == "resuelta"
    assert a[e["alert_update_colour"]].tipo_alerta == "verde"
    assert a[e["alert_unchanged_stock"]].mensaje == (
        "Chilenito - STOCK BAJO: 7.000 unidades (mínimo: 7)"
    )
    # fecha_generada is a real aware UTC datetime on both backends.
    assert a[e["alert_manual"]].fecha_generada.utcoffset() == timedelta(0)


def test_seed_stock_is_the_sum_of_active_lots(db_alias, seeded):
    seeded(db_alias, productos=300, lotes_por_producto=6)
    sums = dict(
        Lotes.objects.using(db_alias)
        .filter(estado="activo")
        .values("productos_id")
        .annotate(s=Sum("cantidad"))
        .values_list("productos_id", "s")
    )
    con_lotes = set(Lotes.objects.using(db_alias).values_list("productos_id", flat=True))
    productos = Productos.objects.using(db_alias).all()
    for producto in productos:
        if producto.pk in con_lotes:
            assert producto.cantidad == sums.get(producto.pk, Decimal("0.000")), producto.pk
    sin_lotes = len(productos) - len(con_lotes)
    assert 0.05 * len(productos) < sin_lotes < 0.2 * len(productos)
    assert Lotes.objects.using(db_alias).filter(cantidad=Decimal("2.500")).exists() or (
        Lotes.objects.using(db_alias).exclude(cantidad__endswith="000").exists()
    )
    sin_minimo = Productos.objects.using(db_alias).filter(stock_minimo__isnull=True).count()
    assert 0.04 * len(productos) < sin_minimo < 0.2 * len(productos)
    estados = set(Lotes.objects.using(db_alias).values_list("estado", flat=True))
    assert estados == {"activo", "agotado", "vencido", "en_merma"}


def test_seed_bulk_spreads_over_every_band(db_alias, seeded):
    seeded(db_alias, productos=600, lotes_por_producto=4)
    fechas = Lotes.objects.using(db_alias).values_list("fecha_caducidad", flat=True)
    offsets = {(f - HOY).days for f in fechas}
    assert min(offsets) >= -20 and max(offsets) <= 90
    for lo, hi in [(-20, -1), (0, 13), (14, 29), (30, 90)]:
        assert any(lo <= d <= hi for d in offsets), (lo, hi)
    fracciones = (
        Lotes.objects.using(db_alias).filter(cantidad__gt=0).values_list("cantidad", flat=True)
    )
    assert any(c != c.to_integral_value() for c in fracciones)


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True, databases=["default", "mysql"])
def test_seed_writes_the_same_rows_on_both_backends(seeded):
    """Same arguments, same rows: tests may compare engine results across backends."""
    rows = {}
    for alias in ("default", "mysql"):
        create_schema(alias)
        seeded(alias, productos=120, lotes_por_producto=5, seed=7)
        rows[alias] = {
            "productos": list(
                Productos.objects.using(alias)
                .order_by("pk")
                .values_list("pk", "nombre", "caducidad", "cantidad", "stock_minimo", "eliminado")
            ),
            "lotes": list(
                Lotes.objects.using(alias)
                .order_by("pk")
                .values_list(
                    "pk", "productos_id", "cantidad", "fecha_caducidad", "estado", "fecha_recepcion"
                )
            ),
            "alertas": list(
                Alertas.objects.using(alias)
                .order_by("pk")
                .values_list("pk", "tipo_alerta", "mensaje", "estado", "fecha_generada")
            ),
            "facturas": list(
                FacturaProveedor.objects.using(alias)
                .order_by("pk")
                .values_list("pk", "numero_factura", "fecha_vencimiento", "total_con_iva")
            ),
        }
    assert rows["default"] == rows["mysql"]


def test_seed_is_deterministic_and_depends_on_the_seed(db_alias, seeded):
    def snapshot():
        return list(
            Lotes.objects.using(db_alias).order_by("pk").values_list("cantidad", "fecha_caducidad")
        )

    seeded(db_alias, productos=80, lotes_por_producto=4, seed=3)
    first = snapshot()
    seeded(db_alias, productos=80, lotes_por_producto=4, seed=3)
    assert snapshot() == first
    seeded(db_alias, productos=80, lotes_por_producto=4, seed=4)
    assert snapshot() != first


def test_seed_command_prints_one_line(db_alias):
    out = StringIO()
    call_command(
        "seed_forneria",
        "--productos=60",
        "--lotes-por-producto=3",
        "--fecha=2025-12-10",
        f"--database={db_alias}",
        "--create-schema",
        stdout=out,
    )
    text = out.getvalue()
    assert text.count("\n") == 1
    assert text.startswith(f"seeded {db_alias} for 2025-12-10: categorias=6 ")
    assert " productos=60 " in text
    assert Productos.objects.using(db_alias).count() == 60


# -- legacy rules -------------------------------------------------------------------------------


def test_legacy_rules_on_every_edge(db_alias, seeded):
    e = seeded(db_alias, productos=0, facturas=0)["edges"]  # the edges alone
    conteo = generar_alertas_automaticas(HOY, using=db_alias)
    assert conteo == {
        "roja": 8,
        "amarilla": 6,
        "verde": 7,
        "stock_bajo": 4,
        "facturas_vencidas": 12,
        "total": 37,
    }

    def prod(key):
        return activas(db_alias, productos_id=e[key])

    assert prod("prod_d_minus_1") == ["Pan amasado YA VENCIÓ hace 1 días"]
    assert prod("prod_d_0") == ["Marraqueta vence en 0 días - URGENTE"]
    assert prod("prod_d_13") == ["Torta tres leches vence en 13 días - URGENTE"]
    assert prod("prod_d_14") == ["Kuchen de nuez vence en 14 días - PRECAUCIÓN"]
    assert prod("prod_d_29") == ["Pan de pascua vence en 29 días - PRECAUCIÓN"]
    assert prod("prod_d_30") == ["Galletas de mantequilla vence en 30 días - OK"]
    assert prod("prod_lots_d_minus_1") == ["Hallulla YA VENCIÓ hace 1 días"]
    # Legacy reads productos.caducidad only: the expired active lot is invisible to it.
    assert prod("prod_mixed_lots") == ["Pan de molde integral vence en 20 días - PRECAUCIÓN"]
    assert prod("prod_null_caducidad") == []
    assert prod("prod_stock_eq_min") == [
        "Chilenito - STOCK BAJO: 7.000 unidades (mínimo: 7)",
        "Chilenito vence en 60 días - OK",
        "Revisar cadena de frío de la vitrina",
    ]
    assert prod("prod_default_min_eq") == [
        "Cachitos de manjar - STOCK BAJO: 5.000 unidades (mínimo: 5)",
        "Cachitos de manjar vence en 45 días - OK",
    ]
    assert prod("prod_default_min_above") == ["Brazo de reina vence en 45 días - OK"]
    assert prod("prod_fractional_low") == [
        "Pan de centeno - STOCK BAJO: 2.500 unidades (mínimo: 3)",
        "Pan de centeno vence en 40 días - OK",
    ]
    assert prod("prod_all_lots_agotado") == ["Medialuna - STOCK BAJO: 0.000 unidades (mínimo: 3)"]
    assert prod("prod_emoji") == ["Torta de cumpleaños 🎂 vence en 20 días - PRECAUCIÓN"]
    assert prod("prod_quote") == ["Galletón 'Don Ñico' vence en 10 días - URGENTE"]
    # Bug 3: stale alerts stay active.
    assert prod("prod_zero_stock") == [
        "Dobladita - STOCK BAJO: 0.000 unidades (mínimo: 4)",
        "Dobladita vence en 4 días - URGENTE",
    ]
    assert prod("prod_deleted") == ["Pan de ajo vence en 3 días - URGENTE"]
    assert prod("prod_en_merma") == ["Calzones rotos vence en 2 días - URGENTE"]
    assert prod("prod_inactivo") == prod("prod_vencido") == []
    # Restocked: its low-stock alert is resolved.
    assert prod("prod_restocked") == ["Queque marmoleado vence en 50 días - OK"]

    alertas = {x.pk: x for x in Alertas.objects.using(db_alias).all()}
    # Updated in place, same row.
    assert alertas[e["alert_update_colour"]].tipo_alerta == "amarilla"
    assert alertas[e["alert_update_message"]].mensaje.startswith("Kuchen de nuez vence en 14")
    assert alertas[e["alert_stock_to_resolve"]].estado == "resuelta"
    assert alertas[e["alert_ignorada"]].estado == "ignorada"

    def factura(key):
        return activas(db_alias, factura_proveedor_id=e[key])

    assert factura("inv_d_minus_1") == [
        "Factura 1001 de Molinos del Ñuble Ltda. VENCIDA hace 1 días - $29750.00"
    ]
    assert factura("inv_d_0") == ["Factura 1002 de Lácteos Río Bueno vence en 0 días - $32725.00"]
    assert factura("inv_d_7") == ["Factura 1003 de Harinera Concepción vence en 7 días - $35700.00"]
    assert alertas[e["alert_inv_update"]].tipo_alerta == "roja"  # was amarilla yesterday
    tipos = {
        k: Alertas.objects.using(db_alias)
        .get(estado="activa", factura_proveedor_id=e[k])
        .tipo_alerta
        for k in ("inv_d_0", "inv_d_7", "inv_d_8", "inv_d_30", "inv_d_31", "inv_parcial_d_31")
    }
    assert tipos == {
        "inv_d_0": "roja",
        "inv_d_7": "roja",
        "inv_d_8": "amarilla",
        "inv_d_30": "amarilla",
        "inv_d_31": "verde",
        "inv_parcial_d_31": "verde",
    }
    # Paid, cancelled and deleted invoices: no new alert, the stale one stays (bug 3).
    assert factura("inv_pagado") == [alertas[e["alert_stale_inv_pagado"]].mensaje]
    assert factura("inv_atrasado") == factura("inv_null_vencimiento") == []


def test_legacy_duplicates_expired_alerts_on_every_run(db_alias, seeded):
    e = seeded(db_alias, productos=0, facturas=0)["edges"]
    generar_alertas_automaticas(HOY, using=db_alias)
    segunda = generar_alertas_automaticas(HOY, using=db_alias)
    # Only the 'YA VENCIÓ' alerts are re-created: their text lacks 'vence'.
    assert segunda == {
        "roja": 3,
        "amarilla": 0,
        "verde": 0,
        "stock_bajo": 0,
        "facturas_vencidas": 0,
        "total": 3,
    }
    assert (
        activas(db_alias, productos_id=e["prod_d_minus_1"])
        == ["Pan amasado YA VENCIÓ hace 1 días"] * 2
    )
    assert activas(db_alias, productos_id=e["prod_vencio_duplicados"]) == [
        'Torta "Selva Negra" YA VENCIÓ hace 3 días',
        'Torta "Selva Negra" YA VENCIÓ hace 3 días',
        'Torta "Selva Negra" YA VENCIÓ hace 4 días',
        'Torta "Selva Negra" YA VENCIÓ hace 5 días',
        'Torta "Selva Negra" YA VENCIÓ hace 5 días',
    ]


def test_legacy_runs_on_bulk_data_without_crashing(db_alias, seeded):
    seeded(db_alias, productos=300, lotes_por_producto=4)
    assert (
        Productos.objects.using(db_alias)
        .filter(
            caducidad__isnull=True, cantidad__gt=0, estado_merma="activo", eliminado__isnull=True
        )
        .exists()
    )
    conteo = generar_alertas_automaticas(HOY, using=db_alias)
    assert conteo["total"] == sum(v for k, v in conteo.items() if k != "total") > 0


def test_old_generar_alertas_command_is_overridden_by_forneria_ops(db_alias, seeded):
    """forneria_ops is above ventas in INSTALLED_APPS, so its command takes over the shop's."""
    assert get_commands()["generar_alertas"] == "forneria_ops"
    # The shop's command is still there and runs the legacy rules.
    seeded(db_alias, productos=0, facturas=0)
    command = load_command_class("ventas", "generar_alertas")
    out = StringIO()
    call_command(command, "--verbose", f"--database={db_alias}", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Alertas generadas: ")
    assert len(lines) == 6 and all(line.isascii() for line in lines)
