"""forneria-ops: maintenance sidecar for Django shops.

The public Python API, for views and scripts. Each function takes the Django database alias
(``using``) and does its work in the Rust engine with the GIL released.
"""

from __future__ import annotations

import datetime as dt
import logging

from forneria_ops._core import (
    AuthError,
    CancelledError,
    ConfigError,
    ConnectError,
    CorruptFileError,
    DatabaseError,
    DataError,
    DiskFullError,
    FileError,
    ForneriaOpsError,
    LockBusyError,
    SchemaError,
    UnknownDatabaseError,
    __version__,
    compress,
    decompress,
    verify,
)

__all__ = [
    "AuthError",
    "CancelledError",
    "ConfigError",
    "ConnectError",
    "CorruptFileError",
    "DataError",
    "DatabaseError",
    "DiskFullError",
    "FileError",
    "ForneriaOpsError",
    "LockBusyError",
    "SchemaError",
    "UnknownDatabaseError",
    "__version__",
    "compress",
    "decompress",
    "generar_alertas",
    "generar_alertas_informe",
    "scan_vencimientos",
    "verificar_vencimientos",
    "verify",
]

logger = logging.getLogger("forneria_ops")

#: The counters the app's ``Alertas.generar_alertas_automaticas()`` returns.
ALERT_COUNT_KEYS = ("roja", "amarilla", "verde", "stock_bajo", "facturas_vencidas", "total")


def generar_alertas(
    using: str = "default",
    *,
    fecha: dt.date | str | None = None,
    wait: float | None = None,
) -> dict[str, int]:
    """Drop-in for ``Alertas.generar_alertas_automaticas()``: brings ``alertas`` up to date.

    Returns the same dict the app's method returns — alerts created or changed, by colour,
    ``stock_bajo``, ``facturas_vencidas`` and ``total``. Safe on every page load: when another
    run holds the lock (cron, another request) this call does not queue behind it; it returns
    zeros at once (``FORNERIA_OPS["API_LOCK_WAIT"]``, default 0 s), because the running job is
    already bringing the table up to date. Other failures raise ``ForneriaOpsError``.
    """
    from forneria_ops import conf, services

    with services.recorded("generar_alertas", using) as run:
        try:
            report = services.run_generar_alertas(
                using=using, fecha=fecha, wait=conf.get("API_LOCK_WAIT") if wait is None else wait
            )
        except LockBusyError as exc:
            # Not a failure: the run holding the lock is doing this work right now.
            run["skip"] = True
            logger.info("generar_alertas skipped: %s", exc)
            return dict.fromkeys(ALERT_COUNT_KEYS, 0)
        # Page loads that find nothing to do are not worth a write each.
        run["skip"] = not (report["counts"]["total"] or report["resolved"])
        run["summary"] = services.alert_summary(report)
    return {key: report["counts"][key] for key in ALERT_COUNT_KEYS}


def generar_alertas_informe(
    using: str = "default",
    *,
    fecha: dt.date | str | None = None,
    dry_run: bool = False,
    wait: float | None = None,
    detail: bool = True,
) -> dict:
    """The full report of one run (or, with ``dry_run``, of what a run would do).

    Keys: ``counts`` (as :func:`generar_alertas`), ``created``, ``updated``, ``resolved``,
    ``unchanged``, ``suppressed``, ``without_expiry`` (products with stock and no date), ``plan``
    (every change, when ``detail``), ``timings``. Raises ``LockBusyError`` when another run keeps
    the lock longer than ``wait`` (default ``FORNERIA_OPS["COMMAND_LOCK_WAIT"]``).
    """
    from forneria_ops import services

    return services.run_generar_alertas(
        using=using, fecha=fecha, dry_run=dry_run, wait=wait, detail=detail
    )


def verificar_vencimientos(
    using: str = "default",
    *,
    fecha: dt.date | str | None = None,
    dry_run: bool = False,
    wait: float | None = None,
    detail: bool = False,
) -> dict:
    """Move expired stock to waste, in one transaction; the report of the run.

    Lots past their date go to ``vencido`` (one ``historial_merma`` row and one ``salida``
    movement each), their products' stock drops by as much, products left without stock and
    expired products without lots go to ``en_merma``, and the alerts about that stock are
    resolved. Keys: ``lots_expired``, ``products_updated`` (kept stock), ``products_wasted``,
    ``history_rows``, ``movements``, ``alerts_resolved``, ``quantity`` and ``value`` (exact
    decimals as strings), ``plan`` (every change, when ``detail``), ``timings``. With
    ``dry_run`` nothing is written. A second run the same day changes nothing. Raises
    ``LockBusyError`` when another run keeps the lock longer than ``wait`` (default
    ``FORNERIA_OPS["COMMAND_LOCK_WAIT"]``).
    """
    from forneria_ops import services

    with services.recorded("verificar_vencimientos", using) as run:
        run["skip"] = dry_run
        report = services.run_verificar_vencimientos(
            using=using, fecha=fecha, dry_run=dry_run, wait=wait, detail=detail
        )
        run["summary"] = services.vencimientos_summary(report)
    return report


def scan_vencimientos(
    dias: int = 7,
    incluir_vencidos: bool = False,
    using: str = "default",
    fecha: dt.date | str | None = None,
) -> dict:
    """Stock on sale expiring within ``dias`` days (today and the last day included); read-only.

    A drop-in for the app's ``api/proximos-vencimientos[-14|-30]`` views:
    ``JsonResponse(forneria_ops.scan_vencimientos(7))`` gives the same ``count`` and ``items``
    (with the app's ``id``, ``nombre``, ``caducidad``), ordered by date then name, one item per
    lot with stock (``lote_id``, ``numero_lote``) or per product without lots (those two None),
    plus ``dias_restantes``, ``cantidad``, ``precio_por_unidad_venta`` and ``valor`` (exact
    decimals as strings, as Django's JSON encoder writes a ``Decimal``), and ``hoy``, ``hasta``,
    ``valor_total``. ``incluir_vencidos`` also lists stock already past its date that no run has
    moved to waste yet (negative ``dias_restantes``).
    """
    from forneria_ops import services

    return services.run_scan_vencimientos(
        using=using, dias=dias, incluir_vencidos=incluir_vencidos, fecha=fecha
    )
