use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING,
};
use serde_json::json;

use super::*;

const NOW: i64 = 1_800_000_000;
const TOKEN: &[u8] = b"eyJhbGciOiJFUzI1NiJ9.e30.c2ln";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

enum Signer {
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

impl Signer {
    fn ec() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        Signer::Ec(
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap(),
        )
    }

    fn ed() -> Self {
        Signer::Ed(Ed25519KeyPair::generate().unwrap())
    }

    fn alg(&self) -> &'static str {
        match self {
            Signer::Ec(_) => "ES256",
            Signer::Ed(_) => "EdDSA",
        }
    }

    fn jwk(&self) -> Value {
        match self {
            Signer::Ec(pair) => {
                let point = pair.public_key().as_ref();
                json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..])})
            }
            Signer::Ed(pair) => {
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref())})
            }
        }
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            Signer::Ec(pair) => pair
                .sign(&SystemRandom::new(), message)
                .unwrap()
                .as_ref()
                .to_vec(),
            Signer::Ed(pair) => pair.sign(message).as_ref().to_vec(),
        }
    }

    fn proof_with(&self, header: Value, claims: Value) -> Vec<u8> {
        let message = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature = self.sign(message.as_bytes());
        format!("{message}.{}", b64(&signature)).into_bytes()
    }

    fn header(&self) -> Value {
        json!({"typ": "dpop+jwt", "alg": self.alg(), "jwk": self.jwk()})
    }

    fn claims(&self) -> Value {
        json!({
            "jti": "e1j3V_bKic8-LAEB",
            "htm": "POST",
            "htu": "https://mcp.example/mcp",
            "iat": NOW,
            "ath": b64(digest(&SHA256, TOKEN).as_ref()),
        })
    }

    fn proof(&self) -> Vec<u8> {
        self.proof_with(self.header(), self.claims())
    }

    fn jkt(&self) -> String {
        thumbprint(self.jwk().as_object().unwrap()).unwrap()
    }
}

fn request() -> Request<'static> {
    Request {
        method: b"POST",
        uri: "https://MCP.example:443/mcp?x=1",
        token: TOKEN,
    }
}

fn checked(proof: &[u8]) -> Result<Proof, DpopError> {
    check(proof, &request(), DEFAULT_WINDOW, NOW, None)
}

#[test]
fn a_good_proof_passes_and_names_its_key() {
    for signer in [Signer::ec(), Signer::ed()] {
        let proof = checked(&signer.proof()).unwrap();
        assert_eq!(proof.jkt, signer.jkt());
        assert_eq!(proof.jti, "e1j3V_bKic8-LAEB");
        assert_eq!(proof.iat, NOW);
    }
}

#[test]
fn the_request_must_be_the_proofs() {
    let signer = Signer::ec();
    let proof = signer.proof();
    let mut other = request();
    other.method = b"GET";
    assert_eq!(
        check(&proof, &other, 60, NOW, None).unwrap_err(),
        DpopError::Method
    );
    let mut other = request();
    other.uri = "https://mcp.example/other";
    assert_eq!(
        check(&proof, &other, 60, NOW, None).unwrap_err(),
        DpopError::Uri
    );
    let mut other = request();
    other.uri = "http://mcp.example/mcp";
    assert_eq!(
        check(&proof, &other, 60, NOW, None).unwrap_err(),
        DpopError::Uri
    );
    let mut other = request();
    other.token = b"another.token.here";
    assert_eq!(
        check(&proof, &other, 60, NOW, None).unwrap_err(),
        DpopError::TokenHash
    );
}

#[test]
fn iat_must_be_within_the_window() {
    let signer = Signer::ec();
    let proof = signer.proof();
    assert!(check(&proof, &request(), 60, NOW + 60, None).is_ok());
    assert!(check(&proof, &request(), 60, NOW - 60, None).is_ok());
    assert_eq!(
        check(&proof, &request(), 60, NOW + 61, None).unwrap_err(),
        DpopError::Stale
    );
    assert_eq!(
        check(&proof, &request(), 60, NOW - 61, None).unwrap_err(),
        DpopError::Stale
    );
}

