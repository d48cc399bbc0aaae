//! Postman Collection v2.1 → a Gherkin feature the harness runs, using only the harness's own
//! steps. Script lines that have no step are kept as `# unsupported:` comments where they would
//! run, and listed so the caller can report them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

/// The feature produced from a collection, and what it could not express.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedFeature {
    /// The `.feature` text.
    pub feature: String,
    /// Lines (script lines, bodies, auth) left as comments, in feature order.
    pub unsupported: Vec<UnsupportedLine>,
}

/// One line the harness has no step for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedLine {
    /// The request it belongs to, with its folders (`Folder / Request`).
    pub request: String,
    /// The line as written in the collection (or a short description of the part left out).
    pub line: String,
}

/// Why a document is not a collection we can import.
#[derive(Debug, thiserror::Error)]
pub enum PostmanError {
    /// The text is not JSON.
    #[error("the collection is not valid JSON")]
    Json(#[from] serde_json::Error),
    /// JSON, but not a Postman Collection v2.1.
    #[error("not a Postman Collection v2.1: {0}")]
    NotACollection(String),
    /// A v2.1 collection with a field of the wrong shape.
    #[error("invalid collection at {path}: {message}")]
    Invalid {
        /// Where in the document (`item[0].request.header`).
        path: String,
        /// What serde found there.
        message: String,
    },
}

#[derive(Deserialize)]
struct Collection {
    info: Info,
    #[serde(default)]
    item: Vec<Item>,
    #[serde(default)]
    variable: Vec<Variable>,
    #[serde(default)]
    event: Vec<Event>,
    auth: Option<Auth>,
}

#[derive(Deserialize)]
struct Info {
    name: String,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    name: String,
    item: Option<Vec<Item>>,
    request: Option<Request>,
    #[serde(default)]
    event: Vec<Event>,
    #[serde(default)]
    variable: Vec<Variable>,
    auth: Option<Auth>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Request {
    Url(String),
    Full(Box<FullRequest>),
}

#[derive(Deserialize)]
struct FullRequest {
    method: Option<String>,
    #[serde(default)]
    header: Vec<Header>,
    url: Option<Url>,
    body: Option<Body>,
    auth: Option<Auth>,
}

#[derive(Deserialize)]
struct Header {
    key: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    disabled: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Url {
    Raw(String),
    Parts(UrlParts),
}

#[derive(Deserialize)]
struct UrlParts {
    raw: Option<String>,
    protocol: Option<String>,
    host: Option<Value>,
    port: Option<String>,
    path: Option<Value>,
    #[serde(default)]
    query: Vec<Query>,
}

#[derive(Deserialize, Clone)]
struct Query {
    key: Option<String>,
    value: Option<String>,
    #[serde(default)]
    disabled: bool,
}

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    mode: String,
    raw: Option<String>,
    #[serde(default)]
    urlencoded: Vec<Query>,
    options: Option<Value>,
    #[serde(default)]
    disabled: bool,
}

#[derive(Deserialize)]
struct Event {
    listen: String,
    script: Option<Script>,
    #[serde(default)]
    disabled: bool,
}

#[derive(Deserialize)]
struct Script {
    #[serde(default)]
    exec: Exec,
}

#[derive(Deserialize, Default)]
#[serde(untagged)]
enum Exec {
    #[default]
    None,
    One(String),
    Lines(Vec<String>),
}

#[derive(Deserialize)]
struct Variable {
    key: Option<String>,
    #[serde(default)]
    value: Value,
    #[serde(default)]
    disabled: bool,
}

#[derive(Deserialize, Clone)]
struct Auth {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    bearer: Vec<Query>,
}

/// Converts a Postman Collection v2.1 into a feature for the harness's APK profile.
pub fn import_collection(json: &str) -> Result<ImportedFeature, PostmanError> {
    let document: Value = serde_json::from_str(json)?;
    check_schema(&document)?;
    let collection: Collection =
        serde_path_to_error::deserialize(&document).map_err(|e| PostmanError::Invalid {
            path: e.path().to_string(),
            message: e.inner().to_string(),
        })?;
    Ok(Importer::default().run(&collection))
}

fn check_schema(document: &Value) -> Result<(), PostmanError> {
    let info = document
        .get("info")
        .ok_or_else(|| PostmanError::NotACollection("no \"info\" object".into()))?;
    let schema = info
        .get("schema")
        .and_then(Value::as_str)
        .ok_or_else(|| PostmanError::NotACollection("no \"info.schema\"".into()))?;
    if !schema.contains("/collection/v2.1") {
        return Err(PostmanError::NotACollection(format!(
            "info.schema is {schema:?}, expected a v2.1 schema"
        )));
    }
    Ok(())
}

/// A request with what it inherits from its folders.
struct Flat<'a> {
    /// `Folder / Sub / Request`.
    name: String,
    request: &'a Request,
    /// Folder variables on the way down (the collection's are added per scenario).
    variables: Vec<&'a Variable>,
    prerequest: Vec<String>,
    tests: Vec<String>,
    auth: Option<Auth>,
}

/// What becomes one Scenario.
struct Group<'a> {
    name: String,
    requests: Vec<Flat<'a>>,
    /// Several requests sharing captured values.
    chained: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Given,
    When,
    Then,
}

