//! [`ParallelGzWriter`] (block-parallel gzip) and [`Sha256Writer`] (hash while writing).

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Write};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;

use libdeflater::{CompressionLvl, Compressor, Crc};
use sha2::{Digest, Sha256};

use super::{hex, CompressOptions};

/// A [`Write`] adapter that passes bytes through to `inner` while computing their SHA-256
/// and counting them.
///
/// Used under [`ParallelGzWriter`] so the checksum of a `.gz` is known when the last byte is
/// written; useful on its own for anything else whose checksum goes into a manifest.
pub struct Sha256Writer<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

/// Size and SHA-256 of everything written through a [`Sha256Writer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamDigest {
    pub bytes: u64,
    /// Lowercase hex.
    pub sha256_hex: String,
}

impl<W: Write> Sha256Writer<W> {
    pub fn new(inner: W) -> Self {
        Sha256Writer {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// Bytes accepted by the inner writer so far.
    pub fn bytes_written(&self) -> u64 {
        self.bytes
    }

    /// The inner writer. There is deliberately no `get_mut`: bytes written around the hasher
    /// would make the digest lie.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// Returns the inner writer and the digest. Does not flush; call `flush` first if the
    /// inner writer buffers.
    pub fn finish(self) -> (W, StreamDigest) {
        let digest = StreamDigest {
            bytes: self.bytes,
            sha256_hex: hex(&self.hasher.finalize()),
        };
        (self.inner, digest)
    }
}

impl<W: Write> Write for Sha256Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        // Hash only what the inner writer took: after a short write the caller resends the rest.
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// What [`ParallelGzWriter::finish`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GzSummary {
    /// Uncompressed bytes accepted.
    pub raw_bytes: u64,
    /// Gzip bytes written to the inner writer.
    pub compressed_bytes: u64,
    /// Gzip members written (at least 1).
    pub members: u64,
    /// SHA-256 of the gzip bytes written, lowercase hex.
    pub sha256_hex: String,
}

/// Marker inside the `io::Error` returned after cancellation, recognised by
/// [`super::CompressError::from_io`].
#[derive(Debug)]
struct CancelledMarker;

impl fmt::Display for CancelledMarker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("operation cancelled")
    }
}

impl std::error::Error for CancelledMarker {}

fn cancelled_error() -> io::Error {
    // Not ErrorKind::Interrupted: `write_all` retries on that, and would spin.
    io::Error::other(CancelledMarker)
}

/// True if `e` is the error a [`ParallelGzWriter`] returns once its cancel flag is set.
pub(crate) fn is_cancelled(e: &io::Error) -> bool {
    e.get_ref()
        .is_some_and(|inner| inner.is::<CancelledMarker>())
}

/// Remembers the first failure so that every later call fails the same way.
#[derive(Debug, Clone)]
enum Failure {
    Cancelled,
    Io(io::ErrorKind, String),
}

impl Failure {
    fn to_error(&self) -> io::Error {
        match self {
            Failure::Cancelled => cancelled_error(),
            Failure::Io(kind, msg) => io::Error::new(*kind, msg.clone()),
        }
    }
}

/// A block on its way to a compression thread, with recycled buffers and deflate state.
struct Job {
    input: Vec<u8>,
    out: Vec<u8>,
    encoder: Option<BlockEncoder>,
    level: u32,
}

/// A compressed block (a complete gzip member in `out`), returning the buffers for reuse.
struct Done {
    input: Vec<u8>,
    out: Vec<u8>,
    encoder: BlockEncoder,
}

type JobResult = Result<Done, String>;

