//! Expiry rules: which stock went past its date today, what moving it to waste writes, and what
//! is about to expire. Pure functions over plain rows and a date — no I/O.
//!
//! Stock, as the shop keeps it (DOMAIN.md): a product *with lots* holds the sum of its `activo`
//! lots; a product *without lots* (no row in `lotes` at all) holds `productos.cantidad`. Only
//! products on sale are touched: `eliminado IS NULL` and `estado_merma = 'activo'`; deleted,
//! inactive and already wasted products, and their lots, are left as they are.
//!
//! The rules ([`plan`]):
//!
//! * **Expired lot**: `estado = 'activo'`, `cantidad > 0`, `fecha_caducidad` before today (a lot
//!   that expires today is still good today). Its whole quantity goes to waste: one history row
//!   and one `salida` movement per lot; the lot becomes `vencido` with `cantidad` 0; the
//!   product's `cantidad` is lowered by the same amount (never below 0).
//! * A product that **keeps stock** in later lots takes the earliest of them as its `caducidad`
//!   (FEFO), as the app does after every stock change, so its own date no longer says "expired".
//! * A product **left with no stock** (every active lot with stock expired) is moved to waste the
//!   app's way: `estado_merma = 'en_merma'`, `cantidad` 0, `caducidad` and `elaboracion` NULL,
//!   `motivo_merma` naming the lots, `cantidad_merma` = the quantity wasted (whole units). Its
//!   waste is already in the lots' history rows, so it gets no row of its own (no double count).
//! * A product **without lots** whose `caducidad` is before today and that has stock is moved to
//!   waste the same way, with one history row and one movement for its `cantidad`.
//! * Nothing is wasted where there is nothing to waste: lots and products with zero stock are left
//!   alone, and so is a product with lots whose own date passed while its lots are still good.
//! * Value lost = quantity × `precio_por_unidad_venta`, in exact decimals (DECIMAL(10,3) ×
//!   DECIMAL(10,2) has at most five decimals; nothing is rounded).
//! * Alerts: the expiry alerts (`activa` or `ignorada`) of every product that lost a lot or went
//!   to waste are resolved — the next `generar_alertas` run writes the next lot's one — and so
//!   are the low-stock alerts of products that went to waste entirely (they are off the shelf).
//!   Alerts are recognised with [`crate::alertas::classify`]; hand-written ones are never touched.
//!
//! `movimientos_inventario.cantidad` and `productos.cantidad_merma` are INT columns: they get the
//! wasted quantity rounded to whole units (half away from zero) and at least 1, so a fraction of
//! a kilogram still leaves a movement; the exact quantity is in `historial_merma.cantidad_merma`
//! (DECIMAL(10,3)), the record of waste ([`whole_units`]).
//!
//! Running the rules again on their own result plans nothing: wasted lots are no longer
//! `activo`, wasted products no longer `activo`, and products that kept stock carry a date that
//! is not before today.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Serialize, Serializer};

use crate::alertas::{self, ExistingAlert, Kind};

/// A product on sale (`eliminado IS NULL`, `estado_merma = 'activo'`).
#[derive(Debug, Clone)]
pub struct Product {
    pub id: i64,
    pub name: String,
    /// `productos.caducidad`.
    pub expiry: Option<NaiveDate>,
    /// `productos.cantidad`.
    pub quantity: Decimal,
    /// `productos.precio_por_unidad_venta`.
    pub unit_price: Decimal,
    /// Whether the product has any row in `lotes` (whatever its state): then its stock is its lots.
    pub has_lots: bool,
}

/// An `activo` lot with stock (`cantidad > 0`).
#[derive(Debug, Clone)]
pub struct Lot {
    pub id: i64,
    pub product_id: i64,
    /// `lotes.numero_lote` (NULL for manual adjustments in the app).
    pub number: Option<String>,
    pub quantity: Decimal,
    pub expiry: NaiveDate,
}

