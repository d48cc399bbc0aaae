//! In-process `Enforcer::check` of valid tokens, keys already cached.
//!
//! `cargo bench -p portcullis-enforcer --bench check -- --warm-up-time 1 --measurement-time 3`
//!
//! The JWKS is served by a local wiremock server and fetched once before measuring. The
//! `*_verify` cases run with the validated-token cache off, so every check verifies the RS256
//! signature; the others hit the cache after the first check, as repeated tokens do.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use portcullis_enforcer::{
    ApiKeyLocation, ApplicationConfig, BackendJwtConfig, BackendJwtSigner, ConsumerKey, Enforcer,
    EnforcerConfig, IssuerConfig, KeyIn, KeyType, OAuth2Config, RequestView, RouteAuth, SubscriptionConfig,
    ValidationOptions,
};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ISSUER: &str = "https://idp.bench";

/// Modulus and exponent of a PKCS#1 `RSAPublicKey`.
fn rsa_n_e(der: &[u8]) -> (Vec<u8>, Vec<u8>) {
    fn element(input: &[u8]) -> (&[u8], &[u8]) {
        let (first, rest) = (input[1], &input[2..]);
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let n = usize::from(first & 0x7f);
            let len = rest[..n]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (len, &rest[n..])
        };
        rest.split_at(len)
    }
    let strip = |b: &[u8]| b.iter().skip_while(|x| **x == 0).copied().collect::<Vec<u8>>();
    let (seq, _) = element(der);
    let (n, rest) = element(seq);
    let (e, _) = element(rest);
    (strip(n), strip(e))
}

struct Bench {
    runtime: tokio::runtime::Runtime,
    _server: MockServer,
    enforcer: Arc<Enforcer>,
    uncached: Arc<Enforcer>,
    bearer: HashMap<String, String>,
    api_key: HashMap<String, String>,
    /// The access token's signed part, signature and the public key, for the baseline.
    raw: (Vec<u8>, Vec<u8>, aws_lc_rs::signature::ParsedPublicKey),
}