/// A [`Write`] adapter producing a multi-member gzip stream, compressing blocks in parallel.
///
/// Input is cut into blocks of `block_size` bytes; each block is deflated on the writer's own
/// thread pool into an independent gzip member; members are written to the inner writer in
/// input order, through a [`Sha256Writer`]. At most `2 × threads` blocks are in flight; a
/// `write` that would exceed that waits for the oldest one. See the module docs for the
/// invariants and the choice of a pool per writer.
///
/// Call [`finish`](Self::finish) to emit the last block and get the inner writer and the
/// summary back. Dropping the writer without `finish` discards the blocks in flight, so the
/// output is incomplete: write into an [`super::AtomicFile`] and don't commit it.
///
/// `flush` emits the partial block as its own member (that is what flush promises: buffered
/// data reaches the inner writer), so frequent flushes cost ratio; there's no need to call it
/// before `finish`.
///
/// `ParallelGzWriter` is `Send` when `W` is, so it can move into a thread that has released
/// Python's GIL. The lifetime `'c` is that of the optional cancel flag.
pub struct ParallelGzWriter<'c, W: Write> {
    out: Sha256Writer<W>,
    pool: Arc<rayon::ThreadPool>,
    level: u32,
    block_size: usize,
    /// The block being filled (`len() <= block_size`).
    block: Vec<u8>,
    /// Results of dispatched blocks, oldest first.
    in_flight: VecDeque<Receiver<JobResult>>,
    max_in_flight: usize,
    spare_inputs: Vec<Vec<u8>>,
    spare_outputs: Vec<Vec<u8>>,
    spare_encoders: Vec<BlockEncoder>,
    raw_bytes: u64,
    members: u64,
    cancel: Option<&'c AtomicBool>,
    failed: Option<Failure>,
    #[cfg(test)]
    pub(super) peak_in_flight: usize,
}

impl<W: Write> fmt::Debug for ParallelGzWriter<'_, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParallelGzWriter")
            .field("level", &self.level)
            .field("threads", &self.pool.current_num_threads())
            .field("block_size", &self.block_size)
            .field("raw_bytes", &self.raw_bytes)
            .field("compressed_bytes", &self.out.bytes_written())
            .field("in_flight", &self.in_flight.len())
            .field("failed", &self.failed)
            .finish()
    }
}

impl<W: Write> ParallelGzWriter<'static, W> {
    /// A writer with the defaults: level 6, one thread per CPU, 1 MiB blocks, no cancel flag.
    pub fn new(inner: W) -> io::Result<Self> {
        Self::with_options(inner, &CompressOptions::default())
    }
}