enum Line {
    Step(Kind, String, Vec<[String; 2]>),
    Comment(String),
}

#[derive(Default)]
struct Importer {
    unsupported: Vec<UnsupportedLine>,
}

impl Importer {
    fn run(mut self, collection: &Collection) -> ImportedFeature {
        let groups = groups(collection);
        let mut out = String::new();
        out.push_str("@profile:APK\n");
        out.push_str(&format!("Feature: {}\n", one_line(&collection.info.name)));
        out.push_str("  Imported from a Postman collection by `portcullis scenarios import-postman`.\n\n");
        out.push_str("  Background:\n    Given the base manifests are applied\n");
        let collection_vars = resolved_variables(collection.variable.iter());
        for group in &groups {
            let lines = self.scenario(group, &collection_vars);
            out.push_str(&format!("\n  Scenario: {}\n", one_line(&group.name)));
            render(&lines, &mut out);
        }
        ImportedFeature {
            feature: out,
            unsupported: self.unsupported,
        }
    }

    fn unsupported(&mut self, request: &str, line: &str, lines: &mut Vec<Line>) {
        lines.push(Line::Comment(format!("unsupported: {}", one_line(line))));
        self.unsupported.push(UnsupportedLine {
            request: request.to_string(),
            line: line.to_string(),
        });
    }

    fn scenario(&mut self, group: &Group<'_>, collection_vars: &[(String, String)]) -> Vec<Line> {
        let mut lines = Vec::new();
        // Folder variables override the collection's, as in Postman's scopes.
        let mut vars: Vec<(String, String)> = collection_vars.to_vec();
        let folder_vars = resolved_variables(group.requests.iter().flat_map(|r| r.variables.iter().copied()));
        for (key, value) in folder_vars {
            vars.retain(|(k, _)| *k != key);
            vars.push((key, value));
        }
        let known: BTreeMap<String, String> = vars.iter().cloned().collect();
        for (key, value) in &vars {
            match (quote(&templates(&resolve(value, &known))), quote(key)) {
                (Some(value), Some(key)) => lines.push(Line::Step(
                    Kind::Given,
                    format!("I store {value} as {key}"),
                    vec![],
                )),
                _ => self.unsupported(&group.name, &format!("variable {key} = {value}"), &mut lines),
            }
        }
        let mut previous_headers: Vec<String> = Vec::new();
        for (index, flat) in group.requests.iter().enumerate() {
            if group.chained {
                lines.push(Line::Comment(format!("request: {}", one_line(&flat.name))));
            }
            previous_headers = self.request(flat, index == 0, &previous_headers, &mut lines);
        }
        lines
    }

