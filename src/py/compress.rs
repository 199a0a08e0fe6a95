//! `compress`, `decompress` and `verify` for Python: the engine's parallel gzip
//! ([`crate::compress`]) behind three functions that return plain report dicts.
//!
//! The work runs through [`super::cancel::run_interruptible`]: off the GIL, and Ctrl-C or SIGTERM
//! stops it between blocks with no file left under the final name.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::cancel::run_interruptible;
use super::errors;
use crate::compress::{
    compress_file, decompress_file, verify_file, CompressError, CompressOptions, DecompressOptions,
    VerifyOptions, DEFAULT_BLOCK_SIZE, DEFAULT_MODE,
};
use crate::error::Error;

fn to_py(py: Python<'_>, e: CompressError) -> PyErr {
    errors::to_py(py, Error::from(e))
}

/// The permission bits of `src` (what `gzip` gives its output), or 0o600 if unreadable.
fn mode_of(src: &Path) -> u32 {
    std::fs::metadata(src)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(DEFAULT_MODE)
}

/// Removes the source once the output is committed (`keep=False`), like `gzip` without `-k`.
fn remove_source(src: &Path) -> Result<(), CompressError> {
    std::fs::remove_file(src).map_err(|e| CompressError::from_io("removing", src, e))
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Compresses `path` into `output` (default: `path` + ".gz") as a multi-member gzip file that
/// `gzip -d`, `zcat` and Python's `gzip` read; returns a report dict.
///
/// Keys: `path`, `output`, `bytes_in`, `bytes_out`, `ratio` (out / in), `saved_bytes`,
/// `members`, `sha256` (of the `.gz`), `seconds`, `mb_per_s` (input MB per second), `level`,
/// `threads`, `block_size`, `kept` (the source is still there). The output appears whole or not
/// at all; an existing output is refused unless `overwrite`. `mode` (default: the source's
/// permission bits) is applied exactly. `keep=False` removes the source after the output is
/// safely on disk. Raises `FileError` (missing source, existing output), `DiskFullError`,
/// `ConfigError` (bad level/threads/block size) or `CancelledError`/`KeyboardInterrupt`.
#[pyfunction]
// The default level is [`crate::compress::DEFAULT_LEVEL`] (written out: a text signature
// cannot show a constant).
#[pyo3(signature = (path, output=None, *, level=6, threads=None, block_size=None, overwrite=false, keep=true, mode=None))]
#[allow(clippy::too_many_arguments)]
pub fn compress(
    py: Python<'_>,
    path: PathBuf,
    output: Option<PathBuf>,
    level: u32,
    threads: Option<usize>,
    block_size: Option<usize>,
    overwrite: bool,
    keep: bool,
    mode: Option<u32>,
) -> PyResult<Py<PyAny>> {
    let mode = mode.unwrap_or_else(|| mode_of(&path));
    let block_size = block_size.unwrap_or(DEFAULT_BLOCK_SIZE);
    let (report, used_threads) = run_interruptible(
        py,
        |cancel| {
            let opts = CompressOptions {
                level,
                threads,
                block_size,
                overwrite,
                mode,
                cancel: Some(cancel),
            };
            let report = compress_file(&path, output.as_deref(), &opts)?;
            if !keep {
                remove_source(&path)?;
            }
            Ok::<_, CompressError>((report, opts.effective_threads()))
        },
        |_| Ok(()),
    )?
    .map_err(|e| to_py(py, e))?;
    let d = PyDict::new(py);
    d.set_item("path", path_str(&report.src))?;
    d.set_item("output", path_str(&report.dst))?;
    d.set_item("bytes_in", report.raw_bytes)?;
    d.set_item("bytes_out", report.compressed_bytes)?;
    d.set_item("ratio", ratio(report.compressed_bytes, report.raw_bytes))?;
    d.set_item(
        "saved_bytes",
        report.raw_bytes as i64 - report.compressed_bytes as i64,
    )?;
    d.set_item("members", report.members)?;
    d.set_item("sha256", report.sha256)?;
    d.set_item("seconds", report.seconds)?;
    d.set_item(
        "mb_per_s",
        ratio(report.raw_bytes, 1) / 1e6 / report.seconds.max(1e-9),
    )?;
    d.set_item("level", level)?;
    d.set_item("threads", used_threads)?;
    d.set_item("block_size", block_size)?;
    d.set_item("kept", keep)?;
    Ok(d.into_any().unbind())
}

/// Decompresses every member of `path` into `output` (default: `path` without ".gz"),
/// checking each member's CRC-32 and length; returns a report dict.
///
/// Keys: `path`, `output`, `bytes_in` (compressed), `bytes_out`, `members`, `sha256` (of the
/// `.gz` read), `seconds`, `kept`. With `expected_sha256` the source must have that checksum.
/// A corrupt, truncated or non-gzip source raises `CorruptFileError` and leaves no output.
#[pyfunction]
#[pyo3(signature = (path, output=None, *, overwrite=false, keep=true, expected_sha256=None, mode=None))]
pub fn decompress(
    py: Python<'_>,
    path: PathBuf,
    output: Option<PathBuf>,
    overwrite: bool,
    keep: bool,
    expected_sha256: Option<String>,
    mode: Option<u32>,
) -> PyResult<Py<PyAny>> {
    let mode = mode.unwrap_or_else(|| mode_of(&path));
    let report = run_interruptible(
        py,
        |cancel| {
            let opts = DecompressOptions {
                overwrite,
                mode,
                expected_sha256: expected_sha256.as_deref(),
                cancel: Some(cancel),
            };
            let report = decompress_file(&path, output.as_deref(), &opts)?;
            if !keep {
                remove_source(&path)?;
            }
            Ok::<_, CompressError>(report)
        },
        |_| Ok(()),
    )?
    .map_err(|e| to_py(py, e))?;
    let d = PyDict::new(py);
    d.set_item("path", path_str(&report.src))?;
    d.set_item("output", path_str(&report.dst))?;
    d.set_item("bytes_in", report.compressed_bytes)?;
    d.set_item("bytes_out", report.raw_bytes)?;
    d.set_item("members", report.members)?;
    d.set_item("sha256", report.sha256)?;
    d.set_item("seconds", report.seconds)?;
    d.set_item("kept", keep)?;
    Ok(d.into_any().unbind())
}

/// Reads all of `path` and checks it: gzip structure, every member's CRC-32 and length, no
/// trailing garbage, and `expected_sha256` when given. Returns `path`, `members`, `bytes_in`
/// (file size), `bytes_out` (decompressed size), `sha256`, `seconds`; raises
/// `CorruptFileError` saying where the file is damaged.
#[pyfunction]
#[pyo3(signature = (path, *, expected_sha256=None))]
pub fn verify(
    py: Python<'_>,
    path: PathBuf,
    expected_sha256: Option<String>,
) -> PyResult<Py<PyAny>> {
    let report = run_interruptible(
        py,
        |cancel| {
            let opts = VerifyOptions {
                expected_sha256: expected_sha256.as_deref(),
                cancel: Some(cancel),
            };
            verify_file(&path, &opts)
        },
        |_| Ok(()),
    )?
    .map_err(|e| to_py(py, e))?;
    let d = PyDict::new(py);
    d.set_item("path", path_str(&report.path))?;
    d.set_item("members", report.members)?;
    d.set_item("bytes_in", report.compressed_bytes)?;
    d.set_item("bytes_out", report.raw_bytes)?;
    d.set_item("sha256", report.sha256)?;
    d.set_item("seconds", report.seconds)?;
    Ok(d.into_any().unbind())
}