impl<'c, W: Write> ParallelGzWriter<'c, W> {
    /// A writer using `level`, `threads`, `block_size` and `cancel` from `opts` (`overwrite`
    /// and `mode` concern files and are ignored here). Out-of-range options are an
    /// `InvalidInput` error; failing to start the threads is the OS error.
    pub fn with_options(inner: W, opts: &CompressOptions<'c>) -> io::Result<Self> {
        opts.validate()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let threads = opts.effective_threads();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("forneria-gz-{i}"))
            .build()
            .map_err(io::Error::other)?;
        Ok(ParallelGzWriter {
            out: Sha256Writer::new(inner),
            pool: Arc::new(pool),
            level: opts.level,
            block_size: opts.block_size,
            block: Vec::with_capacity(opts.block_size),
            in_flight: VecDeque::with_capacity(2 * threads),
            max_in_flight: 2 * threads,
            spare_inputs: Vec::new(),
            spare_outputs: Vec::new(),
            spare_encoders: Vec::new(),
            raw_bytes: 0,
            members: 0,
            cancel: opts.cancel,
            failed: None,
            #[cfg(test)]
            peak_in_flight: 0,
        })
    }

    /// Uncompressed bytes accepted so far.
    pub fn raw_bytes(&self) -> u64 {
        self.raw_bytes
    }

    /// Compressed bytes written to the inner writer so far (lags behind by the blocks in flight).
    pub fn compressed_bytes(&self) -> u64 {
        self.out.bytes_written()
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        self.out.get_ref()
    }

    /// Compresses the last (partial) block, writes everything still in flight, flushes the
    /// inner writer and returns it with the summary. An empty input still gives one (empty)
    /// member, so the result is always a valid gzip file.
    pub fn finish(mut self) -> io::Result<(W, GzSummary)> {
        self.check_failed()?;
        if !self.block.is_empty() || self.members == 0 {
            self.dispatch()?;
        }
        self.drain()?;
        if let Err(e) = self.out.flush() {
            return Err(self.fail(e));
        }
        let ParallelGzWriter {
            out,
            raw_bytes,
            members,
            ..
        } = self;
        let (inner, digest) = out.finish();
        Ok((
            inner,
            GzSummary {
                raw_bytes,
                compressed_bytes: digest.bytes,
                members,
                sha256_hex: digest.sha256_hex,
            },
        ))
    }

    fn check_failed(&self) -> io::Result<()> {
        match &self.failed {
            Some(f) => Err(f.to_error()),
            None => Ok(()),
        }
    }

    /// Records the first failure and passes the error on unchanged (so its OS code survives).
    fn fail(&mut self, e: io::Error) -> io::Error {
        if self.failed.is_none() {
            self.failed = Some(if is_cancelled(&e) {
                Failure::Cancelled
            } else {
                Failure::Io(e.kind(), e.to_string())
            });
        }
        e
    }

    /// Hands the current block to the pool, first waiting for (and writing) the oldest block
    /// if the window is full. This is where cancellation is checked: between blocks.
    fn dispatch(&mut self) -> io::Result<()> {
        if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(self.fail(cancelled_error()));
        }
        while self.in_flight.len() >= self.max_in_flight {
            self.write_oldest()?;
        }
        let next = self
            .spare_inputs
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(self.block_size));
        let job = Job {
            input: std::mem::replace(&mut self.block, next),
            out: self.spare_outputs.pop().unwrap_or_default(),
            encoder: self.spare_encoders.pop(),
            level: self.level,
        };
        // Capacity 1: the worker's send never blocks, even if we have stopped listening.
        let (tx, rx) = sync_channel(1);
        self.pool.spawn(move || {
            // A send error means the writer was dropped; the result is not wanted.
            let _ = tx.send(run_job(job));
        });
        self.in_flight.push_back(rx);
        self.members += 1;
        #[cfg(test)]
        {
            self.peak_in_flight = self.peak_in_flight.max(self.in_flight.len());
        }
        debug_assert!(self.in_flight.len() <= self.max_in_flight);
        Ok(())
    }

    /// Waits for the oldest block in flight and writes its member.
    fn write_oldest(&mut self) -> io::Result<()> {
        let Some(rx) = self.in_flight.pop_front() else {
            return Ok(());
        };
        let done = match rx.recv() {
            Ok(Ok(done)) => done,
            Ok(Err(msg)) => {
                return Err(self.fail(io::Error::other(format!(
                    "compression thread failed: {msg}"
                ))))
            }
            Err(_) => {
                return Err(self.fail(io::Error::other(
                    "compression thread stopped without a result",
                )))
            }
        };
        if let Err(e) = self.out.write_all(&done.out) {
            return Err(self.fail(e));
        }
        let Done {
            mut input,
            mut out,
            encoder,
        } = done;
        input.clear();
        out.clear();
        self.spare_inputs.push(input);
        self.spare_outputs.push(out);
        self.spare_encoders.push(encoder);
        Ok(())
    }

    fn drain(&mut self) -> io::Result<()> {
        while !self.in_flight.is_empty() {
            self.write_oldest()?;
        }
        Ok(())
    }
}

impl<W: Write> Write for ParallelGzWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.check_failed()?;
        if buf.is_empty() {
            return Ok(0);
        }
        // A full block is dispatched here, before taking new bytes, so that an error means
        // "nothing of `buf` was taken", as `Write::write` requires.
        if self.block.len() >= self.block_size {
            self.dispatch()?;
        }
        let n = (self.block_size - self.block.len()).min(buf.len());
        self.block.extend_from_slice(&buf[..n]);
        self.raw_bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.check_failed()?;
        if !self.block.is_empty() {
            self.dispatch()?;
        }
        self.drain()?;
        self.out.flush().map_err(|e| self.fail(e))
    }
}