fn setup() -> Bench {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => panic!("tokio runtime: {e}"),
    };
    let pair = KeyPair::generate(KeySize::Rsa2048).expect("rsa keygen");
    let pkcs8 = pair.as_der().expect("pkcs8");
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(pkcs8.as_ref())
    );
    let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("encoding key");
    let (n, e) = rsa_n_e(pair.public_key().as_ref());
    let jwk = json!({"kty": "RSA", "kid": "bench", "alg": "RS256", "use": "sig",
        "n": URL_SAFE_NO_PAD.encode(n), "e": URL_SAFE_NO_PAD.encode(e)});

    let server = runtime.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/jwks"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": [jwk]})))
            .mount(&server)
            .await;
        server
    });
    let route = RouteAuth {
        oauth2: Some(OAuth2Config::default()),
        api_keys: vec![ApiKeyLocation {
            location: KeyIn::Header,
            name: "apikey".into(),
            send_token_to_upstream: false,
        }],
        scopes: vec!["read:pets".into()],
        api_name: "pets".into(),
        api_version: "1.0".into(),
        api_context: "/pets/1.0".into(),
        organization: "acme".into(),
        ..RouteAuth::default()
    };
    let config = EnforcerConfig {
        issuers: vec![IssuerConfig::with_jwks(
            "idp",
            ISSUER,
            format!("{}/jwks", server.uri()),
        )],
        routes: [
            ("secured".to_owned(), route.clone()),
            (
                "subscribed".to_owned(),
                RouteAuth {
                    subscription_validation: true,
                    backend_jwt: Some(BackendJwtConfig::default()),
                    ..route.clone()
                },
            ),
            (
                "keys".to_owned(),
                RouteAuth {
                    oauth2: None,
                    scopes: Vec::new(),
                    subscription_validation: true,
                    ..route
                },
            ),
        ]
        .into(),
        applications: (0..1000)
            .map(|i| ApplicationConfig {
                id: format!("app-{i}"),
                name: format!("App {i}"),
                owner: "alice".into(),
                organization: "acme".into(),
                consumer_keys: vec![ConsumerKey {
                    key: format!("ck-{i}"),
                    key_type: KeyType::Production,
                    environment: String::new(),
                }],
                subscriptions: vec![SubscriptionConfig {
                    id: format!("sub-{i}"),
                    api_name: "pets".into(),
                    api_version: "1.0".into(),
                    status: "ACTIVE".into(),
                    rate_limit_tier: Some("Gold".into()),
                }],
            })
            .collect(),
    };
    let signer = Arc::new(BackendJwtSigner::generate("bench-gateway").expect("signer"));
    let build = |options: ValidationOptions| {
        let enforcer = Enforcer::new(options)
            .expect("enforcer")
            .with_backend_jwt_signer(Arc::clone(&signer));
        enforcer.update_config(config.clone());
        Arc::new(enforcer)
    };
    let enforcer = build(ValidationOptions::default());
    let uncached = build(ValidationOptions {
        token_cache_ttl: std::time::Duration::ZERO,
        ..ValidationOptions::default()
    });

    let now = jsonwebtoken::get_current_timestamp();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("bench".into());
    let access = jsonwebtoken::encode(
        &header,
        &json!({"iss": ISSUER, "sub": "alice", "azp": "ck-500", "scope": "read:pets openid",
            "aud": "gateway", "iat": now, "exp": now + 3600, "jti": "4f1c0a4e-9d7b-4b3c-8f53-0c2a7d1e9a11"}),
        &encoding,
    )
    .expect("sign access token");
    let key = jsonwebtoken::encode(
        &header,
        &json!({"iss": ISSUER, "sub": "alice", "azp": "ck-500", "tokenType": "apiKey", "keytype": "PRODUCTION",
            "apis": ["pets:1.0"], "iat": now, "exp": now + 3600}),
        &encoding,
    )
    .expect("sign API key");
    let (signed, signature) = access.rsplit_once('.').expect("three segments");
    let public_key = aws_lc_rs::signature::ParsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        pair.public_key().as_ref(),
    )
    .expect("public key");
    let raw = (
        signed.as_bytes().to_vec(),
        URL_SAFE_NO_PAD.decode(signature).expect("signature"),
        public_key,
    );
    let bearer = HashMap::from([("authorization".to_owned(), format!("Bearer {access}"))]);
    let api_key = HashMap::from([("apikey".to_owned(), key)]);
    // Fetch the JWKS once, and check every route works before measuring it.
    runtime.block_on(async {
        for enforcer in [&enforcer, &uncached] {
            for (route, headers) in [("secured", &bearer), ("subscribed", &bearer), ("keys", &api_key)] {
                let view = RequestView {
                    headers,
                    path: "/pets/1.0/pets",
                };
                if let Err(e) = enforcer.check(route, view).await {
                    panic!("{route}: {e}");
                }
            }
        }
    });
    Bench {
        runtime,
        _server: server,
        enforcer,
        uncached,
        bearer,
        api_key,
        raw,
    }
}

fn checks(c: &mut Criterion) {
    let bench = setup();
    // Baseline: the RSA-2048 signature check alone, which bounds the `*_verify` cases.
    c.bench_function("baseline/rsa2048_pkcs1_sha256_verify", |b| {
        let (message, signature, key) = &bench.raw;
        b.iter(|| black_box(key.verify_sig(black_box(message), black_box(signature)).is_ok()))
    });
    let mut group = c.benchmark_group("check");
    for (name, enforcer, route, headers) in [
        ("oauth2_rs256_verify", &bench.uncached, "secured", &bench.bearer),
        ("oauth2_rs256", &bench.enforcer, "secured", &bench.bearer),
        (
            "oauth2_rs256_subscription_backend_jwt",
            &bench.enforcer,
            "subscribed",
            &bench.bearer,
        ),
        (
            "api_key_rs256_subscription_verify",
            &bench.uncached,
            "keys",
            &bench.api_key,
        ),
        (
            "api_key_rs256_subscription",
            &bench.enforcer,
            "keys",
            &bench.api_key,
        ),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&bench.runtime).iter(|| async {
                let view = RequestView {
                    headers,
                    path: "/pets/1.0/pets",
                };
                black_box(enforcer.check(black_box(route), view).await.is_ok())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, checks);
criterion_main!(benches);
