//! The HTTP of the module's own requests to identity providers: URLs, requests, responses.
//! Connections, TLS and names are the nginx layer's.

mod response;
mod url;

pub use response::{Response, ResponseError, ResponseReader};
pub use url::{Url, UrlError};

/// `GET` of `url`, on a connection closed after the response.
pub fn get_request(url: &Url, user_agent: &str) -> Vec<u8> {
    format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {user_agent}\r\n\
         Accept: application/json\r\nConnection: close\r\n\r\n",
        url.path,
        url.authority()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_request_names_host_and_closes() {
        let url = Url::parse("https://idp.example:8443/certs?v=1").unwrap();
        assert_eq!(
            get_request(&url, "ngx-auth-rs/0.1.0"),
            b"GET /certs?v=1 HTTP/1.1\r\nHost: idp.example:8443\r\nUser-Agent: ngx-auth-rs/0.1.0\r\n\
              Accept: application/json\r\nConnection: close\r\n\r\n"
        );
    }
}
