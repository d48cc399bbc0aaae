//! A fake API server for tests of kube-rs clients: a tower-test mock service that answers lists
//! from fixed objects (404 for any other collection, as for a CRD that is not installed), holds
//! watch requests open until the test pushes events, answers discovery (`/apis/<group>/<version>`,
//! `/api/<version>`) from the collections it serves, and records status applies.
//!
//! Test support only: it panics on requests it cannot read, which is what a test wants.

#![allow(clippy::expect_used, clippy::missing_panics_doc)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{Method, Request, Response};
use kube::Client;
use kube::client::Body;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};
use tower_test::mock::SendResponse;

/// Long enough for any step on a loaded CI machine; only stops a broken test from hanging.
pub const GUARD: Duration = Duration::from_secs(30);

/// One request as the fake API server saw it.
#[derive(Debug)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub content_type: Option<String>,
    pub body: Option<Value>,
}

#[derive(Default)]
struct State {
    /// Collections served, by path: their items.
    lists: HashMap<String, Vec<Value>>,
    /// Watch requests waiting for events, by path.
    watches: HashMap<String, Vec<SendResponse<Response<Body>>>>,
    /// Status paths that fail, with the HTTP status to answer.
    failing: HashMap<String, u16>,
    /// Collections whose objects can be read, created and replaced one by one, by path:
    /// their objects by name.
    stores: HashMap<String, BTreeMap<String, Value>>,
    /// The last `resourceVersion` handed out by a store.
    resource_version: u64,
}

/// The fake server, shared between the test and the task that answers requests.
#[derive(Clone)]
pub struct FakeApi {
    state: Arc<Mutex<State>>,
    watch_arrived: Arc<Notify>,
}

impl FakeApi {
    /// A client talking to a new fake server, the server, and the status applies it receives.
    pub fn start() -> (Client, FakeApi, mpsc::UnboundedReceiver<Seen>) {
        let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let client = Client::new(service, "default");
        let fake = FakeApi {
            state: Arc::default(),
            watch_arrived: Arc::new(Notify::new()),
        };
        let (applies_tx, applies) = mpsc::unbounded_channel();
        let server = fake.clone();
        tokio::spawn(async move {
            while let Some((request, send)) = handle.next_request().await {
                let seen = read(request).await;
                server.answer(seen, send, &applies_tx);
            }
        });
        (client, fake, applies)
    }

    /// Serves the collection at `path` with these objects.
    pub fn serve(&self, path: &str, items: Vec<Value>) -> &Self {
        self.state
            .lock()
            .expect("state")
            .lists
            .insert(path.to_string(), items);
        self
    }

    /// Stops serving the collection at `path`: lists, watches and discovery answer 404 from now
    /// on (a CRD deleted). Open watches stay open: push an `ERROR` event (410) to end one, or
    /// use [`FakeApi::withdraw`].
    pub fn unserve(&self, path: &str) -> &Self {
        self.state.lock().expect("state").lists.remove(path);
        self
    }

    /// Stops serving the collection at `path` as an API server does when its CRD is deleted:
    /// open watches end, and the watch that follows, lists and discovery answer 404.
    pub fn withdraw(&self, path: &str) -> &Self {
        let mut state = self.state.lock().expect("state");
        state.lists.remove(path);
        for send in state.watches.remove(path).unwrap_or_default() {
            send.send_response(response(200, Vec::new()));
        }
        self
    }

    /// Keeps objects of the collection at `path` (e.g. Leases of a namespace): `GET` and `PUT`
    /// `<path>/<name>`, `POST <path>`, with a `resourceVersion` that must match on replace
    /// (409 otherwise), as an API server does.
    pub fn store(&self, path: &str) -> &Self {
        self.state
            .lock()
            .expect("state")
            .stores
            .insert(path.to_string(), BTreeMap::new());
        self
    }

    /// Puts an object into a store (made with [`FakeApi::store`]), as if created by someone else.
    pub fn insert(&self, path: &str, mut object: Value) {
        let mut state = self.state.lock().expect("state");
        state.resource_version += 1;
        object["metadata"]["resourceVersion"] = json!(state.resource_version.to_string());
        let name = object["metadata"]["name"].as_str().expect("a name").to_string();
        state
            .stores
            .get_mut(path)
            .expect("a store at this path")
            .insert(name, object);
    }

    /// An object of a store, as it stands.
    pub fn stored(&self, path: &str, name: &str) -> Option<Value> {
        self.state
            .lock()
            .expect("state")
            .stores
            .get(path)
            .and_then(|objects| objects.get(name).cloned())
    }

    /// Makes applies to this status path fail with `code`.
    pub fn fail_status(&self, path: &str, code: u16) {
        self.state
            .lock()
            .expect("state")
            .failing
            .insert(path.to_string(), code);
    }

    /// Lets applies to this status path succeed again.
    pub fn heal_status(&self, path: &str) {
        self.state.lock().expect("state").failing.remove(path);
    }

    /// Ends the open watch on `path` with these events (`(type, object)`); the watcher then
    /// opens a new one.
    pub async fn push(&self, path: &str, events: &[(&str, Value)]) {
        let send = loop {
            let arrived = self.watch_arrived.notified();
            if let Some(send) = self
                .state
                .lock()
                .expect("state")
                .watches
                .get_mut(path)
                .and_then(Vec::pop)
            {
                break send;
            }
            tokio::time::timeout(GUARD, arrived)
                .await
                .expect("a watch request");
        };
        let mut body = Vec::new();
        for (kind, object) in events {
            serde_json::to_writer(&mut body, &json!({"type": kind, "object": object})).expect("json");
            body.push(b'\n');
        }
        send.send_response(response(200, body));
    }

