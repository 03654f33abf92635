//! Where log messages go: the request's log at run time, the configuration file while parsing.

use core::fmt;
use core::mem::MaybeUninit;
use std::io;

use ngx::ffi::{ngx_conf_log_error, ngx_conf_t, ngx_err_t, ngx_log_t, ngx_uint_t};
use ngx::log::{log_error, write_fmt, LOG_BUFFER_SIZE};

pub enum Sink<'a> {
    /// A running request or cycle; `log` must stay valid while the sink is used.
    Log(*mut ngx_log_t),
    /// The configuration being parsed: messages name the file and line of the directive.
    Conf(&'a mut ngx_conf_t),
}

impl Sink<'_> {
    /// Logs `args` with the cause: errno in nginx's form, or the error's own text.
    pub fn io_error(&mut self, level: u32, err: &io::Error, args: fmt::Arguments) {
        match err.raw_os_error() {
            Some(errno) => self.error(level, errno, args),
            None => self.error(level, 0, format_args!("{args} ({err})")),
        }
    }

    /// Logs `args`; a non-zero `err` appends nginx's "(errno: description)".
    pub fn error(&mut self, level: u32, err: ngx_err_t, args: fmt::Arguments) {
        let level = level as ngx_uint_t;
        let mut buf = [const { MaybeUninit::<u8>::uninit() }; LOG_BUFFER_SIZE];

        match self {
            Sink::Log(log) => {
                // SAFETY: the variant's contract keeps `log` valid.
                if level > unsafe { (**log).log_level } {
                    return;
                }
                let message = write_fmt(&mut buf, args);
                // SAFETY: as above; the message is a plain byte slice.
                unsafe { log_error(level, *log, err, message) };
            }
            Sink::Conf(cf) => {
                let message = write_fmt(&mut buf, args);
                // SAFETY: cf is the live configuration context; "%*s" takes a length and a pointer.
                unsafe {
                    ngx_conf_log_error(
                        level,
                        *cf,
                        err,
                        c"%*s".as_ptr(),
                        message.len(),
                        message.as_ptr(),
                    )
                };
            }
        }
    }
}