/// One expired lot moved to waste.
#[derive(Debug, Clone, Serialize)]
pub struct LotWaste {
    pub lot_id: i64,
    pub product_id: i64,
    pub product_name: String,
    pub number: Option<String>,
    pub expiry: NaiveDate,
    pub days_expired: i64,
    #[serde(serialize_with = "quantity_str")]
    pub quantity: Decimal,
    #[serde(serialize_with = "money_str")]
    pub unit_price: Decimal,
    #[serde(serialize_with = "money_str")]
    pub value: Decimal,
    /// `historial_merma.motivo_merma`.
    pub reason: String,
    /// `movimientos_inventario.cantidad` (whole units, see [`whole_units`]).
    pub movement_units: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Some lots expired; the product keeps stock in later lots and stays on sale.
    LotsExpired,
    /// Every lot with stock expired: the product was moved to waste (`en_merma`).
    WastedAfterLots,
    /// A product without lots past its `caducidad`: moved to waste (`en_merma`).
    WastedWithoutLots,
}

/// What happens to one product.
#[derive(Debug, Clone, Serialize)]
pub struct ProductChange {
    pub product_id: i64,
    pub name: String,
    pub outcome: Outcome,
    /// `productos.cantidad` before and after.
    #[serde(serialize_with = "quantity_str")]
    pub quantity_before: Decimal,
    #[serde(serialize_with = "quantity_str")]
    pub quantity_after: Decimal,
    /// `productos.caducidad` before and after.
    pub expiry_before: Option<NaiveDate>,
    pub expiry_after: Option<NaiveDate>,
    /// Stock that went to waste (the lots' sum, or the product's own `cantidad`).
    #[serde(serialize_with = "quantity_str")]
    pub wasted: Decimal,
    #[serde(serialize_with = "money_str")]
    pub unit_price: Decimal,
    #[serde(serialize_with = "money_str")]
    pub value: Decimal,
    /// Lots of this product moved to waste.
    pub lots: Vec<i64>,
    /// `productos.motivo_merma` when the product goes to waste (and, for a product without lots,
    /// the history row's motivo too).
    pub reason: Option<String>,
    /// `productos.cantidad_merma` when the product goes to waste; the movement's quantity for a
    /// product without lots.
    pub whole_units: i64,
}

impl ProductChange {
    pub fn goes_to_waste(&self) -> bool {
        self.outcome != Outcome::LotsExpired
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolveReason {
    /// The stock the expiry alert was about went to waste.
    StockWasted,
    /// The product went to waste: it is off the shelf, its low-stock alert is moot.
    ProductWasted,
}

/// An alert resolved in the same transaction.
#[derive(Debug, Clone, Serialize)]
pub struct ResolveAlert {
    pub id: i64,
    pub product_id: i64,
    pub kind: Kind,
    pub message: String,
    pub reason: ResolveReason,
}

/// Totals of a plan: what the app's old command printed, made exact.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub lots_expired: u64,
    /// Products that lost lots and keep stock.
    pub products_updated: u64,
    /// Products moved to waste (after their lots, or without lots).
    pub products_wasted: u64,
    pub history_rows: u64,
    pub movements: u64,
    pub alerts_resolved: u64,
    #[serde(serialize_with = "quantity_str")]
    pub quantity: Decimal,
    #[serde(serialize_with = "money_str")]
    pub value: Decimal,
}

/// Everything one run does (or, dry, would do), in a stable order: lots by expiry, product, id;
/// products and alerts by id.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    pub lots: Vec<LotWaste>,
    pub products: Vec<ProductChange>,
    pub resolve: Vec<ResolveAlert>,
    pub totals: Totals,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.lots.is_empty() && self.products.is_empty() && self.resolve.is_empty()
    }
}

/// At most this many lots are named in a product's `motivo_merma`; the rest are counted.
const LOTS_NAMED_IN_REASON: usize = 10;

