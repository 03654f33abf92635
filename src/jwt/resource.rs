//! `auth_jwt_resource`: the location is a protected resource (RFC 9728). Tokens must name it
//! in `aud`, its challenges say where its metadata is, and the module answers that metadata on
//! the server, wherever the request lands.

use core::cell::RefCell;
use core::ffi::{c_char, c_void};
use std::rc::Rc;

use auth_core::jwt::resource::{Dpop, Resource, WELL_KNOWN};
use ngx::ffi::{
    ngx_command_t, ngx_conf_t, ngx_http_request_t, ngx_int_t, NGX_HTTP_GET, NGX_HTTP_HEAD,
    NGX_HTTP_NOT_ALLOWED, NGX_HTTP_OK,
};

use super::{conf, JwtConf};
use crate::bearer;
use crate::directive::{args, done, DUPLICATE};
use crate::part::SrvPart;
use crate::request;
use crate::text::{str_bytes, text};

/// The resources of a server, whose metadata it answers.
#[derive(Default)]
pub struct JwtSrv {
    /// With what the first location that names each says of DPoP.
    resources: RefCell<Vec<(Rc<Resource>, Option<Dpop>)>>,
}

/// `auth_jwt_resource uri [authorization_server=url ...] [scopes=a,b,...]`.
pub fn set_auth_jwt_resource(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    let (cf, jcf) = conf(cf, cmd, c);
    if jcf.resource.is_some() {
        return DUPLICATE;
    }
    let result = (|| {
        let all = args(cf);
        let uri = text(&all[1])?;
        let (mut servers, mut scopes) = (Vec::new(), None);
        for arg in &all[2..] {
            let arg = text(arg)?;
            if let Some(server) = arg.strip_prefix("authorization_server=") {
                servers.push(server.to_owned());
            } else if let Some(list) = arg.strip_prefix("scopes=") {
                if scopes.is_some() {
                    return Err("\"scopes=\" is duplicate".to_owned());
                }
                scopes = Some(list.split(',').map(str::to_owned).collect());
            } else {
                return Err(format!("invalid parameter \"{arg}\""));
            }
        }
        let resource = Resource::new(uri, servers, scopes.unwrap_or_default())?;
        jcf.resource = Some(Rc::new(resource));
        Ok(())
    })();
    done(cf, result)
}

/// Records the location's resource in the server being merged.
pub fn register(cf: &ngx_conf_t, jcf: &JwtConf) {
    let (Some(resource), Some(srv)) = (&jcf.resource, JwtSrv::of(cf)) else {
        return;
    };
    let mut resources = srv.resources.borrow_mut();
    if !resources.iter().any(|(r, _)| Rc::ptr_eq(r, resource)) {
        let dpop = match jcf.dpop() {
            bearer::Dpop::Off => None,
            bearer::Dpop::On => Some(Dpop { required: false }),
            bearer::Dpop::Required => Some(Dpop { required: true }),
        };
        resources.push((resource.clone(), dpop));
    }
}

/// Answers a request for the metadata of one of the server's resources; `None` for any other.
pub fn metadata(r: &mut ngx_http_request_t) -> Option<ngx_int_t> {
    let srv = JwtSrv::of(r)?;
    let resources = srv.resources.borrow();
    if resources.is_empty() {
        return None;
    }
    let uri = str_bytes(&r.uri);
    if !uri.starts_with(WELL_KNOWN.as_bytes()) {
        return None;
    }
    let (resource, dpop) = resources
        .iter()
        .find(|(res, _)| res.metadata_path.as_bytes() == uri)?
        .clone();
    drop(resources);
    if r.method != NGX_HTTP_GET as usize && r.method != NGX_HTTP_HEAD as usize {
        return Some(NGX_HTTP_NOT_ALLOWED as ngx_int_t);
    }
    let body = resource.metadata(dpop);
    Some(request::send(
        r,
        NGX_HTTP_OK,
        Some(b"application/json"),
        body.as_bytes(),
    ))
}
