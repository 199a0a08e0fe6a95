"""Settings: ``settings.FORNERIA_OPS``, a dict whose keys override these defaults.

Every key is documented here and checked at start-up by :mod:`forneria_ops.checks`, so a typo
shows up in ``manage.py check`` instead of at 6 a.m. in a cron log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Alert bands (days until expiry / until an invoice is due), the app's values.
    "EXPIRY_RED_DAYS": 13,  # 0..13 days: roja (URGENTE)
    "EXPIRY_YELLOW_DAYS": 29,  # 14..29 days: amarilla (PRECAUCIÓN); 30+: verde (OK)
    "INVOICE_RED_DAYS": 7,  # 0..7 days: roja
    "INVOICE_YELLOW_DAYS": 30,  # 8..30 days: amarilla; 31+: verde
    # Minimum stock for products whose stock_minimo is NULL.
    "DEFAULT_MIN_STOCK": 5,
    # factura_proveedor.estado_pago values that still get due-date alerts (the app's choice).
    "INVOICE_STATES": ("pendiente", "parcial"),
    # Seconds a command waits for another run of the same job before giving up with an error.
    "COMMAND_LOCK_WAIT": 60,
    # Seconds the Python API (called from views on page loads) waits; 0 = never queue behind a
    # running job, return at once (the running job brings the data up to date).
    "API_LOCK_WAIT": 0,
    # --- Backups (backup_database, restore_database, listar_backups) ---
    # Where backups and their manifests go; None = BASE_DIR / "backups".
    "BACKUP_DIR": None,
    # Weekday of the full backup for --type auto (0 = Monday, the manuals' "Lunes 3AM").
    "BACKUP_FULL_WEEKDAY": 0,
    # Retention policy: newest backup of each of the last N days / ISO weeks / months is kept.
    "BACKUP_KEEP_DAILY": 7,
    "BACKUP_KEEP_WEEKLY": 4,
    "BACKUP_KEEP_MONTHLY": 12,
    # Columns that say when a row was created or last changed (differential backups).
    "BACKUP_AUDIT_COLUMNS": (
        "modificado",
        "creado",
        "fecha_actualizacion",
        "fecha_creacion",
        "updated_at",
        "created_at",
    ),
    # Reader/compressor threads (None = number of CPUs) and gzip level.
    "BACKUP_THREADS": None,
    "BACKUP_COMPRESS_LEVEL": 6,
    # Seconds to wait for the brief global read lock that starts all snapshots together; when it
    # runs out the dump falls back to one connection (still consistent, slower).
    "BACKUP_LOCK_WAIT": 5,
    # Who gets --notify mails; empty = settings.ADMINS.
    "NOTIFY_EMAILS": (),
    # --- Logs (mantener_logs) ---
    # Directories whose *.log files are rotated; empty = the directories of the file handlers
    # in settings.LOGGING.
    "LOG_DIRS": (),
    "LOG_COMPRESS_AFTER_DAYS": 7,
    "LOG_DELETE_AFTER_DAYS": 90,
    # --- Health (health_check, /health/) ---
    "HEALTH_DB_MAX_MS": 1000,
    "HEALTH_DISK_MIN_FREE_PERCENT": 10,
    "HEALTH_MEMORY_MAX_PERCENT": 90,
    "HEALTH_LOAD_MAX_PER_CPU": 2.0,
    "HEALTH_BACKUP_MAX_AGE_HOURS": 26,
    "HEALTH_ALERTS_MAX_AGE_HOURS": 26,
}

_INT_KEYS = (
    "EXPIRY_RED_DAYS",
    "EXPIRY_YELLOW_DAYS",
    "INVOICE_RED_DAYS",
    "INVOICE_YELLOW_DAYS",
    "DEFAULT_MIN_STOCK",
    "BACKUP_KEEP_DAILY",
    "BACKUP_KEEP_WEEKLY",
    "BACKUP_KEEP_MONTHLY",
    "LOG_COMPRESS_AFTER_DAYS",
    "LOG_DELETE_AFTER_DAYS",
    "HEALTH_DB_MAX_MS",
    "HEALTH_DISK_MIN_FREE_PERCENT",
    "HEALTH_MEMORY_MAX_PERCENT",
    "HEALTH_BACKUP_MAX_AGE_HOURS",
    "HEALTH_ALERTS_MAX_AGE_HOURS",
)
_SECONDS_KEYS = ("COMMAND_LOCK_WAIT", "API_LOCK_WAIT", "BACKUP_LOCK_WAIT")


def backup_dir() -> Path:
    """The directory backups are written to and listed from."""
    configured = get("BACKUP_DIR")
    if configured:
        return Path(configured)
    return Path(getattr(settings, "BASE_DIR", ".")) / "backups"


def notify_recipients() -> list[str]:
    """Addresses for --notify mails: NOTIFY_EMAILS, else the addresses in settings.ADMINS."""
    explicit = list(get("NOTIFY_EMAILS"))
    if explicit:
        return explicit
    return [a[1] if isinstance(a, (list, tuple)) else a for a in getattr(settings, "ADMINS", [])]


def user_settings() -> dict[str, Any]:
    value = getattr(settings, "FORNERIA_OPS", None)
    return dict(value) if isinstance(value, dict) else {}


def get(key: str) -> Any:
    """The effective value of one setting."""
    if key not in DEFAULTS:
        raise KeyError(f"unknown forneria-ops setting {key!r}")
    return user_settings().get(key, DEFAULTS[key])


def thresholds() -> dict[str, int]:
    """Alert thresholds in the engine's names."""
    return {
        "expiry_red_days": int(get("EXPIRY_RED_DAYS")),
        "expiry_yellow_days": int(get("EXPIRY_YELLOW_DAYS")),
        "invoice_red_days": int(get("INVOICE_RED_DAYS")),
        "invoice_yellow_days": int(get("INVOICE_YELLOW_DAYS")),
        "default_min_stock": int(get("DEFAULT_MIN_STOCK")),
    }


