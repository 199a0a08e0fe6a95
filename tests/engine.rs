//! Engine tests against real databases: a SQLite file and the throwaway MariaDB server that
//! `tests_py/support/mariadb.py run -- cargo test` starts (its `FORNERIA_TEST_MYSQL_*`
//! variables). Without that server the MariaDB half is skipped with a message, unless
//! `FORNERIA_OPS_REQUIRE_DB=1` (CI), where a missing server fails the run.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use _core::config::{DbConfig, DjangoDatabase, Secret};
use _core::db::{self, Conn, Param};
use _core::jobs::generar_alertas::{self, Options};
use _core::{Error, ErrorKind};
use chrono::{NaiveDate, NaiveDateTime};

const SQLITE_SCHEMA: &str = include_str!("../demo/ventas/schema/sqlite.sql");
const MYSQL_SCHEMA: &str = include_str!("../demo/ventas/schema/mysql.sql");

static NEXT_DB: AtomicU32 = AtomicU32::new(0);

/// A fresh database with the shop's schema; the temp dir keeps a SQLite file alive.
struct Fresh {
    name: &'static str,
    cfg: DbConfig,
    _dir: Option<tempfile::TempDir>,
}

fn mysql_settings(database: &str) -> Option<DjangoDatabase> {
    let socket = std::env::var("FORNERIA_TEST_MYSQL_SOCKET").ok();
    if socket.is_none() {
        if std::env::var("FORNERIA_OPS_REQUIRE_DB").as_deref() == Ok("1") {
            panic!(
                "FORNERIA_OPS_REQUIRE_DB=1 but no throwaway MariaDB: run the tests through \
                 `python tests_py/support/mariadb.py run -- cargo test`"
            );
        }
        eprintln!("skipping the MariaDB half: FORNERIA_TEST_MYSQL_SOCKET is not set");
        return None;
    }
    Some(DjangoDatabase {
        engine: "django.db.backends.mysql".into(),
        name: database.into(),
        user: std::env::var("FORNERIA_TEST_MYSQL_USER").unwrap_or_default(),
        password: Secret::new(std::env::var("FORNERIA_TEST_MYSQL_PASSWORD").unwrap_or_default()),
        host: socket.unwrap_or_default(),
        port: String::new(),
        options: Default::default(),
    })
}

fn fresh_sqlite() -> Fresh {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.sqlite3");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(SQLITE_SCHEMA).unwrap();
    let cfg = DbConfig::from_django(&DjangoDatabase {
        engine: "django.db.backends.sqlite3".into(),
        name: path.display().to_string(),
        ..Default::default()
    })
    .unwrap();
    Fresh {
        name: "sqlite",
        cfg,
        _dir: Some(dir),
    }
}

fn fresh_mysql() -> Option<Fresh> {
    let name = format!(
        "engine_test_{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::SeqCst)
    );
    let admin = DbConfig::from_django(&mysql_settings("mysql")?).unwrap();
    let mut conn = db::connect(&admin).unwrap();
    conn.execute(
        "creating a test database",
        &format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_spanish_ci"),
        &[],
    )
    .unwrap();
    let cfg = DbConfig::from_django(&mysql_settings(&name)?).unwrap();
    let mut conn = db::connect(&cfg).unwrap();
    conn.execute("loading the schema", MYSQL_SCHEMA, &[])
        .unwrap();
    Some(Fresh {
        name: "mariadb",
        cfg,
        _dir: None,
    })
}

