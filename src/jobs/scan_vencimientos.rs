//! The read-only expiry scan behind the app's `api/proximos-vencimientos[-14|-30]` views: stock
//! on sale expiring within N days, as plain rows for [`crate::vencimientos::scan`].
//!
//! Two indexed reads in one read transaction (one snapshot): active lots with stock in the window
//! (index on `fecha_caducidad`, each joined to its product by primary key), and products without
//! any lot whose own date is in the window. No lock, no write: views call it on page loads.

use chrono::NaiveDate;

use crate::config::DbConfig;
use crate::db::{self, Param};
use crate::error::{Error, Result};
use crate::vencimientos::{self, Scan, ScanRow};

/// The widest window accepted, in days (the app's views use 7, 14 and 30).
pub const MAX_DAYS: i64 = 3660;

#[derive(Debug, Clone)]
pub struct Options {
    pub today: NaiveDate,
    /// Days ahead, both ends included (the app's `caducidad__range=(hoy, hoy + N)`).
    pub days: i64,
    /// Also list stock already past its date that no run has moved to waste yet.
    pub include_expired: bool,
}

const LOTS_SQL: &str = "\
SELECT p.`id`, p.`nombre`, l.`id`, l.`numero_lote`, l.`fecha_caducidad`, l.`cantidad`, \
p.`precio_por_unidad_venta` FROM `lotes` l JOIN `productos` p ON p.`id` = l.`productos_id` \
WHERE l.`fecha_caducidad` BETWEEN ? AND ? AND l.`estado` = 'activo' AND l.`cantidad` > 0 \
AND p.`eliminado` IS NULL AND p.`estado_merma` = 'activo'";

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

/// Reads and orders the stock expiring in the window.
pub fn run(cfg: &DbConfig, opts: &Options) -> Result<Scan> {
    validate(opts)?;
    let (from, until) = vencimientos::scan_window(opts.today, opts.days, opts.include_expired);
    let window = [
        Param::Date(from.unwrap_or_else(min_date)),
        Param::Date(until),
    ];
    let mut conn = db::connect(cfg)?;
    let mut tx = conn.transaction()?;
    let mut rows = Vec::new();
    tx.query_each(
        "reading lotes about to expire",
        LOTS_SQL,
        &window,
        &mut |r| {
            if let (Some(product_id), Some(expiry)) = (r.int(0)?, r.date(4)?) {
                rows.push(ScanRow {
                    product_id,
                    name: r.text(1)?.unwrap_or_default(),
                    lot_id: r.int(2)?,
                    lot_number: r.text(3)?,
                    expiry,
                    quantity: r.decimal(5)?.unwrap_or_default(),
                    unit_price: r.decimal(6)?.unwrap_or_default(),
                });
            }
            Ok(())
        },
    )?;
    tx.query_each(
        "reading productos about to expire",
        PRODUCTS_SQL,
        &window,
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
    tx.rollback()?;
    Ok(vencimientos::scan(
        opts.today,
        opts.days,
        opts.include_expired,
        rows,
    ))
}