#[test]
fn the_header_must_be_a_dpop_proofs() {
    let signer = Signer::ec();
    let mut header = signer.header();
    header["typ"] = json!("JWT");
    assert_eq!(
        checked(&signer.proof_with(header, signer.claims())).unwrap_err(),
        DpopError::Type
    );

    let mut header = signer.header();
    header["alg"] = json!("HS256");
    assert!(matches!(
        checked(&signer.proof_with(header, signer.claims())),
        Err(DpopError::AlgNotAllowed(_))
    ));

    let mut header = signer.header();
    header["alg"] = json!("none");
    assert!(matches!(
        checked(&signer.proof_with(header, signer.claims())),
        Err(DpopError::AlgNotAllowed(_))
    ));

    // A private key in the header is refused, though it verifies.
    let mut header = signer.header();
    header["jwk"]["d"] = json!("c2VjcmV0");
    assert!(matches!(
        checked(&signer.proof_with(header, signer.claims())),
        Err(DpopError::BadKey(_))
    ));

    let mut header = signer.header();
    header["jwk"] = json!({"kty": "oct", "k": "c2VjcmV0"});
    assert!(matches!(
        checked(&signer.proof_with(header, signer.claims())),
        Err(DpopError::BadKey(_))
    ));

    // An EdDSA key under ES256.
    let mut header = signer.header();
    header["jwk"] = Signer::ed().jwk();
    assert!(matches!(
        checked(&signer.proof_with(header, signer.claims())),
        Err(DpopError::BadKey(_))
    ));
}

#[test]
fn the_signature_must_be_the_headers_keys() {
    let signer = Signer::ec();
    let mut header = signer.header();
    header["jwk"] = Signer::ec().jwk();
    assert_eq!(
        checked(&signer.proof_with(header, signer.claims())).unwrap_err(),
        DpopError::BadSignature
    );
}

#[test]
fn claims_must_be_there() {
    let signer = Signer::ec();
    for name in ["jti", "htm", "htu", "iat", "ath"] {
        let mut claims = signer.claims();
        claims.as_object_mut().unwrap().remove(name);
        assert!(
            checked(&signer.proof_with(signer.header(), claims)).is_err(),
            "{name}"
        );
    }
}

#[test]
fn garbage_is_malformed() {
    for proof in [&b"x"[..], b"a.b", b"a.b.c.d", b"!!.!!.!!", b"e30.e30.e30"] {
        assert!(checked(proof).is_err(), "{proof:?}");
    }
    assert_eq!(checked(b"").unwrap_err(), DpopError::Missing);
    assert!(matches!(
        checked(&[b'a'; MAX_PROOF_LEN + 1]),
        Err(DpopError::Malformed(_))
    ));
}

#[test]
fn uris_compare_normalized() {
    assert!(same_uri("https://a.example/p", "HTTPS://A.EXAMPLE:443/p?q"));
    assert!(same_uri("http://a.example", "http://a.example:80/"));
    assert!(!same_uri("https://a.example/p", "https://a.example:8443/p"));
    assert!(!same_uri("https://a.example/p", "https://a.example/P"));
    assert!(!same_uri("ftp://a.example/p", "ftp://a.example/p"));
}

#[test]
fn replay_ids_differ_by_key() {
    let one = Proof {
        jkt: "a".into(),
        jti: "1".into(),
        iat: 0,
    };
    let other = Proof {
        jkt: "b".into(),
        jti: "1".into(),
        iat: 0,
    };
    assert_ne!(one.replay_id(), other.replay_id());
}

#[test]
fn bound_keys() {
    let claims = |json: &[u8]| parse_object(json).unwrap();
    assert_eq!(
        bound_key(&claims(br#"{"cnf":{"jkt":"abc"}}"#)),
        Some(Ok("abc"))
    );
    assert_eq!(bound_key(&claims(br#"{"cnf":{"jkt":1}}"#)), Some(Err(())));
    assert_eq!(bound_key(&claims(br#"{"cnf":{"x5t#S256":"abc"}}"#)), None);
    assert_eq!(bound_key(&claims(br#"{}"#)), None);
}

#[test]
fn known_keys_are_taken_from_the_cache_and_only_for_the_same_jwk() {
    let signer = Signer::ec();
    let mut keys = ProofKeys::new(NonZeroUsize::new(4).unwrap());
    for _ in 0..3 {
        let proof = check(
            &signer.proof(),
            &request(),
            DEFAULT_WINDOW,
            NOW,
            Some(&mut keys),
        );
        assert_eq!(proof.unwrap().jkt, signer.jkt());
    }
    assert_eq!(keys.0.len(), 1);
    // The same key with a private member is another JWK, and refused, cache or not.
    let mut header = signer.header();
    header["jwk"]["d"] = json!("c2VjcmV0");
    let proof = signer.proof_with(header, signer.claims());
    assert!(matches!(
        check(&proof, &request(), DEFAULT_WINDOW, NOW, Some(&mut keys)),
        Err(DpopError::BadKey(_))
    ));
    // Another key's signature under a cached key's JWK does not verify.
    let mut header = signer.header();
    header["jwk"] = Signer::ec().jwk();
    let proof = signer.proof_with(header, signer.claims());
    assert_eq!(
        check(&proof, &request(), DEFAULT_WINDOW, NOW, Some(&mut keys)).unwrap_err(),
        DpopError::BadSignature
    );
}
