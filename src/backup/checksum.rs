//! Per-table content checksums, the same on the dump side and on a restored copy.
//!
//! Each row is hashed as the exact SQL tuple text the dump writes for it (so a checksum
//! computed on a restored copy with the same code means the same values came back), and the
//! 128-bit prefixes of the row hashes are added up modulo 2^128: the result does not depend on
//! the order the rows come in, so tables without a primary key and parallel readers need no
//! `ORDER BY`. The checksum string is `<rows>:<32 hex digits>`.

use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableSum {
    pub rows: u64,
    pub sum: u128,
}

impl TableSum {
    pub fn add_row(&mut self, row: &[u8]) {
        let h = Sha256::digest(row);
        let mut b = [0u8; 16];
        b.copy_from_slice(&h[..16]);
        self.sum = self.sum.wrapping_add(u128::from_be_bytes(b));
        self.rows += 1;
    }

    pub fn merge(&mut self, other: &TableSum) {
        self.sum = self.sum.wrapping_add(other.sum);
        self.rows += other.rows;
    }

    pub fn render(&self) -> String {
        format!("{}:{:032x}", self.rows, self.sum)
    }
}
