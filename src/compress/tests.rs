//! Tests on real files in temporary directories, checked against flate2's `MultiGzDecoder`
//! and the system `gzip`.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use flate2::read::MultiGzDecoder;
use flate2::{Compression, Crc};
use sha2::{Digest, Sha256};

use super::writer::{tests_support::PANIC_BLOCK, BlockEncoder};
use super::*;

const BLOCK: usize = 64 * 1024;

/// Deterministic pseudo-random bytes (xorshift64*), incompressible.
fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(n);
    out
}

/// SQL-dump-like text: extended INSERTs with numbers, quoted strings and hex blobs.
fn sql_text(n: usize) -> Vec<u8> {
    let names = [
        "pan integral",
        "croissant",
        "baguette d'or",
        "torta \\\"negra\\\"",
        "ñoquis",
    ];
    let mut out = Vec::with_capacity(n + 256);
    let mut i = 0u64;
    while out.len() < n {
        if i.is_multiple_of(50) {
            out.extend_from_slice(b"INSERT INTO `lotes` VALUES ");
        }
        let r = random_bytes(6, i + 7);
        write!(
            out,
            "({i},{},{}.{:03},'{}','2025-{:02}-{:02}',0x{:02x}{:02x}{:02x}{:02x})",
            r[0] as u32 * 7,
            r[1],
            r[2] as u32 * 3,
            names[i as usize % names.len()],
            1 + r[3] % 12,
            1 + r[4] % 28,
            r[0],
            r[1],
            r[2],
            r[5]
        )
        .unwrap();
        out.extend_from_slice(if i % 50 == 49 { b";\n" } else { b"," });
        i += 1;
    }
    out.truncate(n);
    out
}

fn opts(block: usize) -> CompressOptions<'static> {
    CompressOptions {
        threads: Some(2),
        block_size: block,
        ..CompressOptions::default()
    }
}

fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn multi_gz_decode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    MultiGzDecoder::new(data).read_to_end(&mut out).unwrap();
    out
}

fn gzip_dc(path: &Path) -> Vec<u8> {
    let out = Command::new("gzip")
        .arg("-dc")
        .arg(path)
        .output()
        .expect("running gzip -dc");
    assert!(out.status.success(), "gzip -dc failed: {:?}", out);
    out.stdout
}

fn gzip_t(path: &Path) {
    let st = Command::new("gzip")
        .arg("-t")
        .arg(path)
        .status()
        .expect("running gzip -t");
    assert!(st.success(), "gzip -t rejected {}", path.display());
}

/// Names in `dir`, sorted: for asserting that no temporary file is left.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn write_file(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, data).unwrap();
    p
}

fn compress_bytes(data: &[u8], block: usize, level: u32) -> Vec<u8> {
    let o = CompressOptions {
        level,
        ..opts(block)
    };
    let mut w = ParallelGzWriter::with_options(Vec::new(), &o).unwrap();
    w.write_all(data).unwrap();
    w.finish().unwrap().0
}