/// Runs on a pool thread. A panic is caught and returned as an error: rayon would otherwise
/// abort the process, and the caller would never learn what happened to its block.
fn run_job(job: Job) -> JobResult {
    panic::catch_unwind(AssertUnwindSafe(move || {
        let Job {
            input,
            mut out,
            encoder,
            level,
        } = job;
        let mut encoder = match encoder {
            Some(e) => e,
            None => BlockEncoder::new(level).map_err(|e| e.to_string())?,
        };
        encoder
            .encode_member(&input, &mut out)
            .map_err(|e| e.to_string())?;
        Ok(Done {
            input,
            out,
            encoder,
        })
    }))
    .unwrap_or_else(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_string());
        Err(format!("panicked: {msg}"))
    })
}

/// Length of the fixed gzip header we write (no name, no extra field, no header CRC).
const GZIP_HEADER_LEN: usize = 10;
const GZIP_TRAILER_LEN: usize = 8;

/// Turns whole blocks into gzip members: a libdeflate compressor (its match-finder tables,
/// a few hundred KiB, allocated once and reused from block to block) and the level it was
/// made for.
pub(super) struct BlockEncoder {
    level: u32,
    compressor: Compressor,
}

impl BlockEncoder {
    /// An encoder for `level` 0..=9 (libdeflate's level N; 0 stores the data uncompressed).
    /// Other levels are an `InvalidInput` error; [`CompressOptions::validate`] rejects them
    /// before this is reached.
    pub(super) fn new(level: u32) -> io::Result<Self> {
        let lvl = i32::try_from(level)
            .ok()
            .filter(|l| *l <= 9)
            .and_then(|l| CompressionLvl::new(l).ok())
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("compression level {level} is out of range 0..=9"),
                )
            })?;
        Ok(BlockEncoder {
            level,
            compressor: Compressor::new(lvl),
        })
    }

    /// Writes `input` as one complete gzip member into `out` (cleared first).
    ///
    /// libdeflate's raw deflate plus our own header and trailer rather than its
    /// `gzip_compress`: the header stays byte-for-byte what it has always been (libdeflate sets
    /// XFL for levels 0, 8 and 9 differently), so the output of a given (input, level, block
    /// size) is unchanged by anything but the deflate body.
    pub(super) fn encode_member(&mut self, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        #[cfg(test)]
        if input.starts_with(tests_support::PANIC_BLOCK) {
            panic!("injected test failure");
        }
        let n = input.len();
        // A hard upper bound for any input (libdeflate's own, covering stored blocks), so the
        // one-shot call below can't run out of room.
        let bound = self.compressor.deflate_compress_bound(n);
        out.clear();
        // Room for the trailer too, so that appending it never reallocates.
        out.reserve(GZIP_HEADER_LEN + bound + GZIP_TRAILER_LEN);
        out.resize(GZIP_HEADER_LEN + bound, 0);
        // XFL: 2 = best compression, 4 = fastest (RFC 1952 §2.3.1). OS 255 = unknown: the
        // content doesn't depend on the OS, and a fixed value keeps the output reproducible.
        let xfl = match self.level {
            9 => 2,
            1 => 4,
            _ => 0,
        };
        out[..GZIP_HEADER_LEN].copy_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 255]);
        let body = self
            .compressor
            .deflate_compress(input, &mut out[GZIP_HEADER_LEN..])
            .map_err(|e| io::Error::other(format!("deflate of a {n}-byte block: {e}")))?;
        out.truncate(GZIP_HEADER_LEN + body);

        let mut crc = Crc::new();
        crc.update(input);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        // ISIZE is the length modulo 2^32 (RFC 1952), hence the truncating cast.
        out.extend_from_slice(&(n as u32).to_le_bytes());
        Ok(())
    }
}

#[cfg(test)]
pub(super) mod tests_support {
    /// A block starting with these bytes makes the compression thread panic (tests only).
    pub const PANIC_BLOCK: &[u8] = b"\0forneria-test-panic\0";
}
