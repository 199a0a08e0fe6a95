//! Alert rules: which alerts the shop's data calls for today, and what must change in the
//! `alertas` table to get there. Pure functions over plain rows and a date — no I/O.
//!
//! The rules are the existing app's (thresholds, colours, exact message texts, counters), with
//! its bugs fixed:
//!
//! * An alert is identified by its **kind and object** — ([`Kind::Expiry`], product),
//!   ([`Kind::LowStock`], product), ([`Kind::Invoice`], invoice) — never by a substring of its
//!   message. The table has no kind column, so the kind of an existing row is read from the
//!   *whole* message grammar the rules produce ([`classify`]); rows that match no rule (alerts a
//!   person wrote by hand) are never touched.
//! * At most one active alert per key: extra active copies (the old duplicate bug) are resolved,
//!   keeping the newest.
//! * A product without an expiry date gets no expiry alert and is reported; nothing aborts.
//! * Alerts whose condition no longer holds are resolved, including ones a user ignored, so that a
//!   later return of the condition is news again.
//! * An alert the user marked `ignorada` is not reopened while the same condition holds — the same
//!   band (expired, 0–13 days, 14–29, 30+; low stock; invoice overdue, due soon, …). A worse band is
//!   a new condition and gets a new active alert.
//! * Expiry is lot-aware: the earliest active lot with stock (FEFO) decides, else the product's
//!   own `caducidad`.

use std::cell::OnceCell;
use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

/// `alertas.mensaje` is VARCHAR(255): longer messages are cut (at a character boundary).
pub const MESSAGE_MAX_CHARS: usize = 255;

/// Day and stock limits of the bands; defaults are the app's.
#[derive(Debug, Clone, Serialize)]
pub struct Thresholds {
    /// Expiry in 0..=this many days is red (13).
    pub expiry_red_days: i64,
    /// Expiry up to this many days is yellow (29); beyond, green.
    pub expiry_yellow_days: i64,
    /// Invoice due in 0..=this many days is red (7).
    pub invoice_red_days: i64,
    /// Invoice due up to this many days is yellow (30); beyond, green.
    pub invoice_yellow_days: i64,
    /// Minimum stock for products whose `stock_minimo` is NULL (5).
    pub default_min_stock: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            expiry_red_days: 13,
            expiry_yellow_days: 29,
            invoice_red_days: 7,
            invoice_yellow_days: 30,
            default_min_stock: 5,
        }
    }
}

/// An active, not deleted product (`eliminado IS NULL`, `estado_merma = 'activo'`).
#[derive(Debug, Clone)]
pub struct Product {
    pub id: i64,
    pub name: String,
    /// `productos.caducidad`.
    pub expiry: Option<NaiveDate>,
    /// Earliest `fecha_caducidad` of the product's active lots with stock, if any.
    pub lot_expiry: Option<NaiveDate>,
    /// `productos.cantidad`, the app's running stock total.
    pub quantity: Decimal,
    pub min_stock: Option<i64>,
}

/// An open supplier invoice with a due date (not deleted, in an alerting payment state).
#[derive(Debug, Clone)]
pub struct Invoice {
    pub id: i64,
    pub number: String,
    pub supplier: String,
    pub due: NaiveDate,
    pub total: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Activa,
    Ignorada,
}

/// A row of `alertas` in state `activa` or `ignorada`.
#[derive(Debug, Clone)]
pub struct ExistingAlert {
    pub id: i64,
    pub colour: String,
    pub message: String,
    pub state: State,
    pub product_id: Option<i64>,
    pub invoice_id: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Expiry,
    LowStock,
    Invoice,
}

/// What an alert is about: its kind and its object (product or invoice id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
pub struct Key {
    pub kind: Kind,
    pub object: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Colour {
    Verde,
    Amarilla,
    Roja,
}

impl Colour {
    pub fn as_str(self) -> &'static str {
        match self {
            Colour::Verde => "verde",
            Colour::Amarilla => "amarilla",
            Colour::Roja => "roja",
        }
    }
}

