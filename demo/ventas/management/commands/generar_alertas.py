"""The shop's old ``generar_alertas`` command, calling the legacy ORM rules.

forneria_ops sits above ventas in INSTALLED_APPS, so its own ``generar_alertas`` is the one
manage.py runs; this one exists so a test can prove that takeover, and so the old behaviour can
be run on purpose (``ventas.legacy``) by importing it directly.
"""

from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS

from ventas.legacy import generar_alertas_automaticas


class Command(BaseCommand):
    help = "Genera alertas automáticas de vencimiento, stock bajo y facturas (versión antigua)."

    def add_arguments(self, parser):
        parser.add_argument("--verbose", action="store_true", help="muestra el detalle")
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="alias de base de datos (solo en el arnés de pruebas)",
        )

    def handle(self, *args, **options):
        conteo = generar_alertas_automaticas(using=options["database"])
        self.stdout.write(f"Alertas generadas: {conteo['total']}")
        if options["verbose"]:
            self.stdout.write(f"  Rojas: {conteo['roja']}")
            self.stdout.write(f"  Amarillas: {conteo['amarilla']}")
            self.stdout.write(f"  Verdes: {conteo['verde']}")
            self.stdout.write(f"  Stock bajo: {conteo['stock_bajo']}")
            self.stdout.write(f"  Facturas: {conteo['facturas_vencidas']}")