#[test]
fn round_trip_sizes_random_and_text() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, gen) in [
        ("random", (|n| random_bytes(n, 42)) as fn(usize) -> Vec<u8>),
        ("text", sql_text),
    ] {
        for n in [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 7 * BLOCK + 123] {
            let data = gen(n);
            let src = write_file(dir.path(), &format!("{kind}-{n}.sql"), &data);
            let rep = compress_file(&src, None, &opts(BLOCK)).unwrap();
            let gz_path = dir.path().join(format!("{kind}-{n}.sql.gz"));
            assert_eq!(rep.dst, gz_path);
            let gz = fs::read(&gz_path).unwrap();

            assert_eq!(rep.raw_bytes, n as u64);
            assert_eq!(rep.compressed_bytes, gz.len() as u64);
            assert_eq!(rep.sha256, sha256_hex(&gz), "{kind} {n}");
            assert_eq!(rep.members, n.div_ceil(BLOCK).max(1) as u64, "{kind} {n}");
            assert_eq!(multi_gz_decode(&gz), data, "MultiGzDecoder, {kind} {n}");
            assert_eq!(gzip_dc(&gz_path), data, "gzip -dc, {kind} {n}");
            gzip_t(&gz_path);
            assert_eq!(fs::read(&src).unwrap(), data, "source untouched");

            let ver = verify_file(&gz_path, &VerifyOptions::default()).unwrap();
            assert_eq!(
                (
                    ver.members,
                    ver.raw_bytes,
                    ver.compressed_bytes,
                    &ver.sha256
                ),
                (rep.members, n as u64, gz.len() as u64, &rep.sha256)
            );

            let back = dir.path().join(format!("{kind}-{n}.back"));
            let drep =
                decompress_file(&gz_path, Some(&back), &DecompressOptions::default()).unwrap();
            assert_eq!(fs::read(&back).unwrap(), data);
            assert_eq!(
                (drep.raw_bytes, drep.members, &drep.sha256),
                (n as u64, rep.members, &rep.sha256)
            );
        }
    }
    assert!(
        names(dir.path()).iter().all(|n| !n.contains(".tmp-")),
        "temporary files left: {:?}",
        names(dir.path())
    );
}

#[test]
fn default_block_size_multi_member_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = sql_text(3 * DEFAULT_BLOCK_SIZE + 1000);
    let src = write_file(dir.path(), "dump.sql", &data);
    let rep = compress_file(
        &src,
        None,
        &CompressOptions {
            threads: Some(2),
            ..CompressOptions::default()
        },
    )
    .unwrap();
    assert_eq!(rep.members, 4);
    assert!(rep.compressed_bytes < rep.raw_bytes / 2, "{rep:?}");
    assert_eq!(gzip_dc(&rep.dst), data);
    let mode = fs::metadata(&rep.dst).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o600);
}

#[test]
fn output_is_deterministic() {
    let data = sql_text(5 * BLOCK + 17);
    let a = compress_bytes(&data, BLOCK, 6);
    let b = {
        let o = CompressOptions {
            threads: Some(3),
            ..opts(BLOCK)
        };
        let mut w = ParallelGzWriter::with_options(Vec::new(), &o).unwrap();
        // Odd write sizes must not change the member boundaries.
        for chunk in data.chunks(999) {
            w.write_all(chunk).unwrap();
        }
        w.finish().unwrap().0
    };
    assert_eq!(a, b);
}

#[test]
fn levels_0_and_9() {
    let data = sql_text(3 * BLOCK + 5);
    let stored = compress_bytes(&data, BLOCK, 0);
    assert!(stored.len() > data.len(), "level 0 stores");
    // The first deflate block of the first member: BTYPE 00 (stored), as zlib's level 0.
    assert_eq!(stored[10] & 0b110, 0, "level 0 writes stored blocks");
    assert_eq!(multi_gz_decode(&stored), data);
    let best = compress_bytes(&data, BLOCK, 9);
    assert!(best.len() < data.len() / 2);
    assert_eq!(multi_gz_decode(&best), data);
    assert_eq!(best[8], 2, "XFL says maximum compression");

    let dir = tempfile::tempdir().unwrap();
    for level in [0, 9] {
        let p = write_file(
            dir.path(),
            &format!("l{level}.gz"),
            &compress_bytes(&data, BLOCK, level),
        );
        assert_eq!(gzip_dc(&p), data);
        verify_file(&p, &VerifyOptions::default()).unwrap();
    }
}

