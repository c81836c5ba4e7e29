//! Example: an order service that records its metrics into promagg by calling the
//! `promagg:gateway/ingest` interface (`wit/promagg-gateway`) instead of pushing over HTTP.
//! Spin plugs promagg's `ingest` component in as a component dependency (see `spin.toml`
//! here); the values land in the gateway's store and are served on its `GET /metrics`.
//!
//! `POST /orders?plan=pro&value=42` records one order: a counter increment, a gauge, a
//! histogram observation, and one text-format line, one call each.
//!
//! The crate is empty on other targets, so native workspace builds need not exclude it.
#![cfg(target_arch = "wasm32")]

use anyhow::Result;
use spin_sdk::http::{IntoResponse, Method, Request, Response};
use spin_sdk::http_component;

wit_bindgen::generate!({
    path: "../../wit/promagg-gateway",
    world: "ingest-client",
});

use promagg::gateway::ingest::{self, Label};

/// Upper bounds of the order-value histogram, in dollars.
const VALUE_BOUNDS: [f64; 3] = [10.0, 100.0, 1000.0];

fn query_param(req: &Request, name: &str) -> Option<String> {
    req.query()
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
        .map(str::to_string)
}

fn describe(e: &ingest::Error) -> (u16, String) {
    match e {
        ingest::Error::Invalid(m) => (400, m.clone()),
        ingest::Error::Conflict(m) => (409, m.clone()),
        ingest::Error::TooLarge(m) => (413, m.clone()),
        ingest::Error::Unavailable(m) => (503, m.clone()),
    }
}

/// Records one order; answers what was recorded, or the refusal.
fn record_order(plan: &str, value: f64) -> Result<String, ingest::Error> {
    let plan_label = || {
        vec![Label {
            name: "plan".into(),
            value: plan.into(),
        }]
    };
    ingest::counter_add("orders_total", &plan_label(), 1.0)?;
    ingest::gauge_set("orders_last_value_dollars", &plan_label(), value)?;
    ingest::histogram_observe("orders_value_dollars", &plan_label(), &VALUE_BOUNDS, value)?;
    let series =
        ingest::push_text("# TYPE orders_batches_total counter\norders_batches_total 1\n")?;
    Ok(format!(
        "recorded an order of {value} on plan {plan} (and {series} text series)\n"
    ))
}

/// `POST /orders?plan=<plan>&value=<dollars>`.
#[http_component]
fn handle(req: Request) -> Result<impl IntoResponse> {
    if *req.method() != Method::Post {
        return Ok(Response::new(
            405,
            "POST /orders?plan=<plan>&value=<dollars>\n",
        ));
    }
    let plan = query_param(&req, "plan").unwrap_or_else(|| "free".into());
    let Some(value) = query_param(&req, "value").and_then(|v| v.parse::<f64>().ok()) else {
        return Ok(Response::new(
            400,
            "query parameter value must be a number\n",
        ));
    };
    Ok(match record_order(&plan, value) {
        Ok(text) => Response::new(200, text),
        Err(e) => {
            let (status, message) = describe(&e);
            Response::new(status, format!("{message}\n"))
        }
    })
}
