//! MySQL/MariaDB over the native protocol (`mysql` crate): no client binary, no password on any
//! command line. Queries without parameters use the text protocol (one round trip, streamed);
//! queries with parameters are prepared and cached on the connection.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use mysql::prelude::Queryable;
use mysql::{OptsBuilder, PoolConstraints, PoolOpts, Value};
use rust_decimal::Decimal;

use super::{decimal_from_f64, parse_date, parse_datetime, parse_decimal, Param, RowRef};
use crate::config::MysqlConfig;
use crate::error::{Error, Result};

/// Placeholders MySQL accepts in one prepared statement.
const MAX_PLACEHOLDERS: usize = 65_535;
/// Rows per multi-row INSERT: big enough to amortise the round trip, small enough to stay far
/// below any `max_allowed_packet` for the narrow rows jobs write.
const ROWS_PER_INSERT: usize = 1000;
/// Rows per `UPDATE … JOIN (SELECT … UNION ALL …)`: the derived table is parsed per statement.
const ROWS_PER_UPDATE: usize = 500;

pub struct MysqlConn {
    conn: mysql::PooledConn,
    database: String,
    target: String,
}

/// Idle connections kept per process and per settings. Views call the engine on page loads; a
/// pooled connection saves the handshake and authentication of a new one. Connections are reset
/// (`COM_RESET_CONNECTION`: session variables, temporary tables and named locks are dropped) when
/// they go back, so no run inherits another's session.
const POOL_MAX: usize = 16;

struct Pools {
    /// Pools are never used across `fork()`: a child would share the parent's sockets.
    pid: u32,
    by_settings: HashMap<String, mysql::Pool>,
}

static POOLS: Mutex<Option<Pools>> = Mutex::new(None);

/// Everything that makes two settings reach the same session, the password as a digest.
fn pool_key(cfg: &MysqlConfig) -> String {
    use sha2::Digest;
    let pw = sha2::Sha256::digest(cfg.password.expose().as_bytes());
    let pw: String = pw.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}|{}|{:?}|{}|{}|{:?}|{:?}|{pw}",
        cfg.host,
        cfg.port,
        cfg.socket,
        cfg.user,
        cfg.database,
        cfg.init_command,
        cfg.connect_timeout
    )
}

fn pool_for(cfg: &MysqlConfig, opts: OptsBuilder) -> Result<mysql::Pool> {
    let key = pool_key(cfg);
    let mut guard = POOLS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let pid = std::process::id();
    if guard.as_ref().is_none_or(|p| p.pid != pid) {
        *guard = Some(Pools {
            pid,
            by_settings: HashMap::new(),
        });
    }
    let pools = &mut guard.as_mut().expect("initialised above").by_settings;
    if let Some(pool) = pools.get(&key) {
        return Ok(pool.clone());
    }
    let constraints = PoolConstraints::new(0, POOL_MAX).expect("0 <= POOL_MAX");
    let opts = opts.pool_opts(PoolOpts::default().with_constraints(constraints));
    let pool = mysql::Pool::new(opts).map_err(|e| Error::Config(e.to_string()))?;
    pools.insert(key, pool.clone());
    Ok(pool)
}

