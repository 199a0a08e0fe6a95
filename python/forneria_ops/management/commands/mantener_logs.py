"""``manage.py mantener_logs``: compress old logs, delete old compressed logs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import CommandError
from django.utils import timezone

from forneria_ops import logs, services
from forneria_ops.logs import human
from forneria_ops.management.base import OpsCommand


class Command(OpsCommand):
    help = (
        "Log rotation as the manuals schedule it: gzip logs not written for N days "
        "(FORNERIA_OPS['LOG_COMPRESS_AFTER_DAYS'], 7) and delete compressed logs older than M "
        "days (LOG_DELETE_AFTER_DAYS, 90) in the log directories (LOG_DIRS, else the "
        "directories of the file handlers in settings.LOGGING). The file of every logging "
        "handler and any file another process holds open are never touched."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--dir",
            dest="dirs",
            action="append",
            metavar="PATH",
            help="Log directory (repeatable; default: LOG_DIRS or the LOGGING handlers' dirs).",
        )
        parser.add_argument(
            "--compress-after",
            type=int,
            metavar="DAYS",
            help="Compress logs older than DAYS (default: LOG_COMPRESS_AFTER_DAYS, 7).",
        )
        parser.add_argument(
            "--delete-after",
            type=int,
            metavar="DAYS",
            help="Delete compressed logs older than DAYS (default: LOG_DELETE_AFTER_DAYS, 90).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be done and change nothing."
        )

    def run(
        self, *, database, fecha, dirs, compress_after, delete_after, dry_run, json, verbosity, **_
    ):
        for name, value in (("--compress-after", compress_after), ("--delete-after", delete_after)):
            if value is not None and value < 0:
                raise CommandError(f"{name} must be >= 0 days")
        paths = [Path(d) for d in dirs] if dirs else logs.configured_dirs()
        if not paths:
            raise CommandError(
                "no log directory: set FORNERIA_OPS['LOG_DIRS'] or a file handler in "
                "settings.LOGGING, or pass --dir"
            )
        now = None
        if fecha:
            day = services.local_today(fecha)
            clock = timezone.localtime().timetz()
            now = dt.datetime.combine(day, clock).timestamp()
        with services.recorded("mantener_logs", database) as run:
            run["skip"] = dry_run
            report = logs.maintain(
                paths,
                compress_after_days=compress_after,
                delete_after_days=delete_after,
                dry_run=dry_run,
                now=now,
            )
            run["summary"] = report["totals"]
        if json:
            self.write_json(report)
        else:
            self.show(report, verbosity)
        if report["errors"]:
            raise CommandError(
                f"{len(report['errors'])} log file(s) could not be processed: "
                + "; ".join(f"{e['path']}: {e['error']}" for e in report["errors"][:5])
            )

    def show(self, report, verbosity):
        t = report["totals"]
        if verbosity >= 1:
            head = (
                "mantener_logs (dry run, nothing changed)" if report["dry_run"] else "mantener_logs"
            )
            self.stdout.write(
                f"{head}: {', '.join(report['dirs'])} (compress after "
                f"{report['compress_after_days']} days, delete compressed after "
                f"{report['delete_after_days']} days)"
            )
            verb = "would compress" if report["dry_run"] else "compressed"
            line = f"  {verb} {t['compressed_files']} file(s), {human(t['compressed_bytes_in'])}"
            if not report["dry_run"]:
                line += (
                    f" -> {human(t['compressed_bytes_out'])} "
                    f"(saved {human(t['bytes_saved_by_compression'])})"
                )
            self.stdout.write(line)
            verb = "would delete" if report["dry_run"] else "deleted"
            self.stdout.write(
                f"  {verb} {t['deleted_files']} compressed file(s), {human(t['deleted_bytes'])}"
            )
            if not report["dry_run"]:
                self.stdout.write(f"  disk space saved: {human(t['bytes_saved'])}")
            if t["skipped_files"]:
                self.stdout.write(f"  left alone (in use): {t['skipped_files']} file(s)")
            for d in report["missing_dirs"]:
                self.stdout.write(f"  missing directory (nothing to do): {d}")
        if verbosity >= 2 or report["dry_run"]:
            for c in report["compressed"]:
                size = human(c["bytes_in"])
                if c["bytes_out"] is not None:
                    size += f" -> {human(c['bytes_out'])}"
                self.stdout.write(f"  compress {c['path']} ({c['age_days']} days, {size})")
            for d in report["deleted"]:
                self.stdout.write(
                    f"  delete   {d['path']} ({d['age_days']} days, {human(d['bytes'])})"
                )
            for s in report["skipped"]:
                self.stdout.write(f"  skip     {s['path']} ({s['reason']})")
        for e in report["errors"]:
            self.stderr.write(f"  error    {e['path']}: {e['error']}")
