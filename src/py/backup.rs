//! `backup`, `restore`, `verify_backup`, `check_backup` and `read_manifest` for Python.
//!
//! Long calls run through [`super::cancel::run_interruptible`]: SIGTERM/Ctrl-C stop the engine
//! cleanly (no file under a final name, temp files removed) and raise `CancelledError` (or the
//! signal handler's own exception). `progress`, if given, is called about every 100 ms with a
//! dict `{"phase", "tables_done", "tables_total", "rows", "bytes_raw", "bytes_written",
//! "elapsed_s"}`; an exception it raises cancels the run.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::cancel::run_interruptible;
use super::{convert, errors};
use crate::backup::{self as engine, BackupOptions, Kind, Progress, RestoreOptions};

fn tick<'a>(
    progress: &'a Progress,
    callback: Option<&'a Bound<'_, PyAny>>,
) -> impl FnMut(Python<'_>) -> PyResult<()> + 'a {
    move |py| {
        if let Some(cb) = callback {
            let snap = progress.snapshot();
            let done = snap.phase == "done";
            let result = convert::to_python(py, &snap).and_then(|d| cb.call1((d,)).map(|_| ()));
            match result {
                // The work is finished and its files are committed: a failing callback on
                // the last report must not turn that into a failure. Report it and go on.
                Err(e) if done => e.write_unraisable(py, None),
                other => other?,
            }
        }
        Ok(())
    }
}

/// Backs up the database into `output_dir`; returns the manifest plus `file` and
/// `manifest_path` (absolute paths).
#[pyfunction]
#[pyo3(signature = (
    database, output_dir, *, kind="full", base=None, name=None, threads=None, level=6,
    lock_wait_seconds=5.0, audit_columns=None, progress=None
))]
#[allow(clippy::too_many_arguments)]
pub fn backup(
    py: Python<'_>,
    database: &Bound<'_, PyDict>,
    output_dir: PathBuf,
    kind: &str,
    base: Option<PathBuf>,
    name: Option<String>,
    threads: Option<usize>,
    level: u32,
    lock_wait_seconds: f64,
    audit_columns: Option<Vec<String>>,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let cfg = convert::db_config(py, database)?;
    let mut opts = BackupOptions {
        kind: Kind::parse(kind).map_err(|e| errors::to_py(py, e))?,
        base,
        name,
        threads,
        level,
        lock_wait_seconds,
        ..BackupOptions::default()
    };
    if let Some(cols) = audit_columns {
        opts.audit_columns = cols;
    }
    let state = Progress::default();
    let result = run_interruptible(
        py,
        |cancel| engine::backup(&cfg, &output_dir, &opts, &state, cancel),
        tick(&state, progress.as_ref()),
    )?
    .map_err(|e| errors::to_py(py, e))?;
    convert::to_python(py, &result)
}

/// Restores a backup (file or manifest; a differential on top of its base) after checking its
/// SHA-256; returns `{"database", "tables", "rows", "statements", "duration_s", "applied"}`.
#[pyfunction]
#[pyo3(signature = (database, path, *, target_database=None, threads=None, progress=None))]
pub fn restore(
    py: Python<'_>,
    database: &Bound<'_, PyDict>,
    path: PathBuf,
    target_database: Option<String>,
    threads: Option<usize>,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let cfg = convert::db_config(py, database)?;
    let opts = RestoreOptions {
        target_database,
        threads,
    };
    let state = Progress::default();
    let report = run_interruptible(
        py,
        |cancel| engine::restore(&cfg, &path, &opts, &state, cancel),
        tick(&state, progress.as_ref()),
    )?
    .map_err(|e| errors::to_py(py, e))?;
    convert::to_python(py, &report)
}

/// Restores a backup into a scratch schema (dropped afterwards) and compares every table's
/// checksum with the manifest: `{"ok", "tables": [{"table", "expected", "restored", "ok"}],
/// "scratch_database", "duration_s"}`.
#[pyfunction]
#[pyo3(signature = (database, path, *, scratch_database=None, threads=None, progress=None))]
pub fn verify_backup(
    py: Python<'_>,
    database: &Bound<'_, PyDict>,
    path: PathBuf,
    scratch_database: Option<String>,
    threads: Option<usize>,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let cfg = convert::db_config(py, database)?;
    let state = Progress::default();
    let report = run_interruptible(
        py,
        |cancel| {
            engine::verify(
                &cfg,
                &path,
                scratch_database.as_deref(),
                threads,
                &state,
                cancel,
            )
        },
        tick(&state, progress.as_ref()),
    )?
    .map_err(|e| errors::to_py(py, e))?;
    convert::to_python(py, &report)
}

/// Checks a backup file against its manifest (gzip structure, CRCs, SHA-256); returns the
/// manifest with `"sha256_ok": True` or raises `CorruptFileError`.
#[pyfunction]
pub fn check_backup(py: Python<'_>, path: PathBuf) -> PyResult<Py<PyAny>> {
    let report = run_interruptible(
        py,
        |cancel| engine::check_backup(&path, Some(cancel)),
        |_| Ok(()),
    )?
    .map_err(|e| errors::to_py(py, e))?;
    convert::to_python(py, &report)
}

/// The manifest of a backup (`path` is the backup file or its manifest).
#[pyfunction]
pub fn read_manifest(py: Python<'_>, path: PathBuf) -> PyResult<Py<PyAny>> {
    let m = engine::read_manifest(&path).map_err(|e| errors::to_py(py, e))?;
    convert::to_python(py, &m)
}
