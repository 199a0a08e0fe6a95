"""Settings of the demo shop: the bakery's app (``ventas``) with forneria-ops installed.

The way a shop installs the sidecar: ``"forneria_ops"`` above its own app in INSTALLED_APPS (so
its commands take over the old ``generar_alertas``/``verificar_vencimientos``), and nothing else.
The database is SQLite, Django's default, in ``demo/var/``.
"""

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

SECRET_KEY = "demo-only-not-a-secret"
DEBUG = True
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
USE_TZ = True
TIME_ZONE = "America/Santiago"
LANGUAGE_CODE = "es-cl"

INSTALLED_APPS = [
    "forneria_ops",
    "ventas",
    "django.contrib.contenttypes",
    "django.contrib.auth",
]
ROOT_URLCONF = "tienda.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / "forneria.sqlite3",
    }
}

EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = "forneria-ops@localhost"

# forneria-ops settings: the defaults, spelled out (see forneria_ops/conf.py).
FORNERIA_OPS = {
    "EXPIRY_RED_DAYS": 13,
    "EXPIRY_YELLOW_DAYS": 29,
    "DEFAULT_MIN_STOCK": 5,
    "BACKUP_DIR": VAR_DIR / "backups",
    "LOG_DIRS": [VAR_DIR / "logs"],
    "NOTIFY_EMAILS": ["encargado@forneria.example"],
}
(VAR_DIR / "logs").mkdir(exist_ok=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        # The shop's log file: mantener_logs never touches a handler's live file.
        "file": {"class": "logging.FileHandler", "filename": VAR_DIR / "logs" / "forneria.log"},
    },
    "loggers": {"forneria_ops": {"handlers": ["console", "file"], "level": "WARNING"}},
}
