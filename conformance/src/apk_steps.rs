//! Steps for APK behaviour, phrased as APK's own cucumber suite phrases them where it can:
//! tokens from the gateway's IdP, headers kept across requests, requests by URL through the APK
//! Gateway, identity providers that are not ours (wiremock), and the backend JWT.

use std::collections::BTreeMap;

use anyhow::{Context, bail, ensure};
use base64::Engine as _;
use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::request::{self, RequestSpec};
use crate::world::GatewayWorld;

type StepResult = anyhow::Result<()>;

/// The APK profile's Gateway.
pub const APK_GATEWAY: &str = "apk/wso2-apk-default";
/// APK's test client, which the APK profile registers with the IdP.
const APK_CLIENT: (&str, &str) = (
    "45f1c5c8-a92e-11ed-afa1-0242ac120002",
    "4fbd62ec-a92e-11ed-afa1-0242ac120002",
);

/// An identity provider that is not ours: an ES256 key whose JWKS a wiremock server serves.
pub struct ForeignIdp {
    server: MockServer,
    key: jsonwebtoken::EncodingKey,
    kid: String,
}

impl std::fmt::Debug for ForeignIdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForeignIdp")
            .field("jwks", &self.server.uri())
            .field("kid", &self.kid)
            .finish()
    }
}

/// Replaces `${name}` with the scenario's stored values.
pub fn substitute(world: &GatewayWorld, text: &str) -> String {
    let mut out = text.to_string();
    for (name, value) in &world.vars {
        out = out.replace(&format!("${{{name}}}"), value);
    }
    out
}

/// Host, port, path and scheme of a URL through the gateway.
fn parse_url(url: &str) -> anyhow::Result<(bool, String, i32, String)> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("{url:?} is not a URL"))?;
    let https = match parsed.scheme() {
        "https" => true,
        "http" => false,
        other => bail!("{url}: scheme {other} is not http or https"),
    };
    let host = parsed.host_str().context("URL without a host")?.to_string();
    let port = i32::from(
        parsed
            .port_or_known_default()
            .unwrap_or(if https { 443 } else { 80 }),
    );
    let mut path = parsed.path().to_string();
    if let Some(query) = parsed.query() {
        path.push('?');
        path.push_str(query);
    }
    Ok((https, host, port, path))
}

async fn gateway_spec(world: &GatewayWorld, method: &str, url: &str) -> anyhow::Result<RequestSpec> {
    let url = substitute(world, url);
    let (https, host, port, path) = parse_url(&url)?;
    let address = world.driver()?.gateway_address(APK_GATEWAY, port).await?;
    let headers = world
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), substitute(world, v)))
        .collect();
    Ok(RequestSpec {
        method: method.to_string(),
        path,
        host,
        headers,
        https,
        address,
        body: None,
    })
}

/// A client that reaches `host` on the APK Gateway's HTTPS port.
async fn idp_client(world: &GatewayWorld, host: &str) -> anyhow::Result<(reqwest::Client, u16)> {
    let address = world.driver()?.gateway_address(APK_GATEWAY, 9095).await?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .resolve(host, address)
        .tls_danger_accept_invalid_certs(true)
        .timeout(std::time::Duration::from_secs(10))
        .build()?;
    Ok((client, address.port()))
}

