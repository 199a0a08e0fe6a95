//! Strict multi-member gzip decoding, shared by `decompress_file` and `verify_file`.
//!
//! flate2's `MultiGzDecoder` reads the same files, but its errors don't say whether a file is
//! truncated, damaged or not gzip at all, nor where. Backups need that distinction (a
//! truncated copy is retried, a corrupt one is not), so members are parsed here: the header
//! by hand (RFC 1952), the body with flate2's raw inflate, then CRC-32 and ISIZE. Bytes after
//! the last member that are not another member are an error, unlike `gzip`'s warning: a
//! backup with garbage appended is not the backup that was written.

use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use flate2::{Crc, Decompress, FlushDecompress, Status};
use sha2::{Digest, Sha256};

use super::{hex, CompressError};

/// Compressed input read per `read` call, and decompressed output per inflate call.
const BUF_SIZE: usize = 256 * 1024;

const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
const FRESERVED: u8 = 0xe0;

pub(super) struct DecodeStats {
    pub members: u64,
    pub raw_bytes: u64,
    pub compressed_bytes: u64,
    /// SHA-256 of every byte read from the source.
    pub sha256_hex: String,
}

/// Buffered reader over the source that tracks file offsets and hashes what it reads.
struct Input<'p, R> {
    reader: R,
    path: &'p Path,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// File offset of `buf[0]`.
    base: u64,
    eof: bool,
    hasher: Sha256,
    cancel: Option<&'p AtomicBool>,
}

impl<R: Read> Input<'_, R> {
    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    fn available(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
        debug_assert!(self.pos <= self.end);
    }

    /// Refills the (fully consumed) buffer; sets `eof` at the end of the file. Checks the
    /// cancel flag, once per buffer.
    fn fill(&mut self) -> Result<(), CompressError> {
        debug_assert_eq!(self.pos, self.end);
        if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(CompressError::Cancelled);
        }
        self.base += self.end as u64;
        self.pos = 0;
        self.end = 0;
        loop {
            match self.reader.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.hasher.update(&self.buf[..n]);
                    self.end = n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(CompressError::Io {
                        op: "reading",
                        path: self.path.to_path_buf(),
                        source: e,
                    })
                }
            }
        }
    }

    /// The next byte, or `None` at the end of the file.
    fn byte(&mut self) -> Result<Option<u8>, CompressError> {
        if self.pos == self.end {
            if self.eof {
                return Ok(None);
            }
            self.fill()?;
            if self.eof {
                return Ok(None);
            }
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        Ok(Some(b))
    }
}

/// Decodes all members of `reader` (the file `path`) into `out` (the file `out_path`, only
/// used in messages). Checks every member's CRC-32 and ISIZE.
pub(super) fn decode<R: Read, W: Write>(
    reader: R,
    path: &Path,
    mut out: W,
    out_path: &Path,
    cancel: Option<&AtomicBool>,
) -> Result<DecodeStats, CompressError> {
    let mut input = Input {
        reader,
        path,
        buf: vec![0; BUF_SIZE],
        pos: 0,
        end: 0,
        base: 0,
        eof: false,
        hasher: Sha256::new(),
        cancel,
    };
    let mut outbuf = vec![0u8; BUF_SIZE];
    let mut inflater = Decompress::new(false);
    let mut members = 0u64;
    let mut raw_bytes = 0u64;

    loop {
        let member = members + 1;
        if !read_header(&mut input, member)? {
            break;
        }
        raw_bytes += inflate_member(
            &mut input,
            member,
            &mut inflater,
            &mut outbuf,
            &mut out,
            out_path,
        )?;
        members += 1;
    }
    out.flush()
        .map_err(|e| CompressError::from_io("writing", out_path, e))?;

    Ok(DecodeStats {
        members,
        raw_bytes,
        compressed_bytes: input.base + input.end as u64,
        sha256_hex: hex(&input.hasher.finalize()),
    })
}

