//! One error type for the whole engine.
//!
//! Every variant is a *kind* an operator can act on (fix the settings, start the server, check the
//! password, restore from another file…), and the Python bindings map each kind to one exception
//! class under `ForneriaOpsError`. Messages are lowercase, name the object that failed and never
//! contain a secret: server messages are passed through as they are (MySQL/MariaDB never echo a
//! password), connection targets are printed as `user@host:port/db`, never as a URL with a password.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Settings or arguments that cannot work, found before touching any data.
    #[error("configuration: {0}")]
    Config(String),

    /// The server could not be reached (not running, wrong socket/port, network, gone mid-run).
    #[error("cannot connect to {target}: {message}")]
    Connect {
        target: String,
        message: String,
        code: Option<u16>,
    },

    /// The server refused the credentials.
    #[error("access denied for {target}: {message}; check USER and PASSWORD in DATABASES")]
    Auth { target: String, message: String },

    /// The database named in the settings does not exist on the server.
    #[error("database {database:?} does not exist on {target}")]
    UnknownDatabase { database: String, target: String },

    /// A table or column the job needs is missing: not the shop's database, or an old schema.
    #[error("{what} is missing in database {database:?}: {message}")]
    Schema {
        what: String,
        database: String,
        message: String,
    },

    /// Any other error reported by the database, with the server's code and SQLSTATE kept.
    #[error("{context}: {message}")]
    Database {
        context: String,
        message: String,
        code: Option<u16>,
        sqlstate: Option<String>,
    },

    /// Another run holds the job's lock and did not let go within the wait.
    #[error(
        "another {job} run holds the lock on database {database:?} (waited {waited_ms} ms); \
         try again later or raise the wait"
    )]
    Busy {
        job: String,
        database: String,
        waited_ms: u64,
    },

    /// Data that breaks the schema's promises (an unparsable date, a non-numeric quantity).
    #[error("{context}: {detail}")]
    Data { context: String, detail: String },

    /// A file operation failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The run was interrupted on request (SIGTERM/SIGINT); nothing was committed.
    #[error("cancelled: {0}")]
    Cancelled(String),

    /// Compressing, decompressing or verifying a file failed (corrupt or truncated input,
    /// checksum mismatch, disk full, …); the variant says which.
    #[error(transparent)]
    Compress(#[from] crate::compress::CompressError),
}

/// The stable kinds the Python layer maps to exception classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Config,
    Connect,
    Auth,
    UnknownDatabase,
    Schema,
    Database,
    Busy,
    Data,
    Io,
    /// The disk (or quota) is full: nothing was left under a final name.
    DiskFull,
    /// A file is damaged: corrupt, truncated, not what it claims, or its checksum differs.
    Corrupt,
    Cancelled,
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Config(_) => ErrorKind::Config,
            Error::Connect { .. } => ErrorKind::Connect,
            Error::Auth { .. } => ErrorKind::Auth,
            Error::UnknownDatabase { .. } => ErrorKind::UnknownDatabase,
            Error::Schema { .. } => ErrorKind::Schema,
            Error::Database { .. } => ErrorKind::Database,
            Error::Busy { .. } => ErrorKind::Busy,
            Error::Data { .. } => ErrorKind::Data,
            Error::Io { .. } => ErrorKind::Io,
            Error::Cancelled(_) => ErrorKind::Cancelled,
            Error::Compress(c) => {
                use crate::compress::CompressError as C;
                match c {
                    C::DiskFull { .. } => ErrorKind::DiskFull,
                    C::NotGzip { .. }
                    | C::Corrupt { .. }
                    | C::Truncated { .. }
                    | C::ChecksumMismatch { .. } => ErrorKind::Corrupt,
                    C::InvalidInput { .. } => ErrorKind::Config,
                    C::Cancelled => ErrorKind::Cancelled,
                    _ => ErrorKind::Io,
                }
            }
        }
    }

    /// The server's error code, where the database reported one.
    pub fn code(&self) -> Option<u16> {
        match self {
            Error::Connect { code, .. } | Error::Database { code, .. } => *code,
            _ => None,
        }
    }

    /// The SQLSTATE, where the database reported one.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            Error::Database { sqlstate, .. } => sqlstate.as_deref(),
            _ => None,
        }
    }

    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    pub fn data(context: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::Data {
            context: context.into(),
            detail: detail.into(),
        }
    }
}