/// The condition behind an alert, finer than its colour: ignoring one band does not silence a
/// worse one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Expired,
    ExpiryUrgent,
    ExpiryCaution,
    ExpiryOk,
    LowStock,
    InvoiceOverdue,
    InvoiceUrgent,
    InvoiceSoon,
    InvoiceOk,
}

impl Band {
    pub fn colour(self) -> Colour {
        match self {
            Band::Expired
            | Band::ExpiryUrgent
            | Band::LowStock
            | Band::InvoiceOverdue
            | Band::InvoiceUrgent => Colour::Roja,
            Band::ExpiryCaution | Band::InvoiceSoon => Colour::Amarilla,
            Band::ExpiryOk | Band::InvoiceOk => Colour::Verde,
        }
    }
}

/// An alert today's data calls for.
#[derive(Debug, Clone, Serialize)]
pub struct Wanted {
    pub key: Key,
    pub band: Band,
    pub colour: Colour,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Update {
    pub id: i64,
    pub old_colour: String,
    pub old_message: String,
    #[serde(flatten)]
    pub wanted: Wanted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolveReason {
    /// Another active alert for the same kind and object is kept.
    Duplicate,
    /// The product is no longer active: deleted, inactive or moved to waste.
    ProductNotActive,
    /// The product has no stock left, so it cannot expire on the shelf.
    OutOfStock,
    /// Neither the product nor an active lot with stock has an expiry date.
    NoExpiryDate,
    /// Stock is back above the minimum.
    StockRecovered,
    /// The invoice was paid, cancelled, deleted or lost its due date.
    InvoiceSettled,
}

#[derive(Debug, Clone, Serialize)]
pub struct Resolve {
    pub id: i64,
    pub key: Key,
    pub state: State,
    pub message: String,
    pub reason: ResolveReason,
}

/// A product that got no expiry alert because it has no date anywhere.
#[derive(Debug, Clone, Serialize)]
pub struct NoExpiry {
    pub id: i64,
    pub name: String,
}

/// An alert not reopened because the user ignored it for the same condition.
#[derive(Debug, Clone, Serialize)]
pub struct Suppressed {
    pub id: i64,
    pub key: Key,
    pub band: Band,
}

/// Alerts created or changed, by the app's counters (`alertas` view and templates read these).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub roja: u64,
    pub amarilla: u64,
    pub verde: u64,
    pub stock_bajo: u64,
    pub facturas_vencidas: u64,
    pub total: u64,
}

impl Counts {
    fn add(&mut self, w: &Wanted) {
        match w.key.kind {
            Kind::Expiry => match w.colour {
                Colour::Roja => self.roja += 1,
                Colour::Amarilla => self.amarilla += 1,
                Colour::Verde => self.verde += 1,
            },
            Kind::LowStock => self.stock_bajo += 1,
            Kind::Invoice => self.facturas_vencidas += 1,
        }
        self.total += 1;
    }
}

/// Everything one run would do, and why.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    pub create: Vec<Wanted>,
    pub update: Vec<Update>,
    pub resolve: Vec<Resolve>,
    pub suppressed: Vec<Suppressed>,
    pub without_expiry: Vec<NoExpiry>,
    pub unchanged: u64,
    pub counts: Counts,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.update.is_empty() && self.resolve.is_empty()
    }
}

/// The expiry alert for a product with stock, or `None`.
fn expiry_alert(today: NaiveDate, th: &Thresholds, p: &Product) -> Option<Wanted> {
    if p.quantity <= Decimal::ZERO {
        return None;
    }
    let date = p.lot_expiry.or(p.expiry)?;
    let d = (date - today).num_days();
    let (band, message) = if d < 0 {
        (
            Band::Expired,
            format!("{} YA VENCIÓ hace {} días", p.name, -d),
        )
    } else if d <= th.expiry_red_days {
        (
            Band::ExpiryUrgent,
            format!("{} vence en {d} días - URGENTE", p.name),
        )
    } else if d <= th.expiry_yellow_days {
        (
            Band::ExpiryCaution,
            format!("{} vence en {d} días - PRECAUCIÓN", p.name),
        )
    } else {
        (Band::ExpiryOk, format!("{} vence en {d} días - OK", p.name))
    };
    Some(wanted(Kind::Expiry, p.id, band, message))
}

