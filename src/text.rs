//! nginx strings as bytes and as text.

use ngx::ffi::ngx_str_t;

/// The bytes of an nginx string; empty when it has none.
pub fn str_bytes(s: &ngx_str_t) -> &[u8] {
    if s.len == 0 || s.data.is_null() {
        return &[];
    }
    // SAFETY: an ngx_str_t with a non-null data pointer holds `len` readable bytes.
    unsafe { core::slice::from_raw_parts(s.data, s.len) }
}

/// An argument as UTF-8 text.
pub fn text(arg: &ngx_str_t) -> Result<&str, String> {
    core::str::from_utf8(str_bytes(arg)).map_err(|_| "invalid UTF-8".to_owned())
}
