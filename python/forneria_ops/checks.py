"""Django system checks: wrong settings and unsupported databases fail ``manage.py check``."""

from __future__ import annotations

from django.core import checks
from django.db import connections

from forneria_ops import conf


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
        elif vendor == "sqlite" and str(settings_dict.get("NAME", "")) in ("", ":memory:"):
            errors.append(
                checks.Warning(
                    f"database {alias!r} is an in-memory SQLite database",
                    hint="forneria-ops opens the database file itself; NAME must be a path.",
                    id="forneria_ops.W102",
                )
            )
    return errors
