//! The manifest: a JSON file beside each backup, written last, that says what the backup holds
//! and how to check it (SHA-256 of the file, per-table row counts and content checksums).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::compress::{AtomicFile, AtomicFileOptions, CompressError};
use crate::error::{Error, Result};

/// Bumped when a reader of an older version could misread the file.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TableEntry {
    pub name: String,
    pub rows: u64,
    /// Storage engine (`InnoDB`, `MyISAM`, …; `sqlite` for SQLite tables).
    pub engine: String,
    /// Content checksum of the rows as dumped (see `checksum`); compared by `verify_backup`.
    pub checksum: String,
    /// False when the rows were not read inside the backup's snapshot (see `consistency_notes`).
    pub consistent: bool,
    /// `full`, `changed_rows` (differential: rows whose audit columns moved) or `whole_table`
    /// (differential of a table without audit columns).
    pub mode: String,
    /// Largest value of each audit column at dump time (MySQL), the start point of the next
    /// differential.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub audit_max: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Snapshot {
    /// `ftwrl_parallel`, `single_connection` or `sqlite_backup_api`.
    pub method: String,
    pub binlog_file: Option<String>,
    pub binlog_position: Option<u64>,
    pub gtid: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format_version: u32,
    pub tool: String,
    pub tool_version: String,
    /// `full` or `diff`.
    pub kind: String,
    /// File name of the base backup of a differential.
    pub base: Option<String>,
    pub base_sha256: Option<String>,
    /// `mysql` or `sqlite`.
    pub engine: String,
    pub database: String,
    pub server_version: String,
    pub started_at: String,
    pub finished_at: String,
    pub duration_s: f64,
    /// File name of the backup (same directory as the manifest).
    pub file: String,
    pub sha256: String,
    pub bytes_raw: u64,
    pub bytes_compressed: u64,
    pub tables: Vec<TableEntry>,
    pub rows_total: u64,
    pub snapshot: Snapshot,
    pub consistency_notes: Vec<String>,
    pub threads: usize,
    pub compress_level: u32,
}

impl Manifest {
    pub fn table(&self, name: &str) -> Option<&TableEntry> {
        self.tables.iter().find(|t| t.name == name)
    }
}

/// `x.sql.gz` / `x.sqlite3.gz` / `x.json` → `x.json`.
pub fn manifest_path_for(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.ends_with(".json") {
        return path.to_path_buf();
    }
    let stem = name
        .strip_suffix(".sql.gz")
        .or_else(|| name.strip_suffix(".sqlite3.gz"))
        .or_else(|| name.strip_suffix(".gz"))
        .unwrap_or(&name);
    path.with_file_name(format!("{stem}.json"))
}

/// Reads the manifest of a backup (`path` is the backup file or its manifest).
pub fn read(path: &Path) -> Result<(Manifest, PathBuf)> {
    let mpath = manifest_path_for(path);
    let text = std::fs::read_to_string(&mpath).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::io(
                "reading the manifest (a backup without its manifest cannot be checked)",
                &mpath,
                e,
            )
        } else {
            Error::io("reading the manifest", &mpath, e)
        }
    })?;
    let m: Manifest = serde_json::from_str(&text).map_err(|e| {
        Error::Compress(CompressError::Corrupt {
            path: mpath.clone(),
            offset: 0,
            detail: format!("not a forneria-ops backup manifest: {e}"),
        })
    })?;
    if m.format_version > FORMAT_VERSION {
        return Err(Error::Config(format!(
            "{}: manifest format {} is newer than this forneria-ops understands ({FORMAT_VERSION}); \
             upgrade forneria-ops",
            mpath.display(),
            m.format_version
        )));
    }
    Ok((m, mpath))
}

/// The backup file a manifest describes.
pub fn file_path(manifest_path: &Path, m: &Manifest) -> PathBuf {
    manifest_path.with_file_name(&m.file)
}

/// Writes the manifest atomically (temp, fsync, rename), mode 0600.
pub fn write(path: &Path, m: &Manifest) -> Result<()> {
    let mut text = serde_json::to_string_pretty(m)
        .map_err(|e| Error::data("writing the manifest", e.to_string()))?;
    text.push('\n');
    let mut f = AtomicFile::create(path, &AtomicFileOptions::default())?;
    std::io::Write::write_all(&mut f, text.as_bytes())
        .map_err(|e| Error::Compress(CompressError::from_io("writing", path, e)))?;
    f.commit()?;
    Ok(())
}