async fn token(world: &GatewayWorld, client_id: &str, secret: &str, scope: &str) -> anyhow::Result<String> {
    let (client, port) = idp_client(world, "idp.am.wso2.com").await?;
    let response = client
        .post(format!("https://idp.am.wso2.com:{port}/oauth2/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "client_credentials"), ("scope", scope)])
        .send()
        .await?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.context("token response is not JSON")?;
    ensure!(status.is_success(), "token endpoint answered {status}: {body}");
    body["access_token"]
        .as_str()
        .map(str::to_string)
        .context("no access_token in the token response")
}

#[given(expr = "I have a valid subscription")]
async fn valid_subscription(world: &mut GatewayWorld) -> StepResult {
    let token = token(world, APK_CLIENT.0, APK_CLIENT.1, "apk:api_create").await?;
    world.vars.insert("accessToken".to_string(), token);
    Ok(())
}

#[given(expr = "I get a token for client {string} with secret {string} and scope {string} as {string}")]
async fn client_token(
    world: &mut GatewayWorld,
    client_id: String,
    secret: String,
    scope: String,
    name: String,
) -> StepResult {
    let token = token(world, &client_id, &secret, &scope).await?;
    world.vars.insert(name, token);
    Ok(())
}

#[given(expr = "I get an API key for client {string} with secret {string} for API {string} as {string}")]
async fn api_key(
    world: &mut GatewayWorld,
    client_id: String,
    secret: String,
    api: String,
    name: String,
) -> StepResult {
    let (client, port) = idp_client(world, "idp.am.wso2.com").await?;
    let response = client
        .post(format!("https://idp.am.wso2.com:{port}/oauth2/api-keys"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("api", api.as_str())])
        .send()
        .await?;
    let status = response.status();
    let body: serde_json::Value = response.json().await?;
    ensure!(status.is_success(), "api-keys endpoint answered {status}: {body}");
    let key = body["apiKey"].as_str().context("no apiKey in the answer")?;
    world.vars.insert(name, key.to_string());
    Ok(())
}

#[given(expr = "I set headers:")]
#[when(expr = "I set headers:")]
async fn set_headers(world: &mut GatewayWorld, step: &Step) -> StepResult {
    let table = step
        .table
        .as_ref()
        .context("the step needs a | name | value | table")?;
    for row in &table.rows {
        ensure!(row.len() == 2, "header rows need a name and a value: {row:?}");
        world.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&row[0]));
        world.headers.push((row[0].clone(), row[1].clone()));
    }
    Ok(())
}

#[when(expr = "I remove the header {string}")]
async fn remove_header(world: &mut GatewayWorld, name: String) -> StepResult {
    world.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&name));
    Ok(())
}

#[when(expr = "I send a {string} request to {string}")]
async fn send_to_url(world: &mut GatewayWorld, method: String, url: String) -> StepResult {
    let spec = gateway_spec(world, &method, &url).await?;
    world.last = Some(request::send_single(&spec).await?);
    Ok(())
}

/// APK's own phrase for a request with a body (an empty body sends none).
#[when(expr = "I send {string} request to {string} with body {string}")]
async fn send_with_body(world: &mut GatewayWorld, method: String, url: String, body: String) -> StepResult {
    let mut spec = gateway_spec(world, &method, &url).await?;
    if !body.is_empty() {
        spec.body = Some(substitute(world, &body));
    }
    world.last = Some(request::send_single(&spec).await?);
    Ok(())
}

#[given(expr = "I store {string} as {string}")]
async fn store(world: &mut GatewayWorld, value: String, name: String) -> StepResult {
    world.vars.insert(name, value);
    Ok(())
}

/// Changes one character of the token's payload, so its signature no longer matches.
#[given(expr = "I tamper with the token {string}")]
#[when(expr = "I tamper with the token {string}")]
async fn tamper(world: &mut GatewayWorld, name: String) -> StepResult {
    let token = world.vars.get(&name).context("no such token")?.clone();
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    ensure!(parts.len() == 3, "{name} is not a JWT");
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&parts[1])?;
    let mut claims: serde_json::Value = serde_json::from_slice(&payload)?;
    claims["sub"] = serde_json::Value::String("mallory".to_string());
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims)?);
    world.vars.insert(name, parts.join("."));
    Ok(())
}

#[given(expr = "an identity provider {string} that is not ours, with key id {string}")]
async fn foreign_idp(world: &mut GatewayWorld, name: String, kid: String) -> StepResult {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let point = pair.public_key_raw();
    ensure!(point.len() == 65 && point[0] == 4, "unexpected EC point encoding");
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let jwks = serde_json::json!({"keys": [{
        "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
        "x": b64(&point[1..33]), "y": b64(&point[33..]),
    }]});
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(jwks))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/junk"))
        .respond_with(ResponseTemplate::new(200).set_body_string("this is not a key set"))
        .mount(&server)
        .await;
    let key = jsonwebtoken::EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes())?;
    world.vars.insert(format!("{name}.url"), server.uri());
    world.foreign_idps.insert(name, ForeignIdp { server, key, kid });
    Ok(())
}

