//! TLS certificates served over SDS.

use envoy_types::pb::envoy::config::core::v3::{DataSource, data_source};
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::{Secret, TlsCertificate, secret};

use crate::ir::TlsSecret;

/// A certificate and key as an SDS secret.
pub fn secret(s: &TlsSecret) -> Secret {
    let inline = |bytes: &[u8]| DataSource {
        specifier: Some(data_source::Specifier::InlineBytes(bytes.to_vec())),
        ..Default::default()
    };
    Secret {
        name: s.name.clone(),
        r#type: Some(secret::Type::TlsCertificate(TlsCertificate {
            certificate_chain: Some(inline(&s.certificate_chain)),
            private_key: Some(inline(&s.private_key)),
            ..Default::default()
        })),
    }
}
