//! One connection to a server, on nginx's event loop: `ngx_event_connect_peer`, then nginx's
//! OpenSSL layer, driven by a future. Read and write events wake the task that owns it.

use core::ffi::{c_int, c_void, CStr};
use core::future::poll_fn;
use core::mem;
use core::pin::Pin;
use core::ptr;
use core::task::{Context, Poll, Waker};
use std::io;
use std::net::{IpAddr, SocketAddr};

use ngx::ffi::{
    ngx_close_connection, ngx_connection_t, ngx_create_pool, ngx_cycle, ngx_destroy_pool,
    ngx_event_connect_peer, ngx_event_get_peer, ngx_event_t, ngx_handle_read_event,
    ngx_handle_write_event, ngx_log_t, ngx_peer_connection_t, ngx_pool_t,
    ngx_ssl_create_connection, ngx_ssl_handshake, ngx_ssl_shutdown, ngx_ssl_t, ngx_str_t, SSL_ctrl,
    SSL_get0_param, SSL_get_verify_result, TLSEXT_NAMETYPE_host_name, X509_VERIFY_PARAM_set1_host,
    X509_VERIFY_PARAM_set1_ip, X509_verify_cert_error_string, NGX_AGAIN, NGX_DECLINED,
    NGX_DEFAULT_POOL_SIZE, NGX_ERROR, NGX_OK, NGX_SSL_CLIENT, SSL_CTRL_SET_TLSEXT_HOSTNAME,
    X509_V_OK,
};

/// A connection being made or made; closed when dropped. Pinned: nginx's events point at it.
pub struct Peer {
    pool: *mut ngx_pool_t,
    pc: ngx_peer_connection_t,
    sockaddr: libc::sockaddr_storage,
    name: ngx_str_t,
    /// " while …" for nginx's own log lines about this connection.
    action: Vec<u8>,
    waker: Option<Waker>,
    handshake_done: bool,
}

impl Peer {
    /// A peer for `addr`; `what` says in log lines what the connection is for.
    pub fn new(addr: SocketAddr, what: &str) -> io::Result<Pin<Box<Peer>>> {
        Peer::make(&addr.to_string(), what, |out| write_sockaddr(addr, out))
    }

    /// A peer for the Unix-domain socket `path`.
    pub fn unix(path: &str, what: &str) -> io::Result<Pin<Box<Peer>>> {
        let text = format!("unix:{path}");
        if path.len() >= 108 {
            return Err(io::ErrorKind::InvalidInput.into());
        }
        Peer::make(&text, what, |out| {
            // SAFETY: sockaddr_storage is large and aligned enough for any socket address.
            let sun = unsafe { &mut *ptr::from_mut(out).cast::<libc::sockaddr_un>() };
            sun.sun_family = libc::AF_UNIX as _;
            for (d, s) in sun.sun_path.iter_mut().zip(path.bytes()) {
                *d = s as _;
            }
            mem::size_of::<libc::sockaddr_un>() as _
        })
    }