/// `dd/mm/yyyy`, as the app writes dates for people.
pub fn dmy(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// The lot as people know it: its number, with the id that always identifies it.
fn lot_label(number: Option<&str>, id: i64) -> String {
    match number.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => format!("{n} (id {id})"),
        None => format!("sin número (id {id})"),
    }
}

/// The history row's motivo for an expired lot.
pub fn lot_reason(number: Option<&str>, id: i64, expiry: NaiveDate) -> String {
    format!(
        "Vencimiento: lote {} venció el {}",
        lot_label(number, id),
        dmy(expiry)
    )
}

/// The motivo of a product without lots that expired.
pub fn product_reason(expiry: NaiveDate) -> String {
    format!("Vencimiento: producto venció el {}", dmy(expiry))
}

/// The motivo of a product left without stock because all its lots expired.
fn wasted_after_lots_reason(lots: &[&LotWaste]) -> String {
    let named: Vec<String> = lots
        .iter()
        .take(LOTS_NAMED_IN_REASON)
        .map(|l| {
            format!(
                "{} del {}",
                lot_label(l.number.as_deref(), l.lot_id),
                dmy(l.expiry)
            )
        })
        .collect();
    let more = lots.len().saturating_sub(LOTS_NAMED_IN_REASON);
    let tail = if more > 0 {
        format!(" y {more} más")
    } else {
        String::new()
    };
    format!(
        "Vencimiento: sin stock tras vencer sus lotes {}{tail}",
        named.join(", ")
    )
}

/// A wasted quantity for an INT column: rounded half away from zero, at least 1 when positive,
/// 0 otherwise; capped at `i32::MAX` (DECIMAL(10,3) never gets there).
pub fn whole_units(q: Decimal) -> i64 {
    if q <= Decimal::ZERO {
        return 0;
    }
    let r = q.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    let n: i64 = r.try_into().unwrap_or(i64::from(i32::MAX));
    n.clamp(1, i64::from(i32::MAX))
}

/// A quantity as a DECIMAL(10,3) column shows it (`"2.500"`).
pub fn quantity_text(q: Decimal) -> String {
    alertas::fixed(q, 3)
}

/// An exact amount of money: every significant decimal kept, at least two (`"4478.625"`,
/// `"32000.00"`).
pub fn money_text(v: Decimal) -> String {
    let mut n = v.normalize();
    if n.scale() < 2 {
        n.rescale(2);
    }
    n.to_string()
}

fn quantity_str<S: Serializer>(q: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&quantity_text(*q))
}

fn money_str<S: Serializer>(v: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&money_text(*v))
}

