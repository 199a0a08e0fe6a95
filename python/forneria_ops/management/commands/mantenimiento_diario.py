"""``manage.py mantenimiento_diario``: the manuals' whole daily plan from one cron line."""

from __future__ import annotations

import contextlib
import fcntl
import io
import json as jsonlib
import signal
import time
from pathlib import Path
from typing import Any

from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import CommandError
from django.db import connections

from forneria_ops import interrupts, services
from forneria_ops.logs import human
from forneria_ops.management.base import OpsCommand

#: (step, command, fixed options, needs the database lock), in the manuals' order: the backup
#: first (before anything changes the data), then logs, expired stock to waste, and the alerts
#: last so they see the stock the expiry step left.
STEPS: list[tuple[str, str, dict[str, Any], bool]] = [
    ("backup", "backup_database", {"type": "auto"}, True),
    ("logs", "mantener_logs", {}, False),
    ("vencimientos", "verificar_vencimientos", {}, True),
    ("alertas", "generar_alertas", {}, True),
]
STEP_NAMES = [s[0] for s in STEPS]
#: Steps about files on this machine: their ages are wall-clock ages, so --fecha (the shop's
#: "today" for the data jobs) is not passed to them.
WALL_CLOCK_STEPS = {"logs"}


@contextlib.contextmanager
def plan_lock(alias: str):
    """Yields True when this process may run the database steps: one holder per database.

    MySQL/MariaDB: ``GET_LOCK`` (not waiting) on Django's connection, so app servers sharing
    the database run the plan's database steps once; SQLite: an ``flock`` on a file beside the
    database (all its app servers are on one machine). Other backends: always True.
    """
    conn = connections[alias]
    if conn.vendor == "mysql":
        name = f"forneria_ops.daily.{conn.settings_dict['NAME']}"[:64]
        with conn.cursor() as cur:
            cur.execute("SELECT GET_LOCK(%s, 0)", [name])
            got = cur.fetchone()[0] == 1
        try:
            yield got
        finally:
            if got:
                with conn.cursor() as cur:
                    cur.execute("SELECT RELEASE_LOCK(%s)", [name])
    elif conn.vendor == "sqlite" and str(conn.settings_dict["NAME"]) not in ("", ":memory:"):
        path = Path(str(conn.settings_dict["NAME"]) + ".forneria-ops-daily.lock")
        try:
            fh = open(path, "a")  # closed by the with below
        except OSError:  # a read-only directory: one machine anyway, run unlocked
            yield True
            return
        with fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
    else:
        yield True


class PlanInterrupted(interrupts.Interrupted):
    """SIGTERM or SIGINT during the plan: the running step stops, the next ones don't start."""


def stop_on_signals():
    return interrupts.raise_on_signals(PlanInterrupted)


def _option_dests(command) -> set[str]:
    parser = command.create_parser("manage.py", "step")
    return {a.dest for a in parser._actions}


def step_line(step: str, report: Any) -> str:
    """One line about a step's report (its --json output)."""
    if not isinstance(report, dict):
        return ""
    try:
        if step == "logs":
            t = report["totals"]
            return (
                f"compressed {t['compressed_files']} file(s), deleted {t['deleted_files']}, "
                f"saved {human(t['bytes_saved'])}"
            )
        if step == "vencimientos":
            return (
                f"lots expired {report['lots_expired']}, products to waste "
                f"{report['products_wasted']}, alerts resolved {report['alerts_resolved']}"
            )
        if step == "alertas":
            return (
                f"created {report['created']}, updated {report['updated']}, "
                f"resolved {report['resolved']}, total {report['counts']['total']}"
            )
        if step == "backup" and "manifest" in report:
            m = report["manifest"]
            line = f"{m['kind']} backup {m['file']}, {human(m['bytes_compressed'])}"
            if report.get("retention"):
                line += f", retention deleted {len(report['retention']['deleted'])}"
            return line
        if step == "backup" and "reason" in report:  # the dry-run plan
            return f"would take a {report['kind']} backup ({report['reason']})"
    except (KeyError, TypeError):
        pass
    return ""


