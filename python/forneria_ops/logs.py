"""Log maintenance (``mantener_logs``): compress old logs, delete old compressed ones.

The manuals' policy: logs not written for ``LOG_COMPRESS_AFTER_DAYS`` (7) are gzipped in place
(``app.log.3`` -> ``app.log.3.gz``, same mtime, same permissions), and compressed logs older
than ``LOG_DELETE_AFTER_DAYS`` (90) are deleted. Ages are file modification times, so a
compressed file keeps the age of the log it holds.

What is never touched:

* the file of every logging handler of this process (``handler.baseFilename``) and every
  ``filename`` named in ``settings.LOGGING``: a handler keeps writing to its open file, and a
  quiet log can be older than the limit and still be live;
* any file another process on this machine holds open (``/proc/*/fd``, where readable): the
  web server's own log files, a ``tail -f``;
* hidden files (our own temporary files while compressing), directories, symlinks, files not
  named like a log (``*.log``, ``*.log.N``, ``*.log.2025-01-01``…).

Compression goes through the engine (``forneria_ops.compress``): the ``.gz`` appears whole or
not at all, and the log is removed only after its ``.gz`` is on disk.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from forneria_ops import conf

DAY = 86400.0


def configured_dirs() -> list[Path]:
    """``LOG_DIRS``, else the directories of the file handlers in ``settings.LOGGING``."""
    dirs = [Path(d) for d in conf.get("LOG_DIRS")]
    if not dirs:
        dirs = sorted({p.parent for p in _settings_log_files()})
    return dirs


def _settings_log_files() -> set[Path]:
    handlers = (getattr(settings, "LOGGING", None) or {}).get("handlers", {}) or {}
    found = set()
    for spec in handlers.values():
        if isinstance(spec, dict) and spec.get("filename"):
            found.add(Path(spec["filename"]).absolute())
    return found


def live_files() -> set[Path]:
    """Files logging handlers write to: this process's handlers and ``settings.LOGGING``."""
    found = _settings_log_files()
    loggers = [logging.getLogger()] + [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    for lg in loggers:
        for handler in lg.handlers:
            name = getattr(handler, "baseFilename", None)
            if name:
                found.add(Path(name).absolute())
    return {_real(p) for p in found}


def open_elsewhere(dirs: list[Path]) -> set[Path]:
    """Files under ``dirs`` that some process on this machine has open (Linux ``/proc``; the
    processes we may inspect). Empty where ``/proc`` is unavailable."""
    roots = [str(_real(d)) + os.sep for d in dirs]
    found: set[Path] = set()
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            fds = list((pid_dir / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if any(target.startswith(r) for r in roots):
                found.add(Path(target))
    return found


def _real(p: Path) -> Path:
    try:
        return p.resolve()
    except OSError:
        return p.absolute()


def human(n: int) -> str:
    """Bytes for people: 1.5 MB, 320 KB, 12 B (decimal units, as `ls -h --si`)."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(value) < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"  # pragma: no cover


def is_log_name(name: str) -> bool:
    if name.startswith("."):
        return False
    base = name[:-3] if name.endswith(".gz") else name
    return base.endswith(".log") or ".log." in base


@dataclass
class LogPlan:
    """What one pass over the directories does (or, dry, would do)."""

    dirs: list[str]
    compress_after_days: int
    delete_after_days: int
    dry_run: bool
    compressed: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    missing_dirs: list[str] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        bytes_in = sum(c["bytes_in"] for c in self.compressed)
        bytes_out = sum(c.get("bytes_out") or 0 for c in self.compressed)
        freed = sum(d["bytes"] for d in self.deleted)
        return {
            "dirs": self.dirs,
            "missing_dirs": self.missing_dirs,
            "compress_after_days": self.compress_after_days,
            "delete_after_days": self.delete_after_days,
            "dry_run": self.dry_run,
            "compressed": self.compressed,
            "deleted": self.deleted,
            "skipped": self.skipped,
            "errors": self.errors,
            "totals": {
                "compressed_files": len(self.compressed),
                "compressed_bytes_in": bytes_in,
                "compressed_bytes_out": bytes_out,
                # Dry runs do not compress, so only the input size is known.
                "bytes_saved_by_compression": 0 if self.dry_run else bytes_in - bytes_out,
                "deleted_files": len(self.deleted),
                "deleted_bytes": freed,
                "bytes_saved": (0 if self.dry_run else bytes_in - bytes_out) + freed,
                "skipped_files": len(self.skipped),
                "errors": len(self.errors),
            },
        }


def maintain(
    dirs: list[Path] | None = None,
    *,
    compress_after_days: int | None = None,
    delete_after_days: int | None = None,
    dry_run: bool = False,
    now: float | None = None,
    level: int = 6,
) -> dict[str, Any]:
    """One pass of the policy over ``dirs`` (default :func:`configured_dirs`); the report.

    A failure on one file is recorded in ``errors`` and the pass goes on with the others.
    """
    from forneria_ops import ForneriaOpsError, compress

    dirs = configured_dirs() if dirs is None else [Path(d) for d in dirs]
    n_days = (
        conf.get("LOG_COMPRESS_AFTER_DAYS") if compress_after_days is None else compress_after_days
    )
    m_days = conf.get("LOG_DELETE_AFTER_DAYS") if delete_after_days is None else delete_after_days
    now = time.time() if now is None else now
    plan = LogPlan([str(d) for d in dirs], n_days, m_days, dry_run)
    live = live_files()
    busy = open_elsewhere([d for d in dirs if d.is_dir()])

    for d in dirs:
        if not d.is_dir():
            plan.missing_dirs.append(str(d))
            continue
        for entry in sorted(d.iterdir()):
            name = entry.name
            if not is_log_name(name) or entry.is_symlink() or not entry.is_file():
                continue
            st = entry.stat()
            age_days = (now - st.st_mtime) / DAY
            real = _real(entry)
            if name.endswith(".gz"):
                if age_days > m_days:
                    item = {"path": str(entry), "bytes": st.st_size, "age_days": round(age_days, 1)}
                    if not dry_run:
                        try:
                            entry.unlink()
                        except OSError as exc:
                            plan.errors.append({"path": str(entry), "error": f"deleting: {exc}"})
                            continue
                    plan.deleted.append(item)
                continue
            if age_days <= n_days:
                continue
            if real in live:
                plan.skipped.append(
                    {"path": str(entry), "reason": "live file of a logging handler"}
                )
                continue
            if real in busy:
                plan.skipped.append({"path": str(entry), "reason": "open in another process"})
                continue
            target = _free_gz_name(entry, st.st_mtime)
            item = {
                "path": str(entry),
                "output": str(target),
                "bytes_in": st.st_size,
                "bytes_out": None,
                "age_days": round(age_days, 1),
            }
            if not dry_run:
                try:
                    rep = compress(entry, target, level=level, threads=1)
                    os.utime(target, (st.st_atime, st.st_mtime))
                    entry.unlink()
                except (ForneriaOpsError, OSError) as exc:
                    plan.errors.append({"path": str(entry), "error": str(exc)})
                    continue
                item["bytes_out"] = rep["bytes_out"]
                item["sha256"] = rep["sha256"]
            plan.compressed.append(item)
    return plan.report()


def _free_gz_name(src: Path, mtime: float) -> Path:
    """``src.gz``, or (when a rotated name was reused and its old ``.gz`` is still there)
    ``src.YYYYmmdd-HHMMSS.gz`` from the log's mtime, then ``-2``, ``-3``…"""
    first = src.with_name(src.name + ".gz")
    if not first.exists():
        return first
    stamp = datetime.fromtimestamp(mtime).strftime("%Y%m%d-%H%M%S")
    n = 1
    while True:
        suffix = f".{stamp}" if n == 1 else f".{stamp}-{n}"
        cand = src.with_name(f"{src.name}{suffix}.gz")
        if not cand.exists():
            return cand
        n += 1
