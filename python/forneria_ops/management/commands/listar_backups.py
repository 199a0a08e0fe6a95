"""``manage.py listar_backups``: the backup catalogue, read from the manifests on disk."""

from __future__ import annotations

from pathlib import Path

from django.utils import timezone

from forneria_ops import ForneriaOpsError, _core, backups, conf
from forneria_ops.management.base import OpsCommand
from forneria_ops.management.commands.backup_database import human_bytes


class Command(OpsCommand):
    help = (
        "List the backups in the backup directory with their kind, size and rows, and the "
        "totals: count, space used, last full and last differential. --check re-reads every "
        "file and compares its SHA-256 with the manifest."
    )
    takes_date = False

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--output-dir", help="Backup directory (default: BACKUP_DIR).")
        parser.add_argument(
            "--all-databases",
            action="store_true",
            help="List every database's backups, not only the alias's.",
        )
        parser.add_argument(
            "--check", action="store_true", help="Verify every file's SHA-256 (reads them all)."
        )

    def run(self, *, database, json, verbosity, output_dir, all_databases, check, **options):
        from forneria_ops import services

        directory = Path(output_dir) if output_dir else conf.backup_dir()
        name = None
        if not all_databases:
            name = backups.database_name(services.database_settings(database))
        entries = backups.catalogue(directory, database=name)
        rows = []
        for b in entries:
            status = "ok" if b.file_present else "FILE MISSING OR WRONG SIZE"
            if check and b.file_present:
                try:
                    _core.check_backup(str(b.manifest_path))
                except ForneriaOpsError as exc:
                    status = f"CORRUPT: {exc}"
            rows.append((b, status))
        fulls = [b for b, s in rows if b.kind == "full" and s == "ok"]
        diffs = [b for b, s in rows if b.kind == "diff" and s == "ok"]
        summary = {
            "directory": str(directory),
            "database": name,
            "count": len(rows),
            "bytes": sum(b.bytes_compressed for b, _ in rows),
            "last_full": fulls[-1].name if fulls else None,
            "last_full_at": fulls[-1].started_at.isoformat() if fulls else None,
            "last_diff": diffs[-1].name if diffs else None,
            "last_diff_at": diffs[-1].started_at.isoformat() if diffs else None,
            "problems": sum(1 for _, s in rows if s != "ok"),
        }
        if json:
            self.write_json(
                {
                    "summary": summary,
                    "backups": [
                        {
                            "file": str(b.file),
                            "manifest": str(b.manifest_path),
                            "kind": b.kind,
                            "engine": b.engine,
                            "database": b.database,
                            "started_at": b.started_at.isoformat(),
                            "base": b.base,
                            "rows": b.rows,
                            "tables": b.tables,
                            "bytes_compressed": b.bytes_compressed,
                            "bytes_raw": b.bytes_raw,
                            "duration_s": b.duration_s,
                            "sha256": b.sha256,
                            "status": status,
                        }
                        for b, status in rows
                    ],
                }
            )
            return
        self.stdout.write(
            f"{summary['count']} backup(s) of {name or 'every database'} in {directory}, "
            f"{human_bytes(summary['bytes'])} in all"
        )
        self.stdout.write(f"  last full: {self._when(fulls)}")
        self.stdout.write(f"  last differential: {self._when(diffs)}")
        if summary["problems"]:
            self.stdout.write(f"  problems: {summary['problems']} (see below)")
        if verbosity >= 1 and rows:
            self.stdout.write("")
            self.stdout.write(
                f"  {'started':<20} {'kind':<5} {'database':<16} {'size':>10} {'rows':>12} "
                f"{'time':>7}  file / status"
            )
            for b, status in rows:
                when = timezone.localtime(b.started_at).strftime("%Y-%m-%d %H:%M:%S")
                shown = Path(b.database).name if b.engine == "sqlite" else b.database
                self.stdout.write(
                    f"  {when:<20} {b.kind:<5} {shown[:16]:<16} "
                    f"{human_bytes(b.bytes_compressed):>10} {b.rows:>12,} {b.duration_s:>6.1f}s  "
                    f"{b.name}" + ("" if status == "ok" else f"  [{status}]")
                )
                if verbosity >= 2 and b.base:
                    self.stdout.write(f"  {'':<20} base: {b.base}")

    @staticmethod
    def _when(items) -> str:
        if not items:
            return "none"
        b = items[-1]
        age = timezone.now() - b.started_at
        hours = age.total_seconds() / 3600
        ago = f"{hours:.1f} h ago" if hours < 48 else f"{hours / 24:.1f} days ago"
        return f"{b.name} ({ago})"
