"""manage.py seed_forneria: fill the shop's tables with deterministic generated data.

Used by the demo and the benchmarks to build a shop of any size for a chosen "today".
"""

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from ventas.schema import create_schema
from ventas.seed import seed


def _fecha(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"invalid --fecha {value!r}: expected YYYY-MM-DD") from None


class Command(BaseCommand):
    help = (
        "Empty the shop's tables (productos, lotes, alertas, ...) on a database and fill them "
        "with deterministic bakery data, including every alert edge case for --fecha."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--productos", type=int, default=200, help="products to create (default: 200)"
        )
        parser.add_argument(
            "--lotes-por-producto",
            type=int,
            default=10,
            help="average lots per product (default: 10)",
        )
        parser.add_argument(
            "--facturas", type=int, default=None, help="supplier invoices (default: productos/5)"
        )
        parser.add_argument(
            "--fecha",
            "--today",
            dest="fecha",
            default=None,
            help="the day the data is built around, YYYY-MM-DD (default: today, local time)",
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help=f"database alias (default: {DEFAULT_DB_ALIAS})",
        )
        parser.add_argument(
            "--create-schema",
            action="store_true",
            help="drop and create the tables first (default: expect them to exist)",
        )
        parser.add_argument(
            "--sin-alertas",
            action="store_true",
            help="do not create the pre-existing alerts the shop's code leaves behind",
        )

    def handle(self, *args, **options):
        alias = options["database"]
        if alias not in connections:
            raise CommandError(f"unknown database alias {alias!r}; see settings.DATABASES")
        if options["productos"] < 0 or options["lotes_por_producto"] < 0:
            raise CommandError("--productos and --lotes-por-producto must not be negative")
        hoy = _fecha(options["fecha"]) if options["fecha"] else timezone.localdate()
        started = time.monotonic()
        if options["create_schema"]:
            create_schema(alias)
        counts = seed(
            alias,
            productos=options["productos"],
            lotes_por_producto=options["lotes_por_producto"],
            facturas=options["facturas"],
            hoy=hoy,
            seed=options["seed"],
            alertas_existentes=not options["sin_alertas"],
        )
        elapsed = time.monotonic() - started
        tables = " ".join(f"{k}={v}" for k, v in counts.items() if k not in ("edges", "hoy"))
        self.stdout.write(f"seeded {alias} for {hoy.isoformat()}: {tables} in {elapsed:.1f} s")