/// The run's plan for `today`.
///
/// `products`: products on sale that may be touched — those with an expired lot and those whose
/// `caducidad` is before today (others may be passed; they plan nothing). `lots`: `activo` lots
/// with stock of those products — the expired ones and the later ones that decide whether the
/// product keeps stock (lots of products not in `products` are ignored). `alerts`: rows of
/// `alertas` in `activa`/`ignorada`.
pub fn plan(
    today: NaiveDate,
    products: &[Product],
    lots: &[Lot],
    alerts: &[ExistingAlert],
) -> Plan {
    let by_id: HashMap<i64, &Product> = products.iter().map(|p| (p.id, p)).collect();

    // Expired lots per product, and the earliest good lot left (FEFO) per product.
    let mut expired: HashMap<i64, Vec<&Lot>> = HashMap::new();
    let mut next_good: HashMap<i64, NaiveDate> = HashMap::new();
    for lot in lots {
        if lot.quantity <= Decimal::ZERO || !by_id.contains_key(&lot.product_id) {
            continue;
        }
        if lot.expiry < today {
            expired.entry(lot.product_id).or_default().push(lot);
        } else {
            next_good
                .entry(lot.product_id)
                .and_modify(|d| *d = (*d).min(lot.expiry))
                .or_insert(lot.expiry);
        }
    }

    let mut out = Plan::default();
    let mut ids: Vec<i64> = by_id.keys().copied().collect();
    ids.sort_unstable();
    for id in ids {
        let p = by_id[&id];
        if let Some(mut gone) = expired.remove(&id) {
            gone.sort_by_key(|l| (l.expiry, l.id));
            let start = out.lots.len();
            for l in gone {
                let value = l.quantity * p.unit_price;
                out.lots.push(LotWaste {
                    lot_id: l.id,
                    product_id: id,
                    product_name: p.name.clone(),
                    number: l.number.clone(),
                    expiry: l.expiry,
                    days_expired: (today - l.expiry).num_days(),
                    quantity: l.quantity,
                    unit_price: p.unit_price,
                    value,
                    reason: lot_reason(l.number.as_deref(), l.id, l.expiry),
                    movement_units: whole_units(l.quantity),
                });
            }
            let mine = &out.lots[start..];
            let wasted: Decimal = mine.iter().map(|l| l.quantity).sum();
            let value: Decimal = mine.iter().map(|l| l.value).sum();
            let lot_ids = mine.iter().map(|l| l.lot_id).collect();
            let change = match next_good.get(&id) {
                Some(&fefo) => ProductChange {
                    product_id: id,
                    name: p.name.clone(),
                    outcome: Outcome::LotsExpired,
                    quantity_before: p.quantity,
                    quantity_after: (p.quantity - wasted).max(Decimal::ZERO),
                    expiry_before: p.expiry,
                    expiry_after: Some(fefo),
                    wasted,
                    unit_price: p.unit_price,
                    value,
                    lots: lot_ids,
                    reason: None,
                    whole_units: 0,
                },
                None => {
                    let refs: Vec<&LotWaste> = mine.iter().collect();
                    ProductChange {
                        product_id: id,
                        name: p.name.clone(),
                        outcome: Outcome::WastedAfterLots,
                        quantity_before: p.quantity,
                        quantity_after: Decimal::ZERO,
                        expiry_before: p.expiry,
                        expiry_after: None,
                        wasted,
                        unit_price: p.unit_price,
                        value,
                        lots: lot_ids,
                        reason: Some(wasted_after_lots_reason(&refs)),
                        whole_units: whole_units(wasted),
                    }
                }
            };
            out.products.push(change);
        } else if !p.has_lots && p.quantity > Decimal::ZERO {
            let Some(expiry) = p.expiry.filter(|d| *d < today) else {
                continue;
            };
            out.products.push(ProductChange {
                product_id: id,
                name: p.name.clone(),
                outcome: Outcome::WastedWithoutLots,
                quantity_before: p.quantity,
                quantity_after: Decimal::ZERO,
                expiry_before: p.expiry,
                expiry_after: None,
                wasted: p.quantity,
                unit_price: p.unit_price,
                value: p.quantity * p.unit_price,
                lots: Vec::new(),
                reason: Some(product_reason(expiry)),
                whole_units: whole_units(p.quantity),
            });
        }
    }
    out.lots.sort_by_key(|l| (l.expiry, l.product_id, l.lot_id));

    let touched: HashMap<i64, bool> = out
        .products
        .iter()
        .map(|c| (c.product_id, c.goes_to_waste()))
        .collect();
    let mut seen = HashSet::new();
    for a in alerts {
        let Some((key, _band)) = alertas::classify(a) else {
            continue;
        };
        let Some(&whole) = touched.get(&key.object) else {
            continue;
        };
        let reason = match key.kind {
            Kind::Expiry => ResolveReason::StockWasted,
            Kind::LowStock if whole => ResolveReason::ProductWasted,
            _ => continue,
        };
        if seen.insert(a.id) {
            out.resolve.push(ResolveAlert {
                id: a.id,
                product_id: key.object,
                kind: key.kind,
                message: a.message.clone(),
                reason,
            });
        }
    }
    out.resolve.sort_by_key(|r| r.id);

    let t = &mut out.totals;
    t.lots_expired = out.lots.len() as u64;
    t.products_updated = out.products.iter().filter(|c| !c.goes_to_waste()).count() as u64;
    t.products_wasted = out.products.iter().filter(|c| c.goes_to_waste()).count() as u64;
    let without_lots = out
        .products
        .iter()
        .filter(|c| c.outcome == Outcome::WastedWithoutLots)
        .count() as u64;
    t.history_rows = t.lots_expired + without_lots;
    t.movements = t.history_rows;
    t.alerts_resolved = out.resolve.len() as u64;
    t.quantity = out.products.iter().map(|c| c.wasted).sum();
    t.value = out.products.iter().map(|c| c.value).sum();
    out
}

