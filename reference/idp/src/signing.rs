//! The RSA key that signs every token, and its public half as a JWK.

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use jsonwebtoken::jwk::{Jwk, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use crate::error::IdpError;

/// An RS256 signing key with its key id.
pub(crate) struct SigningKey {
    encoding: EncodingKey,
    jwk: Jwk,
    kid: String,
}

impl SigningKey {
    /// Generates a fresh RSA 2048 key.
    pub(crate) fn generate() -> Result<Self, IdpError> {
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| IdpError::KeyGeneration)?;
        let pkcs8 = pair.as_der().map_err(|_| IdpError::KeyGeneration)?;
        // jsonwebtoken takes RSA keys as PKCS#1 DER or as PEM (PKCS#1 or PKCS#8); aws-lc-rs only
        // exports PKCS#8, so go through PEM and let jsonwebtoken unwrap it.
        let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8.as_ref()));
        Self::from_pem(pem.as_bytes())
    }

    /// Loads an RSA private key from PEM (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`).
    ///
    /// The key id is the key's RFC 7638 thumbprint, so a fixed key keeps its `kid` across
    /// restarts and a generated one gets an unpredictable, unique `kid`.
    pub(crate) fn from_pem(pem: &[u8]) -> Result<Self, IdpError> {
        let encoding = EncodingKey::from_rsa_pem(pem).map_err(IdpError::InvalidKey)?;
        let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256).map_err(IdpError::InvalidKey)?;
        let kid = jwk.thumbprint(ThumbprintHash::SHA256);
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Ok(Self { encoding, jwk, kid })
    }

    /// The key id, carried in every token header.
    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK (`kty`, `n`, `e`, `kid`, `alg`, `use`).
    pub(crate) fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// Signs `claims` as a compact RS256 JWT with `typ: JWT` and this key's `kid`.
    pub(crate) fn sign(&self, claims: &impl Serialize) -> Result<String, IdpError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(IdpError::Signing)
    }
}