    fn answer(&self, seen: Seen, send: SendResponse<Response<Body>>, applies: &mpsc::UnboundedSender<Seen>) {
        let mut state = self.state.lock().expect("state");
        if let Some((code, answer)) = state.store_request(&seen) {
            send.send_response(json_response(code, &answer));
            return;
        }
        if seen.method == Method::PATCH {
            let code = state.failing.get(&seen.path).copied().unwrap_or(200);
            let answer = if code == 200 {
                seen.body.clone().unwrap_or(Value::Null)
            } else {
                failure(code)
            };
            send.send_response(json_response(code, &answer));
            let _ = applies.send(seen);
            return;
        }
        let Some(items) = state.lists.get(&seen.path).cloned() else {
            let (code, answer) = match state.discovery(&seen) {
                Some(resources) => (200, resources),
                None => (404, failure(404)),
            };
            send.send_response(json_response(code, &answer));
            return;
        };
        if seen.query.get("watch").map(String::as_str) == Some("true") {
            state.watches.entry(seen.path).or_default().push(send);
            self.watch_arrived.notify_waiters();
            return;
        }
        let list =
            json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": "1"}, "items": items});
        send.send_response(json_response(200, &list));
    }
}

impl State {
    /// Answers a discovery request (`GET /apis/<group>/<version>` or `/api/<version>`) with the
    /// resources of the collections served under it, or `None` when it is not one or nothing
    /// is served there. The fake knows paths only: `kind` and `singularName` are empty.
    fn discovery(&self, seen: &Seen) -> Option<Value> {
        let segments: Vec<&str> = seen.path.trim_start_matches('/').split('/').collect();
        let group_version = match segments.as_slice() {
            ["api", version] => (*version).to_string(),
            ["apis", group, version] => format!("{group}/{version}"),
            _ => return None,
        };
        if seen.method != Method::GET {
            return None;
        }
        let prefix = format!("{}/", seen.path);
        // Plural → namespaced.
        let mut resources = BTreeMap::new();
        for path in self.lists.keys() {
            let Some(rest) = path.strip_prefix(&prefix) else {
                continue;
            };
            match rest.split('/').collect::<Vec<_>>().as_slice() {
                [plural] => {
                    resources.entry(plural.to_string()).or_insert(false);
                }
                ["namespaces", _, plural] => {
                    resources.insert(plural.to_string(), true);
                }
                _ => {}
            }
        }
        if resources.is_empty() {
            return None;
        }
        let resources: Vec<Value> = resources
            .into_iter()
            .map(|(name, namespaced)| {
                json!({"name": name, "singularName": "", "namespaced": namespaced, "kind": "",
                    "verbs": ["get", "list", "watch"]})
            })
            .collect();
        Some(
            json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": resources}),
        )
    }

    /// Answers a request to a store, or `None` when it is not one.
    fn store_request(&mut self, seen: &Seen) -> Option<(u16, Value)> {
        let (collection, name) = match seen.method {
            Method::POST => (seen.path.as_str(), None),
            _ => {
                let (collection, name) = seen.path.rsplit_once('/')?;
                (collection, Some(name))
            }
        };
        if !self.stores.contains_key(collection) {
            return None;
        }
        self.resource_version += 1;
        let version = self.resource_version.to_string();
        let objects = self.stores.get_mut(collection)?;
        let conflict = || {
            (
                409,
                status_failure(409, "Conflict", "the object has been modified"),
            )
        };
        Some(match (&seen.method, name) {
            (&Method::GET, Some(name)) => match objects.get(name) {
                Some(object) => (200, object.clone()),
                None => (404, failure(404)),
            },
            (&Method::POST, None) => {
                let mut object = seen.body.clone().unwrap_or(Value::Null);
                let name = object["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                if objects.contains_key(&name) {
                    return Some((409, status_failure(409, "AlreadyExists", "already exists")));
                }
                object["metadata"]["resourceVersion"] = json!(version);
                objects.insert(name, object.clone());
                (201, object)
            }
            (&Method::PUT, Some(name)) => {
                let mut object = seen.body.clone().unwrap_or(Value::Null);
                let current = objects
                    .get(name)
                    .map(|o| o["metadata"]["resourceVersion"].clone());
                match current {
                    None => (404, failure(404)),
                    Some(current) if current != object["metadata"]["resourceVersion"] => conflict(),
                    Some(_) => {
                        object["metadata"]["resourceVersion"] = json!(version);
                        objects.insert(name.to_string(), object.clone());
                        (200, object)
                    }
                }
            }
            _ => (
                405,
                status_failure(405, "MethodNotAllowed", "not supported by the fake"),
            ),
        })
    }
}

fn failure(code: u16) -> Value {
    status_failure(
        code,
        "NotFound",
        "the server could not find the requested resource",
    )
}

/// A `Status` object as the API server answers a failed request.
pub fn status_failure(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code})
}

/// Answers a request with JSON.
pub fn respond(send: SendResponse<Response<Body>>, status: u16, answer: &Value) {
    send.send_response(json_response(status, answer));
}

fn response(status: u16, body: Vec<u8>) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("response")
}

/// A JSON response.
pub fn json_response(status: u16, answer: &Value) -> Response<Body> {
    response(status, serde_json::to_vec(answer).expect("json"))
}

/// Reads a request kube-rs sent: method, path, decoded query, content type and JSON body.
pub async fn read(request: Request<Body>) -> Seen {
    let (parts, body) = request.into_parts();
    let query = form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let bytes = body.collect_bytes().await.expect("request body");
    let body = (!bytes.is_empty()).then(|| serde_json::from_slice(&bytes).expect("a JSON request body"));
    Seen {
        method: parts.method,
        path: parts.uri.path().to_string(),
        query,
        content_type: parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .map(|v| v.to_str().expect("ascii").to_string()),
        body,
    }
}
