//! One Python exception class per engine error kind, all under `ForneriaOpsError`, carrying the
//! server's `code` and `sqlstate` where there is one.

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::{create_exception, PyErr};

use crate::error::{Error, ErrorKind};

create_exception!(
    forneria_ops,
    ForneriaOpsError,
    PyException,
    "Base class of every error forneria-ops raises."
);
create_exception!(
    forneria_ops,
    ConfigError,
    ForneriaOpsError,
    "Settings or arguments that cannot work; nothing was touched."
);
create_exception!(
    forneria_ops,
    ConnectError,
    ForneriaOpsError,
    "The database server could not be reached, or the connection was lost."
);
create_exception!(
    forneria_ops,
    AuthError,
    ConnectError,
    "The database server refused the credentials."
);
create_exception!(
    forneria_ops,
    UnknownDatabaseError,
    ConnectError,
    "The configured database does not exist on the server."
);
create_exception!(
    forneria_ops,
    SchemaError,
    ForneriaOpsError,
    "A table or column the job needs is missing."
);
create_exception!(
    forneria_ops,
    DatabaseError,
    ForneriaOpsError,
    "Any other error reported by the database (see .code and .sqlstate)."
);
create_exception!(
    forneria_ops,
    LockBusyError,
    ForneriaOpsError,
    "Another run of the same job holds its lock."
);
create_exception!(
    forneria_ops,
    DataError,
    ForneriaOpsError,
    "Stored data breaks the schema's promises (unparsable date, non-numeric quantity)."
);
create_exception!(
    forneria_ops,
    FileError,
    ForneriaOpsError,
    "A file could not be read or written."
);
create_exception!(
    forneria_ops,
    DiskFullError,
    FileError,
    "The disk is full; nothing was left under a final name."
);
create_exception!(
    forneria_ops,
    CorruptFileError,
    FileError,
    "A file is corrupt, truncated, not gzip, or does not match its checksum."
);
create_exception!(
    forneria_ops,
    CancelledError,
    ForneriaOpsError,
    "The run was interrupted on request; nothing was committed."
);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("ForneriaOpsError", py.get_type::<ForneriaOpsError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("ConnectError", py.get_type::<ConnectError>())?;
    m.add("AuthError", py.get_type::<AuthError>())?;
    m.add(
        "UnknownDatabaseError",
        py.get_type::<UnknownDatabaseError>(),
    )?;
    m.add("SchemaError", py.get_type::<SchemaError>())?;
    m.add("DatabaseError", py.get_type::<DatabaseError>())?;
    m.add("LockBusyError", py.get_type::<LockBusyError>())?;
    m.add("DataError", py.get_type::<DataError>())?;
    m.add("FileError", py.get_type::<FileError>())?;
    m.add("DiskFullError", py.get_type::<DiskFullError>())?;
    m.add("CorruptFileError", py.get_type::<CorruptFileError>())?;
    m.add("CancelledError", py.get_type::<CancelledError>())?;
    Ok(())
}

/// The exception for an engine error, with `kind`, `code` and `sqlstate` attributes.
pub fn to_py(py: Python<'_>, e: Error) -> PyErr {
    let msg = e.to_string();
    let err = match e.kind() {
        ErrorKind::Config => ConfigError::new_err(msg),
        ErrorKind::Connect => ConnectError::new_err(msg),
        ErrorKind::Auth => AuthError::new_err(msg),
        ErrorKind::UnknownDatabase => UnknownDatabaseError::new_err(msg),
        ErrorKind::Schema => SchemaError::new_err(msg),
        ErrorKind::Database => DatabaseError::new_err(msg),
        ErrorKind::Busy => LockBusyError::new_err(msg),
        ErrorKind::Data => DataError::new_err(msg),
        ErrorKind::Io => FileError::new_err(msg),
        ErrorKind::DiskFull => DiskFullError::new_err(msg),
        ErrorKind::Corrupt => CorruptFileError::new_err(msg),
        ErrorKind::Cancelled => CancelledError::new_err(msg),
    };
    let value = err.value(py);
    let _ = value.setattr("kind", format!("{:?}", e.kind()).to_lowercase());
    let _ = value.setattr("code", e.code());
    let _ = value.setattr("sqlstate", e.sqlstate());
    err
}
