//! The `verificar_vencimientos` job against a real database: a few set-wise reads, the pure rules
//! of [`crate::vencimientos`], and batched writes — all in one transaction under the job's lock.
//!
//! Reads (inside the transaction, after the lock): the expired `activo` lots with stock (index on
//! `fecha_caducidad`); the products on sale that are candidates — those with such a lot and those
//! whose own `caducidad` passed, with whether they have lots at all; the later lots with stock of
//! the products that lost lots (they decide whether the product keeps stock and its next date);
//! the open alerts of products.
//!
//! Concurrency. Two runs on one database serialise on the lock (`GET_LOCK` on MySQL/MariaDB,
//! `BEGIN IMMEDIATE` on SQLite); the snapshot starts after the lock, so a run that waited sees
//! the other's result and has nothing left to do. The shop's own writes (a sale at the till)
//! do not take that lock: on MySQL/MariaDB the rows about to change are read again with
//! `SELECT … FOR UPDATE` (by primary key, so only those rows are locked) and compared with the
//! snapshot; if a sale changed one in between, the run rolls back and starts over once with a
//! fresh snapshot, and fails with nothing written if it happens again. On SQLite the write lock
//! taken by `BEGIN IMMEDIATE` already keeps every other writer out for the whole run.
//!
//! Writes: lots → `vencido` with `cantidad` 0; products → new stock and date, or moved to waste;
//! one `historial_merma` row and one `movimientos_inventario` `salida` (origen `merma`) per
//! wasted lot (`tipo_referencia` `lote`, `referencia_id` the lot) and per wasted product without
//! lots (`tipo_referencia` `producto`, `referencia_id` the product); alerts → `resuelta`. Every
//! value is computed here in exact decimals and written as a value, never as SQL arithmetic
//! (SQLite would do that arithmetic in floating point).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::alertas::{ExistingAlert, State};
use crate::config::DbConfig;
use crate::db::{self, Conn, Param, Vendor};
use crate::error::{Error, Result};
use crate::vencimientos::{self, Lot, Plan, Product, Totals};

pub const JOB: &str = "verificar_vencimientos";

/// How many times a run starts over after a sale changed its rows mid-run.
const RETRIES: u32 = 1;
/// Ids per `IN (…)` list in reads.
const ID_CHUNK: usize = 1000;

#[derive(Debug, Clone)]
pub struct Options {
    /// "Today" in the shop's time zone: lots dated before it are expired.
    pub today: NaiveDate,
    /// The value written to `fecha_merma`, `fecha`, `creado` and `modificado`, already in the
    /// database's representation (what Django would store).
    pub now: NaiveDateTime,
    pub dry_run: bool,
    /// How long to wait for another run's lock.
    pub wait: Duration,
    /// Keep every lot, product and alert in the report (`--dry-run`, `-v 2`, `--json`).
    pub detail: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    pub lock_ms: f64,
    pub read_ms: f64,
    pub plan_ms: f64,
    /// Re-reading the rows to change under lock (MySQL/MariaDB).
    pub verify_ms: f64,
    pub write_ms: f64,
    pub commit_ms: f64,
    pub total_ms: f64,
}

/// What a run did (or, dry, would do).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub database: String,
    pub vendor: &'static str,
    pub today: NaiveDate,
    pub dry_run: bool,
    /// Rows read: expired lots, candidate products, later lots, open product alerts.
    pub expired_lots_read: u64,
    pub products_read: u64,
    pub later_lots_read: u64,
    pub alerts_read: u64,
    #[serde(flatten)]
    pub totals: Totals,
    /// Times the run started over because a sale changed its rows meanwhile.
    pub retries: u32,
    /// Every change, when `Options::detail` asked for it.
    pub plan: Option<Plan>,
    pub timings: Timings,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Inputs {
    products: Vec<Product>,
    lots: Vec<Lot>,
    alerts: Vec<ExistingAlert>,
    expired_lots: u64,
    later_lots: u64,
}

