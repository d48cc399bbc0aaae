//! Hostname matching and intersection, as the Gateway API defines them.

/// Whether `host` (a concrete or wildcard hostname) is matched by `pattern` (a listener's
/// hostname, possibly `*.example.com`). A wildcard matches one or more leading labels, never
/// the bare suffix.
pub fn matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix('*') {
        Some(suffix) => host.len() > suffix.len() && host.ends_with(suffix),
        None => pattern == host,
    }
}

/// The hostnames a route serves on a listener: the intersection of the listener's hostname
/// (if any) and the route's hostnames (if any). `None` means they do not intersect; `"*"`
/// stands for any host.
pub fn intersect(listener: Option<&str>, route: &[String]) -> Option<Vec<String>> {
    let listener = listener.filter(|h| !h.is_empty());
    if route.is_empty() {
        return Some(vec![listener.unwrap_or("*").to_string()]);
    }
    let Some(listener) = listener else {
        return Some(route.to_vec());
    };
    let mut out = Vec::new();
    for host in route {
        if matches(listener, host) {
            // The route's hostname is the more specific one.
            out.push(host.clone());
        } else if matches(host, listener) {
            out.push(listener.to_string());
        } else if host == listener {
            out.push(host.clone());
        }
    }
    out.sort();
    out.dedup();
    if out.is_empty() { None } else { Some(out) }
}

/// Whether two hostnames a route serves (concrete, wildcard, or `*` for any) have a host in
/// common: what makes an HTTPRoute and a GRPCRoute on one listener conflict.
pub fn overlaps(a: &str, b: &str) -> bool {
    a == "*" || b == "*" || a == b || matches(a, b) || matches(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_hostnames() {
        assert!(overlaps("*", "a.com"));
        assert!(overlaps("a.com", "a.com"));
        assert!(overlaps("*.a.com", "x.a.com"));
        assert!(overlaps("x.a.com", "*.a.com"));
        assert!(overlaps("*.a.com", "*.x.a.com"));
        assert!(!overlaps("*.a.com", "a.com"));
        assert!(!overlaps("a.com", "b.com"));
    }

    #[test]
    fn wildcard_matches_subdomains_only() {
        assert!(matches("*.example.com", "a.example.com"));
        assert!(matches("*.example.com", "a.b.example.com"));
        assert!(!matches("*.example.com", "example.com"));
        assert!(matches("*.example.com", "*.sub.example.com"));
        assert!(!matches("a.example.com", "b.example.com"));
    }

    #[test]
    fn intersection() {
        let r = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(intersect(None, &[]), Some(r(&["*"])));
        assert_eq!(intersect(Some("a.com"), &[]), Some(r(&["a.com"])));
        assert_eq!(intersect(None, &r(&["x.com"])), Some(r(&["x.com"])));
        assert_eq!(
            intersect(Some("*.a.com"), &r(&["x.a.com", "b.com"])),
            Some(r(&["x.a.com"]))
        );
        assert_eq!(
            intersect(Some("x.a.com"), &r(&["*.a.com"])),
            Some(r(&["x.a.com"]))
        );
        assert_eq!(
            intersect(Some("*.a.com"), &r(&["*.a.com"])),
            Some(r(&["*.a.com"]))
        );
        assert_eq!(intersect(Some("a.com"), &r(&["b.com"])), None);
    }
}