fn backends() -> Vec<Fresh> {
    let mut all = vec![fresh_sqlite()];
    all.extend(fresh_mysql());
    all
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn options(today: &str) -> Options {
    Options {
        today: day(today),
        now: NaiveDateTime::parse_from_str(&format!("{today} 09:00:00"), "%Y-%m-%d %H:%M:%S")
            .unwrap(),
        thresholds: Default::default(),
        invoice_states: vec!["pendiente".into(), "parcial".into()],
        dry_run: false,
        wait: Duration::from_secs(30),
        detail: true,
    }
}

/// A small shop: products at band edges relative to 2025-12-10, one with lots, one invoice.
fn seed(conn: &mut Conn) {
    let run = |conn: &mut Conn, sql: &str, params: Vec<Param>| {
        conn.execute("seeding", sql, &params).unwrap();
    };
    run(
        conn,
        "INSERT INTO categorias (id, nombre) VALUES (1, 'Panadería')",
        vec![],
    );
    run(conn, "INSERT INTO nutricional (id) VALUES (1)", vec![]);
    run(
        conn,
        "INSERT INTO proveedor (id, nombre) VALUES (1, 'Molino Ñuble')",
        vec![],
    );
    // (id, nombre, caducidad, cantidad, stock_minimo)
    type Row<'a> = (i64, &'a str, Option<&'a str>, &'a str, Option<i64>);
    let products: &[Row] = &[
        (1, "Marraqueta", Some("2025-12-09"), "12.000", Some(5)),
        (2, "Hallulla", Some("2025-12-23"), "12.000", Some(5)),
        (3, "Torta tres leches", Some("2025-12-24"), "5.000", None),
        (4, "Pan amasado", None, "8.500", Some(2)),
        (5, "Kuchen de nuez", Some("2026-03-01"), "20.000", Some(2)),
    ];
    for (id, name, expiry, qty, min) in products {
        run(
            conn,
            "INSERT INTO productos (id, nombre, precio, caducidad, cantidad, stock_minimo, \
             estado_merma, categorias_id, nutricional_id, precio_por_unidad_venta) \
             VALUES (?, ?, 1000, ?, ?, ?, 'activo', 1, 1, 1000)",
            vec![
                Param::Int(*id),
                (*name).into(),
                expiry.map(day).map_or(Param::Null, Param::Date),
                Param::Decimal(qty.parse().unwrap()),
                (*min).into(),
            ],
        );
    }
    // Kuchen: its earliest active lot in stock expires in 3 days, an empty one earlier.
    for (qty, expiry, estado) in [
        ("0", "2025-12-11", "agotado"),
        ("20", "2025-12-13", "activo"),
    ] {
        run(
            conn,
            "INSERT INTO lotes (productos_id, cantidad, cantidad_inicial, fecha_caducidad, \
             fecha_recepcion, origen, estado) VALUES (5, ?, 20, ?, '2025-12-01 08:00:00', \
             'compra', ?)",
            vec![
                Param::Decimal(qty.parse().unwrap()),
                Param::Date(day(expiry)),
                estado.into(),
            ],
        );
    }
    run(
        conn,
        "INSERT INTO factura_proveedor (id, numero_factura, fecha_factura, fecha_vencimiento, \
         total_con_iva, estado_pago, proveedor_id) VALUES (1, 'A-77', '2025-12-01', \
         '2025-12-17', 29750, 'pendiente', 1)",
        vec![],
    );
}

/// (tipo_alerta, mensaje, productos_id, factura_proveedor_id) of an active alert.
type AlertRow = (String, String, Option<i64>, Option<i64>);

fn active_alerts(cfg: &DbConfig) -> Vec<AlertRow> {
    let mut conn = db::connect(cfg).unwrap();
    let mut out = Vec::new();
    conn.query_each(
        "reading alerts",
        "SELECT tipo_alerta, mensaje, productos_id, factura_proveedor_id FROM alertas \
         WHERE estado = 'activa'",
        &[],
        &mut |r| {
            out.push((
                r.text(0)?.unwrap(),
                r.text(1)?.unwrap(),
                r.int(2)?,
                r.int(3)?,
            ));
            Ok(())
        },
    )
    .unwrap();
    out
}

#[test]
fn alerts_are_right_and_a_second_run_changes_nothing() {
    for b in backends() {
        seed(&mut db::connect(&b.cfg).unwrap());
        let first = generar_alertas::run(&b.cfg, &options("2025-12-10")).unwrap();
        assert_eq!(first.created, 6, "{}: {:?}", b.name, first.plan);
        let mut messages: Vec<_> = active_alerts(&b.cfg)
            .into_iter()
            .map(|(colour, msg, ..)| format!("{colour}: {msg}"))
            .collect();
        messages.sort();
        let mut expected = expected_messages();
        expected.sort();
        assert_eq!(messages, expected, "{}", b.name);
        assert_eq!(first.without_expiry.len(), 1, "{}", b.name);
        let second = generar_alertas::run(&b.cfg, &options("2025-12-10")).unwrap();
        assert_eq!(
            (
                second.created,
                second.updated,
                second.resolved,
                second.counts.total
            ),
            (0, 0, 0, 0),
            "{}",
            b.name
        );
        // Next day every expiry message changes and is updated in place.
        let next = generar_alertas::run(&b.cfg, &options("2025-12-11")).unwrap();
        assert_eq!((next.created, next.updated), (0, 5), "{}", b.name);
        assert_eq!(active_alerts(&b.cfg).len(), 6, "{}", b.name);
    }
}