/// Connects, plans and applies one run.
pub fn run(cfg: &DbConfig, opts: &Options) -> Result<Report> {
    let started = Instant::now();
    let mut conn = db::connect(cfg)?;
    let mut timings = Timings::default();
    let mut retries = 0;
    let (plan, read) = loop {
        if opts.dry_run {
            let mut tx = conn.transaction()?;
            let t = Instant::now();
            let read = read_inputs(cfg, &mut tx, opts.today)?;
            timings.read_ms = ms(t.elapsed());
            let t = Instant::now();
            let plan = vencimientos::plan(opts.today, &read.products, &read.lots, &read.alerts);
            timings.plan_ms = ms(t.elapsed());
            tx.rollback()?;
            break (plan, read);
        }
        let t = Instant::now();
        let mut tx = conn.locked_transaction(JOB, opts.wait)?;
        timings.lock_ms += ms(t.elapsed());
        let t = Instant::now();
        let read = read_inputs(cfg, &mut tx, opts.today)?;
        timings.read_ms += ms(t.elapsed());
        let t = Instant::now();
        let plan = vencimientos::plan(opts.today, &read.products, &read.lots, &read.alerts);
        timings.plan_ms += ms(t.elapsed());
        let t = Instant::now();
        let changed = changed_meanwhile(&mut tx, &plan)?;
        timings.verify_ms += ms(t.elapsed());
        if changed.is_empty() {
            let t = Instant::now();
            apply(&mut tx, &plan, opts.now)?;
            timings.write_ms += ms(t.elapsed());
            let t = Instant::now();
            tx.commit()?;
            timings.commit_ms += ms(t.elapsed());
            break (plan, read);
        }
        tx.rollback()?;
        if retries >= RETRIES {
            return Err(Error::Database {
                context: "moving expired stock to waste".into(),
                message: format!(
                    "{} changed while the run was writing (sales at the same time?); nothing \
                     was written, run it again",
                    changed.join(", ")
                ),
                code: None,
                sqlstate: None,
            });
        }
        log::info!(
            "verificar_vencimientos: {} changed meanwhile; starting over",
            changed.join(", ")
        );
        retries += 1;
    };
    timings.total_ms = ms(started.elapsed());
    log::info!(
        "verificar_vencimientos on {}: {} lots expired, {} products kept stock, {} moved to \
         waste, {} alerts resolved, value {}{} in {:.0} ms",
        conn.database(),
        plan.totals.lots_expired,
        plan.totals.products_updated,
        plan.totals.products_wasted,
        plan.totals.alerts_resolved,
        vencimientos::money_text(plan.totals.value),
        if opts.dry_run { " (dry run)" } else { "" },
        timings.total_ms
    );
    Ok(Report {
        database: conn.database().to_owned(),
        vendor: conn.vendor().as_str(),
        today: opts.today,
        dry_run: opts.dry_run,
        expired_lots_read: read.expired_lots,
        products_read: read.products.len() as u64,
        later_lots_read: read.later_lots,
        alerts_read: read.alerts.len() as u64,
        totals: plan.totals.clone(),
        retries,
        plan: opts.detail.then_some(plan),
        timings,
    })
}

/// Ids of lots dated before today, and ids of `activo` lots: each read from its own index alone
/// (`idx_fecha_caducidad`, `idx_estado`: the id is in every secondary index), in index order.
const PAST_LOT_IDS_SQL: &str = "SELECT `id` FROM `lotes` WHERE `fecha_caducidad` < ?";
const ACTIVE_LOT_IDS_SQL: &str = "SELECT `id` FROM `lotes` WHERE `estado` = 'activo'";

/// The lots with stock among ids found by [`active_lot_ids`] in the same snapshot (`… IN (ids)`).
/// Only the primary key can serve it: no condition on an indexed column is repeated, so an
/// optimizer with stale statistics cannot prefer a range on another index over the id list.
pub(crate) const LOTS_BY_ID_SQL: &str = "\
SELECT `id`, `productos_id`, `numero_lote`, `cantidad`, `fecha_caducidad` FROM `lotes` \
WHERE `cantidad` > 0 AND `id` IN";