#[test]
fn python_gzip_reads_output() {
    let works = Command::new("python3")
        .args(["-c", "import gzip"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !works {
        eprintln!("no working python3; skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = sql_text(4 * BLOCK + 3);
    let p = write_file(dir.path(), "x.gz", &compress_bytes(&data, BLOCK, 6));
    let out = Command::new("python3")
        .arg("-c")
        .arg("import gzip, hashlib, sys; print(hashlib.sha256(gzip.open(sys.argv[1]).read()).hexdigest())")
        .arg(&p)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        sha256_hex(&data)
    );
}

#[test]
fn empty_input_is_one_valid_member() {
    let w = ParallelGzWriter::new(Vec::new()).unwrap();
    let (gz, sum) = w.finish().unwrap();
    assert_eq!(sum.members, 1);
    assert_eq!(sum.raw_bytes, 0);
    assert_eq!(sum.compressed_bytes, gz.len() as u64);
    assert_eq!(sum.sha256_hex, sha256_hex(&gz));
    assert!(multi_gz_decode(&gz).is_empty());
    let dir = tempfile::tempdir().unwrap();
    gzip_t(&write_file(dir.path(), "empty.gz", &gz));
}

#[test]
fn writer_summary_matches_output() {
    let data = random_bytes(10 * BLOCK + 1, 9);
    let mut w = ParallelGzWriter::with_options(Vec::new(), &opts(BLOCK)).unwrap();
    w.write_all(&data).unwrap();
    let (gz, sum) = w.finish().unwrap();
    assert_eq!(sum.raw_bytes, data.len() as u64);
    assert_eq!(sum.compressed_bytes, gz.len() as u64);
    assert_eq!(sum.members, 11);
    assert_eq!(sum.sha256_hex, sha256_hex(&gz));
}

#[test]
fn writer_keeps_at_most_two_blocks_per_thread_in_flight() {
    for threads in [1, 3] {
        let o = CompressOptions {
            threads: Some(threads),
            ..opts(1024)
        };
        let mut w = ParallelGzWriter::with_options(Vec::new(), &o).unwrap();
        w.write_all(&sql_text(200 * 1024)).unwrap();
        assert!(
            w.peak_in_flight <= 2 * threads,
            "{} > {}",
            w.peak_in_flight,
            2 * threads
        );
        assert!(w.peak_in_flight >= 1);
        w.finish().unwrap();
    }
}

#[test]
fn flush_emits_buffered_data() {
    let mut w = ParallelGzWriter::with_options(Vec::new(), &opts(BLOCK)).unwrap();
    w.write_all(b"hola ").unwrap();
    w.flush().unwrap();
    assert_eq!(multi_gz_decode(w.get_ref()), b"hola ");
    w.write_all(b"mundo").unwrap();
    let (gz, sum) = w.finish().unwrap();
    assert_eq!(sum.members, 2);
    assert_eq!(multi_gz_decode(&gz), b"hola mundo");
}

#[test]
fn sha256_writer_hashes_what_passes() {
    let data = random_bytes(100_000, 3);
    let mut w = Sha256Writer::new(Vec::new());
    for c in data.chunks(777) {
        w.write_all(c).unwrap();
    }
    assert_eq!(w.bytes_written(), data.len() as u64);
    let (inner, d) = w.finish();
    assert_eq!(inner, data);
    assert_eq!(d.sha256_hex, sha256_hex(&data));
}

#[test]
fn worker_panic_is_an_error_not_an_abort() {
    let o = opts(PANIC_BLOCK.len());
    let mut w = ParallelGzWriter::with_options(Vec::new(), &o).unwrap();
    w.write_all(PANIC_BLOCK).unwrap();
    // The panic surfaces at the latest when the block has to be written out.
    let mut err = None;
    for _ in 0..100 {
        if let Err(e) = w.write_all(&[b'x'; 21]) {
            err = Some(e);
            break;
        }
    }
    let err = err.unwrap_or_else(|| w.flush().unwrap_err());
    assert!(err.to_string().contains("panicked"), "{err}");
    // Poisoned: no silent continuation.
    assert!(w.write(b"more").is_err());
    assert!(w.finish().is_err());
}

/// Accepts `limit` bytes, then fails like a full disk.
#[derive(Debug)]
struct FullAfter {
    limit: usize,
    written: usize,
}

impl Write for FullAfter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written >= self.limit {
            return Err(io::Error::from_raw_os_error(28));
        }
        let n = buf.len().min(self.limit - self.written);
        self.written += n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn inner_write_error_propagates_and_poisons() {
    let inner = FullAfter {
        limit: 10_000,
        written: 0,
    };
    let mut w = ParallelGzWriter::with_options(inner, &opts(4096)).unwrap();
    let data = random_bytes(200_000, 5);
    let err = w.write_all(&data).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(28));
    let again = w.write(b"x").unwrap_err();
    assert_eq!(again.kind(), io::ErrorKind::StorageFull);
    let fin = w.finish().unwrap_err();
    assert!(matches!(
        CompressError::from_io("writing", "/x/y.gz", fin),
        CompressError::DiskFull { .. }
    ));
}

#[test]
fn dev_full_maps_to_disk_full() {
    let Ok(full) = fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("/dev/full not available; skipping");
        return;
    };
    let mut w = ParallelGzWriter::with_options(full, &opts(1024)).unwrap();
    let res = w
        .write_all(&random_bytes(64 * 1024, 1))
        .and_then(|_| w.flush());
    let err = CompressError::from_io("writing", "/x/y.gz", res.unwrap_err());
    assert!(matches!(err, CompressError::DiskFull { .. }), "{err:?}");
    assert_eq!(err.to_string(), "writing /x/y.gz: no space left on device");
}

/// Unmounts on drop, so a failing assertion doesn't leave a mount behind.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn full_tmpfs_gives_disk_full_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("small");
    fs::create_dir(&mnt).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&mnt)
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !mounted {
        eprintln!("cannot mount a tmpfs here (not root?); skipping the ENOSPC file test");
        return;
    }
    let _guard = Mount(mnt.clone());
    let src = write_file(dir.path(), "big.bin", &random_bytes(3 << 20, 77));
    let dst = mnt.join("big.bin.gz");
    let err = compress_file(&src, Some(&dst), &opts(BLOCK)).unwrap_err();
    assert!(matches!(err, CompressError::DiskFull { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("writing {}: no space left on device", dst.display())
    );
    assert!(names(&mnt).is_empty(), "left behind: {:?}", names(&mnt));
}

/// A multi-member file and the offsets where its members end.
fn multi_member_file(dir: &Path) -> (PathBuf, Vec<u8>, Vec<usize>) {
    let data = sql_text(3 * BLOCK);
    let mut gz = Vec::new();
    let mut ends = Vec::new();
    for chunk in data.chunks(BLOCK) {
        let mut member = Vec::new();
        let mut enc = BlockEncoder::new(6).unwrap();
        enc.encode_member(chunk, &mut member).unwrap();
        gz.extend_from_slice(&member);
        ends.push(gz.len());
    }
    assert_eq!(gz, compress_bytes(&data, BLOCK, 6));
    (write_file(dir, "m.gz", &gz), gz, ends)
}

fn verify(p: &Path) -> Result<VerifyReport, CompressError> {
    verify_file(p, &VerifyOptions::default())
}

#[test]
fn verify_detects_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let (p, gz, ends) = multi_member_file(dir.path());
    assert_eq!(verify(&p).unwrap().members, 3);
    let cuts = [
        (1, 1),            // inside the magic
        (5, 1),            // inside the first header
        (ends[0] / 2, 1),  // inside the first deflate stream
        (ends[0] - 3, 1),  // inside the first trailer
        (ends[0] + 1, 2),  // one byte of the second member
        (ends[1] + 12, 3), // just after the third header
        (gz.len() - 1, 3), // last byte of ISIZE missing
    ];
    for (cut, member) in cuts {
        let t = write_file(dir.path(), "t.gz", &gz[..cut]);
        match verify(&t) {
            Err(CompressError::Truncated {
                offset, member: m, ..
            }) => {
                assert_eq!(offset, cut as u64);
                assert_eq!(m, member, "cut at {cut}");
            }
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    // Cut exactly between members: structurally valid; only the checksum can tell.
    let t = write_file(dir.path(), "t.gz", &gz[..ends[1]]);
    assert_eq!(verify(&t).unwrap().members, 2);
    let err = verify_file(
        &t,
        &VerifyOptions {
            expected_sha256: Some(&sha256_hex(&gz)),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(err, CompressError::ChecksumMismatch { .. }),
        "{err:?}"
    );
}

#[test]
fn verify_detects_flipped_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (_, gz, ends) = multi_member_file(dir.path());
    let positions = [
        (ends[0] + 2, "compression method"), // CM of member 2
        (ends[0] + 3, "reserved"),           // FLG of member 2
        (ends[0] / 2, ""),                   // deflate data: bad stream or bad crc
        ((ends[1] + ends[2]) / 2, ""),
        (ends[0] - 8, "crc-32"),       // CRC of member 1
        (ends[2] - 2, "trailer says"), // ISIZE of member 3
    ];
    for (pos, needle) in positions {
        let mut bad = gz.clone();
        bad[pos] ^= if needle == "reserved" { 0x80 } else { 0x01 };
        let p = write_file(dir.path(), "bad.gz", &bad);
        match verify(&p) {
            Err(e @ CompressError::Corrupt { .. }) => {
                assert!(e.to_string().contains(needle), "at {pos}: {e}")
            }
            other => panic!("flip at {pos}: {other:?}"),
        }
    }
}

#[test]
fn verify_rejects_non_gzip_and_trailing_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_file(dir.path(), "plain.sql", b"INSERT INTO t VALUES (1);\n");
    let e = verify(&p).unwrap_err();
    assert!(
        matches!(e, CompressError::NotGzip { offset: 0, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("not a gzip file"), "{e}");

    let p = write_file(dir.path(), "empty.gz", b"");
    assert!(matches!(verify(&p), Err(CompressError::NotGzip { .. })));

    let mut gz = compress_bytes(b"hello", BLOCK, 6);
    let len = gz.len() as u64;
    gz.extend_from_slice(b"\n");
    let p = write_file(dir.path(), "trail.gz", &gz);
    match verify(&p) {
        Err(CompressError::Corrupt { offset, detail, .. }) => {
            assert_eq!(offset, len);
            assert!(detail.contains("trailing garbage"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn verify_checks_expected_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let gz = compress_bytes(b"backup", BLOCK, 6);
    let p = write_file(dir.path(), "b.gz", &gz);
    let good = sha256_hex(&gz).to_uppercase();
    let rep = verify_file(
        &p,
        &VerifyOptions {
            expected_sha256: Some(&good),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(rep.sha256, sha256_hex(&gz));

    let wrong = "0".repeat(64);
    match verify_file(
        &p,
        &VerifyOptions {
            expected_sha256: Some(&wrong),
            ..Default::default()
        },
    ) {
        Err(CompressError::ChecksumMismatch {
            expected, actual, ..
        }) => assert_eq!((expected, actual), (wrong.clone(), sha256_hex(&gz))),
        other => panic!("{other:?}"),
    }
    let e = verify_file(
        &p,
        &VerifyOptions {
            expected_sha256: Some("abc"),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(e, CompressError::InvalidInput { .. }));
}

#[test]
fn reads_gzip_written_by_others() {
    let dir = tempfile::tempdir().unwrap();
    let data = sql_text(300_000);
    // GNU gzip stores the file name (FNAME).
    let src = write_file(dir.path(), "theirs.sql", &data);
    let st = Command::new("gzip").arg("-k").arg(&src).status().unwrap();
    assert!(st.success());
    let p = dir.path().join("theirs.sql.gz");
    let rep = verify(&p).unwrap();
    assert_eq!((rep.members, rep.raw_bytes), (1, data.len() as u64));

    // FEXTRA, FNAME, FCOMMENT via flate2's builder.
    let mut enc = flate2::GzBuilder::new()
        .filename("x.sql")
        .comment("comentario")
        .extra(vec![1, 2, 3, 4])
        .write(Vec::new(), Compression::default());
    enc.write_all(&data).unwrap();
    let p2 = write_file(dir.path(), "builder.gz", &enc.finish().unwrap());
    assert_eq!(verify(&p2).unwrap().raw_bytes, data.len() as u64);

    // FHCRC, right and wrong.
    let mut member = Vec::new();
    BlockEncoder::new(6)
        .unwrap()
        .encode_member(b"hcrc", &mut member)
        .unwrap();
    member[3] |= 0x02;
    let mut crc = Crc::new();
    crc.update(&member[..10]);
    let hcrc = ((crc.sum() & 0xffff) as u16).to_le_bytes();
    let mut with_hcrc = member[..10].to_vec();
    with_hcrc.extend_from_slice(&hcrc);
    with_hcrc.extend_from_slice(&member[10..]);
    let p3 = write_file(dir.path(), "hcrc.gz", &with_hcrc);
    assert_eq!(verify(&p3).unwrap().raw_bytes, 4);
    gzip_t(&p3);
    with_hcrc[10] ^= 1;
    let p4 = write_file(dir.path(), "hcrc-bad.gz", &with_hcrc);
    assert!(matches!(
        verify(&p4),
        Err(CompressError::Corrupt { offset: 10, .. })
    ));
}

#[test]
fn decompress_of_damaged_input_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_, gz, ends) = multi_member_file(dir.path());
    let t = write_file(dir.path(), "cut.sql.gz", &gz[..ends[1] + 100]);
    let e = decompress_file(&t, None, &DecompressOptions::default()).unwrap_err();
    assert!(
        matches!(e, CompressError::Truncated { member: 3, .. }),
        "{e:?}"
    );
    let mut bad = gz.clone();
    bad[ends[0] - 8] ^= 1;
    let b = write_file(dir.path(), "bad.sql.gz", &bad);
    let e = decompress_file(&b, None, &DecompressOptions::default()).unwrap_err();
    assert!(matches!(e, CompressError::Corrupt { .. }), "{e:?}");
    // Good data but the wrong expected checksum: also nothing.
    let g = write_file(dir.path(), "good.sql.gz", &gz);
    let zeros = "0".repeat(64);
    let e = decompress_file(
        &g,
        None,
        &DecompressOptions {
            expected_sha256: Some(&zeros),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(e, CompressError::ChecksumMismatch { .. }), "{e:?}");
    assert_eq!(
        names(dir.path()),
        ["bad.sql.gz", "cut.sql.gz", "good.sql.gz", "m.gz"]
    );
}

#[test]
fn decompress_default_name_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let gz = write_file(dir.path(), "d.sql.gz", &compress_bytes(b"abc", BLOCK, 6));
    let rep = decompress_file(&gz, None, &DecompressOptions::default()).unwrap();
    assert_eq!(rep.dst, dir.path().join("d.sql"));
    assert_eq!(fs::read(&rep.dst).unwrap(), b"abc");
    let e = decompress_file(&gz, None, &DecompressOptions::default()).unwrap_err();
    assert!(matches!(e, CompressError::AlreadyExists { .. }), "{e:?}");
    decompress_file(
        &gz,
        None,
        &DecompressOptions {
            overwrite: true,
            ..Default::default()
        },
    )
    .unwrap();

    // File names need not be UTF-8.
    use std::os::unix::ffi::OsStrExt;
    let odd = dir
        .path()
        .join(std::ffi::OsStr::from_bytes(b"caf\xe9.sql.gz"));
    fs::write(&odd, compress_bytes(b"xyz", BLOCK, 6)).unwrap();
    let rep = decompress_file(&odd, None, &DecompressOptions::default()).unwrap();
    assert_eq!(
        rep.dst,
        dir.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9.sql"))
    );

    let plain = write_file(dir.path(), "noext", b"x");
    let e = decompress_file(&plain, None, &DecompressOptions::default()).unwrap_err();
    assert!(matches!(e, CompressError::InvalidInput { .. }), "{e:?}");
}

#[test]
fn compress_refuses_existing_and_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let src = write_file(dir.path(), "a.sql", b"data");
    let dst = write_file(dir.path(), "a.sql.gz", b"precious");
    let e = compress_file(&src, None, &opts(BLOCK)).unwrap_err();
    assert!(matches!(e, CompressError::AlreadyExists { .. }), "{e:?}");
    assert!(e.to_string().contains("overwrite"), "{e}");
    assert_eq!(fs::read(&dst).unwrap(), b"precious");

    let o = CompressOptions {
        overwrite: true,
        ..opts(BLOCK)
    };
    compress_file(&src, None, &o).unwrap();
    assert_eq!(multi_gz_decode(&fs::read(&dst).unwrap()), b"data");

    let e = compress_file(&src, Some(&src), &o).unwrap_err();
    assert!(matches!(e, CompressError::InvalidInput { .. }), "{e:?}");
    assert_eq!(fs::read(&src).unwrap(), b"data");
    assert_eq!(names(dir.path()), ["a.sql", "a.sql.gz"]);
}

#[test]
fn invalid_options_touch_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let src = write_file(dir.path(), "a.sql", b"data");
    for o in [
        CompressOptions {
            level: 10,
            ..opts(BLOCK)
        },
        CompressOptions {
            threads: Some(0),
            ..opts(BLOCK)
        },
        CompressOptions {
            block_size: 0,
            ..opts(BLOCK)
        },
        CompressOptions {
            mode: 0o10000,
            ..opts(BLOCK)
        },
    ] {
        let e = compress_file(&src, None, &o).unwrap_err();
        assert!(
            matches!(e, CompressError::InvalidInput { .. }),
            "{o:?}: {e:?}"
        );
        let e = ParallelGzWriter::with_options(Vec::new(), &o).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }
    let missing = dir.path().join("missing.sql");
    let e = compress_file(&missing, None, &opts(BLOCK)).unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("opening {}: no such file", missing.display())),
        "{e}"
    );
    assert_eq!(names(dir.path()), ["a.sql"]);
}

#[test]
fn atomic_file_is_whole_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dst = dir.path().join("out.gz");

    // Dropped without commit: nothing.
    {
        let mut f = AtomicFile::create(&dst, &AtomicFileOptions::default()).unwrap();
        f.write_all(b"partial").unwrap();
        let tmp = f.temp_path().to_path_buf();
        let name = tmp.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(".out.gz.tmp-"), "{name}");
        assert_eq!(tmp.parent(), Some(dir.path()));
        assert_eq!(
            fs::metadata(&tmp).unwrap().permissions().mode() & 0o7777,
            0o600
        );
        assert!(!dst.exists());
    }
    assert!(names(dir.path()).is_empty());

    // Committed: the final file, mode 0600.
    let mut f = AtomicFile::create(&dst, &AtomicFileOptions::default()).unwrap();
    f.write_all(b"whole").unwrap();
    f.commit().unwrap();
    assert_eq!(fs::read(&dst).unwrap(), b"whole");
    assert_eq!(
        fs::metadata(&dst).unwrap().permissions().mode() & 0o7777,
        0o600
    );
    assert_eq!(names(dir.path()), ["out.gz"]);

    // Exists: refused at creation, and at commit if it appeared meanwhile.
    let e = AtomicFile::create(&dst, &AtomicFileOptions::default()).unwrap_err();
    assert!(matches!(e, CompressError::AlreadyExists { .. }));
    let late = dir.path().join("late.gz");
    let mut f = AtomicFile::create(&late, &AtomicFileOptions::default()).unwrap();
    f.write_all(b"mine").unwrap();
    fs::write(&late, b"theirs").unwrap();
    let e = f.commit().unwrap_err();
    assert!(matches!(e, CompressError::AlreadyExists { .. }), "{e:?}");
    assert_eq!(fs::read(&late).unwrap(), b"theirs");
    assert_eq!(names(dir.path()), ["late.gz", "out.gz"]);

    // Overwrite and an exact custom mode (not narrowed by the umask).
    let o = AtomicFileOptions {
        mode: 0o644,
        overwrite: true,
    };
    let mut f = AtomicFile::create(&dst, &o).unwrap();
    f.write_all(b"new").unwrap();
    f.commit().unwrap();
    assert_eq!(fs::read(&dst).unwrap(), b"new");
    assert_eq!(
        fs::metadata(&dst).unwrap().permissions().mode() & 0o7777,
        0o644
    );
    assert_eq!(names(dir.path()), ["late.gz", "out.gz"]);
}

#[test]
fn atomic_file_long_name_fits() {
    let dir = tempfile::tempdir().unwrap();
    let dst = dir.path().join(format!("{}.sql.gz", "x".repeat(240)));
    let mut f = AtomicFile::create(&dst, &AtomicFileOptions::default()).unwrap();
    f.write_all(b"ok").unwrap();
    f.commit().unwrap();
    assert_eq!(fs::read(&dst).unwrap(), b"ok");
}

#[test]
fn cancellation_returns_cancelled_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let src = write_file(dir.path(), "c.sql", &sql_text(4 * BLOCK));
    let flag = AtomicBool::new(true);
    let o = CompressOptions {
        cancel: Some(&flag),
        ..opts(BLOCK)
    };
    assert!(matches!(
        compress_file(&src, None, &o),
        Err(CompressError::Cancelled)
    ));
    assert_eq!(names(dir.path()), ["c.sql"]);

    // Set mid-stream: the next block boundary stops the writer, for good.
    let flag = AtomicBool::new(false);
    let o = CompressOptions {
        cancel: Some(&flag),
        ..opts(1024)
    };
    let dst = dir.path().join("c.sql.gz");
    let file = AtomicFile::create(&dst, &AtomicFileOptions::default()).unwrap();
    let mut w = ParallelGzWriter::with_options(file, &o).unwrap();
    w.write_all(&sql_text(10_000)).unwrap();
    flag.store(true, Ordering::Relaxed);
    let e = w.write_all(&sql_text(10_000)).unwrap_err();
    assert!(matches!(
        CompressError::from_io("writing", &dst, e),
        CompressError::Cancelled
    ));
    assert!(w.write(b"x").is_err());
    let e = w.finish().unwrap_err();
    assert!(matches!(
        CompressError::from_io("writing", &dst, e),
        CompressError::Cancelled
    ));
    assert_eq!(names(dir.path()), ["c.sql"]);

    // Decompress and verify too.
    let gz = write_file(dir.path(), "d.sql.gz", &compress_bytes(b"abc", BLOCK, 6));
    let flag = AtomicBool::new(true);
    let e = decompress_file(
        &gz,
        None,
        &DecompressOptions {
            cancel: Some(&flag),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(e, CompressError::Cancelled), "{e:?}");
    let e = verify_file(
        &gz,
        &VerifyOptions {
            cancel: Some(&flag),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(e, CompressError::Cancelled), "{e:?}");
    assert_eq!(names(dir.path()), ["c.sql", "d.sql.gz"]);
}

#[test]
fn error_messages_are_lowercase_with_context() {
    let e = CompressError::from_io("reading", "/nope/x.sql", io::Error::from_raw_os_error(2));
    assert_eq!(
        e.to_string(),
        "reading /nope/x.sql: no such file or directory (os error 2)"
    );
    let e = CompressError::Truncated {
        path: "/b/x.gz".into(),
        offset: 10,
        member: 1,
    };
    assert_eq!(
        e.to_string(),
        "/b/x.gz: truncated gzip file: it ends at byte 10, in the middle of member 1"
    );
}