// -- the expiry scan for views --------------------------------------------------------------

/// Stock with a date: an `activo` lot with stock (with `lot_id`), or a product without lots.
#[derive(Debug, Clone)]
pub struct ScanRow {
    pub product_id: i64,
    pub name: String,
    pub lot_id: Option<i64>,
    pub lot_number: Option<String>,
    pub expiry: NaiveDate,
    pub quantity: Decimal,
    pub unit_price: Decimal,
}

/// One line of the expiry list, with the app's keys (`id`, `nombre`, `caducidad`) and more.
/// Decimals are strings (exact, and what Django's JSON encoder makes of a `Decimal`).
#[derive(Debug, Clone, Serialize)]
pub struct ScanItem {
    /// The product's id.
    pub id: i64,
    pub nombre: String,
    /// `YYYY-MM-DD`.
    pub caducidad: NaiveDate,
    pub dias_restantes: i64,
    pub lote_id: Option<i64>,
    pub numero_lote: Option<String>,
    pub cantidad: String,
    pub precio_por_unidad_venta: String,
    pub valor: String,
}

/// The app's `{"count", "items"}` plus the window and the total value at stake.
#[derive(Debug, Clone, Serialize)]
pub struct Scan {
    pub count: usize,
    pub items: Vec<ScanItem>,
    pub hoy: NaiveDate,
    pub dias: i64,
    pub hasta: NaiveDate,
    pub incluir_vencidos: bool,
    pub valor_total: String,
}

/// The window of a scan: from today (or, with `include_expired`, from any date) to today + `days`.
pub fn scan_window(
    today: NaiveDate,
    days: i64,
    include_expired: bool,
) -> (Option<NaiveDate>, NaiveDate) {
    let until = today + chrono::Duration::days(days.max(0));
    (if include_expired { None } else { Some(today) }, until)
}