/// Columns of a candidate product; the last says whether it has any lot at all.
const PRODUCT_COLUMNS: &str = "\
SELECT p.`id`, p.`nombre`, p.`caducidad`, p.`cantidad`, p.`precio_por_unidad_venta`, \
EXISTS (SELECT 1 FROM `lotes` x WHERE x.`productos_id` = p.`id`) FROM `productos` p \
WHERE p.`eliminado` IS NULL AND p.`estado_merma` = 'activo'";

const OPEN_PRODUCT_ALERTS_SQL: &str = "\
SELECT `id`, `tipo_alerta`, `mensaje`, `estado`, `productos_id` FROM `alertas` \
WHERE `estado` IN ('activa', 'ignorada') AND `productos_id` IS NOT NULL";

fn read_product(r: &dyn db::RowRef) -> Result<Product> {
    Ok(Product {
        id: r.int(0)?.unwrap_or_default(),
        name: r.text(1)?.unwrap_or_default(),
        expiry: r.date(2)?,
        quantity: r.decimal(3)?.unwrap_or_default(),
        unit_price: r.decimal(4)?.unwrap_or_default(),
        has_lots: r.int(5)?.unwrap_or_default() != 0,
    })
}

fn read_lot(r: &dyn db::RowRef) -> Result<Option<Lot>> {
    let (Some(id), Some(product_id), Some(expiry)) = (r.int(0)?, r.int(1)?, r.date(4)?) else {
        return Ok(None);
    };
    Ok(Some(Lot {
        id,
        product_id,
        number: r.text(2)?,
        quantity: r.decimal(3)?.unwrap_or_default(),
        expiry,
    }))
}

/// Ids of the `activo` lots among those `ids_sql` selects from the date index, ascending.
///
/// Not one `WHERE <date range> AND estado = 'activo'` query: either index leaves a primary key
/// lookup for every lot in its range — every lot in the date range, or every active one — only
/// to test the other column (0.4-0.8 s for the expired lots of 2,000,000 on MariaDB). Both id
/// lists are read from their indexes alone (the id is in every secondary index), intersected
/// here, and the caller fetches only the lots in both by primary key (about 0.2 s).
pub(crate) fn active_lot_ids(conn: &mut Conn, ids_sql: &str, params: &[Param]) -> Result<Vec<i64>> {
    let mut dated = Vec::new();
    conn.query_each("reading ids of lotes by date", ids_sql, params, &mut |r| {
        dated.extend(r.int(0)?);
        Ok(())
    })?;
    dated.sort_unstable();
    let mut both = Vec::new();
    if !dated.is_empty() {
        conn.query_each(
            "reading ids of active lotes",
            ACTIVE_LOT_IDS_SQL,
            &[],
            &mut |r| {
                if let Some(id) = r.int(0)? {
                    if dated.binary_search(&id).is_ok() {
                        both.push(id);
                    }
                }
                Ok(())
            },
        )?;
    }
    both.sort_unstable();
    Ok(both)
}

/// Expired `activo` lots with stock ([`active_lot_ids`], then by primary key).
fn read_expired_lots(conn: &mut Conn, today: NaiveDate) -> Result<Vec<Lot>> {
    let both = active_lot_ids(conn, PAST_LOT_IDS_SQL, &[Param::Date(today)])?;
    let mut lots = Vec::with_capacity(both.len());
    for chunk in both.chunks(ID_CHUNK) {
        let sql = format!("{LOTS_BY_ID_SQL} ({})", db::placeholders(chunk.len()));
        let params: Vec<Param> = chunk.iter().map(|&id| Param::Int(id)).collect();
        conn.query_each("reading expired lotes", &sql, &params, &mut |r| {
            lots.extend(read_lot(r)?);
            Ok(())
        })?;
    }
    Ok(lots)
}