    /// Emits one request's steps; returns the header names it set (they stay on the world).
    fn request(
        &mut self,
        flat: &Flat<'_>,
        first: bool,
        previous: &[String],
        lines: &mut Vec<Line>,
    ) -> Vec<String> {
        for line in &flat.prerequest {
            self.unsupported(&flat.name, line, lines);
        }
        let (method, url, mut headers, body) = match flat.request {
            Request::Url(url) => ("GET".to_string(), url.clone(), Vec::new(), None),
            Request::Full(r) => {
                let headers: Vec<(String, String)> = r
                    .header
                    .iter()
                    .filter(|h| !h.disabled)
                    .map(|h| (h.key.clone(), h.value.clone()))
                    .collect();
                let url = r.url.as_ref().map(url_text).unwrap_or_default();
                let method = r
                    .method
                    .clone()
                    .unwrap_or_else(|| "GET".into())
                    .to_ascii_uppercase();
                (method, url, headers, r.body.as_ref().filter(|b| !b.disabled))
            }
        };
        let own_auth = match flat.request {
            Request::Full(r) => r.auth.clone(),
            Request::Url(_) => None,
        };
        match own_auth.or_else(|| flat.auth.clone()) {
            Some(auth) if auth.kind == "bearer" => {
                let token = auth.bearer.iter().find(|q| q.key.as_deref() == Some("token"));
                let token = token.and_then(|q| q.value.clone()).unwrap_or_default();
                headers.push(("Authorization".into(), format!("Bearer {token}")));
            }
            Some(auth) if auth.kind == "noauth" => {}
            Some(auth) => self.unsupported(&flat.name, &format!("auth type {}", auth.kind), lines),
            None => {}
        }
        let body_text = match body {
            None => None,
            Some(body) => self.body(flat, body, &mut headers, lines),
        };
        for text in dynamic_variables(&url, &headers, body_text.as_deref()) {
            self.unsupported(&flat.name, &format!("dynamic variable {text}"), lines);
        }
        let names: Vec<String> = headers.iter().map(|(k, _)| k.to_ascii_lowercase()).collect();
        for gone in previous.iter().filter(|p| !names.contains(p)) {
            if let Some(name) = quote(gone) {
                lines.push(Line::Step(
                    Kind::When,
                    format!("I remove the header {name}"),
                    vec![],
                ));
            }
        }
        if !headers.is_empty() {
            let kind = if first { Kind::Given } else { Kind::When };
            let rows = headers.iter().map(|(k, v)| [k.clone(), templates(v)]).collect();
            lines.push(Line::Step(kind, "I set headers:".into(), rows));
        }
        let url = templates(&with_scheme(&url));
        let send = match (&body_text, quote(&method), quote(&url)) {
            (_, None, _) | (_, _, None) => None,
            (None, Some(m), Some(u)) => Some(format!("I send a {m} request to {u}")),
            (Some(b), Some(m), Some(u)) => {
                quote(&templates(b)).map(|b| format!("I send {m} request to {u} with body {b}"))
            }
        };
        match send {
            Some(step) => lines.push(Line::Step(Kind::When, step, vec![])),
            None => self.unsupported(&flat.name, &format!("{method} {url}"), lines),
        }
        let mut aliases = BTreeSet::new();
        for line in &flat.tests {
            match test_line(line, &mut aliases) {
                Mapped::Steps(steps) => {
                    lines.extend(steps.into_iter().map(|s| Line::Step(Kind::Then, s, vec![])));
                }
                Mapped::Nothing => {}
                Mapped::Unsupported => self.unsupported(&flat.name, line, lines),
            }
        }
        names
    }

