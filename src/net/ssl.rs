//! The TLS client contexts of the module's own connections, made with the configuration:
//! TLS 1.2 and 1.3, the peer's certificate verified against the system's trusted certificates
//! or a file of them.

use core::ffi::c_int;
use core::ptr;

use ngx::core::Status;
use ngx::ffi::{
    ngx_conf_t, ngx_pcalloc, ngx_pool_cleanup_add, ngx_ssl_cleanup_ctx, ngx_ssl_create, ngx_ssl_t,
    ngx_ssl_trusted_certificate, ngx_str_t, NGX_SSL_TLSv1_2, NGX_SSL_TLSv1_3,
    SSL_CTX_set_default_verify_paths, SSL_CTX_set_verify, SSL_VERIFY_PEER, X509_STORE_CTX,
};

/// A context living as long as the configuration's pool; `trusted` empty: the system's
/// certificates.
pub fn client_context(cf: &mut ngx_conf_t, trusted: &[u8]) -> Result<*mut ngx_ssl_t, String> {
    // SAFETY: cf is the live configuration; the context is freed with its pool.
    unsafe {
        let ssl = ngx_pcalloc(cf.pool, core::mem::size_of::<ngx_ssl_t>()).cast::<ngx_ssl_t>();
        if ssl.is_null() {
            return Err("out of memory".into());
        }
        (*ssl).log = cf.log;
        let protocols = (NGX_SSL_TLSv1_2 | NGX_SSL_TLSv1_3) as _;
        if !Status(ngx_ssl_create(ssl, protocols, ptr::null_mut())).is_ok() {
            return Err("cannot create an SSL context".into());
        }
        let cln = ngx_pool_cleanup_add(cf.pool, 0);
        if cln.is_null() {
            return Err("out of memory".into());
        }
        (*cln).handler = Some(ngx_ssl_cleanup_ctx);
        (*cln).data = ssl.cast();

        // Every handshake finishes; the peer connection then reads the verdict and closes.
        SSL_CTX_set_verify((*ssl).ctx.cast(), SSL_VERIFY_PEER as _, Some(verify_later));
        if trusted.is_empty() {
            if SSL_CTX_set_default_verify_paths((*ssl).ctx.cast()) != 1 {
                return Err("cannot use the system's trusted certificates".into());
            }
        } else {
            let mut name = ngx_str_t {
                len: trusted.len(),
                data: ngx::ffi::ngx_pnalloc(cf.pool, trusted.len() + 1).cast(),
            };
            if name.data.is_null() {
                return Err("out of memory".into());
            }
            ptr::copy_nonoverlapping(trusted.as_ptr(), name.data, trusted.len());
            *name.data.add(trusted.len()) = 0;
            // Logs its own reason (file and OpenSSL's error) on failure.
            if !Status(ngx_ssl_trusted_certificate(cf, ssl, &mut name, 10)).is_ok() {
                return Err(format!(
                    "cannot load trusted certificates from \"{}\"",
                    trusted.escape_ascii()
                ));
            }
        }
        Ok(ssl)
    }
}

extern "C" fn verify_later(_ok: c_int, _store: *mut X509_STORE_CTX) -> c_int {
    1
}
