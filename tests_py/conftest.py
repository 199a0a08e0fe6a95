"""Shared fixtures: one throwaway MariaDB per run, both databases, the shop's schema and data.

How MariaDB is provided:
- under ``python tests_py/support/mariadb.py run -- pytest ...`` the suite attaches to that
  server (``FORNERIA_TEST_MYSQL_*``), so cargo tests and pytest share one;
- otherwise the first collection that needs MariaDB starts a private server (binlog on, fast
  flushing) and the end of the session stops it.
A test needs MariaDB when it carries the ``mariadb`` mark, uses ``mariadb_server`` or
``real_export``, or asks pytest-django for the ``mysql`` database. If the server cannot start,
those tests are skipped with the reason - unless ``FORNERIA_OPS_REQUIRE_DB=1`` (CI, the README's
test command), where the session stops with the reason instead of passing on skips.

Tests that touch the shop's tables take ``db_alias`` ('sqlite' or 'mariadb'): a transactional
test (no wrapping transaction, since the engine writes through its own connections) with the
tables freshly created on that alias. ``seeded(alias, ...)`` fills them.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from datetime import date
from pathlib import Path

import pytest
from pytest_django.fixtures import validate_django_db
from support.mariadb import ThrowawayMariaDB

REPO = Path(__file__).resolve().parents[1]
EXPORT_NAME = "forneria_produccion_2025-12.sql"
DEFAULT_HOY = date(2025, 12, 10)
MYSQL_ALIAS = "mysql"
DJANGO_MYSQL_NAME = "forneria"

# The django-health-check integration is tested where the package is installed (./dev puts it in
# the Django 5.2 virtualenv; its v4 does not support Django 4.2); elsewhere
# test_ops_health_check_absent.py runs instead. Not collected rather than skipped: no skips.
try:
    import health_check.base  # noqa: F401
except ImportError:
    collect_ignore = ["test_ops_health_check_contrib.py"]
else:
    collect_ignore = ["test_ops_health_check_absent.py"]

_SERVER = pytest.StashKey[ThrowawayMariaDB]()
_UNAVAILABLE = pytest.StashKey[str]()


def _require_db() -> bool:
    return os.environ.get("FORNERIA_OPS_REQUIRE_DB", "") not in ("", "0")


def export_path() -> Path | None:
    """The shop's production export, if this checkout has it (it is reference data only)."""
    candidates = []
    if os.environ.get("FORNERIA_PRODUCTION_EXPORT"):
        candidates.append(Path(os.environ["FORNERIA_PRODUCTION_EXPORT"]))
    candidates += [
        REPO.parent / "shared" / "forneria" / EXPORT_NAME,
        Path("/work/shared/forneria") / EXPORT_NAME,
    ]
    return next((p for p in candidates if p.is_file()), None)


# -- deciding who needs MariaDB ---------------------------------------------------------------


def _django_databases(item: pytest.Item):
    cls = getattr(item, "cls", None)
    if cls is not None and hasattr(cls, "databases"):
        return cls.databases
    marker = item.get_closest_marker("django_db")
    if marker is None:
        return ()
    return validate_django_db(marker)[2] or ()


def _needs_mariadb(item: pytest.Item) -> bool:
    if item.get_closest_marker("mariadb") is not None:
        return True
    names = getattr(item, "fixturenames", ())
    if "mariadb_server" in names:
        return True
    if "real_export" in names and export_path() is not None:
        return True
    databases = _django_databases(item)
    return databases == "__all__" or MYSQL_ALIAS in databases


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "mariadb: needs the throwaway MariaDB server (deselect with -m 'not mariadb')"
    )


def pytest_itemcollected(item: pytest.Item) -> None:
    # Marked here, before -m filtering, so that -m "not mariadb" deselects these too.
    if item.get_closest_marker("mariadb") is None and _needs_mariadb(item):
        item.add_marker(pytest.mark.mariadb)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items) -> None:
    """Start (or attach to) MariaDB once, only if a selected test needs it."""
    needing = [item for item in items if item.get_closest_marker("mariadb") is not None]
    if not needing or config.option.collectonly:
        return
    server = None
    try:
        server = ThrowawayMariaDB.from_env_or_start(binlog=True)
        server.create_database(DJANGO_MYSQL_NAME, exist_ok=True)
    except Exception as exc:  # MariaDBUnavailable, OSError, or the driver's own errors
        if server is not None:
            server.stop()
        reason = f"mariadb unavailable: {exc}"
        if _require_db():
            pytest.exit(f"{reason} (FORNERIA_OPS_REQUIRE_DB=1, so this is a failure)", 1)
        config.stash[_UNAVAILABLE] = reason
        skip = pytest.mark.skip(reason=reason)
        for item in needing:
            item.add_marker(skip)
        # Nothing will use the alias now; dropping it keeps pytest-django from creating its
        # test database on a server that is not there.
        from django.conf import settings

        settings.DATABASES.pop(MYSQL_ALIAS, None)
        return
    config.stash[_SERVER] = server


