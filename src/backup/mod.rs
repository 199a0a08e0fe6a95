//! Backups: consistent dumps of MySQL/MariaDB and SQLite databases, restore, verification.
//!
//! * MySQL/MariaDB ([`mysql_dump`], [`mysql_restore`]): one gzip file of SQL (independent gzip
//!   members, compressed in parallel) that the stock client restores (`gunzip < f | mariadb db`)
//!   and that [`restore`] loads faster by running the data statements on several connections.
//! * SQLite ([`sqlite`]): SQLite's online backup API into a temporary file, then gzip.
//! * Every backup gets a manifest ([`manifest`]) written last: SHA-256 of the file, tables, rows
//!   and a content checksum per table computed while dumping, inside the snapshot.
//!
//! # Invariants
//!
//! * Whole or nothing: the backup and its manifest are written through
//!   [`crate::compress::AtomicFile`] (temp name in the target directory, fsync, rename, mode
//!   0600), the manifest after the file; on any failure or cancellation no file is left under a
//!   final name and the temporary files are gone.
//! * A restore checks the SHA-256 of every file of the chain against its manifest before it
//!   touches the database.
//! * The password is never written anywhere: connections use the native protocol.
//!
//! # File layout (MySQL)
//!
//! A header of `SET` statements (utf8mb4, time zone `+00:00`, checks off, SQL mode), the tables'
//! `DROP`/`CREATE` statements, view placeholders, then the rows between the comment lines
//! `-- forneria-ops:data-begin` and `-- forneria-ops:data-end`, one multi-row `INSERT` per line
//! (strings escape line breaks, so an `INSERT` line is always a whole statement), then views,
//! triggers, routines and events (under `DELIMITER ;;`). Our restore runs the header on every
//! connection, the statements outside the data section in order on one connection, and the
//! data lines on `threads` connections in parallel.

pub mod checksum;
pub mod manifest;
pub mod mysql_dump;
pub mod mysql_restore;
pub mod sqlite;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;

use crate::compress::{self, VerifyOptions};
use crate::config::DbConfig;
use crate::error::{Error, Result};

pub use manifest::{Manifest, Snapshot, TableEntry};

/// Default audit columns of differential backups (issue 3 §2).
pub const DEFAULT_AUDIT_COLUMNS: &[&str] = &[
    "modificado",
    "creado",
    "fecha_actualizacion",
    "fecha_creacion",
    "updated_at",
    "created_at",
];

/// Live counters of a running backup, restore or verification, read by the progress callback.
#[derive(Debug)]
pub struct Progress {
    phase: Mutex<&'static str>,
    pub tables_done: AtomicU64,
    pub tables_total: AtomicU64,
    pub rows: AtomicU64,
    pub bytes_raw: AtomicU64,
    pub bytes_written: AtomicU64,
    started: Instant,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            phase: Mutex::new("starting"),
            tables_done: AtomicU64::new(0),
            tables_total: AtomicU64::new(0),
            rows: AtomicU64::new(0),
            bytes_raw: AtomicU64::new(0),
            bytes_written: AtomicU64::new(0),
            started: Instant::now(),
        }
    }
}

/// A point-in-time copy of [`Progress`], as handed to Python.
#[derive(Debug, Clone, Serialize)]
pub struct ProgressSnapshot {
    pub phase: String,
    pub tables_done: u64,
    pub tables_total: u64,
    pub rows: u64,
    pub bytes_raw: u64,
    pub bytes_written: u64,
    pub elapsed_s: f64,
}

impl Progress {
    pub fn set_phase(&self, phase: &'static str) {
        *self.phase.lock().unwrap_or_else(|p| p.into_inner()) = phase;
    }

    pub fn snapshot(&self) -> ProgressSnapshot {
        ProgressSnapshot {
            phase: self
                .phase
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .to_string(),
            tables_done: self.tables_done.load(Ordering::Relaxed),
            tables_total: self.tables_total.load(Ordering::Relaxed),
            rows: self.rows.load(Ordering::Relaxed),
            bytes_raw: self.bytes_raw.load(Ordering::Relaxed),
            bytes_written: self.bytes_written.load(Ordering::Relaxed),
            elapsed_s: self.started.elapsed().as_secs_f64(),
        }
    }
}

/// Full or differential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Full,
    Diff,
}

impl Kind {
    pub fn parse(s: &str) -> Result<Kind> {
        match s {
            "full" => Ok(Kind::Full),
            "diff" => Ok(Kind::Diff),
            other => Err(Error::Config(format!(
                "backup kind must be \"full\" or \"diff\", got {other:?}"
            ))),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Full => "full",
            Kind::Diff => "diff",
        }
    }
}

