//! `verificar_vencimientos` and `scan_vencimientos` for Python.

use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::{convert, errors};
use crate::jobs::{scan_vencimientos as scan, verificar_vencimientos as verificar};

/// Moves expired stock to waste (or, with `dry_run`, plans it) and returns the report as a dict.
///
/// `database` is a Django `DATABASES` entry; `today` (YYYY-MM-DD) is the shop's local date; `now`
/// is the value written to the date-and-time columns, as the database stores it. Raises
/// `LockBusyError` when another run keeps the lock past `wait_seconds`.
#[pyfunction]
#[pyo3(signature = (database, *, today, now, dry_run=false, wait_seconds=0.0, detail=false))]
pub fn verificar_vencimientos(
    py: Python<'_>,
    database: &Bound<'_, PyDict>,
    today: &str,
    now: &str,
    dry_run: bool,
    wait_seconds: f64,
    detail: bool,
) -> PyResult<Py<PyAny>> {
    let cfg = convert::db_config(py, database)?;
    let opts = verificar::Options {
        today: convert::date("today", today)?,
        now: convert::datetime("now", now)?,
        dry_run,
        wait: Duration::from_secs_f64(wait_seconds.max(0.0)),
        detail,
    };
    let report = py
        .detach(|| verificar::run(&cfg, &opts))
        .map_err(|e| errors::to_py(py, e))?;
    convert::to_python(py, &report)
}

/// Stock on sale expiring within `days` days of `today` (read-only), as a dict with `count` and
/// `items` (the app's keys `id`, `nombre`, `caducidad`, plus lot, days left, quantity, value).
#[pyfunction]
#[pyo3(signature = (database, *, today, days=7, include_expired=false))]
pub fn scan_vencimientos(
    py: Python<'_>,
    database: &Bound<'_, PyDict>,
    today: &str,
    days: i64,
    include_expired: bool,
) -> PyResult<Py<PyAny>> {
    let cfg = convert::db_config(py, database)?;
    let opts = scan::Options {
        today: convert::date("today", today)?,
        days,
        include_expired,
    };
    let report = py
        .detach(|| scan::run(&cfg, &opts))
        .map_err(|e| errors::to_py(py, e))?;
    convert::to_python(py, &report)
}
