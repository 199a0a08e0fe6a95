"""Create and empty the shop's tables on a Django database alias.

Why not migrations: the shop's models are unmanaged and its tables come from SQL scripts; these
functions play that role for tests, the demo and benchmarks. The SQL lives beside this module in
``schema/mysql.sql`` and ``schema/sqlite.sql`` (the directory has no ``__init__``; this module is
what ``import ventas.schema`` finds).
"""

from __future__ import annotations

from pathlib import Path

from django.db import connections, transaction

SCHEMA_DIR = Path(__file__).with_name("schema")

# Parents before children: the order to create and fill; reverse it to drop or empty.
TABLES = [
    "categorias",
    "nutricional",
    "proveedor",
    "productos",
    "factura_proveedor",
    "detalle_factura_proveedor",
    "lotes",
    "alertas",
    "historial_merma",
    "movimientos_inventario",
]

_SQL_FILES = {"mysql": "mysql.sql", "sqlite": "sqlite.sql"}


def schema_sql(vendor: str) -> str:
    """The DDL script for a Django vendor name ('mysql' or 'sqlite')."""
    try:
        name = _SQL_FILES[vendor]
    except KeyError:
        raise ValueError(
            f"no ventas schema for database vendor {vendor!r}; supported: mysql, sqlite"
        ) from None
    return (SCHEMA_DIR / name).read_text(encoding="utf-8")


def create_schema(alias: str = "default") -> None:
    """Drop the shop's tables on ``alias`` if they exist and create them empty."""
    connection = connections[alias]
    statements = connection.ops.prepare_sql_script(schema_sql(connection.vendor))
    if connection.vendor == "sqlite":
        # One transaction: a half-created schema is never left behind.
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    else:
        # MySQL DDL commits implicitly; nothing to gain from a transaction.
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def truncate_all(alias: str = "default") -> None:
    """Empty every table of the schema and restart their ids at 1, ignoring foreign keys."""
    connection = connections[alias]
    qn = connection.ops.quote_name
    if connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
            try:
                for table in reversed(TABLES):
                    cursor.execute(f"TRUNCATE TABLE {qn(table)}")
            finally:
                cursor.execute("SET FOREIGN_KEY_CHECKS = 1")
    elif connection.vendor == "sqlite":
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            for table in reversed(TABLES):
                cursor.execute(f"DELETE FROM {qn(table)}")
            placeholders = ", ".join(["%s"] * len(TABLES))
            cursor.execute(f"DELETE FROM sqlite_sequence WHERE name IN ({placeholders})", TABLES)
    else:
        raise ValueError(
            f"no ventas schema for database vendor {connection.vendor!r}; supported: mysql, sqlite"
        )
