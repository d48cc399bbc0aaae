//! The plain-routing scenario: GETs that the shipped HTTPRoutes route by host, path and
//! header, each checked for its status and, for 200s, for the Service the echo backend says
//! answered.

use std::sync::Arc;

use goose::prelude::*;
use serde::Deserialize;

/// The scenario's name.
pub const SCENARIO: &str = "plain-routing";

/// One request the scenario makes, and what it expects back.
#[derive(Clone, Copy, Debug)]
pub struct Probe {
    /// The request's name in goose's metrics and reports.
    pub name: &'static str,
    /// The Host header.
    pub host: &'static str,
    /// Path and query.
    pub path: &'static str,
    /// Extra request headers.
    pub headers: &'static [(&'static str, &'static str)],
    /// The status expected; any other counts as a failure.
    pub status: u16,
    /// For a 200, the Service the echo backend must report.
    pub service: Option<&'static str>,
}

/// What the scenario requests, in order, on every iteration.
pub const PROBES: &[Probe] = &[
    Probe {
        name: "shop /cart -> cart",
        host: "shop.example.com",
        path: "/cart/items?id=7",
        headers: &[],
        status: 200,
        service: Some("cart"),
    },
    Probe {
        name: "shop /orders -> orders",
        host: "shop.example.com",
        path: "/orders/42",
        headers: &[],
        status: 200,
        service: Some("orders"),
    },
    Probe {
        name: "api /v1 x-tenant=beta -> orders",
        host: "api.example.com",
        path: "/v1/items",
        headers: &[("x-tenant", "beta")],
        status: 200,
        service: Some("orders"),
    },
    Probe {
        name: "api /v1 -> cart",
        host: "api.example.com",
        path: "/v1/items",
        headers: &[],
        status: 200,
        service: Some("cart"),
    },
    Probe {
        name: "miss: shop /nowhere -> 404",
        host: "shop.example.com",
        path: "/nowhere",
        headers: &[],
        status: 404,
        service: None,
    },
    Probe {
        name: "miss: unknown host -> 404",
        host: "unknown.example.com",
        path: "/cart",
        headers: &[],
        status: 404,
        service: None,
    },
];

/// The plain-routing scenario: one transaction per probe of [`PROBES`], no wait between them.
pub fn plain_routing() -> Scenario {
    probe_scenario(SCENARIO, PROBES)
}

/// A scenario that makes `probes`, in order, one transaction each.
pub fn probe_scenario(name: &str, probes: &'static [Probe]) -> Scenario {
    let mut scenario = Scenario::new(name);
    for probe in probes {
        let function: TransactionFunction =
            Arc::new(move |user| Box::pin(async move { request(user, probe).await }));
        scenario = scenario.register_transaction(Transaction::new(function).set_name(probe.name));
    }
    scenario
}

/// The part of the echo backend's answer the scenario checks.
#[derive(Deserialize)]
struct Echoed {
    service: String,
}

async fn request(user: &mut GooseUser, probe: &Probe) -> TransactionResult {
    let mut builder = user
        .get_request_builder(&GooseMethod::Get, probe.path)?
        .header("host", probe.host);
    for (name, value) in probe.headers {
        builder = builder.header(*name, *value);
    }
    let request = GooseRequest::builder()
        .name(probe.name)
        // Another status is recorded as a failed request; the expected one (404 included) as a
        // success.
        .expect_status_code(probe.status)
        .set_request_builder(builder)
        .build();
    let mut goose = user.request(request).await?;
    let Some(service) = probe.service else {
        return Ok(());
    };
    // A transport error or an unexpected status is already recorded as a failure.
    let response = match goose.response {
        Ok(response) if response.status().as_u16() == probe.status => response,
        _ => return Ok(()),
    };
    let body = match response.text().await {
        Ok(body) => body,
        Err(error) => {
            let tag = format!("reading the body: {error}");
            return user.set_failure(&tag, &mut goose.request, None, None);
        }
    };
    match serde_json::from_str::<Echoed>(&body) {
        Ok(echoed) if echoed.service == service => Ok(()),
        Ok(echoed) => {
            let tag = format!("answered by Service {}, expected {service}", echoed.service);
            user.set_failure(&tag, &mut goose.request, None, Some(&body))
        }
        Err(error) => {
            let tag = format!("not an echo answer: {error}");
            user.set_failure(&tag, &mut goose.request, None, Some(&body))
        }
    }
}
