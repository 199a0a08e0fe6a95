//! Gzip compression for backups and logs: block-parallel writing, strict verification and
//! whole-or-nothing files.
//!
//! The pieces, bottom up:
//!
//! * [`Sha256Writer`] hashes and counts every byte that passes through it, so the checksum of
//!   a `.gz` is known the moment it is written, without reading it back.
//! * [`ParallelGzWriter`] is a [`std::io::Write`] adapter that cuts its input into blocks
//!   (1 MiB by default), deflates each block on a thread pool and writes the results, in
//!   order, through a `Sha256Writer`. Each block is compressed in one call with libdeflate
//!   (the `libdeflater` crate): a block is whole in memory, so no streaming API is needed,
//!   and on SQL dumps libdeflate is faster per core than zlib-rs and writes smaller files
//!   (see [`DEFAULT_LEVEL`]). Reading (decompress, verify, restore) stays on flate2.
//! * [`AtomicFile`] is a temporary file in the target directory that becomes the final file
//!   only on [`AtomicFile::commit`] (fsync, rename, fsync of the directory).
//! * [`compress_file`], [`decompress_file`] and [`verify_file`] put these together for the
//!   Python API (`forneria_ops.compress`, `decompress`, `verify`): plain functions taking an
//!   options struct and returning a report struct.
//!
//! # Invariants
//!
//! * **Member independence.** Every block becomes a complete gzip member (header, deflate
//!   stream ending in a final block, CRC-32, ISIZE) that shares no dictionary with its
//!   neighbours. The concatenation is a valid multi-member gzip file (RFC 1952 §2.2) that
//!   `gzip -d`, `zcat`, `pigz -d`, Python's `gzip` module and flate2's `MultiGzDecoder` read
//!   as one stream. Rust readers must not use `GzDecoder`, which stops after the first
//!   member; `gzip -l` shows a wrong size for such files because it only looks at the last
//!   member's ISIZE. The cost in ratio is about 0.06 percentage points at 1 MiB blocks
//!   (the benchmark's SQL export at level 6: 9.56 % as 1 MiB members, 9.50 % as one member).
//!   Headers carry no name and mtime 0, so the output, and therefore its SHA-256, is a pure
//!   function of (input, level, block size).
//! * **Bounded memory.** A writer keeps at most `2 × threads` blocks in flight (being
//!   compressed or waiting to be written in order) plus the block it is filling; a writer
//!   that is that far ahead blocks until the oldest block is written. Memory is therefore
//!   about `(2 × threads + 1) × 2 × block_size` whatever the input size (≈ 10 MiB with 2
//!   threads and 1 MiB blocks), and buffers and deflate states are recycled rather than
//!   reallocated per block.
//! * **Whole or nothing.** [`compress_file`] and [`decompress_file`] write through an
//!   [`AtomicFile`]: a reader never sees a half-written file under the final name. On any
//!   error, on cancellation and on panic-unwind the temporary file is removed, and an existing
//!   file under the final name is only replaced when `overwrite` is set.
//! * **Errors are never lost.** A failure in a compression thread (including a panic, which
//!   is caught) comes back to the caller as an error from the next `write`, `flush` or
//!   `finish`; after the first error every later call fails too, so a truncated stream can't
//!   be mistaken for a complete one. Nothing waits on a thread that can't answer.
//!
//! # Thread pool: one per writer
//!
//! Each [`ParallelGzWriter`] owns a small rayon pool (`threads` threads, named
//! `forneria-gz-N`) instead of using rayon's global pool, because:
//!
//! * the caller blocks (on a channel) waiting for the oldest block. If the caller were itself
//!   running on the pool that must compress that block, e.g. a backup that dumps tables with
//!   `par_iter` and compresses each one, every worker could end up waiting and nothing would
//!   make progress. A private pool can't deadlock that way;
//! * `threads` is a per-call argument of the Python API, and the global pool's size is fixed
//!   at first use;
//! * starting two threads costs tens of microseconds, nothing next to compressing even a
//!   small file.
//!
//! # Cancellation
//!
//! Every long operation takes an optional `&AtomicBool` (the Django commands set it on
//! SIGTERM/SIGINT). It is checked between blocks: once per block handed to the compression
//! pool and once per read buffer (256 KiB of compressed input) when decompressing. A
//! cancelled operation returns [`CompressError::Cancelled`] and leaves no file behind.

mod atomic;
mod decode;
mod writer;

#[cfg(test)]
mod tests;

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

