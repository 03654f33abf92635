//! Turns facts about the nginx build that nginx-sys found into `cfg` flags for this crate.

use std::env;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(nginx_header_chains)");
    println!("cargo::rerun-if-env-changed=DEP_NGINX_VERSION_NUMBER");

    let version: u64 = env::var("DEP_NGINX_VERSION_NUMBER")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);

    // nginx 1.23.0 chains repeated headers through ngx_table_elt_t.next.
    if version >= 1_023_000 {
        println!("cargo::rustc-cfg=nginx_header_chains");
    }

    // nginx built --with-threads has thread pools for the slow password hashes.
    println!("cargo::rustc-check-cfg=cfg(nginx_threads)");
    println!("cargo::rerun-if-env-changed=DEP_NGINX_FEATURES");
    let features = env::var("DEP_NGINX_FEATURES").unwrap_or_default();
    if features.split(',').any(|f| f == "threads") {
        println!("cargo::rustc-cfg=nginx_threads");
    }
}
