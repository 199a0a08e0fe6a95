"""health_check and the /health/ /ready/ /alive/ endpoints: real databases, real caches (locmem,
Redis when a server answers on 127.0.0.1:6379), Django's test client and a running server."""

from __future__ import annotations

import datetime as dt
import json
import socket
import urllib.error
import urllib.request
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone
from forneria_ops import health
from forneria_ops.models import EjecucionTarea, HistorialBackup

# Generous limits so that a busy shared machine does not fail the "healthy" cases; each limit is
# tested on its own below.
RELAXED = {
    "HEALTH_DB_MAX_MS": 5000,
    "HEALTH_DISK_MIN_FREE_PERCENT": 0,
    "HEALTH_MEMORY_MAX_PERCENT": 100,
    "HEALTH_LOAD_MAX_PER_CPU": 1000.0,
    "NOTIFY_EMAILS": ["ops@example.com"],
}
REDIS_URL = "redis://127.0.0.1:6379/15"
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
BROKEN_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}


def redis_available() -> bool:
    try:
        import redis  # noqa: F401
    except ImportError:
        return False
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def record_good_state(alias: str, *, backup_hours: float = 1, alerts_hours: float = 1) -> None:
    now = timezone.now()
    HistorialBackup.objects.create(
        base_datos=alias,
        estado=HistorialBackup.Estado.OK,
        tipo=HistorialBackup.Tipo.COMPLETO,
        archivo="forneria-20251210.sql.gz",
        inicio=now - dt.timedelta(hours=backup_hours, minutes=5),
        fin=now - dt.timedelta(hours=backup_hours),
    )
    EjecucionTarea.objects.update_or_create(
        tarea="generar_alertas",
        base_datos=alias,
        defaults={"ultimo_exito": now - dt.timedelta(hours=alerts_hours), "ejecuciones": 1},
    )


def check(*args) -> tuple[dict, bool]:
    out = StringIO()
    try:
        call_command("health_check", "--json", *args, stdout=out)
        failed = False
    except CommandError:
        failed = True
    return json.loads(out.getvalue()), failed


def test_all_components_on_both_databases(db_alias, tmp_path):
    record_good_state(db_alias)
    settings = {**RELAXED, "BACKUP_DIR": str(tmp_path / "backups"), "LOG_DIRS": [str(tmp_path)]}
    with override_settings(FORNERIA_OPS=settings, CACHES=LOCMEM):
        report, failed = check(f"--database={db_alias}")
    assert not failed, report
    assert report["status"] == "ok" and report["failing"] == []
    assert sorted(report["components"]) == sorted(health.CHECKS)
    c = report["components"]
    assert c["database"]["data"]["vendor"] == ("sqlite" if db_alias == "default" else "mysql")
    assert c["database"]["data"]["query_ms"] >= 0
    assert c["cache"]["data"]["backend"].endswith("LocMemCache")
    roles = [r for v in c["disk"]["data"]["volumes"] for r in v["roles"]]
    assert sorted(roles) == ["backups", "logs"]
    assert 0 < c["memory"]["data"]["used_percent"] < 100
    assert c["cpu"]["data"]["cpus"] >= 1
    assert c["backup"]["data"]["age_hours"] == pytest.approx(1, abs=0.1)
    assert c["alerts"]["data"]["age_hours"] == pytest.approx(1, abs=0.1)
    assert EjecucionTarea.objects.get(tarea="health_check", base_datos=db_alias).resumen == {
        "status": "ok",
        "failing": [],
    }


def test_each_threshold_fails_its_component(db_alias, monkeypatch):
    record_good_state(db_alias, backup_hours=30, alerts_hours=27)
    monkeypatch.setattr(health.os, "getloadavg", lambda: (9.0, 5.0, 1.0))
    strict = {
        **RELAXED,
        "HEALTH_DB_MAX_MS": 0,
        "HEALTH_DISK_MIN_FREE_PERCENT": 101,
        "HEALTH_MEMORY_MAX_PERCENT": 0,
        "HEALTH_LOAD_MAX_PER_CPU": 0.5,
    }
    with override_settings(FORNERIA_OPS=strict, CACHES=LOCMEM):
        report, failed = check(f"--database={db_alias}")
    assert failed
    assert report["failing"] == ["database", "disk", "memory", "cpu", "backup", "alerts"]
    c = report["components"]
    assert "took" in c["database"]["message"] and "(max 0 ms)" in c["database"]["message"]
    assert c["backup"]["message"] == "last good backup is 30.0 h old (max 26 h)"
    assert c["alerts"]["message"] == "last alert run 27.0 h ago (max 26 h)"
    assert c["cpu"]["data"]["load"] == [9.0, 5.0, 1.0]


