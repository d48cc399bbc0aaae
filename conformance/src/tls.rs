//! Test certificates, made fresh for each run.

use base64::Engine;

/// A self-signed certificate for `hosts`, as a Kubernetes TLS Secret in YAML.
pub fn tls_secret_yaml(namespace: &str, name: &str, hosts: &[&str]) -> anyhow::Result<String> {
    let names: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
    let certified = rcgen::generate_simple_self_signed(names)?;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    Ok(format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {namespace}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: {}\n  tls.key: {}\n",
        b64(&certified.cert.pem()),
        b64(&certified.signing_key.serialize_pem()),
    ))
}