/// Options of [`backup`].
#[derive(Debug, Clone)]
pub struct BackupOptions {
    pub kind: Kind,
    /// Base of a differential: the base full backup's file or manifest.
    pub base: Option<PathBuf>,
    /// File stem; default `<db>_<kind>_<YYYYmmddTHHMMSSZ>`.
    pub name: Option<String>,
    /// Reader connections (MySQL) and compression threads; default: CPUs (at most 4 readers).
    pub threads: Option<usize>,
    /// Gzip level 0-9, default 6.
    pub level: u32,
    /// Longest wait for the global read lock that starts the parallel snapshot, default 5 s.
    pub lock_wait_seconds: f64,
    /// Audit columns of differentials.
    pub audit_columns: Vec<String>,
    /// MySQL: InnoDB tables with a one-column integer primary key spanning at least twice this
    /// many key values are read in ranges of this many keys by all connections at once.
    /// Default 250,000; 0 turns it off.
    pub chunk_keys: u64,
}

impl Default for BackupOptions {
    fn default() -> Self {
        BackupOptions {
            kind: Kind::Full,
            base: None,
            name: None,
            threads: None,
            level: compress::DEFAULT_LEVEL,
            lock_wait_seconds: 5.0,
            audit_columns: DEFAULT_AUDIT_COLUMNS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            chunk_keys: 250_000,
        }
    }
}

/// What [`backup`] returns: the manifest and where it and the file are. Serialised as the
/// manifest's keys with `file` replaced by the absolute path, plus `manifest_path`.
#[derive(Debug, Clone)]
pub struct BackupResult {
    pub manifest: Manifest,
    /// Absolute path of the backup file (the manifest's `file` is its name only).
    pub file_path: PathBuf,
    pub manifest_path: PathBuf,
}

impl Serialize for BackupResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut v = serde_json::to_value(&self.manifest).map_err(serde::ser::Error::custom)?;
        if let Some(obj) = v.as_object_mut() {
            obj.insert("file".into(), self.file_path.display().to_string().into());
            obj.insert(
                "manifest_path".into(),
                self.manifest_path.display().to_string().into(),
            );
        }
        v.serialize(s)
    }
}

/// Options of [`restore`].
#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    /// Restore into this schema (MySQL; created if missing) or file (SQLite) instead.
    pub target_database: Option<String>,
    pub threads: Option<usize>,
}

/// What [`restore`] did.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    pub database: String,
    pub tables: usize,
    pub rows: u64,
    pub statements: u64,
    pub duration_s: f64,
    /// Files applied, base first.
    pub applied: Vec<String>,
}

/// One table's comparison in [`verify`].
#[derive(Debug, Clone, Serialize)]
pub struct TableCheck {
    pub table: String,
    pub expected: String,
    pub restored: String,
    pub ok: bool,
}

/// What [`verify`] found.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub ok: bool,
    pub tables: Vec<TableCheck>,
    pub scratch_database: String,
    pub duration_s: f64,
}

/// A good backup's manifest with `sha256_ok: true`.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    #[serde(flatten)]
    pub manifest: Manifest,
    pub sha256_ok: bool,
}

pub(crate) fn check_cancel(cancel: &AtomicBool, what: &str) -> Result<()> {
    if cancel.load(Ordering::Relaxed) {
        return Err(Error::Cancelled(format!("{what}; no file was left behind")));
    }
    Ok(())
}

/// Most reader/writer connections (and compression threads) one run uses.
pub const MAX_THREADS: usize = 8;

pub(crate) fn threads_or_default(threads: Option<usize>) -> Result<usize> {
    match threads {
        Some(0) => Err(Error::Config("threads must be at least 1".into())),
        // The connection pool holds 16 connections per settings; a run uses threads + 2.
        Some(n) => Ok(n.min(MAX_THREADS)),
        None => Ok(std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(4)),
    }
}

pub(crate) fn utc_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

