"""``manage.py restore_database FILE``: put a backup back, refusing anything that does not check.

Order matters at 3 a.m.: the file's SHA-256 is checked against its manifest before anything
else, a differential's base is found and checked too, and only then is the operator asked;
a corrupt, truncated or tampered file therefore never touches the database.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import CommandError

from forneria_ops import ForneriaOpsError, _core, backups, services
from forneria_ops.management.base import OpsCommand
from forneria_ops.management.commands.backup_database import human_bytes


class Command(OpsCommand):
    help = (
        "Restore a backup written by backup_database (its .sql.gz/.sqlite3.gz file or its "
        ".json manifest). The SHA-256 is checked first; a differential is applied on its base "
        "full backup. Asks before overwriting unless --yes."
    )
    takes_date = False

    def add_arguments(self, parser):
        parser.add_argument("file", help="Backup file or its manifest (.json).")
        super().add_arguments(parser)
        parser.add_argument(
            "--target-database",
            metavar="NAME",
            help="Restore into this database (MySQL: schema name, created if missing; SQLite: "
            "file path) instead of the alias's own.",
        )
        parser.add_argument(
            "--yes",
            "--noinput",
            dest="yes",
            action="store_true",
            help="Do not ask before replacing the target's tables.",
        )
        parser.add_argument("--threads", type=int, help="Loader connections (default: CPUs).")

    def run(self, *, file, database, json, verbosity, target_database, yes, threads, **options):
        if threads is not None and threads < 1:
            raise CommandError("--threads must be >= 1")
        path = Path(file)
        if not path.exists():
            raise CommandError(f"no such backup: {path}")
        checked = _core.check_backup(str(path))  # CorruptFileError -> CommandError, nothing touched
        settings = services.database_settings(database)
        target = target_database or str(settings.get("NAME") or "")
        chain = f" on top of its base {checked['base']}" if checked.get("base") else ""
        what = (
            f"{checked['kind']} backup of {checked['database']} taken {checked['started_at']}"
            f"{chain}"
        )
        if verbosity >= 1 and not json:
            self.stdout.write(f"restore_database: {what}; SHA-256 OK")
        if not yes:
            self.confirm(
                f"Replace the tables of database {target!r} (alias {database}) with this backup?"
            )
        progress = None
        if not json and verbosity >= 1 and self.stdout.isatty():
            progress = self.progress_line
        try:
            with backups.stop_on_signals():
                report = _core.restore(
                    settings,
                    str(path),
                    target_database=target_database,
                    threads=threads,
                    progress=progress,
                )
        except backups.Interrupted as exc:
            raise CommandError(
                f"restore {exc}: the target database may be partly restored; run the restore again",
                returncode=exc.exit_code,
            ) from exc
        except ForneriaOpsError as exc:
            raise CommandError(f"restore failed: {exc}") from exc
        if progress is not None:
            self.stdout.write("\r" + " " * 78 + "\r", ending="")
        if json:
            self.write_json(report)
        elif verbosity >= 1:
            self.stdout.write(
                f"  restored into {report.get('database', target)}: {report.get('tables', 0)} "
                f"tables, {report.get('rows', 0):,} rows in {report.get('duration_s', 0.0):.1f} s"
            )
            for step in report.get("applied") or []:
                self.stdout.write(f"    applied {step}")

    def confirm(self, question: str) -> None:
        if not sys.stdin.isatty():
            raise CommandError(
                "refusing to overwrite without confirmation: no terminal to ask on; pass --yes"
            )
        answer = input(f"{question} Type 'yes' to continue: ")
        if answer.strip().lower() != "yes":
            raise CommandError("restore cancelled; nothing was changed")

    def progress_line(self, p: dict) -> None:
        self.stdout.write(
            f"\r  {p.get('phase', '')}: tables {p.get('tables_done', 0)}/"
            f"{p.get('tables_total', 0)}, "
            f"{p.get('rows', 0):,} rows, {human_bytes(p.get('bytes_raw') or 0)}   ",
            ending="",
        )
        self.stdout.flush()