    /// The body as the harness sends it, adding the Content-Type Postman would add.
    fn body(
        &mut self,
        flat: &Flat<'_>,
        body: &Body,
        headers: &mut Vec<(String, String)>,
        lines: &mut Vec<Line>,
    ) -> Option<String> {
        let has_type = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
        match body.mode.as_str() {
            "raw" => {
                let raw = body.raw.clone().unwrap_or_default();
                if raw.is_empty() {
                    return None;
                }
                let language = body
                    .options
                    .as_ref()
                    .and_then(|o| o.pointer("/raw/language"))
                    .and_then(Value::as_str);
                if language == Some("json") && !has_type {
                    headers.push(("Content-Type".into(), "application/json".into()));
                }
                // A step is one line: JSON may lose its layout, other text cannot.
                let one = if raw.contains(['\n', '\r']) {
                    minify_json(&raw)
                } else {
                    Some(raw.clone())
                };
                match one.filter(|b| quote(&templates(b)).is_some()) {
                    Some(b) => Some(b),
                    None => {
                        self.unsupported(&flat.name, &format!("raw body {}", one_line(&raw)), lines);
                        None
                    }
                }
            }
            "urlencoded" => {
                if !has_type {
                    headers.push(("Content-Type".into(), "application/x-www-form-urlencoded".into()));
                }
                let pairs: Vec<String> = body
                    .urlencoded
                    .iter()
                    .filter(|q| !q.disabled)
                    .map(|q| {
                        let key = form_encode(q.key.as_deref().unwrap_or_default());
                        let value = form_encode(q.value.as_deref().unwrap_or_default());
                        format!("{key}={value}")
                    })
                    .collect();
                Some(pairs.join("&")).filter(|b| !b.is_empty())
            }
            "" => None,
            other => {
                self.unsupported(&flat.name, &format!("body mode {other}"), lines);
                None
            }
        }
    }
}

/// The collection's stand-in request while walking folders; only items with a request are kept.
static NO_REQUEST: Request = Request::Url(String::new());

/// Top-level folders, and top-level requests, in collection order; a folder (or the
/// collection's own requests) whose requests hand values to each other is one group.
fn groups(collection: &Collection) -> Vec<Group<'_>> {
    let base = Flat {
        name: String::new(),
        request: &NO_REQUEST,
        variables: vec![],
        prerequest: scripts(&collection.event, "prerequest"),
        tests: scripts(&collection.event, "test"),
        auth: collection.auth.clone(),
    };
    let mut out = Vec::new();
    let mut root = Vec::new();
    let mut root_at = None;
    for item in &collection.item {
        let mut flats = Vec::new();
        flatten(item, &base, &mut flats);
        if item.request.is_some() {
            root_at.get_or_insert(out.len());
            root.extend(flats);
            continue;
        }
        let chained = flats.len() > 1 && chains(&flats);
        push_group(&mut out, item.name.clone(), flats, chained);
    }
    if let Some(at) = root_at {
        let chained = root.len() > 1 && chains(&root);
        let mut groups = Vec::new();
        push_group(&mut groups, collection.info.name.clone(), root, chained);
        out.splice(at..at, groups);
    }
    out
}

fn push_group<'a>(out: &mut Vec<Group<'a>>, name: String, flats: Vec<Flat<'a>>, chained: bool) {
    if chained {
        out.push(Group {
            name,
            requests: flats,
            chained,
        });
    } else {
        out.extend(flats.into_iter().map(|f| Group {
            name: f.name.clone(),
            requests: vec![f],
            chained: false,
        }));
    }
}

fn flatten<'a>(item: &'a Item, parent: &Flat<'a>, out: &mut Vec<Flat<'a>>) {
    let name = if parent.name.is_empty() {
        item_name(item)
    } else {
        format!("{} / {}", parent.name, item_name(item))
    };
    let mut variables = parent.variables.clone();
    variables.extend(item.variable.iter());
    // Postman runs collection, then folder, then request scripts.
    let mut prerequest = parent.prerequest.clone();
    prerequest.extend(scripts(&item.event, "prerequest"));
    let mut tests = parent.tests.clone();
    tests.extend(scripts(&item.event, "test"));
    let auth = item.auth.clone().or_else(|| parent.auth.clone());
    let here = Flat {
        name,
        request: item.request.as_ref().unwrap_or(parent.request),
        variables,
        prerequest,
        tests,
        auth,
    };
    match &item.item {
        Some(children) => children.iter().for_each(|child| flatten(child, &here, out)),
        None if item.request.is_some() => out.push(here),
        None => {}
    }
}

