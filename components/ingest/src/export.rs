//! The `promagg:gateway/ingest` export: each call is one write through the gateway's engine.

use promagg::aggregate::GaugeMode;
use promagg::engine::{self, PushRequest};
use promagg::model::MetricFamily;
use promagg::parse::parse_body;
use promagg_spin::{config, kv::SpinStore, now_ms, random_u64};

use crate::exports::promagg::gateway::ingest::{Error, Guest, Label};
use crate::families::{self, InputError};
use crate::refusal::{kind, Kind};

/// The exported interface.
pub struct Ingest;

fn refused(status: u16, message: String) -> Error {
    match kind(status) {
        Kind::Invalid => Error::Invalid(message),
        Kind::Conflict => Error::Conflict(message),
        Kind::TooLarge => Error::TooLarge(message),
        Kind::Unavailable => Error::Unavailable(message),
    }
}

fn invalid(e: InputError) -> Error {
    Error::Invalid(e.to_string())
}

fn pairs(labels: Vec<Label>) -> Vec<(String, String)> {
    labels.into_iter().map(|l| (l.name, l.value)).collect()
}

/// Stores `families` as one write, the way the gateway stores a push.
fn record(mut families: Vec<MetricFamily>, gauge_mode: GaugeMode) -> Result<usize, Error> {
    let cfg =
        config::api_config().map_err(|e| Error::Unavailable(format!("configuration: {e:#}")))?;
    cfg.engine
        .limits
        .check_request(&mut families)
        .map_err(|e| {
            let message = e.to_string();
            refused(engine::EngineError::from(e).status(), message)
        })?;
    let store = SpinStore::open("default").map_err(|e| Error::Unavailable(e.to_string()))?;
    let series = families.iter().map(|f| f.series.len()).sum();
    let mut ttl_by_prefix = cfg.ttl_by_prefix.clone();
    if let Some(d) = cfg.default_ttl_ms {
        ttl_by_prefix.push((String::new(), d));
    }
    let request = PushRequest {
        families,
        gauge_mode: gauge_mode.into(),
        group: None,
        ttl_ms: None,
        ttl_by_prefix,
        idempotency_key: None,
        now_ms: now_ms(),
        nonce: random_u64(),
    };
    engine::push(&store, &cfg.engine, &request).map_err(|e| refused(e.status(), e.to_string()))?;
    Ok(series)
}

impl Guest for Ingest {
    fn counter_add(name: String, labels: Vec<Label>, amount: f64) -> Result<(), Error> {
        let family = families::counter(&name, pairs(labels), amount).map_err(invalid)?;
        record(vec![family], GaugeMode::Sum).map(drop)
    }

    fn gauge_set(name: String, labels: Vec<Label>, value: f64) -> Result<(), Error> {
        let family = families::gauge(&name, pairs(labels), value).map_err(invalid)?;
        record(vec![family], GaugeMode::Last).map(drop)
    }

    fn histogram_observe(
        name: String,
        labels: Vec<Label>,
        bounds: Vec<f64>,
        value: f64,
    ) -> Result<(), Error> {
        let family = families::histogram(&name, pairs(labels), &bounds, value).map_err(invalid)?;
        record(vec![family], GaugeMode::Sum).map(drop)
    }

    fn push_text(body: String) -> Result<u32, Error> {
        let limits = config::engine_config()
            .map_err(|e| Error::Unavailable(format!("configuration: {e:#}")))?
            .limits;
        let families = parse_body(
            Some("text/plain; version=0.0.4"),
            None,
            body.as_bytes(),
            &limits,
        )
        .map_err(|e| refused(e.status(), e.to_string()))?;
        let series = record(families, GaugeMode::Sum)?;
        Ok(u32::try_from(series).unwrap_or(u32::MAX))
    }
}
