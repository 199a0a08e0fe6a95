"""Django glue shared by commands and views: alias -> engine settings, "today", "now", engine call.

Nothing here holds SQL: the engine owns every statement. This module only turns Django's view of
the world (``DATABASES``, time zone, ``FORNERIA_OPS``) into the engine's plain arguments.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DatabaseError, IntegrityError, connections, router
from django.db.models import F
from django.utils import timezone

from forneria_ops import _core, conf

logger = logging.getLogger("forneria_ops")

_ENGINE_KEYS = ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS")


def database_settings(using: str = "default") -> dict[str, Any]:
    """The ``DATABASES`` entry of ``using`` as Django resolved it (test runs included)."""
    if using not in connections.settings:
        raise _core.ConfigError(
            f"configuration: database alias {using!r} is not in DATABASES "
            f"(known: {', '.join(connections.settings)})"
        )
    settings_dict = connections[using].settings_dict
    return {key: settings_dict.get(key) for key in _ENGINE_KEYS}


def local_today(fecha: dt.date | str | None = None) -> dt.date:
    """The shop's today: ``--fecha`` when given, else ``timezone.localdate()``."""
    if fecha is None:
        return timezone.localdate()
    if isinstance(fecha, dt.datetime):
        return fecha.date()
    if isinstance(fecha, dt.date):
        return fecha
    try:
        return dt.date.fromisoformat(str(fecha))
    except ValueError:
        raise _core.ConfigError(f"configuration: {fecha!r} is not a date (YYYY-MM-DD)") from None


def database_now(using: str = "default") -> str:
    """Now, as Django itself would store it in a DateTimeField of this database.

    With ``USE_TZ`` that is UTC (or the database's ``TIME_ZONE``) without offset; without it,
    local time. Whole seconds: MySQL and MariaDB round fractions of a TIMESTAMP differently.
    """
    now = timezone.now().replace(microsecond=0)
    return str(connections[using].ops.adapt_datetimefield_value(now))


def run_generar_alertas(
    *,
    using: str = "default",
    fecha: dt.date | str | None = None,
    dry_run: bool = False,
    wait: float | None = None,
    detail: bool = False,
) -> dict[str, Any]:
    """One alert run through the engine; returns the engine's report dict.

    Raises a ``ForneriaOpsError`` subclass on failure (``LockBusyError`` when another run kept
    the lock for longer than ``wait`` seconds).
    """
    today = local_today(fecha)
    return _core.generar_alertas(
        database_settings(using),
        today=today.isoformat(),
        now=database_now(using),
        thresholds=conf.thresholds(),
        invoice_states=list(conf.get("INVOICE_STATES")),
        dry_run=dry_run,
        wait_seconds=float(conf.get("COMMAND_LOCK_WAIT") if wait is None else wait),
        detail=detail,
    )


def alert_summary(report: dict[str, Any]) -> dict[str, Any]:
    """The part of an alert report worth keeping in the run history."""
    keys = ("today", "created", "updated", "resolved", "unchanged", "suppressed")
    summary = {key: report[key] for key in keys}
    summary["counts"] = report["counts"]
    summary["without_expiry"] = len(report["without_expiry"])
    return summary


def run_verificar_vencimientos(
    *,
    using: str = "default",
    fecha: dt.date | str | None = None,
    dry_run: bool = False,
    wait: float | None = None,
    detail: bool = False,
) -> dict[str, Any]:
    """One expiry run through the engine (expired stock to waste); returns the report dict.

    Raises a ``ForneriaOpsError`` subclass on failure (``LockBusyError`` when another run kept
    the lock for longer than ``wait`` seconds, default ``COMMAND_LOCK_WAIT``).
    """
    today = local_today(fecha)
    return _core.verificar_vencimientos(
        database_settings(using),
        today=today.isoformat(),
        now=database_now(using),
        dry_run=dry_run,
        wait_seconds=float(conf.get("COMMAND_LOCK_WAIT") if wait is None else wait),
        detail=detail,
    )