pub(crate) fn iso(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Checks that `dir` is a writable directory before any work starts.
pub(crate) fn check_output_dir(dir: &Path) -> Result<PathBuf> {
    let meta =
        std::fs::metadata(dir).map_err(|e| Error::io("opening the output directory", dir, e))?;
    if !meta.is_dir() {
        return Err(Error::Config(format!(
            "output directory {} is not a directory",
            dir.display()
        )));
    }
    let abs = std::path::absolute(dir).map_err(|e| Error::io("resolving", dir, e))?;
    Ok(abs)
}

/// Makes a backup of `cfg` into `output_dir`.
pub fn backup(
    cfg: &DbConfig,
    output_dir: &Path,
    opts: &BackupOptions,
    progress: &Progress,
    cancel: &AtomicBool,
) -> Result<BackupResult> {
    if opts.level > 9 {
        return Err(Error::Config(format!(
            "compression level must be 0 to 9, got {}",
            opts.level
        )));
    }
    if !(opts.lock_wait_seconds >= 0.0 && opts.lock_wait_seconds.is_finite()) {
        return Err(Error::Config("lock_wait_seconds must be >= 0".into()));
    }
    let dir = check_output_dir(output_dir)?;
    match cfg {
        DbConfig::Mysql(m) => mysql_dump::backup(m, &dir, opts, progress, cancel),
        DbConfig::Sqlite(s) => {
            if opts.kind == Kind::Diff {
                return Err(Error::Config(
                    "differential backups are MySQL/MariaDB-only; back up a SQLite database \
                     with kind=\"full\" (the whole file is copied)"
                        .into(),
                ));
            }
            sqlite::backup(s, &dir, opts, progress, cancel)
        }
    }
}

/// Checks a backup file against its manifest: gzip structure, every member's CRC and the
/// SHA-256. `path` is the backup file or its manifest.
pub fn check_backup(path: &Path, cancel: Option<&AtomicBool>) -> Result<CheckReport> {
    let (m, mpath) = manifest::read(path)?;
    let file = manifest::file_path(&mpath, &m);
    compress::verify_file(
        &file,
        &VerifyOptions {
            expected_sha256: Some(&m.sha256),
            cancel,
        },
    )?;
    Ok(CheckReport {
        manifest: m,
        sha256_ok: true,
    })
}

/// Reads a backup's manifest (`path` is the backup file or its manifest).
pub fn read_manifest(path: &Path) -> Result<Manifest> {
    Ok(manifest::read(path)?.0)
}

/// The chain to apply for `path`: the base full first for a differential. Every file's SHA-256
/// is checked here, before anything touches a database.
pub(crate) fn checked_chain(path: &Path, cancel: &AtomicBool) -> Result<Vec<(Manifest, PathBuf)>> {
    let (m, mpath) = manifest::read(path)?;
    let mut chain = Vec::new();
    if m.kind == "diff" {
        let base_name = m.base.clone().ok_or_else(|| {
            Error::Config(format!(
                "{}: differential backup without a base",
                mpath.display()
            ))
        })?;
        let base_file = mpath.with_file_name(&base_name);
        let (bm, bmpath) = manifest::read(&base_file)?;
        if let Some(expected) = &m.base_sha256 {
            if &bm.sha256 != expected {
                return Err(Error::Config(format!(
                    "{}: its base {} is not the backup it was taken against (sha-256 differs); \
                     the base was replaced",
                    mpath.display(),
                    base_name
                )));
            }
        }
        chain.push((bm, bmpath));
    }
    chain.push((m, mpath));
    for (m, mpath) in &chain {
        let file = manifest::file_path(mpath, m);
        compress::verify_file(
            &file,
            &VerifyOptions {
                expected_sha256: Some(&m.sha256),
                cancel: Some(cancel),
            },
        )?;
    }
    Ok(chain
        .into_iter()
        .map(|(m, mpath)| {
            let file = manifest::file_path(&mpath, &m);
            (m, file)
        })
        .collect())
}

/// Restores a backup (a differential on top of its base) into `cfg`'s database or
/// `opts.target_database`. Refuses a corrupt, truncated or tampered file before touching it.
pub fn restore(
    cfg: &DbConfig,
    path: &Path,
    opts: &RestoreOptions,
    progress: &Progress,
    cancel: &AtomicBool,
) -> Result<RestoreReport> {
    progress.set_phase("checking");
    let chain = checked_chain(path, cancel)?;
    match cfg {
        DbConfig::Mysql(m) => mysql_restore::restore(m, &chain, opts, progress, cancel),
        DbConfig::Sqlite(s) => sqlite::restore(s, &chain, opts, progress, cancel),
    }
}

/// Restores a backup into a scratch schema (or file) and compares every table's checksum with
/// the one recorded at dump time. The scratch copy is dropped afterwards, also on error.
pub fn verify(
    cfg: &DbConfig,
    path: &Path,
    scratch: Option<&str>,
    threads: Option<usize>,
    progress: &Progress,
    cancel: &AtomicBool,
) -> Result<VerifyReport> {
    progress.set_phase("checking");
    let chain = checked_chain(path, cancel)?;
    let report = match cfg {
        DbConfig::Mysql(m) => mysql_restore::verify(m, &chain, scratch, threads, progress, cancel),
        DbConfig::Sqlite(_) => sqlite::verify(&chain, progress, cancel),
    }?;
    progress.set_phase("done");
    Ok(report)
}

/// A backup's file stem: no path separators, no leading dot.
pub(crate) fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() || name.contains('/') || name.contains('\0') || name.starts_with('.') {
        return Err(Error::Config(format!(
            "backup name {name:?} must be a plain file name (no '/', not starting with '.')"
        )));
    }
    Ok(())
}

/// The data file name, its path and the manifest path of a new backup `<dir>/<name>.<ext>`
/// (manifest `<dir>/<name>.json`). A backup never replaces another: either path existing is an
/// error, checked before any work starts.
pub(crate) fn new_backup_paths(
    dir: &Path,
    name: &str,
    ext: &str,
) -> Result<(String, PathBuf, PathBuf)> {
    validate_name(name)?;
    let file_name = format!("{name}.{ext}");
    let path = dir.join(&file_name);
    let mpath = dir.join(format!("{name}.json"));
    for p in [&path, &mpath] {
        if std::fs::symlink_metadata(p).is_ok() {
            return Err(Error::Config(format!(
                "{} already exists; choose another name",
                p.display()
            )));
        }
    }
    Ok((file_name, path, mpath))
}
