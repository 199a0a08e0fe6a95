"""``manage.py verificar_vencimientos``: move expired stock to waste, exactly, in one run."""

from __future__ import annotations

from forneria_ops import services
from forneria_ops.management.base import JobCommand

_OUTCOME = {
    "lots_expired": "keeps stock",
    "wasted_after_lots": "moved to waste (no stock left after its lots expired)",
    "wasted_without_lots": "moved to waste (no lots; its date passed)",
}
_ALERT_KIND = {"expiry": "vencimiento", "low_stock": "stock_bajo", "invoice": "factura"}


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


class Command(JobCommand):
    help = (
        "Move expired stock to waste: every active lot with stock whose date is before today "
        "goes to 'vencido' with one historial_merma row and one 'salida' movement (origen "
        "merma), its product's stock drops by as much, and products left without stock - or "
        "without lots and past their date - go to 'en_merma'. Alerts about that stock are "
        "resolved. One transaction; concurrent runs wait for each other; a second run the "
        "same day changes nothing. Verbosity 2 lists every lot, product and alert."
    )

    job = "verificar_vencimientos"

    def run_job(self, **kwargs):
        return services.run_verificar_vencimientos(**kwargs)

    def summary(self, report):
        return services.vencimientos_summary(report)

    def show(self, report, *, database, verbosity, detail):
        if verbosity >= 1:
            self.print_summary(report, database)
        if detail:
            self.print_changes(report)
        if verbosity >= 3:
            t = report["timings"]
            self.stdout.write(
                f"read {report['expired_lots_read']} expired lots, {report['products_read']} "
                f"candidate products, {report['later_lots_read']} later lots, "
                f"{report['alerts_read']} open alerts; lock {t['lock_ms']:.1f} ms, "
                f"read {t['read_ms']:.1f} ms, plan {t['plan_ms']:.1f} ms, "
                f"verify {t['verify_ms']:.1f} ms, write {t['write_ms']:.1f} ms, "
                f"commit {t['commit_ms']:.1f} ms, total {t['total_ms']:.1f} ms"
                + (f"; started over {report['retries']} time(s)" if report["retries"] else "")
            )

    def print_summary(self, report, database):
        name = self.__class__.__module__.rsplit(".", 1)[-1]
        head = f"{name} (dry run, nothing written)" if report["dry_run"] else name
        self.stdout.write(
            f"{head}: {report['today']} on {database} ({report['vendor']} {report['database']})"
        )
        self.stdout.write(
            f"  lots expired {report['lots_expired']}, products that kept stock "
            f"{report['products_updated']}, products moved to waste {report['products_wasted']}, "
            f"history rows {report['history_rows']}, alerts resolved {report['alerts_resolved']}"
        )
        self.stdout.write(f"  quantity wasted {report['quantity']}, value lost ${report['value']}")

    def print_changes(self, report):
        plan = report.get("plan") or {}
        for lot in plan.get("lots", []):
            number = lot["number"] or "sin número"
            self.stdout.write(
                f"  lote {lot['lot_id']} {number} of producto {lot['product_id']} "
                f"{lot['product_name']}: expired {lot['expiry']} "
                f"({_days(lot['days_expired'])} ago), "
                f"{lot['quantity']} x ${lot['unit_price']} = ${lot['value']}"
            )
        for c in plan.get("products", []):
            line = (
                f"  producto {c['product_id']} {c['name']}: {_OUTCOME[c['outcome']]}; "
                f"cantidad {c['quantity_before']} -> {c['quantity_after']}, "
                f"caducidad {c['expiry_before'] or '-'} -> {c['expiry_after'] or '-'}, "
                f"wasted {c['wasted']} x ${c['unit_price']} = ${c['value']}"
            )
            self.stdout.write(line)
        for a in plan.get("resolve", []):
            self.stdout.write(
                f"  resolve alerta {a['id']} ({_ALERT_KIND[a['kind']]}, {a['reason']}): "
                f"{a['message']}"
            )
