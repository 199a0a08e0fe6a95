//! SQLite backups: the online backup API copies the database page by page into a temporary
//! file (consistent even while Django writes), which is then gzipped into `<name>.sqlite3.gz`.
//! Restore decompresses into a temporary file and copies it into the target with the backup
//! API again, so open connections to the target see a normal write, never a replaced file.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::checksum::TableSum;
use super::manifest::{self, Manifest, Snapshot, TableEntry};
use super::{
    check_cancel, iso, new_backup_paths, threads_or_default, utc_now, BackupOptions, BackupResult,
    Progress, RestoreOptions, RestoreReport, TableCheck, VerifyReport,
};
use crate::compress::{self, CompressOptions, DecompressOptions};
use crate::config::SqliteConfig;
use crate::error::{Error, Result};

/// A temporary file removed on drop.
struct TempPath(PathBuf);

impl TempPath {
    fn create(dir: &Path, stem: &str) -> Result<TempPath> {
        for attempt in 0..8u32 {
            let p = dir.join(format!(
                ".{stem}.tmp-{}-{}-{attempt}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.subsec_nanos())
                    .unwrap_or(0)
            ));
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&p)
            {
                Ok(_) => return Ok(TempPath(p)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(Error::Compress(compress::CompressError::from_io(
                        "creating a temporary file in",
                        dir,
                        e,
                    )))
                }
            }
        }
        Err(Error::Config(format!(
            "cannot create a temporary file in {}",
            dir.display()
        )))
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        for suffix in ["-journal", "-wal", "-shm"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

fn sq_err(context: &str, path: &Path, e: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        if f.code == rusqlite::ErrorCode::DiskFull {
            return Error::Compress(compress::CompressError::DiskFull {
                op: "writing",
                path: path.to_path_buf(),
            });
        }
        if matches!(
            f.code,
            rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt
        ) {
            return Error::Compress(compress::CompressError::Corrupt {
                path: path.to_path_buf(),
                offset: 0,
                detail: e.to_string(),
            });
        }
    }
    Error::Database {
        context: format!("{context} ({})", path.display()),
        message: e.to_string(),
        code: None,
        sqlstate: None,
    }
}

/// Copies `src` into `dst` with the backup API, a few pages at a time, checking `cancel`.
fn copy(
    src: &Connection,
    dst: &mut Connection,
    dst_path: &Path,
    progress: &Progress,
    cancel: &AtomicBool,
) -> Result<()> {
    let b = Backup::new(src, dst).map_err(|e| sq_err("starting the online backup", dst_path, e))?;
    loop {
        check_cancel(cancel, "sqlite backup cancelled")?;
        match b
            .step(1024)
            .map_err(|e| sq_err("copying pages", dst_path, e))?
        {
            StepResult::Done => break,
            StepResult::More => {}
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
        let p = b.progress();
        progress.bytes_raw.store(
            ((p.pagecount - p.remaining).max(0) as u64) * 4096,
            Ordering::Relaxed,
        );
    }
    Ok(())
}

/// Content checksums of every table, hashing each value with its storage class.
pub fn checksums(conn: &Connection, path: &Path) -> Result<Vec<(String, TableSum)>> {
    let mut names = Vec::new();
    {
        let mut st = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .map_err(|e| sq_err("listing tables", path, e))?;
        let mut rows = st
            .query([])
            .map_err(|e| sq_err("listing tables", path, e))?;
        while let Some(r) = rows.next().map_err(|e| sq_err("listing tables", path, e))? {
            names.push(
                r.get::<_, String>(0)
                    .map_err(|e| sq_err("listing tables", path, e))?,
            );
        }
    }
    let mut out = Vec::new();
    for name in names {
        let mut sum = TableSum::default();
        let sql = format!("SELECT * FROM \"{}\"", name.replace('"', "\"\""));
        let mut st = conn
            .prepare(&sql)
            .map_err(|e| sq_err("reading a table", path, e))?;
        let n = st.column_count();
        let mut rows = st
            .query([])
            .map_err(|e| sq_err("reading a table", path, e))?;
        let mut buf = Vec::new();
        while let Some(r) = rows
            .next()
            .map_err(|e| sq_err("reading a table", path, e))?
        {
            buf.clear();
            for i in 0..n {
                match r
                    .get_ref(i)
                    .map_err(|e| sq_err("reading a table", path, e))?
                {
                    ValueRef::Null => buf.push(b'N'),
                    ValueRef::Integer(v) => {
                        buf.push(b'I');
                        buf.extend_from_slice(&v.to_be_bytes());
                    }
                    ValueRef::Real(v) => {
                        buf.push(b'R');
                        buf.extend_from_slice(&v.to_bits().to_be_bytes());
                    }
                    ValueRef::Text(t) => {
                        buf.push(b'T');
                        buf.extend_from_slice(&(t.len() as u64).to_be_bytes());
                        buf.extend_from_slice(t);
                    }
                    ValueRef::Blob(t) => {
                        buf.push(b'B');
                        buf.extend_from_slice(&(t.len() as u64).to_be_bytes());
                        buf.extend_from_slice(t);
                    }
                }
            }
            sum.add_row(&buf);
        }
        out.push((name, sum));
    }
    Ok(out)
}

fn open_existing(path: &Path) -> Result<Connection> {
    if !path.exists() {
        return Err(Error::Connect {
            target: path.display().to_string(),
            message: "the database file does not exist".into(),
            code: None,
        });
    }
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| sq_err("opening", path, e))
}

pub fn backup(
    cfg: &SqliteConfig,
    dir: &Path,
    opts: &BackupOptions,
    progress: &Progress,
    cancel: &AtomicBool,
) -> Result<BackupResult> {
    let started_at = utc_now();
    let t0 = Instant::now();
    let threads = threads_or_default(opts.threads)?;
    let stem = cfg
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "db".into());
    let name = opts
        .name
        .clone()
        .unwrap_or_else(|| format!("{stem}_full_{}", started_at.format("%Y%m%dT%H%M%SZ")));
    let (file_name, path, mpath) = new_backup_paths(dir, &name, "sqlite3.gz")?;
    progress.set_phase("connecting");
    let src = open_existing(&cfg.path)?;
    let tmp = TempPath::create(dir, &name)?;
    progress.set_phase("copying");
    {
        let mut dst =
            Connection::open(&tmp.0).map_err(|e| sq_err("opening the copy", &tmp.0, e))?;
        copy(&src, &mut dst, &tmp.0, progress, cancel)?;
    }
    drop(src);
    progress.set_phase("checksums");
    let copy_conn = Connection::open_with_flags(&tmp.0, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| sq_err("opening the copy", &tmp.0, e))?;
    let sums = checksums(&copy_conn, &tmp.0)?;
    drop(copy_conn);
    progress
        .tables_total
        .store(sums.len() as u64, Ordering::Relaxed);
    progress
        .tables_done
        .store(sums.len() as u64, Ordering::Relaxed);
    progress
        .rows
        .store(sums.iter().map(|(_, s)| s.rows).sum(), Ordering::Relaxed);
    check_cancel(cancel, "sqlite backup cancelled")?;
    progress.set_phase("compressing");
    let rep = compress::compress_file(
        &tmp.0,
        Some(&path),
        &CompressOptions {
            level: opts.level,
            threads: Some(threads),
            cancel: Some(cancel),
            ..CompressOptions::default()
        },
    )?;
    drop(tmp);
    progress
        .bytes_written
        .store(rep.compressed_bytes, Ordering::Relaxed);
    let tables: Vec<TableEntry> = sums
        .iter()
        .map(|(n, s)| TableEntry {
            name: n.clone(),
            rows: s.rows,
            engine: "sqlite".into(),
            checksum: s.render(),
            consistent: true,
            mode: "full".into(),
            audit_max: Default::default(),
        })
        .collect();
    let m = Manifest {
        format_version: manifest::FORMAT_VERSION,
        tool: "forneria-ops".into(),
        tool_version: crate::VERSION.into(),
        kind: "full".into(),
        base: None,
        base_sha256: None,
        engine: "sqlite".into(),
        database: cfg.path.display().to_string(),
        server_version: rusqlite::version().into(),
        started_at: iso(started_at),
        finished_at: iso(utc_now()),
        duration_s: t0.elapsed().as_secs_f64(),
        file: file_name,
        sha256: rep.sha256,
        bytes_raw: rep.raw_bytes,
        bytes_compressed: rep.compressed_bytes,
        rows_total: tables.iter().map(|t| t.rows).sum(),
        tables,
        snapshot: Snapshot {
            method: "sqlite_backup_api".into(),
            ..Snapshot::default()
        },
        consistency_notes: Vec::new(),
        threads,
        compress_level: opts.level,
    };
    if let Err(e) =
        check_cancel(cancel, "sqlite backup cancelled").and_then(|_| manifest::write(&mpath, &m))
    {
        let _ = std::fs::remove_file(&path);
        return Err(e);
    }
    progress.set_phase("done");
    Ok(BackupResult {
        manifest: m,
        file_path: path,
        manifest_path: mpath,
    })
}

