//! End-to-end checks: JWKS served by wiremock, tokens and API keys signed at test time, and gRPC
//! through the envoy-types Authorization client. Everything stays on loopback and is bounded in
//! time.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow};
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use envoy_types::pb::envoy::config::core::v3::header_value_option::HeaderAppendAction;
use envoy_types::pb::envoy::service::auth::v3::attribute_context::{HttpRequest, Request as AttrRequest};
use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
use envoy_types::pb::envoy::service::auth::v3::check_response::HttpResponse;
use envoy_types::pb::envoy::service::auth::v3::{AttributeContext, CheckRequest, CheckResponse};
use envoy_types::pb::google::protobuf::value::Kind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use portcullis_enforcer::{
    Allowed, ApiKeyLocation, ApplicationConfig, AuthError, AuthMechanism, BackendJwtConfig, BackendJwtSigner,
    ClaimMapping, ConsumerKey, CustomClaim, Encoding, Enforcer, EnforcerConfig, IssuerConfig,
    JwtHeaderConfig, KeyIn, KeyType, OAuth2Config, RequestView, Required, RouteAuth, SubscriptionConfig,
    ValidationOptions,
};
use serde_json::{Map, Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const IDP1: &str = "https://idp1.example";
const IDP2: &str = "https://idp2.example";
const SLOW: &str = "https://slow.example";
const JUNK: &str = "https://junk.example";
const MAPPED: &str = "https://mapped.example";
const DEV_ONLY: &str = "https://dev-only.example";
const OTHER_ORG: &str = "https://other-org.example";
const ORG: &str = "acme";
const GATEWAY_ISSUER: &str = "https://gateway.test";
const DIALECT: &str = "http://wso2.org/claims/";

/// Runs a test body with a hard time bound.
async fn bounded<F: Future<Output = Result<()>>>(body: F) -> Result<()> {
    tokio::time::timeout(Duration::from_secs(30), body)
        .await
        .context("test timed out")?
}

/// A signing key generated at test time with its public JWK.
struct TestKey {
    alg: Algorithm,
    kid: String,
    encoding: EncodingKey,
    jwk: Value,
    /// PEM of the public key (RSA only), for the HMAC confusion attack.
    public_pem: Option<String>,
}

fn der_element(input: &[u8]) -> Result<(&[u8], &[u8])> {
    let (&_tag, rest) = input.split_first().context("empty DER")?;
    let (&first, rest) = rest.split_first().context("no DER length")?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        let (bytes, rest) = rest.split_at_checked(n).context("short DER length")?;
        (
            bytes.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b)),
            rest,
        )
    };
    rest.split_at_checked(len).context("short DER content")
}

fn unsigned(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

fn rsa_key(kid: &str) -> Result<TestKey> {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|e| anyhow!("rsa keygen: {e:?}"))?;
    let pkcs8 = pair.as_der().map_err(|e| anyhow!("pkcs8: {e:?}"))?;
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(pkcs8.as_ref())
    );
    let encoding = EncodingKey::from_rsa_pem(pem.as_bytes())?;
    // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
    let public = pair.public_key().as_ref();
    let (seq, _) = der_element(public)?;
    let (n, rest) = der_element(seq)?;
    let (e, _) = der_element(rest)?;
    let jwk = json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
        "n": URL_SAFE_NO_PAD.encode(unsigned(n)), "e": URL_SAFE_NO_PAD.encode(unsigned(e))});
    let public_pem = format!(
        "-----BEGIN RSA PUBLIC KEY-----\n{}\n-----END RSA PUBLIC KEY-----\n",
        STANDARD.encode(public)
    );
    Ok(TestKey {
        alg: Algorithm::RS256,
        kid: kid.to_owned(),
        encoding,
        jwk,
        public_pem: Some(public_pem),
    })
}

