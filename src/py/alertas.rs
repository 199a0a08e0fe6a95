//! `generar_alertas` for Python.

use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::{convert, errors};
use crate::alertas::Thresholds;
use crate::jobs::generar_alertas::{run, Options};

/// Runs (or, with `dry_run`, plans) one alert generation and returns its report as a dict.
///
/// `database` is a Django `DATABASES` entry; `today` (YYYY-MM-DD) is the shop's local date; `now`
/// is the `fecha_generada` value as the database stores it; `thresholds` may hold
/// `expiry_red_days`, `expiry_yellow_days`, `invoice_red_days`, `invoice_yellow_days`,
/// `default_min_stock`. Raises `LockBusyError` when another run keeps the lock past `wait_seconds`.
#[pyfunction]
#[pyo3(signature = (database, *, today, now, thresholds=None, invoice_states=None, dry_run=false, wait_seconds=0.0, detail=false))]
#[allow(clippy::too_many_arguments)]
pub fn generar_alertas(
    py: Python<'_>,
    database: &Bound<'_, PyDict>,
    today: &str,
    now: &str,
    thresholds: Option<&Bound<'_, PyDict>>,
    invoice_states: Option<Vec<String>>,
    dry_run: bool,
    wait_seconds: f64,
    detail: bool,
) -> PyResult<Py<PyAny>> {
    let cfg = convert::db_config(py, database)?;
    let d = Thresholds::default();
    let opts = Options {
        today: convert::date("today", today)?,
        now: convert::datetime("now", now)?,
        thresholds: Thresholds {
            expiry_red_days: convert::int_or(thresholds, "expiry_red_days", d.expiry_red_days)?,
            expiry_yellow_days: convert::int_or(
                thresholds,
                "expiry_yellow_days",
                d.expiry_yellow_days,
            )?,
            invoice_red_days: convert::int_or(thresholds, "invoice_red_days", d.invoice_red_days)?,
            invoice_yellow_days: convert::int_or(
                thresholds,
                "invoice_yellow_days",
                d.invoice_yellow_days,
            )?,
            default_min_stock: convert::int_or(
                thresholds,
                "default_min_stock",
                d.default_min_stock,
            )?,
        },
        invoice_states: invoice_states
            .unwrap_or_else(|| vec!["pendiente".to_owned(), "parcial".to_owned()]),
        dry_run,
        wait: Duration::from_secs_f64(wait_seconds.max(0.0)),
        detail,
    };
    let report = py
        .detach(|| run(&cfg, &opts))
        .map_err(|e| errors::to_py(py, e))?;
    convert::to_python(py, &report)
}
