//! Python values to engine structs and back.
//!
//! Reports go back as plain dicts built from their serde form (through `json.loads`), so the
//! Python side gets exactly the fields the engine declares, with no hand-kept mirror to drift.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use serde::Serialize;

use crate::config::{DbConfig, DjangoDatabase, Secret};

/// A Django `DATABASES` entry (`ENGINE`, `NAME`, `USER`, `PASSWORD`, `HOST`, `PORT`, `OPTIONS`)
/// to the engine's connection settings. Non-scalar `OPTIONS` (ssl dicts…) are skipped.
pub fn db_config(py: Python<'_>, d: &Bound<'_, PyDict>) -> PyResult<DbConfig> {
    let get = |key: &str| -> PyResult<String> {
        match d.get_item(key)? {
            None => Ok(String::new()),
            Some(v) if v.is_none() => Ok(String::new()),
            Some(v) => v.str()?.extract(),
        }
    };
    let mut options = BTreeMap::new();
    if let Some(opts) = d.get_item("OPTIONS")? {
        if let Ok(opts) = opts.cast::<PyDict>() {
            for (k, v) in opts.iter() {
                let is_scalar = v.is_instance_of::<PyString>()
                    || v.extract::<i64>().is_ok()
                    || v.extract::<f64>().is_ok()
                    || v.hasattr("__fspath__")?;
                if is_scalar && !v.is_none() {
                    options.insert(k.str()?.extract()?, v.str()?.extract()?);
                }
            }
        }
    }
    let db = DjangoDatabase {
        engine: get("ENGINE")?,
        name: get("NAME")?,
        user: get("USER")?,
        password: Secret::new(get("PASSWORD")?),
        host: get("HOST")?,
        port: get("PORT")?,
        options,
    };
    DbConfig::from_django(&db).map_err(|e| super::errors::to_py(py, e))
}

pub fn date(name: &str, s: &str) -> PyResult<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| PyValueError::new_err(format!("{name}: {s:?} is not a date (YYYY-MM-DD)")))
}

pub fn datetime(name: &str, s: &str) -> PyResult<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f"))
        .map_err(|_| PyValueError::new_err(format!("{name}: {s:?} is not a naive date and time")))
}

/// An optional integer from a dict of settings, keeping `default` when absent.
pub fn int_or(d: Option<&Bound<'_, PyDict>>, key: &str, default: i64) -> PyResult<i64> {
    match d.map(|d| d.get_item(key)).transpose()?.flatten() {
        Some(v) if !v.is_none() => v.extract(),
        _ => Ok(default),
    }
}

/// Any serialisable engine value as plain Python objects.
pub fn to_python<T: Serialize>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    let text = serde_json::to_string(value)
        .map_err(|e| PyValueError::new_err(format!("serialising a report: {e}")))?;
    let loads = py.import("json")?.getattr("loads")?;
    Ok(loads.call1((text,))?.unbind())
}
