//! The read-only expiry scan behind the app's `api/proximos-vencimientos[-14|-30]` views: stock
//! on sale expiring within N days, as plain rows for [`crate::vencimientos::scan`].
//!
//! The reads: the ids of the active lots in the window (two index-only reads, intersected), those
//! lots and their products by primary key, and the products without any lot whose own date is in
//! the window. No lock, no write: views call it on page loads.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::config::DbConfig;
use crate::db::{self, Conn, Param};
use crate::error::{Error, Result};
use crate::jobs::verificar_vencimientos::{active_lot_ids, LOTS_BY_ID_SQL};
use crate::vencimientos::{self, Scan, ScanRow};

/// The widest window accepted, in days (the app's views use 7, 14 and 30).
pub const MAX_DAYS: i64 = 3660;

/// Ids per `IN (…)` list.
const ID_CHUNK: usize = 1000;

#[derive(Debug, Clone)]
pub struct Options {
    pub today: NaiveDate,
    /// Days ahead, both ends included (the app's `caducidad__range=(hoy, hoy + N)`).
    pub days: i64,
    /// Also list stock already past its date that no run has moved to waste yet.
    pub include_expired: bool,
}

/// Ids of the lots in the window, from the index on `fecha_caducidad` alone; intersected with the
/// active ones by [`active_lot_ids`] before any row is read. The lots' products are read apart,
/// by primary key: in a join, an optimizer with stale statistics may start from `productos` and
/// probe every product's lots (measured 10x slower on a freshly loaded MariaDB).
const WINDOW_LOT_IDS_SQL: &str = "SELECT `id` FROM `lotes` WHERE `fecha_caducidad` BETWEEN ? AND ?";

/// The products on sale among those lots' products (`… IN (ids)`).
const LOT_PRODUCTS_SQL: &str = "\
SELECT `id`, `nombre`, `precio_por_unidad_venta` FROM `productos` \
WHERE `eliminado` IS NULL AND `estado_merma` = 'activo' AND `id` IN";

/// Products without any lot whose own date is in the window.
const PRODUCTS_SQL: &str = "\
SELECT p.`id`, p.`nombre`, p.`caducidad`, p.`cantidad`, p.`precio_por_unidad_venta` \
FROM `productos` p WHERE p.`caducidad` BETWEEN ? AND ? AND p.`eliminado` IS NULL \
AND p.`estado_merma` = 'activo' AND p.`cantidad` > 0 \
AND NOT EXISTS (SELECT 1 FROM `lotes` x WHERE x.`productos_id` = p.`id`)";

/// The earliest date a DATE column holds; the lower bound when expired stock is included.
fn min_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(1000, 1, 1).expect("a valid date")
}

pub fn validate(opts: &Options) -> Result<()> {
    if !(0..=MAX_DAYS).contains(&opts.days) {
        return Err(Error::Config(format!(
            "dias must be between 0 and {MAX_DAYS}, not {}",
            opts.days
        )));
    }
    Ok(())
}

struct LotRow {
    id: i64,
    product_id: i64,
    number: Option<String>,
    expiry: NaiveDate,
    quantity: Decimal,
}

/// Reads and orders the stock expiring in the window.
///
/// On MySQL/MariaDB the products without lots (a scan of `productos`) are read at the same time
/// on a second pooled connection, in its own snapshot opened right after the first: the server
/// works on two cores and a call costs the longer read, not the sum. At worst a product that got
/// its first lot in between is missing from one page load. SQLite reads both in one transaction.
pub fn run(cfg: &DbConfig, opts: &Options) -> Result<Scan> {
    validate(opts)?;
    let (from, until) = vencimientos::scan_window(opts.today, opts.days, opts.include_expired);
    let window = [
        Param::Date(from.unwrap_or_else(min_date)),
        Param::Date(until),
    ];
    let mut conn = db::connect(cfg)?;
    let rows = if matches!(cfg, DbConfig::Mysql(_)) {
        let (lots, products) = std::thread::scope(|s| {
            let products = s.spawn(|| db::read_in_snapshot(cfg, |c| read_products(c, &window)));
            let lots = conn
                .transaction()
                .and_then(|mut tx| read_lots(&mut tx, &window));
            (lots, products.join())
        });
        let products = products
            .map_err(|_| Error::data("reading productos", "the reader thread panicked"))??;
        let mut rows = lots?;
        rows.extend(products);
        rows
    } else {
        let mut tx = conn.transaction()?;
        let mut rows = read_lots(&mut tx, &window)?;
        rows.extend(read_products(&mut tx, &window)?);
        tx.rollback()?;
        rows
    };
    Ok(vencimientos::scan(
        opts.today,
        opts.days,
        opts.include_expired,
        rows,
    ))
}

/// Active lots with stock in the window, with their product's name and price (products on sale).
fn read_lots(conn: &mut Conn, window: &[Param]) -> Result<Vec<ScanRow>> {
    let mut lots = Vec::new();
    for chunk in active_lot_ids(conn, WINDOW_LOT_IDS_SQL, window)?.chunks(ID_CHUNK) {
        let sql = format!("{LOTS_BY_ID_SQL} ({})", db::placeholders(chunk.len()));
        let params: Vec<Param> = chunk.iter().map(|&id| Param::Int(id)).collect();
        conn.query_each("reading lotes about to expire", &sql, &params, &mut |r| {
            if let (Some(id), Some(product_id), Some(expiry)) = (r.int(0)?, r.int(1)?, r.date(4)?) {
                lots.push(LotRow {
                    id,
                    product_id,
                    number: r.text(2)?,
                    expiry,
                    quantity: r.decimal(3)?.unwrap_or_default(),
                });
            }
            Ok(())
        })?;
    }

    let mut ids: Vec<i64> = lots.iter().map(|l| l.product_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut on_sale: HashMap<i64, (String, Decimal)> = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(ID_CHUNK) {
        let sql = format!("{LOT_PRODUCTS_SQL} ({})", db::placeholders(chunk.len()));
        let params: Vec<Param> = chunk.iter().map(|&id| Param::Int(id)).collect();
        conn.query_each(
            "reading productos of those lotes",
            &sql,
            &params,
            &mut |r| {
                if let Some(id) = r.int(0)? {
                    let name = r.text(1)?.unwrap_or_default();
                    on_sale.insert(id, (name, r.decimal(2)?.unwrap_or_default()));
                }
                Ok(())
            },
        )?;
    }
    Ok(lots
        .into_iter()
        .filter_map(|l| {
            let (name, price) = on_sale.get(&l.product_id)?;
            Some(ScanRow {
                product_id: l.product_id,
                name: name.clone(),
                lot_id: Some(l.id),
                lot_number: l.number,
                expiry: l.expiry,
                quantity: l.quantity,
                unit_price: *price,
            })
        })
        .collect())
}

/// Products without any lot whose own date is in the window.
fn read_products(conn: &mut Conn, window: &[Param]) -> Result<Vec<ScanRow>> {
    let mut rows = Vec::new();
    conn.query_each(
        "reading productos about to expire",
        PRODUCTS_SQL,
        window,
        &mut |r| {
            if let (Some(product_id), Some(expiry)) = (r.int(0)?, r.date(2)?) {
                rows.push(ScanRow {
                    product_id,
                    name: r.text(1)?.unwrap_or_default(),
                    lot_id: None,
                    lot_number: None,
                    expiry,
                    quantity: r.decimal(3)?.unwrap_or_default(),
                    unit_price: r.decimal(4)?.unwrap_or_default(),
                });
            }
            Ok(())
        },
    )?;
    Ok(rows)
}