/// Products on sale whose own date passed, and the open alerts of products.
fn read_expired_products(
    conn: &mut Conn,
    today: NaiveDate,
) -> Result<(Vec<Product>, Vec<ExistingAlert>)> {
    let mut products = Vec::new();
    conn.query_each(
        "reading expired productos",
        &format!("{PRODUCT_COLUMNS} AND p.`caducidad` < ?"),
        &[Param::Date(today)],
        &mut |r| {
            products.push(read_product(r)?);
            Ok(())
        },
    )?;
    let mut alerts = Vec::new();
    conn.query_each("reading alertas", OPEN_PRODUCT_ALERTS_SQL, &[], &mut |r| {
        let Some(product_id) = r.int(4)? else {
            return Ok(());
        };
        alerts.push(ExistingAlert {
            id: r.int(0)?.unwrap_or_default(),
            colour: r.text(1)?.unwrap_or_default(),
            message: r.text(2)?.unwrap_or_default(),
            state: match r.text(3)?.as_deref() {
                Some("ignorada") => State::Ignorada,
                _ => State::Activa,
            },
            product_id: Some(product_id),
            invoice_id: None,
        });
        Ok(())
    })?;
    Ok((products, alerts))
}

/// Reads the run's inputs.
///
/// On MySQL/MariaDB the two large reads — the expired lots, and the products past their date
/// with the open alerts — run at the same time, the second on another pooled connection in a
/// consistent snapshot opened right after the run's (under the run's lock, so no other run
/// writes in between). The rows the run will change are read again under lock before writing
/// ([`changed_meanwhile`]), so a sale committed between the two snapshots cannot be overwritten.
/// The follow-up reads (products of expired lots not read yet, later lots) use the run's own
/// transaction. SQLite reads everything in its one transaction.
fn read_inputs(cfg: &DbConfig, conn: &mut Conn, today: NaiveDate) -> Result<Inputs> {
    let (lots, (mut products, all_alerts)) = if matches!(cfg, DbConfig::Mysql(_)) {
        let (lots, rest) = std::thread::scope(|s| {
            let rest = s.spawn(|| db::read_in_snapshot(cfg, |c| read_expired_products(c, today)));
            let lots = read_expired_lots(conn, today);
            (lots, rest.join())
        });
        let rest =
            rest.map_err(|_| Error::data("reading productos", "the reader thread panicked"))?;
        (lots?, rest?)
    } else {
        (
            read_expired_lots(conn, today)?,
            read_expired_products(conn, today)?,
        )
    };
    let expired_lots = lots.len() as u64;
    let mut lots = lots;

    // Products with an expired lot that the first read did not return (their own date is good).
    let known: HashSet<i64> = products.iter().map(|p| p.id).collect();
    let mut with_lots: Vec<i64> = lots
        .iter()
        .map(|l| l.product_id)
        .filter(|id| !known.contains(id))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    with_lots.sort_unstable();
    for chunk in with_lots.chunks(ID_CHUNK) {
        let sql = format!(
            "{PRODUCT_COLUMNS} AND p.`id` IN ({})",
            db::placeholders(chunk.len())
        );
        let params: Vec<Param> = chunk.iter().map(|&id| Param::Int(id)).collect();
        conn.query_each(
            "reading productos with expired lots",
            &sql,
            &params,
            &mut |r| {
                products.push(read_product(r)?);
                Ok(())
            },
        )?;
    }

    // The later lots with stock of products that lost lots: FEFO and "keeps stock".
    let on_sale: HashSet<i64> = products.iter().map(|p| p.id).collect();
    let mut losing: Vec<i64> = lots
        .iter()
        .map(|l| l.product_id)
        .filter(|id| on_sale.contains(id))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    losing.sort_unstable();
    let mut later_lots = 0u64;
    for chunk in losing.chunks(ID_CHUNK) {
        let sql = format!(
            "SELECT `id`, `productos_id`, `numero_lote`, `cantidad`, `fecha_caducidad` \
             FROM `lotes` WHERE `productos_id` IN ({}) AND `estado` = 'activo' \
             AND `cantidad` > 0 AND `fecha_caducidad` >= ?",
            db::placeholders(chunk.len())
        );
        let mut params: Vec<Param> = chunk.iter().map(|&id| Param::Int(id)).collect();
        params.push(Param::Date(today));
        conn.query_each("reading later lotes", &sql, &params, &mut |r| {
            if let Some(lot) = read_lot(r)? {
                later_lots += 1;
                lots.push(lot);
            }
            Ok(())
        })?;
    }

    let alerts = all_alerts
        .into_iter()
        .filter(|a| a.product_id.is_some_and(|id| on_sale.contains(&id)))
        .collect();
    Ok(Inputs {
        products,
        lots,
        alerts,
        expired_lots,
        later_lots,
    })
}