fn expected_messages() -> Vec<String> {
    [
        "roja: Factura A-77 de Molino Ñuble vence en 7 días - $29750.00",
        "roja: Hallulla vence en 13 días - URGENTE",
        "roja: Kuchen de nuez vence en 3 días - URGENTE",
        "roja: Marraqueta YA VENCIÓ hace 1 días",
        "amarilla: Torta tres leches vence en 14 días - PRECAUCIÓN",
        "roja: Torta tres leches - STOCK BAJO: 5.000 unidades (mínimo: 5)",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn concurrent_runs_never_duplicate() {
    for b in backends() {
        seed(&mut db::connect(&b.cfg).unwrap());
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| generar_alertas::run(&b.cfg, &options("2025-12-10"))))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let created: u64 = results.iter().map(|r| r.as_ref().unwrap().created).sum();
        assert_eq!(created, 6, "{}: exactly one run creates", b.name);
        let mut per_key: HashMap<(Option<i64>, Option<i64>, bool), u32> = HashMap::new();
        for (_, msg, product, invoice) in active_alerts(&b.cfg) {
            *per_key
                .entry((product, invoice, msg.contains("STOCK BAJO")))
                .or_default() += 1;
        }
        assert!(per_key.values().all(|&n| n == 1), "{}: {per_key:?}", b.name);
    }
}

#[test]
fn a_held_lock_makes_a_second_caller_busy_and_changes_nothing() {
    for b in backends() {
        seed(&mut db::connect(&b.cfg).unwrap());
        let mut holder = db::connect(&b.cfg).unwrap();
        let tx = holder
            .locked_transaction(generar_alertas::JOB, Duration::ZERO)
            .unwrap();
        let mut opts = options("2025-12-10");
        opts.wait = Duration::from_millis(200);
        let err = generar_alertas::run(&b.cfg, &opts).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Busy, "{}: {err}", b.name);
        assert!(
            err.to_string().contains("another generar_alertas run"),
            "{err}"
        );
        drop(tx);
        assert!(active_alerts(&b.cfg).is_empty(), "{}", b.name);
        // Once released, the next caller gets in.
        assert_eq!(generar_alertas::run(&b.cfg, &opts).unwrap().created, 6);
    }
}

