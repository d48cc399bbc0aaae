//! The signed JWT sent to backends (APK `BackendJWT`), and the key that signs it.
//!
//! Claims follow APK 1.x's gateway JWT generator: `iss` (`wso2.org/products/am` by default),
//! `iat`, `exp`, `jti`, `sub`, and the `http://wso2.org/claims/` dialect (`apiname`,
//! `apicontext`, `version`, `keytype`, `subscriber`, `applicationid`, `applicationname`,
//! `tier`, `enduser`), plus the route's custom claims. Signed RS256 with header
//! `{"alg":"RS256","typ":"JWT","kid":…}`; the public key is published by [`BackendJwtSigner::jwks`].
//!
//! Both APK encodings produce a standard compact JWS (see [`crate::config::Encoding`]).

use std::fmt;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngCore as _;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use crate::config::{BackendJwtConfig, CustomClaim, RouteAuth};
use crate::subscriptions::ApplicationIdentity;

/// APK's backend JWT issuer.
pub const APK_GATEWAY_ISSUER: &str = "wso2.org/products/am";
/// Prefix of APK's claims.
pub const CLAIM_DIALECT: &str = "http://wso2.org/claims/";
/// Registered claims a custom claim may not replace.
const RESERVED_CLAIMS: [&str; 5] = ["iss", "iat", "exp", "nbf", "jti"];

/// Failure to set up or use the signing key.
#[derive(Debug, thiserror::Error)]
pub enum BackendJwtError {
    /// RSA key generation failed.
    #[error("generating the RSA key failed")]
    KeyGeneration,
    /// The PEM holds no usable RSA private key.
    #[error("not a usable RSA private key: {0}")]
    BadKey(String),
    /// Signing failed.
    #[error("signing the backend JWT failed")]
    Sign,
}

/// An RS256 key pair signing backend JWTs, with its issuer and key id.
pub struct BackendJwtSigner {
    key: KeyPair,
    issuer: String,
    kid: String,
    header_b64: String,
    jwk: Value,
    rng: SystemRandom,
}

impl fmt::Debug for BackendJwtSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendJwtSigner")
            .field("issuer", &self.issuer)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl BackendJwtSigner {
    /// A signer with a fresh 2048-bit RSA key; its `kid` is the key's RFC 7638 thumbprint.
    pub fn generate(issuer: impl Into<String>) -> Result<Self, BackendJwtError> {
        let key = KeyPair::generate(KeySize::Rsa2048).map_err(|_| BackendJwtError::KeyGeneration)?;
        Self::from_key_pair(key, issuer.into(), None)
    }

    /// A signer with the RSA private key in `pem` (PKCS#8 `PRIVATE KEY` or PKCS#1
    /// `RSA PRIVATE KEY`); `kid` defaults to the key's RFC 7638 thumbprint.
    pub fn from_pem(
        pem: &str,
        issuer: impl Into<String>,
        kid: Option<String>,
    ) -> Result<Self, BackendJwtError> {
        let (label, der) = pem_block(pem).ok_or_else(|| BackendJwtError::BadKey("no PEM block".into()))?;
        let key = match label.as_str() {
            "PRIVATE KEY" => KeyPair::from_pkcs8(&der),
            "RSA PRIVATE KEY" => KeyPair::from_der(&der),
            other => return Err(BackendJwtError::BadKey(format!("unexpected PEM block {other:?}"))),
        }
        .map_err(|e| BackendJwtError::BadKey(e.to_string()))?;
        if key.public_modulus_len() < 256 {
            return Err(BackendJwtError::BadKey(
                "RSA keys below 2048 bits are refused".into(),
            ));
        }
        Self::from_key_pair(key, issuer.into(), kid)
    }

    fn from_key_pair(key: KeyPair, issuer: String, kid: Option<String>) -> Result<Self, BackendJwtError> {
        let public = key.public_key();
        let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
        let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
        // RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
        let thumbprint = Sha256::digest(format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#));
        let kid = kid.unwrap_or_else(|| URL_SAFE_NO_PAD.encode(thumbprint));
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": kid});
        let jwk = json!({"kty": "RSA", "n": n, "e": e, "kid": kid, "alg": "RS256", "use": "sig"});
        Ok(Self {
            key,
            issuer,
            header_b64: URL_SAFE_NO_PAD.encode(header.to_string()),
            kid,
            jwk,
            rng: SystemRandom::new(),
        })
    }

    /// `iss` of the signed JWTs.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// `kid` of the signing key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK set: `{"keys":[{kty,n,e,kid,alg:"RS256",use:"sig"}]}`.
    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.jwk.clone()] })
    }

    /// Signs `claims` as a compact RS256 JWS.
    pub fn sign(&self, claims: &Map<String, Value>) -> Result<String, BackendJwtError> {
        let payload = serde_json::to_vec(claims).map_err(|_| BackendJwtError::Sign)?;
        let mut token = String::with_capacity(self.header_b64.len() + payload.len() * 4 / 3 + 350);
        token.push_str(&self.header_b64);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let mut signature = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &self.rng, token.as_bytes(), &mut signature)
            .map_err(|_| BackendJwtError::Sign)?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
        Ok(token)
    }
}