/// MySQL/MariaDB: lock the rows about to change (by primary key) and compare their current
/// values with the snapshot the plan came from. Returns what changed ("lote 7", "producto 3").
/// SQLite: nothing can have changed under `BEGIN IMMEDIATE`.
fn changed_meanwhile(conn: &mut Conn, plan: &Plan) -> Result<Vec<String>> {
    if conn.vendor() == Vendor::Sqlite || plan.is_empty() {
        return Ok(Vec::new());
    }
    let mut changed = Vec::new();
    let lots: HashMap<i64, Decimal> = plan.lots.iter().map(|l| (l.lot_id, l.quantity)).collect();
    let ids: Vec<i64> = plan.lots.iter().map(|l| l.lot_id).collect();
    let mut found = HashSet::new();
    for chunk in ids.chunks(ID_CHUNK) {
        let sql = format!(
            "SELECT `id`, `estado`, `cantidad` FROM `lotes` WHERE `id` IN ({}) FOR UPDATE",
            db::placeholders(chunk.len())
        );
        let params: Vec<Param> = chunk.iter().map(|&id| Param::Int(id)).collect();
        conn.query_each("locking expired lotes", &sql, &params, &mut |r| {
            let id = r.int(0)?.unwrap_or_default();
            found.insert(id);
            let same = r.text(1)?.as_deref() == Some("activo")
                && r.decimal(2)?.unwrap_or_default() == lots[&id];
            if !same {
                changed.push(format!("lote {id}"));
            }
            Ok(())
        })?;
    }
    changed.extend(
        ids.iter()
            .filter(|id| !found.contains(id))
            .map(|id| format!("lote {id}")),
    );

    let products: HashMap<i64, Decimal> = plan
        .products
        .iter()
        .map(|c| (c.product_id, c.quantity_before))
        .collect();
    let ids: Vec<i64> = plan.products.iter().map(|c| c.product_id).collect();
    let mut found = HashSet::new();
    for chunk in ids.chunks(ID_CHUNK) {
        let sql = format!(
            "SELECT `id`, `cantidad`, `estado_merma`, `eliminado` IS NULL FROM `productos` \
             WHERE `id` IN ({}) FOR UPDATE",
            db::placeholders(chunk.len())
        );
        let params: Vec<Param> = chunk.iter().map(|&id| Param::Int(id)).collect();
        conn.query_each("locking productos", &sql, &params, &mut |r| {
            let id = r.int(0)?.unwrap_or_default();
            found.insert(id);
            let same = r.decimal(1)?.unwrap_or_default() == products[&id]
                && r.text(2)?.as_deref() == Some("activo")
                && r.int(3)? == Some(1);
            if !same {
                changed.push(format!("producto {id}"));
            }
            Ok(())
        })?;
    }
    changed.extend(
        ids.iter()
            .filter(|id| !found.contains(id))
            .map(|id| format!("producto {id}")),
    );
    Ok(changed)
}