def test_no_backup_and_no_alert_run_fail_and_zero_switches_them_off(db_alias):
    HistorialBackup.objects.create(
        base_datos=db_alias, estado="fallido", inicio=timezone.now(), fin=timezone.now()
    )
    with override_settings(FORNERIA_OPS=RELAXED, CACHES=LOCMEM):
        report, failed = check(f"--database={db_alias}")
        assert failed and report["failing"] == ["backup", "alerts"]
        assert report["components"]["backup"]["message"] == (
            f"no good backup of {db_alias!r} recorded (run backup_database)"
        )
    off = {**RELAXED, "HEALTH_BACKUP_MAX_AGE_HOURS": 0, "HEALTH_ALERTS_MAX_AGE_HOURS": 0}
    with override_settings(FORNERIA_OPS=off, CACHES=LOCMEM):
        report, failed = check(f"--database={db_alias}")
    assert not failed
    assert report["components"]["backup"]["status"] == "skipped"


def test_alert_age_comes_from_a_real_generar_alertas_run(db_alias, seeded):
    seeded(db_alias)
    call_command("generar_alertas", f"--database={db_alias}", stdout=StringIO())
    with override_settings(FORNERIA_OPS=RELAXED, CACHES=LOCMEM):
        report, _ = check(f"--database={db_alias}", "--only", "alerts")
    assert report["components"]["alerts"]["status"] == "ok"
    assert report["components"]["alerts"]["data"]["age_hours"] < 0.1