pub use atomic::{AtomicFile, AtomicFileOptions};
pub use writer::{GzSummary, ParallelGzWriter, Sha256Writer, StreamDigest};

/// Default block size: 1 MiB. Smaller blocks lose ratio (each member starts with an empty
/// dictionary), larger ones need more memory and start the threads later; 256 KiB to 4 MiB
/// measured within 4 % of each other in throughput (DEPENDENCIES.md §6b).
pub const DEFAULT_BLOCK_SIZE: usize = 1 << 20;

/// Largest accepted block size (1 GiB). Far more than useful; it keeps memory bounded when a
/// caller passes a nonsense value.
pub const MAX_BLOCK_SIZE: usize = 1 << 30;

/// Default compression level. Level N is libdeflate's level N (0 stores the data
/// uncompressed). On the benchmark's 200 MB SQL export, one thread, CPU time of the whole
/// `compress` call, size against `gzip -6` (3.6 s of CPU): level 1 0.67 s / 1.26x, level 3
/// 0.93 s / 1.14x, level 6 1.54 s / 0.957x, level 9 8.6 s / 0.89x. Level 6 is the balance;
/// 9 costs five times the CPU for 7 % less.
pub const DEFAULT_LEVEL: u32 = 6;

/// Default mode of files we create: owner read/write only, because backups hold customer data.
pub const DEFAULT_MODE: u32 = 0o600;

/// Everything that can go wrong in this module. Messages are lowercase and name the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompressError {
    /// An I/O operation failed; `op` says what we were doing ("reading", "renaming", …).
    #[error("{op} {}: {}", .path.display(), lowercase_io(.source))]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The file doesn't start with a gzip header (wrong magic bytes, or empty).
    #[error("{}: not a gzip file ({detail})", .path.display())]
    NotGzip {
        path: PathBuf,
        offset: u64,
        detail: String,
    },
    /// The gzip data is damaged: a bad deflate stream, a CRC-32 or length mismatch, a bad
    /// header, or garbage after the last member. `offset` is where in the file it was found.
    #[error("{}: corrupt gzip data at byte {offset}: {detail}", .path.display())]
    Corrupt {
        path: PathBuf,
        offset: u64,
        detail: String,
    },
    /// The file ends in the middle of a gzip member (an interrupted copy or write).
    #[error(
        "{}: truncated gzip file: it ends at byte {offset}, in the middle of member {member}",
        .path.display()
    )]
    Truncated {
        path: PathBuf,
        /// Size of the file, where the data stopped.
        offset: u64,
        /// 1-based number of the member that is cut short.
        member: u64,
    },
    /// The SHA-256 of the file isn't the expected one (e.g. the one in a backup manifest).
    #[error("{}: sha-256 mismatch: expected {expected}, found {actual}", .path.display())]
    ChecksumMismatch {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    /// The file system is full (ENOSPC). The partial file has been removed.
    #[error("{op} {}: no space left on device", .path.display())]
    DiskFull { op: &'static str, path: PathBuf },
    /// The final file exists and `overwrite` wasn't set.
    #[error(
        "{} already exists; remove it or pass overwrite=True to replace it",
        .path.display()
    )]
    AlreadyExists { path: PathBuf },
    /// An argument is out of range (level, threads, block size, a malformed checksum, …).
    #[error("invalid argument: {detail}")]
    InvalidInput { detail: String },
    /// The cancel flag was set; nothing was left under the final name.
    #[error("operation cancelled")]
    Cancelled,
}

impl CompressError {
    /// Turns an I/O error from `op` on `path` into the matching variant: the cancellation
    /// signal of [`ParallelGzWriter`] becomes [`CompressError::Cancelled`], ENOSPC becomes
    /// [`CompressError::DiskFull`], anything else [`CompressError::Io`].
    ///
    /// Callers that drive a `ParallelGzWriter` themselves (the backup writing a SQL dump) use
    /// this to give its `io::Error`s a path and a kind.
    pub fn from_io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        if writer::is_cancelled(&source) {
            CompressError::Cancelled
        } else if source.kind() == io::ErrorKind::StorageFull {
            CompressError::DiskFull {
                op,
                path: path.into(),
            }
        } else {
            CompressError::Io {
                op,
                path: path.into(),
                source,
            }
        }
    }

    fn invalid(detail: impl Into<String>) -> Self {
        CompressError::InvalidInput {
            detail: detail.into(),
        }
    }
}

