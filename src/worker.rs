//! The worker process as the module's background work sees it: its log, and whether it is
//! shutting down.

use ngx::ffi::{ngx_cycle, ngx_exiting, ngx_quit, ngx_terminate};

use crate::log::Sink;

/// The log of the worker's cycle, for work that belongs to no request.
pub fn cycle_log() -> Sink<'static> {
    // SAFETY: the cycle's log lives as long as the worker.
    Sink::Log(unsafe { (*ngx_cycle).log })
}

/// Whether the worker is on its way out (a reload, a quit or a stop).
pub fn shutting_down() -> bool {
    // SAFETY: plain flags that the worker's signal handlers set.
    unsafe { ngx_exiting != 0 || ngx_quit != 0 || ngx_terminate != 0 }
}
