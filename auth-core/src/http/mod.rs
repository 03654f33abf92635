//! The HTTP of the module's own requests to identity providers: URLs, requests, responses.
//! Connections, TLS and names are the nginx layer's.

pub mod form;
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

/// `POST` of a form to `url`, with `authorization` (a whole header value) if given, on a
/// connection closed after the response.
pub fn post_form(
    url: &Url,
    user_agent: &str,
    authorization: Option<&str>,
    pairs: &[(&str, &str)],
) -> Vec<u8> {
    let body = form::encode_pairs(pairs);
    let authorization = authorization
        .map(|value| format!("Authorization: {value}\r\n"))
        .unwrap_or_default();
    format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {user_agent}\r\n{authorization}\
         Accept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        url.path,
        url.authority(),
        body.len()
    )
    .into_bytes()
}

/// `Basic` credentials of an OAuth client (RFC 6749, 2.3.1: both form-encoded before base64).
pub fn client_basic(id: &str, secret: &str) -> String {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    let credentials = format!("{}:{}", form::encode(id), form::encode(secret));
    format!("Basic {}", STANDARD.encode(credentials))
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
