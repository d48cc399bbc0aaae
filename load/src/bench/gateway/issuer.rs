//! The benchmark's identity provider: one RSA key that signs the token every configuration
//! from (2) on is sent, published twice — as a JWKS for Envoy's `jwt_authn` and as a
//! self-signed certificate for the gateways' TokenIssuer (`certificateInline`), so both
//! gateways trust the same token without fetching anything.

use anyhow::{Context, Result, anyhow};
use aws_lc_rs::encoding::AsDer as _;
use hyper::header::HeaderValue;
use portcullis_idp::{Idp, IdpConfig, OAuthClient};

use crate::bench::http::bearer;

/// The tokens' `iss`.
pub const ISSUER: &str = "https://idp.bench.example/oauth2/token";

/// The OAuth2 client the tokens are issued to (their `azp`).
pub const CLIENT_ID: &str = "portcullis-bench-gateway";

/// The IdP and the public half of its key.
pub struct BenchIssuer {
    idp: Idp,
    certificate_pem: String,
}

impl BenchIssuer {
    /// A fresh RSA 2048 key, its certificate, and an IdP signing with it for [`CLIENT_ID`].
    pub fn generate() -> Result<Self> {
        // rcgen cannot generate RSA keys on every crypto backend; aws-lc-rs (as the IdP) can.
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .map_err(|e| anyhow!("generating an RSA key: {e}"))?;
        let pkcs8 = pair.as_der().map_err(|e| anyhow!("encoding the RSA key: {e}"))?;
        let key = rcgen::KeyPair::try_from(pkcs8.as_ref()).context("reading the RSA key")?;
        let certificate = rcgen::CertificateParams::new(vec!["idp.bench.example".to_string()])
            .context("certificate parameters")?
            .self_signed(&key)
            .context("self-signing the IdP's certificate")?;
        let idp = Idp::with_key_pem(idp_config(), key.serialize_pem())
            .map_err(|e| anyhow!("an IdP with the generated key: {e}"))?;
        idp.set_clients(vec![OAuthClient::new(CLIENT_ID, "unused")]);
        Ok(BenchIssuer {
            idp,
            certificate_pem: certificate.pem(),
        })
    }

    /// The public key as a JWKS, for `jwt_authn`'s `local_jwks`.
    pub fn jwks(&self) -> serde_json::Value {
        self.idp.jwks()
    }

    /// The self-signed certificate (PEM), for the TokenIssuer's `certificateInline`.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// A fresh access token, as an `Authorization` value.
    pub fn token(&self) -> Result<HeaderValue> {
        let token = self
            .idp
            .issue_token(CLIENT_ID, Vec::<String>::new())
            .map_err(|e| anyhow!("issuing a token to {CLIENT_ID}: {e}"))?;
        bearer(&token.access_token)
    }
}

fn idp_config() -> IdpConfig {
    IdpConfig {
        issuer: ISSUER.to_string(),
        ..IdpConfig::default()
    }
}

/// A token with the same issuer and client, signed by a key of its own: every secured
/// configuration must refuse it (so a 200 shows the signature was checked).
pub fn forged() -> Result<HeaderValue> {
    let stranger = Idp::new(idp_config()).map_err(|e| anyhow!("a second IdP: {e}"))?;
    stranger.set_clients(vec![OAuthClient::new(CLIENT_ID, "forged")]);
    let token = stranger
        .issue_token(CLIENT_ID, Vec::<String>::new())
        .map_err(|e| anyhow!("forging a token: {e}"))?;
    bearer(&token.access_token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issuer_publishes_a_certificate_and_a_jwks_and_signs_tokens() -> Result<()> {
        let issuer = BenchIssuer::generate()?;
        assert!(
            issuer
                .certificate_pem()
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
        let jwks = issuer.jwks();
        assert_eq!(jwks["keys"][0]["kty"], "RSA");
        let token = issuer.token()?;
        let jwt = token
            .to_str()?
            .strip_prefix("Bearer ")
            .context("a bearer value")?;
        assert_eq!(jwt.split('.').count(), 3, "{jwt}");
        assert_ne!(issuer.token()?, forged()?);
        // Whether the gateways trust it is the end-to-end test's business (tests/bench_gateway.rs).
        Ok(())
    }
}
