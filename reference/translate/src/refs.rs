//! Cross-namespace references and the ReferenceGrants that permit them.

use portcullis_model::Snapshot;

/// One side of a reference: group, kind and namespace.
#[derive(Clone, Copy, Debug)]
pub struct RefFrom<'a> {
    /// API group of the referrer.
    pub group: &'a str,
    /// Kind of the referrer.
    pub kind: &'a str,
    /// Namespace of the referrer.
    pub namespace: &'a str,
}

/// Whether `from` may reference the object `to_group/to_kind` named `to_name` in `to_namespace`:
/// always within a namespace, and across namespaces only when a ReferenceGrant in the target
/// namespace allows it.
pub fn reference_allowed(
    snapshot: &Snapshot,
    from: RefFrom<'_>,
    to_group: &str,
    to_kind: &str,
    to_namespace: &str,
    to_name: &str,
) -> bool {
    if from.namespace == to_namespace {
        return true;
    }
    snapshot
        .reference_grants
        .iter()
        .filter(|(key, _)| key.namespace == to_namespace)
        .any(|(_, grant)| {
            let from_ok = grant
                .spec
                .from
                .iter()
                .any(|f| f.group == from.group && f.kind == from.kind && f.namespace == from.namespace);
            let to_ok = grant.spec.to.iter().any(|t| {
                t.group == to_group
                    && t.kind == to_kind
                    && t.name.as_deref().is_none_or(|n| n.is_empty() || n == to_name)
            });
            from_ok && to_ok
        })
}
