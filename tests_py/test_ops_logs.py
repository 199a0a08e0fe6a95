"""mantener_logs on real files whose mtimes are set in the past."""

from __future__ import annotations

import gzip
import json
import logging
import os
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from forneria_ops.models import EjecucionTarea

DAY = 86400
pytestmark = pytest.mark.django_db


def make(path: Path, days_old: float, text: str = "", size: int = 20_000) -> Path:
    body = text or ("2025-12-01 INFO GET /ventas/ 200 in 12ms\n" * (size // 42 + 1))
    path.write_text(body)
    t = time.time() - days_old * DAY
    os.utime(path, (t, t))
    return path


@pytest.fixture
def logdir(tmp_path):
    d = tmp_path / "logs"
    d.mkdir()
    make(d / "app.log.1", 10)  # rotated, old: compressed
    make(d / "app.log.2", 30)  # rotated, older: compressed
    make(d / "app.log.2025-11-01", 20)  # TimedRotatingFileHandler's name: compressed
    make(d / "app.log.3", 3)  # too recent
    make(d / "errors.log", 12)  # a quiet log that is not a handler's: compressed
    make(d / "notes.txt", 50)  # not a log
    make(d / ".hidden.log", 50)  # hidden (our own temporary names look like this)
    old_gz = d / "app.log.9.gz"
    old_gz.write_bytes(gzip.compress(b"old\n" * 1000))
    os.utime(old_gz, (time.time() - 100 * DAY,) * 2)  # past the 90 days: deleted
    keep_gz = d / "app.log.8.gz"
    keep_gz.write_bytes(gzip.compress(b"kept\n" * 1000))
    os.utime(keep_gz, (time.time() - 60 * DAY,) * 2)
    return d


@pytest.fixture
def live_handler(logdir):
    """A real FileHandler on logdir/app.log, its file older than the limit (a quiet log)."""
    path = make(logdir / "app.log", 15)
    handler = logging.FileHandler(path)
    logger = logging.getLogger("forneria_ops.tests.live")
    logger.addHandler(handler)
    yield path
    logger.removeHandler(handler)
    handler.close()


def run(*args, **kw) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("mantener_logs", *args, stdout=out, stderr=err, **kw)
    return out.getvalue(), err.getvalue()


def names(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir())


def test_compresses_old_logs_deletes_old_gz_and_leaves_the_rest(logdir, live_handler):
    before = {p.name: (p.read_bytes(), p.stat().st_mtime) for p in logdir.iterdir()}
    with override_settings(FORNERIA_OPS={"LOG_DIRS": [str(logdir)]}):
        out, err = run("--json")
    report = json.loads(out)
    assert err == ""
    assert names(logdir) == [
        ".hidden.log",
        "app.log",
        "app.log.1.gz",
        "app.log.2.gz",
        "app.log.2025-11-01.gz",
        "app.log.3",
        "app.log.8.gz",
        "errors.log.gz",
        "notes.txt",
    ]
    # Contents intact, readable by gzip, mtime of the log kept.
    for name in ("app.log.1", "app.log.2", "app.log.2025-11-01", "errors.log"):
        gz = logdir / f"{name}.gz"
        assert gzip.decompress(gz.read_bytes()) == before[name][0]
        assert gz.stat().st_mtime == pytest.approx(before[name][1], abs=1e-3)
        subprocess.run(["gzip", "-t", str(gz)], check=True)
    # The live file was not touched although it is old.
    assert (logdir / "app.log").read_bytes() == before["app.log"][0]
    assert report["skipped"] == [
        {"path": str(logdir / "app.log"), "reason": "live file of a logging handler"}
    ]
    assert [Path(d["path"]).name for d in report["deleted"]] == ["app.log.9.gz"]
    t = report["totals"]
    assert t["compressed_files"] == 4 and t["deleted_files"] == 1
    raw = sum(
        len(before[n][0]) for n in ("app.log.1", "app.log.2", "app.log.2025-11-01", "errors.log")
    )
    gz_total = sum(
        (logdir / f"{n}.gz").stat().st_size
        for n in ("app.log.1", "app.log.2", "app.log.2025-11-01", "errors.log")
    )
    assert t["compressed_bytes_in"] == raw
    assert t["compressed_bytes_out"] == gz_total
    assert t["bytes_saved"] == raw - gz_total + before["app.log.9.gz"][0].__len__()
    run_row = EjecucionTarea.objects.get(tarea="mantener_logs")
    assert run_row.resumen["compressed_files"] == 4
    # A second run has nothing left to do.
    with override_settings(FORNERIA_OPS={"LOG_DIRS": [str(logdir)]}):
        out, _ = run("--json")
    again = json.loads(out)["totals"]
    assert again["compressed_files"] == 0 and again["deleted_files"] == 0


def test_text_summary_and_options(logdir):
    out, _ = run("--dir", str(logdir), "--compress-after", "25", "--delete-after", "50")
    lines = out.splitlines()
    assert lines[0] == (
        f"mantener_logs: {logdir} (compress after 25 days, delete compressed after 50 days)"
    )
    assert lines[1].startswith("  compressed 1 file(s), 19.6 KB -> ")
    assert lines[2].startswith("  deleted 2 compressed file(s), ")
    assert lines[3].startswith("  disk space saved: ")
    assert names(logdir) == [
        ".hidden.log",
        "app.log.1",
        "app.log.2.gz",
        "app.log.2025-11-01",
        "app.log.3",
        "errors.log",
        "notes.txt",
    ]


def test_dry_run_changes_nothing_and_lists_the_plan(logdir):
    before = {p.name: p.stat().st_mtime for p in logdir.iterdir()}
    out, _ = run("--dir", str(logdir), "--dry-run")
    assert {p.name: p.stat().st_mtime for p in logdir.iterdir()} == before
    assert out.splitlines()[0].startswith("mantener_logs (dry run, nothing changed): ")
    assert "  would compress 4 file(s), " in out
    assert "  would delete 1 compressed file(s), " in out
    assert f"  compress {logdir / 'app.log.1'} (10.0 days" in out
    assert f"  delete   {logdir / 'app.log.9.gz'} (100.0 days" in out
    assert not EjecucionTarea.objects.filter(tarea="mantener_logs").exists()


def test_a_file_open_in_another_process_is_left_alone(logdir):
    held = logdir / "app.log.1"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import sys,time; f=open({str(held)!r},'a'); print(1,flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout.readline().strip() == b"1"
        out, _ = run("--dir", str(logdir), "--json")
    finally:
        child.kill()
        child.wait()
    report = json.loads(out)
    assert {"path": str(held), "reason": "open in another process"} in report["skipped"]
    assert held.exists() and not (logdir / "app.log.1.gz").exists()
    assert (logdir / "app.log.2.gz").exists()


def test_a_reused_rotated_name_gets_its_own_gz(logdir):
    (logdir / "app.log.1.gz").write_bytes(gzip.compress(b"earlier rotation\n"))
    out, _ = run("--dir", str(logdir), "--json")
    made = [Path(c["output"]).name for c in json.loads(out)["compressed"]]
    stamped = [n for n in made if n.startswith("app.log.1.") and n != "app.log.1.gz"]
    assert len(stamped) == 1 and stamped[0].endswith(".gz")
    assert gzip.decompress((logdir / "app.log.1.gz").read_bytes()) == b"earlier rotation\n"


def test_default_directories_come_from_logging_settings(tmp_path):
    d = tmp_path / "var-log"
    d.mkdir()
    make(d / "django.log", 40)  # the handler's own file: live
    make(d / "django.log.1", 40)
    logging_conf = {
        "version": 1,
        "handlers": {"file": {"class": "logging.FileHandler", "filename": str(d / "django.log")}},
    }
    with override_settings(LOGGING=logging_conf, FORNERIA_OPS={}):
        out, _ = run("--json")
    report = json.loads(out)
    assert report["dirs"] == [str(d)]
    assert names(d) == ["django.log", "django.log.1.gz"]


def test_fecha_moves_now(logdir):
    # Ten days from now, app.log.3 (3 days old) is 13 days old and gets compressed too.
    later = time.time() + 10 * DAY
    fecha = time.strftime("%Y-%m-%d", time.localtime(later))
    out, _ = run("--dir", str(logdir), "--fecha", fecha, "--json")
    done = {Path(c["path"]).name for c in json.loads(out)["compressed"]}
    assert "app.log.3" in done


def test_errors(tmp_path, logdir):
    with override_settings(FORNERIA_OPS={}), pytest.raises(CommandError, match="no log directory"):
        run()
    with pytest.raises(CommandError, match="--compress-after must be >= 0"):
        run("--dir", str(logdir), "--compress-after", "-1")
    out, _ = run("--dir", str(tmp_path / "missing"))
    assert "missing directory (nothing to do)" in out
