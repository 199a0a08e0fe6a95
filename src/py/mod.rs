//! Python bindings: the only place that knows PyO3.
//!
//! Each `#[pyfunction]` converts Python arguments to engine structs, runs the engine with the GIL
//! released (views keep serving while a job runs), and returns plain dicts. Engine errors become
//! one exception class per [`crate::ErrorKind`], all under `ForneriaOpsError` ([`errors`]).

mod alertas;
mod backup;
mod cancel;
mod compress;
mod convert;
mod errors;
mod vencimientos;

use std::sync::OnceLock;

use pyo3::prelude::*;

static LOG_RESET: OnceLock<pyo3_log::ResetHandle> = OnceLock::new();

/// Forget the cached Python logger levels, so a `LOGGING` change made after import (Django's
/// `dictConfig`) takes effect for Rust records too. `AppConfig.ready()` calls it.
#[pyfunction]
fn reset_logging_cache() {
    if let Some(handle) = LOG_RESET.get() {
        handle.reset();
    }
}

/// The SQLite library the engine runs on (`sqlite3_libversion()`); the system check compares it
/// with Python's `sqlite3.sqlite_version` to catch two SQLite copies in one process.
#[pyfunction]
fn sqlite_version() -> &'static str {
    rusqlite::version()
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Rust log targets `_core::jobs::…` become Python loggers `forneria_ops._core.jobs.…`.
    let logger = pyo3_log::Logger::new(m.py(), pyo3_log::Caching::LoggersAndLevels)?
        .set_prefix("forneria_ops");
    if let Ok(handle) = logger.install() {
        let _ = LOG_RESET.set(handle);
    }
    m.add("__version__", crate::VERSION)?;
    errors::register(m)?;
    m.add_function(wrap_pyfunction!(reset_logging_cache, m)?)?;
    m.add_function(wrap_pyfunction!(sqlite_version, m)?)?;
    m.add_function(wrap_pyfunction!(alertas::generar_alertas, m)?)?;
    m.add_function(wrap_pyfunction!(vencimientos::verificar_vencimientos, m)?)?;
    m.add_function(wrap_pyfunction!(vencimientos::scan_vencimientos, m)?)?;
    m.add_function(wrap_pyfunction!(compress::compress, m)?)?;
    m.add_function(wrap_pyfunction!(compress::decompress, m)?)?;
    m.add_function(wrap_pyfunction!(compress::verify, m)?)?;
    m.add_function(wrap_pyfunction!(backup::backup, m)?)?;
    m.add_function(wrap_pyfunction!(backup::restore, m)?)?;
    m.add_function(wrap_pyfunction!(backup::verify_backup, m)?)?;
    m.add_function(wrap_pyfunction!(backup::check_backup, m)?)?;
    m.add_function(wrap_pyfunction!(backup::read_manifest, m)?)?;
    Ok(())
}