/// The first PEM block of `pem`: its label and decoded bytes.
fn pem_block(pem: &str) -> Option<(String, Vec<u8>)> {
    let begin = pem.find("-----BEGIN ")?;
    let rest = &pem[begin + "-----BEGIN ".len()..];
    let label_end = rest.find("-----")?;
    let label = rest[..label_end].to_owned();
    let body = &rest[label_end + 5..];
    let end = body.find(&format!("-----END {label}-----"))?;
    let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
    Some((label, STANDARD.decode(b64).ok()?))
}

/// The part of a backend JWT fixed by the route, built once per configuration push.
#[derive(Debug, Clone)]
pub(crate) struct BackendJwtTemplate {
    /// Upstream header carrying the JWT.
    pub header: String,
    /// Lifetime in seconds.
    pub ttl: u64,
    /// Route claims, then custom claims.
    claims: Map<String, Value>,
}

/// Who the request is for, as far as known.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Caller<'a> {
    pub subject: Option<&'a str>,
    pub application: Option<&'a ApplicationIdentity>,
    pub tier: Option<&'a str>,
}

impl BackendJwtTemplate {
    pub fn new(route_id: &str, route: &RouteAuth, config: &BackendJwtConfig) -> Self {
        let mut claims = Map::new();
        let mut put = |name: &str, value: &str| {
            if !value.is_empty() {
                claims.insert(format!("{CLAIM_DIALECT}{name}"), Value::String(value.to_owned()));
            }
        };
        put("apiname", &route.api_name);
        put("apicontext", &route.api_context);
        put("version", &route.api_version);
        put("keytype", route.key_type.as_apk_str());
        for custom in &config.custom_claims {
            if RESERVED_CLAIMS.contains(&custom.claim.as_str()) {
                tracing::warn!(route = route_id, claim = %custom.claim, "custom claim may not replace a registered claim; ignored");
                continue;
            }
            match custom_claim_value(custom) {
                Some(value) => {
                    claims.insert(custom.claim.clone(), value);
                }
                None => tracing::warn!(
                    route = route_id,
                    claim = %custom.claim,
                    r#type = %custom.claim_type,
                    "custom claim value does not parse as its type; ignored"
                ),
            }
        }
        Self {
            header: config.header.clone(),
            ttl: config.token_ttl_seconds,
            claims,
        }
    }

    /// Every claim of the JWT for `caller`, issued by `issuer` at `now`.
    pub fn claims(&self, issuer: &str, caller: Caller<'_>, now: u64) -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert("iss".into(), issuer.into());
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), now.saturating_add(self.ttl).into());
        claims.insert("jti".into(), uuid_v4().into());
        let subject = caller
            .subject
            .or(caller.application.map(|a| a.owner.as_str()))
            .filter(|s| !s.is_empty());
        if let Some(sub) = subject {
            claims.insert("sub".into(), sub.into());
        }
        let mut put = |name: &str, value: Option<&str>| {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                claims.insert(format!("{CLAIM_DIALECT}{name}"), Value::String(value.to_owned()));
            }
        };
        put("enduser", caller.subject);
        if let Some(app) = caller.application {
            put("subscriber", Some(&app.owner));
            put("applicationid", Some(&app.id));
            put("applicationname", Some(&app.name));
        }
        put("tier", caller.tier);
        for (name, value) in &self.claims {
            claims.insert(name.clone(), value.clone());
        }
        claims
    }
}

/// A custom claim's value as its declared type (APK: string, int, long, float, bool, date).
fn custom_claim_value(claim: &CustomClaim) -> Option<Value> {
    let value = claim.value.trim();
    match claim.claim_type.to_ascii_lowercase().as_str() {
        "" | "string" | "date" => Some(Value::String(claim.value.clone())),
        "int" | "long" => value.parse::<i64>().ok().map(Value::from),
        "float" => value
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        "bool" => match value.to_ascii_lowercase().as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        _ => None,
    }
}