    fn make(
        text: &str,
        what: &str,
        sockaddr: impl FnOnce(&mut libc::sockaddr_storage) -> libc::socklen_t,
    ) -> io::Result<Pin<Box<Peer>>> {
        // SAFETY: the cycle's log is valid for the worker's life; the pool is ours to destroy.
        let (pool, log) = unsafe {
            let cycle_log = (*ngx_cycle).log;
            let pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE as usize, cycle_log);
            if pool.is_null() {
                return Err(io::ErrorKind::OutOfMemory.into());
            }
            let log = ngx::ffi::ngx_pcalloc(pool, mem::size_of::<ngx_log_t>()).cast::<ngx_log_t>();
            if log.is_null() {
                ngx_destroy_pool(pool);
                return Err(io::ErrorKind::OutOfMemory.into());
            }
            ptr::copy_nonoverlapping(cycle_log, log, 1);
            (*pool).log = log;
            (pool, log)
        };
        let mut peer = Box::pin(Peer {
            pool,
            // SAFETY: an all-zero ngx_peer_connection_t is its "nothing set" state.
            pc: unsafe { mem::zeroed() },
            // SAFETY: likewise for a socket address.
            sockaddr: unsafe { mem::zeroed() },
            name: ngx_str_t::default(),
            action: format!(" while {what}, server: {text}").into_bytes(),
            waker: None,
            handshake_done: false,
        });
        // SAFETY: the peer is pinned: the pointers into it below stay valid while it lives.
        unsafe {
            let this = peer.as_mut().get_unchecked_mut();
            this.name = ngx_str_t {
                len: text.len(),
                data: ngx::ffi::ngx_pnalloc(pool, text.len()).cast(),
            };
            if this.name.data.is_null() {
                return Err(io::ErrorKind::OutOfMemory.into());
            }
            ptr::copy_nonoverlapping(text.as_ptr(), this.name.data, text.len());
            let socklen = sockaddr(&mut this.sockaddr);
            (*log).handler = Some(log_handler);
            (*log).data = ptr::from_mut(this).cast();
            let pc = &mut this.pc;
            pc.sockaddr = ptr::addr_of_mut!(this.sockaddr).cast();
            pc.socklen = socklen;
            pc.name = &mut this.name;
            pc.get = Some(ngx_event_get_peer);
            pc.log = log;
            pc.set_log_error(ngx::ffi::ngx_connection_log_error_e_NGX_ERROR_ERR as _);
        }
        Ok(peer)
    }

    fn connection(&mut self) -> Option<&mut ngx_connection_t> {
        // SAFETY: pc.connection is null or the live connection nginx gave this peer.
        unsafe { self.pc.connection.as_mut() }
    }

    pub async fn connect(self: &mut Pin<Box<Peer>>) -> io::Result<()> {
        // SAFETY: the peer stays pinned; only its fields are written.
        let this = unsafe { self.as_mut().get_unchecked_mut() };
        // SAFETY: pc is fully set up by new().
        let rc = unsafe { ngx_event_connect_peer(&mut this.pc) };
        if rc == NGX_DECLINED as isize {
            return Err(io::ErrorKind::ConnectionRefused.into());
        }
        if rc != NGX_OK as isize && rc != NGX_AGAIN as isize {
            return Err(io::Error::other("cannot connect"));
        }
        let data = ptr::from_mut(this).cast::<c_void>();
        let pool = this.pool;
        let Some(c) = this.connection() else {
            return Err(io::ErrorKind::ConnectionRefused.into());
        };
        c.data = data;
        c.pool = pool;
        // SAFETY: a connection from ngx_event_connect_peer has both events.
        unsafe {
            (*c.read).handler = Some(read_handler);
            (*c.write).handler = Some(write_handler);
            (*c.log).connection = c.number;
        }
        if rc == NGX_OK as isize {
            return Ok(());
        }
        // In progress: the write event says when it is done.
        poll_fn(|cx| {
            // SAFETY: as above.
            let this = unsafe { self.as_mut().get_unchecked_mut() };
            let Some(c) = this.connection() else {
                return Poll::Ready(Err(io::ErrorKind::ConnectionRefused.into()));
            };
            // SAFETY: the connection's events are valid while it is open.
            if unsafe { (*c.write).ready() } == 0 {
                this.waker = Some(cx.waker().clone());
                return Poll::Pending;
            }
            Poll::Ready(socket_error(c.fd))
        })
        .await
    }

    /// TLS with SNI and the certificate checked against `host` (a name or an address) and the
    /// context's trusted certificates.
    pub async fn handshake(
        self: &mut Pin<Box<Peer>>,
        ssl: *mut ngx_ssl_t,
        host: &str,
    ) -> io::Result<()> {
        {
            // SAFETY: the peer stays pinned; only its fields are written.
            let this = unsafe { self.as_mut().get_unchecked_mut() };
            let Some(c) = this.connection() else {
                return Err(io::ErrorKind::NotConnected.into());
            };
            // SAFETY: ssl is a context made at configuration time; c is a live connection.
            unsafe {
                if ngx_ssl_create_connection(ssl, c, NGX_SSL_CLIENT as _) != NGX_OK as isize {
                    return Err(io::Error::other("SSL connection failed"));
                }
                let conn = (*c.ssl).connection.cast();
                let param = SSL_get0_param(conn);
                let ok = match host.parse::<IpAddr>() {
                    Ok(IpAddr::V4(ip)) => {
                        X509_VERIFY_PARAM_set1_ip(param, ip.octets().as_ptr(), 4) == 1
                    }
                    Ok(IpAddr::V6(ip)) => {
                        X509_VERIFY_PARAM_set1_ip(param, ip.octets().as_ptr(), 16) == 1
                    }
                    Err(_) => {
                        let name = std::ffi::CString::new(host).map_err(io::Error::other)?;
                        SSL_ctrl(
                            conn,
                            SSL_CTRL_SET_TLSEXT_HOSTNAME as c_int,
                            TLSEXT_NAMETYPE_host_name as _,
                            name.as_ptr().cast_mut().cast(),
                        ) == 1
                            && X509_VERIFY_PARAM_set1_host(param, name.as_ptr(), host.len()) == 1
                    }
                };
                if !ok {
                    return Err(io::Error::other("SSL parameters could not be set"));
                }
            }
        }
        // SAFETY: the peer stays pinned; the connection has an SSL connection now.
        let rc = unsafe {
            let this = self.as_mut().get_unchecked_mut();
            this.handshake_done = false;
            let c = this.pc.connection;
            let rc = ngx_ssl_handshake(c);
            if rc == NGX_AGAIN as isize {
                (*(*c).ssl).handler = Some(ssl_handler);
            }
            rc
        };
        if rc == NGX_AGAIN as isize {
            // ngx_ssl_handshake_handler calls ssl_handler when the handshake has ended.
            poll_fn(|cx| {
                // SAFETY: as above.
                let this = unsafe { self.as_mut().get_unchecked_mut() };
                if this.handshake_done {
                    return Poll::Ready(());
                }
                this.waker = Some(cx.waker().clone());
                Poll::Pending
            })
            .await;
        } else if rc != NGX_OK as isize {
            return Err(io::Error::other("SSL handshake failed"));
        }
        // SAFETY: the peer stays pinned; only its fields are used.
        let Some(c) = unsafe { self.as_mut().get_unchecked_mut() }.connection() else {
            return Err(io::ErrorKind::NotConnected.into());
        };
        // SAFETY: c is live and has its SSL connection.
        unsafe {
            (*c.read).handler = Some(read_handler);
            (*c.write).handler = Some(write_handler);
            if (*c.ssl).handshaked() == 0 {
                return Err(io::Error::other("SSL handshake failed"));
            }
            // ngx_ssl_verify_callback lets every handshake finish: the verdict is here.
            let verify = SSL_get_verify_result((*c.ssl).connection.cast());
            if verify != X509_V_OK as core::ffi::c_long {
                let reason = CStr::from_ptr(X509_verify_cert_error_string(verify));
                return Err(io::Error::other(format!(
                    "SSL certificate verify error: ({verify}:{})",
                    reason.to_string_lossy()
                )));
            }
        }
        Ok(())
    }

    pub async fn write_all(self: &mut Pin<Box<Peer>>, mut data: &[u8]) -> io::Result<()> {
        poll_fn(|cx| {
            // SAFETY: the peer stays pinned; only its fields are written.
            let this = unsafe { self.as_mut().get_unchecked_mut() };
            let Some(c) = this.connection() else {
                return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
            };
            while !data.is_empty() {
                // SAFETY: send is set on every connection; data is a valid slice.
                let n =
                    unsafe { c.send.unwrap_unchecked()(c, data.as_ptr().cast_mut(), data.len()) };
                if n == NGX_AGAIN as isize {
                    // SAFETY: c.write is the connection's write event.
                    if unsafe { ngx_handle_write_event(c.write, 0) } != NGX_OK as isize {
                        return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
                    }
                    this.waker = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                if n <= 0 {
                    return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
                }
                data = &data[n as usize..];
            }
            Poll::Ready(Ok(()))
        })
        .await
    }

    /// Some bytes, or 0 at the end of the stream.
    pub async fn read(self: &mut Pin<Box<Peer>>, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.as_mut().poll_read(cx, buf)).await
    }

    /// Marks the connection as one that a worker shutting down closes at once, as nginx does
    /// with its idle keepalive connections.
    pub fn set_idle(self: &mut Pin<Box<Peer>>) {
        // SAFETY: the peer stays pinned; only its fields are written.
        if let Some(c) = unsafe { self.as_mut().get_unchecked_mut() }.connection() {
            c.set_idle(1);
        }
    }

    pub fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        // SAFETY: the peer stays pinned; only its fields are written.
        let this = unsafe { self.get_unchecked_mut() };
        let Some(c) = this.connection() else {
            return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
        };
        // SAFETY: recv is set on every connection; buf is a valid slice.
        let n = unsafe { c.recv.unwrap_unchecked()(c, buf.as_mut_ptr(), buf.len()) };
        if n == NGX_AGAIN as isize {
            // SAFETY: c.read is the connection's read event.
            if unsafe { ngx_handle_read_event(c.read, 0) } != NGX_OK as isize {
                return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into()));
            }
            this.waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        if n == NGX_ERROR as isize {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        Poll::Ready(Ok(n.max(0) as usize))
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.close();
        // SAFETY: the pool was made by new() and nothing of it is used any more.
        unsafe { ngx_destroy_pool(self.pool) };
    }
}