def pytest_sessionfinish(session: pytest.Session) -> None:
    server = session.config.stash.get(_SERVER, None)
    if server is not None:
        # Django keeps its connections open until exit; close them before the server goes.
        from django.db import connections

        connections.close_all()
        server.stop()


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mariadb_server(request: pytest.FixtureRequest) -> ThrowawayMariaDB:
    """The run's throwaway MariaDB (started or attached at collection)."""
    server = request.config.stash.get(_SERVER, None)
    if server is None:
        reason = request.config.stash.get(_UNAVAILABLE, "mariadb was not started")
        pytest.skip(reason)
    return server


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    request: pytest.FixtureRequest, django_db_modify_db_settings_parallel_suffix
) -> None:
    """Point the 'mysql' alias at the throwaway server before test databases are created."""
    server = request.config.stash.get(_SERVER, None)
    if server is None:
        return
    from django.conf import settings

    entry = settings.DATABASES[MYSQL_ALIAS]
    wanted = server.django_settings(entry.get("NAME") or DJANGO_MYSQL_NAME)
    # Update in place: django.db.connections holds this very dict.
    for key in ("ENGINE", "USER", "PASSWORD", "HOST", "PORT"):
        entry[key] = wanted[key]
    entry.setdefault("OPTIONS", {}).update(wanted["OPTIONS"])


_TRANSACTIONAL_SQLITE = pytest.mark.django_db(transaction=True, databases=["default"])
_TRANSACTIONAL_BOTH = pytest.mark.django_db(transaction=True, databases=["default", MYSQL_ALIAS])


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite", marks=_TRANSACTIONAL_SQLITE),
        pytest.param("mariadb", id="mariadb", marks=[pytest.mark.mariadb, _TRANSACTIONAL_BOTH]),
    ]
)
def db_alias(request: pytest.FixtureRequest) -> str:
    """The Django alias ('default' or 'mysql') with the shop's tables freshly created.

    Transactional on purpose: the engine reads and writes through its own connections, so the
    test must not hold an uncommitted transaction. The test must not add its own django_db mark
    (the closest mark wins, and it would replace this one).
    """
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not validate_django_db(marker)[0]:
        raise pytest.UsageError(
            f"{request.node.nodeid}: db_alias needs a transactional database; "
            "remove the test's own django_db mark"
        )
    from ventas.schema import create_schema

    alias = "default" if request.param == "sqlite" else MYSQL_ALIAS
    create_schema(alias)
    return alias


@pytest.fixture
def seeded():
    """``seeded(alias, hoy=date(2025, 12, 10), **kw)`` -> ``ventas.seed.seed(...)``'s result."""
    from ventas.seed import seed

    def _seed(alias: str, hoy: date = DEFAULT_HOY, **kw) -> dict:
        return seed(alias, hoy=hoy, **kw)

    return _seed


@pytest.fixture
def real_export(request: pytest.FixtureRequest):
    """The shop's production export loaded into a fresh database; yields its Django settings.

    The dict is a DATABASES entry for the password user; its NAME is the database. Loaded with
    the stock client as root over the socket, with no password on the command line.
    """
    path = export_path()
    if path is None:
        pytest.skip(
            f"optional reference file {EXPORT_NAME} not found (looked in ../shared/forneria/ "
            "and FORNERIA_PRODUCTION_EXPORT)"
        )
    server: ThrowawayMariaDB = request.getfixturevalue("mariadb_server")
    name = f"forneria_export_{uuid.uuid4().hex[:8]}"
    server.create_database(name)
    try:
        with path.open("rb") as sql:
            result = subprocess.run(
                server.client_cmd(name), stdin=sql, capture_output=True, timeout=300, check=False
            )
        if result.returncode != 0:
            err = result.stderr.decode("utf-8", "replace").strip()
            pytest.fail(f"loading {path} into {name} failed (exit {result.returncode}): {err}")
        yield server.django_settings(name)
    finally:
        server.drop_database(name)
