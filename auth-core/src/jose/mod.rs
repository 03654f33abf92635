//! The words JOSE (RFC 7515, 7517, 7518) shares between tokens and keys: the algorithms and
//! the key families they need, and the strict JSON objects both are made of.

mod alg;
mod json;

pub use alg::{Alg, Family};
pub use json::parse_object;