fn ec_key(kid: &str) -> Result<TestKey> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|e| anyhow!("ec keygen: {e:?}"))?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
        .map_err(|e| anyhow!("ec parse: {e:?}"))?;
    let point = pair.public_key().as_ref();
    anyhow::ensure!(
        point.len() == 65 && point[0] == 4,
        "uncompressed P-256 point expected"
    );
    let jwk = json!({"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..])});
    Ok(TestKey {
        alg: Algorithm::ES256,
        kid: kid.to_owned(),
        encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
        jwk,
        public_pem: None,
    })
}

fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

fn sign(key: &TestKey, claims: &Value) -> Result<String> {
    let mut header = Header::new(key.alg);
    header.kid = Some(key.kid.clone());
    Ok(jsonwebtoken::encode(&header, claims, &key.encoding)?)
}

/// A token with arbitrary header and payload JSON and a given signature segment.
fn raw_token(header: &Value, payload: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

fn claims(iss: &str, scope: &str) -> Value {
    json!({"iss": iss, "sub": "alice", "azp": "app-1", "scope": scope, "iat": now(), "exp": now() + 600})
}

/// An access token of `consumer_key`.
fn access_claims(consumer_key: &str) -> Value {
    json!({"iss": IDP1, "sub": "bob", "azp": consumer_key, "scope": "read:pets", "iat": now(), "exp": now() + 600})
}

/// An API key as the embedded IdP mints it.
fn api_key_claims(consumer_key: &str, key_type: &str, apis: &[&str]) -> Value {
    json!({"iss": IDP1, "sub": "carol", "azp": consumer_key, "tokenType": "apiKey", "keytype": key_type,
        "apis": apis, "iat": now(), "exp": now() + 600})
}

fn consumer_key(key: &str, key_type: KeyType) -> ConsumerKey {
    ConsumerKey {
        key: key.into(),
        key_type,
        environment: String::new(),
    }
}

fn subscription(id: &str, api_version: &str, status: &str, tier: Option<&str>) -> SubscriptionConfig {
    SubscriptionConfig {
        id: id.into(),
        api_name: "pets".into(),
        api_version: api_version.into(),
        status: status.into(),
        rate_limit_tier: tier.map(str::to_owned),
    }
}

fn application(
    id: &str,
    keys: Vec<ConsumerKey>,
    subscriptions: Vec<SubscriptionConfig>,
) -> ApplicationConfig {
    ApplicationConfig {
        id: id.into(),
        name: format!("{id} name"),
        owner: format!("{id} owner"),
        organization: ORG.into(),
        consumer_keys: keys,
        subscriptions,
    }
}

fn applications() -> Vec<ApplicationConfig> {
    vec![
        application(
            "app-gold",
            vec![
                consumer_key("ck-gold", KeyType::Production),
                consumer_key("ck-gold-sandbox", KeyType::Sandbox),
            ],
            vec![subscription("sub-gold", "1.0", "ACTIVE", Some("Gold"))],
        ),
        application(
            "app-blocked",
            vec![consumer_key("ck-blocked", KeyType::Production)],
            vec![subscription("sub-blocked", "*", "BLOCKED", Some("Gold"))],
        ),
        application(
            "app-inactive",
            vec![consumer_key("ck-inactive", KeyType::Production)],
            vec![subscription("sub-inactive", "1.0", "INACTIVE", None)],
        ),
        application(
            "app-unsubscribed",
            vec![consumer_key("ck-unsubscribed", KeyType::Production)],
            vec![SubscriptionConfig {
                api_name: "orders".into(),
                ..subscription("sub-orders", "1.0", "ACTIVE", None)
            }],
        ),
        application(
            "app-any-version",
            vec![consumer_key("ck-any", KeyType::Production)],
            vec![subscription("sub-any", "*", "ACTIVE", Some("Silver"))],
        ),
        ApplicationConfig {
            organization: "elsewhere".into(),
            ..application(
                "app-other-org",
                vec![consumer_key("ck-other-org", KeyType::Production)],
                vec![subscription("sub-other-org", "1.0", "ACTIVE", None)],
            )
        },
    ]
}

struct Fixture {
    server: MockServer,
    enforcer: Arc<Enforcer>,
    signer: Arc<BackendJwtSigner>,
    rsa: TestKey,
    ec: TestKey,
}

fn header_key(name: &str) -> ApiKeyLocation {
    ApiKeyLocation {
        location: KeyIn::Header,
        name: name.into(),
        send_token_to_upstream: false,
    }
}

fn query_key(name: &str) -> ApiKeyLocation {
    ApiKeyLocation {
        location: KeyIn::Query,
        name: name.into(),
        send_token_to_upstream: false,
    }
}

fn routes() -> Vec<(&'static str, RouteAuth)> {
    let oauth2 = RouteAuth {
        oauth2: Some(OAuth2Config::default()),
        api_name: "pets".into(),
        api_version: "1.0".into(),
        api_context: "/pets/1.0".into(),
        organization: ORG.into(),
        ..RouteAuth::default()
    };
    let keys_only = RouteAuth {
        oauth2: None,
        api_keys: vec![header_key("apikey"), query_key("apikey")],
        ..oauth2.clone()
    };
    let backend_jwt = BackendJwtConfig {
        custom_claims: vec![
            CustomClaim {
                claim: "team".into(),
                value: "blue".into(),
                claim_type: "string".into(),
            },
            CustomClaim {
                claim: "level".into(),
                value: "7".into(),
                claim_type: "int".into(),
            },
            CustomClaim {
                claim: "internal".into(),
                value: "true".into(),
                claim_type: "bool".into(),
            },
        ],
        ..BackendJwtConfig::default()
    };
    vec![
        ("secured", oauth2.clone()),
        (
            "scoped",
            RouteAuth {
                scopes: vec!["read:pets".into()],
                ..oauth2.clone()
            },
        ),
        (
            "open",
            RouteAuth {
                disabled: true,
                ..oauth2.clone()
            },
        ),
        (
            "custom",
            RouteAuth {
                oauth2: Some(OAuth2Config {
                    header: "testAuth".into(),
                    send_token_to_upstream: true,
                    required: Required::Mandatory,
                }),
                ..oauth2.clone()
            },
        ),
        ("keys", keys_only.clone()),
        (
            "keys-sandbox",
            RouteAuth {
                key_type: KeyType::Sandbox,
                ..keys_only.clone()
            },
        ),
        (
            "keys-subscribed",
            RouteAuth {
                subscription_validation: true,
                ..keys_only.clone()
            },
        ),
        (
            "dev",
            RouteAuth {
                environment: "dev".into(),
                ..oauth2.clone()
            },
        ),
        (
            "prod",
            RouteAuth {
                environment: "prod".into(),
                ..oauth2.clone()
            },
        ),
        (
            "other-org",
            RouteAuth {
                organization: "elsewhere".into(),
                ..oauth2.clone()
            },
        ),
        (
            "subscribed",
            RouteAuth {
                subscription_validation: true,
                api_keys: vec![header_key("apikey")],
                ..oauth2.clone()
            },
        ),
        (
            "subscribed-sandbox",
            RouteAuth {
                subscription_validation: true,
                key_type: KeyType::Sandbox,
                ..oauth2.clone()
            },
        ),
        (
            "backend",
            RouteAuth {
                subscription_validation: true,
                backend_jwt: Some(backend_jwt.clone()),
                api_keys: vec![query_key("apikey")],
                ..oauth2.clone()
            },
        ),
        (
            "backend-url-safe",
            RouteAuth {
                backend_jwt: Some(BackendJwtConfig {
                    header: "X-Backend".into(),
                    encoding: Encoding::Base64url,
                    token_ttl_seconds: 60,
                    custom_claims: Vec::new(),
                }),
                ..oauth2.clone()
            },
        ),
        (
            "jwt",
            RouteAuth {
                oauth2: None,
                jwt: Some(JwtHeaderConfig {
                    audiences: vec!["gateway".into()],
                    ..JwtHeaderConfig::default()
                }),
                scopes: vec!["read:pets".into()],
                ..oauth2.clone()
            },
        ),
        (
            "jwt-upstream",
            RouteAuth {
                oauth2: None,
                jwt: Some(JwtHeaderConfig {
                    header: "X-Token".into(),
                    send_token_to_upstream: true,
                    audiences: Vec::new(),
                }),
                ..oauth2.clone()
            },
        ),
        (
            "either",
            RouteAuth {
                oauth2: Some(OAuth2Config {
                    required: Required::Optional,
                    ..OAuth2Config::default()
                }),
                api_keys: vec![header_key("apikey")],
                ..oauth2.clone()
            },
        ),
        (
            "both",
            RouteAuth {
                api_keys: vec![header_key("apikey")],
                api_key_required: Required::Mandatory,
                ..oauth2
            },
        ),
    ]
}

impl Fixture {
    async fn new() -> Result<Self> {
        Self::with_options(ValidationOptions {
            leeway: Duration::from_secs(5),
            jwks_timeout: Duration::from_millis(500),
            jwks_min_refetch: Duration::from_secs(10),
            ..ValidationOptions::default()
        })
        .await
    }

    async fn with_options(options: ValidationOptions) -> Result<Self> {
        let server = MockServer::start().await;
        let rsa = rsa_key("123-456")?;
        let ec = ec_key("ec-1")?;
        let jwks = |keys: Vec<Value>| ResponseTemplate::new(200).set_body_json(json!({ "keys": keys }));
        // idp1 also publishes a symmetric key: it must never be usable.
        let oct = json!({"kty": "oct", "kid": "hmac", "k": URL_SAFE_NO_PAD.encode(b"shared-secret")});
        Mock::given(method("GET"))
            .and(path("/idp1/jwks"))
            .respond_with(jwks(vec![rsa.jwk.clone(), oct]))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/idp2/jwks"))
            .respond_with(jwks(vec![ec.jwk.clone()]))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/slow/jwks"))
            .respond_with(jwks(vec![rsa.jwk.clone()]).set_delay(Duration::from_secs(5)))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/junk/jwks"))
            .respond_with(ResponseTemplate::new(200).set_body_string("<html>not a jwks</html>"))
            .mount(&server)
            .await;
        let jwks_url = |name: &str| format!("{}/{name}/jwks", server.uri());
        let issuer = |name: &str, iss: &str, jwks: &str| IssuerConfig::with_jwks(name, iss, jwks_url(jwks));
        let config = EnforcerConfig {
            issuers: vec![
                issuer("idp1", IDP1, "idp1"),
                IssuerConfig {
                    audiences: vec!["gateway".into()],
                    ..issuer("idp2", IDP2, "idp2")
                },
                issuer("slow", SLOW, "slow"),
                issuer("junk", JUNK, "junk"),
                IssuerConfig {
                    consumer_key_claim: "azp".into(),
                    scopes_claim: "scope".into(),
                    claim_mappings: vec![
                        ClaimMapping {
                            remote_claim: "client_id".into(),
                            local_claim: "azp".into(),
                        },
                        ClaimMapping {
                            remote_claim: "scp".into(),
                            local_claim: "scope".into(),
                        },
                    ],
                    ..issuer("mapped", MAPPED, "idp1")
                },
                IssuerConfig {
                    environments: vec!["dev".into()],
                    ..issuer("dev-only", DEV_ONLY, "idp1")
                },
                IssuerConfig {
                    organization: Some("elsewhere".into()),
                    ..issuer("other-org", OTHER_ORG, "idp1")
                },
            ],
            routes: routes().into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            applications: applications(),
        };
        let signer = Arc::new(BackendJwtSigner::generate(GATEWAY_ISSUER)?);
        let enforcer = Enforcer::new(options)?.with_backend_jwt_signer(Arc::clone(&signer));
        enforcer.update_config(config);
        Ok(Self {
            server,
            enforcer: Arc::new(enforcer),
            signer,
            rsa,
            ec,
        })
    }

    async fn check_bearer(&self, route: &str, token: &str) -> Result<Allowed, AuthError> {
        self.check(route, &[("authorization", &format!("Bearer {token}"))], "/pets")
            .await
    }

    async fn check(&self, route: &str, headers: &[(&str, &str)], path: &str) -> Result<Allowed, AuthError> {
        let headers: HashMap<String, String> = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.enforcer
            .check(
                route,
                RequestView {
                    headers: &headers,
                    path,
                },
            )
            .await
    }

    async fn jwks_hits(&self, path: &str) -> usize {
        let requests = self.server.received_requests().await.unwrap_or_default();
        requests.iter().filter(|r| r.url.path() == path).count()
    }

    /// Verifies a backend JWT with the published JWKS and returns its claims.
    fn backend_claims(&self, token: &str) -> Result<Map<String, Value>> {
        let set: JwkSet = serde_json::from_value(self.signer.jwks())?;
        let header = jsonwebtoken::decode_header(token)?;
        anyhow::ensure!(header.typ.as_deref() == Some("JWT"), "typ JWT");
        let kid = header.kid.context("kid")?;
        let jwk = set.find(&kid).context("kid in JWKS")?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[GATEWAY_ISSUER]);
        Ok(
            jsonwebtoken::decode::<Map<String, Value>>(token, &DecodingKey::from_jwk(jwk)?, &validation)?
                .claims,
        )
    }
}

fn assert_denied(result: Result<Allowed, AuthError>, status: u16, code: u32) {
    match result {
        Ok(allowed) => panic!("expected {status}/{code}, got allowed {allowed:?}"),
        Err(error) => assert_eq!((error.http_status(), error.code()), (status, code), "{error}"),
    }
}

#[tokio::test]
async fn valid_tokens_are_allowed() -> Result<()> {
    bounded(async {
        let fx = Fixture::new().await?;
        let allowed = fx
            .check_bearer("secured", &sign(&fx.rsa, &claims(IDP1, "a b"))?)
            .await?;
        let principal = allowed.principal.clone().context("principal")?;
        assert_eq!(principal.consumer_key.as_deref(), Some("app-1"));
        assert_eq!(principal.issuer_name, "idp1");
        assert_eq!(allowed.mechanism, Some(AuthMechanism::OAuth2));
        assert_eq!(allowed.headers_to_remove, vec!["authorization".to_owned()]);
        assert_eq!(allowed.key_type, Some(KeyType::Production));
        assert_eq!(allowed.organization.as_deref(), Some(ORG));
        assert_eq!(allowed.consumer_key.as_deref(), Some("app-1"));
        assert!(
            allowed.application.is_none(),
            "no application has consumer key app-1"
        );
        // ES256 with the configured audience.
        let mut ec_claims = claims(IDP2, "");
        ec_claims["aud"] = json!("gateway");
        fx.check_bearer("secured", &sign(&fx.ec, &ec_claims)?).await?;
        // The cached JWKS serves the second token.
        fx.check_bearer("secured", &sign(&fx.rsa, &claims(IDP1, ""))?)
            .await?;
        assert_eq!(fx.jwks_hits("/idp1/jwks").await, 1);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn expired_token_is_900901() -> Result<()> {
    bounded(async {
        let fx = Fixture::new().await?;
        let mut c = claims(IDP1, "");
        c["exp"] = json!(now() - 3600);
        assert_denied(fx.check_bearer("secured", &sign(&fx.rsa, &c)?).await, 401, 900901);
        let mut c = claims(IDP1, "");
        c["nbf"] = json!(now() + 3600);
        assert_denied(fx.check_bearer("secured", &sign(&fx.rsa, &c)?).await, 401, 900903);
        let mut c = claims(IDP1, "");
        c.as_object_mut().context("object")?.remove("exp");
        assert_denied(fx.check_bearer("secured", &sign(&fx.rsa, &c)?).await, 401, 900903);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_remembered_token_still_expires() -> Result<()> {
    bounded(async {
        let fx = Fixture::with_options(ValidationOptions {
            leeway: Duration::ZERO,
            ..ValidationOptions::default()
        })
        .await?;
        let mut c = claims(IDP1, "");
        c["exp"] = json!(now() + 2);
        let token = sign(&fx.rsa, &c)?;
        fx.check_bearer("secured", &token).await?;
        fx.check_bearer("secured", &token).await?;
        tokio::time::sleep(Duration::from_millis(3200)).await;
        assert_denied(fx.check_bearer("secured", &token).await, 401, 900901);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn tampered_and_foreign_tokens_are_401() -> Result<()> {
    bounded(async {
        let fx = Fixture::new().await?;
        let token = sign(&fx.rsa, &claims(IDP1, ""))?;
        // Accepted once, so it is remembered: tampering must still be caught.
        fx.check_bearer("secured", &token).await?;
        // Swap the payload for one granting more, keeping the signature.
        let parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(claims(IDP1, "admin").to_string());
        let tampered = format!("{}.{forged}.{}", parts[0], parts[2]);
        assert_denied(fx.check_bearer("secured", &tampered).await, 401, 900903);
        // Flip the signature.
        let mut sig = URL_SAFE_NO_PAD.decode(parts[2])?;
        sig[0] ^= 1;
        let bad_sig = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(sig));
        assert_denied(fx.check_bearer("secured", &bad_sig).await, 401, 900903);
        // An issuer that is not configured.
        assert_denied(
            fx.check_bearer("secured", &sign(&fx.rsa, &claims("https://evil", ""))?)
                .await,
            401,
            900903,
        );
        // A wrong audience.
        let mut c = claims(IDP2, "");
        c["aud"] = json!("someone-else");
        assert_denied(fx.check_bearer("secured", &sign(&fx.ec, &c)?).await, 401, 900903);
        // Garbage and an oversized header never reach the JWKS.
        assert_denied(fx.check_bearer("secured", "invalidToken").await, 401, 900903);
        assert_denied(
            fx.check_bearer("secured", &"a.b.c".repeat(3000)).await,
            401,
            900903,
        );
        assert_denied(fx.check("secured", &[], "/").await, 401, 900902);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn never_an_allow_by_mistake() -> Result<()> {
    bounded(async {
        let fx = Fixture::new().await?;
        let payload = claims(IDP1, "read:pets");
        // alg none, with and without a signature.
        for alg in ["none", "None", "NONE"] {
            let header = json!({"alg": alg, "typ": "JWT", "kid": fx.rsa.kid});
            assert_denied(
                fx.check_bearer("secured", &raw_token(&header, &payload, b""))
                    .await,
                401,
                900903,
            );
            assert_denied(
                fx.check_bearer("secured", &raw_token(&header, &payload, b"x"))
                    .await,
                401,
                900903,
            );
        }
        // HS256 signed with the RSA public key as the HMAC secret (algorithm confusion).
        let public_pem = fx.rsa.public_pem.as_deref().context("pem")?;
        for secret in [
            public_pem.as_bytes(),
            fx.rsa.jwk["n"].as_str().unwrap_or_default().as_bytes(),
        ] {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some(fx.rsa.kid.clone());
            let hs = jsonwebtoken::encode(&header, &payload, &EncodingKey::from_secret(secret))?;
            assert_denied(fx.check_bearer("secured", &hs).await, 401, 900903);
        }
        // HS256 with the symmetric key the JWKS publishes.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("hmac".into());
        let hs = jsonwebtoken::encode(&header, &payload, &EncodingKey::from_secret(b"shared-secret"))?;
        assert_denied(fx.check_bearer("secured", &hs).await, 401, 900903);
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("hmac".into());
        let rs = jsonwebtoken::encode(&header, &payload, &fx.rsa.encoding)?;
        assert_denied(fx.check_bearer("secured", &rs).await, 401, 900903);
        // An ES256 signature presented as RS256 for the RSA kid, and the reverse.
        let es = sign(&fx.ec, &payload)?;
        let es_parts: Vec<&str> = es.split('.').collect();
        let lying = raw_token(
            &json!({"alg": "RS256", "kid": fx.rsa.kid}),
            &payload,
            &URL_SAFE_NO_PAD.decode(es_parts[2])?,
        );
        assert_denied(fx.check_bearer("secured", &lying).await, 401, 900903);
        let rs = sign(&fx.rsa, &payload)?;
        let rs_parts: Vec<&str> = rs.split('.').collect();
        let lying = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(json!({"alg": "ES256", "kid": fx.rsa.kid}).to_string()),
            rs_parts[1],
            rs_parts[2]
        );
        assert_denied(fx.check_bearer("secured", &lying).await, 401, 900903);
        // Critical header extensions, a payload that is not JSON, an empty signature.
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(fx.rsa.kid.clone());
        header.crit = Some(vec!["exp".into()]);
        let crit = jsonwebtoken::encode(&header, &payload, &fx.rsa.encoding)?;
        assert_denied(fx.check_bearer("secured", &crit).await, 401, 900903);
        let header_b64 = URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "kid": fx.rsa.kid}).to_string());
        for token in [
            format!(
                "{header_b64}.{}.{}",
                URL_SAFE_NO_PAD.encode("not json"),
                rs_parts[2]
            ),
            format!("{}.{}.", rs_parts[0], rs_parts[1]),
            format!("{}.{}", rs_parts[0], rs_parts[1]),
            format!("{rs}.{}", rs_parts[2]),
        ] {
            assert_denied(fx.check_bearer("secured", &token).await, 401, 900903);
        }
        // Garbage Authorization values.
        for value in [
            "Bearer",
            "Bearer ",
            "Bearer \u{0}.\u{0}.\u{0}",
            "Basic YWxpY2U6c2VjcmV0",
            "Token abc",
            "Bearer a.b.c d.e.f",
            "Bearer ....",
            "Bearer ü.ü.ü",
        ] {
            assert_denied(
                fx.check("secured", &[("authorization", value)], "/").await,
                401,
                900903,
            );
        }
        // Header values over 8 KiB, even when they hold a valid token.
        let padded = format!("Bearer {rs}{}", " ".repeat(8 * 1024));
        assert_denied(
            fx.check("secured", &[("authorization", &padded)], "/").await,
            401,
            900903,
        );
        let big = "a".repeat(8 * 1024 + 1);
        assert_denied(fx.check("keys", &[("apikey", &big)], "/").await, 401, 900903);
        assert_denied(fx.check("jwt", &[("internal-key", &big)], "/").await, 401, 900903);
        assert_denied(
            fx.check("keys", &[], &format!("/?apikey={big}")).await,
            401,
            900903,
        );
        Ok(())
    })
    .await
}

#[tokio::test]
async fn unknown_kid_refetches_once_then_401() -> Result<()> {
    bounded(async {
        let fx = Fixture::new().await?;
        fx.check_bearer("secured", &sign(&fx.rsa, &claims(IDP1, ""))?)
            .await?;
        assert_eq!(fx.jwks_hits("/idp1/jwks").await, 1);
        let rogue = rsa_key("456-789")?;
        assert_denied(
            fx.check_bearer("secured", &sign(&rogue, &claims(IDP1, ""))?)
                .await,
            401,
            900903,
        );
        assert_eq!(
            fx.jwks_hits("/idp1/jwks").await,
            2,
            "unknown kid triggers one refetch"
        );
        assert_denied(
            fx.check_bearer("secured", &sign(&rogue, &claims(IDP1, ""))?)
                .await,
            401,
            900903,
        );
        assert_eq!(fx.jwks_hits("/idp1/jwks").await, 2, "refetch is rate-limited");
        // idp2's key claiming to be idp1: its kid is not in idp1's set.
        assert_denied(
            fx.check_bearer("secured", &sign(&fx.ec, &claims(IDP1, ""))?)
                .await,
            401,
            900903,
        );
        Ok(())
    })
    .await
}

#[tokio::test]
async fn slow_or_junk_jwks_is_401() -> Result<()> {
    bounded(async {
        let fx = Fixture::new().await?;
        let started = Instant::now();
        assert_denied(
            fx.check_bearer("secured", &sign(&fx.rsa, &claims(SLOW, ""))?)
                .await,
            401,
            900903,
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "JWKS timeout bounds the check"
        );
        assert_denied(
            fx.check_bearer("secured", &sign(&fx.rsa, &claims(JUNK, ""))?)
                .await,
            401,
            900903,
        );
        assert_eq!(fx.jwks_hits("/junk/jwks").await, 1);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn scopes_custom_header_and_disabled() -> Result<()> {
    bounded(async {
        let fx = Fixture::new().await?;
        assert_denied(
            fx.check_bearer("scoped", &sign(&fx.rsa, &claims(IDP1, "write:pets"))?)
                .await,
            403,
            900910,
        );
        fx.check_bearer(
            "scoped",
            &sign(
                &fx.rsa,
                &json!({"iss": IDP1, "exp": now() + 60,
            "scope": ["read:pets"]}),
            )?,
        )
        .await?;
        let token = format!("Bearer {}", sign(&fx.rsa, &claims(IDP1, ""))?);
        assert_denied(
            fx.check("custom", &[("authorization", &token)], "/").await,
            401,
            900902,
        );
        let allowed = fx.check("custom", &[("testauth", &token)], "/").await?;
        assert!(
            allowed.headers_to_remove.is_empty(),
            "sendTokenToUpstream keeps the header"
        );
        let open = fx.check("open", &[], "/").await?;
        assert!(open.metadata().is_empty() && open.principal.is_none());
        fx.check("open", &[("authorization", "Bearer invalidToken")], "/")
            .await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn claim_mappings_rename_before_reading() -> Result<()> {
    bounded(async {
        let fx = Fixture::new().await?;
        let token = sign(
            &fx.rsa,
            &json!({"iss": MAPPED, "sub": "dave", "client_id": "ck-gold", "scp": "read:pets write:pets",
                "exp": now() + 600}),
        )?;
        let allowed = fx.check_bearer("scoped", &token).await?;
        let principal = allowed.principal.context("principal")?;
        assert_eq!(principal.consumer_key.as_deref(), Some("ck-gold"));
        assert!(principal.scopes.contains("read:pets"));
        assert_eq!(principal.claims.get("azp"), Some(&json!("ck-gold")));
        assert!(!principal.claims.contains_key("client_id"));
        // The mapped consumer key finds the application.
        let allowed = fx.check_bearer("subscribed", &token).await?;
        assert_eq!(allowed.application.map(|a| a.id).as_deref(), Some("app-gold"));
        // The same claims from idp1 (no mapping) carry no consumer key nor scopes.
        let unmapped = sign(
            &fx.rsa,
            &json!({"iss": IDP1, "client_id": "ck-gold", "scp": "read:pets", "exp": now() + 600}),
        )?;
        assert_denied(fx.check_bearer("scoped", &unmapped).await, 403, 900910);
        assert_denied(fx.check_bearer("subscribed", &unmapped).await, 403, 900908);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn issuers_are_scoped_to_environments_and_organizations() -> Result<()> {
    bounded(async {
        let fx = Fixture::new().await?;
        let dev_token = sign(&fx.rsa, &claims(DEV_ONLY, ""))?;
        fx.check_bearer("dev", &dev_token).await?;
        assert_denied(fx.check_bearer("prod", &dev_token).await, 401, 900903);
        assert_denied(fx.check_bearer("secured", &dev_token).await, 401, 900903);
        // An issuer for all environments serves every route.
        let any = sign(&fx.rsa, &claims(IDP1, ""))?;
        for route in ["dev", "prod", "secured", "other-org"] {
            fx.check_bearer(route, &any).await?;
        }
        // An issuer of another organization.
        let other = sign(&fx.rsa, &claims(OTHER_ORG, ""))?;
        fx.check_bearer("other-org", &other).await?;
        assert_denied(fx.check_bearer("secured", &other).await, 401, 900903);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn jwt_auth_type_reads_raw_tokens_from_its_header() -> Result<()> {
    bounded(async {
        let fx = Fixture::new().await?;
        let mut c = claims(IDP1, "read:pets");
        c["aud"] = json!(["other", "gateway"]);
        let token = sign(&fx.rsa, &c)?;
        let allowed = fx.check("jwt", &[("internal-key", &token)], "/").await?;
        assert_eq!(allowed.mechanism, Some(AuthMechanism::Jwt));
        assert_eq!(allowed.headers_to_remove, vec!["internal-key".to_owned()]);
        // Not in the Authorization header, nor with a scheme.
        assert_denied(fx.check_bearer("jwt", &token).await, 401, 900902);
        assert_denied(
            fx.check("jwt", &[("internal-key", &format!("Bearer {token}"))], "/")
                .await,
            401,
            900903,
        );
        // Audience, scopes and key type are checked.
        let mut wrong_aud = c.clone();
        wrong_aud["aud"] = json!("someone-else");
        assert_denied(
            fx.check("jwt", &[("internal-key", &sign(&fx.rsa, &wrong_aud)?)], "/")
                .await,
            401,
            900903,
        );
        let mut no_scope = c.clone();
        no_scope["scope"] = json!("");
        assert_denied(
            fx.check("jwt", &[("internal-key", &sign(&fx.rsa, &no_scope)?)], "/")
                .await,
            403,
            900910,
        );
        let mut internal = no_scope.clone();
        internal["tokenType"] = json!("InternalKey");
        fx.check("jwt", &[("internal-key", &sign(&fx.rsa, &internal)?)], "/")
            .await?;
        let mut sandbox = c.clone();
        sandbox["keytype"] = json!("SANDBOX");
        assert_denied(
            fx.check("jwt", &[("internal-key", &sign(&fx.rsa, &sandbox)?)], "/")
                .await,
            401,
            900903,
        );
        // An API key is not a JWT credential.
        let key = sign(&fx.rsa, &api_key_claims("ck-gold", "PRODUCTION", &["pets:1.0"]))?;
        assert_denied(
            fx.check("jwt-upstream", &[("x-token", &key)], "/").await,
            401,
            900903,
        );
        // A custom header kept for the backend.
        let allowed = fx.check("jwt-upstream", &[("x-token", &token)], "/").await?;
        assert!(allowed.headers_to_remove.is_empty());
        Ok(())
    })
    .await
}

#[tokio::test]
async fn api_keys_are_signed_jwts_in_header_or_query() -> Result<()> {
    bounded(async {
        let fx = Fixture::new().await?;
        let key = sign(
            &fx.rsa,
            &api_key_claims("ck-gold", "PRODUCTION", &["orders:1.0", "pets:1.0"]),
        )?;
        let allowed = fx.check("keys", &[("apikey", &key)], "/pets").await?;
        assert_eq!(allowed.mechanism, Some(AuthMechanism::ApiKey));
        assert_eq!(allowed.consumer_key.as_deref(), Some("ck-gold"));
        assert_eq!(allowed.headers_to_remove, vec!["apikey".to_owned()]);
        assert_eq!(allowed.query_params_to_remove, vec!["apikey".to_owned()]);
        fx.check("keys", &[], &format!("/pets?x=1&apikey={key}")).await?;
        assert_denied(
            fx.check("keys", &[("apikey", "wrong")], "/pets").await,
            401,
            900903,
        );
        assert_denied(fx.check("keys", &[], "/pets?apikey=wrong").await, 401, 900903);
        assert_denied(fx.check("keys", &[], "/pets").await, 401, 900902);
        // Not listed for this API, no APIs at all, another key type.
        for claims in [
            api_key_claims("ck-gold", "PRODUCTION", &["orders:1.0"]),
            api_key_claims("ck-gold", "PRODUCTION", &["pets:2.0"]),
            api_key_claims("ck-gold", "PRODUCTION", &[]),
            api_key_claims("ck-gold", "SANDBOX", &["pets:1.0"]),
        ] {
            assert_denied(
                fx.check("keys", &[("apikey", &sign(&fx.rsa, &claims)?)], "/")
                    .await,
                401,
                900903,
            );
        }
        let mut no_apis = api_key_claims("ck-gold", "PRODUCTION", &[]);
        no_apis.as_object_mut().context("object")?.remove("apis");
        assert_denied(
            fx.check("keys", &[("apikey", &sign(&fx.rsa, &no_apis)?)], "/")
                .await,
            401,
            900903,
        );
        let sandbox = sign(
            &fx.rsa,
            &api_key_claims("ck-gold-sandbox", "SANDBOX", &["pets:1.0"]),
        )?;
        fx.check("keys-sandbox", &[("apikey", &sandbox)], "/").await?;
        assert_denied(
            fx.check("keys-sandbox", &[("apikey", &key)], "/").await,
            401,
            900903,
        );
        // Expired keys are 900901; keys of unknown issuers and forged keys 900903.
        let mut expired = api_key_claims("ck-gold", "PRODUCTION", &["pets:1.0"]);
        expired["exp"] = json!(now() - 3600);
        assert_denied(
            fx.check("keys", &[("apikey", &sign(&fx.rsa, &expired)?)], "/")
                .await,
            401,
            900901,
        );
        let mut foreign = api_key_claims("ck-gold", "PRODUCTION", &["pets:1.0"]);
        foreign["iss"] = json!("https://evil");
        assert_denied(
            fx.check("keys", &[("apikey", &sign(&fx.rsa, &foreign)?)], "/")
                .await,
            401,
            900903,
        );
        let rogue = rsa_key("123-456")?;
        let forged = sign(&rogue, &api_key_claims("ck-gold", "PRODUCTION", &["pets:1.0"]))?;
        assert_denied(fx.check("keys", &[("apikey", &forged)], "/").await, 401, 900903);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn api_keys_and_access_tokens_are_not_interchangeable() -> Result<()> {
    bounded(async {
        let fx = Fixture::new().await?;
        let key = sign(&fx.rsa, &api_key_claims("ck-gold", "PRODUCTION", &["pets:1.0"]))?;
        let access = sign(&fx.rsa, &access_claims("ck-gold"))?;
        // An API key as a bearer token.
        assert_denied(fx.check_bearer("secured", &key).await, 401, 900903);
        assert_denied(fx.check_bearer("either", &key).await, 401, 900903);
        // An access token as an API key.
        assert_denied(fx.check("keys", &[("apikey", &access)], "/").await, 401, 900903);
        assert_denied(fx.check("either", &[("apikey", &access)], "/").await, 401, 900903);
        // Each in its place works.
        fx.check_bearer("either", &access).await?;
        fx.check("either", &[("apikey", &key)], "/").await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn required_mandatory_and_optional() -> Result<()> {
    bounded(async {
        let fx = Fixture::new().await?;
        let key = sign(&fx.rsa, &api_key_claims("ck-gold", "PRODUCTION", &["pets:1.0"]))?;
        let bearer = format!("Bearer {}", sign(&fx.rsa, &access_claims("ck-gold"))?);
        // One of either is enough; a bad bearer token does not spoil a good API key.
        fx.check("either", &[("apikey", &key)], "/").await?;
        fx.check("either", &[("authorization", &bearer)], "/").await?;
        let allowed = fx
            .check(
                "either",
                &[("authorization", "Bearer a.b.c"), ("apikey", &key)],
                "/",
            )
            .await?;
        assert_eq!(allowed.mechanism, Some(AuthMechanism::ApiKey));
        assert_denied(fx.check("either", &[], "/").await, 401, 900902);
        // Every presented credential failing: the first failure is reported.
        assert_denied(
            fx.check(
                "either",
                &[("authorization", "Bearer a.b.c"), ("apikey", "x.y.z")],
                "/",
            )
            .await,
            401,
            900903,
        );
        // Both mandatory: both needed, both checked.
        let allowed = fx
            .check("both", &[("authorization", &bearer), ("apikey", &key)], "/")
            .await?;
        assert_eq!(allowed.mechanism, Some(AuthMechanism::OAuth2));
        assert_eq!(
            allowed.headers_to_remove,
            vec!["authorization".to_owned(), "apikey".to_owned()]
        );
        assert_denied(
            fx.check("both", &[("authorization", &bearer)], "/").await,
            401,
            900902,
        );
        assert_denied(fx.check("both", &[("apikey", &key)], "/").await, 401, 900902);
        assert_denied(
            fx.check("both", &[("authorization", &bearer), ("apikey", "x.y.z")], "/")
                .await,
            401,
            900903,
        );
        Ok(())
    })
    .await
}

#[tokio::test]
async fn subscriptions_are_validated() -> Result<()> {
    bounded(async {
        let fx = Fixture::new().await?;
        let token = |ck: &str| -> Result<String> { sign(&fx.rsa, &access_claims(ck)) };
        let allowed = fx.check_bearer("subscribed", &token("ck-gold")?).await?;
        let app = allowed.application.clone().context("application")?;
        assert_eq!(
            (app.id.as_str(), app.name.as_str(), app.owner.as_str()),
            ("app-gold", "app-gold name", "app-gold owner")
        );
        assert_eq!(allowed.subscription_tier.as_deref(), Some("Gold"));
        assert_eq!(allowed.subscription_id.as_deref(), Some("sub-gold"));
        assert_eq!(
            allowed.metadata(),
            vec![
                ("applicationId", "app-gold".to_owned()),
                ("subscriptionTier", "Gold".to_owned()),
                ("organization", ORG.to_owned()),
                ("keyType", "PRODUCTION".to_owned()),
                ("consumerKey", "ck-gold".to_owned()),
            ]
        );
        // A wildcard version subscription.
        let allowed = fx.check_bearer("subscribed", &token("ck-any")?).await?;
        assert_eq!(allowed.subscription_tier.as_deref(), Some("Silver"));
        // Blocked, inactive, not subscribed, unknown key, other organization, no consumer key.
        for ck in [
            "ck-blocked",
            "ck-inactive",
            "ck-unsubscribed",
            "ck-nobody",
            "ck-other-org",
        ] {
            let denied = fx.check_bearer("subscribed", &token(ck)?).await;
            match &denied {
                Err(error) => assert_eq!(error.body().error_message, "Resource forbidden", "{ck}"),
                Ok(_) => panic!("{ck} allowed"),
            }
            assert_denied(denied, 403, 900908);
        }
        let anonymous = sign(&fx.rsa, &json!({"iss": IDP1, "sub": "x", "exp": now() + 60}))?;
        assert_denied(fx.check_bearer("subscribed", &anonymous).await, 403, 900908);
        // A production key on a sandbox route and the reverse.
        assert_denied(
            fx.check_bearer("subscribed-sandbox", &token("ck-gold")?).await,
            403,
            900908,
        );
        let allowed = fx
            .check_bearer("subscribed-sandbox", &token("ck-gold-sandbox")?)
            .await?;
        assert_eq!(allowed.key_type, Some(KeyType::Sandbox));
        // API keys are validated through their azp.
        let key =
            |ck: &str| -> Result<String> { sign(&fx.rsa, &api_key_claims(ck, "PRODUCTION", &["pets:1.0"])) };
        let allowed = fx
            .check("keys-subscribed", &[("apikey", &key("ck-gold")?)], "/")
            .await?;
        assert_eq!(allowed.application.map(|a| a.id).as_deref(), Some("app-gold"));
        assert_denied(
            fx.check("keys-subscribed", &[("apikey", &key("ck-blocked")?)], "/")
                .await,
            403,
            900908,
        );
        // Without validation, the identity is still resolved but nothing is enforced.
        let allowed = fx.check_bearer("secured", &token("ck-gold")?).await?;
        assert_eq!(allowed.subscription_tier.as_deref(), Some("Gold"));
        let allowed = fx.check_bearer("secured", &token("ck-blocked")?).await?;
        assert_eq!(allowed.application.map(|a| a.id).as_deref(), Some("app-blocked"));
        assert_eq!(
            allowed.subscription_tier, None,
            "no tier from a blocked subscription"
        );
        Ok(())
    })
    .await
}

#[tokio::test]
async fn config_swap_reindexes_subscriptions_and_keeps_jwks() -> Result<()> {
    bounded(async {
        let fx = Fixture::new().await?;
        let token = sign(&fx.rsa, &access_claims("ck-new"))?;
        assert_denied(fx.check_bearer("subscribed", &token).await, 403, 900908);
        let mut config = fx.enforcer.config();
        config.applications.push(application(
            "app-new",
            vec![consumer_key("ck-new", KeyType::Production)],
            vec![subscription("sub-new", "1.0", "ACTIVE", Some("Bronze"))],
        ));
        fx.enforcer.update_config(config.clone());
        let allowed = fx.check_bearer("subscribed", &token).await?;
        assert_eq!(allowed.subscription_tier.as_deref(), Some("Bronze"));
        // Blocking it takes effect on the next push, even for a token seen before.
        config.applications.last_mut().context("app")?.subscriptions[0].status = "BLOCKED".into();
        fx.enforcer.update_config(config);
        assert_denied(fx.check_bearer("subscribed", &token).await, 403, 900908);
        assert_eq!(
            fx.jwks_hits("/idp1/jwks").await,
            1,
            "the JWKS survives config pushes"
        );
        Ok(())
    })
    .await
}

#[tokio::test]
async fn backend_jwt_is_signed_and_published() -> Result<()> {
    bounded(async {
        let fx = Fixture::new().await?;
        let access = sign(&fx.rsa, &access_claims("ck-gold"))?;
        let allowed = fx.check_bearer("backend", &access).await?;
        let (header, jwt) = allowed.headers_to_add.first().context("backend JWT header")?;
        assert_eq!(header, "X-JWT-Assertion");
        assert!(
            !allowed
                .headers_to_remove
                .iter()
                .any(|h| h.eq_ignore_ascii_case(header))
        );
        let backend = fx.backend_claims(jwt)?;
        let c = |name: &str| {
            backend
                .get(&format!("{DIALECT}{name}"))
                .cloned()
                .unwrap_or(Value::Null)
        };
        assert_eq!(backend["iss"], GATEWAY_ISSUER);
        assert_eq!(backend["sub"], "bob");
        let (iat, exp) = (
            backend["iat"].as_i64().context("iat")?,
            backend["exp"].as_i64().context("exp")?,
        );
        assert_eq!(exp - iat, 3600);
        assert!((iat - now()).abs() < 5);
        assert_eq!(backend["jti"].as_str().map(str::len), Some(36));
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
                json!("PRODUCTION"),
                json!("app-gold owner"),
                json!("app-gold"),
                json!("app-gold name"),
                json!("Gold")
            ]
        );
        assert_eq!(
            (
                backend["team"].clone(),
                backend["level"].clone(),
                backend["internal"].clone()
            ),
            (json!("blue"), json!(7), json!(true))
        );
        // Reused for the same caller, fresh for another one.
        let again = fx
            .check_bearer("backend", &sign(&fx.rsa, &access_claims("ck-gold"))?)
            .await?;
        assert_eq!(again.headers_to_add.first().map(|(_, v)| v), Some(jwt));
        let other = fx
            .check_bearer("backend", &sign(&fx.rsa, &access_claims("ck-any"))?)
            .await?;
        let other_jwt = &other.headers_to_add.first().context("header")?.1;
        assert_ne!(other_jwt, jwt);
        assert_eq!(
            fx.backend_claims(other_jwt)?[&format!("{DIALECT}applicationid")],
            "app-any-version"
        );
        // API keys get one too, with the key's subject; the owner stands in when there is none.
        let key = sign(&fx.rsa, &api_key_claims("ck-gold", "PRODUCTION", &["pets:1.0"]))?;
        let by_key = fx.check("backend", &[], &format!("/pets?apikey={key}")).await?;
        assert_eq!(by_key.query_params_to_remove, vec!["apikey".to_owned()]);
        assert_eq!(fx.backend_claims(&by_key.headers_to_add[0].1)?["sub"], "carol");
        let mut no_sub = access_claims("ck-gold");
        no_sub.as_object_mut().context("object")?.remove("sub");
        let owner = fx.check_bearer("backend", &sign(&fx.rsa, &no_sub)?).await?;
        assert_eq!(
            fx.backend_claims(&owner.headers_to_add[0].1)?["sub"],
            "app-gold owner"
        );
        // Base64url encoding, another header and TTL; no application known.
        let allowed = fx
            .check_bearer("backend-url-safe", &sign(&fx.rsa, &claims(IDP1, ""))?)
            .await?;
        let (header, jwt) = allowed.headers_to_add.first().context("header")?;
        assert_eq!(header, "X-Backend");
        let backend = fx.backend_claims(jwt)?;
        assert_eq!(
            backend["exp"]
                .as_i64()
                .zip(backend["iat"].as_i64())
                .map(|(e, i)| e - i),
            Some(60)
        );
        assert!(!backend.contains_key(&format!("{DIALECT}applicationid")));
        // Denied requests get no JWT; without a signer the route fails closed.
        assert_denied(
            fx.check_bearer("backend", &sign(&fx.rsa, &access_claims("ck-blocked"))?)
                .await,
            403,
            900908,
        );
        let unsigned = Enforcer::new(ValidationOptions::default())?;
        unsigned.update_config(fx.enforcer.config());
        let headers = HashMap::from([("authorization".to_owned(), format!("Bearer {access}"))]);
        let result = unsigned
            .check(
                "backend",
                RequestView {
                    headers: &headers,
                    path: "/",
                },
            )
            .await;
        assert_denied(result, 500, 900900);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn certificate_pem_issuer() -> Result<()> {
    bounded(async {
        let rcgen::CertifiedKey { cert, signing_key } =
            rcgen::generate_simple_self_signed(vec!["idp3".into()])?;
        let key = TestKey {
            alg: Algorithm::ES256,
            kid: "not-in-any-jwks".into(),
            encoding: EncodingKey::from_ec_pem(signing_key.serialize_pem().as_bytes())?,
            jwk: Value::Null,
            public_pem: None,
        };
        let enforcer = Enforcer::new(ValidationOptions::default())?;
        enforcer.update_config(EnforcerConfig {
            issuers: vec![IssuerConfig {
                jwks_url: None,
                certificate_pem: Some(cert.pem()),
                ..IssuerConfig::with_jwks("idp3", "https://idp3", "unused")
            }],
            routes: [(
                "r".to_owned(),
                RouteAuth {
                    oauth2: Some(OAuth2Config::default()),
                    ..RouteAuth::default()
                },
            )]
            .into(),
            applications: Vec::new(),
        });
        let headers =
            |token: String| HashMap::from([("authorization".to_owned(), format!("Bearer {token}"))]);
        let good = headers(sign(&key, &claims("https://idp3", ""))?);
        enforcer
            .check(
                "r",
                RequestView {
                    headers: &good,
                    path: "/",
                },
            )
            .await?;
        let other = ec_key("x")?;
        let bad = headers(sign(&other, &claims("https://idp3", ""))?);
        assert_denied(
            enforcer
                .check(
                    "r",
                    RequestView {
                        headers: &bad,
                        path: "/",
                    },
                )
                .await,
            401,
            900903,
        );
        Ok(())
    })
    .await
}

fn check_request(route: &str, headers: &[(&str, &str)], path: &str) -> CheckRequest {
    CheckRequest {
        attributes: Some(AttributeContext {
            context_extensions: HashMap::from([("route".to_owned(), route.to_owned())]),
            request: Some(AttrRequest {
                http: Some(HttpRequest {
                    method: "GET".into(),
                    path: path.into(),
                    headers: headers
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                        .collect(),
                    ..HttpRequest::default()
                }),
                ..AttrRequest::default()
            }),
            ..AttributeContext::default()
        }),
    }
}

/// The OK part of a response, failing on a denial.
fn ok_part(
    response: CheckResponse,
) -> Result<(
    envoy_types::ext_authz::v3::pb::OkHttpResponse,
    HashMap<String, String>,
)> {
    anyhow::ensure!(
        response.status.as_ref().map(|s| s.code) == Some(0),
        "status OK expected: {response:?}"
    );
    let metadata = response
        .dynamic_metadata
        .map(|s| {
            s.fields
                .into_iter()
                .filter_map(|(k, v)| match v.kind {
                    Some(Kind::StringValue(s)) => Some((k, s)),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    match response.http_response.context("http_response")? {
        HttpResponse::OkResponse(ok) => Ok((ok, metadata)),
        other => Err(anyhow!("expected ok, got {other:?}")),
    }
}

#[tokio::test]
async fn grpc_end_to_end() -> Result<()> {
    bounded(async {
        let fx = Fixture::new().await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(portcullis_enforcer::serve(listener, fx.enforcer.clone()));
        let mut client = AuthorizationClient::connect(format!("http://{addr}")).await?;

        // A plain OAuth2 route: the bearer header is stripped, the identity known so far is sent.
        let token = format!("Bearer {}", sign(&fx.rsa, &claims(IDP1, ""))?);
        let response = client
            .check(check_request("secured", &[("authorization", &token)], "/pets"))
            .await?
            .into_inner();
        let (ok, metadata) = ok_part(response)?;
        assert_eq!(ok.headers_to_remove, vec!["authorization".to_owned()]);
        assert!(ok.headers.is_empty());
        assert_eq!(
            metadata,
            HashMap::from([
                ("organization".to_owned(), ORG.to_owned()),
                ("keyType".to_owned(), "PRODUCTION".to_owned()),
                ("consumerKey".to_owned(), "app-1".to_owned()),
            ])
        );

        // A subscribed caller with a backend JWT: header set (overwriting), metadata for rate limits.
        let gold = format!("Bearer {}", sign(&fx.rsa, &access_claims("ck-gold"))?);
        let response = client
            .check(check_request(
                "backend",
                &[("authorization", &gold), ("x-jwt-assertion", "forged-by-client")],
                "/pets",
            ))
            .await?
            .into_inner();
        let (ok, metadata) = ok_part(response)?;
        assert_eq!(
            metadata,
            HashMap::from([
                ("applicationId".to_owned(), "app-gold".to_owned()),
                ("subscriptionTier".to_owned(), "Gold".to_owned()),
                ("organization".to_owned(), ORG.to_owned()),
                ("keyType".to_owned(), "PRODUCTION".to_owned()),
                ("consumerKey".to_owned(), "ck-gold".to_owned()),
            ])
        );
        let jwt_header = ok
            .headers
            .iter()
            .find(|h| h.header.as_ref().is_some_and(|h| h.key == "X-JWT-Assertion"))
            .context("backend JWT header")?;
        assert_eq!(
            jwt_header.append_action,
            HeaderAppendAction::OverwriteIfExistsOrAdd as i32
        );
        let jwt = &jwt_header.header.as_ref().context("header")?.value;
        assert_eq!(fx.backend_claims(jwt)?[&format!("{DIALECT}tier")], "Gold");
        assert_eq!(ok.headers_to_remove, vec!["authorization".to_owned()]);

        // An API key in the query: the parameter is removed.
        let key = sign(&fx.rsa, &api_key_claims("ck-gold", "PRODUCTION", &["pets:1.0"]))?;
        let response = client
            .check(check_request("keys", &[], &format!("/pets?apikey={key}&x=1")))
            .await?
            .into_inner();
        let (ok, metadata) = ok_part(response)?;
        assert_eq!(ok.query_parameters_to_remove, vec!["apikey".to_owned()]);
        assert_eq!(ok.headers_to_remove, vec!["apikey".to_owned()]);
        assert_eq!(
            metadata.get("applicationId").map(String::as_str),
            Some("app-gold")
        );

        // A disabled route: allowed, nothing to change, no metadata.
        let response = client.check(check_request("open", &[], "/")).await?.into_inner();
        assert!(response.dynamic_metadata.is_none());
        ok_part(response)?;

        let blocked = format!("Bearer {}", sign(&fx.rsa, &access_claims("ck-blocked"))?);
        let api_key_as_bearer = format!("Bearer {key}");
        let mut expired = claims(IDP1, "");
        expired["exp"] = json!(now() - 3600);
        let expired = format!("Bearer {}", sign(&fx.rsa, &expired)?);
        for (route, headers, status, code, message) in [
            ("secured", vec![], 401, "900902", "Missing Credentials"),
            (
                "secured",
                vec![("authorization", "Bearer invalidToken")],
                401,
                "900903",
                "Invalid Credentials",
            ),
            (
                "secured",
                vec![("authorization", api_key_as_bearer.as_str())],
                401,
                "900903",
                "Invalid Credentials",
            ),
            (
                "secured",
                vec![("authorization", expired.as_str())],
                401,
                "900901",
                "Invalid Credentials",
            ),
            (
                "scoped",
                vec![("authorization", token.as_str())],
                403,
                "900910",
                "The access token does not allow you to access the requested resource",
            ),
            (
                "subscribed",
                vec![("authorization", blocked.as_str())],
                403,
                "900908",
                "Resource forbidden",
            ),
            ("no-such-route", vec![], 403, "900908", "Resource forbidden"),
        ] {
            let denied = client
                .check(check_request(route, &headers, "/pets"))
                .await?
                .into_inner();
            assert_ne!(denied.status.context("status")?.code, 0);
            assert!(denied.dynamic_metadata.is_none());
            let Some(HttpResponse::DeniedResponse(denied)) = denied.http_response else {
                panic!("expected a denial for {route}");
            };
            assert_eq!(
                denied.status.context("http status")?.code,
                status,
                "{route} {code}"
            );
            let content_type = denied
                .headers
                .iter()
                .filter_map(|h| h.header.as_ref())
                .find(|h| h.key == "content-type");
            assert_eq!(content_type.map(|h| h.value.as_str()), Some("application/json"));
            let body: Value = serde_json::from_str(&denied.body)?;
            assert_eq!(body["code"], code, "{route}");
            assert_eq!(body["error_message"], message, "{route}");
            assert!(body["error_description"].is_string());
            assert!(!denied.body.contains("eyJ"), "the body never echoes a token");
        }
        server.abort();
        Ok(())
    })
    .await
}
