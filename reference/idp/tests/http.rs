//! The IdP over real HTTP on 127.0.0.1: tokens, errors, JWKS verification, API keys, discovery.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use aws_lc_rs::encoding::AsDer as _;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use portcullis_idp::{
    AccessTokenClaims, ApiKeyClaims, ApplicationRef, DEFAULT_ISSUER, Idp, IdpConfig, KeyType, OAuthClient,
};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The client APK's cucumber tests use for "I have a valid subscription".
const APK_ID: &str = "45f1c5c8-a92e-11ed-afa1-0242ac120002";
const APK_SECRET: &str = "4fbd62ec-a92e-11ed-afa1-0242ac120002";
const FORM: &str = "application/x-www-form-urlencoded";

/// A served IdP; the server stops when this is dropped.
struct Server {
    base: String,
    http: reqwest::Client,
    idp: Arc<Idp>,
    _stop: oneshot::Sender<()>,
}

impl Server {
    async fn start(config: IdpConfig, clients: Vec<OAuthClient>) -> Result<Self> {
        let idp = Arc::new(Idp::new(config)?);
        Self::serve(idp, clients).await
    }

    async fn serve(idp: Arc<Idp>, clients: Vec<OAuthClient>) -> Result<Self> {
        idp.set_clients(clients);
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        let served = Arc::clone(&idp);
        tokio::spawn(async move {
            let _ = portcullis_idp::serve(listener, served, async move {
                let _ = stopped.await;
            })
            .await;
        });
        Ok(Self {
            base,
            http: reqwest::Client::new(),
            idp,
            _stop: stop,
        })
    }

    fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::RequestBuilder {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.http
            .post(format!("{}{path}", self.base))
            .header("content-type", FORM)
            .body(body)
    }

    async fn jwks(&self, path: &str) -> Result<JwkSet> {
        Ok(self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// Verifies `jwt` with the key named by its `kid` in the JWKS fetched over HTTP.
    async fn verify<T: DeserializeOwned>(&self, jwt: &str, audience: Option<&str>) -> Result<T> {
        let header = jsonwebtoken::decode_header(jwt)?;
        assert_eq!(header.alg, Algorithm::RS256);
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        let kid = header.kid.context("token has no kid")?;
        let jwks = self.jwks("/oauth2/jwks").await?;
        let jwk = jwks.find(&kid).context("kid not in JWKS")?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[DEFAULT_ISSUER]);
        match audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        Ok(jsonwebtoken::decode::<T>(jwt, &DecodingKey::from_jwk(jwk)?, &validation)?.claims)
    }
}

fn apk_client() -> OAuthClient {
    OAuthClient::new(APK_ID, APK_SECRET)
}

async fn error_of(response: reqwest::Response) -> Result<(StatusCode, String, Value)> {
    let status = response.status();
    let www = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    Ok((status, www, response.json().await?))
}

#[tokio::test]
async fn basic_auth_token_verifies_against_the_jwks_fetched_over_http() -> Result<()> {
    let server = Server::start(IdpConfig::default(), vec![apk_client()]).await?;
    let response = server
        .post(
            "/oauth2/token",
            &[("grant_type", "client_credentials"), ("scope", "apk:api_create")],
        )
        .basic_auth(APK_ID, Some(APK_SECRET))
        .header("host", "idp.am.wso2.com")
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await?;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "apk:api_create");
    let token = body["access_token"].as_str().context("no access_token")?;

    let claims: AccessTokenClaims = server.verify(token, Some(APK_ID)).await?;
    assert_eq!(claims.iss, DEFAULT_ISSUER);
    assert_eq!(claims.sub, APK_ID);
    assert_eq!(claims.azp, APK_ID);
    assert_eq!(claims.aud, APK_ID);
    assert_eq!(claims.scope, "apk:api_create");
    assert_eq!(claims.keytype, "PRODUCTION");
    assert_eq!(claims.exp - claims.iat, 3600);
    assert_eq!(claims.nbf, claims.iat);
    assert_eq!(claims.jti.len(), 36);

