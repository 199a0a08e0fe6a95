"""``manage.py mostrar_alertas``: the shop's alert list, as its dashboard shows it."""

from django.core.management.base import BaseCommand

from ventas.models import Alertas


class Command(BaseCommand):
    help = "List active alerts, most urgent first (the demo's window on the alertas table)."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=20)
        parser.add_argument("--database", default="default")

    def handle(self, *args, limit, database, **options):
        order = {"roja": 0, "amarilla": 1, "verde": 2}
        activas = list(Alertas.objects.using(database).filter(estado="activa"))
        activas.sort(key=lambda a: (order.get(a.tipo_alerta, 3), a.mensaje))
        counts = {color: 0 for color in order}
        for alerta in activas:
            counts[alerta.tipo_alerta] = counts.get(alerta.tipo_alerta, 0) + 1
        self.stdout.write(
            f"{len(activas)} active alerts: "
            + ", ".join(f"{color} {n}" for color, n in counts.items())
        )
        for alerta in activas[:limit]:
            self.stdout.write(f"  [{alerta.tipo_alerta:8}] {alerta.mensaje}")
        if len(activas) > limit:
            self.stdout.write(f"  ... and {len(activas) - limit} more")
