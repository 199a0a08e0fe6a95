//! SQLite, the file Django's default settings use, opened with our own connection.
//!
//! The file must exist (we never create an empty database by mistake). Values come back loosely
//! typed — Django stores dates and datetimes as text and DECIMAL columns get NUMERIC affinity
//! (integers or reals) — so the getters accept every storage class a column can hold.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{ErrorCode, OpenFlags, ToSql};
use rust_decimal::Decimal;

use super::{decimal_from_f64, parse_date, parse_datetime, parse_decimal, Param, RowRef};
use crate::config::SqliteConfig;
use crate::error::{Error, Result};

/// After the write lock is ours, commits may still wait briefly for readers to finish.
const COMMIT_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

pub struct SqliteConn {
    conn: rusqlite::Connection,
    path: PathBuf,
    name: String,
}

impl SqliteConn {
    pub fn open(cfg: &SqliteConfig) -> Result<Self> {
        if !cfg.path.exists() {
            return Err(Error::Connect {
                target: cfg.path.display().to_string(),
                message: "the database file does not exist (run `manage.py migrate` first?)".into(),
                code: None,
            });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = rusqlite::Connection::open_with_flags(&cfg.path, flags).map_err(|e| {
            Error::Connect {
                target: cfg.path.display().to_string(),
                message: e.to_string(),
                code: None,
            }
        })?;
        let mut me = SqliteConn {
            conn,
            path: cfg.path.clone(),
            name: cfg.path.display().to_string(),
        };
        // Django turns foreign keys on for its connections; so do we.
        me.execute(
            "configuring the connection",
            "PRAGMA foreign_keys = ON",
            &[],
        )?;
        me.set_busy_timeout(COMMIT_BUSY_TIMEOUT)?;
        Ok(me)
    }

    pub fn database(&self) -> &str {
        &self.name
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The raw connection, for engine modules that need rusqlite's own API (online backup).
    pub fn raw(&mut self) -> &mut rusqlite::Connection {
        &mut self.conn
    }

    fn set_busy_timeout(&mut self, t: Duration) -> Result<()> {
        self.conn
            .busy_timeout(t)
            .map_err(|e| sql_error("setting the busy timeout", &self.name, e))
    }

    pub fn query_each(
        &mut self,
        context: &str,
        sql: &str,
        params: &[Param],
        visit: &mut dyn FnMut(&dyn RowRef) -> Result<()>,
    ) -> Result<()> {
        let name = &self.name;
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| sql_error(context, name, e))?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(|e| sql_error(context, name, e))?;
        while let Some(row) = rows.next().map_err(|e| sql_error(context, name, e))? {
            visit(&SqliteRow(row))?;
        }
        Ok(())
    }

    pub fn execute(&mut self, context: &str, sql: &str, params: &[Param]) -> Result<u64> {
        let name = &self.name;
        if params.is_empty() {
            // Statements such as PRAGMA may return rows; execute_batch ignores them.
            let before = self.conn.total_changes();
            self.conn
                .execute_batch(sql)
                .map_err(|e| sql_error(context, name, e))?;
            return Ok(self.conn.total_changes().saturating_sub(before));
        }
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| sql_error(context, name, e))?;
        let n = stmt
            .execute(rusqlite::params_from_iter(params.iter()))
            .map_err(|e| sql_error(context, name, e))?;
        Ok(n as u64)
    }

    /// One prepared single-row INSERT reused for every row: in-process, that is as fast as
    /// SQLite inserts get, and it never hits the variable limit.
    pub fn insert_rows(
        &mut self,
        context: &str,
        table: &str,
        columns: &[&str],
        rows: &[Vec<Param>],
    ) -> Result<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        let cols = super::quoted_columns(columns);
        let sql = format!(
            "INSERT INTO `{table}` ({cols}) VALUES ({})",
            super::placeholders(columns.len())
        );
        let name = &self.name;
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(|e| sql_error(context, name, e))?;
        let mut total = 0u64;
        for row in rows {
            total += stmt
                .execute(rusqlite::params_from_iter(row.iter()))
                .map_err(|e| sql_error(context, name, e))? as u64;
        }
        Ok(total)
    }

    pub fn update_rows(
        &mut self,
        context: &str,
        table: &str,
        key: &str,
        columns: &[&str],
        rows: &[Vec<Param>],
    ) -> Result<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        // Parameters are numbered so each row binds as [key, values…].
        let sets = columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("`{c}` = ?{}", i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("UPDATE `{table}` SET {sets} WHERE `{key}` = ?1");
        let name = &self.name;
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(|e| sql_error(context, name, e))?;
        let mut total = 0u64;
        for row in rows {
            total += stmt
                .execute(rusqlite::params_from_iter(row.iter()))
                .map_err(|e| sql_error(context, name, e))? as u64;
        }
        Ok(total)
    }

    /// `BEGIN IMMEDIATE`: SQLite's write lock, waited for at most `wait`.
    pub fn begin_immediate(&mut self, job: &str, wait: Duration) -> Result<()> {
        self.set_busy_timeout(wait)?;
        let started = std::time::Instant::now();
        let res = self.conn.execute_batch("BEGIN IMMEDIATE");
        self.set_busy_timeout(COMMIT_BUSY_TIMEOUT)?;
        match res {
            Ok(()) => Ok(()),
            Err(e) if is_busy(&e) => Err(Error::Busy {
                job: job.to_owned(),
                database: self.name.clone(),
                waited_ms: started.elapsed().as_millis() as u64,
            }),
            Err(e) => Err(sql_error("starting the transaction", &self.name, e)),
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked)
    )
}

