//! How a capability finds its part of the module's state. The module's face (`module.rs`)
//! holds the one main, server, location and request state of the module and implements these traits
//! for each part, so that a capability asks for its own type (`JwtConf::of(r)`) and never
//! learns where it lies or what else is there.

use ngx::ffi::ngx_http_request_t;
use ngx::http::HttpModuleConfExt;

/// A part of the module's main configuration (`http` level).
pub trait MainPart: 'static {
    fn of(o: &impl HttpModuleConfExt) -> Option<&'static Self>;
}

/// A part of the module's configuration of a server.
pub trait SrvPart: 'static {
    fn of(o: &impl HttpModuleConfExt) -> Option<&'static Self>;
}

/// A part of the module's configuration of a location.
pub trait LocPart: 'static {
    fn of(o: &impl HttpModuleConfExt) -> Option<&'static Self>;
}

/// A part of what the module keeps for a request, which lives as long as the main request.
pub trait RequestPart {
    /// The part, if the module made the request's state.
    fn of(r: &ngx_http_request_t) -> Option<&Self>;
    /// The part, the request's state made on first use; `None` when out of memory.
    fn of_or_create(r: &ngx_http_request_t) -> Option<&Self>;
}
