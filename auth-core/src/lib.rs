//! Credential parsing and verification for ngx-auth-rs.
//!
//! Nothing here references nginx, so `cargo test` links and runs it anywhere.

pub mod basic;
pub mod cache;
pub mod dpop;
pub mod htpasswd;
pub mod http;
pub mod jose;
pub mod jwt;
pub mod key_url;
pub mod keys;
pub mod mtls;
pub mod oidc;
pub mod redis;
mod shown;