#[test]
fn dropping_a_transaction_rolls_back() {
    for b in backends() {
        seed(&mut db::connect(&b.cfg).unwrap());
        let mut conn = db::connect(&b.cfg).unwrap();
        {
            let mut tx = conn.locked_transaction("test", Duration::ZERO).unwrap();
            tx.execute("deleting", "DELETE FROM lotes", &[]).unwrap();
        }
        let mut n = 0;
        conn.query_each("counting", "SELECT COUNT(*) FROM lotes", &[], &mut |r| {
            n = r.int(0)?.unwrap();
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 2, "{}", b.name);
    }
}

#[test]
fn batches_larger_than_one_statement_round_trip() {
    for b in backends() {
        let mut conn = db::connect(&b.cfg).unwrap();
        let rows: Vec<Vec<Param>> = (0..2_345)
            .map(|i| {
                vec![
                    Param::from("verde"),
                    Param::from(format!("mensaje ñ {i} 'comillas' \\ barra")),
                    Param::Null,
                ]
            })
            .collect();
        let n = conn
            .insert_rows(
                "inserting",
                "alertas",
                &["tipo_alerta", "mensaje", "productos_id"],
                &rows,
            )
            .unwrap();
        assert_eq!(n, 2_345, "{}", b.name);
        let mut ids = Vec::new();
        conn.query_each("ids", "SELECT id FROM alertas ORDER BY id", &[], &mut |r| {
            ids.push(r.int(0)?.unwrap());
            Ok(())
        })
        .unwrap();
        let updates: Vec<Vec<Param>> = ids
            .iter()
            .take(1_234)
            .map(|&id| vec![Param::Int(id), "roja".into(), format!("nuevo {id}").into()])
            .collect();
        let changed = conn
            .update_rows(
                "updating",
                "alertas",
                "id",
                &["tipo_alerta", "mensaje"],
                &updates,
            )
            .unwrap();
        assert_eq!(changed, 1_234, "{}", b.name);
        let resolved = conn
            .execute_for_ids(
                "resolving",
                "UPDATE alertas SET estado = ? WHERE id IN",
                &["resuelta".into()],
                &ids[..1_500],
            )
            .unwrap();
        assert_eq!(resolved, 1_500, "{}", b.name);
        let mut seen = (0, String::new());
        conn.query_each(
            "checking",
            "SELECT COUNT(*), MAX(CASE WHEN id = ? THEN mensaje END) FROM alertas \
             WHERE tipo_alerta = 'roja' AND estado = 'resuelta'",
            &[Param::Int(ids[7])],
            &mut |r| {
                seen = (r.int(0)?.unwrap(), r.text(1)?.unwrap());
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, (1_234, format!("nuevo {}", ids[7])), "{}", b.name);
    }
}

#[test]
fn decimals_and_dates_read_exactly_from_both_stores() {
    for b in backends() {
        seed(&mut db::connect(&b.cfg).unwrap());
        let mut conn = db::connect(&b.cfg).unwrap();
        conn.execute(
            "updating",
            "UPDATE productos SET cantidad = ? WHERE id = 4",
            &[Param::Decimal("2.5".parse().unwrap())],
        )
        .unwrap();
        let mut got = None;
        conn.query_each(
            "reading",
            "SELECT cantidad, caducidad, creado FROM productos WHERE id = 4",
            &[],
            &mut |r| {
                got = Some((r.decimal(0)?.unwrap().to_string(), r.date(1)?));
                Ok(())
            },
        )
        .unwrap();
        let (qty, date) = got.unwrap();
        assert_eq!(
            _core::alertas::fixed(qty.parse().unwrap(), 3),
            "2.500",
            "{}",
            b.name
        );
        assert_eq!(date, None, "{}", b.name);
    }
}

#[test]
fn bad_settings_give_clear_errors_without_secrets() {
    let Some(mut wrong) = mysql_settings("mysql") else {
        return;
    };
    wrong.password = Secret::new("definitely-wrong-pw-4711");
    let err = db::connect(&DbConfig::from_django(&wrong).unwrap())
        .err()
        .expect("wrong password must fail");
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(!err.to_string().contains("4711"), "{err}");

    let unknown = mysql_settings("no_such_shop_db").unwrap();
    let err = db::connect(&DbConfig::from_django(&unknown).unwrap())
        .err()
        .expect("unknown database must fail");
    assert!(matches!(err, Error::UnknownDatabase { .. }), "{err}");

    // A database without the shop's tables: a schema error naming the missing table.
    let b = fresh_mysql().unwrap();
    let mut conn = db::connect(&b.cfg).unwrap();
    conn.execute(
        "dropping",
        "DROP TABLE movimientos_inventario, historial_merma, alertas",
        &[],
    )
    .unwrap();
    let err = generar_alertas::run(&b.cfg, &options("2025-12-10")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Schema, "{err}");
    assert!(err.to_string().contains("alertas"), "{err}");
}

#[test]
fn missing_sqlite_file_is_a_connect_error_and_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.sqlite3");
    let cfg = DbConfig::from_django(&DjangoDatabase {
        engine: "django.db.backends.sqlite3".into(),
        name: path.display().to_string(),
        ..Default::default()
    })
    .unwrap();
    let err = generar_alertas::run(&cfg, &options("2025-12-10")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    assert!(!path.exists());
}

#[test]
fn pooled_mysql_connections_come_back_clean() {
    let Some(b) = fresh_mysql() else {
        return;
    };
    let read_one = |conn: &mut Conn, sql: &str| {
        let mut v = None;
        conn.query_each("reading", sql, &[], &mut |r| {
            v = r.int(0)?;
            Ok(())
        })
        .unwrap();
        v
    };
    let mut first = db::connect(&b.cfg).unwrap();
    let id = read_one(&mut first, "SELECT CONNECTION_ID()");
    first
        .execute("session", "SET @left_behind = 1", &[])
        .unwrap();
    assert_eq!(
        read_one(&mut first, "SELECT GET_LOCK('engine_test_lock', 0)"),
        Some(1)
    );
    drop(first);
    let mut second = db::connect(&b.cfg).unwrap();
    // The same server session is reused, with nothing of the first user's state.
    assert_eq!(read_one(&mut second, "SELECT CONNECTION_ID()"), id);
    assert_eq!(read_one(&mut second, "SELECT @left_behind"), None);
    assert_eq!(
        read_one(&mut second, "SELECT IS_USED_LOCK('engine_test_lock')"),
        None
    );
}

/// Regression: `MysqlConn::discard` used to take the connection out of the pool without
/// uncounting it, so after `POOL_MAX` (16) discards in one process — one per backup reader —
/// every later `connect` waited forever. Discarding many more times than that must go on working.
#[test]
fn discarded_connections_free_their_pool_slot() {
    let Some(settings) = mysql_settings("mysql") else {
        return;
    };
    let cfg = DbConfig::from_django(&settings).unwrap();
    let DbConfig::Mysql(m) = &cfg else {
        panic!("expected a MySQL config")
    };
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let m = m.clone();
    std::thread::spawn(move || {
        for _ in 0..40 {
            db::MysqlConn::connect(&m).unwrap().discard();
        }
        done_tx.send(()).unwrap();
    });
    done_rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("connect blocked after discarding connections: pool slots leaked");
    // And the pool still hands out working connections.
    let mut conn = db::connect(&cfg).unwrap();
    conn.execute("a query after the discards", "SELECT 1", &[])
        .unwrap();
}
