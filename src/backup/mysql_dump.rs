//! MySQL/MariaDB dump: a consistent snapshot read on several connections, written as one gzip
//! file of SQL.
//!
//! Snapshot: the main connection takes `FLUSH TABLES WITH READ LOCK` with a bounded wait
//! (`lock_wait_timeout`), every reader connection starts `START TRANSACTION WITH CONSISTENT
//! SNAPSHOT` under it, the binlog/GTID position is read, the non-transactional tables
//! (MyISAM, Aria, …) are dumped while the lock is still held, and the lock is released: all
//! readers then see the same point in time without blocking writers. When the lock can't be had
//! in time (or the user lacks RELOAD), one connection with one snapshot reads everything and the
//! non-transactional tables are marked `consistent: false` with a note.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;
use std::time::Instant;

use mysql::consts::ColumnType;
use mysql::prelude::Queryable;
use mysql::Value;

use super::checksum::TableSum;
use super::manifest::{self, Manifest, Snapshot, TableEntry};
use super::{
    check_cancel, iso, new_backup_paths, threads_or_default, utc_now, BackupOptions, BackupResult,
    Kind, Progress,
};
use crate::compress::{
    AtomicFile, AtomicFileOptions, CompressError, CompressOptions, ParallelGzWriter,
};
use crate::config::MysqlConfig;
use crate::db::MysqlConn;
use crate::error::{Error, Result};

/// Target size of one multi-row INSERT (also capped by the server's `max_allowed_packet`).
const STMT_TARGET: usize = 1 << 20;

pub(crate) const DATA_BEGIN: &str = "-- forneria-ops:data-begin";
pub(crate) const DATA_END: &str = "-- forneria-ops:data-end";
pub(crate) const END_MARK: &str = "-- forneria-ops:end";

/// How a column's values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fmt {
    /// Numbers: as the server sends them.
    Raw,
    /// Binary strings, BIT, geometry: hex literal (zero bytes and any byte survive).
    Hex,
    /// Text, dates, JSON: quoted and escaped.
    Str,
}

fn fmt_of(col: &mysql::Column) -> Fmt {
    use ColumnType::*;
    match col.column_type() {
        MYSQL_TYPE_TINY
        | MYSQL_TYPE_SHORT
        | MYSQL_TYPE_LONG
        | MYSQL_TYPE_INT24
        | MYSQL_TYPE_LONGLONG
        | MYSQL_TYPE_FLOAT
        | MYSQL_TYPE_DOUBLE
        | MYSQL_TYPE_DECIMAL
        | MYSQL_TYPE_NEWDECIMAL
        | MYSQL_TYPE_YEAR => Fmt::Raw,
        MYSQL_TYPE_BIT | MYSQL_TYPE_GEOMETRY => Fmt::Hex,
        MYSQL_TYPE_JSON => Fmt::Str,
        MYSQL_TYPE_STRING
        | MYSQL_TYPE_VAR_STRING
        | MYSQL_TYPE_VARCHAR
        | MYSQL_TYPE_BLOB
        | MYSQL_TYPE_TINY_BLOB
        | MYSQL_TYPE_MEDIUM_BLOB
        | MYSQL_TYPE_LONG_BLOB
            if col.character_set() == 63 =>
        {
            Fmt::Hex
        }
        _ => Fmt::Str,
    }
}

/// `` `name` `` with backticks doubled.
pub(crate) fn q(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `'text'` with the escapes the MySQL client and server understand (default SQL mode).
pub(crate) fn sql_str(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len() + 2);
    push_str_literal(&mut out, s.as_bytes());
    String::from_utf8(out).expect("escaping keeps UTF-8")
}

