//! [`AtomicFile`]: a file that appears under its final name whole, or not at all.

use std::collections::hash_map::RandomState;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{CompressError, DEFAULT_MODE};

/// How to create an [`AtomicFile`]. `Default`: mode 0o600, don't overwrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtomicFileOptions {
    /// Permission bits of the final file, applied exactly (the umask doesn't narrow them).
    pub mode: u32,
    /// Replace an existing final file on commit. If false, an existing file is an error both
    /// at creation (to fail before doing the work) and at commit (without a race: the final
    /// name is claimed with `link(2)`, which fails if it exists).
    pub overwrite: bool,
}

impl Default for AtomicFileOptions {
    fn default() -> Self {
        AtomicFileOptions {
            mode: DEFAULT_MODE,
            overwrite: false,
        }
    }
}

/// A temporary file in the target directory that takes its final name on
/// [`commit`](Self::commit).
///
/// * The temporary file is `.{final name}.tmp-{pid}-{random}` in the same directory, so the
///   final rename never crosses file systems and is atomic, and a leftover from a crash is
///   recognisable (and hidden from `ls`).
/// * It is created with `O_EXCL` and the requested mode from the start (0o600 by default), so
///   the data is never readable by others, not even while being written.
/// * `commit` = fsync the file, rename it to the final name, fsync the directory: after it
///   returns, the file survives a power cut; before it, the final name is untouched.
/// * Dropping it without `commit`, or a failed `commit`, removes the temporary file.
///
/// Writes go straight to the file (no buffering): callers write large blocks.
#[derive(Debug)]
pub struct AtomicFile {
    file: File,
    tmp: PathBuf,
    dst: PathBuf,
    dir: PathBuf,
    opts: AtomicFileOptions,
    /// True while the temporary name exists and is ours to remove.
    tmp_live: bool,
}

impl AtomicFile {
    /// Creates the temporary file for `dst`. Fails with [`CompressError::AlreadyExists`] if
    /// `dst` exists and `opts.overwrite` is false.
    pub fn create(dst: &Path, opts: &AtomicFileOptions) -> Result<Self, CompressError> {
        let name = match dst.file_name() {
            Some(n) => n.to_owned(),
            None => {
                return Err(CompressError::InvalidInput {
                    detail: format!("{} does not name a file", dst.display()),
                })
            }
        };
        let dir = match dst.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !opts.overwrite && fs::symlink_metadata(dst).is_ok() {
            return Err(CompressError::AlreadyExists {
                path: dst.to_path_buf(),
            });
        }

        let mut attempt = 0;
        let (file, tmp) = loop {
            let tmp = dir.join(temp_name(&name));
            match open_new(&tmp, opts.mode) {
                Ok(file) => break (file, tmp),
                // A name collision is astronomically unlikely but cheap to survive.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 8 => attempt += 1,
                Err(e) => {
                    return Err(CompressError::from_io(
                        "creating a temporary file for",
                        dst,
                        e,
                    ))
                }
            }
        };
        let this = AtomicFile {
            file,
            tmp,
            dst: dst.to_path_buf(),
            dir,
            opts: *opts,
            tmp_live: true,
        };
        // The mode passed to open(2) is narrowed by the umask; set it exactly. On error `this`
        // is dropped and the temporary file removed.
        set_mode(&this.file, opts.mode)
            .map_err(|e| CompressError::from_io("setting permissions of", &this.tmp, e))?;
        Ok(this)
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.dst
    }

    /// The temporary path being written.
    pub fn temp_path(&self) -> &Path {
        &self.tmp
    }

    /// The open temporary file (e.g. for `set_len` or metadata).
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Makes the file durable and gives it its final name.
    ///
    /// If this fails before the rename, the temporary file is removed and the final name is
    /// untouched. If only the fsync of the directory fails, the complete file is already under
    /// its final name, and the error says the rename may not survive a crash.
    pub fn commit(mut self) -> Result<(), CompressError> {
        self.file
            .sync_all()
            .map_err(|e| CompressError::from_io("syncing", &self.dst, e))?;
        if self.opts.overwrite {
            fs::rename(&self.tmp, &self.dst)
                .map_err(|e| CompressError::from_io("renaming temporary file to", &self.dst, e))?;
            self.tmp_live = false;
        } else {
            self.rename_no_clobber()?;
        }
        sync_dir(&self.dir).map_err(|e| {
            CompressError::from_io("syncing directory after renaming into", &self.dir, e)
        })
    }

    /// Claims the final name with `link(2)`, which fails if it exists, then drops the
    /// temporary name. File systems without hard links fall back to check-then-rename.
    fn rename_no_clobber(&mut self) -> Result<(), CompressError> {
        match fs::hard_link(&self.tmp, &self.dst) {
            Ok(()) => {
                // The data is safe under the final name. If the unlink fails, Drop tries again.
                if fs::remove_file(&self.tmp).is_ok() {
                    self.tmp_live = false;
                }
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                Err(CompressError::AlreadyExists {
                    path: self.dst.clone(),
                })
            }
            Err(_) => {
                if fs::symlink_metadata(&self.dst).is_ok() {
                    return Err(CompressError::AlreadyExists {
                        path: self.dst.clone(),
                    });
                }
                fs::rename(&self.tmp, &self.dst).map_err(|e| {
                    CompressError::from_io("renaming temporary file to", &self.dst, e)
                })?;
                self.tmp_live = false;
                Ok(())
            }
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.file.write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.tmp_live {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// `.{name}.tmp-{pid}-{random}`, with the name cut to 100 bytes so the result stays under
/// NAME_MAX (255) for any valid final name.
fn temp_name(final_name: &std::ffi::OsStr) -> OsString {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let bytes = final_name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len().min(100) + 40);
    out.push(b'.');
    out.extend_from_slice(&bytes[..bytes.len().min(100)]);
    out.extend_from_slice(format!(".tmp-{}-{:016x}", std::process::id(), random_u64()).as_bytes());
    OsString::from_vec(out)
}

/// 64 unpredictable-enough bits without a `rand` dependency: std's `RandomState` is seeded
/// from the OS once per thread, and the counter and clock separate calls.
fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    h.finish()
}

fn open_new(path: &Path, mode: u32) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
}

fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(mode))
}

/// fsync of the directory makes the new directory entry (the rename) durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