fn item_name(item: &Item) -> String {
    if item.name.trim().is_empty() {
        "Untitled".into()
    } else {
        item.name.clone()
    }
}

fn scripts(events: &[Event], listen: &str) -> Vec<String> {
    let exec = events
        .iter()
        .filter(|e| e.listen == listen && !e.disabled)
        .filter_map(|e| e.script.as_ref())
        .flat_map(|s| match &s.exec {
            Exec::None => vec![],
            Exec::One(text) => vec![text.clone()],
            Exec::Lines(lines) => lines.clone(),
        });
    // Some exporters put a whole script in one element.
    exec.flat_map(|text| text.lines().map(str::to_string).collect::<Vec<_>>())
        .filter(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with("//")
        })
        .collect()
}

/// Whether a request uses (`{{name}}`) a value an earlier one stores from its response.
fn chains(flats: &[Flat<'_>]) -> bool {
    let mut stored = BTreeSet::new();
    for flat in flats {
        let mut text = match flat.request {
            Request::Url(u) => u.clone(),
            Request::Full(r) => {
                let mut text = r.url.as_ref().map(url_text).unwrap_or_default();
                for h in &r.header {
                    text.push_str(&h.value);
                }
                if let Some(b) = &r.body {
                    text.push_str(b.raw.as_deref().unwrap_or_default());
                    for q in &b.urlencoded {
                        text.push_str(q.value.as_deref().unwrap_or_default());
                    }
                }
                if let Some(a) = &r.auth {
                    a.bearer
                        .iter()
                        .for_each(|q| text.push_str(q.value.as_deref().unwrap_or_default()));
                }
                text
            }
        };
        if let Some(a) = &flat.auth {
            a.bearer
                .iter()
                .for_each(|q| text.push_str(q.value.as_deref().unwrap_or_default()));
        }
        if stored
            .iter()
            .any(|name: &String| text.contains(&format!("{{{{{name}}}}}")))
        {
            return true;
        }
        let mut aliases = BTreeSet::new();
        for line in &flat.tests {
            if let Some(name) = stored_name(line, &mut aliases) {
                stored.insert(name);
            }
        }
    }
    false
}

fn stored_name(line: &str, aliases: &mut BTreeSet<String>) -> Option<String> {
    let statement = statement(line)?;
    alias(&statement, aliases);
    let caps = SET.captures(&statement)?;
    let name = js_string(caps.get(1)?.as_str())?;
    json_path(caps.get(2)?.as_str(), aliases).map(|_| name)
}

/// Collection or folder variables, `{{other}}` resolved among themselves.
fn resolved_variables<'a>(vars: impl Iterator<Item = &'a Variable>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for var in vars.filter(|v| !v.disabled) {
        let Some(key) = var.key.clone() else { continue };
        let value = match &var.value {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        out.retain(|(k, _)| *k != key);
        out.push((key, value));
    }
    out
}

fn resolve(value: &str, known: &BTreeMap<String, String>) -> String {
    let mut out = value.to_string();
    // A few passes cover variables built from variables without looping on cycles.
    for _ in 0..4 {
        let next = TEMPLATE
            .replace_all(&out, |c: &regex::Captures<'_>| {
                known.get(&c[1]).cloned().unwrap_or_else(|| c[0].to_string())
            })
            .into_owned();
        if next == out {
            break;
        }
        out = next;
    }
    out
}

/// `{{name}}` → `${name}`, the harness's form.
fn templates(text: &str) -> String {
    TEMPLATE.replace_all(text, "$${${1}}").into_owned()
}