impl Peer {
    fn close(&mut self) {
        if let Some(c) = self.connection() {
            // SAFETY: the connection is ours; after closing it nothing refers to it.
            unsafe {
                if !c.ssl.is_null() {
                    (*c.ssl).set_no_wait_shutdown(1);
                    let _ = ngx_ssl_shutdown(c);
                }
                ngx_close_connection(c);
            }
            self.pc.connection = ptr::null_mut();
        }
    }
}

fn wake(c: *mut ngx_connection_t) {
    // SAFETY: c.data is the Peer that owns the connection (set in connect) while it is open.
    unsafe {
        let peer = (*c).data.cast::<Peer>();
        if let Some(waker) = (*peer).waker.take() {
            waker.wake();
        }
    }
}

unsafe extern "C" fn read_handler(ev: *mut ngx_event_t) {
    // SAFETY: nginx calls this with the read event of a connection of a Peer; c.data is that
    // Peer while the connection is open.
    unsafe {
        let c: *mut ngx_connection_t = (*ev).data.cast();
        let peer = (*c).data.cast::<Peer>();
        // A worker shutting down asks its idle connections to close, and may exit before the
        // task that owns the peer runs again: the peer closes it here, and the task finds it
        // closed.
        if (*c).close() != 0 {
            (*peer).close();
        }
        if let Some(waker) = (*peer).waker.take() {
            waker.wake();
        }
    }
}