    // A second token has its own jti.
    let again = server.idp.issue_token(APK_ID, ["apk:api_create"])?;
    let second: AccessTokenClaims = server.verify(&again.access_token, Some(APK_ID)).await?;
    assert_ne!(second.jti, claims.jti);
    Ok(())
}

#[tokio::test]
async fn jwks_is_served_at_both_paths_with_the_signing_key() -> Result<()> {
    let server = Server::start(IdpConfig::default(), vec![]).await?;
    let raw: Value = server
        .http
        .get(format!("{}/oauth2/1.0.0/jwks", server.base))
        .send()
        .await?
        .json()
        .await?;
    let key = &raw["keys"][0];
    assert_eq!(raw["keys"].as_array().map(Vec::len), Some(1));
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["kid"], server.idp.kid());
    assert_eq!(key["e"], "AQAB");
    // 2048-bit modulus: 256 bytes, 342 base64url characters without padding.
    assert_eq!(key["n"].as_str().map(str::len), Some(342));
    assert_eq!(raw, server.idp.jwks());
    assert_eq!(
        server.jwks("/oauth2/jwks").await?,
        server.jwks("/oauth2/1.0.0/jwks").await?
    );
    Ok(())
}

#[tokio::test]
async fn form_credentials_on_the_2x_path_with_a_configured_audience() -> Result<()> {
    let config = IdpConfig {
        audience: Some("portcullis".into()),
        ..IdpConfig::default()
    };
    let mut sandbox = OAuthClient::new("sandbox-app", "s+cr%t");
    sandbox.key_type = KeyType::Sandbox;
    let server = Server::start(config, vec![sandbox]).await?;
    let response = server
        .post(
            "/oauth2/1.0.0/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "sandbox-app"),
                ("client_secret", "s+cr%t"),
            ],
        )
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await?;
    assert_eq!(body["scope"], "");
    let claims: AccessTokenClaims = server
        .verify(
            body["access_token"].as_str().context("no token")?,
            Some("portcullis"),
        )
        .await?;
    assert_eq!(claims.aud, "portcullis");
    assert_eq!(claims.sub, "sandbox-app");
    assert_eq!(claims.keytype, "SANDBOX");
    assert_eq!(claims.scope, "");
    Ok(())
}

