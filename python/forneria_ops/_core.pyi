"""Typed stub of the native engine module (``src/py/``), checked against it by mypy's stubtest."""

from collections.abc import Callable
from os import PathLike
from typing import Any

__all__ = [
    "AuthError",
    "CancelledError",
    "ConfigError",
    "ConnectError",
    "CorruptFileError",
    "DataError",
    "DatabaseError",
    "DiskFullError",
    "FileError",
    "ForneriaOpsError",
    "LockBusyError",
    "SchemaError",
    "UnknownDatabaseError",
    "__version__",
    "backup",
    "check_backup",
    "compress",
    "decompress",
    "generar_alertas",
    "read_manifest",
    "reset_logging_cache",
    "restore",
    "scan_vencimientos",
    "sqlite_version",
    "verificar_vencimientos",
    "verify",
    "verify_backup",
]

__version__: str

class ForneriaOpsError(Exception): ...
class ConfigError(ForneriaOpsError): ...
class ConnectError(ForneriaOpsError): ...
class AuthError(ConnectError): ...
class UnknownDatabaseError(ConnectError): ...
class SchemaError(ForneriaOpsError): ...
class DatabaseError(ForneriaOpsError): ...
class LockBusyError(ForneriaOpsError): ...
class DataError(ForneriaOpsError): ...
class FileError(ForneriaOpsError): ...
class DiskFullError(FileError): ...
class CorruptFileError(FileError): ...
class CancelledError(ForneriaOpsError): ...

def reset_logging_cache() -> None: ...
def sqlite_version() -> str: ...
def generar_alertas(
    database: dict[str, Any],
    *,
    today: str,
    now: str,
    thresholds: dict[str, int] | None = None,
    invoice_states: list[str] | None = None,
    dry_run: bool = False,
    wait_seconds: float = 0.0,
    detail: bool = False,
) -> dict[str, Any]: ...
def verificar_vencimientos(
    database: dict[str, Any],
    *,
    today: str,
    now: str,
    dry_run: bool = False,
    wait_seconds: float = 0.0,
    detail: bool = False,
) -> dict[str, Any]: ...
def scan_vencimientos(
    database: dict[str, Any],
    *,
    today: str,
    days: int = 7,
    include_expired: bool = False,
) -> dict[str, Any]: ...
def compress(
    path: str | PathLike[str],
    output: str | PathLike[str] | None = None,
    *,
    level: int = 6,
    threads: int | None = None,
    block_size: int | None = None,
    overwrite: bool = False,
    keep: bool = True,
    mode: int | None = None,
) -> dict[str, Any]: ...
def decompress(
    path: str | PathLike[str],
    output: str | PathLike[str] | None = None,
    *,
    overwrite: bool = False,
    keep: bool = True,
    expected_sha256: str | None = None,
    mode: int | None = None,
) -> dict[str, Any]: ...
def verify(path: str | PathLike[str], *, expected_sha256: str | None = None) -> dict[str, Any]: ...
def backup(
    database: dict[str, Any],
    output_dir: str | PathLike[str],
    *,
    kind: str = "full",
    base: str | PathLike[str] | None = None,
    name: str | None = None,
    threads: int | None = None,
    level: int = 6,
    lock_wait_seconds: float = 5.0,
    audit_columns: list[str] | None = None,
    progress: Callable[[dict[str, Any]], object] | None = None,
) -> dict[str, Any]: ...
def restore(
    database: dict[str, Any],
    path: str | PathLike[str],
    *,
    target_database: str | None = None,
    threads: int | None = None,
    progress: Callable[[dict[str, Any]], object] | None = None,
) -> dict[str, Any]: ...
def verify_backup(
    database: dict[str, Any],
    path: str | PathLike[str],
    *,
    scratch_database: str | None = None,
    threads: int | None = None,
    progress: Callable[[dict[str, Any]], object] | None = None,
) -> dict[str, Any]: ...
def check_backup(path: str | PathLike[str]) -> dict[str, Any]: ...
def read_manifest(path: str | PathLike[str]) -> dict[str, Any]: ...