/// Reads one gzip header. Returns false at a clean end of file between members.
fn read_header<R: Read>(input: &mut Input<'_, R>, member: u64) -> Result<bool, CompressError> {
    let start = input.offset();
    let Some(id1) = input.byte()? else {
        if member == 1 {
            return Err(CompressError::NotGzip {
                path: input.path.to_path_buf(),
                offset: 0,
                detail: "the file is empty".into(),
            });
        }
        return Ok(false);
    };
    // Bytes that can't begin a member: not gzip at all (first member) or trailing garbage.
    let not_a_member = |input: &Input<'_, R>, found: String| {
        if member == 1 {
            CompressError::NotGzip {
                path: input.path.to_path_buf(),
                offset: start,
                detail: format!("it starts with {found}, not the gzip magic 1f 8b"),
            }
        } else {
            CompressError::Corrupt {
                path: input.path.to_path_buf(),
                offset: start,
                detail: format!(
                    "{found} after member {} where another member or the end of the file \
                     should be (trailing garbage)",
                    member - 1
                ),
            }
        }
    };
    if id1 != 0x1f {
        return Err(not_a_member(input, format!("byte {id1:02x}")));
    }
    let id2 = need(input, member)?;
    if id2 != 0x8b {
        return Err(not_a_member(input, format!("bytes 1f {id2:02x}")));
    }

    let mut header = vec![id1, id2];
    for _ in 0..8 {
        header.push(need(input, member)?);
    }
    let (method, flags) = (header[2], header[3]);
    if method != 8 {
        return Err(corrupt(
            input,
            start + 2,
            format!(
                "member {member}: unknown compression method {method} (only 8, deflate, exists)"
            ),
        ));
    }
    if flags & FRESERVED != 0 {
        return Err(corrupt(
            input,
            start + 3,
            format!("member {member}: reserved header flags set ({flags:#04x})"),
        ));
    }
    if flags & FEXTRA != 0 {
        let lo = need(input, member)?;
        let hi = need(input, member)?;
        header.extend_from_slice(&[lo, hi]);
        for _ in 0..u16::from_le_bytes([lo, hi]) {
            header.push(need(input, member)?);
        }
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            loop {
                let b = need(input, member)?;
                header.push(b);
                if b == 0 {
                    break;
                }
            }
        }
    }
    if flags & FHCRC != 0 {
        let at = input.offset();
        let stored = u16::from_le_bytes([need(input, member)?, need(input, member)?]);
        let mut crc = Crc::new();
        crc.update(&header);
        let actual = (crc.sum() & 0xffff) as u16;
        if stored != actual {
            return Err(corrupt(
                input,
                at,
                format!("member {member}: header crc {stored:04x}, computed {actual:04x}"),
            ));
        }
    }
    Ok(true)
}

/// Inflates one member's deflate stream into `out` and checks its trailer. Returns the
/// member's decompressed size.
fn inflate_member<R: Read, W: Write>(
    input: &mut Input<'_, R>,
    member: u64,
    inflater: &mut Decompress,
    outbuf: &mut [u8],
    out: &mut W,
    out_path: &Path,
) -> Result<u64, CompressError> {
    inflater.reset(false);
    let mut crc = Crc::new();
    let mut size = 0u64;
    loop {
        if input.pos == input.end && !input.eof {
            input.fill()?;
        }
        let at = input.offset();
        let (in_before, out_before) = (inflater.total_in(), inflater.total_out());
        let result = inflater.decompress(input.available(), outbuf, FlushDecompress::None);
        let consumed = (inflater.total_in() - in_before) as usize;
        let produced = (inflater.total_out() - out_before) as usize;
        let status = result.map_err(|e| {
            corrupt(
                input,
                at + consumed as u64,
                format!("member {member}: invalid deflate data ({e})"),
            )
        })?;
        input.consume(consumed);
        if produced > 0 {
            crc.update(&outbuf[..produced]);
            size += produced as u64;
            out.write_all(&outbuf[..produced])
                .map_err(|e| CompressError::from_io("writing", out_path, e))?;
        }
        if status == Status::StreamEnd {
            break;
        }
        if consumed == 0 && produced == 0 {
            if input.eof && input.pos == input.end {
                return Err(truncated(input, member));
            }
            // Input available and room for output, yet no progress: inflate is stuck.
            if input.pos < input.end {
                return Err(corrupt(
                    input,
                    at,
                    format!("member {member}: inflate made no progress"),
                ));
            }
        }
    }

    let at = input.offset();
    let mut trailer = [0u8; 8];
    for b in &mut trailer {
        *b = need(input, member)?;
    }
    let stored_crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let stored_size = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    if stored_crc != crc.sum() {
        return Err(corrupt(
            input,
            at,
            format!(
                "member {member}: crc-32 of the data is {:08x}, the trailer says {stored_crc:08x}",
                crc.sum()
            ),
        ));
    }
    // ISIZE is the size modulo 2^32.
    if stored_size != size as u32 {
        return Err(corrupt(
            input,
            at + 4,
            format!(
                "member {member}: decompressed to {size} bytes, the trailer says {stored_size} (mod 2^32)"
            ),
        ));
    }
    Ok(size)
}

/// A byte that must be there: end of file means the member was cut short.
fn need<R: Read>(input: &mut Input<'_, R>, member: u64) -> Result<u8, CompressError> {
    input.byte()?.ok_or_else(|| truncated(input, member))
}

fn truncated<R>(input: &Input<'_, R>, member: u64) -> CompressError {
    CompressError::Truncated {
        path: input.path.to_path_buf(),
        offset: input.base + input.end as u64,
        member,
    }
}

fn corrupt<R>(input: &Input<'_, R>, offset: u64, detail: String) -> CompressError {
    CompressError::Corrupt {
        path: input.path.to_path_buf(),
        offset,
        detail,
    }
}
