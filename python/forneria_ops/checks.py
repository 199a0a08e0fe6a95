"""Django system checks: wrong settings and unsupported databases fail ``manage.py check``."""

from __future__ import annotations

import sqlite3

from django.core import checks
from django.db import connections

from forneria_ops import _core, conf


def _sqlite_copies_differ() -> bool:
    return sqlite3.sqlite_version != _core.sqlite_version()


@checks.register()
def check_settings(app_configs=None, **kwargs):
    return [
        checks.Error(message, hint=hint, id=f"forneria_ops.E{index:03d}")
        for index, (message, hint) in enumerate(conf.problems(), start=1)
        if index < 100
    ]


@checks.register(checks.Tags.database)
def check_databases(app_configs=None, databases=None, **kwargs):
    """Every database forneria-ops may be pointed at must be MySQL/MariaDB or an SQLite file."""
    errors = []
    for alias in databases or []:
        settings_dict = connections[alias].settings_dict
        vendor = connections[alias].vendor
        if vendor not in ("mysql", "sqlite"):
            errors.append(
                checks.Warning(
                    f"database {alias!r} ({vendor}) is not supported by forneria-ops",
                    hint="forneria-ops works with MySQL/MariaDB and SQLite.",
                    id="forneria_ops.W101",
                )
            )
        elif vendor == "sqlite" and _sqlite_copies_differ():
            errors.append(
                checks.Warning(
                    f"database {alias!r}: Python's sqlite3 uses SQLite {sqlite3.sqlite_version}, "
                    f"the forneria-ops engine SQLite {_core.sqlite_version()}",
                    hint="Two SQLite copies in one process do not see each other's locks. Build "
                    "forneria-ops against the SQLite library Python uses (pip install . on this "
                    "machine does), or run its commands from cron rather than from views.",
                    id="forneria_ops.W103",
                )
            )
        elif vendor == "sqlite" and str(settings_dict.get("NAME", "")) in ("", ":memory:"):
            errors.append(
                checks.Warning(
                    f"database {alias!r} is an in-memory SQLite database",
                    hint="forneria-ops opens the database file itself; NAME must be a path.",
                    id="forneria_ops.W102",
                )
            )
    return errors