fn apply(conn: &mut Conn, plan: &Plan, now: NaiveDateTime) -> Result<()> {
    if plan.is_empty() {
        return Ok(());
    }
    // Every expired lot gets the same values: one `UPDATE … WHERE id IN (…)` per thousand lots.
    let lot_ids: Vec<i64> = plan.lots.iter().map(|l| l.lot_id).collect();
    conn.execute_for_ids(
        "moving expired lotes to vencido",
        "UPDATE `lotes` SET `estado` = 'vencido', `cantidad` = 0, `modificado` = ? WHERE `id` IN",
        &[Param::DateTime(now)],
        &lot_ids,
    )?;

    let (wasted, kept): (Vec<_>, Vec<_>) = plan.products.iter().partition(|c| c.goes_to_waste());
    let kept_rows: Vec<Vec<Param>> = kept
        .iter()
        .map(|c| {
            vec![
                Param::Int(c.product_id),
                Param::Decimal(c.quantity_after),
                c.expiry_after.map_or(Param::Null, Param::Date),
                Param::DateTime(now),
            ]
        })
        .collect();
    conn.update_rows(
        "lowering the stock of productos with expired lotes",
        "productos",
        "id",
        &["cantidad", "caducidad", "modificado"],
        &kept_rows,
    )?;
    let wasted_rows: Vec<Vec<Param>> = wasted
        .iter()
        .map(|c| {
            vec![
                Param::Int(c.product_id),
                Param::Decimal(Decimal::ZERO),
                Param::Null,
                Param::Null,
                Param::Text("en_merma".into()),
                Param::Text(c.reason.clone().unwrap_or_default()),
                Param::DateTime(now),
                Param::Int(c.whole_units),
                Param::DateTime(now),
            ]
        })
        .collect();
    conn.update_rows(
        "moving expired productos to waste",
        "productos",
        "id",
        &[
            "cantidad",
            "caducidad",
            "elaboracion",
            "estado_merma",
            "motivo_merma",
            "fecha_merma",
            "cantidad_merma",
            "modificado",
        ],
        &wasted_rows,
    )?;

    // One history row and one movement per wasted lot and per wasted product without lots.
    let mut history = Vec::with_capacity(plan.totals.history_rows as usize);
    let mut movements = Vec::with_capacity(plan.totals.movements as usize);
    for l in &plan.lots {
        history.push(history_row(l.product_id, l.quantity, &l.reason, now));
        movements.push(movement_row(
            l.product_id,
            l.movement_units,
            l.lot_id,
            "lote",
            now,
        ));
    }
    for c in wasted
        .iter()
        .filter(|c| c.outcome == vencimientos::Outcome::WastedWithoutLots)
    {
        let reason = c.reason.as_deref().unwrap_or_default();
        history.push(history_row(c.product_id, c.wasted, reason, now));
        movements.push(movement_row(
            c.product_id,
            c.whole_units,
            c.product_id,
            "producto",
            now,
        ));
    }
    conn.insert_rows(
        "writing historial_merma",
        "historial_merma",
        &[
            "producto_id",
            "cantidad_merma",
            "motivo_merma",
            "fecha_merma",
            "activo",
            "creado",
            "modificado",
        ],
        &history,
    )?;
    conn.insert_rows(
        "writing movimientos_inventario",
        "movimientos_inventario",
        &[
            "tipo_movimiento",
            "cantidad",
            "fecha",
            "productos_id",
            "origen",
            "referencia_id",
            "tipo_referencia",
        ],
        &movements,
    )?;

    let resolved: Vec<i64> = plan.resolve.iter().map(|r| r.id).collect();
    conn.execute_for_ids(
        "resolving alerts of wasted stock",
        "UPDATE `alertas` SET `estado` = 'resuelta' WHERE `id` IN",
        &[],
        &resolved,
    )?;
    Ok(())
}

fn history_row(product: i64, qty: Decimal, reason: &str, now: NaiveDateTime) -> Vec<Param> {
    vec![
        Param::Int(product),
        Param::Decimal(qty),
        Param::Text(reason.to_owned()),
        Param::DateTime(now),
        Param::Int(1),
        Param::DateTime(now),
        Param::DateTime(now),
    ]
}

fn movement_row(
    product: i64,
    units: i64,
    reference: i64,
    kind: &str,
    now: NaiveDateTime,
) -> Vec<Param> {
    vec![
        Param::Text("salida".into()),
        Param::Int(units),
        Param::DateTime(now),
        Param::Int(product),
        Param::Text("merma".into()),
        Param::Int(reference),
        Param::Text(kind.into()),
    ]
}
