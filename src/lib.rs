//! forneria-ops engine: the heavy maintenance work of a Django shop's database, done set-wise.
//!
//! The engine knows nothing of Python. Commands and views reach it through the bindings in
//! [`py`] (cargo feature `python`, built by maturin); tests in `tests/` call it directly.

#[cfg(feature = "python")]
mod py;

/// Version of the engine, recorded in reports and manifests.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
