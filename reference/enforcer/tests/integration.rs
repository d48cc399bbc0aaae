//! End-to-end checks: JWKS served by wiremock, tokens signed at test time, and gRPC through the
//! envoy-types Authorization client. Everything stays on loopback and is bounded in time.

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
use envoy_types::pb::envoy::service::auth::v3::attribute_context::{HttpRequest, Request as AttrRequest};
use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
use envoy_types::pb::envoy::service::auth::v3::check_response::HttpResponse;
use envoy_types::pb::envoy::service::auth::v3::{AttributeContext, CheckRequest};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use portcullis_enforcer::{
    ApiKeyLocation, AuthError, Enforcer, EnforcerConfig, IssuerConfig, KeyIn, OAuth2Config, RequestView,
    RouteAuth, ValidationOptions,
};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const IDP1: &str = "https://idp1.example";
const IDP2: &str = "https://idp2.example";
const SLOW: &str = "https://slow.example";
const JUNK: &str = "https://junk.example";

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
    let (seq, _) = der_element(pair.public_key().as_ref())?;
    let (n, rest) = der_element(seq)?;
    let (e, _) = der_element(rest)?;
    let jwk = json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
        "n": URL_SAFE_NO_PAD.encode(unsigned(n)), "e": URL_SAFE_NO_PAD.encode(unsigned(e))});
    Ok(TestKey {
        alg: Algorithm::RS256,
        kid: kid.to_owned(),
        encoding,
        jwk,
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

fn claims(iss: &str, scope: &str) -> Value {
    json!({"iss": iss, "sub": "alice", "azp": "app-1", "scope": scope, "iat": now(), "exp": now() + 600})
}

struct Fixture {
    server: MockServer,
    enforcer: Arc<Enforcer>,
    rsa: TestKey,
    ec: TestKey,
}

impl Fixture {
    async fn new() -> Result<Self> {
        let server = MockServer::start().await;
        let rsa = rsa_key("123-456")?;
        let ec = ec_key("ec-1")?;
        let jwks =
            |key: &TestKey| ResponseTemplate::new(200).set_body_json(json!({"keys": [key.jwk.clone()]}));
        Mock::given(method("GET"))
            .and(path("/idp1/jwks"))
            .respond_with(jwks(&rsa))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/idp2/jwks"))
            .respond_with(jwks(&ec))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/slow/jwks"))
            .respond_with(jwks(&rsa).set_delay(Duration::from_secs(5)))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/junk/jwks"))
            .respond_with(ResponseTemplate::new(200).set_body_string("<html>not a jwks</html>"))
            .mount(&server)
            .await;
        let issuer = |name: &str, iss: &str, audiences: Vec<String>| IssuerConfig {
            name: name.to_owned(),
            issuer: iss.to_owned(),
            consumer_key_claim: "azp".to_owned(),
            scopes_claim: "scope".to_owned(),
            jwks_url: Some(format!("{}/{name}/jwks", server.uri())),
            certificate_pem: None,
            audiences,
        };
        let oauth2 = RouteAuth {
            oauth2: Some(OAuth2Config::default()),
            api: "pets".into(),
            ..RouteAuth::default()
        };
        let key_locations = vec![
            ApiKeyLocation {
                location: KeyIn::Header,
                name: "apikey".into(),
            },
            ApiKeyLocation {
                location: KeyIn::Query,
                name: "apikey".into(),
            },
        ];
        let config = EnforcerConfig {
            issuers: vec![
                issuer("idp1", IDP1, Vec::new()),
                issuer("idp2", IDP2, vec!["gateway".into()]),
                issuer("slow", SLOW, Vec::new()),
                issuer("junk", JUNK, Vec::new()),
            ],
            routes: [
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
                        }),
                        ..oauth2.clone()
                    },
                ),
                (
                    "keys",
                    RouteAuth {
                        oauth2: None,
                        api_keys: key_locations,
                        ..oauth2
                    },
                ),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        };
        let options = ValidationOptions {
            leeway: Duration::from_secs(5),
            jwks_timeout: Duration::from_millis(500),
            jwks_min_refetch: Duration::from_secs(10),
        };
        let enforcer = Enforcer::new(options)?;
        enforcer.update_config(config);
        Ok(Self {
            server,
            enforcer: Arc::new(enforcer),
            rsa,
            ec,
        })
    }

    async fn check_bearer(
        &self,
        route: &str,
        token: &str,
    ) -> Result<portcullis_enforcer::Allowed, AuthError> {
        self.check(route, &[("authorization", &format!("Bearer {token}"))], "/pets")
            .await
    }

    async fn check(
        &self,
        route: &str,
        headers: &[(&str, &str)],
        path: &str,
    ) -> Result<portcullis_enforcer::Allowed, AuthError> {
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
}

