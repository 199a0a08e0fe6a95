//! forneria-ops engine: the heavy maintenance work of a Django shop's database, done set-wise.
//!
//! The engine knows nothing of Python. Commands and views reach it through the bindings in
//! `py` (cargo feature `python`, built by maturin); tests in `tests/` call it directly.
//!
//! * [`config`]: connection settings from Django's `DATABASES` entry.
//! * [`db`]: MySQL/MariaDB and SQLite connections, batched writes, locked transactions.
//! * [`alertas`]: alert rules (pure).
//! * [`vencimientos`]: expiry rules: expired stock to waste, stock about to expire (pure).
//! * [`jobs`]: the jobs run by the management commands.

pub mod alertas;
pub mod backup;
pub mod compress;
pub mod config;
pub mod db;
pub mod error;
pub mod jobs;
pub mod vencimientos;

#[cfg(feature = "python")]
mod py;

pub use error::{Error, ErrorKind, Result};

/// Version of the engine, recorded in reports and manifests.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