fn dynamic_variables(url: &str, headers: &[(String, String)], body: Option<&str>) -> Vec<String> {
    let mut texts = vec![url];
    texts.extend(headers.iter().map(|(_, v)| v.as_str()));
    texts.extend(body);
    let mut seen = BTreeSet::new();
    texts
        .iter()
        .flat_map(|t| {
            TEMPLATE
                .captures_iter(t)
                .map(|c| c[0].to_string())
                .collect::<Vec<_>>()
        })
        .filter(|t| t.starts_with("{{$") && seen.insert(t.clone()))
        .collect()
}

fn url_text(url: &Url) -> String {
    match url {
        Url::Raw(raw) => raw.clone(),
        Url::Parts(parts) => match &parts.raw {
            Some(raw) => raw.clone(),
            None => {
                let host = joined(parts.host.as_ref(), ".");
                let path = joined(parts.path.as_ref(), "/");
                let mut url = match &parts.protocol {
                    Some(p) => format!("{p}://{host}"),
                    None => host,
                };
                if let Some(port) = &parts.port {
                    url.push_str(&format!(":{port}"));
                }
                if !path.is_empty() {
                    url.push('/');
                    url.push_str(path.trim_start_matches('/'));
                }
                let query: Vec<String> = parts
                    .query
                    .iter()
                    .filter(|q| !q.disabled)
                    .map(|q| match &q.value {
                        Some(v) => format!("{}={v}", q.key.as_deref().unwrap_or_default()),
                        None => q.key.clone().unwrap_or_default(),
                    })
                    .collect();
                if !query.is_empty() {
                    url.push('?');
                    url.push_str(&query.join("&"));
                }
                url
            }
        },
    }
}

fn joined(part: Option<&Value>, separator: &str) -> String {
    match part {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .map(|p| match p {
                Value::String(s) => s.clone(),
                other => other
                    .get("value")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            })
            .collect::<Vec<_>>()
            .join(separator),
        _ => String::new(),
    }
}

