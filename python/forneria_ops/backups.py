"""Backups seen from Django: which kind to take today, the catalogue of what is on disk, the
retention policy, the history table and the mail.

The engine (``_core.backup`` / ``restore`` / ``verify_backup`` / ``check_backup``) does every
byte of work and writes, beside each ``.sql.gz`` (MySQL) or ``.sqlite3.gz`` (SQLite), a JSON
manifest — last, atomically. A backup exists when its manifest does: a file without a manifest
is an interrupted write that the engine would have removed, and is never listed or restored.
The catalogue is therefore read from the manifests on disk, not from ``HistorialBackup``: a
restore at 3 a.m. on a fresh machine needs nothing but the directory.

Retention (grandfather-father-son, the manuals' 7 daily / 4 weekly / 12 monthly): of the good
backups of one database, keep the newest of each of the last ``daily`` days, the newest full of
each of the last ``weekly`` ISO weeks and of the last ``monthly`` months; ``--keep-days N``
replaces that with "everything from the last N days". Whatever the policy, the newest good full
backup and every full that a kept differential is based on are never deleted.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils import timezone

from forneria_ops import _core, conf, interrupts

logger = logging.getLogger("forneria_ops.backups")

MANIFEST_SUFFIX = ".json"


@dataclass(frozen=True)
class Backup:
    """One backup in the catalogue, as its manifest describes it."""

    manifest_path: Path
    file: Path
    kind: str  # "full" | "diff"
    engine: str  # "mysql" | "sqlite"
    database: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    base: str | None  # file name of the full a differential applies on
    sha256: str
    bytes_compressed: int
    bytes_raw: int
    rows: int
    tables: int
    duration_s: float
    manifest: dict[str, Any] = field(repr=False, compare=False, hash=False)

    @property
    def name(self) -> str:
        return self.file.name

    @property
    def file_present(self) -> bool:
        """The data file is there with the size the manifest recorded (cheap; the SHA-256 check
        is ``_core.check_backup``)."""
        try:
            return self.file.stat().st_size == self.bytes_compressed
        except OSError:
            return False


def _parse_time(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed


def from_manifest(path: Path, manifest: dict[str, Any]) -> Backup | None:
    """The catalogue entry for one manifest dict; None when it is not one of ours."""
    if manifest.get("tool") != "forneria-ops" or "file" not in manifest:
        return None
    started = _parse_time(manifest.get("started_at"))
    if started is None:
        return None
    data_file = Path(manifest["file"])
    if not data_file.is_absolute():
        data_file = path.parent / data_file
    # Directories get copied to other machines: trust the file beside the manifest first.
    beside = path.parent / data_file.name
    if beside.exists() or not data_file.exists():
        data_file = beside
    tables = manifest.get("tables") or []
    return Backup(
        manifest_path=path,
        file=data_file,
        kind=str(manifest.get("kind", "full")),
        engine=str(manifest.get("engine", "")),
        database=_database_identity(manifest),
        started_at=started,
        finished_at=_parse_time(manifest.get("finished_at")),
        base=manifest.get("base") or None,
        sha256=str(manifest.get("sha256", "")),
        bytes_compressed=int(manifest.get("bytes_compressed") or 0),
        bytes_raw=int(manifest.get("bytes_raw") or 0),
        rows=int(manifest.get("rows_total") or sum(int(t.get("rows") or 0) for t in tables)),
        tables=len(tables),
        duration_s=float(manifest.get("duration_s") or 0.0),
        manifest=manifest,
    )


def _database_identity(manifest: dict[str, Any]) -> str:
    name = str(manifest.get("database", ""))
    if manifest.get("engine") == "sqlite" and name:
        return str(Path(name).resolve())
    return name


def catalogue(directory: Path | None = None, *, database: str | None = None) -> list[Backup]:
    """Every backup whose manifest is in ``directory`` (oldest first), optionally only those of
    one database name. Unreadable manifests are logged and skipped, never fatal: one damaged
    file must not hide the others at 3 a.m."""
    directory = Path(directory or conf.backup_dir())
    if not directory.is_dir():
        return []
    found: list[Backup] = []
    for path in sorted(directory.glob("*" + MANIFEST_SUFFIX)):
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            logger.warning("skipping unreadable manifest %s: %s", path, exc)
            continue
        entry = from_manifest(path, manifest) if isinstance(manifest, dict) else None
        if entry is None:
            continue
        if database is not None and entry.database != database:
            continue
        found.append(entry)
    found.sort(key=lambda b: (b.started_at, b.name))
    return found


def database_name(settings_dict: dict[str, Any]) -> str:
    """The name the engine writes into manifests for this ``DATABASES`` entry."""
    name = str(settings_dict.get("NAME") or "")
    if "sqlite" in str(settings_dict.get("ENGINE", "")):
        return str(Path(name).resolve())  # the engine records the file's path
    return name


def is_sqlite(settings_dict: dict[str, Any]) -> bool:
    return "sqlite" in str(settings_dict.get("ENGINE", ""))


@dataclass(frozen=True)
class KindChoice:
    """What ``--type`` resolved to: the kind to take and, for a differential, its base."""

    kind: str
    base: Backup | None
    reason: str


def choose_kind(
    requested: str, *, today: dt.date, existing: list[Backup], sqlite: bool
) -> KindChoice:
    """Resolve ``--type full|diff|auto`` against the catalogue.

    ``auto`` takes a full on ``BACKUP_FULL_WEEKDAY`` (Monday by default, as the manuals do), when
    there is no good full to base a differential on, and always on SQLite (differentials
    are MySQL-only: a SQLite database is copied whole by its backup API); a differential
    otherwise. ``diff`` without a good full is an error, not a silent full.
    """
    fulls = [b for b in existing if b.kind == "full" and b.file_present]
    latest_full = fulls[-1] if fulls else None
    if requested == "full":
        return KindChoice("full", None, "requested")
    if requested == "diff":
        if sqlite:
            raise _core.ConfigError(
                "configuration: differential backups are for MySQL/MariaDB; "
                "a SQLite database is always backed up whole (use --type full or auto)"
            )
        if latest_full is None:
            raise _core.ConfigError(
                "configuration: no full backup of this database in the backup directory to "
                "base a differential on; run backup_database --type full first"
            )
        return KindChoice("diff", latest_full, "requested")
    if requested != "auto":
        raise _core.ConfigError(f"configuration: unknown backup type {requested!r}")
    weekday = int(conf.get("BACKUP_FULL_WEEKDAY"))
    if sqlite:
        return KindChoice("full", None, "SQLite databases are always backed up whole")
    if latest_full is None:
        return KindChoice("full", None, "no full backup yet")
    if today.weekday() == weekday:
        return KindChoice("full", None, f"full-backup day ({_WEEKDAYS[weekday]})")
    return KindChoice("diff", latest_full, f"differential on {latest_full.name}")


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass
class RetentionPlan:
    keep: list[Backup]
    delete: list[Backup]
    reasons: dict[str, str]  # file name -> why it is kept

    @property
    def bytes_freed(self) -> int:
        return sum(b.bytes_compressed for b in self.delete)


def retention_plan(
    backups: Iterable[Backup],
    *,
    now: dt.datetime,
    keep_days: int | None = None,
    daily: int | None = None,
    weekly: int | None = None,
    monthly: int | None = None,
) -> RetentionPlan:
    """Which backups of one database to keep and which to delete (see the module docs).

    Backups whose data file is missing or has the wrong size are neither counted as good nor
    deleted here: ``listar_backups`` shows them so a person can look.
    """
    daily = int(conf.get("BACKUP_KEEP_DAILY")) if daily is None else daily
    weekly = int(conf.get("BACKUP_KEEP_WEEKLY")) if weekly is None else weekly
    monthly = int(conf.get("BACKUP_KEEP_MONTHLY")) if monthly is None else monthly
    all_backups = sorted(backups, key=lambda b: (b.started_at, b.name))
    good = [b for b in all_backups if b.file_present]
    local = timezone.localtime
    reasons: dict[str, str] = {}

    def keep(backup: Backup, why: str) -> None:
        reasons.setdefault(backup.name, why)

    fulls = [b for b in good if b.kind == "full"]
    if fulls:
        keep(fulls[-1], "newest good full backup")
    if keep_days is not None:
        cutoff = now - dt.timedelta(days=keep_days)
        for b in good:
            if b.started_at >= cutoff:
                keep(b, f"younger than {keep_days} days")
    else:
        today = local(now).date()
        newest_per: dict[tuple, Backup] = {}
        for b in good:  # oldest first: later ones overwrite, leaving the newest per bucket
            day = local(b.started_at).date()
            if (today - day).days < daily:
                newest_per[("day", day)] = b
            if b.kind != "full":
                continue
            iso = day.isocalendar()
            this_week = today.isocalendar()
            weeks_ago = (
                dt.date.fromisocalendar(this_week[0], this_week[1], 1)
                - dt.date.fromisocalendar(iso[0], iso[1], 1)
            ).days // 7
            if weeks_ago < weekly:
                newest_per[("week", iso[0], iso[1])] = b
            months_ago = (today.year - day.year) * 12 + today.month - day.month
            if months_ago < monthly:
                newest_per[("month", day.year, day.month)] = b
        for bucket, b in sorted(newest_per.items(), key=lambda kv: kv[0]):
            label = {"day": "daily", "week": "weekly", "month": "monthly"}[bucket[0]]
            keep(b, f"{label} ({'-'.join(str(p) for p in bucket[1:])})")
    # A kept differential is useless without its full.
    by_name = {b.name: b for b in good}
    for b in good:
        if b.name in reasons and b.kind == "diff" and b.base in by_name:
            keep(by_name[b.base], f"base of {b.name}")
    kept = [b for b in good if b.name in reasons]
    delete = [b for b in good if b.name not in reasons]
    return RetentionPlan(keep=kept, delete=delete, reasons=reasons)


def delete_backup(backup: Backup) -> None:
    """Remove a backup: the manifest first (so a half-done deletion never looks like a good
    backup), then the data file."""
    backup.manifest_path.unlink(missing_ok=True)
    backup.file.unlink(missing_ok=True)


Interrupted = interrupts.Interrupted
stop_on_signals = interrupts.raise_on_signals


class BackupJob:
    """One ``backup_database`` run: choose the kind, back up, verify, record, apply retention."""

    def __init__(
        self,
        *,
        using: str = "default",
        kind: str = "full",
        output_dir: Path | None = None,
        today: dt.date | None = None,
        keep_days: int | None = None,
        retention: bool = True,
        verify: bool = False,
        level: int | None = None,
        threads: int | None = None,
    ):
        from forneria_ops import services

        self.using = using
        self.requested = kind
        self.settings = services.database_settings(using)
        self.sqlite = is_sqlite(self.settings)
        self.database = database_name(self.settings)
        self.output_dir = Path(output_dir or conf.backup_dir()).resolve()
        self.today = today or timezone.localdate()
        self.keep_days = keep_days
        self.retention = retention
        self.verify = verify
        self.level = int(conf.get("BACKUP_COMPRESS_LEVEL")) if level is None else level
        self.threads = threads or conf.get("BACKUP_THREADS")
        self.started = timezone.now()
        self.choice: KindChoice | None = None

    # -- planning -------------------------------------------------------------------------------

    def existing(self) -> list[Backup]:
        return catalogue(self.output_dir, database=self.database)

    def resolve_kind(self, existing: list[Backup]) -> KindChoice:
        self.choice = choose_kind(
            self.requested, today=self.today, existing=existing, sqlite=self.sqlite
        )
        return self.choice

    def policy_label(self) -> str:
        if self.keep_days is not None:
            return f"keep {self.keep_days} days"
        return "daily {} / weekly {} / monthly {}".format(
            conf.get("BACKUP_KEEP_DAILY"),
            conf.get("BACKUP_KEEP_WEEKLY"),
            conf.get("BACKUP_KEEP_MONTHLY"),
        )

    def retention_report(self, existing: list[Backup], deleted: bool) -> dict[str, Any] | None:
        if not self.retention:
            return None
        plan = retention_plan(existing, now=timezone.now(), keep_days=self.keep_days)
        if deleted:
            for b in plan.delete:
                delete_backup(b)
            _mark_deleted(self.using, [b.name for b in plan.delete])
        return {
            "policy": self.policy_label(),
            "kept": [b.name for b in plan.keep],
            "reasons": plan.reasons,
            "deleted": [b.name for b in plan.delete],
            "bytes_freed": plan.bytes_freed,
        }

    def plan(self) -> dict[str, Any]:
        """What ``--dry-run`` prints: the kind, its base, and what retention would delete now."""
        existing = self.existing()
        choice = self.resolve_kind(existing)
        return {
            "dry_run": True,
            "database": self.database,
            "alias": self.using,
            "engine": "sqlite" if self.sqlite else "mysql",
            "output_dir": str(self.output_dir),
            "kind": choice.kind,
            "base": choice.base.name if choice.base else None,
            "reason": choice.reason,
            "retention": self.retention_report(existing, deleted=False),
        }

    # -- running --------------------------------------------------------------------------------

    def prepare_dir(self) -> None:
        try:
            self.output_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise _core.FileError(
                f"backup directory {self.output_dir} cannot be created: {exc.strerror}"
            ) from None
        if not os.access(self.output_dir, os.W_OK | os.X_OK):
            raise _core.FileError(
                f"backup directory {self.output_dir} is not writable by this user "
                f"(uid {os.getuid()}); fix its permissions or pass --output-dir"
            )

    def run(self, progress=None) -> dict[str, Any]:
        """Back up; raises a ``ForneriaOpsError`` (or :class:`Interrupted`) on failure, after
        recording it in the history. Returns ``{"manifest", "verify", "retention"}``."""
        from forneria_ops import services

        self.started = timezone.now()
        try:
            with services.recorded("backup_database", self.using) as run:
                self.prepare_dir()
                existing = self.existing()
                choice = self.resolve_kind(existing)
                manifest = _core.backup(
                    self.settings,
                    str(self.output_dir),
                    kind=choice.kind,
                    base=str(choice.base.file) if choice.base else None,
                    threads=self.threads,
                    level=self.level,
                    lock_wait_seconds=float(conf.get("BACKUP_LOCK_WAIT")),
                    audit_columns=list(conf.get("BACKUP_AUDIT_COLUMNS")),
                    progress=progress,
                )
                verify = None
                if self.verify:
                    verify = _core.verify_backup(
                        self.settings, manifest["file"], threads=self.threads
                    )
                _record(self.using, self.started, manifest=manifest, verify=verify)
                retention = None
                if verify is None or verify["ok"]:
                    retention = self.retention_report(self.existing(), deleted=True)
                run["summary"] = {
                    "kind": manifest["kind"],
                    "file": Path(manifest["file"]).name,
                    "rows": manifest["rows_total"],
                    "bytes": manifest["bytes_compressed"],
                    "verified": None if verify is None else verify["ok"],
                    "deleted": len(retention["deleted"]) if retention else 0,
                }
            return {"manifest": manifest, "verify": verify, "retention": retention}
        except (_core.ForneriaOpsError, Interrupted) as exc:
            _record(self.using, self.started, error=str(exc), kind=self.choice)
            raise

    # -- mail -----------------------------------------------------------------------------------

    def _subject(self, outcome: str) -> str:
        return f"[forneria-ops] backup {outcome}: {self.database} ({self.using})"

    def success_mail(self, result: dict[str, Any]) -> tuple[str, str]:
        m = result["manifest"]
        lines = [
            f"{m['kind']} backup of {m['database']} written at {m['finished_at']}.",
            f"File: {m['file']}",
            f"Tables: {len(m['tables'])}, rows: {m['rows_total']}, "
            f"size: {m['bytes_compressed']} bytes ({m['bytes_raw']} uncompressed), "
            f"duration: {m['duration_s']:.1f} s",
            f"SHA-256: {m['sha256']}",
        ]
        lines += [f"Note: {n}" for n in m.get("consistency_notes") or []]
        outcome = "OK"
        v = result.get("verify")
        if v is not None:
            lines.append("Verification: " + ("OK" if v["ok"] else self.verify_problem(result)))
            if not v["ok"]:
                outcome = "VERIFY FAILED"
        r = result.get("retention")
        if r:
            lines.append(f"Retention ({r['policy']}): deleted {len(r['deleted'])} old backup(s).")
        return self._subject(outcome), "\n".join(lines) + "\n"

    def failure_mail(self, exc: BaseException) -> tuple[str, str]:
        body = (
            f"The {self.requested} backup of {self.database} (alias {self.using}) started at "
            f"{self.started.isoformat(timespec='seconds')} FAILED:\n\n{exc}\n\n"
            f"No file was written under a final name. Output directory: {self.output_dir}\n"
        )
        return self._subject("FAILED"), body

    @staticmethod
    def verify_problem(result: dict[str, Any]) -> str:
        bad = [t for t in result["verify"]["tables"] if not t["ok"]]
        return "checksum mismatch in " + ", ".join(
            f"{t['table']} (expected {t['expected']}, restored {t['restored']})" for t in bad
        )


def _record(using, started, *, manifest=None, verify=None, error=None, kind=None) -> None:
    """Mirror one attempt into ``HistorialBackup``; a failure to record is logged, never fatal."""
    from django.db import DatabaseError, router

    from forneria_ops.models import HistorialBackup

    now = timezone.now()
    fields: dict[str, Any] = {"base_datos": using, "inicio": started, "fin": now}
    fields["duracion_s"] = round((now - started).total_seconds(), 3)
    if manifest is not None:
        fields.update(
            estado=HistorialBackup.Estado.OK,
            nombre_bd=manifest.get("database", ""),
            motor=manifest.get("engine", ""),
            tipo=manifest.get("kind", "full"),
            archivo=str(manifest.get("file", "")),
            base=manifest.get("base") or "",
            tablas=len(manifest.get("tables") or []),
            filas=int(manifest.get("rows_total") or 0),
            bytes_sin_comprimir=int(manifest.get("bytes_raw") or 0),
            bytes_comprimidos=int(manifest.get("bytes_compressed") or 0),
            sha256=manifest.get("sha256", ""),
            verificado=None if verify is None else bool(verify["ok"]),
            manifiesto=manifest,
        )
        if verify is not None and not verify["ok"]:
            fields["error"] = "verification failed"
    else:
        fields.update(
            estado=HistorialBackup.Estado.FALLIDO,
            tipo=kind.kind if kind is not None else "full",
            error=(error or "")[:4000],
        )
    try:
        HistorialBackup.objects.using(router.db_for_write(HistorialBackup)).create(**fields)
    except DatabaseError as exc:
        logger.warning("could not record the backup in forneria_ops_historialbackup: %s", exc)


def _mark_deleted(using: str, names: list[str]) -> None:
    from django.db import DatabaseError, router

    from forneria_ops.models import HistorialBackup

    if not names:
        return
    try:
        rows = HistorialBackup.objects.using(router.db_for_write(HistorialBackup))
        for name in names:
            rows.filter(base_datos=using, archivo__endswith=name).update(
                estado=HistorialBackup.Estado.ELIMINADO
            )
    except DatabaseError as exc:
        logger.warning("could not mark deleted backups in the history: %s", exc)


def last_good_backup(using: str = "default"):
    """The newest successful ``HistorialBackup`` of an alias (health check), or None."""
    from forneria_ops.models import HistorialBackup

    return (
        HistorialBackup.objects.filter(base_datos=using, estado=HistorialBackup.Estado.OK)
        .exclude(verificado=False)
        .order_by("-fin")
        .first()
    )
