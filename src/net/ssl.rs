//! The TLS client contexts of the module's own connections, made with the configuration:
//! TLS 1.2 and 1.3, the peer's certificate verified against the system's trusted certificates
//! or a file of them.

use core::cell::RefCell;
use core::ffi::c_int;
use core::ptr;

use ngx::core::Status;
use ngx::ffi::{
    ngx_conf_t, ngx_pcalloc, ngx_pool_cleanup_add, ngx_ssl_cleanup_ctx, ngx_ssl_create,
    ngx_ssl_crl, ngx_ssl_t, ngx_ssl_trusted_certificate, NGX_SSL_TLSv1_2, NGX_SSL_TLSv1_3,
    SSL_CTX_set_default_verify_paths, SSL_CTX_set_verify, SSL_VERIFY_PEER, X509_STORE_CTX,
};

use crate::directive::conf_str;

/// What a peer's certificate is verified with: files of trusted certificates and of revoked
/// ones (CRLs), as full paths; empty: the system's certificates, no CRL.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Trust {
    pub trusted: Vec<u8>,
    pub crl: Vec<u8>,
}

/// The client contexts made with the configuration, one per trust, shared by every
/// connection that verifies its peer the same way.
#[derive(Default)]
pub struct SslContexts(RefCell<Vec<(Trust, *mut ngx_ssl_t)>>);

impl SslContexts {
    /// The context for `trust`, made on first use.
    pub fn get(&self, cf: &mut ngx_conf_t, trust: &Trust) -> Result<*mut ngx_ssl_t, String> {
        if let Some((_, ssl)) = self.0.borrow().iter().find(|(t, _)| t == trust) {
            return Ok(*ssl);
        }
        let ssl = client_context(cf, trust)?;
        self.0.borrow_mut().push((trust.clone(), ssl));
        Ok(ssl)
    }
}

/// A context living as long as the configuration's pool.
pub fn client_context(cf: &mut ngx_conf_t, trust: &Trust) -> Result<*mut ngx_ssl_t, String> {
    let trusted = trust.trusted.as_slice();
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
            let mut name = conf_str(cf, trusted)?;
            // Logs its own reason (file and OpenSSL's error) on failure.
            if !Status(ngx_ssl_trusted_certificate(cf, ssl, &mut name, 10)).is_ok() {
                return Err(format!(
                    "cannot load trusted certificates from \"{}\"",
                    trusted.escape_ascii()
                ));
            }
        }
        if !trust.crl.is_empty() {
            let mut name = conf_str(cf, &trust.crl)?;
            // Checks every certificate of the chain against the CRLs; logs its own reason.
            if !Status(ngx_ssl_crl(cf, ssl, &mut name)).is_ok() {
                return Err(format!(
                    "cannot load the CRL \"{}\"",
                    trust.crl.escape_ascii()
                ));
            }
        }
        Ok(ssl)
    }
}

extern "C" fn verify_later(_ok: c_int, _store: *mut X509_STORE_CTX) -> c_int {
    1
}