/// Postman sends scheme-less URLs over HTTP.
fn with_scheme(url: &str) -> String {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") || url.starts_with("{{") {
        url.to_string()
    } else {
        format!("http://{url}")
    }
}

/// Percent-encodes a form key or value, keeping `{{name}}` for the harness to fill in.
fn form_encode(text: &str) -> String {
    let mut out = String::new();
    let mut last = 0;
    for m in TEMPLATE.find_iter(text) {
        encode_into(&text[last..m.start()], &mut out);
        out.push_str(m.as_str());
        last = m.end();
    }
    encode_into(&text[last..], &mut out);
    out
}

fn encode_into(text: &str, out: &mut String) {
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

/// Drops the whitespace between JSON tokens (not inside strings); `None` if newlines remain.
fn minify_json(text: &str) -> Option<String> {
    let trimmed = text.trim();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return None;
    }
    let mut out = String::new();
    let (mut in_string, mut escaped) = (false, false);
    for c in trimmed.chars() {
        if in_string {
            in_string = escaped || c != '"';
            escaped = !escaped && c == '\\';
        } else if c == '"' {
            in_string = true;
        } else if c.is_whitespace() {
            continue;
        }
        out.push(c);
    }
    (!out.contains(['\n', '\r'])).then_some(out)
}

/// A `{string}` argument: cucumber-rs passes the text between the quotes as written (no
/// unescaping), so the text must avoid one quote kind, must not end in a backslash, and must
/// fit on one line.
fn quote(text: &str) -> Option<String> {
    if text.contains(['\n', '\r']) || text.ends_with('\\') {
        return None;
    }
    if !text.contains('"') {
        Some(format!("\"{text}\""))
    } else if !text.contains('\'') {
        Some(format!("'{text}'"))
    } else {
        None
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn table_cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', "\\n")
}

fn render(lines: &[Line], out: &mut String) {
    let mut previous = None;
    for line in lines {
        match line {
            Line::Comment(text) => out.push_str(&format!("    # {text}\n")),
            Line::Step(kind, text, rows) => {
                let keyword = match (previous == Some(*kind), kind) {
                    (true, _) => "And",
                    (false, Kind::Given) => "Given",
                    (false, Kind::When) => "When",
                    (false, Kind::Then) => "Then",
                };
                previous = Some(*kind);
                out.push_str(&format!("    {keyword} {text}\n"));
                let cells: Vec<[String; 2]> =
                    rows.iter().map(|[k, v]| [table_cell(k), table_cell(v)]).collect();
                let width = cells.iter().map(|[k, _]| k.chars().count()).max().unwrap_or(0);
                let value_width = cells.iter().map(|[_, v]| v.chars().count()).max().unwrap_or(0);
                for [k, v] in &cells {
                    out.push_str(&format!("      | {k:width$} | {v:value_width$} |\n"));
                }
            }
        }
    }
}

enum Mapped {
    Steps(Vec<String>),
    /// Structure (`pm.test(...)` wrappers, aliases of the JSON body) with no step of its own.
    Nothing,
    Unsupported,
}

const STR: &str = r#"("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"#;
const STATUS_ARG: &str = r"\(\s*(\d{3})\s*\)";
const EQUALS: &str = r"\.to\.(?:be\.)?(?:eql|equal|eq|deep\.equal)";

fn re(pattern: &str) -> Regex {
    // The patterns are constants of this module; a bad one is a bug caught by its tests.
    Regex::new(pattern).unwrap_or_else(|e| unreachable!("invalid built-in pattern {pattern}: {e}"))
}

static TEMPLATE: LazyLock<Regex> = LazyLock::new(|| re(r"\{\{([^{}]+)\}\}"));
static TEST_OPEN: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"^pm\.test\(\s*{STR}\s*,\s*(?:function\s*\(\s*\)|\(\s*\)\s*=>)\s*\{{(.*)$"
    ))
});
static TEST_ARROW: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"^pm\.test\(\s*{STR}\s*,\s*\(\s*\)\s*=>\s*([^{{].*)\)$")));
static TEST_CLOSE: LazyLock<Regex> = LazyLock::new(|| re(r"^\}\s*\)$"));
static STATUS: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"^(?:pm\.response\.to\.(?:have|be)\.status{STATUS_ARG}|pm\.expect\(\s*pm\.response\.code\s*\){EQUALS}{STATUS_ARG}|pm\.response\.code\s*===?\s*(\d{{3}}))$"
    ))
});
static FIELD_EQUALS: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"^pm\.expect\(\s*([\w$.()]+)\s*\){EQUALS}\(\s*({STR}|-?\d+)\s*\)$"
    ))
});
static TEXT_INCLUDES: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"^pm\.expect\(\s*pm\.response\.text\(\)\s*\)\.to\.(?:include|contain|have\.string)\(\s*{STR}\s*\)$"
    ))
});
static SET: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"^pm\.(?:environment|collectionVariables|globals|variables)\.set\(\s*{STR}\s*,\s*([\w$.()]+)\s*\)$"
    ))
});
static HAS_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"^pm\.response\.to\.have\.header\(\s*{STR}\s*(?:,\s*{STR}\s*)?\)$"
    ))
});
static ALIAS: LazyLock<Regex> =
    LazyLock::new(|| re(r"^(?:var|let|const)\s+([A-Za-z_$][\w$]*)\s*=\s*pm\.response\.json\(\)$"));

/// A script line without its trailing `;` and surrounding blanks; `None` when blank.
fn statement(line: &str) -> Option<String> {
    let s = line.trim().trim_end_matches(';').trim_end();
    (!s.is_empty()).then(|| s.to_string())
}

fn alias(statement: &str, aliases: &mut BTreeSet<String>) -> bool {
    let Some(c) = ALIAS.captures(statement) else {
        return false;
    };
    aliases.insert(c[1].to_string());
    true
}

