//! ngx_http_auth_rs_module: authentication in the nginx worker.
//!
//! Three floors, imports pointing down: the module's face (`module`) on top; the capabilities
//! (`htpasswd`, `jwt`, `oidc`, `require`), which never import one another, in the middle; and
//! the nginx helpers they share, which import no capability, at the bottom. `auth-core` holds
//! the pure logic under all three.

mod module;

mod htpasswd;
mod jwt;
mod oidc;
mod require;
#[cfg(feature = "test-hooks")]
mod signature_check;

mod bearer;
mod cache;
mod directive;
mod dpop;
mod file_cache;
mod guard;
mod headers;
mod key_source;
mod log;
mod marks;
mod net;
mod part;
mod redis;
mod remote_user;
mod request;
mod requirement;
mod shm;
mod store;
#[cfg(feature = "test-hooks")]
mod test_hooks;
mod text;
mod variables;
mod wait;
mod worker;
