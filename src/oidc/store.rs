//! `oidc_session_zone zone=name:size` and the providers' `session_store name`: sessions kept
//! in shared memory (`crate::store`), for all workers, while the browser's cookie holds only a
//! random id. The value kept is the sealed session, as a cookie would have it.

use core::ffi::{c_char, c_void};

use ngx::ffi::{ngx_command_t, ngx_conf_t, ngx_str_t};

use super::OidcMain;
use crate::directive::{self, args, done, zone_size};
pub use crate::store::Store;
use crate::text::str_bytes;

/// Places of the index per byte of the zone: sealed sessions take 2 to 4 KB each.
const BYTES_PER_PLACE: usize = 1024;

/// `oidc_session_zone zone=name:size`.
pub fn set_oidc_session_zone(
    cf: *mut ngx_conf_t,
    cmd: *mut ngx_command_t,
    c: *mut c_void,
) -> *mut c_char {
    // SAFETY: nginx passes a valid configuration context; cmd.offset is this part's.
    let (cf, main) = unsafe { (&mut *cf, directive::part::<OidcMain>(c, cmd)) };
    let result = (|| {
        let arg = args(cf)[1];
        let text = str_bytes(&arg);
        let spec = text.strip_prefix(b"zone=").ok_or_else(|| {
            format!(
                "invalid parameter \"{}\"; it must be zone=name:size",
                text.escape_ascii()
            )
        })?;
        let colon = spec.iter().rposition(|&b| b == b':');
        let (name, size) = match colon {
            Some(i) if i > 0 => (&spec[..i], &spec[i + 1..]),
            _ => return Err(format!("invalid zone \"{}\"", spec.escape_ascii())),
        };
        let size = zone_size(size).map_err(|min| {
            format!(
                "zone \"{}\" is too small; at least {}k",
                name.escape_ascii(),
                min / 1024
            )
        })?;
        let name = core::str::from_utf8(name)
            .map_err(|_| "invalid zone name".to_owned())?
            .to_owned();
        if main.stores.borrow().iter().any(|s| s.name == name) {
            return Err(format!("zone \"{name}\" is duplicate"));
        }
        let shm_name = ngx_str_t {
            len: name.len(),
            data: arg.data.wrapping_add(5),
        };
        let store = Store::add::<BYTES_PER_PLACE>(cf, shm_name, size)?;
        main.stores.borrow_mut().push(std::rc::Rc::new(store));
        Ok(())
    })();
    done(cf, result)
}
