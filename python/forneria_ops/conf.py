"""Settings: ``settings.FORNERIA_OPS``, a dict whose keys override these defaults.

Every key is documented here and checked at start-up by :mod:`forneria_ops.checks`, so a typo
shows up in ``manage.py check`` instead of at 6 a.m. in a cron log.
"""

from __future__ import annotations

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
}

_INT_KEYS = (
    "EXPIRY_RED_DAYS",
    "EXPIRY_YELLOW_DAYS",
    "INVOICE_RED_DAYS",
    "INVOICE_YELLOW_DAYS",
    "DEFAULT_MIN_STOCK",
)
_SECONDS_KEYS = ("COMMAND_LOCK_WAIT", "API_LOCK_WAIT")


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
    states = user.get("INVOICE_STATES", DEFAULTS["INVOICE_STATES"])
    if isinstance(states, str) or not all(isinstance(s, str) for s in states) or not states:
        found.append(
            (
                "FORNERIA_OPS['INVOICE_STATES'] must be a non-empty list of estado_pago values",
                f"got {states!r}",
            )
        )
    return found
