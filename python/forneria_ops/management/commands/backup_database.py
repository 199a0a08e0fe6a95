"""``manage.py backup_database``: a consistent, compressed, checksummed backup, with retention.

Replaces the manuals' ``mysqldump -p$PASSWORD | gzip`` cron line: the engine reads the database
over the native protocol (no password on any command line), writes the file whole or not at
all, then the manifest. Exit status 0 only when the backup (and ``--verify``, when asked) passed.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from forneria_ops import ForneriaOpsError, backups, conf, services
from forneria_ops.management.base import OpsCommand


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


class Command(OpsCommand):
    help = (
        "Back up a database (MySQL/MariaDB: consistent snapshot dumped as gzip SQL that the "
        "stock client can also load; SQLite: the online backup API) into the backup directory, "
        "with a JSON manifest beside it, then apply the retention policy. --type auto takes a "
        "full backup on FORNERIA_OPS['BACKUP_FULL_WEEKDAY'] and a differential otherwise."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--type",
            dest="kind",
            choices=("full", "diff", "auto"),
            default="full",
            help="full, diff (changes since the newest full) or auto (default: %(default)s).",
        )
        parser.add_argument(
            "--compress",
            action="store_true",
            default=True,
            help="gzip the backup (the default; kept because the manuals pass it).",
        )
        parser.add_argument(
            "--no-compress",
            dest="compress",
            action="store_false",
            help="store without compression (still a .gz container, level 0).",
        )
        parser.add_argument(
            "--output-dir",
            help="Directory for the backup and its manifest "
            "(default: FORNERIA_OPS['BACKUP_DIR'], else BASE_DIR/backups).",
        )
        parser.add_argument(
            "--keep-days",
            type=int,
            metavar="N",
            help="Retention: keep every backup of the last N days instead of the "
            "daily/weekly/monthly policy (7/4/12 by default).",
        )
        parser.add_argument(
            "--no-retention",
            action="store_true",
            help="Delete nothing after the backup.",
        )
        parser.add_argument(
            "--verify",
            action="store_true",
            help="Restore the new backup into a scratch database and compare every table's "
            "checksum with the one taken while dumping.",
        )
        parser.add_argument(
            "--notify",
            action="store_true",
            help="Mail the result (success or failure) to FORNERIA_OPS['NOTIFY_EMAILS'] or ADMINS.",
        )
        parser.add_argument(
            "--threads",
            type=int,
            help="Reader/compressor threads (default: FORNERIA_OPS['BACKUP_THREADS'] or CPUs).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Say which backup would be taken and which old ones retention would delete; "
            "write and delete nothing.",
        )

    def run(self, *, database, json, verbosity, **options):
        if options["keep_days"] is not None and options["keep_days"] < 0:
            raise CommandError("--keep-days must be >= 0")
        if options["threads"] is not None and options["threads"] < 1:
            raise CommandError("--threads must be >= 1")
        job = backups.BackupJob(
            using=database,
            kind=options["kind"],
            output_dir=Path(options["output_dir"]) if options["output_dir"] else None,
            today=services.local_today(options["fecha"]),
            keep_days=options["keep_days"],
            retention=not options["no_retention"],
            verify=options["verify"],
            level=int(conf.get("BACKUP_COMPRESS_LEVEL")) if options["compress"] else 0,
            threads=options["threads"],
        )
        if options["dry_run"]:
            plan = job.plan()
            if json:
                self.write_json(plan)
            else:
                self.show_plan(plan)
            return
        progress = None
        if not json and verbosity >= 1 and self.stdout.isatty():
            progress = self.progress_line
        try:
            with backups.stop_on_signals():
                result = job.run(progress=progress)
        except (ForneriaOpsError, backups.Interrupted) as exc:
            self.clear_progress(progress)
            if options["notify"]:
                self.notify(job.failure_mail(exc))
            if isinstance(exc, backups.Interrupted):
                raise CommandError(
                    f"backup {exc}; no backup was written", returncode=exc.exit_code
                ) from exc
            raise CommandError(f"backup failed: {exc}") from exc
        self.clear_progress(progress)
        if options["notify"]:
            self.notify(job.success_mail(result))
        if json:
            self.write_json(result)
        elif verbosity >= 1:
            self.show(result, verbosity)
        if result.get("verify") and not result["verify"]["ok"]:
            raise CommandError(
                "backup written but verification FAILED: " + job.verify_problem(result)
            )

    # -- output -------------------------------------------------------------------------------

    def progress_line(self, p: dict) -> None:
        elapsed = max(p.get("elapsed_s") or 0.0, 1e-3)
        rate = (p.get("bytes_raw") or 0) / elapsed / 1e6
        self.stdout.write(
            f"\r  {p.get('phase', '')}: tables {p.get('tables_done', 0)}/"
            f"{p.get('tables_total', 0)}, "
            f"{p.get('rows', 0):,} rows, {rate:.1f} MB/s   ",
            ending="",
        )
        self.stdout.flush()

    def clear_progress(self, progress) -> None:
        if progress is not None:
            self.stdout.write("\r" + " " * 78 + "\r", ending="")

    def show_plan(self, plan: dict) -> None:
        self.stdout.write(
            f"backup_database (dry run, nothing written): {plan['kind']} backup of "
            f"{plan['database']} ({plan['engine']}) into {plan['output_dir']}"
        )
        self.stdout.write(f"  because: {plan['reason']}")
        if plan.get("base"):
            self.stdout.write(f"  base: {plan['base']}")
        self.show_retention(plan["retention"], dry_run=True)

    def show(self, result: dict, verbosity: int) -> None:
        m = result["manifest"]
        self.stdout.write(
            f"backup_database: {m['kind']} backup of {m['database']} ({m['engine']}) written"
        )
        self.stdout.write(f"  file: {m['file']}")
        self.stdout.write(
            f"  {len(m['tables'])} tables, {m['rows_total']:,} rows, "
            f"{human_bytes(m['bytes_raw'])} -> {human_bytes(m['bytes_compressed'])} "
            f"in {m['duration_s']:.1f} s; sha256 {m['sha256']}"
        )
        if m.get("base"):
            self.stdout.write(f"  base: {m['base']}")
        for note in m.get("consistency_notes") or []:
            self.stdout.write(f"  note: {note}")
        if verbosity >= 2:
            for t in m["tables"]:
                flag = "" if t.get("consistent", True) else "  (not snapshot-consistent)"
                self.stdout.write(
                    f"    {t['name']}: {t['rows']:,} rows, {t.get('mode', 'full')}{flag}"
                )
        v = result.get("verify")
        if v:
            bad = [t["table"] for t in v["tables"] if not t["ok"]]
            verdict = "OK" if v["ok"] else "FAILED (" + ", ".join(bad) + ")"
            self.stdout.write(
                f"  verify: {verdict}, {len(v['tables'])} tables compared "
                f"in {v['duration_s']:.1f} s"
            )
        if result.get("retention") is not None:
            self.show_retention(result["retention"], dry_run=False)

    def show_retention(self, retention: dict | None, *, dry_run: bool) -> None:
        if retention is None:
            return
        verb = "would delete" if dry_run else "deleted"
        gone = retention["deleted"]
        self.stdout.write(
            f"  retention ({retention['policy']}): keeps {len(retention['kept'])}, {verb} "
            f"{len(gone)} ({human_bytes(retention['bytes_freed'])})"
        )
        for name in gone:
            self.stdout.write(f"    {verb}: {name}")

    def notify(self, mail: tuple[str, str]) -> None:
        sent, problem = services.send_notification(*mail)
        if problem:
            self.stderr.write(f"--notify: {problem}")
