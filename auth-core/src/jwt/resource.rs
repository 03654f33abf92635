//! A protected resource (RFC 9728): its identifier, which access tokens must name in `aud`
//! (RFC 8707), and the metadata that tells clients where its authorization servers are.

use serde_json::{json, Map, Value};

use super::scope::is_scope_token;
use crate::dpop::ALGORITHMS;
use crate::http::Url;
use crate::jose::Alg;

/// Where the metadata lives: this, then the resource identifier's path (RFC 9728, 3.1).
pub const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// What the metadata says of DPoP, when the resource accepts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dpop {
    /// Plain Bearer tokens are refused.
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// The resource identifier, as written.
    pub uri: String,
    pub authorization_servers: Vec<String>,
    /// `scopes_supported`.
    pub scopes: Vec<String>,
    /// The path of the metadata on the resource's server.
    pub metadata_path: String,
    /// The metadata's absolute URL, for `resource_metadata=` in challenges.
    pub metadata_url: String,
}

impl Resource {
    /// A resource from `auth_jwt_resource`'s arguments: an `https://` URI (`http://` on a
    /// loopback address, for development) without query or fragment; authorization servers
    /// likewise; scope-tokens.
    pub fn new(
        uri: &str,
        authorization_servers: Vec<String>,
        scopes: Vec<String>,
    ) -> Result<Resource, String> {
        let url = checked(uri)?;
        for server in &authorization_servers {
            checked(server)?;
        }
        if let Some(bad) = scopes.iter().find(|s| !is_scope_token(s)) {
            return Err(format!("invalid scope \"{}\"", bad.escape_default()));
        }
        let path = url.path.trim_end_matches('/');
        let metadata_path = format!("{WELL_KNOWN}{path}");
        let scheme = if url.https { "https" } else { "http" };
        let metadata_url = format!("{scheme}://{}{metadata_path}", url.authority());
        Ok(Resource {
            uri: uri.to_owned(),
            authorization_servers,
            scopes,
            metadata_path,
            metadata_url,
        })
    }

    /// The metadata document (RFC 9728, 2): `resource`, the authorization servers and scopes
    /// when there are any, and the one way tokens are sent, the `Authorization` header; with
    /// `dpop`, the algorithms proofs may use and whether every token must be DPoP-bound.
    pub fn metadata(&self, dpop: Option<Dpop>) -> String {
        let mut doc = Map::new();
        doc.insert("resource".into(), json!(self.uri));
        if !self.authorization_servers.is_empty() {
            doc.insert(
                "authorization_servers".into(),
                json!(self.authorization_servers),
            );
        }
        if !self.scopes.is_empty() {
            doc.insert("scopes_supported".into(), json!(self.scopes));
        }
        doc.insert("bearer_methods_supported".into(), json!(["header"]));
        if let Some(dpop) = dpop {
            doc.insert(
                "dpop_signing_alg_values_supported".into(),
                json!(ALGORITHMS.map(Alg::name)),
            );
            doc.insert(
                "dpop_bound_access_tokens_required".into(),
                json!(dpop.required),
            );
        }
        Value::Object(doc).to_string()
    }
}

fn checked(uri: &str) -> Result<Url, String> {
    let url = Url::parse(uri).map_err(|err| format!("invalid URI \"{uri}\": {err}"))?;
    if !url.https && !url.host_is_loopback() {
        return Err(format!("\"{uri}\" must be https"));
    }
    if uri.contains(['?', '#']) {
        return Err(format!("\"{uri}\" may have no query or fragment"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metadata_lives_under_the_well_known_path() {
        let r = Resource::new(
            "https://mcp.example/mcp",
            vec!["https://as.example".into()],
            vec!["mcp:tools".into(), "mcp:read".into()],
        )
        .unwrap();
        assert_eq!(r.metadata_path, "/.well-known/oauth-protected-resource/mcp");
        assert_eq!(
            r.metadata_url,
            "https://mcp.example/.well-known/oauth-protected-resource/mcp"
        );
        let doc: Value = serde_json::from_str(&r.metadata(None)).unwrap();
        assert_eq!(
            doc,
            json!({"resource": "https://mcp.example/mcp",
                   "authorization_servers": ["https://as.example"],
                   "scopes_supported": ["mcp:tools", "mcp:read"],
                   "bearer_methods_supported": ["header"]})
        );
        let bare = Resource::new("http://127.0.0.1:8080", vec![], vec![]).unwrap();
        assert_eq!(bare.metadata_path, WELL_KNOWN);
        assert_eq!(
            bare.metadata_url,
            "http://127.0.0.1:8080/.well-known/oauth-protected-resource"
        );
        let doc: Value = serde_json::from_str(&bare.metadata(None)).unwrap();
        assert_eq!(
            doc,
            json!({"resource": "http://127.0.0.1:8080", "bearer_methods_supported": ["header"]})
        );
        let doc: Value =
            serde_json::from_str(&bare.metadata(Some(Dpop { required: true }))).unwrap();
        assert_eq!(doc["dpop_bound_access_tokens_required"], json!(true));
        assert_eq!(doc["dpop_signing_alg_values_supported"][0], json!("ES256"));
    }

    #[test]
    fn refuses_what_a_client_could_not_trust() {
        for (uri, servers) in [
            ("http://mcp.example/mcp", vec![]),
            ("https://mcp.example/mcp?x=1", vec![]),
            ("https://mcp.example/mcp#f", vec![]),
            ("mcp.example", vec![]),
            (
                "https://mcp.example/mcp",
                vec!["http://as.example".to_owned()],
            ),
        ] {
            assert!(Resource::new(uri, servers, vec![]).is_err(), "{uri}");
        }
        assert!(Resource::new("https://m.example", vec![], vec!["a b".into()]).is_err());
    }
}