/// Decompresses a checked backup into a temporary file in `dir`.
fn unpack(file: &Path, m: &Manifest, dir: &Path, cancel: &AtomicBool) -> Result<TempPath> {
    let tmp = TempPath::create(dir, "forneria-restore")?;
    compress::decompress_file(
        file,
        Some(&tmp.0),
        &DecompressOptions {
            overwrite: true,
            expected_sha256: Some(&m.sha256),
            cancel: Some(cancel),
            ..DecompressOptions::default()
        },
    )?;
    Ok(tmp)
}

fn single(chain: &[(Manifest, PathBuf)]) -> Result<&(Manifest, PathBuf)> {
    let last = &chain[chain.len() - 1];
    if last.0.engine != "sqlite" {
        return Err(Error::Config(format!(
            "{} is a {} backup; it cannot be restored into a SQLite database",
            last.0.file, last.0.engine
        )));
    }
    Ok(last)
}

pub fn restore(
    cfg: &SqliteConfig,
    chain: &[(Manifest, PathBuf)],
    opts: &RestoreOptions,
    progress: &Progress,
    cancel: &AtomicBool,
) -> Result<RestoreReport> {
    let t0 = Instant::now();
    let (m, file) = single(chain)?;
    let target = opts
        .target_database
        .as_ref()
        .map(PathBuf::from)
        .unwrap_or_else(|| cfg.path.clone());
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    progress.set_phase("decompressing");
    let tmp = unpack(file, m, &dir, cancel)?;
    let src = Connection::open_with_flags(&tmp.0, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| sq_err("opening the backup", &tmp.0, e))?;
    progress.set_phase("restoring");
    let mut dst = if opts.target_database.is_some() {
        Connection::open(&target).map_err(|e| sq_err("opening the target", &target, e))?
    } else {
        open_existing(&target)?
    };
    dst.busy_timeout(Duration::from_secs(30))
        .map_err(|e| sq_err("configuring", &target, e))?;
    copy(&src, &mut dst, &target, progress, cancel)?;
    progress.set_phase("done");
    Ok(RestoreReport {
        database: target.display().to_string(),
        tables: m.tables.len(),
        rows: m.rows_total,
        statements: 0,
        duration_s: t0.elapsed().as_secs_f64(),
        applied: vec![file.display().to_string()],
    })
}

pub fn verify(
    chain: &[(Manifest, PathBuf)],
    progress: &Progress,
    cancel: &AtomicBool,
) -> Result<VerifyReport> {
    let t0 = Instant::now();
    let (m, file) = single(chain)?;
    progress.set_phase("decompressing");
    let tmp = unpack(file, m, &std::env::temp_dir(), cancel)?;
    progress.set_phase("comparing");
    let conn = Connection::open_with_flags(&tmp.0, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| sq_err("opening the backup", &tmp.0, e))?;
    let sums = checksums(&conn, &tmp.0)?;
    let checks: Vec<TableCheck> = m
        .tables
        .iter()
        .map(|t| {
            let restored = sums
                .iter()
                .find(|(n, _)| n == &t.name)
                .map(|(_, s)| s.render())
                .unwrap_or_else(|| "missing".into());
            TableCheck {
                table: t.name.clone(),
                ok: restored == t.checksum,
                expected: t.checksum.clone(),
                restored,
            }
        })
        .collect();
    Ok(VerifyReport {
        ok: checks.iter().all(|c| c.ok),
        tables: checks,
        scratch_database: tmp.0.display().to_string(),
        duration_s: t0.elapsed().as_secs_f64(),
    })
}