/// Signs a token with a foreign IdP's key. Claims come from the table; `exp` and `iat` default
/// to an hour from now and now, and `${now}`-relative values can be written as `now+N`/`now-N`.
#[given(expr = "a token from {string} with key id {string} and claims as {string}:")]
async fn foreign_token(
    world: &mut GatewayWorld,
    idp: String,
    kid: String,
    name: String,
    step: &Step,
) -> StepResult {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let mut claims = serde_json::Map::new();
    claims.insert("iat".to_string(), now.into());
    claims.insert("exp".to_string(), (now + 3600).into());
    let table = step
        .table
        .as_ref()
        .context("the step needs a | claim | value | table")?;
    for row in &table.rows {
        ensure!(row.len() == 2, "claim rows need a name and a value");
        let value = if let Some(offset) = row[1].strip_prefix("now") {
            let delta: i64 = if offset.is_empty() { 0 } else { offset.parse()? };
            serde_json::Value::from(now + delta)
        } else {
            serde_json::Value::String(row[1].clone())
        };
        claims.insert(row[0].clone(), value);
    }
    let foreign = world
        .foreign_idps
        .get(&idp)
        .context("no such identity provider")?;
    let _ = &foreign.kid;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(kid);
    let token = jsonwebtoken::encode(&header, &claims, &foreign.key)?;
    world.vars.insert(name, token);
    Ok(())
}

#[then(expr = "the backend JWT in header {string} verifies against the gateway's JWKS with claims:")]
async fn backend_jwt(world: &mut GatewayWorld, header: String, step: &Step) -> StepResult {
    let echo = world
        .last()?
        .echo
        .clone()
        .context("the request did not reach a backend")?;
    let raw = echo
        .header(&header)
        .with_context(|| format!("the backend did not see header {header}"))?;
    // APK's `Base64` encoding wraps the compact JWT in standard base64; `Base64url` sends it as is.
    let jwt = if raw.matches('.').count() == 2 {
        raw
    } else {
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(raw.trim())?)?
    };
    let (client, port) = idp_client(world, "api.am.wso2.com").await?;
    let jwks: jsonwebtoken::jwk::JwkSet = client
        .get(format!("https://api.am.wso2.com:{port}/.wellknown/jwks"))
        .send()
        .await?
        .json()
        .await
        .context("the gateway's JWKS")?;
    let kid = jsonwebtoken::decode_header(&jwt)?
        .kid
        .context("backend JWT without kid")?;
    let jwk = jwks
        .find(&kid)
        .context("the backend JWT's kid is not in the gateway's JWKS")?;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk)?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_aud = false;
    validation.required_spec_claims = ["exp".to_string()].into();
    let data = jsonwebtoken::decode::<BTreeMap<String, serde_json::Value>>(&jwt, &key, &validation)
        .context("the backend JWT does not verify against the gateway's JWKS")?;
    let table = step
        .table
        .as_ref()
        .context("the step needs a | claim | value | table")?;
    for row in &table.rows {
        let got = data
            .claims
            .get(&row[0])
            .with_context(|| format!("claim {} is missing", row[0]))?;
        let got = got
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| got.to_string());
        ensure!(
            got == row[1],
            "claim {}: expected {:?}, got {got:?}",
            row[0],
            row[1]
        );
    }
    Ok(())
}

/// A value from the last response: a field of its JSON body, or of its YAML body (the
/// Deployer answers YAML); dots go into nested objects (`a.b`).
fn response_field(world: &GatewayWorld, field: &str) -> anyhow::Result<String> {
    let last = world.last()?;
    let body: serde_json::Value = match &last.body {
        Some(json) => json.clone(),
        None => serde_yaml::from_str(&last.text).context("the response body is neither JSON nor YAML")?,
    };
    let mut value = &body;
    for part in field.split('.') {
        value = value
            .get(part)
            .with_context(|| format!("no field {field} in the response body"))?;
    }
    Ok(value
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| value.to_string()))
}

#[then(expr = "I store the response body field {string} as {string}")]
#[when(expr = "I store the response body field {string} as {string}")]
async fn store_field(world: &mut GatewayWorld, field: String, name: String) -> StepResult {
    let value = response_field(world, &field)?;
    world.vars.insert(name, value);
    Ok(())
}

#[then(expr = "the response body contains {string}")]
#[then(expr = "the response body should contain {string}")]
async fn body_contains(world: &mut GatewayWorld, expected: String) -> StepResult {
    let expected = substitute(world, &expected);
    let text = &world.last()?.text;
    ensure!(
        text.contains(&expected),
        "the response body does not contain {expected:?}: {text}"
    );
    Ok(())
}

#[then(expr = "the response body field {string} is the number {int}")]
async fn body_number(world: &mut GatewayWorld, field: String, expected: i64) -> StepResult {
    let body = world
        .last()?
        .body
        .clone()
        .context("the response has no JSON body")?;
    let value = body
        .get(&field)
        .with_context(|| format!("no field {field} in {body}"))?;
    let got = value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
        .with_context(|| format!("{field} is not a number: {value}"))?;
    ensure!(got == expected, "{field}: expected {expected}, got {got}");
    Ok(())
}