impl MysqlConn {
    pub fn connect(cfg: &MysqlConfig) -> Result<Self> {
        let mut init = vec!["SET NAMES utf8mb4".to_owned()];
        if let Some(cmd) = &cfg.init_command {
            init.push(cmd.clone());
        }
        let mut opts = OptsBuilder::new()
            .user(Some(cfg.user.clone()))
            .pass(Some(cfg.password.expose().to_owned()))
            .db_name(Some(cfg.database.clone()))
            .tcp_connect_timeout(Some(cfg.connect_timeout))
            // Honour a configured TCP host: the crate would otherwise hop to the socket, where
            // other grants apply.
            .prefer_socket(false)
            .stmt_cache_size(64)
            .init(init);
        if let Some(sock) = &cfg.socket {
            opts = opts.socket(Some(sock.display().to_string()));
        } else {
            opts = opts
                .ip_or_hostname(Some(cfg.host.clone()))
                .tcp_port(cfg.port);
        }
        let target = cfg.target();
        let conn = pool_for(cfg, opts)?
            .get_conn()
            .map_err(|e| connect_error(&target, cfg, e))?;
        Ok(MysqlConn {
            conn,
            database: cfg.database.clone(),
            target,
        })
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    pub fn target(&self) -> &str {
        &self.target
    }

    /// The raw connection, for engine modules that need the crate's own API (streaming dumps).
    pub fn raw(&mut self) -> &mut mysql::Conn {
        self.conn.as_mut()
    }

    /// Closes this connection instead of returning it to the pool (after a failure that may have
    /// left it in an unknown state, or when a job holds long-lived session state).
    ///
    /// The pool only forgets a connection whose reset fails when it comes back (taking the
    /// connection out with `PooledConn::unwrap` would leave its slot counted forever, and after
    /// `POOL_MAX` discards every `connect` would wait for good). So the session is ended on the
    /// server first and the dead connection handed back, which the pool then drops and uncounts.
    pub fn discard(mut self) {
        let id = self.conn.as_mut().connection_id();
        let _ = self
            .conn
            .as_mut()
            .query_drop(format!("KILL CONNECTION {id}"));
        drop(self.conn);
    }

    pub fn query_each(
        &mut self,
        context: &str,
        sql: &str,
        params: &[Param],
        visit: &mut dyn FnMut(&dyn RowRef) -> Result<()>,
    ) -> Result<()> {
        let db = self.database.clone();
        let err = |e| query_error(context, &db, e);
        if params.is_empty() {
            let result = self.conn.query_iter(sql).map_err(err)?;
            for row in result {
                visit(&MysqlRow(row.map_err(err)?))?;
            }
        } else {
            let result = self.conn.exec_iter(sql, to_values(params)).map_err(err)?;
            for row in result {
                visit(&MysqlRow(row.map_err(err)?))?;
            }
        }
        Ok(())
    }

    pub fn execute(&mut self, context: &str, sql: &str, params: &[Param]) -> Result<u64> {
        let res = if params.is_empty() {
            self.conn.query_drop(sql)
        } else {
            self.conn.exec_drop(sql, to_values(params))
        };
        res.map_err(|e| query_error(context, &self.database, e))?;
        Ok(self.conn.affected_rows())
    }

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
        let per_stmt = ROWS_PER_INSERT.min(MAX_PLACEHOLDERS / columns.len().max(1));
        let cols = super::quoted_columns(columns);
        let one = format!("({})", super::placeholders(columns.len()));
        let mut total = 0;
        for chunk in rows.chunks(per_stmt) {
            let values = vec![one.as_str(); chunk.len()].join(", ");
            let sql = format!("INSERT INTO `{table}` ({cols}) VALUES {values}");
            let params: Vec<Param> = chunk.iter().flatten().cloned().collect();
            total += self.execute(context, &sql, &params)?;
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
        let width = columns.len() + 1;
        let per_stmt = ROWS_PER_UPDATE.min(MAX_PLACEHOLDERS / width);
        let first = std::iter::once("? AS k".to_owned())
            .chain((0..columns.len()).map(|i| format!("? AS v{i}")))
            .collect::<Vec<_>>()
            .join(", ");
        let other = super::placeholders(width);
        let sets = columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("t.`{c}` = v.v{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut total = 0;
        for chunk in rows.chunks(per_stmt) {
            let mut selects = vec![format!("SELECT {first}")];
            selects.extend((1..chunk.len()).map(|_| format!("SELECT {other}")));
            let sql = format!(
                "UPDATE `{table}` AS t JOIN ({}) AS v ON t.`{key}` = v.k SET {sets}",
                selects.join(" UNION ALL ")
            );
            let params: Vec<Param> = chunk.iter().flatten().cloned().collect();
            total += self.execute(context, &sql, &params)?;
        }
        Ok(total)
    }

    /// `GET_LOCK` + `START TRANSACTION`; returns the lock's name for the release.
    pub fn begin_locked(&mut self, job: &str, wait: Duration) -> Result<String> {
        let name = lock_name(job, &self.database);
        let started = Instant::now();
        let got: Option<Option<i64>> = self
            .conn
            .exec_first("SELECT GET_LOCK(?, ?)", (&name, wait.as_secs_f64()))
            .map_err(|e| query_error("taking the job lock", &self.database, e))?;
        match got.flatten() {
            Some(1) => {}
            _ => {
                return Err(Error::Busy {
                    job: job.to_owned(),
                    database: self.database.clone(),
                    waited_ms: started.elapsed().as_millis() as u64,
                })
            }
        }
        if let Err(e) = self.execute("starting the transaction", "START TRANSACTION", &[]) {
            self.release_lock(&name);
            return Err(e);
        }
        Ok(name)
    }

    /// Best effort: the server also drops the lock when the connection closes.
    pub fn release_lock(&mut self, name: &str) {
        let _ = self
            .conn
            .exec_drop("SELECT RELEASE_LOCK(?)", (name,))
            .map_err(|e| log::warn!("releasing lock {name}: {e}"));
    }
}

/// Lock names are per server, so they carry the database; MySQL caps them at 64 characters.
fn lock_name(job: &str, database: &str) -> String {
    let name = format!("forneria_ops.{job}.{database}");
    if name.len() <= 64 {
        return name;
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(name.as_bytes());
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("forneria_ops.{job}.{hex}")
}

fn to_values(params: &[Param]) -> Vec<Value> {
    params
        .iter()
        .map(|p| match p {
            Param::Null => Value::NULL,
            Param::Int(i) => Value::Int(*i),
            Param::Text(s) => Value::Bytes(s.as_bytes().to_vec()),
            Param::Date(d) => Value::Bytes(d.format("%Y-%m-%d").to_string().into_bytes()),
            Param::DateTime(t) => {
                Value::Bytes(t.format("%Y-%m-%d %H:%M:%S%.f").to_string().into_bytes())
            }
            Param::Decimal(d) => Value::Bytes(d.to_string().into_bytes()),
        })
        .collect()
}

fn connect_error(target: &str, cfg: &MysqlConfig, e: mysql::Error) -> Error {
    match e {
        mysql::Error::MySqlError(me) => match me.code {
            // 1045 wrong password, 1698 unix_socket auth refused, 1044 no rights on the database.
            1045 | 1698 | 1044 => Error::Auth {
                target: target.to_owned(),
                message: me.message,
            },
            1049 => Error::UnknownDatabase {
                database: cfg.database.clone(),
                target: target.to_owned(),
            },
            code => Error::Connect {
                target: target.to_owned(),
                message: me.message,
                code: Some(code),
            },
        },
        other => Error::Connect {
            target: target.to_owned(),
            message: other.to_string(),
            code: None,
        },
    }
}

fn query_error(context: &str, database: &str, e: mysql::Error) -> Error {
    match e {
        mysql::Error::MySqlError(me) => match me.code {
            // 1146 no such table, 1054 unknown column.
            1146 | 1054 => Error::Schema {
                what: if me.code == 1146 {
                    "a table"
                } else {
                    "a column"
                }
                .to_owned(),
                database: database.to_owned(),
                message: format!("{context}: {}", me.message),
            },
            code => Error::Database {
                context: context.to_owned(),
                message: me.message,
                code: Some(code),
                sqlstate: Some(me.state),
            },
        },
        mysql::Error::IoError(io) => Error::Connect {
            target: database.to_owned(),
            message: format!("{context}: connection lost: {io}"),
            code: None,
        },
        mysql::Error::DriverError(de) => Error::Connect {
            target: database.to_owned(),
            message: format!("{context}: {de}"),
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

struct MysqlRow(mysql::Row);

impl MysqlRow {
    fn value(&self, i: usize) -> Result<&Value> {
        self.0
            .as_ref(i)
            .ok_or_else(|| Error::data("reading a row", format!("no column {i}")))
    }

    fn str_at(&self, i: usize) -> Result<Option<&str>> {
        match self.value(i)? {
            Value::NULL => Ok(None),
            Value::Bytes(b) => std::str::from_utf8(b)
                .map(Some)
                .map_err(|_| Error::data("reading a row", format!("column {i} is not UTF-8"))),
            _ => Ok(None),
        }
    }
}

impl RowRef for MysqlRow {
    fn int(&self, i: usize) -> Result<Option<i64>> {
        match self.value(i)? {
            Value::NULL => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            Value::UInt(v) => Ok(Some(*v as i64)),
            Value::Bytes(_) => {
                let s = self.str_at(i)?.unwrap_or_default();
                s.parse()
                    .map(Some)
                    .map_err(|_| Error::data("reading a row", format!("{s:?} is not an integer")))
            }
            other => Err(Error::data(
                "reading a row",
                format!("{other:?} is not an integer"),
            )),
        }
    }

    fn text(&self, i: usize) -> Result<Option<String>> {
        match self.value(i)? {
            Value::NULL => Ok(None),
            Value::Bytes(b) => Ok(Some(String::from_utf8_lossy(b).into_owned())),
            Value::Int(v) => Ok(Some(v.to_string())),
            Value::UInt(v) => Ok(Some(v.to_string())),
            other => Ok(Some(other.as_sql(true).trim_matches('\'').to_owned())),
        }
    }

    fn date(&self, i: usize) -> Result<Option<NaiveDate>> {
        match self.value(i)? {
            Value::NULL => Ok(None),
            Value::Date(y, m, d, ..) => {
                Ok(NaiveDate::from_ymd_opt(*y as i32, *m as u32, *d as u32))
            }
            Value::Bytes(_) => {
                let s = self.str_at(i)?.unwrap_or_default();
                // MySQL's zero date is "no date" to every reader of this schema.
                if s.starts_with("0000-00-00") {
                    return Ok(None);
                }
                parse_date("reading a date", s).map(Some)
            }
            other => Err(Error::data(
                "reading a row",
                format!("{other:?} is not a date"),
            )),
        }
    }

    fn datetime(&self, i: usize) -> Result<Option<NaiveDateTime>> {
        match self.value(i)? {
            Value::NULL => Ok(None),
            Value::Date(y, mo, d, h, mi, s, us) => Ok(NaiveDate::from_ymd_opt(
                *y as i32, *mo as u32, *d as u32,
            )
            .and_then(|date| {
                NaiveTime::from_hms_micro_opt(*h as u32, *mi as u32, *s as u32, *us)
                    .map(|t| date.and_time(t))
            })),
            Value::Bytes(_) => {
                let s = self.str_at(i)?.unwrap_or_default();
                if s.starts_with("0000-00-00") {
                    return Ok(None);
                }
                parse_datetime("reading a date and time", s).map(Some)
            }
            other => Err(Error::data(
                "reading a row",
                format!("{other:?} is not a datetime"),
            )),
        }
    }

    fn decimal(&self, i: usize) -> Result<Option<Decimal>> {
        match self.value(i)? {
            Value::NULL => Ok(None),
            Value::Int(v) => Ok(Some(Decimal::from(*v))),
            Value::UInt(v) => Ok(Some(Decimal::from(*v))),
            Value::Double(v) => decimal_from_f64("reading a number", *v).map(Some),
            Value::Float(v) => decimal_from_f64("reading a number", *v as f64).map(Some),
            Value::Bytes(_) => {
                parse_decimal("reading a number", self.str_at(i)?.unwrap_or_default()).map(Some)
            }
            other => Err(Error::data(
                "reading a row",
                format!("{other:?} is not a number"),
            )),
        }
    }
}
