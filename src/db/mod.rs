//! Connections to the shop's database: MySQL/MariaDB (the `mysql` crate, native protocol) and
//! SQLite (`rusqlite`, the file Django uses).
//!
//! Jobs speak one small dialect through [`Conn`]: run a query and visit its rows through
//! [`RowRef`] (typed getters that accept what either server sends: MySQL text-protocol bytes,
//! binary values, or SQLite's loosely typed cells), execute a statement, insert rows in batches,
//! and run inside a [`Tx`] that holds the job's lock. Identifiers are quoted with backticks,
//! which both MySQL and SQLite accept.
//!
//! Invariants: a [`Tx`] dropped without `commit()` rolls back and releases its lock; no statement
//! text ever carries a value (everything is bound), so no value needs escaping here.

mod mysql;
mod sqlite;

use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;

use crate::config::DbConfig;
use crate::error::{Error, Result};

pub use self::mysql::MysqlConn;
pub use self::sqlite::SqliteConn;

/// A bound parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Null,
    Int(i64),
    Text(String),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
    Decimal(Decimal),
}

impl From<i64> for Param {
    fn from(v: i64) -> Self {
        Param::Int(v)
    }
}
impl From<&str> for Param {
    fn from(v: &str) -> Self {
        Param::Text(v.to_owned())
    }
}
impl From<String> for Param {
    fn from(v: String) -> Self {
        Param::Text(v)
    }
}
impl<T: Into<Param>> From<Option<T>> for Param {
    fn from(v: Option<T>) -> Self {
        v.map_or(Param::Null, Into::into)
    }
}

/// Which server is on the other end: the few places where SQL differs ask this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    Mysql,
    Sqlite,
}

impl Vendor {
    pub fn as_str(self) -> &'static str {
        match self {
            Vendor::Mysql => "mysql",
            Vendor::Sqlite => "sqlite",
        }
    }
}

/// Typed access to one row, whatever the server sent.
pub trait RowRef {
    fn int(&self, i: usize) -> Result<Option<i64>>;
    fn text(&self, i: usize) -> Result<Option<String>>;
    fn date(&self, i: usize) -> Result<Option<NaiveDate>>;
    fn datetime(&self, i: usize) -> Result<Option<NaiveDateTime>>;
    fn decimal(&self, i: usize) -> Result<Option<Decimal>>;
}

/// An open connection to the shop's database.
pub enum Conn {
    Mysql(MysqlConn),
    Sqlite(SqliteConn),
}

/// Opens a connection as the settings describe; errors say which database and why.
pub fn connect(cfg: &DbConfig) -> Result<Conn> {
    match cfg {
        DbConfig::Mysql(m) => Ok(Conn::Mysql(MysqlConn::connect(m)?)),
        DbConfig::Sqlite(s) => Ok(Conn::Sqlite(SqliteConn::open(s)?)),
    }
}

impl Conn {
    pub fn vendor(&self) -> Vendor {
        match self {
            Conn::Mysql(_) => Vendor::Mysql,
            Conn::Sqlite(_) => Vendor::Sqlite,
        }
    }

    /// The database name used in lock names and messages.
    pub fn database(&self) -> &str {
        match self {
            Conn::Mysql(c) => c.database(),
            Conn::Sqlite(c) => c.database(),
        }
    }

    /// Runs `sql` and calls `visit` for every row, streaming (no result is buffered whole).
    pub fn query_each(
        &mut self,
        context: &str,
        sql: &str,
        params: &[Param],
        visit: &mut dyn FnMut(&dyn RowRef) -> Result<()>,
    ) -> Result<()> {
        match self {
            Conn::Mysql(c) => c.query_each(context, sql, params, visit),
            Conn::Sqlite(c) => c.query_each(context, sql, params, visit),
        }
    }

    /// Executes one statement; returns the affected row count.
    pub fn execute(&mut self, context: &str, sql: &str, params: &[Param]) -> Result<u64> {
        match self {
            Conn::Mysql(c) => c.execute(context, sql, params),
            Conn::Sqlite(c) => c.execute(context, sql, params),
        }
    }

    /// Inserts `rows` into `table` in as few round trips as the server allows.
    pub fn insert_rows(
        &mut self,
        context: &str,
        table: &str,
        columns: &[&str],
        rows: &[Vec<Param>],
    ) -> Result<u64> {
        match self {
            Conn::Mysql(c) => c.insert_rows(context, table, columns, rows),
            Conn::Sqlite(c) => c.insert_rows(context, table, columns, rows),
        }
    }

    /// Updates rows of `table` found by `key`: each row is `[key value, column values…]`.
    ///
    /// MySQL/MariaDB: one `UPDATE … JOIN (SELECT … UNION ALL …)` per few hundred rows, so a
    /// daily run that touches every alert costs a few dozen round trips, not one per alert.
    /// SQLite: one prepared `UPDATE` reused per row (in-process, no round trips to save).
    pub fn update_rows(
        &mut self,
        context: &str,
        table: &str,
        key: &str,
        columns: &[&str],
        rows: &[Vec<Param>],
    ) -> Result<u64> {
        match self {
            Conn::Mysql(c) => c.update_rows(context, table, key, columns, rows),
            Conn::Sqlite(c) => c.update_rows(context, table, key, columns, rows),
        }
    }

