//! Where a reload's time goes: a tracing layer that timestamps the control plane's and the xDS
//! server's own milestone events (folder read, snapshot published and hashed, Delta response
//! sent, Envoy's ACK), so one change can be broken down stage by stage without touching the
//! code under measurement.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;

/// The route table type (RDS) and the virtual host type (VHDS).
const ROUTE_TYPES: [&str; 2] = [
    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
    "type.googleapis.com/envoy.config.route.v3.VirtualHost",
];

/// One milestone event: when, its message and its `type_url` field, if any.
#[derive(Clone, Debug)]
pub struct Milestone {
    pub at: Instant,
    pub message: String,
    pub type_url: String,
}

/// Milestones seen since the last [`Recorder::clear`].
#[derive(Clone, Default)]
pub struct Recorder {
    seen: Arc<Mutex<Vec<Milestone>>>,
}

impl Recorder {
    /// Forgets what was recorded.
    pub fn clear(&self) {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// What was recorded, in order.
    pub fn take(&self) -> Vec<Milestone> {
        std::mem::take(&mut *self.seen.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    type_url: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_string(),
            "type_url" => self.type_url = value.to_string(),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "type_url" => self.type_url = format!("{value:?}").trim_matches('"').to_string(),
            _ => {}
        }
    }
}

impl<S: Subscriber> Layer<S> for Recorder {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let at = Instant::now();
        let mut fields = Fields::default();
        event.record(&mut fields);
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Milestone {
                at,
                message: fields.message,
                type_url: fields.type_url,
            });
    }
}

/// One change's time, stage by stage (milliseconds); a stage whose events were not seen is 0.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Breakdown {
    /// reload start → the folder was refreshed (stat the changed file, parse it, swap its
    /// objects in the snapshot).
    pub folder_ms: f64,
    /// → the xDS server got the new snapshot: echo sync, ports, translate, limiter/enforcer
    /// updates, comparison with what was published.
    pub snapshot_translate_ms: f64,
    /// → every resource hashed (the xDS server's prepared snapshot).
    pub hash_ms: f64,
    /// → the Delta stream sent its first route response (diff and encode).
    pub diff_ms: f64,
    /// → Envoy ACKed the last route response (transfer, decode, apply).
    pub envoy_ms: f64,
}

impl Breakdown {
    /// Splits `reload start → ACK` using the milestones.
    pub fn of(start: Instant, seen: &[Milestone]) -> Breakdown {
        let find = |message: &str| seen.iter().find(|m| m.message == message).map(|m| m.at);
        let routes = |m: &&Milestone| ROUTE_TYPES.contains(&m.type_url.as_str());
        let folder = find("read the resource folder");
        let publishing = find("publishing xDS snapshot");
        let prepared = find("prepared xDS snapshot");
        let sent = seen
            .iter()
            .filter(routes)
            .find(|m| m.message == "sending delta response")
            .map(|m| m.at);
        let acked = seen
            .iter()
            .filter(routes)
            .filter(|m| m.message == "delta ACK")
            .map(|m| m.at)
            .next_back();
        let span = |from: Option<Instant>, to: Option<Instant>| match (from, to) {
            (Some(from), Some(to)) => super::ms(to.saturating_duration_since(from)),
            _ => 0.0,
        };
        Breakdown {
            folder_ms: span(Some(start), folder),
            snapshot_translate_ms: span(folder, publishing),
            hash_ms: span(publishing, prepared),
            diff_ms: span(prepared.or(publishing), sent),
            envoy_ms: span(sent, acked),
        }
    }
}
