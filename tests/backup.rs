//! Backup engine tests against a SQLite file and the throwaway MariaDB server of
//! `python3 tests_py/support/mariadb.py run -- cargo test --test backup` (its
//! `FORNERIA_TEST_MYSQL_*` variables). Without the server the MariaDB tests are skipped with a
//! message, unless `FORNERIA_OPS_REQUIRE_DB=1`, where they fail.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use _core::backup::{self, BackupOptions, Kind, Progress, RestoreOptions, RestoreReport};
use _core::config::{DbConfig, DjangoDatabase, Secret};
use _core::db::{self, Conn};
use _core::ErrorKind;

static NEXT_DB: AtomicU32 = AtomicU32::new(0);

/// MariaDB tests run one at a time: the global read lock of one backup (or a lock a test holds
/// on purpose) would change what another test's backup sees.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// Sets a flag when dropped (also on panic), so helper threads of a scope stop.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn require_db() -> bool {
    std::env::var("FORNERIA_OPS_REQUIRE_DB").as_deref() == Ok("1")
}

fn mysql_settings(database: &str) -> Option<DjangoDatabase> {
    let Ok(socket) = std::env::var("FORNERIA_TEST_MYSQL_SOCKET") else {
        if require_db() {
            panic!("FORNERIA_OPS_REQUIRE_DB=1 but no throwaway MariaDB: run the tests through `python3 tests_py/support/mariadb.py run -- cargo test --test backup`");
        }
        eprintln!("skipping: FORNERIA_TEST_MYSQL_SOCKET is not set");
        return None;
    };
    Some(DjangoDatabase {
        engine: "django.db.backends.mysql".into(),
        name: database.into(),
        user: std::env::var("FORNERIA_TEST_MYSQL_USER").unwrap_or_default(),
        password: Secret::new(std::env::var("FORNERIA_TEST_MYSQL_PASSWORD").unwrap_or_default()),
        host: socket,
        port: String::new(),
        options: Default::default(),
    })
}

fn mysql_cfg(database: &str) -> Option<DbConfig> {
    Some(DbConfig::from_django(&mysql_settings(database)?).unwrap())
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::SeqCst)
    )
}

fn admin() -> Option<Conn> {
    Some(db::connect(&mysql_cfg("mysql")?).unwrap())
}

fn create_db(name: &str) -> Option<DbConfig> {
    let mut a = admin()?;
    a.execute("drop", &format!("DROP DATABASE IF EXISTS `{name}`"), &[])
        .unwrap();
    a.execute(
        "create",
        &format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_spanish_ci"),
        &[],
    )
    .unwrap();
    mysql_cfg(name)
}

fn drop_db(name: &str) {
    if let Some(mut a) = admin() {
        let _ = a.execute("drop", &format!("DROP DATABASE IF EXISTS `{name}`"), &[]);
    }
}

fn run_sql(cfg: &DbConfig, sql: &str) {
    let mut c = db::connect(cfg).unwrap();
    c.execute("test setup", sql, &[])
        .unwrap_or_else(|e| panic!("{e}\n{sql}"));
}

fn rows(cfg: &DbConfig, sql: &str) -> Vec<Vec<Option<String>>> {
    let mut c = db::connect(cfg).unwrap();
    let mut out = Vec::new();
    c.query_each("test query", sql, &[], &mut |r| {
        let mut v = Vec::new();
        let mut i = 0;
        while let Ok(x) = r.text(i) {
            v.push(x);
            i += 1;
        }
        out.push(v);
        Ok(())
    })
    .unwrap();
    out
}

/// `CHECKSUM TABLE` of every base table, by name.
fn checksums(cfg: &DbConfig, db: &str) -> BTreeMap<String, String> {
    let tables = rows(
        cfg,
        &format!("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{db}' AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1"),
    );
    let mut out = BTreeMap::new();
    for t in tables {
        let name = t[0].clone().unwrap();
        let r = rows(
            cfg,
            &format!("CHECKSUM TABLE `{}`", name.replace('`', "``")),
        );
        out.insert(name, r[0][1].clone().unwrap_or_default());
    }
    out
}

/// Object inventory: views, triggers, routines, events and tables' CREATE statements.
fn inventory(cfg: &DbConfig, db: &str) -> Vec<String> {
    let mut inv = Vec::new();
    for (what, sql) in [
        ("table", format!("SELECT TABLE_NAME, TABLE_TYPE, ENGINE, AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA='{db}' ORDER BY 1")),
        ("trigger", format!("SELECT TRIGGER_NAME, ACTION_STATEMENT FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA='{db}' ORDER BY 1")),
        ("routine", format!("SELECT ROUTINE_NAME, ROUTINE_TYPE, ROUTINE_DEFINITION FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA='{db}' ORDER BY 1")),
        ("event", format!("SELECT EVENT_NAME, EVENT_DEFINITION FROM information_schema.EVENTS WHERE EVENT_SCHEMA='{db}' ORDER BY 1")),
        ("index", format!("SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE, INDEX_TYPE FROM information_schema.STATISTICS WHERE TABLE_SCHEMA='{db}' ORDER BY 1, 2, 3")),
        ("foreign key", format!("SELECT CONSTRAINT_NAME, TABLE_NAME, REFERENCED_TABLE_NAME, UPDATE_RULE, DELETE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA='{db}' ORDER BY 1")),
        ("column", format!("SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, GENERATION_EXPRESSION FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='{db}' ORDER BY TABLE_NAME, ORDINAL_POSITION")),
    ] {
        for r in rows(cfg, &sql) {
            inv.push(format!("{what}: {r:?}"));
        }
    }
    inv
}