/// A random RFC 4122 version 4 UUID.
fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::KeyType;
    use jsonwebtoken::jwk::JwkSet;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};

    fn signer() -> BackendJwtSigner {
        BackendJwtSigner::generate(APK_GATEWAY_ISSUER).unwrap()
    }

    fn verify(signer: &BackendJwtSigner, token: &str) -> Map<String, Value> {
        let set: JwkSet = serde_json::from_value(signer.jwks()).unwrap();
        let header = jsonwebtoken::decode_header(token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        let jwk = set.find(header.kid.as_deref().unwrap()).unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[signer.issuer()]);
        jsonwebtoken::decode::<Map<String, Value>>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
            .unwrap()
            .claims
    }

    #[test]
    fn signs_verifiable_jwts_and_publishes_the_key() {
        let signer = signer();
        let jwks = signer.jwks();
        let key = &jwks["keys"][0];
        assert_eq!(
            (key["kty"].as_str(), key["alg"].as_str(), key["use"].as_str()),
            (Some("RSA"), Some("RS256"), Some("sig"))
        );
        assert_eq!(key["kid"].as_str(), Some(signer.kid()));
        assert_eq!(key["e"].as_str(), Some("AQAB"));
        let mut claims = Map::new();
        claims.insert("iss".into(), signer.issuer().into());
        claims.insert("exp".into(), (jsonwebtoken::get_current_timestamp() + 60).into());
        claims.insert("x".into(), "y".into());
        let token = signer.sign(&claims).unwrap();
        assert_eq!(verify(&signer, &token)["x"], "y");
        // Another signer's key does not verify it.
        let other = BackendJwtSigner::generate("x").unwrap();
        assert_ne!(other.kid(), signer.kid());
    }

    #[test]
    fn pem_keys_are_accepted() {
        let pair = KeyPair::generate(KeySize::Rsa2048).unwrap();
        let pkcs8 = aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(pkcs8.as_ref())
        );
        let signer = BackendJwtSigner::from_pem(&pem, "gw", Some("k1".into())).unwrap();
        assert_eq!(signer.kid(), "k1");
        let again = BackendJwtSigner::from_pem(&pem, "gw", None).unwrap();
        let thumbprint = BackendJwtSigner::from_pem(&pem, "gw", None).unwrap();
        assert_eq!(again.kid(), thumbprint.kid(), "the thumbprint kid is stable");
        assert!(BackendJwtSigner::from_pem("nope", "gw", None).is_err());
        assert!(
            BackendJwtSigner::from_pem(
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
                "gw",
                None
            )
            .is_err()
        );
    }

    #[test]
    fn claims_follow_apk() {
        let route = RouteAuth {
            api_name: "pets".into(),
            api_version: "1.0".into(),
            api_context: "/pets/1.0".into(),
            key_type: KeyType::Sandbox,
            ..RouteAuth::default()
        };
        let custom = |claim: &str, value: &str, t: &str| CustomClaim {
            claim: claim.into(),
            value: value.into(),
            claim_type: t.into(),
        };
        let config = BackendJwtConfig {
            custom_claims: vec![
                custom("team", "blue", "string"),
                custom("level", "3", "int"),
                custom("ratio", "0.5", "float"),
                custom("admin", "TRUE", "bool"),
                custom("broken", "x", "int"),
                custom("exp", "1", "int"),
            ],
            ..BackendJwtConfig::default()
        };
        let template = BackendJwtTemplate::new("r", &route, &config);
        let app = ApplicationIdentity {
            id: "app-1".into(),
            name: "One".into(),
            owner: "alice".into(),
        };
        let caller = Caller {
            subject: None,
            application: Some(&app),
            tier: Some("Gold"),
        };
        let claims = template.claims("gw", caller, 1000);
        let c = |name: &str| claims[&format!("{CLAIM_DIALECT}{name}")].clone();
        assert_eq!(
            (
                claims["iss"].clone(),
                claims["iat"].clone(),
                claims["exp"].clone()
            ),
            (json!("gw"), json!(1000), json!(4600))
        );
        assert_eq!(claims["sub"], "alice", "the owner stands in for a missing sub");
        assert_eq!(claims["jti"].as_str().map(str::len), Some(36));
        assert_eq!(
            [
                c("apiname"),
                c("apicontext"),
                c("version"),
                c("keytype"),
                c("subscriber"),
                c("applicationid"),
                c("applicationname"),
                c("tier")
            ],
            [
                json!("pets"),
                json!("/pets/1.0"),
                json!("1.0"),
                json!("SANDBOX"),
                json!("alice"),
                json!("app-1"),
                json!("One"),
                json!("Gold")
            ]
        );
        assert_eq!(
            (
                claims["team"].clone(),
                claims["level"].clone(),
                claims["ratio"].clone(),
                claims["admin"].clone()
            ),
            (json!("blue"), json!(3), json!(0.5), json!(true))
        );
        assert!(!claims.contains_key("broken"));
        let with_sub = template.claims(
            "gw",
            Caller {
                subject: Some("bob"),
                ..caller
            },
            1000,
        );
        assert_eq!(with_sub["sub"], "bob");
        assert_eq!(with_sub[&format!("{CLAIM_DIALECT}enduser")], "bob");
        assert_ne!(with_sub["jti"], claims["jti"]);
    }

    #[test]
    fn uuids() {
        let id = uuid_v4();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
    }
}
