//! Values a request must have: each non-empty and not "0", else a status. `auth_require` and
//! `auth_jwt_require` are made of them.

use ngx::ffi::{ngx_conf_t, ngx_http_complex_value_t, ngx_http_request_t};

use crate::directive::{args, compile_complex_value};
use crate::request::complex_value;
use crate::text::str_bytes;

/// Values that must all be non-empty and not "0", and the status when one is not.
pub struct Require {
    pub values: Vec<*mut ngx_http_complex_value_t>,
    pub status: u32,
}

impl Require {
    /// Parses the directive's arguments: values with variables, and a last `error=` that
    /// `status` accepts (else `default`).
    pub fn parse(
        cf: &mut ngx_conf_t,
        default: u32,
        status: impl Fn(&[u8]) -> Result<u32, String>,
    ) -> Result<Require, String> {
        let count = args(cf).len();
        let mut code = default;
        let mut last = count;
        if let Some(error) = str_bytes(&args(cf)[count - 1]).strip_prefix(b"error=") {
            code = status(error)?;
            last -= 1;
        }
        if last < 2 {
            return Err("no value to require".to_owned());
        }
        let values = (1..last)
            .map(|i| {
                let arg = args(cf)[i];
                let cv = compile_complex_value(cf, arg, false)
                    .ok_or_else(|| "invalid value".to_owned())?;
                // SAFETY: compile_complex_value returned an initialized complex value.
                if unsafe { (*cv).lengths.is_null() } {
                    return Err(format!(
                        "\"{}\" has no variables: it would decide the same for every request",
                        str_bytes(&arg).escape_ascii()
                    ));
                }
                Ok(cv)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Require {
            values,
            status: code,
        })
    }

    /// Whether every value holds for `r`; `Err` when one cannot be evaluated.
    pub fn holds(&self, r: &mut ngx_http_request_t) -> Result<bool, ()> {
        for &value in &self.values {
            let value = complex_value(r, value).ok_or(())?;
            let value = str_bytes(&value);
            if value.is_empty() || value == b"0" {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
