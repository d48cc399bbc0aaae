//! Signature verification keys, parsed once when a JWKS or certificate is loaded.
//!
//! Only RS256 (RSA ≥ 2048 bits) and ES256 (P-256) are accepted. Each key is bound to one
//! algorithm, so a token can never choose how its key is used (no `alg` confusion).

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{AlgorithmFamily, DecodingKey, DecodingKeyKind};

/// The JWS algorithms the enforcer accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwsAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// ECDSA P-256 with SHA-256.
    Es256,
}

impl JwsAlg {
    /// Parses a JWS `alg` header value; anything but `RS256` and `ES256` is refused.
    pub fn parse(alg: &str) -> Option<Self> {
        match alg {
            "RS256" => Some(Self::Rs256),
            "ES256" => Some(Self::Es256),
            _ => None,
        }
    }
}

/// A public key ready to verify signatures of one algorithm.
pub struct VerifyKey {
    alg: JwsAlg,
    key: ParsedPublicKey,
}

impl std::fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl VerifyKey {
    /// The algorithm this key verifies.
    pub fn alg(&self) -> JwsAlg {
        self.alg
    }

    /// Whether `signature` is a valid `alg` signature of `message` under this key.
    pub fn verify(&self, alg: JwsAlg, message: &[u8], signature: &[u8]) -> bool {
        alg == self.alg && self.key.verify_sig(message, signature).is_ok()
    }

    /// A key from a JWK; encryption keys, symmetric keys and other algorithms are refused.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, &'static str> {
        if matches!(
            jwk.common.public_key_use,
            Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
        ) {
            return Err("key is not for signatures");
        }
        match &jwk.algorithm {
            AlgorithmParameters::RSA(rsa) => {
                if !matches!(jwk.common.key_algorithm, None | Some(KeyAlgorithm::RS256)) {
                    return Err("RSA key for another algorithm than RS256");
                }
                let n = decode_b64url(&rsa.n)?;
                let e = decode_b64url(&rsa.e)?;
                Self::rsa_components(&n, &e)
            }
            AlgorithmParameters::EllipticCurve(ec) => {
                if ec.curve != EllipticCurve::P256
                    || !matches!(jwk.common.key_algorithm, None | Some(KeyAlgorithm::ES256))
                {
                    return Err("EC key that is not P-256/ES256");
                }
                let x = decode_b64url(&ec.x)?;
                let y = decode_b64url(&ec.y)?;
                if x.len() != 32 || y.len() != 32 {
                    return Err("P-256 coordinates must be 32 bytes");
                }
                let mut point = Vec::with_capacity(65);
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                Self::ec_point(&point)
            }
            AlgorithmParameters::OctetKey(_) | AlgorithmParameters::OctetKeyPair(_) => {
                Err("only RSA and EC keys are accepted")
            }
        }
    }

    /// A key from a PEM public key or certificate (RSA or P-256).
    pub fn from_pem(pem: &str) -> Result<Self, &'static str> {
        if let Ok(key) = DecodingKey::from_rsa_pem(pem.as_bytes()) {
            return Self::from_decoding_key(&key);
        }
        match DecodingKey::from_ec_pem(pem.as_bytes()) {
            Ok(key) => Self::from_decoding_key(&key),
            Err(_) => Err("not an RSA or EC public key or certificate"),
        }
    }

    fn from_decoding_key(key: &DecodingKey) -> Result<Self, &'static str> {
        match (key.family(), key.kind()) {
            (AlgorithmFamily::Rsa, DecodingKeyKind::SecretOrDer(der)) => Self::rsa_der(der),
            (AlgorithmFamily::Rsa, DecodingKeyKind::RsaModulusExponent { n, e }) => {
                Self::rsa_components(n, e)
            }
            (AlgorithmFamily::Ec, DecodingKeyKind::SecretOrDer(point)) => Self::ec_point(point),
            _ => Err("only RSA and EC keys are accepted"),
        }
    }

    fn rsa_components(n: &[u8], e: &[u8]) -> Result<Self, &'static str> {
        Self::rsa_der(&rsa_public_key_der(n, e))
    }

    fn rsa_der(der: &[u8]) -> Result<Self, &'static str> {
        let public = aws_lc_rs::rsa::PublicKey::from_der(der).map_err(|_| "unusable RSA public key")?;
        if public.modulus_len() < 256 {
            return Err("RSA keys below 2048 bits are refused");
        }
        let key =
            ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der).map_err(|_| "unusable RSA public key")?;
        Ok(Self {
            alg: JwsAlg::Rs256,
            key,
        })
    }

    fn ec_point(point: &[u8]) -> Result<Self, &'static str> {
        let key =
            ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).map_err(|_| "unusable P-256 public key")?;
        Ok(Self {
            alg: JwsAlg::Es256,
            key,
        })
    }
}

fn decode_b64url(value: &str) -> Result<Vec<u8>, &'static str> {
    URL_SAFE_NO_PAD
        .decode(value.trim_end_matches('='))
        .map_err(|_| "key component is not base64url")
}

/// DER `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` (RFC 8017).
pub(crate) fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut body = der_unsigned_integer(n);
    body.extend(der_unsigned_integer(e));
    let mut out = vec![0x30];
    out.extend(der_length(body.len()));
    out.extend(body);
    out
}

fn der_unsigned_integer(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    let bytes = &bytes[start..];
    let mut content = Vec::with_capacity(bytes.len() + 1);
    if bytes.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(bytes);
    let mut out = vec![0x02];
    out.extend(der_length(content.len()));
    out.extend(content);
    out
}

fn der_length(len: usize) -> Vec<u8> {
    if len < 0x80 {
        return vec![len as u8];
    }
    let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
    let mut out = vec![0x80 | bytes.len() as u8];
    out.extend(bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn der_integers_and_lengths() {
        assert_eq!(
            der_unsigned_integer(&[0x01, 0x00, 0x01]),
            vec![0x02, 0x03, 0x01, 0x00, 0x01]
        );
        assert_eq!(der_unsigned_integer(&[0x00, 0x80]), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(der_unsigned_integer(&[]), vec![0x02, 0x01, 0x00]);
        assert_eq!(der_length(0x7f), vec![0x7f]);
        assert_eq!(der_length(0x80), vec![0x81, 0x80]);
        assert_eq!(der_length(0x1234), vec![0x82, 0x12, 0x34]);
    }

    #[test]
    fn symmetric_and_encryption_keys_refused() {
        let oct: Jwk = serde_json::from_value(json!({"kty": "oct", "k": "c2VjcmV0"})).unwrap();
        assert!(VerifyKey::from_jwk(&oct).is_err());
        let enc: Jwk = serde_json::from_value(json!({"kty": "EC", "crv": "P-256", "use": "enc",
            "x": URL_SAFE_NO_PAD.encode([1u8; 32]), "y": URL_SAFE_NO_PAD.encode([2u8; 32])}))
        .unwrap();
        assert!(VerifyKey::from_jwk(&enc).is_err());
        let small: Jwk = serde_json::from_value(
            json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xc1u8; 64]), "e": "AQAB"}),
        )
        .unwrap();
        assert!(VerifyKey::from_jwk(&small).is_err(), "512-bit RSA is refused");
        assert_eq!(JwsAlg::parse("none"), None);
        assert_eq!(JwsAlg::parse("HS256"), None);
        assert_eq!(JwsAlg::parse("RS256"), Some(JwsAlg::Rs256));
    }
}
