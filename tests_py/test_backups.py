"""backup_database, restore_database and listar_backups on a real SQLite file and the throwaway
MariaDB: round trips compared table by table (CHECKSUM TABLE on MariaDB, every row on SQLite),
refusals of damaged files, history, mail, retention and signals.

The retention and kind tests build catalogues of manifests by hand on purpose: they test the
policy over dates that a real run cannot produce (backups from last month), not the engine.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import signal
import sqlite3
import subprocess
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.utils import timezone
from forneria_ops import backups
from forneria_ops.models import HistorialBackup
from support.aliases import extra_alias
from ventas.schema import TABLES

HOY = dt.date(2025, 12, 10)


def backup(alias: str, out: Path, *args: str) -> str:
    buf = StringIO()
    call_command("backup_database", f"--database={alias}", f"--output-dir={out}", *args, stdout=buf)
    return buf.getvalue()


def backup_json(alias: str, out: Path, *args: str) -> dict:
    return json.loads(backup(alias, out, "--json", *args))


def restore(alias: str, path: Path | str, *args: str) -> str:
    buf = StringIO()
    call_command("restore_database", str(path), f"--database={alias}", "--yes", *args, stdout=buf)
    return buf.getvalue()


def sqlite_rows(path: str | Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(str(path))
    try:
        return {t: con.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall() for t in TABLES}
    finally:
        con.close()


def mariadb_checksums(server, name: str) -> dict[str, int]:
    con = server.connect(name)
    try:
        cur = con.cursor()
        cur.execute("SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'")
        tables = [row[0] for row in cur.fetchall()]
        sums = {}
        for t in tables:
            cur.execute(f"CHECKSUM TABLE `{t}`")
            sums[t] = cur.fetchone()[1]
        return sums
    finally:
        con.close()


def source_state(alias: str, server=None, name: str | None = None):
    """What a restore must reproduce: every row (SQLite) or every table checksum (MariaDB)."""
    settings = connections[alias].settings_dict
    if connections[alias].vendor == "sqlite":
        return sqlite_rows(name or settings["NAME"])
    return mariadb_checksums(server, name or settings["NAME"])


def other_target(alias: str, tmp_path: Path) -> str:
    if connections[alias].vendor == "sqlite":
        return str(tmp_path / "restored.sqlite3")
    return "forneria_restored_" + os.urandom(3).hex()


@pytest.fixture
def server_if_mariadb(db_alias, request):
    return request.getfixturevalue("mariadb_server") if db_alias != "default" else None


# -- round trips ----------------------------------------------------------------------------


def test_backup_then_restore_into_another_database_is_identical(
    db_alias, seeded, tmp_path, server_if_mariadb
):
    seeded(db_alias, productos=300)
    out = tmp_path / "bk"
    report = backup_json(db_alias, out)
    m = report["manifest"]
    data, manifest_path = Path(m["file"]), Path(m["manifest_path"])
    assert data.parent == out.resolve() and manifest_path.exists()
    assert data.stat().st_mode & 0o777 == 0o600 and manifest_path.stat().st_mode & 0o777 == 0o600
    assert m["kind"] == "full" and m["tool"] == "forneria-ops"
    assert {t["name"] for t in m["tables"]} >= set(TABLES)
    # Leftovers of the atomic write: none.
    assert sorted(p.name for p in out.iterdir()) == sorted([data.name, manifest_path.name])
    # The gzip is standard (multi-member): Python's gzip reads it whole.
    with gzip.open(data, "rb") as fh:
        assert sum(len(chunk) for chunk in iter(lambda: fh.read(1 << 20), b"")) == m["bytes_raw"]

    target = other_target(db_alias, tmp_path)
    try:
        restore(db_alias, data, f"--target-database={target}")
        assert source_state(db_alias, server_if_mariadb, target) == source_state(
            db_alias, server_if_mariadb
        )
    finally:
        if server_if_mariadb is not None:
            server_if_mariadb.drop_database(target)

    row = HistorialBackup.objects.get()
    assert row.estado == "ok" and row.sha256 == m["sha256"] and row.filas == m["rows_total"]
    assert row.archivo == str(data)


def test_restore_over_the_same_database_after_changes(
    db_alias, seeded, tmp_path, server_if_mariadb
):
    seeded(db_alias, productos=120)
    before = source_state(db_alias, server_if_mariadb)
    m = backup_json(db_alias, tmp_path)["manifest"]
    with connections[db_alias].cursor() as cur:
        cur.execute("UPDATE productos SET nombre = 'cambiado' WHERE id <= 10")
        cur.execute("DELETE FROM alertas")
    assert source_state(db_alias, server_if_mariadb) != before
    restore(db_alias, m["manifest_path"])  # the manifest works as well as the file
    assert source_state(db_alias, server_if_mariadb) == before


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True, databases=["default", "mysql"])
def test_mariadb_backup_restores_through_the_stock_client(seeded, mariadb_server, tmp_path):
    from ventas.schema import create_schema

    create_schema("mysql")
    seeded("mysql", productos=300)
    m = backup_json("mysql", tmp_path)["manifest"]
    target = "forneria_stock_" + os.urandom(3).hex()
    mariadb_server.create_database(target)
    try:
        # The stock pipeline: gunzip < file | mariadb target
        gunzip = subprocess.Popen(["gzip", "-dc", m["file"]], stdout=subprocess.PIPE)
        loaded = subprocess.run(
            mariadb_server.client_cmd(target), stdin=gunzip.stdout, capture_output=True, timeout=300
        )
        gunzip.stdout.close()
        assert gunzip.wait() == 0
        assert loaded.returncode == 0, loaded.stderr.decode("utf-8", "replace")
        assert mariadb_checksums(mariadb_server, target) == source_state("mysql", mariadb_server)
    finally:
        mariadb_server.drop_database(target)


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True, databases=["default", "mysql"])
def test_round_trip_at_20000_products_through_ours_and_the_stock_client(
    seeded, mariadb_server, tmp_path
):
    """The issue's generated-data case: 20,000 products (~200,000 lots), every table's
    CHECKSUM TABLE identical after our restore and after `gunzip | mariadb`."""
    from ventas.schema import create_schema

    create_schema("mysql")
    counts = seeded("mysql", productos=20_000)
    assert counts["lotes"] > 150_000
    m = backup_json("mysql", tmp_path)["manifest"]
    expected = source_state("mysql", mariadb_server)
    ours, stock = ("forneria_rt_" + os.urandom(3).hex() for _ in range(2))
    try:
        restore("mysql", m["file"], f"--target-database={ours}")
        assert mariadb_checksums(mariadb_server, ours) == expected
        mariadb_server.create_database(stock)
        gunzip = subprocess.Popen(["gzip", "-dc", m["file"]], stdout=subprocess.PIPE)
        loaded = subprocess.run(
            mariadb_server.client_cmd(stock), stdin=gunzip.stdout, capture_output=True, timeout=600
        )
        gunzip.stdout.close()
        assert gunzip.wait() == 0 and loaded.returncode == 0, loaded.stderr[-2000:]
        assert mariadb_checksums(mariadb_server, stock) == expected
    finally:
        mariadb_server.drop_database(ours)
        mariadb_server.drop_database(stock)


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True, databases=["default", "mysql"])
def test_full_plus_differential_restores_the_database_as_of_the_differential(
    seeded, mariadb_server, tmp_path
):
    from ventas.schema import create_schema

    create_schema("mysql")
    seeded("mysql", productos=200)
    full = backup_json("mysql", tmp_path, "--type=full")["manifest"]
    with connections["mysql"].cursor() as cur:
        # As the app saves: a changed row gets a new `modificado` (differentials find changes
        # by audit columns; an UPDATE that leaves them alone is invisible to them by design).
        cur.execute(
            "UPDATE productos SET nombre = CONCAT(nombre, ' (nuevo)'), modificado = NOW() "
            "WHERE id <= 15"
        )
        cur.execute("UPDATE lotes SET cantidad = cantidad + 1 WHERE id % 7 = 0")
        cur.execute("DELETE FROM alertas WHERE id % 3 = 0")
        cur.execute("DELETE FROM lotes WHERE id % 11 = 0")
        cur.execute(
            "INSERT INTO categorias (nombre, descripcion) VALUES ('nueva', 'after the full')"
        )
    diff = backup_json("mysql", tmp_path, "--type=diff")["manifest"]
    assert diff["kind"] == "diff" and diff["base"] == Path(full["file"]).name
    assert diff["bytes_raw"] < full["bytes_raw"]
    expected = source_state("mysql", mariadb_server)
    target = "forneria_diff_" + os.urandom(3).hex()
    try:
        restore("mysql", diff["file"], f"--target-database={target}")
        assert mariadb_checksums(mariadb_server, target) == expected
    finally:
        mariadb_server.drop_database(target)


# -- damaged files --------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["flip", "truncate", "append"])
def test_restore_refuses_a_damaged_file_and_changes_nothing(
    db_alias, seeded, tmp_path, server_if_mariadb, damage
):
    seeded(db_alias, productos=60)
    m = backup_json(db_alias, tmp_path)["manifest"]
    data = Path(m["file"])
    raw = bytearray(data.read_bytes())
    if damage == "flip":
        raw[len(raw) // 2] ^= 0x01
    elif damage == "truncate":
        raw = raw[: len(raw) - 100]
    else:
        raw += b"DROP DATABASE x;"
    data.write_bytes(bytes(raw))
    with connections[db_alias].cursor() as cur:
        cur.execute("UPDATE productos SET nombre = 'despues del backup' WHERE id = 1")
    state = source_state(db_alias, server_if_mariadb)
    with pytest.raises(CommandError, match="(?i)sha-?256|corrupt|truncat|checksum"):
        restore(db_alias, data)
    assert source_state(db_alias, server_if_mariadb) == state


def test_restore_of_a_missing_file_is_a_clear_error(db_alias, tmp_path):
    with pytest.raises(CommandError, match="no such backup"):
        restore(db_alias, tmp_path / "nada.sql.gz")


def test_restore_without_yes_and_without_a_terminal_refuses(db_alias, seeded, tmp_path):
    seeded(db_alias, productos=10)
    m = backup_json(db_alias, tmp_path)["manifest"]
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore_database", m["file"], f"--database={db_alias}", stdout=StringIO())


# -- bad input when backing up ----------------------------------------------------------------


def test_unwritable_directory_fails_cleanly_and_is_recorded(db_alias, seeded, tmp_path, settings):
    if os.getuid() == 0:
        # root ignores permission bits: a path under a regular file cannot be created either.
        target = tmp_path / "a-file"
        target.write_text("x")
        out = target / "backups"
    else:
        out = tmp_path / "ro"
        out.mkdir(mode=0o500)
    settings.FORNERIA_OPS = {"NOTIFY_EMAILS": ["ops@example.com"]}
    with pytest.raises(CommandError, match="backup directory"):
        backup(db_alias, out, "--notify")
    row = HistorialBackup.objects.get()
    assert row.estado == "fallido" and "backup directory" in row.error
    assert len(mail.outbox) == 1 and "FAILED" in mail.outbox[0].subject


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs: a real "No space left on device" (root only, as in CI)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "tiny"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_fails_cleanly_and_is_recorded(db_alias, seeded, tiny_disk, settings):
    seeded(db_alias, productos=400)
    settings.FORNERIA_OPS = {"NOTIFY_EMAILS": ["ops@example.com"]}
    (tiny_disk / "keep.txt").write_text("an older file stays")
    with pytest.raises(CommandError, match="(?i)disk full|no space"):
        backup(db_alias, tiny_disk, "--notify", "--no-compress")
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["keep.txt"]
    row = HistorialBackup.objects.get()
    assert row.estado == "fallido"
    assert "FAILED" in mail.outbox[0].subject


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True, databases=["default", "mysql"])
def test_wrong_password_is_a_clear_error_without_the_password(settings, tmp_path, mariadb_server):
    entry = connections["mysql"].settings_dict
    secret = "n0t-the-Passw0rd-" + os.urandom(4).hex()
    settings.FORNERIA_OPS = {"NOTIFY_EMAILS": ["ops@example.com"]}
    with extra_alias("wrongpw", {**entry, "PASSWORD": secret}), pytest.raises(CommandError) as info:
        backup("wrongpw", tmp_path, "--notify")
    assert "denied" in str(info.value).lower() or "auth" in str(info.value).lower()
    assert secret not in str(info.value)
    assert secret not in mail.outbox[0].body and secret not in mail.outbox[0].subject
    assert list(tmp_path.iterdir()) == []
    assert secret not in HistorialBackup.objects.get().error


# -- dry run, listing, retention through the command -------------------------------------------


def test_dry_run_writes_nothing(db_alias, seeded, tmp_path):
    seeded(db_alias, productos=10)
    text = backup(db_alias, tmp_path / "bk", "--dry-run", "--type=auto", f"--fecha={HOY}")
    assert "dry run" in text and "full backup" in text
    assert not (tmp_path / "bk").exists()
    assert not HistorialBackup.objects.exists()


def test_listar_backups_shows_the_catalogue(db_alias, seeded, tmp_path):
    seeded(db_alias, productos=10)
    first = backup_json(db_alias, tmp_path, "--no-retention")["manifest"]
    buf = StringIO()
    call_command(
        "listar_backups",
        f"--database={db_alias}",
        f"--output-dir={tmp_path}",
        "--json",
        "--check",
        stdout=buf,
    )
    listing = json.loads(buf.getvalue())
    assert listing["summary"]["count"] == 1
    assert listing["summary"]["last_full"] == Path(first["file"]).name
    assert listing["backups"][0]["status"] == "ok"
    Path(first["file"]).write_bytes(b"garbage")
    buf = StringIO()
    call_command("listar_backups", f"--database={db_alias}", f"--output-dir={tmp_path}", stdout=buf)
    assert "FILE MISSING OR WRONG SIZE" in buf.getvalue()


def test_notify_mails_on_success(db_alias, seeded, tmp_path, settings):
    seeded(db_alias, productos=10)
    settings.FORNERIA_OPS = {"NOTIFY_EMAILS": ["ops@example.com"]}
    backup(db_alias, tmp_path, "--notify")
    assert len(mail.outbox) == 1
    assert "backup OK" in mail.outbox[0].subject and "SHA-256" in mail.outbox[0].body


def test_verify_restores_into_a_scratch_database_and_compares(db_alias, seeded, tmp_path):
    seeded(db_alias, productos=80)
    report = backup_json(db_alias, tmp_path, "--verify")
    assert report["verify"]["ok"] is True
    assert {t["table"] for t in report["verify"]["tables"]} >= set(TABLES)
    assert HistorialBackup.objects.get().verificado is True


# -- signals ----------------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True, databases=["default", "mysql"])
def test_a_signal_mid_backup_leaves_no_file_and_exits_non_zero(
    seeded, mariadb_server, tmp_path, settings, signum
):
    """A real signal to this process while the dump waits on a table another session holds
    locked: the engine is cancelled, removes its temp file, the failure is recorded and mailed,
    and the exit status is 128 + signal."""
    import threading

    from ventas.schema import create_schema

    create_schema("mysql")
    seeded("mysql", productos=50)
    settings.FORNERIA_OPS = {"NOTIFY_EMAILS": ["ops@example.com"], "BACKUP_LOCK_WAIT": 1}
    blocker = mariadb_server.connect(connections["mysql"].settings_dict["NAME"])
    blocker.cursor().execute("LOCK TABLES productos WRITE")

    def interrupt():
        time.sleep(1.5)
        os.kill(os.getpid(), signum)
        time.sleep(1.0)
        blocker.cursor().execute("UNLOCK TABLES")

    killer = threading.Thread(target=interrupt)
    killer.start()
    try:
        with pytest.raises(CommandError) as info:
            backup("mysql", tmp_path, "--notify")
    finally:
        killer.join()
        blocker.close()
    assert info.value.returncode == 128 + signum
    assert "interrupted" in str(info.value)
    assert list(tmp_path.iterdir()) == []
    row = HistorialBackup.objects.get()
    assert row.estado == "fallido" and "interrupted" in row.error
    assert "FAILED" in mail.outbox[0].subject


# -- the policy (catalogues written by hand) -------------------------------------------------


def fake_backup(
    directory: Path,
    started: dt.datetime,
    kind: str = "full",
    base: str | None = None,
    database: str = "tienda",
) -> backups.Backup:
    name = f"{database}_{kind}_{started:%Y%m%dT%H%M%S}"
    data = directory / f"{name}.sql.gz"
    data.write_bytes(b"x" * 10)
    manifest = {
        "tool": "forneria-ops",
        "kind": kind,
        "engine": "mysql",
        "database": database,
        "started_at": started.isoformat(),
        "file": data.name,
        "base": base,
        "sha256": "0" * 64,
        "bytes_compressed": 10,
        "tables": [],
    }
    (directory / f"{name}.json").write_text(json.dumps(manifest))
    return backups.from_manifest(directory / f"{name}.json", manifest)


def at(day: dt.date, hour: int = 3) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def test_retention_keeps_daily_weekly_monthly_and_deletes_the_rest(tmp_path):
    now = at(HOY, 12)
    made = [fake_backup(tmp_path, at(HOY - dt.timedelta(days=d))) for d in range(400)]
    plan = backups.retention_plan(
        backups.catalogue(tmp_path), now=now, daily=7, weekly=4, monthly=12
    )
    kept = sorted(timezone.localtime(b.started_at).date() for b in plan.keep)
    # HOY is Wednesday 2025-12-10. Daily: Dec 4..10. Weekly (newest of the last 4 ISO weeks):
    # Dec 10, Dec 7, Nov 30, Nov 23. Monthly (newest of the last 12 months): Dec 10, Nov 30,
    # and the last day of each month from October back to January 2025.
    daily = [HOY - dt.timedelta(days=d) for d in range(7)]
    weekly = [dt.date(2025, 11, 30), dt.date(2025, 11, 23)]
    monthly = [(dt.date(2025, month + 1, 1) - dt.timedelta(days=1)) for month in range(1, 11)]
    assert kept == sorted(set(daily + weekly + monthly))
    assert len(plan.keep) + len(plan.delete) == len(made)


def test_retention_never_deletes_the_newest_full_nor_a_needed_base(tmp_path):
    old_full = fake_backup(tmp_path, at(HOY - dt.timedelta(days=60)))
    diff = fake_backup(tmp_path, at(HOY - dt.timedelta(days=1)), "diff", base=old_full.name)
    plan = backups.retention_plan(backups.catalogue(tmp_path), now=at(HOY, 12), keep_days=0)
    assert {b.name for b in plan.keep} == {old_full.name}  # newest full, whatever keep_days says
    assert plan.reasons[old_full.name] == "newest good full backup"
    assert [b.name for b in plan.delete] == [diff.name]
    plan = backups.retention_plan(backups.catalogue(tmp_path), now=at(HOY, 12), keep_days=3)
    assert {b.name for b in plan.keep} == {old_full.name, diff.name}


def test_retention_keeps_the_base_of_a_kept_differential(tmp_path):
    base = fake_backup(tmp_path, at(HOY - dt.timedelta(days=20)))
    newer_full = fake_backup(tmp_path, at(HOY - dt.timedelta(days=10)))
    diff = fake_backup(tmp_path, at(HOY - dt.timedelta(days=2)), "diff", base=base.name)
    plan = backups.retention_plan(backups.catalogue(tmp_path), now=at(HOY, 12), keep_days=5)
    assert {b.name for b in plan.keep} == {newer_full.name, diff.name, base.name}
    assert plan.reasons[base.name] == f"base of {diff.name}"


def test_retention_ignores_backups_whose_file_is_missing(tmp_path):
    good = fake_backup(tmp_path, at(HOY - dt.timedelta(days=30)))
    broken = fake_backup(tmp_path, at(HOY - dt.timedelta(days=1)))
    broken.file.unlink()
    plan = backups.retention_plan(backups.catalogue(tmp_path), now=at(HOY, 12), keep_days=0)
    assert [b.name for b in plan.keep] == [good.name] and plan.delete == []


def test_catalogue_skips_foreign_and_unreadable_manifests(tmp_path):
    fake_backup(tmp_path, at(HOY))
    (tmp_path / "other.json").write_text('{"something": "else"}')
    (tmp_path / "broken.json").write_text("{not json")
    assert len(backups.catalogue(tmp_path)) == 1
    assert backups.catalogue(tmp_path, database="otra") == []


@pytest.mark.parametrize(
    ("requested", "weekday", "have_full", "sqlite", "expected"),
    [
        ("auto", 0, True, False, "full"),  # Monday: the manuals' full-backup day
        ("auto", 1, True, False, "diff"),
        ("auto", 1, False, False, "full"),  # nothing to base a differential on
        ("auto", 1, True, True, "full"),  # SQLite: always whole
        ("full", 1, True, False, "full"),
        ("diff", 1, True, False, "diff"),
    ],
)
def test_choose_kind(tmp_path, requested, weekday, have_full, sqlite, expected):
    monday = dt.date(2025, 12, 8)
    existing = [fake_backup(tmp_path, at(monday - dt.timedelta(days=7)))] if have_full else []
    choice = backups.choose_kind(
        requested, today=monday + dt.timedelta(days=weekday), existing=existing, sqlite=sqlite
    )
    assert choice.kind == expected
    assert (choice.base is not None) == (expected == "diff")


@pytest.mark.parametrize("sqlite", [False, True])
def test_explicit_diff_without_a_full_or_on_sqlite_is_refused(sqlite):
    from forneria_ops import ConfigError

    with pytest.raises(ConfigError, match="full|SQLite"):
        backups.choose_kind("diff", today=HOY, existing=[], sqlite=sqlite)


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True, databases=["default", "mysql"])
def test_unknown_database_is_a_clear_error(tmp_path, mariadb_server):
    entry = connections["mysql"].settings_dict
    with extra_alias("nodb", {**entry, "NAME": "no_such_shop"}):
        with pytest.raises(CommandError, match="no_such_shop"):
            backup("nodb", tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert HistorialBackup.objects.get().estado == "fallido"


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True, databases=["default", "mysql"])
def test_the_password_appears_in_no_argv_log_line_or_file(seeded, mariadb_server, tmp_path, caplog):
    """While a backup, a verification and a restore run, every process's command line is read
    over and over; afterwards the files written, the log records (DEBUG and up, Rust ones
    included) and the history are searched for the password."""
    import logging
    import threading

    from ventas.schema import create_schema

    password = connections["mysql"].settings_dict["PASSWORD"]
    assert len(password) >= 8  # the harness gives the test user a random password
    create_schema("mysql")
    seeded("mysql", productos=300)
    seen_in_argv: list[str] = []
    stop = threading.Event()

    def scan_argv():
        while not stop.is_set():
            for proc in Path("/proc").iterdir():
                if not proc.name.isdigit():
                    continue
                try:
                    argv = (proc / "cmdline").read_bytes()
                except OSError:
                    continue
                if password.encode() in argv:
                    seen_in_argv.append(proc.name)
            time.sleep(0.01)

    scanner = threading.Thread(target=scan_argv)
    caplog.set_level(logging.DEBUG)
    scanner.start()
    try:
        m = backup_json("mysql", tmp_path, "--verify", "-v", "3")["manifest"]
        target = "forneria_secret_" + os.urandom(3).hex()
        restore("mysql", m["file"], f"--target-database={target}")
        mariadb_server.drop_database(target)
    finally:
        stop.set()
        scanner.join()
    assert seen_in_argv == []
    assert password not in caplog.text
    for path in tmp_path.iterdir():
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        assert password.encode() not in data, path
    assert password not in json.dumps(HistorialBackup.objects.get().manifiesto)