@pytest.mark.django_db
def test_text_output_and_only():
    out = StringIO()
    with override_settings(FORNERIA_OPS=RELAXED, CACHES=LOCMEM):
        call_command("health_check", "--only", "cache", "--only", "cpu", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("health: OK (default, ")
    assert lines[1].startswith("  ok      cache     default: set/get in ")
    assert lines[2].startswith("  ok      cpu       load ")
    assert len(lines) == 3
    with pytest.raises(CommandError, match="--notify needs the full check"):
        call_command("health_check", "--only", "cpu", "--notify")


@pytest.mark.django_db
def test_notify_mails_on_failure_and_recovery_only():
    settings = {**RELAXED, "HEALTH_BACKUP_MAX_AGE_HOURS": 0}
    with override_settings(FORNERIA_OPS=settings, CACHES=LOCMEM):
        report, failed = check("--notify")  # never ran alerts: failing
        assert failed and report["notified"] == "failure"
        assert len(mail.outbox) == 1
        assert mail.outbox[0].subject == "[forneria-ops] health check FAILING: alerts"
        assert mail.outbox[0].to == ["ops@example.com"]
        assert "  fail    alerts    generar_alertas never succeeded" in mail.outbox[0].body
        report, failed = check("--notify")  # still failing the same way: no mail
        assert failed and report["notified"] is None and len(mail.outbox) == 1
        record_good_state("default")
        report, failed = check("--notify")  # recovered: one mail
        assert not failed and report["notified"] == "recovery"
        assert mail.outbox[1].subject == "[forneria-ops] health check recovered: all components ok"
        report, failed = check("--notify")  # still fine: no mail
        assert report["notified"] is None and len(mail.outbox) == 2


@pytest.mark.django_db
def test_cache_with_redis_and_a_broken_redis():
    if not redis_available():
        pytest.skip("no Redis server on 127.0.0.1:6379 (or no redis package)")
    redis_cache = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    with override_settings(FORNERIA_OPS=RELAXED, CACHES=redis_cache):
        report, failed = check("--only", "cache")
    assert not failed
    assert report["components"]["cache"]["data"]["backend"].endswith("RedisCache")
    with override_settings(FORNERIA_OPS=RELAXED, CACHES=BROKEN_REDIS):
        report, failed = check("--only", "cache")
    assert failed and "Connection refused" in report["components"]["cache"]["message"]


@pytest.mark.django_db
def test_dummy_cache_is_skipped():
    dummy = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    with override_settings(FORNERIA_OPS=RELAXED, CACHES=dummy):
        report, failed = check("--only", "cache")
    assert not failed and report["components"]["cache"]["status"] == "skipped"


# -- endpoints ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_endpoints_through_the_test_client(client):
    with override_settings(FORNERIA_OPS=RELAXED, CACHES=LOCMEM):
        alive = client.get("/alive/")
        assert alive.status_code == 200 and alive.json() == {"status": "ok"}
        ready = client.get("/ready/")
        assert ready.status_code == 200, ready.json()
        assert ready.json()["components"]["migrations"]["status"] == "ok"
        sick = client.get("/health/")  # no backup, no alert run yet
        assert sick.status_code == 503
        assert sick.json()["failing"] == ["backup", "alerts"]
        assert sick["Cache-Control"].startswith("max-age=0")
        record_good_state("default")
        well = client.get("/health/")
        assert well.status_code == 200 and well.json()["status"] == "ok"
        assert client.post("/health/").status_code == 405
        assert client.head("/alive/").status_code == 200
    with override_settings(FORNERIA_OPS=RELAXED, CACHES=BROKEN_REDIS):
        if redis_available():
            broken = client.get("/health/")
            assert broken.status_code == 503 and broken.json()["failing"] == ["cache"]


@pytest.mark.django_db(transaction=True)
def test_endpoints_through_a_running_server(live_server):
    def get(path: str) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(live_server.url + path, timeout=30) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    with override_settings(FORNERIA_OPS=RELAXED, CACHES=LOCMEM):
        assert get("/alive/") == (200, {"status": "ok"})
        status, body = get("/ready/")
        assert status == 200 and body["status"] == "ok"
        status, body = get("/health/")
        assert status == 503 and body["failing"] == ["backup", "alerts"]
        record_good_state("default")
        status, body = get("/health/")
        assert status == 200 and body["status"] == "ok"
        assert body["components"]["database"]["data"]["vendor"] == "sqlite"


def test_readiness_reports_pending_migrations(db_alias, monkeypatch):
    from django.db.migrations.executor import MigrationExecutor

    real = MigrationExecutor.migration_plan

    def one_pending(self, targets, clean_start=False):
        from django.db.migrations import Migration

        return [(Migration("0099_pending", "forneria_ops"), False)] + real(self, targets)

    monkeypatch.setattr(MigrationExecutor, "migration_plan", one_pending)
    report = health.readiness(db_alias)
    assert report["status"] == "fail" and report["failing"] == ["migrations"]
    assert report["components"]["migrations"]["data"]["pending"] == ["forneria_ops.0099_pending"]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("HEALTH_LOAD_MAX_PER_CPU", "2", "must be a number >= 0"),
        ("HEALTH_DISK_MIN_FREE_PERCENT", 101, "is a percentage: 0..100"),
        ("HEALTH_MEMORY_MAX_PERCENT", -1, "must be a whole number >= 0"),
        ("LOG_DIRS", "/var/log/forneria", "must be a list of directories"),
        ("NOTIFY_EMAILS", "ops@example.com", "must be a list of addresses"),
        ("NOTIFY_EMAILS", [None], "must be a list of addresses"),
    ],
)
def test_settings_are_checked(key, value, message):
    from forneria_ops import conf

    with override_settings(FORNERIA_OPS={key: value}):
        found = conf.problems()
    assert [m for m, _ in found] == [f"FORNERIA_OPS[{key!r}] {message}"]


def test_good_ops_settings_pass():
    from pathlib import Path

    from forneria_ops import conf

    good = {
        "LOG_DIRS": [Path("/var/log/forneria"), "/srv/logs"],
        "NOTIFY_EMAILS": ("ops@example.com",),
        "HEALTH_LOAD_MAX_PER_CPU": 3,
        "HEALTH_DISK_MIN_FREE_PERCENT": 15,
    }
    with override_settings(FORNERIA_OPS=good):
        assert conf.problems() == []