    /// Executes `sql_prefix (?, ?, …)` for `ids` in chunks: `UPDATE … WHERE id IN (…)`.
    pub fn execute_for_ids(
        &mut self,
        context: &str,
        sql_prefix: &str,
        leading: &[Param],
        ids: &[i64],
    ) -> Result<u64> {
        let mut total = 0;
        for chunk in ids.chunks(ID_CHUNK) {
            let sql = format!("{sql_prefix} ({})", placeholders(chunk.len()));
            let mut params = leading.to_vec();
            params.extend(chunk.iter().map(|&id| Param::Int(id)));
            total += self.execute(context, &sql, &params)?;
        }
        Ok(total)
    }

    /// Takes the job's lock, waiting at most `wait`, and starts a transaction.
    ///
    /// MySQL/MariaDB: `GET_LOCK('forneria_ops.<job>.<database>')`, then a REPEATABLE READ
    /// transaction whose snapshot starts after the lock, so it sees the previous holder's commit.
    /// SQLite: `BEGIN IMMEDIATE` (the database's write lock) with `wait` as the busy timeout.
    /// A lock not obtained within `wait` is [`Error::Busy`].
    pub fn locked_transaction(&mut self, job: &str, wait: Duration) -> Result<Tx<'_>> {
        let lock = match self {
            Conn::Mysql(c) => Some(c.begin_locked(job, wait)?),
            Conn::Sqlite(c) => {
                c.begin_immediate(job, wait)?;
                None
            }
        };
        Ok(Tx {
            conn: self,
            lock,
            done: false,
        })
    }

    /// A plain transaction (no job lock): consistent reads for read-only work.
    pub fn transaction(&mut self) -> Result<Tx<'_>> {
        match self {
            Conn::Mysql(c) => c.execute("starting a transaction", "START TRANSACTION", &[])?,
            Conn::Sqlite(c) => c.execute("starting a transaction", "BEGIN", &[])?,
        };
        Ok(Tx {
            conn: self,
            lock: None,
            done: false,
        })
    }
}

/// How many ids go into one `IN (…)` list.
const ID_CHUNK: usize = 1000;

/// Runs `read` on another pooled connection, in a read-only consistent snapshot of its own
/// (MySQL/MariaDB): a second reader the server can serve on another core while the run's own
/// connection reads the rest.
pub fn read_in_snapshot<T>(cfg: &DbConfig, read: impl FnOnce(&mut Conn) -> Result<T>) -> Result<T> {
    let mut second = connect(cfg)?;
    second.execute(
        "starting a snapshot",
        "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
        &[],
    )?;
    let out = read(&mut second);
    let _ = second.execute("ending the snapshot", "COMMIT", &[]);
    out
}

/// `` `a`, `b` `` for a column list.
pub fn quoted_columns(columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `?, ?, ?` for `n` parameters.
pub fn placeholders(n: usize) -> String {
    let mut s = String::with_capacity(n * 3);
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        s.push('?');
    }
    s
}

/// A transaction, optionally holding a named job lock. Dropping it without [`Tx::commit`] rolls
/// back and releases the lock, so an error or a panic never leaves half a run behind.
pub struct Tx<'c> {
    conn: &'c mut Conn,
    lock: Option<String>,
    done: bool,
}

impl Tx<'_> {
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        let result = self.conn.execute("committing", "COMMIT", &[]).map(|_| ());
        if result.is_err() {
            let _ = self.conn.execute("rolling back", "ROLLBACK", &[]);
        }
        self.release_lock();
        result
    }

    pub fn rollback(mut self) -> Result<()> {
        self.done = true;
        let result = self
            .conn
            .execute("rolling back", "ROLLBACK", &[])
            .map(|_| ());
        self.release_lock();
        result
    }

    fn release_lock(&mut self) {
        if let (Some(name), Conn::Mysql(c)) = (self.lock.take(), &mut *self.conn) {
            c.release_lock(&name);
        }
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
    }
}

impl std::ops::DerefMut for Tx<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.conn.execute("rolling back", "ROLLBACK", &[]);
            self.release_lock();
        }
    }
}

/// Parses `YYYY-MM-DD` (the date part of a longer value is accepted).
pub(crate) fn parse_date(context: &str, s: &str) -> Result<NaiveDate> {
    let head = s.get(..10).unwrap_or(s);
    NaiveDate::parse_from_str(head, "%Y-%m-%d")
        .map_err(|_| Error::data(context, format!("{s:?} is not a date (YYYY-MM-DD)")))
}

/// Parses `YYYY-MM-DD HH:MM:SS[.ffffff]` (also with a `T`).
pub(crate) fn parse_datetime(context: &str, s: &str) -> Result<NaiveDateTime> {
    let norm = s.replacen('T', " ", 1);
    let trimmed = norm.trim_end_matches('Z');
    NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| {
            NaiveDate::parse_from_str(trimmed, "%Y-%m-%d").map(|d| d.and_time(Default::default()))
        })
        .map_err(|_| Error::data(context, format!("{s:?} is not a date and time")))
}

/// Parses an exact decimal written as text (`"12.500"`, `"-3"`, `"1e2"`).
pub(crate) fn parse_decimal(context: &str, s: &str) -> Result<Decimal> {
    let t = s.trim();
    t.parse::<Decimal>()
        .or_else(|_| Decimal::from_scientific(t))
        .map_err(|_| Error::data(context, format!("{s:?} is not a decimal number")))
}

/// A float from a loosely typed store (SQLite REAL) as the decimal it was meant to be: the
/// shortest text that round-trips, as Django's SQLite backend reads it.
pub(crate) fn decimal_from_f64(context: &str, v: f64) -> Result<Decimal> {
    if !v.is_finite() {
        return Err(Error::data(context, format!("{v} is not a finite number")));
    }
    parse_decimal(context, &format!("{v}"))
}
