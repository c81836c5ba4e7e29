//! The gateway's own metrics, appended to `GET /metrics` as ordinary families.
//!
//! None of them costs a write on the success path: series and family counts come from the
//! merged view, pushes are counted by the fold in the `v1/meta` write it makes anyway, and
//! remote-write state is kept there by the pusher. Only a rejected request costs one
//! `increment` of `v1/stat/rejected/<reason>`, where the backend has `increment`. User
//! pushes may not use the `promagg_` prefix (the engine refuses them), so nothing collides.

use crate::engine::io::increment_retrying;
use crate::engine::keys;
use crate::engine::record::PbMeta;
use crate::engine::rendered::Stored;
use crate::engine::EngineConfig;
use crate::model::{Labels, MetricFamily, MetricType, SampleValue, Series};
use crate::store::Store;

use super::overview::Overview;
use super::ApiError;

fn family(name: &str, kind: MetricType, help: &str, series: Vec<(Labels, f64)>) -> MetricFamily {
    MetricFamily {
        name: name.to_string(),
        kind,
        help: Some(help.to_string()),
        unit: None,
        series: series
            .into_iter()
            .map(|(labels, v)| Series {
                labels,
                value: match kind {
                    MetricType::Counter => SampleValue::Counter(v),
                    _ => SampleValue::Gauge(v),
                },
                timestamp_ms: None,
                created: None,
            })
            .collect(),
    }
}

fn one(v: f64) -> Vec<(Labels, f64)> {
    vec![(Labels::empty(), v)]
}

fn by_reason<'a>(counts: impl Iterator<Item = (&'a str, u64)>) -> Vec<(Labels, f64)> {
    counts
        .map(|(reason, n)| {
            // A stored reason that is not a valid label value cannot occur (the keys are
            // written from our own reason names), but a corrupt one is skipped, not fatal.
            let labels = Labels::new(vec![("reason".to_string(), reason.to_string())])
                .unwrap_or_else(|_| Labels::empty());
            (labels, n as f64)
        })
        .collect()
}

/// The figures the self-metrics show, from one read of the store.
#[derive(Debug, Clone, Copy)]
pub struct Stats<'a> {
    /// Store metadata.
    pub meta: &'a PbMeta,
    /// Series stored, pending writes included.
    pub series: usize,
    /// Families with series, pending writes included.
    pub families: usize,
    /// Writes waiting for the next fold.
    pub pending: usize,
    /// Accepted writes carrying series, pending ones included.
    pub pushes_total: u64,
    /// Rejected requests by reason.
    pub rejections: &'a [(String, u64)],
}

impl<'a> Stats<'a> {
    /// The figures of a full read (`user_families`: families in the merged view).
    pub fn of(o: &'a Overview, user_families: usize) -> Self {
        Stats {
            meta: &o.meta,
            series: o.state.series_count(),
            families: user_families,
            pending: o.pending,
            pushes_total: o.pushes_total(),
            rejections: &o.rejections,
        }
    }

    /// The figures of a read of the stored exposition: nothing was pending, so the last
    /// fold's counts are current.
    pub fn of_stored(s: &'a Stored) -> Self {
        Stats {
            meta: &s.meta,
            series: s.meta.series_count as usize,
            families: s.meta.family_count as usize,
            pending: 0,
            pushes_total: s.meta.pushes_total,
            rejections: &s.rejections,
        }
    }
}

/// The self-metric families for one read of the store.
pub fn families(o: &Stats<'_>) -> Vec<MetricFamily> {
    use MetricType::{Counter, Gauge};
    let m = o.meta;
    vec![
        family(
            "promagg_series",
            Gauge,
            "Series stored, pending writes included.",
            one(o.series as f64),
        ),
        family(
            "promagg_families",
            Gauge,
            "Metric families stored, pending writes included.",
            one(o.families as f64),
        ),
        family(
            "promagg_pending_writes",
            Gauge,
            "Accepted writes waiting for the next fold.",
            one(o.pending as f64),
        ),
        family(
            "promagg_fold_conflicts_total",
            Counter,
            "Series dropped by folds because concurrent writes defined them incompatibly.",
            one(m.fold_conflicts as f64),
        ),
        family(
            "promagg_last_fold_timestamp_seconds",
            Gauge,
            "Unix time of the last fold (0 = never).",
            one(m.last_fold_ms as f64 / 1000.0),
        ),
        family(
            "promagg_pushes_total",
            Counter,
            "Accepted write requests carrying series (pushes and PATCH increments).",
            one(o.pushes_total as f64),
        ),
        family(
            "promagg_rejections_total",
            Counter,
            "Refused requests (4xx) by reason.",
            by_reason(o.rejections.iter().map(|(r, n)| (r.as_str(), *n))),
        ),
        family(
            "promagg_remote_write_last_success_timestamp_seconds",
            Gauge,
            "Unix time of the last successful remote_write run (0 = never).",
            one(m.rw_last_success_ms as f64 / 1000.0),
        ),
        family(
            "promagg_remote_write_samples_total",
            Counter,
            "Samples sent to remote_write.",
            one(m.rw_samples_total as f64),
        ),
        family(
            "promagg_remote_write_failures_total",
            Counter,
            "Failed remote_write runs by reason.",
            by_reason(m.rw_failures.iter().map(|f| (f.reason.as_str(), f.count))),
        ),
        family(
            "promagg_remote_write_duration_seconds",
            Gauge,
            "Duration of the last remote_write run.",
            one(m.rw_last_duration_s),
        ),
    ]
}

/// Counts a refused request under its reason: one `increment` where the backend has it
/// (never on the success path). Best effort: a store failure here does not change the answer.
pub fn record_rejection<S: Store>(store: &S, cfg: &EngineConfig, err: &ApiError) {
    if !err.is_rejection() || !cfg.backend.has_increment() {
        return;
    }
    let _ = increment_retrying(store, &keys::rejected_key(err.reason), 1);
}
