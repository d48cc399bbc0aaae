//! What the generator needs from an API definition, whatever its OpenAPI/Swagger version.

/// The parts of a definition that make an apk-conf.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct ApiDescription {
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// URL of the first server; `/` when there is none (as swagger-parser does for APK).
    pub server_url: String,
    /// OAuth2 scopes declared by the `default` (implicit flow) or `OAuth2Security` (password
    /// flow) security scheme — the two places APK looks.
    pub declared_scopes: Vec<String>,
    /// Operations in document order.
    pub resources: Vec<Resource>,
    /// Whether some path or operation has its own `servers` (APK then drops them and, while
    /// doing so, reorders the paths alphabetically).
    pub paths_have_servers: bool,
}

/// One operation of the definition.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Resource {
    /// Path template.
    pub path: String,
    /// Upper-case HTTP method.
    pub verb: &'static str,
    /// The operation's `security` requirements, each a list of (scheme, scopes).
    pub security: Vec<Vec<(String, Vec<String>)>>,
    /// The `x-scope` extension, a comma-separated scope list.
    pub x_scope: Option<String>,
}

/// Methods in the order APK reads them from a path item; TRACE is not supported by APK.
pub(crate) const METHODS: [(&str, &str); 7] = [
    ("get", "GET"),
    ("put", "PUT"),
    ("post", "POST"),
    ("delete", "DELETE"),
    ("patch", "PATCH"),
    ("head", "HEAD"),
    ("options", "OPTIONS"),
];
