//! Requests over nginx's event loop: the name through nginx's resolver, a connection per
//! request, TLS verified, the whole exchange bounded by one timeout.

use core::ptr::NonNull;
use core::time::Duration;
use std::io;
use std::net::{IpAddr, SocketAddr};

use auth_core::http::{get_request, Response, ResponseError, ResponseReader, Url};
use ngx::async_::resolver::Resolver;
use ngx::core::Pool;
use ngx::ffi::{
    ngx_create_pool, ngx_cycle, ngx_destroy_pool, ngx_msec_t, ngx_resolver_t, ngx_ssl_t, ngx_str_t,
    NGX_DEFAULT_POOL_SIZE,
};
use thiserror::Error;

use super::peer::Peer;
use super::timeout;

const USER_AGENT: &str = concat!("ngx-auth-rs/", env!("CARGO_PKG_VERSION"));

/// How to reach the servers of one part of the configuration.
#[derive(Clone, Copy)]
pub struct Reach {
    /// For `https://`; null when the configuration has no TLS context.
    pub ssl: *mut ngx_ssl_t,
    /// Null, or a resolver without servers, when names cannot be resolved.
    pub resolver: *mut ngx_resolver_t,
    pub resolver_timeout: ngx_msec_t,
    pub timeout: Duration,
    pub max_body: usize,
}

#[derive(Debug, Error)]
pub enum FetchError {
    #[error("timed out")]
    TimedOut,
    #[error("no resolver defined to resolve {0}")]
    NoResolver(String),
    #[error("{0}")]
    Resolve(String),
    #[error("connect() to {0} failed: {1}")]
    Connect(SocketAddr, io::Error),
    #[error("SSL to {0}: {1}")]
    Tls(SocketAddr, io::Error),
    #[error("{0}")]
    Io(io::Error),
    #[error(transparent)]
    Response(#[from] ResponseError),
    #[error("no SSL context for https")]
    NoSsl,
}

pub async fn get(url: &Url, reach: &Reach, what: &str) -> Result<Response, FetchError> {
    send(url, reach, what, &get_request(url, USER_AGENT)).await
}

/// Sends `request`, made for `url` (see `user_agent()`), and reads the response.
pub async fn send(
    url: &Url,
    reach: &Reach,
    what: &str,
    request: &[u8],
) -> Result<Response, FetchError> {
    match timeout(reach.timeout, exchange(url, reach, what, request)).await {
        Some(result) => result,
        None => Err(FetchError::TimedOut),
    }
}

/// The `User-Agent` of the module's requests.
pub fn user_agent() -> &'static str {
    USER_AGENT
}

async fn exchange(
    url: &Url,
    reach: &Reach,
    what: &str,
    request: &[u8],
) -> Result<Response, FetchError> {
    if url.https && reach.ssl.is_null() {
        return Err(FetchError::NoSsl);
    }
    let addrs = resolve(&url.host, url.port, reach).await?;
    let mut last = None;
    for addr in addrs {
        match connect(url, reach, addr, what).await {
            Ok(peer) => return read_response(peer, request, reach).await,
            Err(err) => last = Some(err),
        }
    }
    Err(last.unwrap_or_else(|| FetchError::Resolve(format!("{} has no address", url.host))))
}

async fn connect(
    url: &Url,
    reach: &Reach,
    addr: SocketAddr,
    what: &str,
) -> Result<core::pin::Pin<Box<Peer>>, FetchError> {
    let mut peer = Peer::new(addr, what).map_err(FetchError::Io)?;
    peer.connect()
        .await
        .map_err(|err| FetchError::Connect(addr, err))?;
    if url.https {
        peer.handshake(reach.ssl, &url.host)
            .await
            .map_err(|err| FetchError::Tls(addr, err))?;
    }
    Ok(peer)
}

async fn read_response(
    mut peer: core::pin::Pin<Box<Peer>>,
    request: &[u8],
    reach: &Reach,
) -> Result<Response, FetchError> {
    peer.write_all(request).await.map_err(FetchError::Io)?;
    let mut reader = ResponseReader::new(reach.max_body);
    let mut buf = vec![0; 16 * 1024];
    loop {
        let n = peer.read(&mut buf).await.map_err(FetchError::Io)?;
        if n == 0 {
            return Ok(reader.finish(true)?);
        }
        if reader.push(&buf[..n])? {
            return Ok(reader.finish(false)?);
        }
    }
}

/// The addresses of `host` (a name or an address literal) with `port`.
pub async fn resolve(host: &str, port: u16, reach: &Reach) -> Result<Vec<SocketAddr>, FetchError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let resolver = NonNull::new(reach.resolver)
        // SAFETY: a non-null resolver comes from the core module's configuration.
        .filter(|r| unsafe { r.as_ref().connections.nelts } > 0)
        .ok_or_else(|| FetchError::NoResolver(host.to_owned()))?;
    let pool = TempPool::new().map_err(FetchError::Io)?;
    let name = ngx_str_t {
        len: host.len(),
        data: host.as_ptr().cast_mut(),
    };
    let found = Resolver::from_resolver(resolver, reach.resolver_timeout)
        .resolve_name(&name, &pool.0)
        .await
        .map_err(|err| FetchError::Resolve(err.to_string()))?;
    let mut addrs = Vec::with_capacity(found.len());
    for addr in found.iter() {
        // SAFETY: the resolver gives valid socket addresses of socklen bytes.
        if let Some(ip) = unsafe { ip_of(addr.sockaddr) } {
            addrs.push(SocketAddr::new(ip, port));
        }
    }
    Ok(addrs)
}

/// # Safety
/// `sa` points to a valid socket address.
unsafe fn ip_of(sa: *const ngx::ffi::sockaddr) -> Option<IpAddr> {
    // SAFETY: the caller's promise; the family says which structure it is.
    unsafe {
        match (*sa).sa_family as i32 {
            libc::AF_INET => {
                let sin = &*sa.cast::<libc::sockaddr_in>();
                Some(IpAddr::from(
                    u32::from_be(sin.sin_addr.s_addr).to_be_bytes(),
                ))
            }
            libc::AF_INET6 => {
                let sin6 = &*sa.cast::<libc::sockaddr_in6>();
                Some(IpAddr::from(sin6.sin6_addr.s6_addr))
            }
            _ => None,
        }
    }
}

struct TempPool(Pool);

impl TempPool {
    fn new() -> io::Result<Self> {
        // SAFETY: the cycle's log lives as long as the worker.
        let pool = unsafe { ngx_create_pool(NGX_DEFAULT_POOL_SIZE as usize, (*ngx_cycle).log) };
        if pool.is_null() {
            return Err(io::ErrorKind::OutOfMemory.into());
        }
        // SAFETY: the pool was just made and is destroyed by Drop only.
        Ok(TempPool(unsafe { Pool::from_ngx_pool(pool) }))
    }
}

impl Drop for TempPool {
    fn drop(&mut self) {
        // SAFETY: made by new(); what the resolver allocated in it is no longer used.
        unsafe { ngx_destroy_pool(self.0.as_ptr()) };
    }
}
