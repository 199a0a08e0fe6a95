//! Jobs: one module per maintenance task run against the shop's database.
//!
//! A job reads its inputs set-wise, hands plain rows to the pure rules, and writes the result in
//! batches inside one transaction. Each job has an `Options` struct (time is an input: "today" is
//! passed in, never read from the clock) and returns a serialisable `Report`.

pub mod generar_alertas;
pub mod scan_vencimientos;
pub mod verificar_vencimientos;