def vencimientos_summary(report: dict[str, Any]) -> dict[str, Any]:
    """The part of an expiry report worth keeping in the run history."""
    keys = (
        "today",
        "lots_expired",
        "products_updated",
        "products_wasted",
        "history_rows",
        "alerts_resolved",
        "quantity",
        "value",
        "retries",
    )
    return {key: report[key] for key in keys}


def run_scan_vencimientos(
    *,
    using: str = "default",
    dias: int = 7,
    incluir_vencidos: bool = False,
    fecha: dt.date | str | None = None,
) -> dict[str, Any]:
    """Stock expiring within ``dias`` days, read-only; the engine's scan dict."""
    if isinstance(dias, bool) or not isinstance(dias, int):
        raise _core.ConfigError(f"configuration: dias must be a whole number, not {dias!r}")
    today = local_today(fecha)
    return _core.scan_vencimientos(
        database_settings(using),
        today=today.isoformat(),
        days=dias,
        include_expired=bool(incluir_vencidos),
    )


@contextmanager
def recorded(job: str, using: str = "default") -> Iterator[dict[str, Any]]:
    """Record the outcome of one job run in ``EjecucionTarea`` (admin, health check).

    The body may put a JSON-able ``summary`` into the yielded dict. A failure is recorded and
    re-raised; a failure to *record* is only logged, so bookkeeping never masks the job's own
    result. Set ``skip`` in the dict to record nothing (dry runs).
    """
    started = timezone.now()
    t0 = time.perf_counter()
    note: dict[str, Any] = {}
    try:
        yield note
    except BaseException as exc:  # SIGTERM/Ctrl-C (Interrupted, KeyboardInterrupt) included
        if not note.get("skip"):
            _save_run(job, using, started, t0, error=str(exc) or type(exc).__name__)
        raise
    if not note.get("skip"):
        _save_run(job, using, started, t0, summary=note.get("summary") or {})


def _save_run(job, using, started, t0, *, summary=None, error=None) -> None:
    from forneria_ops.models import EjecucionTarea

    now = timezone.now()
    fields: dict[str, Any] = {
        "ultimo_inicio": started,
        "ultimo_fin": now,
        "duracion_ms": round((time.perf_counter() - t0) * 1000, 1),
    }
    if error is None:
        fields.update(ultimo_exito=now, resumen=summary)
    else:
        fields.update(ultimo_fallo=now, ultimo_error=error[:4000])
    failed = 0 if error is None else 1
    db = router.db_for_write(EjecucionTarea)
    rows = EjecucionTarea.objects.using(db).filter(tarea=job, base_datos=using)
    try:
        if rows.update(**fields, ejecuciones=F("ejecuciones") + 1, fallos=F("fallos") + failed):
            return
        try:
            EjecucionTarea.objects.using(db).create(
                tarea=job, base_datos=using, ejecuciones=1, fallos=failed, **fields
            )
        except IntegrityError:  # another process created it meanwhile
            rows.update(**fields, ejecuciones=F("ejecuciones") + 1, fallos=F("fallos") + failed)
    except DatabaseError as exc:
        logger.warning(
            "could not record the %s run in forneria_ops_ejecuciontarea "
            "(run `manage.py migrate forneria_ops`?): %s",
            job,
            exc,
        )


def send_notification(subject: str, body: str) -> tuple[bool, str | None]:
    """Mail ``--notify`` results through Django's mail settings.

    Returns ``(sent, problem)``. A mail that cannot be sent never changes a job's outcome: the
    job's own exit status is what cron acts on, and the problem is printed and logged.
    """
    from django.core.mail import send_mail

    recipients = conf.notify_recipients()
    if not recipients:
        problem = "no recipients: set FORNERIA_OPS['NOTIFY_EMAILS'] or ADMINS"
        logger.warning("not mailing %r: %s", subject, problem)
        return False, problem
    try:
        send_mail(subject, body, None, recipients)
    except Exception as exc:  # SMTP errors, refused connections, bad settings
        logger.error("could not mail %r to %s: %s", subject, ", ".join(recipients), exc)
        return False, f"mail not sent: {exc}"
    return True, None