/// Stock expiring within `days` days of `today` (both ends included, as the app's views), ordered
/// by date, then name (case-insensitive), then product and lot id; rows outside the window or
/// without stock are dropped.
pub fn scan(today: NaiveDate, days: i64, include_expired: bool, rows: Vec<ScanRow>) -> Scan {
    let (from, until) = scan_window(today, days, include_expired);
    let mut keep: Vec<(String, ScanRow)> = rows
        .into_iter()
        .filter(|r| {
            r.quantity > Decimal::ZERO && r.expiry <= until && from.is_none_or(|f| r.expiry >= f)
        })
        .map(|r| (r.name.to_lowercase(), r))
        .collect();
    keep.sort_by(|(ka, a), (kb, b)| {
        (a.expiry, ka, a.product_id, a.lot_id).cmp(&(b.expiry, kb, b.product_id, b.lot_id))
    });
    let mut total = Decimal::ZERO;
    let items: Vec<ScanItem> = keep
        .into_iter()
        .map(|(_, r)| {
            let value = r.quantity * r.unit_price;
            total += value;
            ScanItem {
                id: r.product_id,
                nombre: r.name,
                caducidad: r.expiry,
                dias_restantes: (r.expiry - today).num_days(),
                lote_id: r.lot_id,
                numero_lote: r.lot_number,
                cantidad: quantity_text(r.quantity),
                precio_por_unidad_venta: money_text(r.unit_price),
                valor: money_text(value),
            }
        })
        .collect();
    Scan {
        count: items.len(),
        items,
        hoy: today,
        dias: days,
        hasta: until,
        incluir_vencidos: include_expired,
        valor_total: money_text(total),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alertas::State;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn today() -> NaiveDate {
        day("2025-12-10")
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn product(id: i64, expiry: Option<i64>, qty: &str, has_lots: bool) -> Product {
        Product {
            id,
            name: format!("Producto {id}"),
            expiry: expiry.map(|d| today() + chrono::Duration::days(d)),
            quantity: dec(qty),
            unit_price: dec("1990.50"),
            has_lots,
        }
    }

    fn lot(id: i64, product_id: i64, days: i64, qty: &str) -> Lot {
        Lot {
            id,
            product_id,
            number: Some(format!("L{product_id}-{id:02}")),
            quantity: dec(qty),
            expiry: today() + chrono::Duration::days(days),
        }
    }

    fn alert(id: i64, product: i64, message: &str, state: State) -> ExistingAlert {
        ExistingAlert {
            id,
            colour: "roja".into(),
            message: message.into(),
            state,
            product_id: Some(product),
            invoice_id: None,
        }
    }

    #[test]
    fn a_lot_expires_the_day_after_its_date() {
        let products = [product(1, Some(-1), "18.000", true)];
        let lots = [
            lot(1, 1, -1, "6.000"),
            lot(2, 1, 0, "5.000"),
            lot(3, 1, 1, "7.000"),
        ];
        let plan = plan(today(), &products, &lots, &[]);
        assert_eq!(plan.lots.len(), 1, "only yesterday's lot is expired");
        let l = &plan.lots[0];
        assert_eq!((l.lot_id, l.days_expired, l.quantity), (1, 1, dec("6")));
        assert_eq!(
            l.reason,
            "Vencimiento: lote L1-01 (id 1) venció el 09/12/2025"
        );
        let c = &plan.products[0];
        assert_eq!(c.outcome, Outcome::LotsExpired);
        assert_eq!(c.quantity_after, dec("12"));
        assert_eq!(
            c.expiry_after,
            Some(today()),
            "today's lot is the next to go (FEFO)"
        );
        assert_eq!(plan.totals.history_rows, 1);
        assert_eq!(plan.totals.products_wasted, 0);
    }

    #[test]
    fn value_is_exact_and_movements_get_whole_units() {
        let products = [
            product(1, Some(-3), "2.250", true),
            product(2, Some(-2), "0.400", false),
        ];
        let lots = [lot(1, 1, -3, "2.250")];
        let plan = plan(today(), &products, &lots, &[]);
        assert_eq!(money_text(plan.lots[0].value), "4478.625");
        assert_eq!(plan.lots[0].movement_units, 2);
        let p2 = plan.products.iter().find(|c| c.product_id == 2).unwrap();
        assert_eq!(p2.whole_units, 1, "a fraction still leaves a movement");
        assert_eq!(money_text(p2.value), "796.20");
        assert_eq!(money_text(plan.totals.value), "5274.825");
        assert_eq!(quantity_text(plan.totals.quantity), "2.650");
        assert_eq!(whole_units(dec("2.5")), 3);
        assert_eq!(whole_units(dec("2.499")), 2);
        assert_eq!(whole_units(dec("0.001")), 1);
        assert_eq!(whole_units(dec("0")), 0);
    }

    #[test]
    fn a_product_left_without_stock_goes_to_waste_without_a_second_history_row() {
        let products = [product(1, Some(-2), "9.000", true)];
        let lots = [lot(1, 1, -2, "4.000"), lot(2, 1, -1, "5.000")];
        let plan = plan(today(), &products, &lots, &[]);
        let c = &plan.products[0];
        assert_eq!(c.outcome, Outcome::WastedAfterLots);
        assert_eq!((c.quantity_after, c.expiry_after), (Decimal::ZERO, None));
        assert_eq!(c.whole_units, 9);
        assert_eq!(c.lots, vec![1, 2]);
        assert_eq!(
            c.reason.as_deref(),
            Some(
                "Vencimiento: sin stock tras vencer sus lotes L1-01 (id 1) del 08/12/2025, \
                 L1-02 (id 2) del 09/12/2025"
            )
        );
        assert_eq!(
            plan.totals.history_rows, 2,
            "one per lot, none for the product"
        );
        assert_eq!(plan.totals.products_wasted, 1);
    }

    #[test]
    fn products_without_lots_go_to_waste_only_when_expired_with_stock() {
        let products = [
            product(1, Some(-1), "24.000", false),
            product(2, Some(0), "24.000", false),
            product(3, Some(-4), "0.000", false),
            product(4, None, "3.000", false),
            // Its own date passed, but it has lots and none of them expired.
            product(5, Some(-4), "5.000", true),
        ];
        let lots = [lot(1, 5, 3, "5.000")];
        let plan = plan(today(), &products, &lots, &[]);
        assert_eq!(plan.products.len(), 1);
        let c = &plan.products[0];
        assert_eq!((c.product_id, c.outcome), (1, Outcome::WastedWithoutLots));
        assert_eq!(
            c.reason.as_deref(),
            Some("Vencimiento: producto venció el 09/12/2025")
        );
        assert_eq!(c.whole_units, 24);
        assert!(plan.lots.is_empty());
    }

    #[test]
    fn lots_of_products_not_on_sale_and_empty_lots_are_left_alone() {
        let products = [product(1, Some(5), "3.000", true)];
        let lots = [
            lot(1, 1, -2, "0.000"),
            lot(2, 1, 5, "3.000"),
            lot(3, 99, -2, "4.000"), // product 99 is deleted or inactive: not passed in
        ];
        let plan = plan(today(), &products, &lots, &[]);
        assert!(plan.is_empty(), "{plan:?}");
    }

    #[test]
    fn the_result_of_a_plan_plans_nothing() {
        let products = vec![
            product(1, Some(-1), "18.000", true),
            product(2, Some(-1), "6.000", true),
            product(3, Some(-1), "2.000", false),
        ];
        let lots = vec![
            lot(1, 1, -1, "6.000"),
            lot(2, 1, 4, "12.000"),
            lot(3, 2, -1, "6.000"),
        ];
        let first = plan(today(), &products, &lots, &[]);
        assert_eq!(first.products.len(), 3);
        // Apply it the way the job writes it.
        let gone: HashSet<i64> = first.lots.iter().map(|l| l.lot_id).collect();
        let after_lots: Vec<Lot> = lots.into_iter().filter(|l| !gone.contains(&l.id)).collect();
        let after_products: Vec<Product> = products
            .into_iter()
            .filter_map(|mut p| {
                let c = first
                    .products
                    .iter()
                    .find(|c| c.product_id == p.id)
                    .unwrap();
                if c.goes_to_waste() {
                    return None; // en_merma: no longer on sale
                }
                p.quantity = c.quantity_after;
                p.expiry = c.expiry_after;
                Some(p)
            })
            .collect();
        assert!(plan(today(), &after_products, &after_lots, &[]).is_empty());
    }

    #[test]
    fn expiry_alerts_of_touched_products_and_low_stock_of_wasted_ones_are_resolved() {
        let products = [
            product(1, Some(-1), "18.000", true),
            product(2, Some(-1), "2.000", false),
            product(3, Some(9), "2.000", false),
        ];
        let lots = [lot(1, 1, -1, "6.000"), lot(2, 1, 4, "12.000")];
        let alerts = [
            alert(10, 1, "Producto 1 YA VENCIÓ hace 1 días", State::Activa),
            alert(
                11,
                1,
                "Producto 1 - STOCK BAJO: 3.000 unidades (mínimo: 5)",
                State::Activa,
            ),
            alert(
                12,
                2,
                "Producto 2 vence en 0 días - URGENTE",
                State::Ignorada,
            ),
            alert(
                13,
                2,
                "Producto 2 - STOCK BAJO: 2.000 unidades (mínimo: 5)",
                State::Activa,
            ),
            alert(14, 2, "Revisar la vitrina", State::Activa),
            alert(15, 3, "Producto 3 vence en 9 días - URGENTE", State::Activa),
        ];
        let plan = plan(today(), &products, &lots, &alerts);
        let got: Vec<(i64, ResolveReason)> =
            plan.resolve.iter().map(|r| (r.id, r.reason)).collect();
        assert_eq!(
            got,
            vec![
                (10, ResolveReason::StockWasted),
                (12, ResolveReason::StockWasted),
                (13, ResolveReason::ProductWasted),
            ]
        );
    }

    #[test]
    fn reasons_name_lots_without_a_number_by_id_and_cut_long_lists() {
        assert_eq!(
            lot_reason(None, 42, day("2025-12-01")),
            "Vencimiento: lote sin número (id 42) venció el 01/12/2025"
        );
        let products = [product(1, Some(-20), "12.000", true)];
        let lots: Vec<Lot> = (1..=12).map(|i| lot(i, 1, -20 + i, "1.000")).collect();
        let plan = plan(today(), &products, &lots, &[]);
        let reason = plan.products[0].reason.clone().unwrap();
        assert!(reason.contains("L1-10 (id 10)"), "{reason}");
        assert!(!reason.contains("(id 11)"), "{reason}");
        assert!(reason.ends_with(" y 2 más"), "{reason}");
        assert_eq!(plan.totals.history_rows, 12);
    }

    #[test]
    fn a_product_with_more_recorded_stock_than_its_lots_never_goes_negative() {
        // cantidad says 2.000 but the expired lot holds 5.000 (the app's drift): floor at 0.
        let products = [product(1, Some(-1), "2.000", true)];
        let lots = [lot(1, 1, -1, "5.000"), lot(2, 1, 3, "1.000")];
        let plan = plan(today(), &products, &lots, &[]);
        assert_eq!(plan.products[0].quantity_after, Decimal::ZERO);
        assert_eq!(plan.products[0].wasted, dec("5"));
    }

    #[test]
    fn scan_lists_the_window_in_date_then_name_order() {
        let row = |pid: i64, name: &str, lot: Option<i64>, days: i64, qty: &str| ScanRow {
            product_id: pid,
            name: name.into(),
            lot_id: lot,
            lot_number: lot.map(|l| format!("L{l}")),
            expiry: today() + chrono::Duration::days(days),
            quantity: dec(qty),
            unit_price: dec("1000.00"),
        };
        let rows = vec![
            row(3, "marraqueta", None, 2, "1.500"),
            row(1, "Hallulla", Some(7), 2, "2.000"),
            row(2, "Berlín", Some(8), 0, "1.000"),
            row(4, "Kuchen", Some(9), 8, "1.000"),
            row(5, "Pan", Some(10), -1, "1.000"),
            row(6, "Queque", Some(11), 1, "0.000"),
        ];
        let s = scan(today(), 7, false, rows.clone());
        let order: Vec<(i64, i64)> = s.items.iter().map(|i| (i.id, i.dias_restantes)).collect();
        assert_eq!(order, vec![(2, 0), (1, 2), (3, 2)]);
        assert_eq!(s.items[2].cantidad, "1.500");
        assert_eq!(s.items[2].valor, "1500.00");
        assert_eq!(s.valor_total, "4500.00");
        assert_eq!(s.hasta, day("2025-12-17"));
        let with_expired = scan(today(), 7, true, rows);
        assert_eq!(with_expired.items[0].id, 5);
        assert_eq!(with_expired.items[0].dias_restantes, -1);
        assert_eq!(with_expired.count, 4);
    }
}
