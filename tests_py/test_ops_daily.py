"""mantenimiento_diario: every step runs, a failing one does not stop the others, one summary,
one mail, and the database steps run once when several servers start the plan together."""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from forneria_ops.management.commands import mantenimiento_diario
from forneria_ops.models import EjecucionTarea
from ventas.models import Alertas

FECHA = "2025-12-10"


@pytest.fixture
def ops_settings(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    old = logs / "app.log.1"
    old.write_text("GET / 200\n" * 500)
    t = time.time() - 10 * 86400
    os.utime(old, (t, t))
    settings = {
        "LOG_DIRS": [str(logs)],
        "BACKUP_DIR": str(tmp_path / "backups"),
        "NOTIFY_EMAILS": ["ops@example.com"],
    }
    with override_settings(FORNERIA_OPS=settings):
        yield logs


def plan(*args) -> tuple[str, str, bool]:
    out, err = StringIO(), StringIO()
    try:
        call_command("mantenimiento_diario", f"--fecha={FECHA}", *args, stdout=out, stderr=err)
        failed = False
    except CommandError:
        failed = True
    return out.getvalue(), err.getvalue(), failed


def by_step(report: dict) -> dict:
    return {s["step"]: s for s in report["steps"]}


def test_plan_without_backup_runs_every_other_step(db_alias, seeded, ops_settings):
    seeded(db_alias)
    out, err, failed = plan(f"--database={db_alias}", "--skip", "backup", "--json")
    report = json.loads(out)
    assert not failed, report
    steps = by_step(report)
    assert [s["step"] for s in report["steps"]] == ["backup", "logs", "vencimientos", "alertas"]
    assert steps["backup"] == {
        "step": "backup",
        "command": "backup_database",
        "status": "skipped",
        "reason": "--skip",
    }
    assert steps["logs"]["status"] == "ok"
    assert steps["logs"]["report"]["totals"]["compressed_files"] == 1
    assert (ops_settings / "app.log.1.gz").exists()
    assert steps["vencimientos"]["status"] == "ok"
    assert steps["vencimientos"]["report"]["today"] == FECHA
    assert steps["alertas"]["status"] == "ok"
    assert steps["alertas"]["report"]["counts"]["total"] > 0
    assert Alertas.objects.using(db_alias).filter(estado="activa").exists()
    for job in ("mantener_logs", "verificar_vencimientos", "generar_alertas"):
        assert EjecucionTarea.objects.get(tarea=job, base_datos=db_alias).ultimo_ok
    row = EjecucionTarea.objects.get(tarea="mantenimiento_diario", base_datos=db_alias)
    assert row.resumen == {
        "backup": "skipped",
        "logs": "ok",
        "vencimientos": "ok",
        "alertas": "ok",
    }


def test_a_failing_step_does_not_stop_the_others(db_alias, seeded, ops_settings, monkeypatch):
    seeded(db_alias)
    steps = [("backup", "comando_que_no_existe", {"type": "auto"}, True)]
    monkeypatch.setattr(mantenimiento_diario, "STEPS", steps + mantenimiento_diario.STEPS[1:])
    out, err, failed = plan(f"--database={db_alias}", "--notify")
    assert failed
    lines = out.splitlines()
    assert lines[0] == f"mantenimiento_diario: {FECHA} on {db_alias}"
    assert lines[1].startswith("  FAILED   backup")
    assert lines[1].endswith("Unknown command: 'comando_que_no_existe'")
    assert lines[2].startswith("  ok       logs          ")
    assert lines[2].endswith("compressed 1 file(s), deleted 0, saved 4.9 KB")
    assert lines[3].startswith("  ok       vencimientos  ")
    assert lines[4].startswith("  ok       alertas       ")
    assert lines[5].startswith("result: FAILED - 3 of 4 step(s) ok, failed: backup (")
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.subject == (
        f"[forneria-ops] mantenimiento diario {FECHA} ({db_alias}): FAILED: backup"
    )
    assert sent.body == out.rstrip("\n")
    row = EjecucionTarea.objects.get(tarea="mantenimiento_diario", base_datos=db_alias)
    assert not row.ultimo_ok and "backup" in row.ultimo_error


def test_full_plan_reports_the_backup_step_whatever_its_outcome(db_alias, seeded, ops_settings):
    seeded(db_alias)
    out, err, failed = plan(f"--database={db_alias}", "--json")
    report = json.loads(out)
    steps = by_step(report)
    assert steps["backup"]["status"] in ("ok", "failed")
    assert failed == (steps["backup"]["status"] == "failed")
    if steps["backup"]["status"] == "ok":
        backups = list((ops_settings.parent / "backups").iterdir())
        assert backups, "the backup step said ok but wrote nothing"
    else:
        assert steps["backup"]["error"]
    assert [steps[s]["status"] for s in ("logs", "vencimientos", "alertas")] == ["ok"] * 3


def test_dry_run_passes_through_and_changes_nothing(db_alias, seeded, ops_settings):
    seeded(db_alias)
    before = sorted(Alertas.objects.using(db_alias).values_list("id", "mensaje", "estado"))
    out, err, failed = plan(f"--database={db_alias}", "--dry-run", "--skip=backup")
    assert not failed, out + err
    assert out.splitlines()[0] == (
        f"mantenimiento_diario (dry run, nothing changed): {FECHA} on {db_alias}"
    )
    assert sorted(Alertas.objects.using(db_alias).values_list("id", "mensaje", "estado")) == before
    assert (ops_settings / "app.log.1").exists()
    assert not (ops_settings / "app.log.1.gz").exists()
    assert not EjecucionTarea.objects.filter(base_datos=db_alias).exists()


def test_second_server_skips_the_database_steps_but_keeps_its_logs(db_alias, seeded, ops_settings):
    seeded(db_alias)
    held, release = threading.Event(), threading.Event()

    def other_server():
        from django.db import connections

        try:
            with mantenimiento_diario.plan_lock(db_alias) as got:
                assert got
                held.set()
                release.wait(30)
        finally:
            connections.close_all()

    t = threading.Thread(target=other_server)
    t.start()
    try:
        assert held.wait(30)
        out, err, failed = plan(f"--database={db_alias}", "--json")
    finally:
        release.set()
        t.join()
    steps = by_step(json.loads(out))
    assert not failed
    for name in ("backup", "vencimientos", "alertas"):
        assert steps[name]["status"] == "skipped"
        assert steps[name]["reason"] == "another server is running the daily plan"
    assert steps["logs"]["status"] == "ok"
    assert gzip.decompress((ops_settings / "app.log.1.gz").read_bytes()).startswith(b"GET / 200")
    # Once the other server is done, the lock is free again.
    out, err, failed = plan(f"--database={db_alias}", "--json", "--skip=backup")
    assert by_step(json.loads(out))["alertas"]["status"] == "ok"


@pytest.mark.django_db
def test_usage_errors():
    with pytest.raises(CommandError, match="invalid choice: 'nada'"):
        call_command("mantenimiento_diario", "--skip", "nada")


@pytest.mark.django_db
def test_sigterm_stops_the_plan_after_the_running_step(ops_settings, monkeypatch):
    import signal

    from forneria_ops import logs

    def killed(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises here
        raise AssertionError("SIGTERM did not stop the step")

    monkeypatch.setattr(logs, "maintain", killed)
    before = signal.getsignal(signal.SIGTERM)
    out = StringIO()
    with pytest.raises(CommandError) as info:
        call_command(
            "mantenimiento_diario", f"--fecha={FECHA}", "--skip=backup", "--json", stdout=out
        )
    assert info.value.returncode == 128 + signal.SIGTERM
    assert "interrupted by SIGTERM" in str(info.value)
    steps = by_step(json.loads(out.getvalue()))
    assert steps["logs"]["status"] == "failed"
    assert steps["logs"]["error"] == "interrupted by SIGTERM"
    for name in ("vencimientos", "alertas"):
        assert steps[name] == {
            "step": name,
            "command": steps[name]["command"],
            "status": "skipped",
            "reason": "the plan was interrupted",
        }
    assert signal.getsignal(signal.SIGTERM) == before