fn low_stock_alert(th: &Thresholds, p: &Product) -> Option<Wanted> {
    let min = p.min_stock.unwrap_or(th.default_min_stock);
    if p.quantity > Decimal::from(min) {
        return None;
    }
    let message = format!(
        "{} - STOCK BAJO: {} unidades (mínimo: {min})",
        p.name,
        fixed(p.quantity, 3)
    );
    Some(wanted(Kind::LowStock, p.id, Band::LowStock, message))
}

fn invoice_alert(today: NaiveDate, th: &Thresholds, f: &Invoice) -> Wanted {
    let d = (f.due - today).num_days();
    let total = fixed(f.total, 2);
    let (band, message) = if d < 0 {
        let m = format!(
            "Factura {} de {} VENCIDA hace {} días - ${total}",
            f.number, f.supplier, -d
        );
        (Band::InvoiceOverdue, m)
    } else {
        let band = if d <= th.invoice_red_days {
            Band::InvoiceUrgent
        } else if d <= th.invoice_yellow_days {
            Band::InvoiceSoon
        } else {
            Band::InvoiceOk
        };
        let m = format!(
            "Factura {} de {} vence en {d} días - ${total}",
            f.number, f.supplier
        );
        (band, m)
    };
    wanted(Kind::Invoice, f.id, band, message)
}

fn wanted(kind: Kind, object: i64, band: Band, message: String) -> Wanted {
    Wanted {
        key: Key { kind, object },
        band,
        colour: band.colour(),
        message: truncate_chars(message, MESSAGE_MAX_CHARS),
    }
}

/// A decimal written with exactly `scale` places, as a DECIMAL(…, scale) column shows it.
pub fn fixed(value: Decimal, scale: u32) -> String {
    let mut v = value.round_dp(scale);
    v.rescale(scale);
    v.to_string()
}

fn truncate_chars(s: String, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => s[..cut].to_owned(),
        None => s,
    }
}

/// The kind and band of an existing alert, from the whole grammar of the messages the rules
/// write; `None` for alerts the rules did not write (never touched).
pub fn classify(a: &ExistingAlert) -> Option<(Key, Band)> {
    if let (Some(invoice), None) = (a.invoice_id, a.product_id) {
        // Invoice alerts are linked by their own column; only the band needs the text, and a
        // long supplier name may have cut it, so the colour is the fallback.
        let band = if a.message.contains(" VENCIDA hace ") {
            Band::InvoiceOverdue
        } else {
            match a.colour.as_str() {
                "roja" => Band::InvoiceUrgent,
                "amarilla" => Band::InvoiceSoon,
                _ => Band::InvoiceOk,
            }
        };
        return Some((key(Kind::Invoice, invoice), band));
    }
    let product = a.product_id?;
    let m = a.message.as_str();
    if is_low_stock_message(m) {
        return Some((key(Kind::LowStock, product), Band::LowStock));
    }
    expiry_band(m).map(|band| (key(Kind::Expiry, product), band))
}

fn key(kind: Kind, object: i64) -> Key {
    Key { kind, object }
}

/// `{name} - STOCK BAJO: {qty} unidades (mínimo: {min})`
fn is_low_stock_message(m: &str) -> bool {
    let Some(pos) = m.rfind(" - STOCK BAJO: ") else {
        return false;
    };
    let tail = &m[pos + " - STOCK BAJO: ".len()..];
    let Some((qty, rest)) = tail.split_once(" unidades (mínimo: ") else {
        return false;
    };
    let Some(min) = rest.strip_suffix(')') else {
        return false;
    };
    qty.parse::<Decimal>().is_ok() && min.parse::<i64>().is_ok()
}

