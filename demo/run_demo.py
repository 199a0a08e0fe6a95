"""The demo, end to end: a bakery on SQLite, its maintenance commands run for real.

Run by ``./dev demo``. Each step is a ``manage.py`` command line, run as cron or an operator
would run it, with its output shown as it is. The shop is created fresh each time in
``demo/var/`` with sample bakery data for today's date (``seed_forneria``).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

DEMO = Path(__file__).resolve().parent
VAR = DEMO / "var"
PRODUCTS = 120


def manage(*args: str, check: bool = True, head: int | None = None) -> int:
    """Run one ``manage.py`` command in the demo shop, echoing it like a shell would.

    ``head`` shows only the first lines of a long output (and says how many were left out).
    """
    print(f"\n$ python manage.py {' '.join(args)}", flush=True)
    argv = [sys.executable, str(DEMO / "manage.py"), *args]
    if head is None:
        done = subprocess.run(argv, cwd=DEMO, check=False)
    else:
        done = subprocess.run(argv, cwd=DEMO, check=False, capture_output=True, text=True)
        lines = done.stdout.splitlines()
        print("\n".join(lines[:head]))
        if len(lines) > head:
            print(f"  ... ({len(lines) - head} more lines)")
        sys.stderr.write(done.stderr)
    if check and done.returncode != 0:
        sys.exit(f"demo: `manage.py {' '.join(args)}` failed with exit code {done.returncode}")
    return done.returncode


def title(text: str) -> None:
    print(f"\n{'=' * 78}\n{text}\n{'=' * 78}", flush=True)


def setup(today: dt.date) -> None:
    title("The shop: a Django app on SQLite with forneria-ops in INSTALLED_APPS")
    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir()
    manage("migrate", "--verbosity", "0")
    manage(
        "seed_forneria",
        "--create-schema",
        "--productos",
        str(PRODUCTS),
        "--fecha",
        today.isoformat(),
    )


def alerts(today: dt.date) -> None:
    title("generar_alertas: expiry by lot, low stock and invoices due, in one transaction")
    manage("generar_alertas", "--dry-run", head=12)
    manage("generar_alertas")
    manage("mostrar_alertas", "--limit", "15")
    title("Run again the same day: nothing left to change (no duplicates)")
    manage("generar_alertas")
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    title(f"Tomorrow ({tomorrow}): messages move on by a day, updated in place")
    manage("generar_alertas", "--fecha", tomorrow)


def expiry(today: dt.date) -> None:
    title("verificar_vencimientos: expired lots and products moved to waste, exactly")
    manage("verificar_vencimientos", "--dry-run", head=14)
    manage("verificar_vencimientos")
    title("Again the same day (validar_vencimientos is the app's other name): nothing to move")
    manage("validar_vencimientos")
    title("scan_vencimientos(3): what the proximos-vencimientos views get (read-only)")
    manage(
        "shell",
        "--verbosity",
        "0",
        "-c",
        "import forneria_ops; s = forneria_ops.scan_vencimientos(3); "
        "print(s['count'], 'items, value at stake', s['valor_total']); "
        "[print(' ', i['caducidad'], i['dias_restantes'], i['nombre'], i['numero_lote'] or '-', "
        "i['cantidad'], i['valor']) for i in s['items'][:10]]",
    )


def backups(today: dt.date) -> None:
    title("backup_database: online SQLite backup, gzip, SHA-256 and a manifest, whole or nothing")
    manage("backup_database", "--type", "auto", "--dry-run")
    manage("backup_database", "--verify")
    title("listar_backups: the catalogue, read from the manifests on disk (--check re-hashes)")
    manage("listar_backups", "--check")
    title("restore_database: SHA-256 checked first, then the backup API copies it back")
    restored = VAR / "restored.sqlite3"
    manage("restore_database", str(only_backup()), "--target-database", str(restored), "--yes")
    title("A damaged backup is refused before anything is touched (exit status 1)")
    damaged = VAR / "backups" / "damaged.sqlite3.gz"
    manifest = only_backup().with_name(only_backup().name.split(".")[0] + ".json")
    shutil.copy(only_backup(), damaged)
    with damaged.open("r+b") as fh:
        fh.seek(damaged.stat().st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 0xFF]))
    bad_manifest = damaged.with_name("damaged.json")
    text = manifest.read_text().replace(only_backup().name, damaged.name)
    bad_manifest.write_text(text)
    code = manage("restore_database", str(damaged), "--yes", check=False)
    print(f"(exit status {code})")
    damaged.unlink()
    bad_manifest.unlink()


def operations(today: dt.date) -> None:
    title("mantener_logs: gzip logs older than 7 days, delete .gz older than 90, never a live file")
    logs = VAR / "logs"
    now = time.time()
    line = "2025-12-10 06:00:01 INFO ventas GET /ventas/ 200 in 12ms user=vendedor\n"
    for name, days in (("forneria.log.1", 2), ("forneria.log.2", 9), ("forneria.log.3", 16)):
        (logs / name).write_text(line * 20_000)
        os.utime(logs / name, (now - days * 86400,) * 2)
    (logs / "forneria.log.9.gz").write_bytes(gzip.compress(line.encode() * 1000))
    os.utime(logs / "forneria.log.9.gz", (now - 120 * 86400,) * 2)
    os.utime(logs / "forneria.log", (now - 30 * 86400,) * 2)  # quiet, but a handler's file
    manage("mantener_logs", "--dry-run")
    manage("mantener_logs")
    print("$ ls var/logs\n  " + "  ".join(sorted(p.name for p in logs.iterdir())))
    title("health_check: database, cache, disk, memory, CPU, last backup, last alert run")
    code = manage("health_check", check=False)
    print(f"(exit status {code})")
    title("/alive/ /ready/ /health/ on a running server (manage.py runserver)")
    http_endpoints()
    title("mantenimiento_diario: the whole daily plan from one cron line, one summary, one mail")
    code = manage("mantenimiento_diario", "--notify", check=False)
    print(f"(exit status {code})")


def http_endpoints() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, str(DEMO / "manage.py"), "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=DEMO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for path in ("/alive/", "/ready/", "/health/"):
            url = f"http://127.0.0.1:{port}{path}"
            for _ in range(100):  # until the server listens
                try:
                    with urllib.request.urlopen(url, timeout=10) as resp:
                        status, body = resp.status, json.loads(resp.read())
                    break
                except urllib.error.HTTPError as exc:
                    status, body = exc.code, json.loads(exc.read())
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                sys.exit(f"demo: no answer from {url}")
            parts = [f"{n}={c['status']}" for n, c in body.get("components", {}).items()]
            print(f"$ curl {url}\n  HTTP {status} status={body['status']} {' '.join(parts)}")
    finally:
        server.terminate()
        server.wait(timeout=10)


def only_backup() -> Path:
    return sorted((VAR / "backups").glob("*.sqlite3.gz"))[-1]


def main() -> None:
    today = dt.date.today()
    setup(today)
    alerts(today)
    expiry(today)
    backups(today)
    operations(today)
    print("\ndemo: done. The shop's database is demo/var/forneria.sqlite3.")


if __name__ == "__main__":
    main()
