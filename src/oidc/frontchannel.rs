//! Front-channel logout (OpenID Connect Front-Channel Logout 1.0): the provider loads
//! `frontchannel_logout_uri` in the browser, naming the session by `iss` and `sid`, or the
//! session cookie comes with it; every worker then refuses that session.

use std::rc::Rc;

use auth_core::oidc::logout::frontchannel_sid;
use ngx::ffi::{
    ngx_http_request_t, ngx_int_t, NGX_HTTP_BAD_REQUEST, NGX_HTTP_INTERNAL_SERVER_ERROR,
    NGX_LOG_INFO,
};

use super::backchannel::{id, mark, respond};
use super::headers::cookies;
use super::provider::Provider;
use super::OidcMain;
use crate::part::MainPart;
use crate::request;
use crate::text::str_bytes;

pub fn handle(r: &mut ngx_http_request_t, provider: &Rc<Provider>) -> ngx_int_t {
    let s = &provider.settings;
    let now = request::now();
    let query = String::from_utf8_lossy(str_bytes(&r.args)).into_owned();
    let sid = frontchannel_sid(&query, &s.issuer).or_else(|| {
        let sealer = OidcMain::of(r)?.sealer.borrow().clone()?;
        let header = cookies(r);
        let loaded = super::sessions::load(provider, &header, now)?.ok()?;
        loaded.open(provider, &sealer, now).ok()?.sid.clone()
    });
    let Some(sid) = sid else {
        request::log(r).error(
            NGX_LOG_INFO,
            0,
            format_args!("auth_oidc: front-channel logout refused: no iss and sid of the provider, and no session"),
        );
        return NGX_HTTP_BAD_REQUEST as ngx_int_t;
    };
    if OidcMain::of(r).and_then(|m| m.zone.get()).is_none() {
        return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
    }
    // Unauthenticated: the mark may not push out another one (a back-channel logout's).
    let until = now + s.session_timeout as i64;
    mark(r, provider, &id(provider, "sid", &sid), (now, until), true);
    request::log(r).error(
        NGX_LOG_INFO,
        0,
        format_args!(
            "auth_oidc: front-channel logout at \"{}\": the session ended",
            provider.name
        ),
    );
    respond(r)
}
