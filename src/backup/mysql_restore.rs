//! Restoring our MySQL/MariaDB dumps, faster than `gunzip | mariadb`: statements outside the
//! data section run in order on one connection; the data lines (one multi-row INSERT each) run
//! on `threads` connections at once, with the file's header (checks off, time zone, SQL mode)
//! applied to every connection. Also [`verify`]: restore into a scratch schema and compare the
//! tables' content checksums with the manifest.

use std::collections::hash_map::RandomState;
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use flate2::read::MultiGzDecoder;
use mysql::prelude::Queryable;

use super::checksum::TableSum;
use super::mysql_dump::{self, db_err, q, DATA_BEGIN, DATA_END, END_MARK, HEADER_SETS};
use super::{
    check_cancel, threads_or_default, Manifest, Progress, RestoreOptions, RestoreReport,
    TableCheck, VerifyReport,
};
use crate::compress::CompressError;
use crate::config::MysqlConfig;
use crate::db::MysqlConn;
use crate::error::{Error, Result};

fn with_database(cfg: &MysqlConfig, db: &str) -> MysqlConfig {
    let mut c = cfg.clone();
    c.database = db.to_owned();
    c
}

/// Creates `db` if missing, connecting through `information_schema` (always there).
fn create_database(cfg: &MysqlConfig, db: &str) -> Result<()> {
    let mut admin = MysqlConn::connect(&with_database(cfg, "information_schema"))?;
    let r = admin.execute(
        "creating the target database",
        &format!(
            "CREATE DATABASE IF NOT EXISTS {} CHARACTER SET utf8mb4",
            q(db)
        ),
        &[],
    );
    drop(admin);
    r.map(|_| ())
}

fn drop_database(cfg: &MysqlConfig, db: &str) -> Result<()> {
    let mut admin = MysqlConn::connect(&with_database(cfg, "information_schema"))?;
    let r = admin.execute(
        "dropping the scratch database",
        &format!("DROP DATABASE IF EXISTS {}", q(db)),
        &[],
    );
    drop(admin);
    r.map(|_| ())
}

fn restore_conn(cfg: &MysqlConfig) -> Result<MysqlConn> {
    let mut c = MysqlConn::connect(cfg)?;
    for s in HEADER_SETS {
        if let Err(e) = c.execute("configuring a restore connection", s, &[]) {
            drop(c);
            return Err(e);
        }
    }
    Ok(c)
}

/// Restores the checked chain (base first) into `cfg`'s database or the target.
pub fn restore(
    cfg: &MysqlConfig,
    chain: &[(Manifest, PathBuf)],
    opts: &RestoreOptions,
    progress: &Progress,
    cancel: &AtomicBool,
) -> Result<RestoreReport> {
    let t0 = Instant::now();
    for (m, _) in chain {
        if m.engine != "mysql" {
            return Err(Error::Config(format!(
                "{} is a {} backup; it cannot be restored into a MySQL/MariaDB database",
                m.file, m.engine
            )));
        }
    }
    let target = opts
        .target_database
        .clone()
        .unwrap_or_else(|| cfg.database.clone());
    if target.is_empty() {
        return Err(Error::Config("target database name is empty".into()));
    }
    if opts.target_database.is_some() {
        create_database(cfg, &target)?;
    }
    let tcfg = with_database(cfg, &target);
    let threads = threads_or_default(opts.threads)?;
    let statements = apply_chain(&tcfg, chain, threads, progress, cancel)?;
    let last = &chain[chain.len() - 1].0;
    progress.set_phase("done");
    Ok(RestoreReport {
        database: target,
        tables: last.tables.len(),
        rows: chain.iter().map(|(m, _)| m.rows_total).sum(),
        statements,
        duration_s: t0.elapsed().as_secs_f64(),
        applied: chain.iter().map(|(_, p)| p.display().to_string()).collect(),
    })
}

