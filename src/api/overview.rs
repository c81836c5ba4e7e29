//! What the read routes show, from one listing and one batch read of the store.
//!
//! `GET /metrics` (self-metrics), `GET /` and the JSON API all describe the same moment:
//! the merged aggregate (shards plus pending deltas, as the next fold will store it), the
//! folder's statistics in `v1/meta`, and the rejection counters.

use std::collections::{BTreeMap, HashSet};

use crate::engine::push::{PUSH_FAILURE_TIME, PUSH_TIME};
use crate::engine::record::PbMeta;
use crate::engine::state::{State, StoredSeries};
use crate::engine::{self, EngineConfig};
use crate::model::{Labels, SampleValue};
use crate::store::Store;

use super::ApiError;

/// One read of everything the status routes show.
#[derive(Debug, Clone)]
pub struct Overview {
    /// The folder's metadata (statistics, remote-write state).
    pub meta: PbMeta,
    /// Writes waiting for the next fold.
    pub pending: usize,
    /// Pending writes that carry series (pushes and PATCH), not yet counted in `meta`.
    pub pending_pushes: u64,
    /// Rejected requests by reason, sorted by reason.
    pub rejections: Vec<(String, u64)>,
    /// The merged aggregate.
    pub state: State,
}

/// A Pushgateway group: the series pushed under one grouping key.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Canonical grouping key (as stored on each series).
    pub key: String,
    /// The grouping labels (`job`, `instance` and any others).
    pub labels: Labels,
    /// Last successful push, seconds since the epoch (`push_time_seconds`).
    pub last_push_s: f64,
    /// Last failed push, seconds since the epoch (`push_failure_time_seconds`; 0 = never).
    pub last_failure_s: f64,
}

impl Group {
    /// Pushgateway's `last_push_successful`: no failure since the last success.
    pub fn last_push_successful(&self) -> bool {
        self.last_failure_s <= self.last_push_s
    }
}

fn scalar(v: &SampleValue) -> Option<f64> {
    match v {
        SampleValue::Counter(x) | SampleValue::Gauge(x) | SampleValue::Untyped(x) => Some(*x),
        SampleValue::Histogram(_) | SampleValue::Summary(_) => None,
    }
}

impl Overview {
    /// Reads the store once (one listing, one batch read where the backend has one).
    pub fn load<S: Store>(store: &S, cfg: &EngineConfig) -> Result<Self, ApiError> {
        Self::load_listed(store, cfg, None)
    }

    /// [`Overview::load`], starting from a listing the caller just made (`None`: list first).
    pub fn load_listed<S: Store>(
        store: &S,
        cfg: &EngineConfig,
        listing: Option<Vec<String>>,
    ) -> Result<Self, ApiError> {
        let mut snap = engine::view::load_listed(store, cfg, listing)?;
        let ledger: HashSet<String> = snap.ledger().into_iter().map(str::to_string).collect();
        let pending = snap.deltas.len();
        let pending_pushes = snap
            .deltas
            .iter()
            .filter(|(id, d)| !ledger.contains(id) && d.carries_series())
            .count() as u64;
        let meta = snap.meta.clone();
        let rejections = std::mem::take(&mut snap.rejections);
        Ok(Overview {
            meta,
            pending,
            pending_pushes,
            rejections,
            state: snap.into_merged()?,
        })
    }

    /// Pushes applied so far, pending ones included (a read never depends on folds).
    pub fn pushes_total(&self) -> u64 {
        self.meta.pushes_total + self.pending_pushes
    }

    /// The Pushgateway groups, from their `push_time_seconds` series, sorted by grouping labels.
    pub fn groups(&self) -> Vec<Group> {
        let mut by_key: BTreeMap<&str, Group> = BTreeMap::new();
        let mut failures: BTreeMap<&str, f64> = BTreeMap::new();
        for s in self.state.series() {
            let (Some(key), Some(v)) = (s.group.as_deref(), scalar(&s.value)) else {
                continue;
            };
            if s.family == PUSH_TIME {
                by_key.insert(
                    key,
                    Group {
                        key: key.to_string(),
                        labels: s.labels.clone(),
                        last_push_s: v,
                        last_failure_s: 0.0,
                    },
                );
            } else if s.family == PUSH_FAILURE_TIME {
                failures.insert(key, v);
            }
        }
        let mut groups: Vec<Group> = by_key
            .into_iter()
            .map(|(key, mut g)| {
                g.last_failure_s = failures.get(key).copied().unwrap_or(0.0);
                g
            })
            .collect();
        groups.sort_by(|a, b| a.labels.cmp(&b.labels));
        groups
    }

    /// Every stored series.
    pub fn series(&self) -> impl Iterator<Item = &StoredSeries> {
        self.state.series()
    }
}
