"""``manage.py generar_alertas``: bring the ``alertas`` table up to date, in one transaction."""

from __future__ import annotations

from forneria_ops import services
from forneria_ops.management.base import JobCommand

_KIND = {"expiry": "vencimiento", "low_stock": "stock_bajo", "invoice": "factura"}
_OBJECT = {"expiry": "producto", "low_stock": "producto", "invoice": "factura"}


class Command(JobCommand):
    help = (
        "Generate the shop's alerts (expiry by lot, low stock, supplier invoices due), update "
        "the ones whose text changed and resolve the ones whose condition ended. One transaction; "
        "concurrent runs wait for each other. Verbosity 2 lists every change and the products "
        "without an expiry date."
    )

    job = "generar_alertas"

    def run_job(self, **kwargs):
        return services.run_generar_alertas(**kwargs)

    def summary(self, report):
        return services.alert_summary(report)

    def show(self, report, *, database, verbosity, detail):
        if verbosity >= 1:
            self.print_summary(report, database)
        if detail:
            self.print_changes(report)
        if verbosity >= 2:
            for product in report["without_expiry"]:
                self.stdout.write(
                    f"  no expiry date: producto {product['id']} {product['name']} "
                    "(has stock; no lot or product date)"
                )
        if verbosity >= 3:
            t = report["timings"]
            self.stdout.write(
                f"read {report['products']} products, {report['invoices']} invoices, "
                f"{report['alerts_read']} alerts; lock {t['lock_ms']:.1f} ms, "
                f"read {t['read_ms']:.1f} ms, plan {t['plan_ms']:.1f} ms, "
                f"write {t['write_ms']:.1f} ms, total {t['total_ms']:.1f} ms"
            )

    def print_summary(self, report, database):
        c = report["counts"]
        head = (
            "generar_alertas (dry run, nothing written)" if report["dry_run"] else "generar_alertas"
        )
        self.stdout.write(
            f"{head}: {report['today']} on {database} ({report['vendor']} {report['database']})"
        )
        self.stdout.write(
            f"  created {report['created']}, updated {report['updated']}, "
            f"resolved {report['resolved']}, unchanged {report['unchanged']}, "
            f"kept ignored {report['suppressed']}, without expiry date "
            f"{len(report['without_expiry'])}"
        )
        self.stdout.write(
            f"  created or changed: roja {c['roja']}, amarilla {c['amarilla']}, "
            f"verde {c['verde']}, stock_bajo {c['stock_bajo']}, "
            f"facturas_vencidas {c['facturas_vencidas']}, total {c['total']}"
        )

    def print_changes(self, report):
        plan = report.get("plan") or {}
        for w in plan.get("create", []):
            self.stdout.write(
                f"  create  {self.describe(w['key'])}  [{w['colour']}] {w['message']}"
            )
        for u in plan.get("update", []):
            self.stdout.write(
                f"  update  {self.describe(u['key'])}  [{u['colour']}] {u['message']}"
                f"  (was [{u['old_colour']}] {u['old_message']})"
            )
        for r in plan.get("resolve", []):
            self.stdout.write(
                f"  resolve {self.describe(r['key'])}  alerta {r['id']} ({r['reason']}): "
                f"{r['message']}"
            )

    @staticmethod
    def describe(key):
        return f"{_KIND[key['kind']]} {_OBJECT[key['kind']]} {key['object']}"
