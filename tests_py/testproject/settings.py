"""Settings of the test project.

Why these choices:
- 'default' is a SQLite *file* in a per-process temporary directory, never ``:memory:``: the
  engine opens the database with its own connection and must see what Django wrote.
- 'mysql' points at a throwaway MariaDB. When ``tests_py/support/mariadb.py run`` started one,
  its ``FORNERIA_TEST_MYSQL_*`` variables are read here; otherwise ``conftest.py`` fills the entry
  in at session start. Nothing here ever points at the system server on :3306.
- forneria_ops comes before ventas so its management commands (generar_alertas, ...) take over
  the shop's ones, exactly as the shop will install it.
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import django

SECRET_KEY = "forneria-ops-tests-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

USE_TZ = True
TIME_ZONE = "America/Santiago"
LANGUAGE_CODE = "es-cl"
USE_I18N = False

INSTALLED_APPS = [
    "forneria_ops",
    "ventas",
    "django.contrib.contenttypes",
    "django.contrib.auth",
]
MIDDLEWARE = []
ROOT_URLCONF = "testproject.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_RUN_DIR = Path(tempfile.mkdtemp(prefix="forneria-testproject-"))
atexit.register(shutil.rmtree, _RUN_DIR, True)
RUN_DIR = _RUN_DIR

_ENV = "FORNERIA_TEST_MYSQL_"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(_RUN_DIR / "forneria.sqlite3"),
        "TEST": {"NAME": str(_RUN_DIR / "test_forneria.sqlite3")},
    },
    "mysql": {
        "ENGINE": "django.db.backends.mysql",
        "NAME": "forneria",
        "USER": os.environ.get(_ENV + "USER", ""),
        "PASSWORD": os.environ.get(_ENV + "PASSWORD", ""),
        "HOST": os.environ.get(_ENV + "HOST", ""),
        "PORT": os.environ.get(_ENV + "PORT", ""),
        "OPTIONS": {"charset": "utf8mb4"},
        "TEST": {
            "NAME": "test_forneria",
            "CHARSET": "utf8mb4",
            "COLLATION": "utf8mb4_spanish_ci",
        },
    },
}

# Mail stays in django.core.mail.outbox. Django 6.1 replaced EMAIL_BACKEND with MAILERS (the
# old name warns there); the suite runs on both sides of that change.
_LOCMEM_MAIL = "django.core.mail.backends.locmem.EmailBackend"
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": _LOCMEM_MAIL}}
else:
    EMAIL_BACKEND = _LOCMEM_MAIL
DEFAULT_FROM_EMAIL = "forneria-ops@localhost"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler", "level": "WARNING"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
STATIC_URL = "/static/"  # the live_server fixture serves static files under it