fn push_str_literal(out: &mut Vec<u8>, b: &[u8]) {
    out.push(b'\'');
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        let esc: &[u8] = match c {
            0 => b"\\0",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\\' => b"\\\\",
            b'\'' => b"\\'",
            0x1a => b"\\Z",
            _ => continue,
        };
        out.extend_from_slice(&b[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&b[start..]);
    out.push(b'\'');
}

fn push_hex(out: &mut Vec<u8>, b: &[u8]) {
    const D: &[u8; 16] = b"0123456789ABCDEF";
    if b.is_empty() {
        out.extend_from_slice(b"''");
        return;
    }
    out.extend_from_slice(b"0x");
    for &c in b {
        out.push(D[usize::from(c >> 4)]);
        out.push(D[usize::from(c & 15)]);
    }
}

fn push_value(out: &mut Vec<u8>, fmt: Fmt, v: &Value) {
    match v {
        Value::NULL => out.extend_from_slice(b"NULL"),
        Value::Bytes(b) => match fmt {
            Fmt::Raw => out.extend_from_slice(b),
            Fmt::Hex => push_hex(out, b),
            Fmt::Str => {
                if std::str::from_utf8(b).is_ok() {
                    push_str_literal(out, b)
                } else {
                    // Not UTF-8 (a latin1 column holding odd bytes): the bytes as they are.
                    push_hex(out, b)
                }
            }
        },
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::UInt(i) => out.extend_from_slice(i.to_string().as_bytes()),
        other => out.extend_from_slice(other.as_sql(false).as_bytes()),
    }
}

/// A mysql crate error as an engine error with context.
pub(crate) fn db_err(context: &str, e: mysql::Error) -> Error {
    match e {
        mysql::Error::MySqlError(me) => Error::Database {
            context: context.to_owned(),
            message: me.message,
            code: Some(me.code),
            sqlstate: Some(me.state),
        },
        mysql::Error::IoError(io) => Error::Connect {
            target: "the database server".into(),
            message: format!("{context}: connection lost: {io}"),
            code: None,
        },
        mysql::Error::DriverError(de) => Error::Connect {
            target: "the database server".into(),
            message: format!("{context}: {de}"),
            code: None,
        },
        mysql::Error::CodecError(ce) => Error::Connect {
            target: "the database server".into(),
            message: format!("{context}: connection lost (server stopped or killed?): {ce}"),
            code: None,
        },
        other => Error::Database {
            context: context.to_owned(),
            message: other.to_string(),
            code: None,
            sqlstate: None,
        },
    }
}

/// One base table as the dump sees it.
#[derive(Debug, Clone)]
pub(crate) struct TableInfo {
    pub name: String,
    pub engine: String,
    pub transactional: bool,
    pub data_length: u64,
    /// Columns written as values (generated columns are left out: the server computes them).
    pub columns: Vec<String>,
    /// Primary key columns, in key order (empty: no primary key).
    pub pk: Vec<String>,
    pub create_sql: String,
}

#[derive(Debug, Clone)]
pub(crate) struct ViewInfo {
    pub name: String,
    pub columns: Vec<String>,
    pub create_sql: String,
}

/// The schema of the database, read on the connection that holds the lock or the snapshot.
#[derive(Debug, Default)]
pub(crate) struct Schema {
    pub tables: Vec<TableInfo>,
    pub views: Vec<ViewInfo>,
    /// Statements for the tail of the file (triggers, routines, events), each ending in `;;`.
    pub tail: Vec<String>,
    pub notes: Vec<String>,
}

fn is_transactional(engine: &str) -> bool {
    matches!(
        engine.to_ascii_lowercase().as_str(),
        "innodb" | "xtradb" | "rocksdb" | "tokudb"
    )
}

/// Removes `DEFINER=user@host` so objects restore under the restoring user on any server.
pub(crate) fn strip_definer(sql: &str) -> String {
    let Some(at) = sql.find("DEFINER=") else {
        return sql.to_owned();
    };
    let rest = &sql[at + "DEFINER=".len()..];
    let bytes = rest.as_bytes();
    let mut i = 0;
    // user, '@', host; each part backticked (`` doubled), quoted, or bare.
    for part in 0..2 {
        if i < bytes.len() && (bytes[i] == b'`' || bytes[i] == b'\'') {
            let quote = bytes[i];
            i += 1;
            while i < bytes.len() {
                if bytes[i] == quote {
                    if i + 1 < bytes.len() && bytes[i + 1] == quote {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                i += 1;
            }
        } else {
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'@' {
                i += 1;
            }
        }
        if part == 0 {
            if i < bytes.len() && bytes[i] == b'@' {
                i += 1;
            } else {
                break;
            }
        }
    }
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    format!("{}{}", &sql[..at], &rest[i..])
}

fn text_of(row: &mysql::Row, i: usize) -> Option<String> {
    match row.as_ref(i) {
        Some(Value::Bytes(b)) => Some(String::from_utf8_lossy(b).into_owned()),
        Some(Value::Int(v)) => Some(v.to_string()),
        Some(Value::UInt(v)) => Some(v.to_string()),
        _ => None,
    }
}

fn query_rows(conn: &mut MysqlConn, context: &str, sql: &str) -> Result<Vec<mysql::Row>> {
    conn.raw().query(sql).map_err(|e| db_err(context, e))
}

/// Reads tables, columns, CREATE statements, views, triggers, routines and events.
pub(crate) fn read_schema(conn: &mut MysqlConn, db: &str) -> Result<Schema> {
    let mut schema = Schema::default();
    let lit = sql_str(db);
    let mut columns: HashMap<String, Vec<String>> = HashMap::new();
    for row in query_rows(
        conn,
        "listing columns",
        &format!(
            "SELECT TABLE_NAME, COLUMN_NAME, EXTRA FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = {lit} ORDER BY TABLE_NAME, ORDINAL_POSITION"
        ),
    )? {
        let table = text_of(&row, 0).unwrap_or_default();
        let col = text_of(&row, 1).unwrap_or_default();
        let extra = text_of(&row, 2).unwrap_or_default().to_ascii_uppercase();
        let entry = columns.entry(table).or_default();
        if !extra.contains("GENERATED") {
            entry.push(col);
        } else {
            // Keep generated columns out of the value list, but remember views need all names.
            entry.push(format!("\u{0}{col}"));
        }
    }
    let mut pks: HashMap<String, Vec<String>> = HashMap::new();
    for row in query_rows(
        conn,
        "listing primary keys",
        &format!(
            "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE \
             WHERE TABLE_SCHEMA = {lit} AND CONSTRAINT_NAME = 'PRIMARY' \
             ORDER BY TABLE_NAME, ORDINAL_POSITION"
        ),
    )? {
        pks.entry(text_of(&row, 0).unwrap_or_default())
            .or_default()
            .push(text_of(&row, 1).unwrap_or_default());
    }
    let tables = query_rows(
        conn,
        "listing tables",
        &format!(
            "SELECT TABLE_NAME, TABLE_TYPE, ENGINE, COALESCE(DATA_LENGTH, 0) \
             FROM information_schema.TABLES WHERE TABLE_SCHEMA = {lit} ORDER BY TABLE_NAME"
        ),
    )?;
    for row in tables {
        let name = text_of(&row, 0).unwrap_or_default();
        let ttype = text_of(&row, 1).unwrap_or_default();
        let engine = text_of(&row, 2).unwrap_or_default();
        let data_length: u64 = text_of(&row, 3).and_then(|s| s.parse().ok()).unwrap_or(0);
        let cols = columns.remove(&name).unwrap_or_default();
        if ttype == "VIEW" {
            let r = query_rows(
                conn,
                "reading a view",
                &format!("SHOW CREATE VIEW {}", q(&name)),
            )?;
            let create = r.first().and_then(|r| text_of(r, 1)).unwrap_or_default();
            let create = strip_definer(&create).replacen("CREATE ", "CREATE OR REPLACE ", 1);
            schema.views.push(ViewInfo {
                name,
                columns: cols
                    .into_iter()
                    .map(|c| c.trim_start_matches('\u{0}').to_owned())
                    .collect(),
                create_sql: create,
            });
        } else if ttype == "BASE TABLE" || ttype == "SYSTEM VERSIONED" {
            let r = query_rows(
                conn,
                "reading a table definition",
                &format!("SHOW CREATE TABLE {}", q(&name)),
            )?;
            let create = r.first().and_then(|r| text_of(r, 1)).ok_or_else(|| {
                Error::data(
                    "reading a table definition",
                    format!("no CREATE statement for {name}"),
                )
            })?;
            schema.tables.push(TableInfo {
                transactional: is_transactional(&engine),
                pk: pks.remove(&name).unwrap_or_default(),
                name,
                engine,
                data_length,
                columns: cols
                    .into_iter()
                    .filter(|c| !c.starts_with('\u{0}'))
                    .collect(),
                create_sql: create,
            });
        } else {
            schema.notes.push(format!(
                "{ttype} {name} is not backed up (only tables and views are)"
            ));
        }
    }
    // Triggers.
    for row in query_rows(
        conn,
        "listing triggers",
        &format!(
            "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = {lit} \
             ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER"
        ),
    )? {
        let name = text_of(&row, 0).unwrap_or_default();
        let unreadable = format!("trigger {name}: definition not readable (privileges)");
        push_definition(
            conn,
            &mut schema,
            "reading a trigger",
            "TRIGGER",
            &name,
            2,
            unreadable,
        )?;
    }
    // Routines.
    for row in query_rows(
        conn,
        "listing routines",
        &format!(
            "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES \
             WHERE ROUTINE_SCHEMA = {lit} ORDER BY ROUTINE_TYPE, ROUTINE_NAME"
        ),
    )? {
        let name = text_of(&row, 0).unwrap_or_default();
        let rtype = text_of(&row, 1).unwrap_or_default();
        if rtype != "PROCEDURE" && rtype != "FUNCTION" {
            schema
                .notes
                .push(format!("{rtype} {name} is not backed up"));
            continue;
        }
        let unreadable = format!(
            "{} {name}: definition not readable (privileges); not backed up",
            rtype.to_lowercase()
        );
        push_definition(
            conn,
            &mut schema,
            "reading a routine",
            &rtype,
            &name,
            2,
            unreadable,
        )?;
    }
    // Events (the event scheduler's table may be unreadable for the user: note it, go on).
    match conn.raw().query::<mysql::Row, _>(format!(
        "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = {lit} ORDER BY EVENT_NAME"
    )) {
        Ok(rows) => {
            for row in rows {
                let name = text_of(&row, 0).unwrap_or_default();
                let unreadable = format!("event {name}: definition not readable");
                push_definition(conn, &mut schema, "reading an event", "EVENT", &name, 3, unreadable)?;
            }
        }
        Err(e) => schema.notes.push(format!("events not listed: {e}")),
    }
    Ok(schema)
}

/// Appends `DROP <kind> IF EXISTS` and the object's definition (column `column` of `SHOW CREATE
/// <kind>`, DEFINER removed) to the schema's tail; a definition the user may not read becomes
/// the `unreadable` note instead, never a silent gap.
fn push_definition(
    conn: &mut MysqlConn,
    schema: &mut Schema,
    context: &str,
    kind: &str,
    name: &str,
    column: usize,
    unreadable: String,
) -> Result<()> {
    let rows = query_rows(conn, context, &format!("SHOW CREATE {kind} {}", q(name)))?;
    match rows.first().and_then(|r| text_of(r, column)) {
        Some(sql) => {
            schema
                .tail
                .push(format!("DROP {kind} IF EXISTS {}", q(name)));
            schema.tail.push(strip_definer(&sql));
        }
        None => schema.notes.push(unreadable),
    }
    Ok(())
}

/// Statements every connection of a dump or restore runs first.
pub(crate) const HEADER_SETS: &[&str] = &[
    "SET NAMES utf8mb4",
    "SET TIME_ZONE='+00:00'",
    "SET FOREIGN_KEY_CHECKS=0",
    "SET UNIQUE_CHECKS=0",
    "SET SQL_MODE='NO_AUTO_VALUE_ON_ZERO'",
    "SET SQL_NOTES=0",
];

fn header(db: &str, server_version: &str, kind: Kind) -> String {
    let mut s = format!(
        "-- forneria-ops {} {} dump of {} (server {server_version})\n\
         -- restore: gunzip < FILE | mariadb DATABASE\n",
        crate::VERSION,
        kind.as_str(),
        q(db)
    );
    for set in HEADER_SETS {
        s.push_str(set);
        s.push_str(";\n");
    }
    s.push('\n');
    s
}

/// Schema part: tables (dropped and created) and view placeholders.
fn ddl(schema: &Schema, diff: Option<&DiffPlan>) -> String {
    let mut s = String::new();
    for (i, t) in schema.tables.iter().enumerate() {
        if diff.is_some_and(|d| d.wheres.contains_key(&i)) {
            // Changed rows of a differential go on top of the base's table: keep it.
            let create = t
                .create_sql
                .replacen("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ", 1);
            s.push_str(&format!(
                "-- table {} (changed rows)\n{create};\n\n",
                q(&t.name)
            ));
        } else {
            s.push_str(&format!(
                "-- table {}\nDROP TABLE IF EXISTS {};\n{};\n\n",
                q(&t.name),
                q(&t.name),
                t.create_sql
            ));
        }
    }
    for v in &schema.views {
        // A placeholder with the view's columns, so views over views restore in any order.
        let cols = if v.columns.is_empty() {
            "1 AS `_`".to_owned()
        } else {
            v.columns
                .iter()
                .map(|c| format!("1 AS {}", q(c)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        s.push_str(&format!(
            "-- view {} (placeholder)\nDROP TABLE IF EXISTS {};\nCREATE OR REPLACE VIEW {} AS SELECT {cols};\n\n",
            q(&v.name),
            q(&v.name),
            q(&v.name)
        ));
    }
    s
}

fn tail(schema: &Schema) -> String {
    let mut s = String::new();
    for v in &schema.views {
        s.push_str(&format!("-- view {}\n{};\n", q(&v.name), v.create_sql));
    }
    if !schema.tail.is_empty() {
        s.push_str("DELIMITER ;;\n");
        for stmt in &schema.tail {
            s.push_str(stmt);
            s.push_str(";;\n");
        }
        s.push_str("DELIMITER ;\n");
    }
    s.push_str("SET FOREIGN_KEY_CHECKS=1;\nSET UNIQUE_CHECKS=1;\n");
    s.push_str(END_MARK);
    s.push('\n');
    s
}

/// Reads the rows of `table` (optionally filtered by `where_sql`) on `conn` and calls `emit`
/// with complete multi-row INSERT statements (ending in `;\n`) of at most about `limit` bytes.
/// Returns the table's content checksum.
#[allow(clippy::too_many_arguments)]
pub(crate) fn scan_table(
    conn: &mut MysqlConn,
    table: &TableInfo,
    where_sql: Option<&str>,
    verb: &str,
    limit: usize,
    progress: Option<&Progress>,
    cancel: &AtomicBool,
    emit: &mut dyn FnMut(Vec<u8>) -> Result<()>,
) -> Result<TableSum> {
    let mut sum = TableSum::default();
    if table.columns.is_empty() {
        return Ok(sum);
    }
    let cols = table
        .columns
        .iter()
        .map(|c| q(c))
        .collect::<Vec<_>>()
        .join(",");
    let mut sql = format!("SELECT {cols} FROM {}", q(&table.name));
    if let Some(w) = where_sql {
        sql.push_str(" WHERE ");
        sql.push_str(w);
    }
    let prefix = format!("{verb} INTO {} ({cols}) VALUES ", q(&table.name));
    let context = format!("reading table {}", table.name);
    let fd = std::os::fd::AsRawFd::as_raw_fd(conn.raw());
    let mut result = conn
        .raw()
        .query_iter(&sql)
        .map_err(|e| db_err(&context, e))?;
    let fmts: Vec<Fmt> = result.columns().as_ref().iter().map(fmt_of).collect();
    let mut stmt: Vec<u8> = Vec::with_capacity(limit.min(STMT_TARGET) + 4096);
    let mut tuple: Vec<u8> = Vec::with_capacity(4096);
    let mut rows_in_stmt = 0u64;
    let streamed = (|| -> Result<()> {
        for row in result.by_ref() {
            let row = row.map_err(|e| db_err(&context, e))?;
            tuple.clear();
            tuple.push(b'(');
            for (i, fmt) in fmts.iter().enumerate() {
                if i > 0 {
                    tuple.push(b',');
                }
                push_value(&mut tuple, *fmt, row.as_ref(i).unwrap_or(&Value::NULL));
            }
            tuple.push(b')');
            sum.add_row(&tuple);
            if rows_in_stmt > 0 && stmt.len() + tuple.len() + 3 > limit {
                stmt.extend_from_slice(b";\n");
                if let Some(p) = progress {
                    p.rows.fetch_add(rows_in_stmt, Ordering::Relaxed);
                }
                emit(std::mem::replace(
                    &mut stmt,
                    Vec::with_capacity(limit.min(STMT_TARGET) + 4096),
                ))?;
                check_cancel(cancel, "backup cancelled")?;
                rows_in_stmt = 0;
            }
            if rows_in_stmt == 0 {
                stmt.extend_from_slice(prefix.as_bytes());
            } else {
                stmt.push(b',');
            }
            stmt.extend_from_slice(&tuple);
            rows_in_stmt += 1;
        }
        Ok(())
    })();
    if let Err(e) = streamed {
        // Dropping a half-read result would read (and discard) the rest of the table, which
        // can take minutes after a cancel or a full disk: cut the connection instead. The pool
        // then sees a broken connection and closes it.
        shutdown_socket(fd);
        drop(result);
        return Err(e);
    }
    drop(result);
    if rows_in_stmt > 0 {
        stmt.extend_from_slice(b";\n");
        if let Some(p) = progress {
            p.rows.fetch_add(rows_in_stmt, Ordering::Relaxed);
        }
        emit(stmt)?;
    }
    Ok(sum)
}

/// Shuts down the socket `fd` of a live connection (both directions), so that pending reads
/// fail at once.
fn shutdown_socket(fd: std::os::fd::RawFd) {
    // SAFETY: `fd` belongs to a connection that is alive for the duration of this call; it is
    // only duplicated here, never closed.
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    if let Ok(owned) = borrowed.try_clone_to_owned() {
        // shutdown(2) works on TCP and unix sockets alike; the duplicate is closed on drop.
        let _ = std::net::TcpStream::from(owned).shutdown(std::net::Shutdown::Both);
    }
}

/// Session settings of a dump connection.
pub(crate) fn setup_session(conn: &mut MysqlConn) -> Result<()> {
    for s in [
        "SET SESSION time_zone = '+00:00'",
        "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'",
        "SET SESSION sql_quote_show_create = 1",
        "SET SESSION net_write_timeout = 3600",
        "SET SESSION net_read_timeout = 3600",
        // A table locked by someone else (LOCK TABLES, ALTER) fails the dump after 5 minutes
        // instead of the server's default of a year.
        "SET SESSION lock_wait_timeout = 300",
        "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
    ] {
        conn.execute("configuring a dump connection", s, &[])?;
    }
    Ok(())
}

fn scalar(conn: &mut MysqlConn, context: &str, sql: &str) -> Result<Option<String>> {
    let rows = query_rows(conn, context, sql)?;
    Ok(rows.first().and_then(|r| text_of(r, 0)))
}

fn read_position(conn: &mut MysqlConn, snap: &mut Snapshot) {
    if let Ok(rows) = conn.raw().query::<mysql::Row, _>("SHOW MASTER STATUS") {
        if let Some(r) = rows.first() {
            snap.binlog_file = text_of(r, 0);
            snap.binlog_position = text_of(r, 1).and_then(|s| s.parse().ok());
        }
    }
    let gtid = scalar(conn, "reading the gtid", "SELECT @@GLOBAL.gtid_binlog_pos")
        .or_else(|_| scalar(conn, "reading the gtid", "SELECT @@GLOBAL.gtid_executed"));
    snap.gtid = gtid.ok().flatten().filter(|g| !g.is_empty());
}

/// Per-table sums, consistency flags, and whole-table row counts of a differential's tables.
type Produced = (HashMap<usize, TableSum>, Vec<bool>, HashMap<usize, u64>);

/// One unit of reading work.
#[derive(Debug, Clone)]
struct Unit {
    table: usize,
    where_sql: Option<String>,
    /// `INSERT`, or `REPLACE` for the changed rows of a differential.
    verb: &'static str,
    /// The unit that completes its table in the progress count.
    last_chunk: bool,
}

/// Splits an InnoDB table with a single integer primary key into ranges of `chunk_keys` key
/// values, so that all reader connections (which share one snapshot) can read it at once. The
/// key bounds decide, not `information_schema` sizes, which lag behind after bulk loads.
fn chunk_units(
    conn: &mut MysqlConn,
    t: &TableInfo,
    unit: Unit,
    threads: usize,
    chunk_keys: u64,
) -> Result<Vec<Unit>> {
    if threads < 2 || t.pk.len() != 1 || chunk_keys == 0 {
        return Ok(vec![unit]);
    }
    let pk = q(&t.pk[0]);
    let rows = query_rows(
        conn,
        "reading key bounds",
        &format!("SELECT MIN({pk}), MAX({pk}) FROM {}", q(&t.name)),
    )?;
    let bound = |i| {
        rows.first()
            .and_then(|r| text_of(r, i))
            .and_then(|s| s.parse::<i64>().ok())
    };
    let (Some(lo), Some(hi)) = (bound(0), bound(1)) else {
        return Ok(vec![unit]);
    };
    let span = hi as i128 - lo as i128 + 1;
    let step = chunk_keys as i128;
    if span < 2 * step {
        return Ok(vec![unit]);
    }
    let mut out = Vec::new();
    let mut start = lo as i128;
    while start <= hi as i128 {
        let end = start + step;
        let mut cond = Vec::new();
        if start > lo as i128 {
            cond.push(format!("{pk} >= {start}"));
        }
        if end <= hi as i128 {
            cond.push(format!("{pk} < {end}"));
        }
        if let Some(w) = &unit.where_sql {
            cond.push(w.clone());
        }
        out.push(Unit {
            table: unit.table,
            where_sql: if cond.is_empty() {
                None
            } else {
                Some(cond.join(" AND "))
            },
            verb: unit.verb,
            last_chunk: false,
        });
        start = end;
    }
    if let Some(last) = out.last_mut() {
        last.last_chunk = true;
    }
    Ok(out)
}

/// The writer thread: SQL chunks in, gzip out, through an [`AtomicFile`].
fn writer_thread(
    rx: Receiver<Vec<u8>>,
    out: AtomicFile,
    copts: CompressOptions<'_>,
    path: &Path,
    progress: &Progress,
) -> Result<(AtomicFile, crate::compress::GzSummary)> {
    let mut gz = ParallelGzWriter::with_options(out, &copts).map_err(|e| {
        Error::Compress(CompressError::from_io("starting compression for", path, e))
    })?;
    for chunk in rx {
        gz.write_all(&chunk)
            .map_err(|e| Error::Compress(CompressError::from_io("writing", path, e)))?;
        progress.bytes_raw.store(gz.raw_bytes(), Ordering::Relaxed);
        progress
            .bytes_written
            .store(gz.compressed_bytes(), Ordering::Relaxed);
    }
    let (out, summary) = gz
        .finish()
        .map_err(|e| Error::Compress(CompressError::from_io("writing", path, e)))?;
    progress
        .bytes_written
        .store(summary.compressed_bytes, Ordering::Relaxed);
    Ok((out, summary))
}

fn send(tx: &SyncSender<Vec<u8>>, chunk: Vec<u8>) -> Result<()> {
    tx.send(chunk)
        .map_err(|_| Error::Cancelled("the writer stopped".into()))
}

/// Runs `units` on the reader connections in parallel; returns per-table sums.
fn run_units(
    conns: &mut [MysqlConn],
    schema: &Schema,
    units: Vec<Unit>,
    limit: usize,
    tx: &SyncSender<Vec<u8>>,
    progress: &Progress,
    cancel: &AtomicBool,
) -> Result<HashMap<usize, TableSum>> {
    let queue = Mutex::new(VecDeque::from(units));
    let sums: Mutex<HashMap<usize, TableSum>> = Mutex::new(HashMap::new());
    let failed = AtomicBool::new(false);
    let results: Vec<Result<()>> = std::thread::scope(|s| {
        let handles: Vec<_> = conns
            .iter_mut()
            .map(|conn| {
                let queue = &queue;
                let sums = &sums;
                let failed = &failed;
                let tx = tx.clone();
                s.spawn(move || -> Result<()> {
                    loop {
                        if failed.load(Ordering::Relaxed) {
                            return Ok(());
                        }
                        let Some(unit) =
                            queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front()
                        else {
                            return Ok(());
                        };
                        let table = &schema.tables[unit.table];
                        let r = scan_table(
                            conn,
                            table,
                            unit.where_sql.as_deref(),
                            unit.verb,
                            limit,
                            Some(progress),
                            cancel,
                            &mut |chunk| send(&tx, chunk),
                        );
                        match r {
                            Ok(sum) => {
                                sums.lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .entry(unit.table)
                                    .or_default()
                                    .merge(&sum);
                                if unit.last_chunk {
                                    progress.tables_done.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            Err(e) => {
                                failed.store(true, Ordering::Relaxed);
                                return Err(e);
                            }
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    // A "writer stopped" error hides the writer's real error: report another one first.
    let mut first: Option<Error> = None;
    for r in results {
        if let Err(e) = r {
            let replace = match &first {
                None => true,
                Some(Error::Cancelled(m)) => m == "the writer stopped",
                _ => false,
            };
            if replace {
                first = Some(e);
            }
        }
    }
    match first {
        Some(e) => Err(e),
        None => Ok(sums.into_inner().unwrap_or_else(|p| p.into_inner())),
    }
}

/// Connects a dump connection; the first one's errors (auth, unknown database) are the user's.
fn connect(cfg: &MysqlConfig) -> Result<MysqlConn> {
    let mut c = MysqlConn::connect(cfg)?;
    if let Err(e) = setup_session(&mut c) {
        drop(c);
        return Err(e);
    }
    Ok(c)
}

/// Gives connections back to the pool, which resets them (`COM_RESET_CONNECTION`: session
/// variables, locks and transactions are dropped). Not `MysqlConn::discard`: in mysql 28,
/// `PooledConn::unwrap` never frees the pool slot, so 16 discards would block the pool.
fn discard_all(conns: Vec<MysqlConn>) {
    for c in conns {
        drop(c);
    }
}

/// The WHERE clause and audit maxima of a differential for one table.
struct DiffPlan {
    /// table index → WHERE on audit columns (absent: whole table).
    wheres: HashMap<usize, String>,
    base_name: String,
    base_sha256: String,
}

fn plan_diff(schema: &Schema, opts: &BackupOptions) -> Result<DiffPlan> {
    let base = opts.base.as_ref().ok_or_else(|| {
        Error::Config(
            "a differential backup needs base= (the base full backup's file or manifest)".into(),
        )
    })?;
    let (bm, bpath) = manifest::read(base)?;
    if bm.kind != "full" {
        return Err(Error::Config(format!(
            "{}: the base of a differential must be a full backup, this one is {:?}",
            bpath.display(),
            bm.kind
        )));
    }
    if bm.engine != "mysql" {
        return Err(Error::Config(
            "the base backup is not a MySQL/MariaDB backup".into(),
        ));
    }
    let mut wheres = HashMap::new();
    for (i, t) in schema.tables.iter().enumerate() {
        let audit: Vec<&String> = opts
            .audit_columns
            .iter()
            .filter(|a| t.columns.iter().any(|c| c.eq_ignore_ascii_case(a)))
            .collect();
        if audit.is_empty() {
            continue;
        }
        // Whole table when: new since the base, empty in the base (rows without audit values
        // would be missed), or no primary key (deleted rows could not be told apart).
        let Some(bt) = bm.table(&t.name) else {
            continue;
        };
        if bt.rows == 0 || t.pk.is_empty() {
            continue;
        }
        let conds: Vec<String> = audit
            .iter()
            .map(|a| match bt.audit_max.get(a.as_str()) {
                Some(v) => format!("{} >= {}", q(a), sql_str(v)),
                // No value in the base: any value now is new.
                None => format!("{} IS NOT NULL", q(a)),
            })
            .collect();
        wheres.insert(i, format!("({})", conds.join(" OR ")));
    }
    Ok(DiffPlan {
        wheres,
        base_name: bm.file.clone(),
        base_sha256: bm.sha256.clone(),
    })
}

/// Reads the largest value of each audit column of each table, inside the snapshot.
fn audit_maxima(
    conn: &mut MysqlConn,
    schema: &Schema,
    audit_columns: &[String],
) -> Result<HashMap<usize, BTreeMap<String, String>>> {
    let mut out = HashMap::new();
    for (i, t) in schema.tables.iter().enumerate() {
        let audit: Vec<&String> = audit_columns
            .iter()
            .filter(|a| t.columns.iter().any(|c| c.eq_ignore_ascii_case(a)))
            .collect();
        if audit.is_empty() {
            continue;
        }
        let sel = audit
            .iter()
            .map(|a| format!("MAX({})", q(a)))
            .collect::<Vec<_>>()
            .join(",");
        let rows = query_rows(
            conn,
            "reading audit columns",
            &format!("SELECT {sel} FROM {}", q(&t.name)),
        )?;
        let mut m = BTreeMap::new();
        if let Some(r) = rows.first() {
            for (j, a) in audit.iter().enumerate() {
                if let Some(v) = text_of(r, j) {
                    m.insert((*a).clone(), v);
                }
            }
        }
        out.insert(i, m);
    }
    Ok(out)
}

/// SQL that makes the restored table hold only the rows whose keys are in the differential:
/// a key table filled with the primary keys at dump time, then `DELETE … LEFT JOIN`.
fn key_delete_sql(
    conn: &mut MysqlConn,
    t: &TableInfo,
    limit: usize,
    cancel: &AtomicBool,
    tx: &SyncSender<Vec<u8>>,
) -> Result<bool> {
    let pk = t.pk.clone();
    if pk.is_empty() {
        return Ok(false);
    }
    // One name for every table (they are done one after the other), short enough for any
    // table name.
    let kq = q("__forneria_keys");
    let kt = TableInfo {
        columns: pk.clone(),
        create_sql: String::new(),
        ..t.clone()
    };
    let mut head = format!(
        "DROP TABLE IF EXISTS {kq};\nCREATE TABLE {kq} ENGINE=InnoDB AS SELECT {} FROM {} WHERE 1=0;\n",
        pk.iter().map(|c| q(c)).collect::<Vec<_>>().join(","),
        q(&t.name)
    );
    head.push_str(&format!(
        "ALTER TABLE {kq} ADD PRIMARY KEY ({});\n",
        pk.iter().map(|c| q(c)).collect::<Vec<_>>().join(",")
    ));
    send(tx, head.into_bytes())?;
    let target_prefix = format!("INSERT INTO {} (", q(&t.name));
    let key_prefix = format!("INSERT INTO {kq} (");
    scan_table(
        conn,
        &kt,
        None,
        "INSERT",
        limit,
        None,
        cancel,
        &mut |chunk| {
            // Same statements, aimed at the key table. Key lines are kept out of the data section
            // so they run in order on one connection.
            let s = String::from_utf8(chunk).expect("dump statements are UTF-8");
            let s = s.replacen(&target_prefix, &key_prefix, 1);
            send(tx, s.into_bytes())
        },
    )?;
    let on = pk
        .iter()
        .map(|c| format!("t.{} = k.{}", q(c), q(c)))
        .collect::<Vec<_>>()
        .join(" AND ");
    let first = q(&pk[0]);
    send(
        tx,
        format!(
            "DELETE t FROM {} AS t LEFT JOIN {kq} AS k ON {on} WHERE k.{first} IS NULL;\nDROP TABLE {kq};\n",
            q(&t.name)
        )
        .into_bytes(),
    )?;
    Ok(true)
}

/// Makes a full or differential backup of a MySQL/MariaDB database into `dir`.
pub fn backup(
    cfg: &MysqlConfig,
    dir: &Path,
    opts: &BackupOptions,
    progress: &Progress,
    cancel: &AtomicBool,
) -> Result<BackupResult> {
    let started_at = utc_now();
    let t0 = Instant::now();
    let db = cfg.database.clone();
    let threads = threads_or_default(opts.threads)?;
    let name = opts.name.clone().unwrap_or_else(|| {
        format!(
            "{db}_{}_{}",
            opts.kind.as_str(),
            started_at.format("%Y%m%dT%H%M%SZ")
        )
    });
    let (file_name, path, mpath) = new_backup_paths(dir, &name, "sql.gz")?;
    if opts.kind == Kind::Diff && opts.base.is_none() {
        return Err(Error::Config(
            "a differential backup needs base= (the base full backup's file or manifest)".into(),
        ));
    }
    progress.set_phase("connecting");
    let mut main = connect(cfg)?;
    let result = backup_with(
        cfg, &mut main, dir, opts, &name, &file_name, &path, &mpath, threads, started_at, t0,
        progress, cancel,
    );
    // The main connection may hold the global lock or session state: never give it back.
    drop(main);
    result
}

#[allow(clippy::too_many_arguments)]
fn backup_with(
    cfg: &MysqlConfig,
    main: &mut MysqlConn,
    dir: &Path,
    opts: &BackupOptions,
    _name: &str,
    file_name: &str,
    path: &Path,
    mpath: &Path,
    threads: usize,
    started_at: chrono::DateTime<chrono::Utc>,
    t0: Instant,
    progress: &Progress,
    cancel: &AtomicBool,
) -> Result<BackupResult> {
    let _ = dir;
    let db = cfg.database.clone();
    let server_version =
        scalar(main, "reading the server version", "SELECT VERSION()")?.unwrap_or_default();
    let max_packet: usize = scalar(
        main,
        "reading max_allowed_packet",
        "SELECT @@max_allowed_packet",
    )?
    .and_then(|s| s.parse().ok())
    .unwrap_or(4 << 20);
    let limit = STMT_TARGET.min(max_packet.saturating_sub(64 << 10).max(16 << 10));
    let mut notes: Vec<String> = Vec::new();
    let mut snap = Snapshot::default();

    // Reader connections, opened before the lock so the lock is held as briefly as possible.
    let mut readers: Vec<MysqlConn> = Vec::new();
    for _ in 0..threads {
        match connect(cfg) {
            Ok(c) => readers.push(c),
            Err(e) => {
                discard_all(readers);
                return Err(e);
            }
        }
    }
    check_cancel(cancel, "backup cancelled")?;

    progress.set_phase("locking");
    let wait = opts.lock_wait_seconds.ceil().max(1.0) as u64;
    let locked = main
        .execute(
            "setting lock_wait_timeout",
            &format!("SET SESSION lock_wait_timeout = {wait}"),
            &[],
        )
        .and_then(|_| {
            main.execute(
                "taking the global read lock",
                "FLUSH TABLES WITH READ LOCK",
                &[],
            )
        });
    let mut locked_ok = true;
    if let Err(e) = &locked {
        locked_ok = false;
        notes.push(format!(
            "global read lock not obtained ({e}); single connection, one snapshot; \
             non-transactional tables are not snapshot-consistent"
        ));
        // One reader suffices: the others could not share its snapshot.
        let keep = readers.remove(0);
        discard_all(std::mem::take(&mut readers));
        readers.push(keep);
    }
    let snap_result = (|| -> Result<()> {
        for r in readers.iter_mut() {
            r.execute(
                "starting the snapshot",
                "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
                &[],
            )?;
        }
        Ok(())
    })();
    if let Err(e) = snap_result {
        let _ = main.execute("releasing the global read lock", "UNLOCK TABLES", &[]);
        discard_all(readers);
        return Err(e);
    }
    snap.method = if locked_ok {
        "ftwrl_parallel"
    } else {
        "single_connection"
    }
    .into();
    read_position(main, &mut snap);

    let body = (|| -> Result<BackupResult> {
        progress.set_phase("reading schema");
        let schema = read_schema(&mut readers[0], &db)?;
        notes.extend(schema.notes.iter().cloned());
        let audit = audit_maxima(&mut readers[0], &schema, &opts.audit_columns)?;
        let diff = if opts.kind == Kind::Diff {
            Some(plan_diff(&schema, opts)?)
        } else {
            None
        };
        progress
            .tables_total
            .store(schema.tables.len() as u64, Ordering::Relaxed);

        let out = AtomicFile::create(path, &AtomicFileOptions::default())?;
        let copts = CompressOptions {
            level: opts.level,
            threads: Some(threads),
            cancel: Some(cancel),
            ..CompressOptions::default()
        };
        let (tx, rx) = sync_channel::<Vec<u8>>(2 * threads + 2);
        std::thread::scope(|s| -> Result<BackupResult> {
            let writer = s.spawn(|| writer_thread(rx, out, copts, path, progress));
            let produced = (|| -> Result<Produced> {
                let tx = tx; // dropped at the end of this closure: the writer then finishes
                send(&tx, header(&db, &server_version, opts.kind).into_bytes())?;
                send(&tx, ddl(&schema, diff.as_ref()).into_bytes())?;
                let mut order: Vec<usize> = (0..schema.tables.len()).collect();
                order.sort_by_key(|&i| std::cmp::Reverse(schema.tables[i].data_length));
                let mut consistent = vec![true; schema.tables.len()];
                let mut key_tables = Vec::new();
                // Differential: deletions first, in order, outside the data section.
                if let Some(d) = &diff {
                    for (i, t) in schema.tables.iter().enumerate() {
                        if d.wheres.contains_key(&i)
                            && key_delete_sql(&mut readers[0], t, limit, cancel, &tx)?
                        {
                            key_tables.push(i);
                        }
                    }
                }
                send(&tx, format!("{DATA_BEGIN}\n").into_bytes())?;
                let unit = |i: usize| {
                    let where_sql = diff.as_ref().and_then(|d| d.wheres.get(&i).cloned());
                    Unit {
                        table: i,
                        verb: if where_sql.is_some() {
                            "REPLACE"
                        } else {
                            "INSERT"
                        },
                        where_sql,
                        last_chunk: true,
                    }
                };
                let (nontx, tx_tables): (Vec<usize>, Vec<usize>) = order
                    .iter()
                    .partition(|&&i| !schema.tables[i].transactional);
                let mut sums = HashMap::new();
                let mut full_rows: HashMap<usize, u64> = HashMap::new();
                progress.set_phase("dumping");
                if locked_ok {
                    // Non-transactional tables while every writer is held off.
                    sums.extend(run_units(
                        &mut readers,
                        &schema,
                        nontx.iter().map(|&i| unit(i)).collect(),
                        limit,
                        &tx,
                        progress,
                        cancel,
                    )?);
                    main.execute("releasing the global read lock", "UNLOCK TABLES", &[])?;
                } else {
                    for &i in &nontx {
                        consistent[i] = false;
                        notes.push(format!(
                            "table {} ({}) is not transactional and was read without the global lock: \
                             it may not match the other tables' point in time",
                            schema.tables[i].name, schema.tables[i].engine
                        ));
                    }
                    sums.extend(run_units(
                        &mut readers,
                        &schema,
                        nontx.iter().map(|&i| unit(i)).collect(),
                        limit,
                        &tx,
                        progress,
                        cancel,
                    )?);
                }
                let mut tx_units = Vec::new();
                for &i in &tx_tables {
                    let u = unit(i);
                    tx_units.extend(chunk_units(
                        &mut readers[0],
                        &schema.tables[i],
                        u,
                        threads,
                        opts.chunk_keys,
                    )?);
                }
                sums.extend(run_units(
                    &mut readers,
                    &schema,
                    tx_units,
                    limit,
                    &tx,
                    progress,
                    cancel,
                )?);
                send(&tx, format!("{DATA_END}\n").into_bytes())?;
                // The checksum of a differential's changed-rows table is that of the whole
                // table in the snapshot (what a restored base + differential must hold); the
                // rows written are counted apart.
                if let Some(d) = &diff {
                    for &i in d.wheres.keys() {
                        let written = sums.get(&i).map(|s: &TableSum| s.rows).unwrap_or(0);
                        let full = scan_table(
                            &mut readers[0],
                            &schema.tables[i],
                            None,
                            "INSERT",
                            limit,
                            None,
                            cancel,
                            &mut |_| Ok(()),
                        )?;
                        sums.insert(
                            i,
                            TableSum {
                                rows: written,
                                sum: full.sum,
                            },
                        );
                        full_rows.insert(i, full.rows);
                    }
                }
                send(&tx, tail(&schema).into_bytes())?;
                check_cancel(cancel, "backup cancelled")?;
                let _ = key_tables;
                Ok((sums, consistent, full_rows))
            })();
            let written = writer
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            match (produced, written) {
                (Err(e), Err(w)) => Err(match e {
                    Error::Cancelled(ref m) if m == "the writer stopped" => w,
                    e => e,
                }),
                (Err(e), Ok(_)) => Err(e),
                (Ok(_), Err(w)) => Err(w),
                (Ok(p), Ok((out, summary))) => {
                    check_cancel(cancel, "backup cancelled")?;
                    progress.set_phase("syncing");
                    out.commit()?;
                    finish(
                        cfg,
                        &schema,
                        p,
                        summary,
                        file_name,
                        path,
                        mpath,
                        &server_version,
                        snap.clone(),
                        notes.clone(),
                        &audit,
                        diff.as_ref(),
                        opts,
                        threads,
                        started_at,
                        t0,
                        progress,
                    )
                    .inspect_err(|_| {
                        let _ = std::fs::remove_file(path);
                    })
                }
            }
        })
    })();
    let _ = main.execute("releasing the global read lock", "UNLOCK TABLES", &[]);
    discard_all(readers);
    body
}

#[allow(clippy::too_many_arguments)]
fn finish(
    _cfg: &MysqlConfig,
    schema: &Schema,
    produced: Produced,
    summary: crate::compress::GzSummary,
    file_name: &str,
    path: &Path,
    mpath: &Path,
    server_version: &str,
    snap: Snapshot,
    notes: Vec<String>,
    audit: &HashMap<usize, BTreeMap<String, String>>,
    diff: Option<&DiffPlan>,
    opts: &BackupOptions,
    threads: usize,
    started_at: chrono::DateTime<chrono::Utc>,
    t0: Instant,
    progress: &Progress,
) -> Result<BackupResult> {
    let (sums, consistent, full_rows) = produced;
    let mut tables = Vec::new();
    let mut rows_total = 0;
    for (i, t) in schema.tables.iter().enumerate() {
        let sum = sums.get(&i).copied().unwrap_or_default();
        rows_total += sum.rows;
        let mode = match diff {
            None => "full",
            Some(d) if d.wheres.contains_key(&i) => "changed_rows",
            Some(_) => "whole_table",
        };
        tables.push(TableEntry {
            name: t.name.clone(),
            rows: sum.rows,
            engine: t.engine.clone(),
            checksum: match full_rows.get(&i) {
                Some(&n) => TableSum {
                    rows: n,
                    sum: sum.sum,
                }
                .render(),
                None => sum.render(),
            },
            consistent: consistent[i],
            mode: mode.into(),
            audit_max: audit.get(&i).cloned().unwrap_or_default(),
        });
    }
    let finished_at = utc_now();
    let m = Manifest {
        format_version: manifest::FORMAT_VERSION,
        tool: "forneria-ops".into(),
        tool_version: crate::VERSION.into(),
        kind: opts.kind.as_str().into(),
        base: diff.map(|d| d.base_name.clone()),
        base_sha256: diff.map(|d| d.base_sha256.clone()),
        engine: "mysql".into(),
        database: _cfg.database.clone(),
        server_version: server_version.into(),
        started_at: iso(started_at),
        finished_at: iso(finished_at),
        duration_s: t0.elapsed().as_secs_f64(),
        file: file_name.into(),
        sha256: summary.sha256_hex,
        bytes_raw: summary.raw_bytes,
        bytes_compressed: summary.compressed_bytes,
        tables,
        rows_total,
        snapshot: snap,
        consistency_notes: notes,
        threads,
        compress_level: opts.level,
    };
    progress.set_phase("writing manifest");
    manifest::write(mpath, &m)?;
    progress.set_phase("done");
    Ok(BackupResult {
        manifest: m,
        file_path: path.to_path_buf(),
        manifest_path: mpath.to_path_buf(),
    })
}