/// OS messages start with a capital ("No such file or directory"); ours are lowercase.
fn lowercase_io(e: &io::Error) -> String {
    let s = e.to_string();
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => s,
    }
}

/// Options of [`compress_file`] and [`ParallelGzWriter::with_options`] (which ignores
/// `overwrite` and `mode`). `Default` gives the documented defaults.
#[derive(Clone, Copy)]
pub struct CompressOptions<'a> {
    /// Deflate level 0 (stored) to 9. Default 6.
    pub level: u32,
    /// Compression threads; `None` = `std::thread::available_parallelism()` (which honours
    /// cgroup CPU quotas). Default `None`.
    pub threads: Option<usize>,
    /// Input bytes per gzip member, 1 byte to [`MAX_BLOCK_SIZE`]. Default 1 MiB.
    pub block_size: usize,
    /// Replace an existing destination file. Default false: refuse.
    pub overwrite: bool,
    /// Permission bits of the new file, applied exactly (not masked by the umask). Default 0o600.
    pub mode: u32,
    /// Set it to stop between blocks with [`CompressError::Cancelled`]. Default `None`.
    pub cancel: Option<&'a AtomicBool>,
}

impl Default for CompressOptions<'_> {
    fn default() -> Self {
        CompressOptions {
            level: DEFAULT_LEVEL,
            threads: None,
            block_size: DEFAULT_BLOCK_SIZE,
            overwrite: false,
            mode: DEFAULT_MODE,
            cancel: None,
        }
    }
}

impl fmt::Debug for CompressOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompressOptions")
            .field("level", &self.level)
            .field("threads", &self.threads)
            .field("block_size", &self.block_size)
            .field("overwrite", &self.overwrite)
            .field("mode", &format_args!("{:#o}", self.mode))
            .field("cancel", &self.cancel.map(|c| c.load(Ordering::Relaxed)))
            .finish()
    }
}

impl CompressOptions<'_> {
    /// Checks the ranges, so that bad arguments fail before any file is touched.
    pub fn validate(&self) -> Result<(), CompressError> {
        if self.level > 9 {
            return Err(CompressError::invalid(format!(
                "compression level must be 0 to 9, got {}",
                self.level
            )));
        }
        if self.threads == Some(0) {
            return Err(CompressError::invalid(
                "threads must be at least 1 (or None for one per CPU)",
            ));
        }
        if self.block_size == 0 || self.block_size > MAX_BLOCK_SIZE {
            return Err(CompressError::invalid(format!(
                "block size must be 1 to {MAX_BLOCK_SIZE} bytes, got {}",
                self.block_size
            )));
        }
        validate_mode(self.mode)
    }

    /// The number of compression threads these options ask for.
    pub fn effective_threads(&self) -> usize {
        self.threads.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
    }

    fn atomic(&self) -> AtomicFileOptions {
        AtomicFileOptions {
            mode: self.mode,
            overwrite: self.overwrite,
        }
    }
}

fn validate_mode(mode: u32) -> Result<(), CompressError> {
    if mode > 0o7777 {
        return Err(CompressError::invalid(format!(
            "file mode must be at most 0o7777, got {mode:#o}"
        )));
    }
    Ok(())
}

/// Options of [`decompress_file`]. `Default` gives the documented defaults.
#[derive(Debug, Clone, Copy)]
pub struct DecompressOptions<'a> {
    /// Replace an existing destination file. Default false: refuse.
    pub overwrite: bool,
    /// Permission bits of the new file. Default 0o600.
    pub mode: u32,
    /// If set, the SHA-256 (hex) the compressed source must have; checked before the output
    /// is committed, so a mismatch leaves nothing behind. Default `None`.
    pub expected_sha256: Option<&'a str>,
    /// Set it to stop with [`CompressError::Cancelled`]. Default `None`.
    pub cancel: Option<&'a AtomicBool>,
}

impl Default for DecompressOptions<'_> {
    fn default() -> Self {
        DecompressOptions {
            overwrite: false,
            mode: DEFAULT_MODE,
            expected_sha256: None,
            cancel: None,
        }
    }
}

/// Options of [`verify_file`]. `Default` checks structure and CRCs only.
#[derive(Debug, Clone, Copy, Default)]
pub struct VerifyOptions<'a> {
    /// If set, the SHA-256 (hex, any case) the file must have.
    pub expected_sha256: Option<&'a str>,
    /// Set it to stop with [`CompressError::Cancelled`].
    pub cancel: Option<&'a AtomicBool>,
}