#[tokio::test]
async fn basic_credentials_are_percent_decoded() -> Result<()> {
    let server = Server::start(IdpConfig::default(), vec![OAuthClient::new("app:1", "a b+c")]).await?;
    // RFC 6749 §2.3.1: form-encode id and secret, then Basic.
    let response = server
        .post("/oauth2/token", &[("grant_type", "client_credentials")])
        .basic_auth("app%3A1", Some("a+b%2Bc"))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn scopes_are_granted_only_when_allowed() -> Result<()> {
    let mut limited = OAuthClient::new("limited", "pw");
    limited.allowed_scopes = Some(vec!["read".into(), "write".into()]);
    let server = Server::start(IdpConfig::default(), vec![apk_client(), limited]).await?;

    let granted: Value = server
        .post(
            "/oauth2/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "write  read write"),
            ],
        )
        .basic_auth("limited", Some("pw"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(granted["scope"], "write read");
    let claims: AccessTokenClaims = server
        .verify(
            granted["access_token"].as_str().context("no token")?,
            Some("limited"),
        )
        .await?;
    assert_eq!(claims.scope, "write read");

    let denied = server
        .post(
            "/oauth2/token",
            &[("grant_type", "client_credentials"), ("scope", "read admin")],
        )
        .basic_auth("limited", Some("pw"))
        .send()
        .await?;
    let (status, _, body) = error_of(denied).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_scope");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("admin")
    );

    // A client without a scope list is granted whatever it asks for, as APK's test IdP does.
    let any: Value = server
        .post(
            "/oauth2/token",
            &[("grant_type", "client_credentials"), ("scope", "admin anything")],
        )
        .basic_auth(APK_ID, Some(APK_SECRET))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(any["scope"], "admin anything");
    Ok(())
}

#[tokio::test]
async fn token_errors_follow_rfc_6749() -> Result<()> {
    let server = Server::start(IdpConfig::default(), vec![apk_client()]).await?;
    let cc = ("grant_type", "client_credentials");
    let cases: Vec<(&str, reqwest::RequestBuilder, StatusCode, &str)> = vec![
        (
            "wrong secret",
            server
                .post("/oauth2/token", &[cc])
                .basic_auth(APK_ID, Some("wrong")),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            "unknown client",
            server
                .post("/oauth2/token", &[cc])
                .basic_auth("nobody", Some(APK_SECRET)),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            "wrong secret in the form",
            server.post(
                "/oauth2/token",
                &[cc, ("client_id", APK_ID), ("client_secret", "x")],
            ),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            "no credentials",
            server.post("/oauth2/token", &[cc]),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            "missing grant_type",
            server
                .post("/oauth2/token", &[("scope", "a")])
                .basic_auth(APK_ID, Some(APK_SECRET)),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "password grant",
            server
                .post(
                    "/oauth2/token",
                    &[
                        ("grant_type", "password"),
                        ("username", "admin"),
                        ("password", "admin"),
                    ],
                )
                .basic_auth(APK_ID, Some(APK_SECRET)),
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            "repeated grant_type",
            server
                .post("/oauth2/token", &[cc, cc])
                .basic_auth(APK_ID, Some(APK_SECRET)),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "header and form disagree",
            server
                .post("/oauth2/token", &[cc, ("client_id", "other")])
                .basic_auth(APK_ID, Some(APK_SECRET)),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "JSON body",
            server
                .http
                .post(format!("{}/oauth2/token", server.base))
                .basic_auth(APK_ID, Some(APK_SECRET))
                .header("content-type", "application/json")
                .body(r#"{"grant_type":"client_credentials"}"#),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "malformed scope",
            server
                .post("/oauth2/token", &[cc, ("scope", "a\"b")])
                .basic_auth(APK_ID, Some(APK_SECRET)),
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        ),
    ];
    for (name, request, status, error) in cases {
        let (got_status, www, body) = error_of(request.send().await?).await?;
        assert_eq!(got_status, status, "{name}: {body}");
        assert_eq!(body["error"], error, "{name}");
        assert!(body["error_description"].is_string(), "{name}");
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(www, "Basic realm=\"portcullis\"", "{name}");
        } else {
            assert_eq!(www, "", "{name}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn garbage_never_gets_a_server_error() -> Result<()> {
    let server = Server::start(IdpConfig::default(), vec![apk_client()]).await?;
    let garbage_auth = [
        &b"Basic"[..],
        b"Basic !!!!",
        b"Basic Og==",
        b"Bearer abc.def.ghi",
        b"Basic \xff\xfe\xfd",
        b"basic bm8tY29sb24=",
        b"Basic =====",
        b"Negotiate YWJj",
    ];
    for value in garbage_auth {
        let response = server
            .post("/oauth2/token", &[("grant_type", "client_credentials")])
            .header("authorization", reqwest::header::HeaderValue::from_bytes(value)?)
            .send()
            .await?;
        let (status, _, body) = error_of(response).await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{value:?}");
        assert_eq!(body["error"], "invalid_client");
    }

    let noise: Vec<u8> = (0u32..4096)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for path in ["/oauth2/token", "/oauth2/api-keys"] {
        let response = server
            .http
            .post(format!("{}{path}", server.base))
            .header("content-type", FORM)
            .basic_auth(APK_ID, Some(APK_SECRET))
            .body(noise.clone())
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
    }
    let get = server
        .http
        .get(format!("{}/oauth2/token", server.base))
        .send()
        .await?;
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    Ok(())
}

#[tokio::test]
async fn oversize_bodies_are_refused_with_413() -> Result<()> {
    let server = Server::start(IdpConfig::default(), vec![apk_client()]).await?;
    let scope = "a ".repeat(40 * 1024);
    for path in ["/oauth2/token", "/oauth2/api-keys"] {
        let response = server
            .post(path, &[("grant_type", "client_credentials"), ("scope", &scope)])
            .basic_auth(APK_ID, Some(APK_SECRET))
            .send()
            .await?;
        let (status, _, body) = error_of(response).await?;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        assert_eq!(body["error"], "invalid_request", "{path}");
    }
    // Just under the limit is still read (and answered on its merits).
    let fits = "a".repeat(60 * 1024);
    let response = server
        .post(
            "/oauth2/token",
            &[("grant_type", "client_credentials"), ("pad", &fits)],
        )
        .basic_auth(APK_ID, Some(APK_SECRET))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn clients_swapped_at_runtime_take_effect_at_once() -> Result<()> {
    let server = Server::start(IdpConfig::default(), vec![OAuthClient::new("app", "old")]).await?;
    let token = |secret: &'static str| {
        server
            .post("/oauth2/token", &[("grant_type", "client_credentials")])
            .basic_auth("app", Some(secret))
    };
    assert_eq!(token("old").send().await?.status(), StatusCode::OK);

    server.idp.set_clients(vec![
        OAuthClient::new("app", "new"),
        OAuthClient::new("other", "pw"),
    ]);
    assert_eq!(token("old").send().await?.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(token("new").send().await?.status(), StatusCode::OK);

    server.idp.set_clients(vec![]);
    assert_eq!(token("new").send().await?.status(), StatusCode::UNAUTHORIZED);
    assert!(server.idp.issue_token("app", [""; 0]).is_err());
    Ok(())
}

fn api_client() -> OAuthClient {
    let mut client = OAuthClient::new("key-app", "pw");
    client.key_type = KeyType::Sandbox;
    client.apis = vec!["pets:1.0.0".into(), "orders:2.0".into()];
    client.application = Some(ApplicationRef {
        id: "app-1".into(),
        name: "Pet shop".into(),
        owner: "alice".into(),
    });
    client
}

#[tokio::test]
async fn api_keys_carry_the_claims_the_enforcer_checks() -> Result<()> {
    let server = Server::start(IdpConfig::default(), vec![api_client()]).await?;
    let response = server
        .post(
            "/oauth2/api-keys",
            &[
                ("api", "pets:1.0.0"),
                ("api", "orders:2.0"),
                ("api", "pets:1.0.0"),
            ],
        )
        .basic_auth("key-app", Some("pw"))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await?;
    assert_eq!(body["expires_in"], 30 * 24 * 3600);
    let key = body["apiKey"].as_str().context("no apiKey")?;

    let claims: ApiKeyClaims = server.verify(key, None).await?;
    assert_eq!(claims.iss, DEFAULT_ISSUER);
    assert_eq!(claims.sub, "key-app");
    assert_eq!(claims.azp, "key-app");
    assert_eq!(claims.token_type, "apiKey");
    assert_eq!(claims.keytype, "SANDBOX");
    assert_eq!(claims.apis, vec!["pets:1.0.0", "orders:2.0"]);
    assert_eq!(claims.exp - claims.iat, 30 * 24 * 3600);
    assert_eq!(claims.application.map(|a| a.owner).as_deref(), Some("alice"));
    // The wire names are what the enforcer reads.
    let raw: Value = server.verify(key, None).await?;
    assert_eq!(raw["tokenType"], "apiKey");
    assert!(raw.get("scope").is_none() && raw.get("aud").is_none());

    let long = server
        .post(
            "/oauth2/api-keys",
            &[("api", "orders:2.0"), ("validity_period", "999999999")],
        )
        .header("content-type", FORM)
        .basic_auth("key-app", Some("pw"))
        .send()
        .await?;
    let long: Value = long.json().await?;
    assert_eq!(long["expires_in"], 365 * 24 * 3600);
    let claims: ApiKeyClaims = server
        .verify(long["apiKey"].as_str().context("no apiKey")?, None)
        .await?;
    assert_eq!(claims.exp - claims.iat, 365 * 24 * 3600);
    Ok(())
}

#[tokio::test]
async fn api_keys_are_refused_for_foreign_apis_and_bad_credentials() -> Result<()> {
    let server = Server::start(IdpConfig::default(), vec![api_client()]).await?;
    let foreign = server
        .post("/oauth2/api-keys", &[("api", "pets:1.0.0"), ("api", "admin:1.0")])
        .basic_auth("key-app", Some("pw"))
        .send()
        .await?;
    let (status, _, body) = error_of(foreign).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("admin:1.0")
    );

    let none = server
        .post("/oauth2/api-keys", &[])
        .basic_auth("key-app", Some("pw"))
        .send()
        .await?;
    assert_eq!(none.status(), StatusCode::BAD_REQUEST);
    let zero = server
        .post(
            "/oauth2/api-keys",
            &[("api", "pets:1.0.0"), ("validity_period", "0")],
        )
        .basic_auth("key-app", Some("pw"))
        .send()
        .await?;
    assert_eq!(zero.status(), StatusCode::BAD_REQUEST);

    let wrong = server
        .post("/oauth2/api-keys", &[("api", "pets:1.0.0")])
        .basic_auth("key-app", Some("nope"))
        .send()
        .await?;
    let (status, www, body) = error_of(wrong).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(www, "Basic realm=\"portcullis\"");
    Ok(())
}

#[tokio::test]
async fn discovery_document_names_the_endpoints() -> Result<()> {
    let server = Server::start(IdpConfig::default(), vec![]).await?;
    let doc: Value = server
        .http
        .get(format!("{}/.well-known/openid-configuration", server.base))
        .header("host", "idp.am.wso2.com:9095")
        .header("x-forwarded-proto", "https")
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(doc["issuer"], DEFAULT_ISSUER);
    assert_eq!(doc["token_endpoint"], "https://idp.am.wso2.com:9095/oauth2/token");
    assert_eq!(doc["jwks_uri"], "https://idp.am.wso2.com:9095/oauth2/jwks");

    let config = IdpConfig {
        public_base_url: Some("https://idp.example:9095/".into()),
        ..IdpConfig::default()
    };
    let configured = Server::start(config, vec![]).await?;
    let doc: Value = configured
        .http
        .get(format!("{}/.well-known/openid-configuration", configured.base))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(doc["token_endpoint"], "https://idp.example:9095/oauth2/token");
    // The advertised JWKS is the one actually served.
    let served: Value = configured
        .http
        .get(format!("{}/oauth2/jwks", configured.base))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(served, configured.idp.jwks());
    Ok(())
}

#[tokio::test]
async fn a_fixed_key_keeps_its_kid_across_instances() -> Result<()> {
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)?;
    let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", pair.as_der()?.as_ref()));
    let first = Arc::new(Idp::with_key_pem(IdpConfig::default(), &pem)?);
    let second = Arc::new(Idp::with_key_pem(IdpConfig::default(), &pem)?);
    assert_eq!(first.kid(), second.kid());
    assert_ne!(first.kid(), Idp::new(IdpConfig::default())?.kid());

    // A token from one instance verifies against the JWKS served by the other (a restart).
    first.set_clients(vec![apk_client()]);
    let token = first.issue_token(APK_ID, ["apk:api_create"])?;
    assert_eq!(token.expires_in, 3600);
    let server = Server::serve(second, vec![]).await?;
    let claims: AccessTokenClaims = server.verify(&token.access_token, Some(APK_ID)).await?;
    assert_eq!(claims.scope, "apk:api_create");
    Ok(())
}