/// `{name} YA VENCIÓ hace {n} días` or `{name} vence en {n} días - URGENTE|PRECAUCIÓN|OK`
fn expiry_band(m: &str) -> Option<Band> {
    if let Some(pos) = m.rfind(" YA VENCIÓ hace ") {
        let n = m[pos + " YA VENCIÓ hace ".len()..].strip_suffix(" días")?;
        return n.parse::<i64>().ok().map(|_| Band::Expired);
    }
    let pos = m.rfind(" vence en ")?;
    let (n, label) = m[pos + " vence en ".len()..].split_once(" días - ")?;
    n.parse::<i64>().ok()?;
    match label {
        "URGENTE" => Some(Band::ExpiryUrgent),
        "PRECAUCIÓN" => Some(Band::ExpiryCaution),
        "OK" => Some(Band::ExpiryOk),
        _ => None,
    }
}

/// Computes what one run must do. `products` are the active ones; `invoices` the open ones with
/// a due date; `existing` the rows in state `activa` or `ignorada`.
///
/// Both sides are sorted by key and merged (no hashing of 200,000 keys): each key has the alert
/// today's data wants, or existing rows, or both.
pub fn plan(
    today: NaiveDate,
    th: &Thresholds,
    products: &[Product],
    invoices: &[Invoice],
    existing: &[ExistingAlert],
) -> Plan {
    let mut out = Plan::default();

    let mut wanted: Vec<Wanted> = Vec::with_capacity(products.len() * 2 + invoices.len());
    for p in products {
        if p.quantity > Decimal::ZERO && p.lot_expiry.is_none() && p.expiry.is_none() {
            out.without_expiry.push(NoExpiry {
                id: p.id,
                name: p.name.clone(),
            });
        }
        wanted.extend(expiry_alert(today, th, p));
        wanted.extend(low_stock_alert(th, p));
    }
    wanted.extend(invoices.iter().map(|f| invoice_alert(today, th, f)));
    wanted.sort_unstable_by_key(|w| w.key);
    // A product or invoice listed twice would want its alert twice; keep one.
    wanted.dedup_by_key(|w| w.key);

    // Existing rows by key, newest first within a key.
    let mut rows: Vec<(Key, Band, &ExistingAlert)> = existing
        .iter()
        .filter_map(|a| classify(a).map(|(k, band)| (k, band, a)))
        .collect();
    rows.sort_unstable_by(|x, y| x.0.cmp(&y.0).then(y.2.id.cmp(&x.2.id)));

    // Only resolutions need to look products up; most runs resolve little or nothing.
    let product_by_id: OnceCell<HashMap<i64, &Product>> = OnceCell::new();
    let products_index =
        || product_by_id.get_or_init(|| products.iter().map(|p| (p.id, p)).collect());

    let mut wanted = wanted.into_iter().peekable();
    let mut i = 0;
    loop {
        let key = match (rows.get(i).map(|r| r.0), wanted.peek().map(|w| w.key)) {
            (None, None) => break,
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
        };
        let start = i;
        while rows.get(i).is_some_and(|r| r.0 == key) {
            i += 1;
        }
        let group = &rows[start..i];
        let Some(w) = wanted.next_if(|w| w.key == key) else {
            let reason = why_gone(key, products_index());
            for (_, _, a) in group {
                out.resolve.push(resolve(a, key, reason));
            }
            continue;
        };
        let mut active = group
            .iter()
            .filter(|r| r.2.state == State::Activa)
            .map(|r| r.2);
        if let Some(keep) = active.next() {
            for extra in active {
                out.resolve
                    .push(resolve(extra, key, ResolveReason::Duplicate));
            }
            if keep.colour != w.colour.as_str() || keep.message != w.message {
                out.counts.add(&w);
                out.update.push(Update {
                    id: keep.id,
                    old_colour: keep.colour.clone(),
                    old_message: keep.message.clone(),
                    wanted: w,
                });
            } else {
                out.unchanged += 1;
            }
        } else if let Some((_, band, ignored)) = group
            .iter()
            .find(|r| r.2.state == State::Ignorada)
            .filter(|(_, band, _)| *band == w.band)
        {
            out.suppressed.push(Suppressed {
                id: ignored.id,
                key,
                band: *band,
            });
        } else {
            out.counts.add(&w);
            out.create.push(w);
        }
    }
    out.without_expiry.sort_unstable_by_key(|p| p.id);
    out
}