fn assert_denied(result: Result<portcullis_enforcer::Allowed, AuthError>, status: u16, code: u32) {
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
        let principal = allowed.principal.context("principal")?;
        assert_eq!(principal.consumer_key.as_deref(), Some("app-1"));
        assert_eq!(principal.issuer_name, "idp1");
        assert_eq!(allowed.headers_to_remove, vec!["authorization".to_owned()]);
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
        Ok(())
    })
    .await
}

#[tokio::test]
async fn tampered_and_foreign_tokens_are_401() -> Result<()> {
    bounded(async {
        let fx = Fixture::new().await?;
        let token = sign(&fx.rsa, &claims(IDP1, ""))?;
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
        fx.check("open", &[], "/").await?;
        fx.check("open", &[("authorization", "Bearer invalidToken")], "/")
            .await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn api_keys_in_header_and_query() -> Result<()> {
    bounded(async {
        let fx = Fixture::new().await?;
        let key = fx.enforcer.issue_api_key("pets");
        fx.check("keys", &[("apikey", &key)], "/pets").await?;
        fx.check("keys", &[], &format!("/pets?x=1&apikey={key}")).await?;
        assert_denied(
            fx.check("keys", &[("apikey", "wrong")], "/pets").await,
            401,
            900903,
        );
        assert_denied(fx.check("keys", &[], "/pets?apikey=wrong").await, 401, 900903);
        assert_denied(fx.check("keys", &[], "/pets").await, 401, 900902);
        let other = fx.enforcer.issue_api_key("orders");
        assert_denied(
            fx.check("keys", &[("apikey", &other)], "/pets").await,
            401,
            900903,
        );
        Ok(())
    })
    .await
}

fn check_request(route: &str, headers: &[(&str, &str)]) -> CheckRequest {
    CheckRequest {
        attributes: Some(AttributeContext {
            context_extensions: HashMap::from([("route".to_owned(), route.to_owned())]),
            request: Some(AttrRequest {
                http: Some(HttpRequest {
                    method: "GET".into(),
                    path: "/pets".into(),
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

#[tokio::test]
async fn grpc_end_to_end() -> Result<()> {
    bounded(async {
        let fx = Fixture::new().await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(portcullis_enforcer::serve(listener, fx.enforcer.clone()));
        let mut client = AuthorizationClient::connect(format!("http://{addr}")).await?;

        let token = format!("Bearer {}", sign(&fx.rsa, &claims(IDP1, ""))?);
        let ok = client
            .check(check_request("secured", &[("authorization", &token)]))
            .await?
            .into_inner();
        assert_eq!(ok.status.context("status")?.code, 0);
        match ok.http_response.context("http_response")? {
            HttpResponse::OkResponse(ok) => {
                assert_eq!(ok.headers_to_remove, vec!["authorization".to_owned()])
            }
            other => panic!("expected ok, got {other:?}"),
        }

        for (route, headers, status, code) in [
            ("secured", vec![], 401, "900902"),
            (
                "secured",
                vec![("authorization", "Bearer invalidToken")],
                401,
                "900903",
            ),
            ("scoped", vec![("authorization", token.as_str())], 403, "900910"),
            ("no-such-route", vec![], 403, "900908"),
        ] {
            let denied = client.check(check_request(route, &headers)).await?.into_inner();
            assert_ne!(denied.status.context("status")?.code, 0);
            let Some(HttpResponse::DeniedResponse(denied)) = denied.http_response else {
                panic!("expected a denial for {route}");
            };
            assert_eq!(denied.status.context("http status")?.code, status);
            let content_type = denied
                .headers
                .iter()
                .filter_map(|h| h.header.as_ref())
                .find(|h| h.key == "content-type");
            assert_eq!(content_type.map(|h| h.value.as_str()), Some("application/json"));
            let body: Value = serde_json::from_str(&denied.body)?;
            assert_eq!(body["code"], code, "{route}");
            assert!(body["error_message"].is_string() && body["error_description"].is_string());
        }
        server.abort();
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
        };
        let enforcer = Enforcer::new(ValidationOptions::default())?;
        enforcer.update_config(EnforcerConfig {
            issuers: vec![IssuerConfig {
                name: "idp3".into(),
                issuer: "https://idp3".into(),
                consumer_key_claim: "azp".into(),
                scopes_claim: "scope".into(),
                jwks_url: None,
                certificate_pem: Some(cert.pem()),
                audiences: Vec::new(),
            }],
            routes: [(
                "r".to_owned(),
                RouteAuth {
                    oauth2: Some(OAuth2Config::default()),
                    ..RouteAuth::default()
                },
            )]
            .into(),
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