fn sql_error(context: &str, database: &str, e: rusqlite::Error) -> Error {
    let message = e.to_string();
    if message.starts_with("no such table") || message.starts_with("no such column") {
        return Error::Schema {
            what: if message.contains("table") {
                "a table"
            } else {
                "a column"
            }
            .to_owned(),
            database: database.to_owned(),
            message: format!("{context}: {message}"),
        };
    }
    if is_busy(&e) {
        return Error::Database {
            context: context.to_owned(),
            message: format!(
                "{message}: another connection holds the write lock (is this call inside a \
                 transaction.atomic() block that has already written?)"
            ),
            code: e.sqlite_error().map(|f| f.extended_code as u16),
            sqlstate: None,
        };
    }
    Error::Database {
        context: context.to_owned(),
        message,
        code: e.sqlite_error().map(|f| f.extended_code as u16),
        sqlstate: None,
    }
}

impl ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Param::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Param::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Param::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Param::Date(d) => ToSqlOutput::Owned(d.format("%Y-%m-%d").to_string().into()),
            // Django's SQLite text format for datetimes.
            Param::DateTime(t) => {
                ToSqlOutput::Owned(t.format("%Y-%m-%d %H:%M:%S%.f").to_string().into())
            }
            // Stored as text: NUMERIC affinity turns it into an exact integer or a real, as
            // Django's own writes do.
            Param::Decimal(d) => ToSqlOutput::Owned(d.to_string().into()),
        })
    }
}

struct SqliteRow<'a, 'b>(&'a rusqlite::Row<'b>);

impl SqliteRow<'_, '_> {
    fn cell(&self, i: usize) -> Result<ValueRef<'_>> {
        self.0
            .get_ref(i)
            .map_err(|e| Error::data("reading a row", e.to_string()))
    }
}

fn utf8(b: &[u8]) -> Result<&str> {
    std::str::from_utf8(b).map_err(|_| Error::data("reading a row", "text is not UTF-8"))
}

impl RowRef for SqliteRow<'_, '_> {
    fn int(&self, i: usize) -> Result<Option<i64>> {
        match self.cell(i)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(v) => Ok(Some(v)),
            ValueRef::Real(v) if v.fract() == 0.0 => Ok(Some(v as i64)),
            ValueRef::Text(t) => {
                let s = utf8(t)?;
                s.trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| Error::data("reading a row", format!("{s:?} is not an integer")))
            }
            other => Err(Error::data(
                "reading a row",
                format!("{:?} is not an integer", other.data_type()),
            )),
        }
    }

    fn text(&self, i: usize) -> Result<Option<String>> {
        match self.cell(i)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(v) => Ok(Some(v.to_string())),
            ValueRef::Real(v) => Ok(Some(v.to_string())),
            ValueRef::Text(t) | ValueRef::Blob(t) => Ok(Some(String::from_utf8_lossy(t).into())),
        }
    }

    fn date(&self, i: usize) -> Result<Option<NaiveDate>> {
        match self.cell(i)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => parse_date("reading a date", utf8(t)?).map(Some),
            other => Err(Error::data(
                "reading a date",
                format!("{:?} is not a date", other.data_type()),
            )),
        }
    }

    fn datetime(&self, i: usize) -> Result<Option<NaiveDateTime>> {
        match self.cell(i)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => parse_datetime("reading a date and time", utf8(t)?).map(Some),
            other => Err(Error::data(
                "reading a date and time",
                format!("{:?} is not a datetime", other.data_type()),
            )),
        }
    }

    fn decimal(&self, i: usize) -> Result<Option<Decimal>> {
        match self.cell(i)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(v) => Ok(Some(Decimal::from(v))),
            ValueRef::Real(v) => decimal_from_f64("reading a number", v).map(Some),
            ValueRef::Text(t) => parse_decimal("reading a number", utf8(t)?).map(Some),
            ValueRef::Blob(_) => Err(Error::data("reading a number", "a blob is not a number")),
        }
    }
}