fn resolve(a: &ExistingAlert, key: Key, reason: ResolveReason) -> Resolve {
    Resolve {
        id: a.id,
        key,
        state: a.state,
        message: a.message.clone(),
        reason,
    }
}

fn why_gone(k: Key, products: &HashMap<i64, &Product>) -> ResolveReason {
    match k.kind {
        Kind::Invoice => ResolveReason::InvoiceSettled,
        Kind::LowStock => match products.get(&k.object) {
            None => ResolveReason::ProductNotActive,
            Some(_) => ResolveReason::StockRecovered,
        },
        Kind::Expiry => match products.get(&k.object) {
            None => ResolveReason::ProductNotActive,
            Some(p) if p.quantity <= Decimal::ZERO => ResolveReason::OutOfStock,
            Some(_) => ResolveReason::NoExpiryDate,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn today() -> NaiveDate {
        day("2025-12-10")
    }

    fn product(id: i64, name: &str, days: Option<i64>, qty: &str, min: Option<i64>) -> Product {
        Product {
            id,
            name: name.into(),
            expiry: days.map(|d| today() + chrono::Duration::days(d)),
            lot_expiry: None,
            quantity: qty.parse().unwrap(),
            min_stock: min,
        }
    }

    fn invoice(id: i64, days: i64) -> Invoice {
        Invoice {
            id,
            number: format!("F-{id}"),
            supplier: "Amasandería".into(),
            due: today() + chrono::Duration::days(days),
            total: "29750".parse().unwrap(),
        }
    }

    fn existing(id: i64, state: State, w: &Wanted) -> ExistingAlert {
        let (product_id, invoice_id) = match w.key.kind {
            Kind::Invoice => (None, Some(w.key.object)),
            _ => (Some(w.key.object), None),
        };
        ExistingAlert {
            id,
            colour: w.colour.as_str().into(),
            message: w.message.clone(),
            state,
            product_id,
            invoice_id,
        }
    }

    fn messages(plan: &Plan) -> Vec<(String, &'static str)> {
        plan.create
            .iter()
            .map(|w| (w.message.clone(), w.colour.as_str()))
            .collect()
    }

    #[test]
    fn expiry_band_edges_match_the_app() {
        let th = Thresholds::default();
        let cases = [
            (-1, "pan YA VENCIÓ hace 1 días", "roja"),
            (0, "pan vence en 0 días - URGENTE", "roja"),
            (13, "pan vence en 13 días - URGENTE", "roja"),
            (14, "pan vence en 14 días - PRECAUCIÓN", "amarilla"),
            (29, "pan vence en 29 días - PRECAUCIÓN", "amarilla"),
            (30, "pan vence en 30 días - OK", "verde"),
        ];
        for (d, msg, colour) in cases {
            let p = product(1, "pan", Some(d), "50.000", Some(10));
            let plan = plan(today(), &th, &[p], &[], &[]);
            assert_eq!(messages(&plan), vec![(msg.to_owned(), colour)], "d = {d}");
        }
    }

    #[test]
    fn invoice_band_edges_match_the_app() {
        let th = Thresholds::default();
        let cases = [
            (
                -1,
                "Factura F-1 de Amasandería VENCIDA hace 1 días - $29750.00",
                "roja",
            ),
            (
                0,
                "Factura F-1 de Amasandería vence en 0 días - $29750.00",
                "roja",
            ),
            (
                7,
                "Factura F-1 de Amasandería vence en 7 días - $29750.00",
                "roja",
            ),
            (
                8,
                "Factura F-1 de Amasandería vence en 8 días - $29750.00",
                "amarilla",
            ),
            (
                30,
                "Factura F-1 de Amasandería vence en 30 días - $29750.00",
                "amarilla",
            ),
            (
                31,
                "Factura F-1 de Amasandería vence en 31 días - $29750.00",
                "verde",
            ),
        ];
        for (d, msg, colour) in cases {
            let plan = plan(today(), &th, &[], &[invoice(1, d)], &[]);
            assert_eq!(messages(&plan), vec![(msg.to_owned(), colour)], "d = {d}");
            assert_eq!(plan.counts.facturas_vencidas, 1);
        }
    }

    #[test]
    fn low_stock_at_the_minimum_and_default_minimum() {
        let th = Thresholds::default();
        let at_min = product(1, "galleta", Some(40), "9.000", Some(9));
        let above = product(2, "torta", Some(40), "9.001", Some(9));
        let default_eq = product(3, "queque", Some(40), "5", None);
        let default_above = product(4, "kuchen", Some(40), "5.001", None);
        let plan = plan(
            today(),
            &th,
            &[at_min, above, default_eq, default_above],
            &[],
            &[],
        );
        let low: Vec<_> = plan
            .create
            .iter()
            .filter(|w| w.key.kind == Kind::LowStock)
            .map(|w| w.message.as_str())
            .collect();
        assert_eq!(
            low,
            vec![
                "galleta - STOCK BAJO: 9.000 unidades (mínimo: 9)",
                "queque - STOCK BAJO: 5.000 unidades (mínimo: 5)",
            ]
        );
        assert_eq!(plan.counts.stock_bajo, 2);
        assert_eq!(plan.counts.verde, 4);
        assert_eq!(plan.counts.total, 6);
    }

    #[test]
    fn lots_decide_expiry_before_the_product_date() {
        let mut p = product(1, "pan", Some(40), "10", Some(1));
        p.lot_expiry = Some(today() + chrono::Duration::days(3));
        let plan = plan(today(), &Thresholds::default(), &[p], &[], &[]);
        assert_eq!(plan.create[0].message, "pan vence en 3 días - URGENTE");
    }

    #[test]
    fn null_expiry_is_reported_not_fatal() {
        let th = Thresholds::default();
        let p = product(7, "sin fecha", None, "20", Some(1));
        let q = product(8, "con fecha", Some(2), "20", Some(1));
        let plan = plan(today(), &th, &[p, q], &[], &[]);
        assert_eq!(plan.without_expiry.len(), 1);
        assert_eq!(plan.without_expiry[0].id, 7);
        assert_eq!(plan.create.len(), 1);
    }

    #[test]
    fn second_run_on_the_same_data_changes_nothing() {
        let th = Thresholds::default();
        let products = vec![
            product(1, "pan", Some(-3), "2", None),
            product(2, "torta", Some(20), "40", Some(3)),
        ];
        let invoices = vec![invoice(9, 5)];
        let first = plan(today(), &th, &products, &invoices, &[]);
        let rows: Vec<_> = first
            .create
            .iter()
            .enumerate()
            .map(|(i, w)| existing(i as i64 + 1, State::Activa, w))
            .collect();
        let second = plan(today(), &th, &products, &invoices, &rows);
        assert!(second.is_empty(), "{second:?}");
        assert_eq!(second.unchanged, first.create.len() as u64);
        assert_eq!(second.counts, Counts::default());
    }

    #[test]
    fn expired_alerts_are_found_again_and_duplicates_resolved() {
        // The app's bug: "YA VENCIÓ" lacks "vence", so each run added a copy.
        let th = Thresholds::default();
        let p = product(1, "pan", Some(-2), "2", Some(1));
        let w = plan(today(), &th, std::slice::from_ref(&p), &[], &[]).create[0].clone();
        let rows = vec![
            existing(10, State::Activa, &w),
            existing(11, State::Activa, &w),
            existing(12, State::Activa, &w),
        ];
        let plan = plan(today(), &th, &[p], &[], &rows);
        assert!(plan.create.is_empty());
        assert!(plan.update.is_empty());
        let resolved: Vec<_> = plan.resolve.iter().map(|r| (r.id, r.reason)).collect();
        assert_eq!(
            resolved,
            vec![
                (11, ResolveReason::Duplicate),
                (10, ResolveReason::Duplicate)
            ]
        );
    }

    #[test]
    fn gone_conditions_are_resolved_with_their_reason() {
        let th = Thresholds::default();
        let stale_product = product(1, "pan", Some(5), "2", Some(1));
        let invoice_paid = invoice(4, 2);
        let before = plan(
            today(),
            &th,
            std::slice::from_ref(&stale_product),
            std::slice::from_ref(&invoice_paid),
            &[],
        );
        let rows: Vec<_> = before
            .create
            .iter()
            .enumerate()
            .map(|(i, w)| existing(i as i64 + 1, State::Activa, w))
            .collect();
        // Now: the product is out of stock, the invoice is paid (no longer listed).
        let mut empty = stale_product.clone();
        empty.quantity = Decimal::ZERO;
        let after = plan(today(), &th, &[empty], &[], &rows);
        let mut reasons: Vec<_> = after
            .resolve
            .iter()
            .map(|r| (r.key.kind, r.reason))
            .collect();
        reasons.sort_by_key(|(k, _)| *k);
        assert_eq!(
            reasons,
            vec![
                (Kind::Expiry, ResolveReason::OutOfStock),
                (Kind::Invoice, ResolveReason::InvoiceSettled)
            ]
        );
        // Zero stock is low stock: a new alert for it.
        assert_eq!(after.create.len(), 1);
        assert_eq!(after.create[0].key.kind, Kind::LowStock);
        // Product deleted altogether.
        let gone = plan(today(), &th, &[], &[], &rows);
        assert!(gone
            .resolve
            .iter()
            .any(|r| r.reason == ResolveReason::ProductNotActive));
    }

    #[test]
    fn ignored_alert_stays_ignored_for_the_same_band_only() {
        let th = Thresholds::default();
        let p20 = product(1, "torta", Some(20), "40", Some(3));
        let w = plan(today(), &th, std::slice::from_ref(&p20), &[], &[]).create[0].clone();
        let ignored = existing(5, State::Ignorada, &w);
        // Next day: 19 days, same band (yellow): not reopened.
        let p19 = product(1, "torta", Some(19), "40", Some(3));
        let same = plan(today(), &th, &[p19], &[], std::slice::from_ref(&ignored));
        assert!(same.is_empty());
        assert_eq!(same.suppressed.len(), 1);
        // 10 days: red, a worse condition: a new active alert.
        let p10 = product(1, "torta", Some(10), "40", Some(3));
        let worse = plan(today(), &th, &[p10], &[], std::slice::from_ref(&ignored));
        assert_eq!(worse.create.len(), 1);
        assert_eq!(worse.create[0].colour, Colour::Roja);
        // Sold out: the ignored alert's condition ended, so it is resolved.
        let sold = product(1, "torta", Some(19), "0", Some(0));
        let ended = plan(today(), &th, &[sold], &[], &[ignored]);
        assert_eq!(ended.resolve.len(), 1);
        assert_eq!(ended.resolve[0].state, State::Ignorada);
    }

    #[test]
    fn manual_alerts_are_left_alone() {
        let manual = ExistingAlert {
            id: 3,
            colour: "roja".into(),
            message: "Revisar horno del local 2".into(),
            state: State::Activa,
            product_id: Some(1),
            invoice_id: None,
        };
        assert!(classify(&manual).is_none());
        let plan = plan(today(), &Thresholds::default(), &[], &[], &[manual]);
        assert!(plan.is_empty());
    }

    #[test]
    fn classify_reads_every_message_the_rules_write() {
        let th = Thresholds::default();
        let products: Vec<_> = [-5, 0, 13, 14, 29, 30, 400]
            .iter()
            .enumerate()
            .map(|(i, d)| {
                product(
                    i as i64 + 1,
                    "Pan - STOCK bajo? vence en",
                    Some(*d),
                    "1",
                    None,
                )
            })
            .collect();
        let plan = plan(
            today(),
            &th,
            &products,
            &[invoice(1, -3), invoice(2, 40)],
            &[],
        );
        for w in &plan.create {
            let row = existing(1, State::Activa, w);
            assert_eq!(classify(&row), Some((w.key, w.band)), "{}", w.message);
        }
    }

    #[test]
    fn long_messages_are_cut_to_the_column_size() {
        let mut f = invoice(1, 3);
        f.supplier = "ñ".repeat(300);
        let plan = plan(today(), &Thresholds::default(), &[], &[f], &[]);
        assert_eq!(plan.create[0].message.chars().count(), MESSAGE_MAX_CHARS);
    }
}