unsafe extern "C" fn write_handler(ev: *mut ngx_event_t) {
    // SAFETY: nginx calls this with the write event of a connection of a Peer.
    wake(unsafe { (*ev).data.cast() });
}

unsafe extern "C" fn ssl_handler(c: *mut ngx_connection_t) {
    // SAFETY: nginx calls this for a connection of a Peer when its handshake has ended.
    unsafe { (*(*c).data.cast::<Peer>()).handshake_done = true };
    wake(c);
}

/// Appends " while …, server: …" to nginx's lines about the connection.
unsafe extern "C" fn log_handler(log: *mut ngx_log_t, buf: *mut u8, len: usize) -> *mut u8 {
    // SAFETY: log.data is the Peer whose log this is; buf has len writable bytes.
    unsafe {
        let peer = (*log).data.cast::<Peer>();
        if peer.is_null() {
            return buf;
        }
        let action = &(*peer).action;
        let n = action.len().min(len);
        ptr::copy_nonoverlapping(action.as_ptr(), buf, n);
        buf.add(n)
    }
}

fn socket_error(fd: c_int) -> io::Result<()> {
    let mut err: c_int = 0;
    let mut len = mem::size_of::<c_int>() as libc::socklen_t;
    // SAFETY: err and len are valid for getsockopt to write.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            ptr::addr_of_mut!(err).cast(),
            &mut len,
        )
    };
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    if err != 0 {
        return Err(io::Error::from_raw_os_error(err));
    }
    Ok(())
}

fn write_sockaddr(addr: SocketAddr, out: &mut libc::sockaddr_storage) -> libc::socklen_t {
    match addr {
        SocketAddr::V4(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for any socket address.
            let sin = unsafe { &mut *ptr::from_mut(out).cast::<libc::sockaddr_in>() };
            sin.sin_family = libc::AF_INET as _;
            sin.sin_port = a.port().to_be();
            sin.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
            mem::size_of::<libc::sockaddr_in>() as _
        }
        SocketAddr::V6(a) => {
            // SAFETY: as above.
            let sin6 = unsafe { &mut *ptr::from_mut(out).cast::<libc::sockaddr_in6>() };
            sin6.sin6_family = libc::AF_INET6 as _;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_addr.s6_addr = a.ip().octets();
            sin6.sin6_scope_id = a.scope_id();
            mem::size_of::<libc::sockaddr_in6>() as _
        }
    }
}