/// `pm.response.json().a.b` or `alias.a.b` → `a.b`.
fn json_path(expression: &str, aliases: &BTreeSet<String>) -> Option<String> {
    let rest = match expression.strip_prefix("pm.response.json()") {
        Some(rest) => rest,
        None => {
            let (head, rest) = expression.split_once('.')?;
            aliases.contains(head).then_some(())?;
            return valid_path(rest);
        }
    };
    valid_path(rest.strip_prefix('.')?)
}

fn valid_path(path: &str) -> Option<String> {
    let ok = path.split('.').all(|p| {
        let mut chars = p.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    });
    ok.then(|| path.to_string())
}

/// A JS string literal's value; `None` for escapes we do not decode.
fn js_string(literal: &str) -> Option<String> {
    let inner = literal.get(1..literal.len().checked_sub(1)?)?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            'n' => '\n',
            't' => '\t',
            c @ ('\\' | '"' | '\'' | '/') => c,
            _ => return None,
        });
    }
    Some(out)
}

fn test_line(line: &str, aliases: &mut BTreeSet<String>) -> Mapped {
    let Some(s) = statement(line) else {
        return Mapped::Nothing;
    };
    if TEST_CLOSE.is_match(&s) {
        return Mapped::Nothing;
    }
    if let Some(c) = TEST_OPEN.captures(&s) {
        let rest = c.get(2).map_or("", |m| m.as_str()).trim();
        if rest.is_empty() {
            return Mapped::Nothing;
        }
        // `pm.test("x", function () { one statement })` on one line.
        return match rest
            .strip_suffix(')')
            .and_then(|r| r.trim_end().strip_suffix('}'))
        {
            Some(inner) if !inner.trim().trim_end_matches(';').contains(';') => test_line(inner, aliases),
            _ => Mapped::Unsupported,
        };
    }
    if let Some(c) = TEST_ARROW.captures(&s) {
        return test_line(c.get(2).map_or("", |m| m.as_str()), aliases);
    }
    if alias(&s, aliases) {
        return Mapped::Nothing;
    }
    statement_steps(&s, aliases).map_or(Mapped::Unsupported, Mapped::Steps)
}

fn statement_steps(s: &str, aliases: &BTreeSet<String>) -> Option<Vec<String>> {
    if let Some(c) = STATUS.captures(s) {
        let code = c.iter().skip(1).flatten().next()?.as_str();
        return Some(vec![format!("the response status is {code}")]);
    }
    if let Some(c) = FIELD_EQUALS.captures(s) {
        // The harness compares top-level fields only.
        let field = json_path(c.get(1)?.as_str(), aliases).filter(|f| !f.contains('.'))?;
        let expected = c.get(2)?.as_str();
        let field = quote(&field)?;
        return match expected.parse::<i64>() {
            Ok(n) => Some(vec![format!("the response body field {field} is the number {n}")]),
            Err(_) => {
                let value = quote(&js_string(expected)?)?;
                Some(vec![format!("the response body field {field} is {value}")])
            }
        };
    }
    if let Some(c) = TEXT_INCLUDES.captures(s) {
        let text = quote(&js_string(c.get(1)?.as_str())?)?;
        return Some(vec![format!("the response body contains {text}")]);
    }
    if let Some(c) = SET.captures(s) {
        let name = quote(&js_string(c.get(1)?.as_str())?)?;
        let field = quote(&json_path(c.get(2)?.as_str(), aliases)?)?;
        return Some(vec![format!("I store the response body field {field} as {name}")]);
    }
    if let Some(c) = HAS_HEADER.captures(s) {
        let name = quote(&js_string(c.get(1)?.as_str())?)?;
        return Some(vec![match c.get(2) {
            Some(v) => format!(
                "the response header {name} is {}",
                quote(&js_string(v.as_str())?)?
            ),
            None => format!("the response has header {name}"),
        }]);
    }
    None
}
