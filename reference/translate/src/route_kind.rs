//! The route kinds a listener can carry: HTTPRoute and GRPCRoute.

use std::fmt;

/// A kind of route the gateway serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RouteKind {
    /// `HTTPRoute`.
    Http,
    /// `GRPCRoute`.
    Grpc,
}

impl RouteKind {
    /// Every kind, in the order listeners report them in `supportedKinds`.
    pub const ALL: [RouteKind; 2] = [RouteKind::Http, RouteKind::Grpc];

    /// The kind as Kubernetes spells it.
    pub fn name(self) -> &'static str {
        match self {
            RouteKind::Http => "HTTPRoute",
            RouteKind::Grpc => "GRPCRoute",
        }
    }

    /// The kind of that name, if it is one.
    pub fn from_name(name: &str) -> Option<RouteKind> {
        RouteKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for RouteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