fn apply_chain(
    tcfg: &MysqlConfig,
    chain: &[(Manifest, PathBuf)],
    threads: usize,
    progress: &Progress,
    cancel: &AtomicBool,
) -> Result<u64> {
    progress.set_phase("connecting");
    let mut main = restore_conn(tcfg)?;
    let mut workers = Vec::new();
    for _ in 0..threads {
        match restore_conn(tcfg) {
            Ok(c) => workers.push(c),
            Err(e) => {
                drop(main);
                for w in workers {
                    drop(w);
                }
                return Err(e);
            }
        }
    }
    let total_tables: usize = chain.iter().map(|(m, _)| m.tables.len()).sum();
    progress
        .tables_total
        .store(total_tables as u64, Ordering::Relaxed);
    let mut statements = 0;
    let mut result = Ok(());
    for (m, path) in chain {
        progress.set_phase("restoring");
        match apply_file(&mut main, &mut workers, path, progress, cancel) {
            Ok(n) => {
                statements += n;
                progress
                    .tables_done
                    .fetch_add(m.tables.len() as u64, Ordering::Relaxed);
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    drop(main);
    for w in workers {
        drop(w);
    }
    result.map(|_| statements)
}

/// Shared state of the data-section workers.
struct Pool {
    pending: AtomicU64,
    failed: AtomicBool,
    error: Mutex<Option<Error>>,
}

impl Pool {
    fn fail(&self, e: Error) {
        let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(e);
        }
        self.failed.store(true, Ordering::SeqCst);
    }

    /// Waits until every dispatched statement has run (or something failed).
    fn drain(&self, cancel: &AtomicBool) {
        while self.pending.load(Ordering::SeqCst) > 0 && !self.failed.load(Ordering::SeqCst) {
            if cancel.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Row statements a worker groups into one transaction (one commit, one log flush per group
/// instead of per statement).
const TX_STATEMENTS: u64 = 8;

/// How often a group that InnoDB chose as a deadlock victim is replayed before the restore
/// gives up.
const MAX_REPLAYS: u64 = 8;

/// Deadlock (1213) or lock wait timeout (1205): the server rolled back (or will let us roll
/// back) the whole transaction, and running it again is the documented remedy.
fn is_retryable(e: &mysql::Error) -> bool {
    matches!(e, mysql::Error::MySqlError(m) if m.code == 1213 || m.code == 1205)
}

/// Runs `sql` in the worker's open group (starting one when `group` is empty).
///
/// Two workers loading rows into the same table hold their groups' locks until commit; the
/// unique-key checks of their inserts can wait on each other, and InnoDB then rolls one group
/// back ("Deadlock found when trying to get lock"). The victim's statements are kept, so the
/// group is replayed whole in a new transaction, after a short growing pause.
fn run_in_group(
    conn: &mut MysqlConn,
    group: &mut Vec<String>,
    sql: String,
) -> std::result::Result<(), mysql::Error> {
    if group.is_empty() {
        conn.raw().query_drop("START TRANSACTION")?;
    }
    let first = conn.raw().query_drop(&sql);
    group.push(sql);
    let mut err = match first {
        Err(e) if is_retryable(&e) => e,
        other => return other,
    };
    for attempt in 1..=MAX_REPLAYS {
        let _ = conn.raw().query_drop("ROLLBACK");
        std::thread::sleep(Duration::from_millis(20 * attempt));
        let mut replay = || -> std::result::Result<(), mysql::Error> {
            conn.raw().query_drop("START TRANSACTION")?;
            for statement in group.iter() {
                conn.raw().query_drop(statement)?;
            }
            Ok(())
        };
        match replay() {
            Ok(()) => {
                log::debug!(
                    "restore: replayed a group of {} statements after: {err}",
                    group.len()
                );
                return Ok(());
            }
            Err(e) if is_retryable(&e) => err = e,
            Err(e) => return Err(e),
        }
    }
    Err(err)
}

/// Commits the worker's open group; its statements count as done (`pending`) only now, so
/// the barriers between sections still mean "all rows are in".
fn commit_group(conn: &mut MysqlConn, pool: &Pool, group: &mut Vec<String>, uncommitted: &mut u64) {
    group.clear();
    if *uncommitted == 0 {
        return;
    }
    if !pool.failed.load(Ordering::SeqCst) {
        if let Err(e) = conn.raw().query_drop("COMMIT") {
            pool.fail(db_err("committing restored rows", e));
        }
    }
    pool.pending.fetch_sub(*uncommitted, Ordering::SeqCst);
    *uncommitted = 0;
}

fn worker(
    conn: &mut MysqlConn,
    rx: &Mutex<Receiver<String>>,
    pool: &Pool,
    progress: &Progress,
    cancel: &AtomicBool,
) {
    use std::sync::mpsc::TryRecvError;
    let mut uncommitted = 0u64;
    let mut group: Vec<String> = Vec::with_capacity(TX_STATEMENTS as usize);
    loop {
        // Never wait for the queue's lock with statements uncommitted: the holder may be
        // blocked on an empty queue while the barrier waits for our commit.
        let sql = if uncommitted > 0 {
            let next = match rx.try_lock() {
                Ok(guard) => guard.try_recv(),
                Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner().try_recv(),
                Err(std::sync::TryLockError::WouldBlock) => Err(TryRecvError::Empty),
            };
            match next {
                Ok(sql) => sql,
                Err(TryRecvError::Empty) => {
                    commit_group(conn, pool, &mut group, &mut uncommitted);
                    continue;
                }
                Err(TryRecvError::Disconnected) => {
                    commit_group(conn, pool, &mut group, &mut uncommitted);
                    return;
                }
            }
        } else {
            match rx.lock().unwrap_or_else(|p| p.into_inner()).recv() {
                Ok(sql) => sql,
                Err(_) => return,
            }
        };
        if !pool.failed.load(Ordering::SeqCst) {
            if cancel.load(Ordering::Relaxed) {
                pool.fail(Error::Cancelled("restore cancelled".into()));
            } else {
                let len = sql.len() as u64;
                match run_in_group(conn, &mut group, sql) {
                    Err(e) => pool.fail(db_err("restoring rows", e)),
                    Ok(()) => {
                        progress.bytes_raw.fetch_add(len, Ordering::Relaxed);
                    }
                }
            }
        }
        uncommitted += 1;
        if uncommitted >= TX_STATEMENTS {
            commit_group(conn, pool, &mut group, &mut uncommitted);
        }
    }
}

/// Applies one dump file. Returns the number of statements run.
fn apply_file(
    main: &mut MysqlConn,
    workers: &mut [MysqlConn],
    path: &Path,
    progress: &Progress,
    cancel: &AtomicBool,
) -> Result<u64> {
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let mut reader = BufReader::with_capacity(
        1 << 20,
        MultiGzDecoder::new(BufReader::with_capacity(1 << 18, file)),
    );
    let pool = Pool {
        pending: AtomicU64::new(0),
        failed: AtomicBool::new(false),
        error: Mutex::new(None),
    };
    let (tx, rx) = sync_channel::<String>(2 * workers.len() + 2);
    let rx = Mutex::new(rx);
    let mut count = 0u64;
    let outcome = std::thread::scope(|s| -> Result<bool> {
        for w in workers.iter_mut() {
            let (rx, pool) = (&rx, &pool);
            s.spawn(move || worker(w, rx, pool, progress, cancel));
        }
        let tx = tx; // dropped when this closure returns: the workers then stop
        let mut line = Vec::with_capacity(1 << 20);
        let mut stmt = String::new();
        let mut delim = ";".to_owned();
        let mut in_data = false;
        let mut saw_end = false;
        let mut deferred: Vec<Vec<String>> = Vec::new();
        let read_err = |e: std::io::Error| -> Error {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                Error::Compress(CompressError::Truncated {
                    path: path.to_path_buf(),
                    offset: 0,
                    member: 0,
                })
            } else {
                Error::Compress(CompressError::Corrupt {
                    path: path.to_path_buf(),
                    offset: 0,
                    detail: e.to_string(),
                })
            }
        };
        loop {
            if pool.failed.load(Ordering::SeqCst) {
                return Ok(false);
            }
            check_cancel(cancel, "restore cancelled")?;
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(read_err)?;
            if n == 0 {
                break;
            }
            let text = std::str::from_utf8(&line).map_err(|_| {
                Error::Compress(CompressError::Corrupt {
                    path: path.to_path_buf(),
                    offset: 0,
                    detail: "a line of the dump is not UTF-8".into(),
                })
            })?;
            if in_data {
                if text.starts_with("INSERT ") || text.starts_with("REPLACE ") {
                    let sql = text.trim_end().trim_end_matches(';');
                    pool.pending.fetch_add(1, Ordering::SeqCst);
                    count += 1;
                    if tx.send(sql.to_owned()).is_err() {
                        return Ok(false);
                    }
                    continue;
                }
                let t = text.trim();
                if t == DATA_END {
                    pool.drain(cancel);
                    // The secondary keys left out of CREATE TABLE, built now by sorting (much
                    // faster than maintaining them row by row), tables in parallel.
                    // Keys first (tables in parallel), then the foreign keys, which need them.
                    for step in 0..2 {
                        for alters in &deferred {
                            if let Some(alter) = alters.get(step) {
                                pool.pending.fetch_add(1, Ordering::SeqCst);
                                count += 1;
                                if tx.send(alter.clone()).is_err() {
                                    return Ok(false);
                                }
                            }
                        }
                        pool.drain(cancel);
                    }
                    deferred.clear();
                    in_data = false;
                    continue;
                }
                if t.is_empty() || t.starts_with("--") {
                    continue;
                }
                // Anything else in the data section runs alone, after the rows before it.
                pool.drain(cancel);
            }
            if stmt.is_empty() {
                let t = text.trim();
                if t.is_empty() {
                    continue;
                }
                if t.starts_with("--") {
                    if t == DATA_BEGIN {
                        in_data = true;
                    } else if t == END_MARK {
                        saw_end = true;
                    }
                    continue;
                }
                if let Some(d) = t.strip_prefix("DELIMITER ") {
                    delim = d.trim().to_owned();
                    continue;
                }
            }
            stmt.push_str(text);
            let t = stmt.trim_end();
            if t.ends_with(delim.as_str()) {
                let sql = &t[..t.len() - delim.len()];
                if !sql.trim().is_empty() {
                    let (sql, later) = split_secondary_keys(sql);
                    main.raw()
                        .query_drop(&sql)
                        .map_err(|e| db_err("restoring the schema", e))?;
                    if !later.is_empty() {
                        deferred.push(later);
                    }
                    count += 1;
                }
                stmt.clear();
            }
        }
        pool.drain(cancel);
        Ok(saw_end)
    });
    if let Some(e) = pool.error.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(e);
    }
    let saw_end = outcome?;
    check_cancel(cancel, "restore cancelled")?;
    if !saw_end {
        return Err(Error::Compress(CompressError::Corrupt {
            path: path.to_path_buf(),
            offset: 0,
            detail: "the dump has no end marker (incomplete dump)".into(),
        }));
    }
    Ok(count)
}

/// The first backticked identifier in `s`, without its quotes.
fn first_ident(s: &str) -> Option<String> {
    let start = s.find('`')? + 1;
    let mut out = String::new();
    let mut chars = s[start..].chars().peekable();
    while let Some(c) = chars.next() {
        if c == '`' {
            if chars.peek() == Some(&'`') {
                chars.next();
                out.push('`');
                continue;
            }
            return Some(out);
        }
        out.push(c);
    }
    None
}

/// Takes the plain secondary keys (`KEY ...`) and the foreign keys out of a `CREATE TABLE` as
/// `SHOW CREATE TABLE` writes it, returning the statement to run now and the `ALTER TABLE`s to
/// run after the rows are in: the keys are then built by sorting (much faster than maintaining
/// them row by row) and, with `FOREIGN_KEY_CHECKS=0`, the constraints are added in place
/// without a table copy. Primary, unique, full-text and spatial keys stay. Anything else is
/// returned unchanged. The restored table has the same keys and constraints; only their order
/// in `SHOW CREATE TABLE` can differ.
pub(crate) fn split_secondary_keys(sql: &str) -> (String, Vec<String>) {
    let unchanged = (sql.to_owned(), Vec::new());
    if !sql.starts_with("CREATE TABLE `")
        || !(sql.contains("\n  KEY `") || sql.contains(" FOREIGN KEY ("))
    {
        return unchanged;
    }
    let lines: Vec<&str> = sql.split('\n').collect();
    let Some(close) = lines.iter().position(|l| l.starts_with(')')) else {
        return unchanged;
    };
    if close < 2 {
        return unchanged;
    }
    let body: Vec<&str> = lines[1..close]
        .iter()
        .map(|l| l.strip_suffix(',').unwrap_or(l))
        .collect();
    let mut keep = Vec::new();
    let mut keys = Vec::new();
    let mut fks = Vec::new();
    for l in body {
        if l.starts_with("  KEY `") {
            keys.push(format!("ADD {}", l.trim()));
        } else if l.starts_with("  CONSTRAINT `") && l.contains(" FOREIGN KEY (") {
            fks.push(format!("ADD {}", l.trim()));
        } else {
            keep.push(l);
        }
    }
    if (keys.is_empty() && fks.is_empty()) || keep.is_empty() {
        return unchanged;
    }
    let Some(table) = first_ident(lines[0]) else {
        return unchanged;
    };
    let mut now = String::with_capacity(sql.len());
    now.push_str(lines[0]);
    now.push('\n');
    now.push_str(&keep.join(",\n"));
    now.push('\n');
    now.push_str(&lines[close..].join("\n"));
    let mut later = Vec::new();
    if !keys.is_empty() {
        later.push(format!("ALTER TABLE {} {}", q(&table), keys.join(", ")));
    }
    if !fks.is_empty() {
        later.push(format!("ALTER TABLE {} {}", q(&table), fks.join(", ")));
    }
    (now, later)
}

fn random_suffix() -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    format!("{:08x}", h.finish() as u32)
}

/// Content checksums of every table of `cfg`'s database, as the dump computes them.
pub fn table_checksums(cfg: &MysqlConfig, cancel: &AtomicBool) -> Result<Vec<(String, TableSum)>> {
    let mut conn = MysqlConn::connect(cfg)?;
    let r = (|| {
        mysql_dump::setup_session(&mut conn)?;
        let schema = mysql_dump::read_schema(&mut conn, &cfg.database)?;
        let mut out = Vec::new();
        for t in &schema.tables {
            let sum = mysql_dump::scan_table(
                &mut conn,
                t,
                None,
                "INSERT",
                1 << 20,
                None,
                cancel,
                &mut |_| Ok(()),
            )?;
            out.push((t.name.clone(), sum));
        }
        Ok(out)
    })();
    drop(conn);
    r
}

/// Restores the chain into a scratch schema, compares checksums, drops the scratch schema.
pub fn verify(
    cfg: &MysqlConfig,
    chain: &[(Manifest, PathBuf)],
    scratch: Option<&str>,
    threads: Option<usize>,
    progress: &Progress,
    cancel: &AtomicBool,
) -> Result<VerifyReport> {
    let t0 = Instant::now();
    let last = &chain[chain.len() - 1].0;
    let scratch = scratch.map(str::to_owned).unwrap_or_else(|| {
        // Schema names are at most 64 characters.
        let head: String = last.database.chars().take(40).collect();
        format!("{head}__verify_{}", random_suffix())
    });
    if scratch == cfg.database {
        return Err(Error::Config(
            "the scratch database must not be the database itself".into(),
        ));
    }
    let threads = threads_or_default(threads)?;
    create_database(cfg, &scratch)?;
    let scfg = with_database(cfg, &scratch);
    let body = (|| -> Result<Vec<TableCheck>> {
        apply_chain(&scfg, chain, threads, progress, cancel)?;
        progress.set_phase("comparing");
        let sums = table_checksums(&scfg, cancel)?;
        let mut checks = Vec::new();
        for t in &last.tables {
            let restored = sums
                .iter()
                .find(|(n, _)| n == &t.name)
                .map(|(_, s)| s.render())
                .unwrap_or_else(|| "missing".into());
            checks.push(TableCheck {
                table: t.name.clone(),
                ok: restored == t.checksum,
                expected: t.checksum.clone(),
                restored,
            });
        }
        Ok(checks)
    })();
    let dropped = drop_database(cfg, &scratch);
    let checks = body?;
    dropped?;
    Ok(VerifyReport {
        ok: checks.iter().all(|c| c.ok),
        tables: checks,
        scratch_database: scratch,
        duration_s: t0.elapsed().as_secs_f64(),
    })
}