const EVERY_CASE: &str = r#"
SET SESSION time_zone = '+05:30';
CREATE TABLE `every case` (
  id INT AUTO_INCREMENT PRIMARY KEY,
  b LONGBLOB, bin BINARY(4), vb VARBINARY(10),
  t VARCHAR(80), j JSON, d DECIMAL(65,30), dt DATETIME(6), ts TIMESTAMP(6) NULL DEFAULT NULL,
  bit8 BIT(8), bit1 BIT(1), n TEXT NULL,
  gen INT AS (id * 2) VIRTUAL, gens VARCHAR(90) AS (CONCAT(t, '!')) STORED,
  f FLOAT, dbl DOUBLE, e ENUM('a','b'), s SET('x','y'), y YEAR, tm TIME(3), dte DATE,
  u BIGINT UNSIGNED, neg SMALLINT
) ENGINE=InnoDB;
INSERT INTO `every case` (b, bin, vb, t, j, d, dt, ts, bit8, bit1, n, f, dbl, e, s, y, tm, dte, u, neg) VALUES
 (X'00010200FF27225C0A0D1A', X'00000000', X'', 'ñandú 🥐 \'q\' "dq" \\ back\nline\rcr\Zsub', '{"a": [1, "ñ", null], "b": {"c": 1.5}}',
  '12345678901234567890123456789012345.123456789012345678901234567891', '2025-12-31 23:59:59.999999', '2025-06-01 12:00:00.123456',
  b'10100101', b'1', NULL, 1.5, 0.1, 'a', 'x,y', 2025, '-838:59:59.000', '2025-02-28', 18446744073709551615, -32768),
 (NULL, NULL, NULL, '', NULL, '-0.000000000000000000000000000001', '1000-01-01 00:00:00.000000', '1970-01-01 05:30:01', b'0', b'0', '', NULL, NULL, NULL, '', NULL, NULL, NULL, 0, 0),
 (NULL, NULL, NULL, 'NULL', 'null', 0, NULL, NULL, NULL, NULL, 'NULL', -3.25e-10, 1e300, 'b', 'y', 1901, '00:00:00.5', '9999-12-31', 1, 1),
 (X'DEADBEEF', X'61626364', X'00', 'to be deleted', '[]', 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
DELETE FROM `every case` WHERE t = 'to be deleted';
CREATE TABLE `nombre raro ``con`` comillas; y ñ` (`col umna` INT, `select` VARCHAR(10)) ENGINE=InnoDB;
INSERT INTO `nombre raro ``con`` comillas; y ñ` VALUES (1, 'a'), (NULL, NULL), (1, 'a');
CREATE TABLE t_myisam (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=MyISAM;
INSERT INTO t_myisam VALUES (1, 'uno'), (2, 'dos');
CREATE TABLE t_aria (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=Aria;
INSERT INTO t_aria VALUES (1, 'uno');
CREATE TABLE t_empty (id INT PRIMARY KEY) ENGINE=InnoDB;
CREATE TABLE t_parent (id INT PRIMARY KEY) ENGINE=InnoDB;
CREATE TABLE t_child (id INT PRIMARY KEY, parent_id INT, FOREIGN KEY (parent_id) REFERENCES t_parent (id)) ENGINE=InnoDB;
INSERT INTO t_parent VALUES (1), (2);
INSERT INTO t_child VALUES (10, 1), (20, 2);
CREATE TABLE t_big (id INT AUTO_INCREMENT PRIMARY KEY, payload VARCHAR(200), amount DECIMAL(12,2), KEY idx_amount (amount), KEY `idx payload` (payload(20), amount)) ENGINE=InnoDB;
INSERT INTO t_big (payload, amount) SELECT CONCAT(REPEAT('x', seq % 150), ' fila ', seq), seq / 7 FROM seq_1_to_20000;
CREATE TABLE t_log (id INT AUTO_INCREMENT PRIMARY KEY, msg VARCHAR(50)) ENGINE=InnoDB;
CREATE VIEW v2 AS SELECT id, t FROM v_every WHERE id > 1;
"#;

const EVERY_CASE_TAIL: &str = r#"
CREATE TRIGGER trg_log AFTER INSERT ON t_parent FOR EACH ROW INSERT INTO t_log (msg) VALUES (CONCAT('parent ', NEW.id));
CREATE PROCEDURE proc_two() BEGIN
  SELECT 1;
  SELECT 'dos; tres';
END;
CREATE FUNCTION fn_inc(x INT) RETURNS INT DETERMINISTIC RETURN x + 1;
CREATE EVENT ev_nothing ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM t_log WHERE 1 = 0;
"#;

fn load_every_case(cfg: &DbConfig) {
    // v2 depends on v_every: create the view it needs first, under a name sorted after it.
    let (head, view) = EVERY_CASE.split_once("CREATE VIEW v2").unwrap();
    run_sql(cfg, head);
    run_sql(
        cfg,
        "CREATE VIEW v_every AS SELECT id, t, gen FROM `every case`",
    );
    run_sql(cfg, &format!("CREATE VIEW v2{view}"));
    let mut c = db::connect(cfg).unwrap();
    for stmt in EVERY_CASE_TAIL
        .split(";\nCREATE")
        .enumerate()
        .map(|(i, s)| {
            if i == 0 {
                s.trim().to_owned()
            } else {
                format!("CREATE{s}")
            }
        })
    {
        let stmt = stmt.trim().trim_end_matches(';').to_owned();
        if !stmt.is_empty() {
            c.execute("tail", &stmt, &[])
                .unwrap_or_else(|e| panic!("{e}\n{stmt}"));
        }
    }
}

fn stock_client(db: &str) -> Command {
    let socket = std::env::var("FORNERIA_TEST_MYSQL_SOCKET").unwrap();
    let mut c = Command::new("mariadb");
    c.args([
        "--no-defaults",
        &format!("--socket={socket}"),
        "--user=root",
        "--default-character-set=utf8mb4",
        db,
    ]);
    c
}

fn stock_restore(file: &Path, db: &str) {
    let gz = std::fs::File::open(file).unwrap();
    let mut gunzip = Command::new("gunzip")
        .arg("-c")
        .stdin(gz)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = stock_client(db)
        .stdin(gunzip.stdout.take().unwrap())
        .output()
        .unwrap();
    assert!(gunzip.wait().unwrap().success());
    assert!(
        out.status.success(),
        "stock restore failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Our restore of `file` into schema `target` with `threads` loaders (not cancelled).
fn restore_to(cfg: &DbConfig, file: &Path, target: &str, threads: usize) -> RestoreReport {
    backup::restore(
        cfg,
        file,
        &RestoreOptions {
            target_database: Some(target.to_owned()),
            threads: Some(threads),
        },
        &Progress::default(),
        &AtomicBool::new(false),
    )
    .unwrap()
}

fn no_temp_files(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        left.iter().all(|n| !n.to_string_lossy().starts_with('.')),
        "temp files left: {left:?}"
    );
}

/// Small chunks, so that every table with some rows is read in key ranges by all connections.
fn opts(threads: usize) -> BackupOptions {
    BackupOptions {
        threads: Some(threads),
        lock_wait_seconds: 2.0,
        chunk_keys: 500,
        ..Default::default()
    }
}

#[test]
fn mysql_every_case_round_trip_ours_and_stock_client() {
    let _serial = serial();
    let src = unique("bk_every");
    let Some(cfg) = create_db(&src) else { return };
    load_every_case(&cfg);
    let dir = tempfile::tempdir().unwrap();
    let cancel = AtomicBool::new(false);
    let res = backup::backup(&cfg, dir.path(), &opts(2), &Progress::default(), &cancel).unwrap();
    let m = &res.manifest;
    assert_eq!(m.kind, "full");
    assert_eq!(m.snapshot.method, "ftwrl_parallel");
    assert!(
        m.tables.iter().all(|t| t.consistent),
        "{:?}",
        m.consistency_notes
    );
    assert_eq!(m.table("t_big").unwrap().rows, 20000);
    assert_eq!(m.table("every case").unwrap().rows, 3);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&res.file_path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(&res.manifest_path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    backup::check_backup(&res.file_path, None).unwrap();
    no_temp_files(dir.path());

    let expected = checksums(&cfg, &src);
    let expected_inv = inventory(&cfg, &src);

    // Our restore into another schema.
    let ours = unique("bk_every_ours");
    let rep = restore_to(&cfg, &res.file_path, &ours, 3);
    assert_eq!(rep.database, ours);
    let ocfg = mysql_cfg(&ours).unwrap();
    assert_eq!(checksums(&ocfg, &ours), expected);
    assert_eq!(inventory(&ocfg, &ours), expected_inv);
    assert_eq!(
        rows(&ocfg, "SELECT COUNT(*) FROM v2")[0][0].as_deref(),
        Some("2")
    );
    assert_eq!(
        rows(&ocfg, "SELECT fn_inc(41)")[0][0].as_deref(),
        Some("42")
    );
    // TIMESTAMP under another session time zone reads back the same instant.
    assert_eq!(
        rows(
            &ocfg,
            "SELECT CONVERT_TZ(ts, @@session.time_zone, '+00:00') FROM `every case` WHERE id = 1"
        ),
        rows(
            &cfg,
            "SELECT CONVERT_TZ(ts, @@session.time_zone, '+00:00') FROM `every case` WHERE id = 1"
        )
    );

    // The stock client restores the same file.
    let stock = unique("bk_every_stock");
    create_db(&stock);
    stock_restore(&res.file_path, &stock);
    let scfg = mysql_cfg(&stock).unwrap();
    assert_eq!(checksums(&scfg, &stock), expected);
    assert_eq!(inventory(&scfg, &stock), expected_inv);

    // verify_backup: scratch restore, checksums equal, scratch dropped.
    let v = backup::verify(
        &cfg,
        &res.file_path,
        None,
        Some(2),
        &Progress::default(),
        &cancel,
    )
    .unwrap();
    assert!(v.ok, "{:?}", v.tables);
    assert_eq!(v.tables.len(), m.tables.len());
    let left = rows(
        &cfg,
        &format!(
            "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{}'",
            v.scratch_database
        ),
    );
    assert_eq!(left[0][0].as_deref(), Some("0"));

    for d in [&src, &ours, &stock] {
        drop_db(d);
    }
}

#[test]
fn mysql_single_thread_and_restore_over_itself() {
    let _serial = serial();
    let src = unique("bk_single");
    let Some(cfg) = create_db(&src) else { return };
    load_every_case(&cfg);
    let dir = tempfile::tempdir().unwrap();
    let cancel = AtomicBool::new(false);
    let res = backup::backup(&cfg, dir.path(), &opts(1), &Progress::default(), &cancel).unwrap();
    let expected = checksums(&cfg, &src);
    run_sql(
        &cfg,
        "DELETE FROM t_big WHERE id < 500; UPDATE `every case` SET t = 'changed'; DROP VIEW v2",
    );
    assert_ne!(checksums(&cfg, &src), expected);
    backup::restore(
        &cfg,
        &res.manifest_path,
        &RestoreOptions::default(),
        &Progress::default(),
        &cancel,
    )
    .unwrap();
    assert_eq!(checksums(&cfg, &src), expected);
    drop_db(&src);
}

fn sqlite_db(dir: &Path) -> (DbConfig, PathBuf) {
    let path = dir.join("shop.sqlite3");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE p (id INTEGER PRIMARY KEY, nombre TEXT, precio REAL, foto BLOB, nota TEXT);
         INSERT INTO p VALUES (1, 'ñandú 🥐', 1.5, X'000102', NULL), (2, '', 0.1, X'', 'NULL');
         CREATE TABLE \"raro \"\"x\"\"\" (a, b);
         INSERT INTO \"raro \"\"x\"\"\" VALUES (1, 'x'), (NULL, 2.5);
         CREATE INDEX p_nombre ON p (nombre);",
    )
    .unwrap();
    let cfg = DbConfig::from_django(&DjangoDatabase {
        engine: "django.db.backends.sqlite3".into(),
        name: path.display().to_string(),
        ..Default::default()
    })
    .unwrap();
    (cfg, path)
}

fn sqlite_dump(path: &Path) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut out = String::new();
    let mut st = conn
        .prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
        .unwrap();
    let names: Vec<String> = st
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    for n in names {
        let mut st = conn
            .prepare(&format!(
                "SELECT quote(*) FROM \"{}\"",
                n.replace('"', "\"\"")
            ))
            .unwrap_or_else(|_| conn.prepare("SELECT 1").unwrap());
        let _ = &mut st;
        let mut st2 = conn
            .prepare(&format!("SELECT * FROM \"{}\"", n.replace('"', "\"\"")))
            .unwrap();
        let cols = st2.column_count();
        let mut rows = st2.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            for i in 0..cols {
                out.push_str(&format!("{:?}|", r.get_ref(i).unwrap()));
            }
            out.push('\n');
        }
    }
    out
}

#[test]
fn sqlite_backup_check_restore_verify() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let (cfg, path) = sqlite_db(dir.path());
    let cancel = AtomicBool::new(false);
    let before = sqlite_dump(&path);
    let res = backup::backup(
        &cfg,
        out.path(),
        &BackupOptions {
            name: Some("s1".into()),
            ..Default::default()
        },
        &Progress::default(),
        &cancel,
    )
    .unwrap();
    assert_eq!(res.manifest.engine, "sqlite");
    assert_eq!(res.manifest.snapshot.method, "sqlite_backup_api");
    assert!(res.file_path.ends_with("s1.sqlite3.gz"));
    assert_eq!(res.manifest.rows_total, 4);
    assert!(
        backup::check_backup(&res.manifest_path, None)
            .unwrap()
            .sha256_ok
    );
    no_temp_files(out.path());

    // Diffs are MySQL-only.
    let e = backup::backup(
        &cfg,
        out.path(),
        &BackupOptions {
            kind: Kind::Diff,
            ..Default::default()
        },
        &Progress::default(),
        &cancel,
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("MySQL"), "{e}");

    // Change the database while a connection stays open, restore, compare.
    let open = rusqlite::Connection::open(&path).unwrap();
    open.execute_batch("DELETE FROM p; INSERT INTO p (nombre) VALUES ('nuevo');")
        .unwrap();
    assert_ne!(sqlite_dump(&path), before);
    backup::restore(
        &cfg,
        &res.file_path,
        &RestoreOptions::default(),
        &Progress::default(),
        &cancel,
    )
    .unwrap();
    assert_eq!(sqlite_dump(&path), before);
    let n: i64 = open
        .query_row("SELECT COUNT(*) FROM p", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2, "the open connection sees the restored data");

    // Restore into another file.
    let other = dir.path().join("other.sqlite3");
    backup::restore(
        &cfg,
        &res.file_path,
        &RestoreOptions {
            target_database: Some(other.display().to_string()),
            threads: None,
        },
        &Progress::default(),
        &cancel,
    )
    .unwrap();
    assert_eq!(sqlite_dump(&other), before);

    let v = backup::verify(
        &cfg,
        &res.file_path,
        None,
        None,
        &Progress::default(),
        &cancel,
    )
    .unwrap();
    assert!(v.ok, "{:?}", v.tables);

    // Tampered file: refused before touching the database.
    let mut bytes = std::fs::read(&res.file_path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&res.file_path, &bytes).unwrap();
    open.execute_batch("INSERT INTO p (nombre) VALUES ('after');")
        .unwrap();
    let after = sqlite_dump(&path);
    let e = backup::restore(
        &cfg,
        &res.file_path,
        &RestoreOptions::default(),
        &Progress::default(),
        &cancel,
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    assert_eq!(sqlite_dump(&path), after);
    let e = backup::check_backup(&res.file_path, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt);
}

/// A writer moves amounts between accounts (and logs each move in a second table) in
/// transactions while backups run: every restored copy keeps both invariants.
#[test]
fn mysql_consistency_under_load_10_of_10() {
    let _serial = serial();
    let src = unique("bk_load");
    let Some(cfg) = create_db(&src) else { return };
    run_sql(
        &cfg,
        "CREATE TABLE cuentas (id INT PRIMARY KEY, saldo BIGINT NOT NULL) ENGINE=InnoDB;
         CREATE TABLE movimientos (id INT AUTO_INCREMENT PRIMARY KEY, monto BIGINT NOT NULL, relleno VARCHAR(200)) ENGINE=InnoDB;
         CREATE TABLE totales (id INT PRIMARY KEY, transferido BIGINT NOT NULL) ENGINE=InnoDB;
         INSERT INTO cuentas SELECT seq, 1000 FROM seq_1_to_200;
         INSERT INTO totales VALUES (1, 0);
         INSERT INTO movimientos (monto, relleno) SELECT 0, REPEAT('r', 150) FROM seq_1_to_30000;",
    );
    let stop = AtomicBool::new(false);
    let commits = AtomicU32::new(0);
    let dir = tempfile::tempdir().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut c = db::connect(&cfg).unwrap();
            let mut k: u64 = 7;
            while !stop.load(Ordering::Relaxed) {
                k = k
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let (i, j, x) = (k % 200 + 1, (k >> 20) % 200 + 1, (k >> 40) % 50 + 1);
                c.execute("tx", "START TRANSACTION", &[]).unwrap();
                c.execute(
                    "tx",
                    &format!("UPDATE cuentas SET saldo = saldo - {x} WHERE id = {i}"),
                    &[],
                )
                .unwrap();
                c.execute(
                    "tx",
                    &format!("INSERT INTO movimientos (monto, relleno) VALUES ({x}, 'm')"),
                    &[],
                )
                .unwrap();
                c.execute(
                    "tx",
                    &format!("UPDATE cuentas SET saldo = saldo + {x} WHERE id = {j}"),
                    &[],
                )
                .unwrap();
                c.execute(
                    "tx",
                    &format!("UPDATE totales SET transferido = transferido + {x} WHERE id = 1"),
                    &[],
                )
                .unwrap();
                c.execute("tx", "COMMIT", &[]).unwrap();
                commits.fetch_add(1, Ordering::Relaxed);
            }
        });
        let _stop = SetOnDrop(&stop);
        for run in 0..10 {
            let cancel = AtomicBool::new(false);
            let before = commits.load(Ordering::Relaxed);
            let res = backup::backup(
                &cfg,
                dir.path(),
                &BackupOptions {
                    name: Some(format!("load{run}")),
                    ..opts(2)
                },
                &Progress::default(),
                &cancel,
            )
            .unwrap();
            assert_eq!(res.manifest.snapshot.method, "ftwrl_parallel");
            let target = unique("bk_load_r");
            restore_to(&cfg, &res.file_path, &target, 2);
            let t = mysql_cfg(&target).unwrap();
            let sum = rows(&t, "SELECT SUM(saldo) FROM cuentas");
            let moved = rows(
                &t,
                "SELECT (SELECT SUM(monto) FROM movimientos) - (SELECT transferido FROM totales)",
            );
            assert_eq!(
                sum[0][0].as_deref(),
                Some("200000"),
                "run {run}: sum of balances"
            );
            assert_eq!(
                moved[0][0].as_deref(),
                Some("0"),
                "run {run}: moves vs total across tables"
            );
            drop_db(&target);
            assert!(
                commits.load(Ordering::Relaxed) > before || run > 0,
                "the writer is writing"
            );
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert!(commits.load(Ordering::Relaxed) > 10);
    drop_db(&src);
}

/// Another session holds a write lock: the global lock times out, the dump falls back to one
/// connection, says so, and marks the MyISAM/Aria tables as not snapshot-consistent.
#[test]
fn mysql_lock_timeout_falls_back_to_one_connection() {
    let _serial = serial();
    let src = unique("bk_fallback");
    let Some(cfg) = create_db(&src) else { return };
    load_every_case(&cfg);
    let expected = checksums(&cfg, &src);
    // A write lock in another database: it holds off the global lock, not the dump's reads.
    let side = unique("bk_fallback_side");
    let side_cfg = create_db(&side).unwrap();
    run_sql(&side_cfg, "CREATE TABLE locked (id INT) ENGINE=InnoDB");
    let mut holder = db::connect(&side_cfg).unwrap();
    holder
        .execute("lock", "LOCK TABLES locked WRITE", &[])
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cancel = AtomicBool::new(false);
    let res = backup::backup(
        &cfg,
        dir.path(),
        &BackupOptions {
            lock_wait_seconds: 1.0,
            ..opts(2)
        },
        &Progress::default(),
        &cancel,
    );
    holder.execute("unlock", "UNLOCK TABLES", &[]).unwrap();
    let res = res.unwrap();
    let m = &res.manifest;
    assert_eq!(m.snapshot.method, "single_connection");
    assert!(
        m.consistency_notes
            .iter()
            .any(|n| n.contains("global read lock not obtained")),
        "{:?}",
        m.consistency_notes
    );
    for t in &m.tables {
        let nontx = t.engine == "MyISAM" || t.engine == "Aria";
        assert_eq!(t.consistent, !nontx, "{t:?}");
        if nontx {
            assert!(
                m.consistency_notes.iter().any(|n| n.contains(&t.name)),
                "no note for {}",
                t.name
            );
        }
    }
    let target = unique("bk_fallback_r");
    backup::restore(
        &cfg,
        &res.file_path,
        &RestoreOptions {
            target_database: Some(target.clone()),
            threads: None,
        },
        &Progress::default(),
        &cancel,
    )
    .unwrap();
    assert_eq!(checksums(&mysql_cfg(&target).unwrap(), &target), expected);
    drop_db(&target);
    drop_db(&side);
    drop_db(&src);
}

fn big_db(prefix: &str, rows_n: u32) -> Option<(String, DbConfig)> {
    let name = unique(prefix);
    let cfg = create_db(&name)?;
    run_sql(
        &cfg,
        &format!(
            "CREATE TABLE big (id INT PRIMARY KEY, r VARBINARY(600)) ENGINE=InnoDB;
             INSERT INTO big SELECT seq, RANDOM_BYTES(512) FROM seq_1_to_{rows_n};"
        ),
    );
    Some((name, cfg))
}

#[test]
fn mysql_cancel_leaves_nothing() {
    let _serial = serial();
    let Some((name, cfg)) = big_db("bk_cancel", 20000) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cancel = AtomicBool::new(false);
    let progress = Progress::default();
    let done = AtomicBool::new(false);
    let err = std::thread::scope(|s| {
        s.spawn(|| {
            while progress.rows.load(Ordering::Relaxed) == 0 && !done.load(Ordering::SeqCst) {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            cancel.store(true, Ordering::SeqCst);
        });
        let _done = SetOnDrop(&done);
        backup::backup(&cfg, dir.path(), &opts(2), &progress, &cancel).unwrap_err()
    });
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file at all"
    );
    // Restore cancelled before it starts: nothing created.
    let ok = backup::backup(
        &cfg,
        dir.path(),
        &opts(2),
        &Progress::default(),
        &AtomicBool::new(false),
    )
    .unwrap();
    let target = unique("bk_cancel_r");
    let e = backup::restore(
        &cfg,
        &ok.file_path,
        &RestoreOptions {
            target_database: Some(target.clone()),
            threads: None,
        },
        &Progress::default(),
        &AtomicBool::new(true),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    drop_db(&target);
    drop_db(&name);
}

/// Mounts a tmpfs (root only; skipped elsewhere).
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, opts: &str) -> Option<Mount> {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", opts, "tmpfs"])
            .arg(dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            eprintln!("skipping: cannot mount a tmpfs (not root?)");
            return None;
        }
        Some(Mount(dir.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn mysql_disk_full_and_unwritable_dir() {
    let _serial = serial();
    let Some((name, cfg)) = big_db("bk_full", 12000) else {
        return;
    };
    let base = tempfile::tempdir().unwrap();
    let full = base.path().join("small");
    std::fs::create_dir(&full).unwrap();
    let Some(_m) = Mount::tmpfs(&full, "size=2m") else {
        return drop_db(&name);
    };
    let cancel = AtomicBool::new(false);
    let e = backup::backup(&cfg, &full, &opts(2), &Progress::default(), &cancel).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DiskFull, "{e}");
    assert_eq!(
        std::fs::read_dir(&full).unwrap().count(),
        0,
        "nothing left on the full disk"
    );

    let ro = base.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    let Some(_r) = Mount::tmpfs(&ro, "ro,size=1m") else {
        return drop_db(&name);
    };
    let e = backup::backup(&cfg, &ro, &opts(2), &Progress::default(), &cancel).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Io), "{e:?}");
    assert!(e.to_string().contains(&ro.display().to_string()), "{e}");
    let e = backup::backup(
        &cfg,
        &base.path().join("missing"),
        &opts(2),
        &Progress::default(),
        &cancel,
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    drop_db(&name);
}

#[test]
fn mysql_bad_credentials_and_unknown_database() {
    let _serial = serial();
    let Some(mut settings) = mysql_settings("mysql") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cancel = AtomicBool::new(false);
    let secret = "s3cr3t-Wr0ng-pässword";
    settings.password = Secret::new(secret);
    let cfg = DbConfig::from_django(&settings).unwrap();
    let e = backup::backup(&cfg, dir.path(), &opts(2), &Progress::default(), &cancel).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(!e.to_string().contains(secret) && !format!("{e:?}").contains(secret));
    let cfg = mysql_cfg("no_such_database_here").unwrap();
    let e = backup::backup(&cfg, dir.path(), &opts(2), &Progress::default(), &cancel).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownDatabase, "{e}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn mysql_corrupt_truncated_tampered_refused_before_touching() {
    let _serial = serial();
    let src = unique("bk_corrupt");
    let Some(cfg) = create_db(&src) else { return };
    load_every_case(&cfg);
    let dir = tempfile::tempdir().unwrap();
    let cancel = AtomicBool::new(false);
    let res = backup::backup(&cfg, dir.path(), &opts(2), &Progress::default(), &cancel).unwrap();
    let good = std::fs::read(&res.file_path).unwrap();
    let target = unique("bk_corrupt_r");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", good[..good.len() * 2 / 3].to_vec()),
        ("corrupt", {
            let mut b = good.clone();
            let i = b.len() / 2;
            b[i] ^= 0xff;
            b
        }),
        ("tampered", {
            // A valid gzip file with other content: only the SHA-256 tells.
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
            std::io::Write::write_all(&mut e, b"DROP TABLE t_big;\n").unwrap();
            e.finish().unwrap()
        }),
    ];
    for (what, bytes) in cases {
        std::fs::write(&res.file_path, &bytes).unwrap();
        let e = backup::restore(
            &cfg,
            &res.file_path,
            &RestoreOptions {
                target_database: Some(target.clone()),
                threads: None,
            },
            &Progress::default(),
            &cancel,
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{what}: {e}");
        let exists = rows(
            &cfg,
            &format!(
                "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{target}'"
            ),
        );
        assert_eq!(
            exists[0][0].as_deref(),
            Some("0"),
            "{what}: target untouched"
        );
        let e = backup::check_backup(&res.file_path, None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{what}");
    }
    std::fs::remove_file(&res.manifest_path).unwrap();
    std::fs::write(&res.file_path, &good).unwrap();
    let e = backup::restore(
        &cfg,
        &res.file_path,
        &RestoreOptions::default(),
        &Progress::default(),
        &cancel,
    )
    .unwrap_err();
    assert!(e.to_string().contains("manifest"), "{e}");
    drop_db(&src);
}

/// Full, changes (updates, inserts, deletes, a table without audit columns, a new table),
/// differential: full + differential restores the database as of the differential, with our
/// restore and with the stock client applying both files in order.
#[test]
fn mysql_differential_full_plus_diff_equals_source() {
    let _serial = serial();
    let src = unique("bk_diff");
    let Some(cfg) = create_db(&src) else { return };
    run_sql(
        &cfg,
        "CREATE TABLE productos (id INT PRIMARY KEY, nombre VARCHAR(40), precio DECIMAL(10,2),
           creado DATETIME(6) NOT NULL, modificado DATETIME(6) NULL) ENGINE=InnoDB;
         CREATE TABLE ventas (id INT AUTO_INCREMENT PRIMARY KEY, producto_id INT, monto DECIMAL(10,2),
           fecha_creacion DATE) ENGINE=InnoDB;
         CREATE TABLE config (clave VARCHAR(20) PRIMARY KEY, valor VARCHAR(40)) ENGINE=InnoDB;
         CREATE TABLE bitacora (id INT PRIMARY KEY, msg VARCHAR(40), created_at DATETIME) ENGINE=MyISAM;
         INSERT INTO productos SELECT seq, CONCAT('p', seq), seq * 1.5, '2025-01-01' + INTERVAL seq SECOND, NULL FROM seq_1_to_3000;
         INSERT INTO ventas (producto_id, monto, fecha_creacion) SELECT seq % 3000 + 1, seq, '2025-01-02' FROM seq_1_to_5000;
         INSERT INTO config VALUES ('a', '1'), ('b', '2');
         INSERT INTO bitacora VALUES (1, 'x', '2025-01-01 00:00:00');",
    );
    let dir = tempfile::tempdir().unwrap();
    let cancel = AtomicBool::new(false);
    let full = backup::backup(
        &cfg,
        dir.path(),
        &BackupOptions {
            name: Some("f".into()),
            ..opts(2)
        },
        &Progress::default(),
        &cancel,
    )
    .unwrap();
    run_sql(
        &cfg,
        "UPDATE productos SET precio = precio + 1, modificado = NOW(6) WHERE id % 10 = 0;
         INSERT INTO productos VALUES (5001, 'nuevo', 9.99, NOW(6), NULL);
         DELETE FROM productos WHERE id BETWEEN 100 AND 150;
         INSERT INTO ventas (producto_id, monto, fecha_creacion) VALUES (1, 1, CURDATE()), (2, 2, CURDATE());
         DELETE FROM ventas WHERE id < 10;
         UPDATE config SET valor = '3' WHERE clave = 'a'; DELETE FROM config WHERE clave = 'b';
         INSERT INTO bitacora VALUES (2, 'y', NOW());
         CREATE TABLE nueva (id INT PRIMARY KEY, creado DATETIME) ENGINE=InnoDB;
         INSERT INTO nueva VALUES (1, NOW());",
    );
    let diff = backup::backup(
        &cfg,
        dir.path(),
        &BackupOptions {
            kind: Kind::Diff,
            base: Some(full.manifest_path.clone()),
            name: Some("d".into()),
            ..opts(2)
        },
        &Progress::default(),
        &cancel,
    )
    .unwrap();
    let m = &diff.manifest;
    assert_eq!(m.kind, "diff");
    assert_eq!(m.base.as_deref(), Some("f.sql.gz"));
    assert_eq!(
        m.base_sha256.as_deref(),
        Some(full.manifest.sha256.as_str())
    );
    let mode = |t: &str| m.table(t).unwrap().mode.clone();
    assert_eq!(mode("productos"), "changed_rows");
    assert_eq!(mode("ventas"), "changed_rows");
    assert_eq!(mode("config"), "whole_table");
    assert_eq!(mode("nueva"), "whole_table");
    assert!(
        m.table("productos").unwrap().rows < 400,
        "only changed rows: {}",
        m.table("productos").unwrap().rows
    );
    let expected = checksums(&cfg, &src);

    let ours = unique("bk_diff_ours");
    let rep = restore_to(&cfg, &diff.file_path, &ours, 2);
    assert_eq!(rep.applied.len(), 2);
    assert_eq!(checksums(&mysql_cfg(&ours).unwrap(), &ours), expected);

    let stock = unique("bk_diff_stock");
    create_db(&stock);
    stock_restore(&full.file_path, &stock);
    stock_restore(&diff.file_path, &stock);
    assert_eq!(checksums(&mysql_cfg(&stock).unwrap(), &stock), expected);

    let v = backup::verify(
        &cfg,
        &diff.manifest_path,
        None,
        Some(2),
        &Progress::default(),
        &cancel,
    )
    .unwrap();
    assert!(v.ok, "{:?}", v.tables);

    // A differential whose base was replaced is refused.
    let other = backup::backup(
        &cfg,
        dir.path(),
        &BackupOptions {
            name: Some("other".into()),
            ..opts(1)
        },
        &Progress::default(),
        &cancel,
    )
    .unwrap();
    std::fs::rename(&other.file_path, &full.file_path).unwrap();
    std::fs::rename(&other.manifest_path, &full.manifest_path).unwrap();
    let e = backup::restore(
        &cfg,
        &diff.file_path,
        &RestoreOptions {
            target_database: Some(unique("bk_diff_x")),
            threads: None,
        },
        &Progress::default(),
        &cancel,
    )
    .unwrap_err();
    assert!(e.to_string().contains("base"), "{e}");
    for d in [&src, &ours, &stock] {
        drop_db(d);
    }
}

/// The shop's real export (MyISAM/Aria tables included): ours and the stock client restore it
/// with identical CHECKSUM TABLE.
#[test]
fn mysql_real_export_round_trip() {
    let _serial = serial();
    let export = std::env::var("FORNERIA_PRODUCTION_EXPORT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("/work/shared/forneria/forneria_produccion_2025-12.sql"));
    if !export.exists() {
        eprintln!("skipping: no production export at {}", export.display());
        return;
    }
    let src = unique("bk_real");
    let Some(cfg) = create_db(&src) else { return };
    let out = stock_client(&src)
        .stdin(std::fs::File::open(&export).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let cancel = AtomicBool::new(false);
    let res = backup::backup(&cfg, dir.path(), &opts(2), &Progress::default(), &cancel).unwrap();
    assert!(res.manifest.tables.len() >= 5);
    assert!(res.manifest.tables.iter().all(|t| t.consistent));
    let expected = checksums(&cfg, &src);
    let inv = inventory(&cfg, &src);
    let ours = unique("bk_real_ours");
    restore_to(&cfg, &res.file_path, &ours, 2);
    assert_eq!(checksums(&mysql_cfg(&ours).unwrap(), &ours), expected);
    assert_eq!(inventory(&mysql_cfg(&ours).unwrap(), &ours), inv);
    let stock = unique("bk_real_stock");
    create_db(&stock);
    stock_restore(&res.file_path, &stock);
    assert_eq!(checksums(&mysql_cfg(&stock).unwrap(), &stock), expected);
    assert!(
        backup::verify(
            &cfg,
            &res.file_path,
            None,
            None,
            &Progress::default(),
            &cancel
        )
        .unwrap()
        .ok
    );
    for d in [&src, &ours, &stock] {
        drop_db(d);
    }
}

/// A throwaway server of this test's own (the shared one must survive), killed with SIGKILL
/// while the dump streams: a clear connection error, no file under a final name, no temp file.
#[test]
fn mysql_server_killed_mid_dump() {
    let _serial = serial();
    if mysql_settings("mysql").is_none() {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var("FORNERIA_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            let venv = root.join(".venv/bin/python");
            if venv.exists() {
                venv
            } else {
                PathBuf::from("python3")
            }
        });
    let tmp = tempfile::tempdir().unwrap();
    let envfile = tmp.path().join("env");
    let script = format!(
        "env > {0}.tmp && mv {0}.tmp {0} && exec sleep 600",
        envfile.display()
    );
    let mut harness = Command::new(&python)
        .arg(root.join("tests_py/support/mariadb.py"))
        .args(["run", "--no-binlog", "--", "sh", "-c", &script])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while !envfile.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "second server did not start"
        );
        assert!(
            harness.try_wait().unwrap().is_none(),
            "harness exited early"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let vars: BTreeMap<String, String> = std::fs::read_to_string(&envfile)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| k.starts_with("FORNERIA_TEST_MYSQL_"))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let socket = vars["FORNERIA_TEST_MYSQL_SOCKET"].clone();
    let pid = std::fs::read_to_string(Path::new(&socket).with_file_name("mysqld.pid")).unwrap();
    let settings = |db: &str| DjangoDatabase {
        engine: "django.db.backends.mysql".into(),
        name: db.into(),
        user: vars["FORNERIA_TEST_MYSQL_USER"].clone(),
        password: Secret::new(vars["FORNERIA_TEST_MYSQL_PASSWORD"].clone()),
        host: socket.clone(),
        port: String::new(),
        options: Default::default(),
    };
    let admin = DbConfig::from_django(&settings("mysql")).unwrap();
    run_sql(&admin, "CREATE DATABASE killme");
    let cfg = DbConfig::from_django(&settings("killme")).unwrap();
    run_sql(
        &cfg,
        "CREATE TABLE big (id INT PRIMARY KEY, r VARBINARY(2000)) ENGINE=InnoDB;
         INSERT INTO big SELECT seq, RANDOM_BYTES(1024) FROM seq_1_to_60000;",
    );
    let dir = tempfile::tempdir().unwrap();
    let progress = Progress::default();
    let cancel = AtomicBool::new(false);
    let done = AtomicBool::new(false);
    let err = std::thread::scope(|s| {
        s.spawn(|| {
            while progress.rows.load(Ordering::Relaxed) == 0 && !done.load(Ordering::SeqCst) {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            let _ = Command::new("kill").args(["-9", pid.trim()]).status();
        });
        let _done = SetOnDrop(&done);
        backup::backup(&cfg, dir.path(), &opts(2), &progress, &cancel)
    });
    let _ = Command::new("kill")
        .args(["-TERM", &harness.id().to_string()])
        .status();
    let _ = harness.wait();
    let err = err.expect_err("the dump must fail when the server dies");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    assert!(
        err.to_string().contains("reading table big") || err.to_string().contains("connection"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file, no temp file"
    );
}