/// What [`compress_file`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct CompressReport {
    pub src: PathBuf,
    pub dst: PathBuf,
    /// Bytes read from `src`.
    pub raw_bytes: u64,
    /// Size of the `.gz` written.
    pub compressed_bytes: u64,
    /// Gzip members in the output (one per block, at least one).
    pub members: u64,
    /// SHA-256 of the `.gz` file, lowercase hex.
    pub sha256: String,
    /// Wall-clock time, fsync included.
    pub seconds: f64,
}

/// What [`decompress_file`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct DecompressReport {
    pub src: PathBuf,
    pub dst: PathBuf,
    /// Size of the `.gz` read.
    pub compressed_bytes: u64,
    /// Bytes written to `dst`.
    pub raw_bytes: u64,
    /// Gzip members decoded.
    pub members: u64,
    /// SHA-256 of the `.gz` source, lowercase hex.
    pub sha256: String,
    pub seconds: f64,
}

/// What [`verify_file`] found in a good file.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyReport {
    pub path: PathBuf,
    /// Gzip members, each with a correct CRC-32 and ISIZE.
    pub members: u64,
    /// Total decompressed size.
    pub raw_bytes: u64,
    /// File size.
    pub compressed_bytes: u64,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
    pub seconds: f64,
}

/// Compresses `src` into `dst` (default: `src` + `.gz`) as a multi-member gzip file.
///
/// The source is only read; deleting it is the caller's decision. The destination appears
/// whole, with mode `opts.mode`, or not at all. Refuses an existing destination unless
/// `opts.overwrite`, and refuses `dst == src` always.
pub fn compress_file(
    src: &Path,
    dst: Option<&Path>,
    opts: &CompressOptions<'_>,
) -> Result<CompressReport, CompressError> {
    let started = Instant::now();
    opts.validate()?;
    let dst = match dst {
        Some(d) => d.to_path_buf(),
        None => {
            let mut name = src.as_os_str().to_owned();
            name.push(".gz");
            PathBuf::from(name)
        }
    };
    check_distinct(src, &dst)?;
    check_cancel(opts.cancel)?;

    let mut input = open_regular(src)?;
    let out = AtomicFile::create(&dst, &opts.atomic())?;
    let mut gz = ParallelGzWriter::with_options(out, opts)
        .map_err(|e| CompressError::from_io("starting compression threads for", &dst, e))?;

    // Reading a block at a time keeps each read large and lets the writer hand whole blocks
    // to the pool; the copy into the writer's block buffer costs ~1 % of the run.
    let mut buf = vec![0u8; opts.block_size.min(DEFAULT_BLOCK_SIZE)];
    loop {
        let n = read_full(&mut input, &mut buf).map_err(|e| CompressError::Io {
            op: "reading",
            path: src.to_path_buf(),
            source: e,
        })?;
        if n == 0 {
            break;
        }
        io::Write::write_all(&mut gz, &buf[..n])
            .map_err(|e| CompressError::from_io("writing", &dst, e))?;
    }
    let (out, summary) = gz
        .finish()
        .map_err(|e| CompressError::from_io("writing", &dst, e))?;
    check_cancel(opts.cancel)?;
    out.commit()?;

    Ok(CompressReport {
        src: src.to_path_buf(),
        dst,
        raw_bytes: summary.raw_bytes,
        compressed_bytes: summary.compressed_bytes,
        members: summary.members,
        sha256: summary.sha256_hex,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Decompresses every member of `src` into `dst` (default: `src` without its `.gz` suffix).
///
/// Every member's CRC-32 and length are checked, and trailing bytes that aren't another
/// member are an error. A truncated or corrupt source fails with [`CompressError::Truncated`]
/// or [`CompressError::Corrupt`] and leaves nothing under `dst`.
pub fn decompress_file(
    src: &Path,
    dst: Option<&Path>,
    opts: &DecompressOptions<'_>,
) -> Result<DecompressReport, CompressError> {
    let started = Instant::now();
    validate_mode(opts.mode)?;
    let expected = opts.expected_sha256.map(normalize_sha256).transpose()?;
    let dst = match dst {
        Some(d) => d.to_path_buf(),
        None => strip_gz(src)?,
    };
    check_distinct(src, &dst)?;
    check_cancel(opts.cancel)?;

    let input = open_regular(src)?;
    let mut out = AtomicFile::create(
        &dst,
        &AtomicFileOptions {
            mode: opts.mode,
            overwrite: opts.overwrite,
        },
    )?;
    let stats = decode::decode(input, src, &mut out, &dst, opts.cancel)?;
    check_sha256(src, expected.as_deref(), &stats.sha256_hex)?;
    out.commit()?;

    Ok(DecompressReport {
        src: src.to_path_buf(),
        dst,
        compressed_bytes: stats.compressed_bytes,
        raw_bytes: stats.raw_bytes,
        members: stats.members,
        sha256: stats.sha256_hex,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Reads all of `path` and checks it: gzip structure, every member's CRC-32 and ISIZE, no
/// trailing garbage, and the SHA-256 if one is expected.
///
/// The errors tell the cases apart: [`CompressError::NotGzip`], [`CompressError::Truncated`],
/// [`CompressError::Corrupt`], [`CompressError::ChecksumMismatch`]. Damage is reported before
/// a checksum mismatch, because it says more (where the file is broken).
pub fn verify_file(path: &Path, opts: &VerifyOptions<'_>) -> Result<VerifyReport, CompressError> {
    let started = Instant::now();
    let expected = opts.expected_sha256.map(normalize_sha256).transpose()?;
    check_cancel(opts.cancel)?;
    let input = open_regular(path)?;
    let stats = decode::decode(input, path, io::sink(), Path::new(""), opts.cancel)?;
    check_sha256(path, expected.as_deref(), &stats.sha256_hex)?;
    Ok(VerifyReport {
        path: path.to_path_buf(),
        members: stats.members,
        raw_bytes: stats.raw_bytes,
        compressed_bytes: stats.compressed_bytes,
        sha256: stats.sha256_hex,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn check_cancel(cancel: Option<&AtomicBool>) -> Result<(), CompressError> {
    match cancel {
        Some(flag) if flag.load(Ordering::Relaxed) => Err(CompressError::Cancelled),
        _ => Ok(()),
    }
}

/// Opens `path` for reading, refusing directories and devices with a clear message rather
/// than a confusing read error later.
fn open_regular(path: &Path) -> Result<File, CompressError> {
    let file = File::open(path).map_err(|e| CompressError::Io {
        op: "opening",
        path: path.to_path_buf(),
        source: e,
    })?;
    let meta = file.metadata().map_err(|e| CompressError::Io {
        op: "reading metadata of",
        path: path.to_path_buf(),
        source: e,
    })?;
    if !meta.is_file() {
        return Err(CompressError::invalid(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    Ok(file)
}

/// `dst == src` would replace the input with its own output; the overwrite flag is not meant
/// to allow that.
fn check_distinct(src: &Path, dst: &Path) -> Result<(), CompressError> {
    let same = src == dst
        || match (src.canonicalize(), dst.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
    if same {
        return Err(CompressError::invalid(format!(
            "source and destination are the same file: {}",
            src.display()
        )));
    }
    Ok(())
}

/// `x.sql.gz` → `x.sql`; anything not ending in `.gz` (or just `.gz`) needs an explicit `dst`.
fn strip_gz(src: &Path) -> Result<PathBuf, CompressError> {
    use std::os::unix::ffi::OsStrExt;
    // Bytes, not str: file names need not be UTF-8.
    let name = src.file_name().map(|n| n.as_bytes());
    match name.and_then(|n| n.strip_suffix(b".gz")) {
        Some(stem) if !stem.is_empty() => Ok(src.with_file_name(std::ffi::OsStr::from_bytes(stem))),
        _ => Err(CompressError::invalid(format!(
            "cannot derive an output name from {} (no .gz suffix); pass a destination",
            src.display()
        ))),
    }
}

fn normalize_sha256(hex: &str) -> Result<String, CompressError> {
    let h = hex.trim().to_ascii_lowercase();
    if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CompressError::invalid(format!(
            "expected sha-256 must be 64 hex digits, got {hex:?}"
        )));
    }
    Ok(h)
}

fn check_sha256(path: &Path, expected: Option<&str>, actual: &str) -> Result<(), CompressError> {
    match expected {
        Some(exp) if exp != actual => Err(CompressError::ChecksumMismatch {
            path: path.to_path_buf(),
            expected: exp.to_string(),
            actual: actual.to_string(),
        }),
        _ => Ok(()),
    }
}

/// Fills `buf` as far as the reader allows; returns less than `buf.len()` only at EOF.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Lowercase hex, for SHA-256 digests.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}
