"""Health checks shared by ``manage.py health_check`` and the ``/health/`` endpoints.

Each check returns a :class:`Result`: ``status`` is ``"ok"``, ``"fail"`` or ``"skipped"`` (not
measurable here, or switched off), with a one-line ``message`` and the measured ``data``. The
thresholds are ``FORNERIA_OPS["HEALTH_*"]``; an age limit of 0 switches that check off.

Components (:data:`CHECKS`):

* ``database``: connect and ``SELECT 1`` on the alias; fails on error or above
  ``HEALTH_DB_MAX_MS``;
* ``cache``: set, get and delete a random key on the default cache (skipped for DummyCache);
* ``disk``: free space where backups (``conf.backup_dir()``) and logs live; fails below
  ``HEALTH_DISK_MIN_FREE_PERCENT``;
* ``memory``: used memory (``/proc/meminfo``: total minus available); fails above
  ``HEALTH_MEMORY_MAX_PERCENT``;
* ``cpu``: 1-minute load average per CPU; fails above ``HEALTH_LOAD_MAX_PER_CPU``;
* ``backup``: age of the last good backup (``HistorialBackup``, estado ``ok``); fails when none
  or older than ``HEALTH_BACKUP_MAX_AGE_HOURS``;
* ``alerts``: age of the last successful ``generar_alertas`` run (``EjecucionTarea``); fails
  when none or older than ``HEALTH_ALERTS_MAX_AGE_HOURS``.

Notification state (``--notify``) lives in ``EjecucionTarea.resumen`` of the ``health_check``
task: the mail goes out when the set of failing components changes from empty to non-empty
(failure) or back (recovery), not on every run.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.utils import timezone

from forneria_ops import conf

OK, FAIL, SKIPPED = "ok", "fail", "skipped"


@dataclass
class Result:
    name: str
    status: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)
    ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _timed(name: str, fn: Callable[[], Result]) -> Result:
    t0 = time.perf_counter()
    try:
        result = fn()
    except Exception as exc:  # a check that breaks is a failing component, not a crash
        result = Result(name, FAIL, f"check raised {type(exc).__name__}: {exc}")
    result.ms = round((time.perf_counter() - t0) * 1000, 1)
    return result


def check_database(using: str = "default") -> Result:
    from django.db import connections

    limit = conf.get("HEALTH_DB_MAX_MS")
    t0 = time.perf_counter()
    try:
        conn = connections[using]
        conn.ensure_connection()
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
    except Exception as exc:
        return Result("database", FAIL, f"database {using!r} unreachable: {exc}", {"alias": using})
    ms = round((time.perf_counter() - t0) * 1000, 1)
    data = {"alias": using, "vendor": conn.vendor, "query_ms": ms, "max_ms": limit}
    if ms > limit:
        return Result("database", FAIL, f"{using}: SELECT 1 took {ms} ms (max {limit} ms)", data)
    return Result("database", OK, f"{using} ({conn.vendor}): SELECT 1 in {ms} ms", data)


def check_cache(alias: str = "default") -> Result:
    from django.core.cache import caches

    cache = caches[alias]
    backend = f"{type(cache).__module__}.{type(cache).__name__}"
    data: dict[str, Any] = {"alias": alias, "backend": backend}
    if type(cache).__name__ == "DummyCache":
        return Result("cache", SKIPPED, "DummyCache keeps nothing; not checked", data)
    key = f"forneria_ops:health:{uuid.uuid4().hex}"
    value = uuid.uuid4().hex
    t0 = time.perf_counter()
    try:
        cache.set(key, value, timeout=30)
        got = cache.get(key)
        cache.delete(key)
    except Exception as exc:
        return Result("cache", FAIL, f"cache {alias!r} ({backend}) failed: {exc}", data)
    data["round_trip_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    if got != value:
        return Result("cache", FAIL, f"cache {alias!r} did not return the value just set", data)
    return Result("cache", OK, f"{alias}: set/get in {data['round_trip_ms']} ms", data)


def _existing(p: Path) -> Path:
    p = p.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def watched_paths() -> dict[str, Path]:
    """Where backups and logs live (role -> directory)."""
    from forneria_ops import logs

    paths = {"backups": conf.backup_dir()}
    for i, d in enumerate(logs.configured_dirs()):
        paths[f"logs{i + 1 if i else ''}"] = d
    return paths


def check_disk() -> Result:
    limit = conf.get("HEALTH_DISK_MIN_FREE_PERCENT")
    seen: dict[int, dict[str, Any]] = {}
    for role, path in watched_paths().items():
        where = _existing(path)
        dev = os.stat(where).st_dev
        if dev in seen:
            seen[dev]["roles"].append(role)
            continue
        usage = shutil.disk_usage(where)
        seen[dev] = {
            "roles": [role],
            "path": str(path),
            "free_bytes": usage.free,
            "total_bytes": usage.total,
            "free_percent": round(usage.free * 100 / usage.total, 1) if usage.total else 0.0,
        }
    volumes = list(seen.values())
    low = [v for v in volumes if v["free_percent"] < limit]
    data = {"volumes": volumes, "min_free_percent": limit}
    text = ", ".join(f"{'+'.join(v['roles'])} {v['free_percent']}% free" for v in volumes)
    if low:
        return Result("disk", FAIL, f"low disk space: {text} (min {limit}%)", data)
    return Result("disk", OK, text, data)


def check_memory() -> Result:
    limit = conf.get("HEALTH_MEMORY_MAX_PERCENT")
    try:
        info = {}
        with open("/proc/meminfo") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                info[key] = int(rest.split()[0]) * 1024
        total, available = info["MemTotal"], info["MemAvailable"]
    except (OSError, KeyError, ValueError, IndexError):
        return Result("memory", SKIPPED, "memory not measurable here (no /proc/meminfo)")
    used = round((total - available) * 100 / total, 1)
    data = {
        "used_percent": used,
        "total_bytes": total,
        "available_bytes": available,
        "max_percent": limit,
    }
    if used > limit:
        return Result("memory", FAIL, f"memory {used}% used (max {limit}%)", data)
    return Result("memory", OK, f"{used}% used", data)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def check_cpu() -> Result:
    limit = float(conf.get("HEALTH_LOAD_MAX_PER_CPU"))
    try:
        load1, load5, load15 = os.getloadavg()
    except OSError:  # pragma: no cover
        return Result("cpu", SKIPPED, "load average not available here")
    cpus = _cpus()
    per_cpu = round(load1 / cpus, 2)
    data = {
        "load": [load1, load5, load15],
        "cpus": cpus,
        "load_per_cpu": per_cpu,
        "max_per_cpu": limit,
    }
    if per_cpu > limit:
        return Result("cpu", FAIL, f"load {load1:.2f} on {cpus} CPU(s) (max {limit}/CPU)", data)
    return Result("cpu", OK, f"load {load1:.2f} on {cpus} CPU(s)", data)


def _age_hours(when) -> float:
    return round((timezone.now() - when).total_seconds() / 3600, 1)


def check_backup(using: str = "default") -> Result:
    from forneria_ops.models import HistorialBackup

    limit = conf.get("HEALTH_BACKUP_MAX_AGE_HOURS")
    if not limit:
        return Result("backup", SKIPPED, "switched off (HEALTH_BACKUP_MAX_AGE_HOURS = 0)")
    last = (
        HistorialBackup.objects.filter(base_datos=using, estado=HistorialBackup.Estado.OK)
        .exclude(fin=None)
        .order_by("-fin")
        .first()
    )
    if last is None:
        return Result(
            "backup",
            FAIL,
            f"no good backup of {using!r} recorded (run backup_database)",
            {"alias": using, "max_age_hours": limit},
        )
    age = _age_hours(last.fin)
    data = {
        "alias": using,
        "last": last.fin.isoformat(),
        "file": last.archivo,
        "type": last.tipo,
        "age_hours": age,
        "max_age_hours": limit,
    }
    if age > limit:
        return Result("backup", FAIL, f"last good backup is {age} h old (max {limit} h)", data)
    return Result("backup", OK, f"last good backup {age} h ago ({last.tipo})", data)


def check_alerts(using: str = "default") -> Result:
    from forneria_ops.models import EjecucionTarea

    limit = conf.get("HEALTH_ALERTS_MAX_AGE_HOURS")
    if not limit:
        return Result("alerts", SKIPPED, "switched off (HEALTH_ALERTS_MAX_AGE_HOURS = 0)")
    run = EjecucionTarea.objects.filter(tarea="generar_alertas", base_datos=using).first()
    if run is None or run.ultimo_exito is None:
        return Result(
            "alerts",
            FAIL,
            f"generar_alertas never succeeded on {using!r}",
            {"alias": using, "max_age_hours": limit},
        )
    age = _age_hours(run.ultimo_exito)
    data = {
        "alias": using,
        "last": run.ultimo_exito.isoformat(),
        "age_hours": age,
        "max_age_hours": limit,
        "last_failed": not run.ultimo_ok,
    }
    if age > limit:
        return Result("alerts", FAIL, f"last alert run {age} h ago (max {limit} h)", data)
    return Result("alerts", OK, f"last alert run {age} h ago", data)


#: name -> check; the ones taking the database alias are in :data:`PER_DATABASE`.
CHECKS: dict[str, Callable[..., Result]] = {
    "database": check_database,
    "cache": check_cache,
    "disk": check_disk,
    "memory": check_memory,
    "cpu": check_cpu,
    "backup": check_backup,
    "alerts": check_alerts,
}
PER_DATABASE = {"database", "backup", "alerts"}


def run_checks(using: str = "default", only: list[str] | None = None) -> dict[str, Any]:
    """Every check (or ``only`` those); ``{"status": "ok"|"fail", "checked_at", "components"}``.

    ``backup`` and ``alerts`` read this app's tables; when the database is down they fail too,
    with the database error, which is the truth (nothing can be said about them).
    """
    names = only or list(CHECKS)
    results = []
    for name in names:
        fn = CHECKS[name]
        if name in PER_DATABASE:
            results.append(_timed(name, lambda fn=fn: fn(using)))
        else:
            results.append(_timed(name, fn))
    failing = [r.name for r in results if r.status == FAIL]
    return {
        "status": FAIL if failing else OK,
        "database": using,
        "checked_at": timezone.now().isoformat(),
        "failing": failing,
        "components": {r.name: r.as_dict() for r in results},
    }


def readiness(using: str = "default") -> dict[str, Any]:
    """``/ready/``: the database answers and every migration is applied."""
    from django.db import connections
    from django.db.migrations.executor import MigrationExecutor

    db = check_database(using)
    components = {"database": db.as_dict()}
    if db.status == OK:
        try:
            executor = MigrationExecutor(connections[using])
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
            pending = [f"{m.app_label}.{m.name}" for m, _ in plan]
            status = FAIL if pending else OK
            msg = f"{len(pending)} migration(s) not applied" if pending else "all applied"
            components["migrations"] = {
                "name": "migrations",
                "status": status,
                "message": msg,
                "data": {"pending": pending},
            }
        except Exception as exc:
            components["migrations"] = {
                "name": "migrations",
                "status": FAIL,
                "message": f"cannot read migrations: {exc}",
                "data": {},
            }
    failing = [n for n, c in components.items() if c["status"] == FAIL]
    return {
        "status": FAIL if failing else OK,
        "database": using,
        "failing": failing,
        "components": components,
    }


# -- notifications ------------------------------------------------------------------------------

STATE_TASK = "health_check"


def notify_transition(report: dict[str, Any], using: str = "default") -> str | None:
    """Mail on a change of state only: ``"failure"`` (was healthy or unknown, now failing) or
    ``"recovery"`` (was failing, now healthy); a change in *which* components fail while still
    failing also mails, as a failure. Returns what was sent, or None. The state is the
    ``failing`` list kept in ``EjecucionTarea.resumen`` of the ``health_check`` task."""
    from forneria_ops import services
    from forneria_ops.models import EjecucionTarea

    try:
        row = EjecucionTarea.objects.filter(tarea=STATE_TASK, base_datos=using).first()
        before = (row.resumen or {}).get("failing") if row is not None else None
    except Exception:  # the database itself is down: better a repeated mail than none
        before = None
    now_failing = report["failing"]
    kind = None
    if now_failing and sorted(before or []) != sorted(now_failing):
        kind = "failure"
    elif not now_failing and before:
        kind = "recovery"
    if kind is None:
        return None
    if kind == "failure":
        subject = f"[forneria-ops] health check FAILING: {', '.join(now_failing)}"
    else:
        subject = "[forneria-ops] health check recovered: all components ok"
    sent, _problem = services.send_notification(subject, format_text(report))
    if not sent:
        return None
    return kind


def format_text(report: dict[str, Any]) -> str:
    lines = [
        f"health: {report['status'].upper()} ({report['database']}, {report.get('checked_at', '')})"
    ]
    for name, c in report["components"].items():
        lines.append(f"  {c['status']:<7} {name:<9} {c['message']}")
    return "\n".join(lines)