def problems() -> list[tuple[str, str]]:
    """(message, hint) for every setting that cannot work; used by the system checks."""
    found: list[tuple[str, str]] = []
    raw = getattr(settings, "FORNERIA_OPS", None)
    if raw is not None and not isinstance(raw, dict):
        return [("settings.FORNERIA_OPS must be a dict", "Use FORNERIA_OPS = {...}.")]
    user = user_settings()
    for key in sorted(set(user) - set(DEFAULTS)):
        found.append(
            (f"unknown key FORNERIA_OPS[{key!r}]", "Valid keys: " + ", ".join(sorted(DEFAULTS)))
        )
    for key in _INT_KEYS:
        value = user.get(key, DEFAULTS[key])
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            found.append((f"FORNERIA_OPS[{key!r}] must be a whole number >= 0", f"got {value!r}"))
    for key in _SECONDS_KEYS:
        value = user.get(key, DEFAULTS[key])
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            found.append((f"FORNERIA_OPS[{key!r}] must be seconds >= 0", f"got {value!r}"))
    if not found:
        t = thresholds()
        if t["expiry_yellow_days"] < t["expiry_red_days"]:
            found.append(("EXPIRY_YELLOW_DAYS is below EXPIRY_RED_DAYS", "Yellow must follow red."))
        if t["invoice_yellow_days"] < t["invoice_red_days"]:
            found.append(
                ("INVOICE_YELLOW_DAYS is below INVOICE_RED_DAYS", "Yellow must follow red.")
            )
    weekday = user.get("BACKUP_FULL_WEEKDAY", DEFAULTS["BACKUP_FULL_WEEKDAY"])
    if isinstance(weekday, bool) or weekday not in range(7):
        found.append(
            ("FORNERIA_OPS['BACKUP_FULL_WEEKDAY'] must be 0..6", f"0 = Monday; got {weekday!r}")
        )
    level = user.get("BACKUP_COMPRESS_LEVEL", DEFAULTS["BACKUP_COMPRESS_LEVEL"])
    if isinstance(level, bool) or level not in range(10):
        found.append(("FORNERIA_OPS['BACKUP_COMPRESS_LEVEL'] must be 0..9", f"got {level!r}"))
    threads = user.get("BACKUP_THREADS", DEFAULTS["BACKUP_THREADS"])
    if threads is not None and (
        isinstance(threads, bool) or not isinstance(threads, int) or threads < 1
    ):
        found.append(("FORNERIA_OPS['BACKUP_THREADS'] must be None or >= 1", f"got {threads!r}"))
    states = user.get("INVOICE_STATES", DEFAULTS["INVOICE_STATES"])
    if isinstance(states, str) or not all(isinstance(s, str) for s in states) or not states:
        found.append(
            (
                "FORNERIA_OPS['INVOICE_STATES'] must be a non-empty list of estado_pago values",
                f"got {states!r}",
            )
        )
    found += _ops_problems(user)
    return found


def _ops_problems(user: dict[str, Any]) -> list[tuple[str, str]]:
    """Logs, health and notification settings (mantener_logs, health_check, --notify)."""
    found: list[tuple[str, str]] = []
    load = user.get("HEALTH_LOAD_MAX_PER_CPU", DEFAULTS["HEALTH_LOAD_MAX_PER_CPU"])
    if isinstance(load, bool) or not isinstance(load, (int, float)) or load < 0:
        found.append(
            ("FORNERIA_OPS['HEALTH_LOAD_MAX_PER_CPU'] must be a number >= 0", f"got {load!r}")
        )
    for key in ("HEALTH_DISK_MIN_FREE_PERCENT", "HEALTH_MEMORY_MAX_PERCENT"):
        value = user.get(key, DEFAULTS[key])
        if isinstance(value, int) and not isinstance(value, bool) and value > 100:
            found.append((f"FORNERIA_OPS[{key!r}] is a percentage: 0..100", f"got {value!r}"))
    for key, what in (("LOG_DIRS", "directories"), ("NOTIFY_EMAILS", "addresses")):
        value = user.get(key, DEFAULTS[key])
        if isinstance(value, (str, Path)) or not isinstance(value, (list, tuple)):
            found.append(
                (
                    f"FORNERIA_OPS[{key!r}] must be a list of {what}",
                    f"got {value!r}; write [{value!r}] for one",
                )
            )
        elif not all(isinstance(v, (str, Path)) for v in value):
            found.append((f"FORNERIA_OPS[{key!r}] must be a list of {what}", f"got {value!r}"))
    return found
