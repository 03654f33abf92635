//! Requests parked in the access phase until something they wait for is done (keys being
//! fetched), or until a time limit. Like limit_req's delay: the handler returns `NGX_AGAIN`, the
//! phase is run again when the request is woken, and a client that goes away meanwhile ends the
//! request as usual.

use core::cell::RefCell;
use core::ffi::c_void;
use core::mem;
use core::ptr::{self, addr_of_mut};

use ngx::ffi::{
    ngx_add_timer, ngx_del_timer, ngx_delete_posted_event, ngx_event_t, ngx_http_block_reading,
    ngx_http_core_run_phases, ngx_http_post_request, ngx_http_request_t,
    ngx_http_run_posted_requests, ngx_http_test_reading, ngx_msec_t, ngx_pcalloc,
    ngx_pool_cleanup_add, ngx_post_event, ngx_posted_events,
};

/// Who waits for one thing; lives at least as long as the requests parked in it.
#[derive(Default)]
pub struct Waiters(RefCell<Vec<*mut Parked>>);

pub struct Parked {
    ev: ngx_event_t,
    r: *mut ngx_http_request_t,
    waiters: *const Waiters,
}

impl Waiters {
    /// Parks `r` until `wake_all` or `limit`; false when out of memory. The caller returns
    /// `NGX_AGAIN` from its phase handler.
    pub fn park(&self, r: &mut ngx_http_request_t, limit: ngx_msec_t) -> bool {
        // SAFETY: r is a live request; what is allocated in its pool is freed with it, and the
        // cleanup takes the event off every list first.
        unsafe {
            let parked = ngx_pcalloc(r.pool, mem::size_of::<Parked>()).cast::<Parked>();
            let cln = ngx_pool_cleanup_add(r.pool, 0);
            if parked.is_null() || cln.is_null() {
                return false;
            }
            (*parked).r = r;
            (*parked).waiters = self;
            (*parked).ev.data = parked.cast();
            (*parked).ev.handler = Some(resume);
            (*parked).ev.log = (*r.connection).log;
            (*cln).handler = Some(unpark);
            (*cln).data = parked.cast();
            ngx_add_timer(addr_of_mut!((*parked).ev), limit);
            r.read_event_handler = Some(ngx_http_test_reading);
            self.0.borrow_mut().push(parked);
        }
        true
    }

    /// Wakes every parked request, from the event loop rather than from the caller's stack.
    pub fn wake_all(&self) {
        let parked = mem::take(&mut *self.0.borrow_mut());
        for p in parked {
            // SAFETY: a parked request's event lives until its cleanup took it off the list.
            unsafe {
                (*p).waiters = ptr::null();
                ngx_post_event(addr_of_mut!((*p).ev), addr_of_mut!(ngx_posted_events));
            }
        }
    }

    fn forget(&self, parked: *mut Parked) {
        self.0.borrow_mut().retain(|&p| p != parked);
    }
}

unsafe extern "C" fn resume(ev: *mut ngx_event_t) {
    // SAFETY: the event is a Parked's, and its request is alive: the cleanup would have
    // removed the timer and the posting otherwise.
    unsafe {
        let parked = (*ev).data.cast::<Parked>();
        if (*ev).timer_set() != 0 {
            ngx_del_timer(ev);
        }
        if let Some(waiters) = (*parked).waiters.as_ref() {
            waiters.forget(parked);
            (*parked).waiters = ptr::null();
        }
        let r = (*parked).r;
        (*r).read_event_handler = Some(ngx_http_block_reading);
        (*r).write_event_handler = Some(ngx_http_core_run_phases);
        if ngx_http_post_request(r, ptr::null_mut()) == 0 {
            ngx_http_run_posted_requests((*r).connection);
        }
    }
}

unsafe extern "C" fn unpark(data: *mut c_void) {
    // SAFETY: data is the Parked this cleanup was registered with.
    unsafe {
        let parked = data.cast::<Parked>();
        let ev = addr_of_mut!((*parked).ev);
        if (*ev).timer_set() != 0 {
            ngx_del_timer(ev);
        }
        if (*ev).posted() != 0 {
            ngx_delete_posted_event(ev);
        }
        if let Some(waiters) = (*parked).waiters.as_ref() {
            waiters.forget(parked);
        }
    }
}

/// The outcome of work on the event loop that requests wait for: the first to need it starts
/// it and keeps it in its context; it is parked until the work is done or a time limit.
pub struct Awaited<T> {
    out: RefCell<Option<T>>,
    waiters: Waiters,
}

impl<T: 'static> Awaited<T> {
    /// Runs `work` for `r`, parked until it ends or `limit` passes; `None` when out of memory.
    pub fn start(
        r: &mut ngx_http_request_t,
        limit: ngx_msec_t,
        what: &'static str,
        work: impl core::future::Future<Output = T> + 'static,
    ) -> Option<std::rc::Rc<Awaited<T>>> {
        let this = std::rc::Rc::new(Awaited {
            out: RefCell::new(None),
            waiters: Waiters::default(),
        });
        if !this.waiters.park(r, limit) {
            return None;
        }
        let task = this.clone();
        crate::net::spawn(what, async move {
            let out = work.await;
            *task.out.borrow_mut() = Some(out);
            task.waiters.wake_all();
        });
        Some(this)
    }

    /// The outcome, once; `None` while the work runs (the limit passed).
    pub fn take(&self) -> Option<T> {
        self.out.borrow_mut().take()
    }
}