class Command(OpsCommand):
    help = (
        "The daily maintenance plan in one run: backup (backup_database --type auto: full on "
        "BACKUP_FULL_WEEKDAY, differential otherwise, with retention), log maintenance "
        "(mantener_logs), expired stock to waste (verificar_vencimientos) and alerts "
        "(generar_alertas). A failing step does not stop the others; the exit status is 1 if "
        "any failed. One summary (text or --json) and, with --notify, one mail. On several app "
        "servers the database steps run on one of them (a database lock); logs run on each."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--skip",
            action="append",
            choices=STEP_NAMES,
            default=[],
            metavar="STEP",
            help=f"Leave a step out (repeatable): {', '.join(STEP_NAMES)}.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Pass --dry-run to every step: change nothing."
        )
        parser.add_argument(
            "--notify", action="store_true", help="Mail the summary to NOTIFY_EMAILS (else ADMINS)."
        )

    def run(self, *, database, fecha, skip, dry_run, notify, json, verbosity, **_):
        today = services.local_today(fecha)
        started = time.perf_counter()
        results: list[dict[str, Any]] = []
        with services.recorded("mantenimiento_diario", database) as rec:
            rec["skip"] = dry_run
            interrupted: int | None = None
            with plan_lock(database) as holder, stop_on_signals():
                for step, command, fixed, needs_lock in STEPS:
                    skipped = (
                        "--skip"
                        if step in skip
                        else "the plan was interrupted"
                        if interrupted
                        else "another server is running the daily plan"
                        if needs_lock and not holder
                        else None
                    )
                    if skipped:
                        results.append(
                            {
                                "step": step,
                                "command": command,
                                "status": "skipped",
                                "reason": skipped,
                            }
                        )
                        continue
                    try:
                        result = self.run_step(
                            step,
                            command,
                            fixed,
                            database=database,
                            fecha=today,
                            dry_run=dry_run,
                            verbosity=verbosity,
                        )
                    except PlanInterrupted as exc:
                        result = {
                            "step": step,
                            "command": command,
                            "status": "failed",
                            "error": str(exc),
                        }
                        interrupted = exc.signum
                    signum = result.pop("signum", None)
                    if signum:
                        interrupted = signum
                    results.append(result)
            failed = [r["step"] for r in results if r["status"] == "failed"]
            report = {
                "fecha": today.isoformat(),
                "database": database,
                "dry_run": dry_run,
                "status": "failed" if failed else "ok",
                "failed": failed,
                "seconds": round(time.perf_counter() - started, 3),
                "steps": results,
            }
            rec["summary"] = {r["step"]: r["status"] for r in results}
            text = self.format(report, verbosity)
            if notify:
                report["notified"] = self.mail(report, text)
            if json:
                self.write_json(report)
            elif verbosity >= 1:
                self.stdout.write(text)
            if interrupted:
                raise CommandError(
                    f"daily plan interrupted by {signal.Signals(interrupted).name}; "
                    "the steps after it did not run",
                    returncode=128 + interrupted,
                )
            if failed:
                raise CommandError(f"daily plan: {len(failed)} step(s) failed: {', '.join(failed)}")

    def run_step(self, step, command, fixed, *, database, fecha, dry_run, verbosity):
        out, err = io.StringIO(), io.StringIO()
        t0 = time.perf_counter()
        result: dict[str, Any] = {"step": step, "command": command}
        try:
            app = get_commands().get(command)
            if app is None:
                raise CommandError(f"Unknown command: {command!r}")
            cmd = load_command_class(app, command) if isinstance(app, str) else app
            dests = _option_dests(cmd)
            kwargs = dict(fixed)
            wanted = {
                "database": database,
                "fecha": fecha.isoformat(),
                "json": True,
                "dry_run": dry_run,
            }
            if step in WALL_CLOCK_STEPS:
                del wanted["fecha"]
            for key, value in wanted.items():
                if key in dests:
                    kwargs[key] = value
            if dry_run and "dry_run" not in dests:
                result.update(status="skipped", reason="the command has no --dry-run")
                return result
            call_command(cmd, stdout=out, stderr=err, verbosity=verbosity, **kwargs)
            result["status"] = "ok"
        except (Exception, SystemExit) as exc:  # one step's failure never stops the plan...
            result["status"] = "failed"
            result["error"] = str(exc) or type(exc).__name__
            # ...but a step that was itself stopped by SIGTERM/SIGINT (exit status 128 + n)
            # stops it: the operator or systemd asked the whole run to end.
            code = getattr(exc, "returncode", 0)
            if code in (128 + signal.SIGINT, 128 + signal.SIGTERM):
                result["signum"] = code - 128
        finally:
            result["seconds"] = round(time.perf_counter() - t0, 3)
        text = out.getvalue().strip()
        try:
            result["report"] = jsonlib.loads(text) if text else None
        except ValueError:
            result["output"] = text
        if err.getvalue().strip():
            result["stderr"] = err.getvalue().strip()
        return result

    def format(self, report, verbosity) -> str:
        head = (
            "mantenimiento_diario (dry run, nothing changed)"
            if report["dry_run"]
            else ("mantenimiento_diario")
        )
        lines = [f"{head}: {report['fecha']} on {report['database']}"]
        for r in report["steps"]:
            status = {"ok": "ok", "failed": "FAILED", "skipped": "skipped"}[r["status"]]
            what = r.get("error") or r.get("reason") or step_line(r["step"], r.get("report"))
            secs = f"{r['seconds']:6.2f} s" if "seconds" in r else " " * 8
            lines.append(f"  {status:<8} {r['step']:<13} {secs}  {what}".rstrip())
            if verbosity >= 2 and r.get("stderr"):
                lines += [f"      {line}" for line in r["stderr"].splitlines()]
        n = len(report["failed"])
        ran = sum(1 for r in report["steps"] if r["status"] != "skipped")
        lines.append(
            f"result: {'OK' if not n else 'FAILED'} - {ran - n} of {ran} step(s) ok"
            + (f", failed: {', '.join(report['failed'])}" if n else "")
            + f" ({report['seconds']:.1f} s)"
        )
        return "\n".join(lines)

    def mail(self, report, text) -> bool:
        state = "OK" if report["status"] == "ok" else "FAILED: " + ", ".join(report["failed"])
        subject = (
            f"[forneria-ops] mantenimiento diario {report['fecha']} ({report['database']}): {state}"
        )
        sent, problem = services.send_notification(subject, text)
        if problem:
            self.stderr.write(f"--notify: {problem}")
        return sent
