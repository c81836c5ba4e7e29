//! Accepting writes: validate against stored state, then write one delta record.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use prost::Message;

use crate::aggregate::{self, AggregateError, GaugeMode};
use crate::limits::{LimitError, Limits};
use crate::model::{Labels, MetricFamily, MetricType, SampleValue, Series};
use crate::store::Store;

use super::io::get_all;
use super::keys::{self, META};
use super::record::{
    decode, family_from_pb, labels_to_pb, series_to_pb, type_code, PbDelta, PbFamily, PbMeta, PbOp,
    PbSelector, PbSeries, PbShard,
};
use super::state::{shard_of, StoredSeries};
use super::view::{load, shard_count};
use super::{EngineConfig, EngineError};

/// Pushgateway's per-group timestamp series.
pub const PUSH_TIME: &str = "push_time_seconds";
/// Pushgateway's per-group failure timestamp series.
pub const PUSH_FAILURE_TIME: &str = "push_failure_time_seconds";
/// Prefix of the gateway's own metrics, which pushes may not use (no collision on `/metrics`).
pub const SELF_METRIC_PREFIX: &str = "promagg_";

/// One write request, parsed and validated by the caller's parser.
#[derive(Debug, Clone, PartialEq)]
pub struct PushRequest {
    /// The pushed families.
    pub families: Vec<MetricFamily>,
    /// How gauges and untyped series combine.
    pub gauge_mode: GaugeChoice,
    /// Pushgateway grouping labels (path API), set on every series.
    pub group: Option<Labels>,
    /// Expiry of the pushed series after their last update, ms (0 = never).
    pub ttl_ms: Option<i64>,
    /// TTLs by metric-name prefix, used when `ttl_ms` is unset (the longest prefix wins; an
    /// empty prefix is the default).
    pub ttl_by_prefix: Vec<(String, i64)>,
    /// The request's `Idempotency-Key`.
    pub idempotency_key: Option<String>,
    /// Arrival time, ms since the epoch.
    pub now_ms: i64,
    /// A random number making the delta key unique.
    pub nonce: u64,
}

/// The gauge mode a write asks for.
///
/// A series' mode is fixed by the push that creates it: only a push that names another mode is
/// refused, a push that names none combines the way the series already does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GaugeChoice {
    /// This mode; a stored series with another one refuses the write (409).
    Asked(GaugeMode),
    /// Each stored series' own mode, and this one for the series the write creates.
    StoredOr(GaugeMode),
}

impl GaugeChoice {
    /// The mode of a series the write creates.
    pub fn for_new(self) -> GaugeMode {
        match self {
            GaugeChoice::Asked(m) | GaugeChoice::StoredOr(m) => m,
        }
    }

    /// True when the write named its mode.
    pub fn is_asked(self) -> bool {
        matches!(self, GaugeChoice::Asked(_))
    }
}

impl From<GaugeMode> for GaugeChoice {
    fn from(mode: GaugeMode) -> Self {
        GaugeChoice::Asked(mode)
    }
}

/// What a write did, relative to the stored state it was checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PushReport {
    /// Series that did not exist.
    pub created: usize,
    /// Series that existed.
    pub updated: usize,
    /// True when the `Idempotency-Key` was already applied: nothing was written.
    pub replayed: bool,
}

/// Which series a delete removes.
#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    /// Every series.
    All,
    /// The series of `family` whose labels include all of `labels`.
    Family(String, Labels),
    /// The series pushed to a Pushgateway group (grouping labels, `instance=""` added when absent).
    Group(Labels),
}

/// The canonical key of a grouping-label set, with `instance=""` added when absent.
pub fn group_key(group: &Labels) -> (Labels, String) {
    let mut labels = group.clone();
    if labels.get("instance").is_none() {
        labels.set("instance", "");
    }
    let mut key = String::new();
    labels.write_canonical(&mut key);
    (labels, key)
}

/// A pushed series' labels in a group, as Pushgateway's `sanitizeLabels` makes them: the
/// grouping labels replace the body's values, then `instance=""` is added only when the series
/// still has no `instance` (so a body's `instance` survives a path without one).
fn grouped_labels(series: &Labels, group: &Labels) -> Labels {
    let mut labels = series.clone();
    for (n, v) in group.pairs() {
        labels.set(n, v);
    }
    if labels.get("instance").is_none() {
        labels.set("instance", "");
    }
    labels
}

/// Holds a series labelled with grouping labels to the limits its body was checked against:
/// the path can add labels, long names and long values after the body passed.
fn check_grouped(limits: &Limits, family: &str, labels: Labels) -> Result<Labels, LimitError> {
    let mut probe = MetricFamily::new(family, MetricType::Untyped);
    probe.series.push(Series {
        labels,
        // check_request reads names and labels only; the value is never looked at.
        value: SampleValue::Untyped(0.0),
        timestamp_ms: None,
        created: None,
    });
    limits.check_request(std::slice::from_mut(&mut probe))?;
    Ok(probe.series.pop().map(|s| s.labels).unwrap_or_default())
}

fn check_idempotency_key(k: &str) -> Result<(), EngineError> {
    // Hex-encoded under `v1/i/`, 100 characters make a 205-byte key: inside the 256 bytes
    // every Spin store guarantees (and Fermyon Cloud's 255).
    if k.is_empty() || k.len() > 100 || !k.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(EngineError::InvalidIdempotencyKey(
            "must be 1 to 100 visible ASCII characters".into(),
        ));
    }
    Ok(())
}

/// The TTL a series of family `name` gets: the request's own, else the longest matching prefix
/// rule's; `Some(0)` when the chosen one is 0 (never expires: it also clears a stored TTL),
/// `None` when neither applies (a stored TTL is kept).
pub fn ttl_for(req: &PushRequest, name: &str) -> Option<i64> {
    req.ttl_ms
        .or_else(|| {
            req.ttl_by_prefix
                .iter()
                .filter(|(p, _)| name.starts_with(p.as_str()))
                .max_by_key(|(p, _)| p.len())
                .map(|(_, t)| *t)
        })
        .map(|t| t.max(0))
}

/// The TTL of a group's bookkeeping series: the longest of the pushed series' (`Some(0)`,
/// never, when one of them has no finite TTL), so they expire with the group's series instead
/// of outliving them; a push of no series uses the rules for the bookkeeping series' own name.
fn bookkeeping_ttl(
    req: &PushRequest,
    pushed: &[(StoredSeries, MetricType)],
    name: &str,
) -> Option<i64> {
    if pushed.is_empty() {
        return ttl_for(req, name);
    }
    let longest = pushed.iter().try_fold(0, |longest, (s, _)| match s.ttl_ms {
        Some(t) if t > 0 => Some(longest.max(t)),
        _ => None,
    });
    Some(longest.unwrap_or(0))
}

/// Turns the request into stored-series form, applying grouping labels and push-time series.
fn incoming_series(
    req: &PushRequest,
    limits: &Limits,
) -> Result<Vec<(StoredSeries, MetricType)>, EngineError> {
    let group = req.group.as_ref().map(group_key);
    if let Some((labels, _)) = &group {
        // The group's own push-time series: only its labels are the client's, not its name.
        check_grouped(limits, "", labels.clone())?;
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for fam in &req.families {
        if fam.name.starts_with(SELF_METRIC_PREFIX) {
            return Err(EngineError::BadRequest(format!(
                "metric family {}: names starting with {SELF_METRIC_PREFIX} are reserved for the gateway's own metrics",
                fam.name
            )));
        }
        if group.is_some() && (fam.name == PUSH_TIME || fam.name == PUSH_FAILURE_TIME) {
            return Err(EngineError::BadRequest(format!(
                "pushed metrics must not include {}: the gateway maintains it per group",
                fam.name
            )));
        }
        for s in &fam.series {
            let labels = match &req.group {
                Some(g) => check_grouped(limits, &fam.name, grouped_labels(&s.labels, g))?,
                None => s.labels.clone(),
            };
            let key = labels.series_key(&fam.name);
            aggregate::validate_increment(&s.value, &key)?;
            if aggregate::type_of(&s.value) != fam.kind {
                return Err(EngineError::BadRequest(format!(
                    "{key}: value is not a {}",
                    fam.kind
                )));
            }
            if !seen.insert(key.clone()) {
                return Err(EngineError::BadRequest(format!(
                    "duplicate series {key} in one request (after applying grouping labels)"
                )));
            }
            let gauge_mode = match fam.kind {
                MetricType::Gauge | MetricType::Untyped => req.gauge_mode.for_new(),
                _ => GaugeMode::Sum,
            };
            out.push((
                StoredSeries {
                    family: fam.name.clone(),
                    labels,
                    value: s.value.clone(),
                    created: s.created,
                    gauge_mode,
                    group: group.as_ref().map(|(_, k)| k.clone()),
                    updated_ms: req.now_ms,
                    ttl_ms: ttl_for(req, &fam.name),
                },
                fam.kind,
            ));
        }
    }
    if let Some((labels, key)) = &group {
        let pushed = out.len();
        for (name, value) in [
            (PUSH_TIME, req.now_ms as f64 / 1000.0),
            (PUSH_FAILURE_TIME, 0.0),
        ] {
            let ttl_ms = bookkeeping_ttl(req, &out[..pushed], name);
            out.push((
                StoredSeries {
                    family: name.to_string(),
                    labels: labels.clone(),
                    value: SampleValue::Gauge(value),
                    created: None,
                    gauge_mode: GaugeMode::Max,
                    group: Some(key.clone()),
                    updated_ms: req.now_ms,
                    ttl_ms,
                },
                MetricType::Gauge,
            ));
        }
    }
    Ok(out)
}

fn family_records(req: &PushRequest) -> Vec<PbFamily> {
    let mut fams: Vec<PbFamily> = req
        .families
        .iter()
        .map(|f| PbFamily {
            name: f.name.clone(),
            kind: type_code(f.kind),
            help: f.help.clone(),
            unit: f.unit.clone(),
        })
        .collect();
    if req.group.is_some() {
        for (name, help) in [
            (
                PUSH_TIME,
                "Last Unix time when changing this group in the Pushgateway succeeded.",
            ),
            (
                PUSH_FAILURE_TIME,
                "Last Unix time when changing this group in the Pushgateway failed.",
            ),
        ] {
            fams.push(PbFamily {
                name: name.to_string(),
                kind: type_code(MetricType::Gauge),
                help: Some(help.to_string()),
                unit: None,
            });
        }
    }
    fams
}

fn check_backlog<S: Store>(store: &S, cfg: &EngineConfig) -> Result<(), EngineError> {
    if cfg.max_pending_deltas >= 1_000_000 {
        return Ok(());
    }
    let pending = store
        .list_keys()?
        .iter()
        .filter(|k| keys::is_delta(k))
        .count();
    if pending >= cfg.max_pending_deltas {
        return Err(EngineError::Backlog {
            pending,
            limit: cfg.max_pending_deltas,
        });
    }
    Ok(())
}

/// Validates a write against the stored state and writes it as one delta record.
///
/// Cost: one read of `v1/meta` and the touched shards (one `get-many` on SQLite), and exactly
/// one changing write. Nothing is written when any check fails.
pub fn push<S: Store>(
    store: &S,
    cfg: &EngineConfig,
    req: &PushRequest,
) -> Result<PushReport, EngineError> {
    if let Some(k) = &req.idempotency_key {
        check_idempotency_key(k)?;
    }
    let incoming = incoming_series(req, &cfg.limits)?;

    // Read meta and every shard a pushed series lives in.
    let meta_bytes = store.get(META)?;
    let meta: PbMeta = match &meta_bytes {
        Some(b) => decode(META, b)?,
        None => PbMeta::default(),
    };
    let delta_key = match &req.idempotency_key {
        Some(k) => {
            let key = keys::idem_key(k);
            if meta.idempotency.iter().any(|e| e.id == key) {
                return Ok(PushReport {
                    replayed: true,
                    ..PushReport::default()
                });
            }
            key
        }
        None => keys::delta_key(req.now_ms, req.nonce),
    };
    let n = shard_count(&meta, cfg);
    let registry: BTreeMap<String, MetricType> = meta
        .families
        .iter()
        .map(|f| family_from_pb(f.clone()).map(|(name, fm)| (name, fm.kind)))
        .collect::<Result<_, _>>()?;
    let shard_ids: BTreeSet<usize> = incoming
        .iter()
        .filter(|(s, _)| registry.contains_key(&s.family))
        .map(|(s, _)| shard_of(&s.key(), n))
        .collect();
    let shard_keys: Vec<String> = shard_ids.iter().map(|&i| keys::shard_key(i)).collect();
    let values = get_all(store, cfg.backend, &shard_keys)?;
    let mut shards: BTreeMap<usize, BTreeMap<String, StoredSeries>> = BTreeMap::new();
    for ((i, key), value) in shard_ids.iter().zip(&shard_keys).zip(values) {
        let mut series = BTreeMap::new();
        if let Some(bytes) = value {
            let pb: PbShard = decode(key, &bytes)?;
            for s in pb.series {
                let s = super::record::series_from_pb(s)?;
                series.insert(s.key(), s);
            }
        }
        shards.insert(*i, series);
    }

    // Check every series against what is stored.
    let mut report = PushReport::default();
    let mut new_families = BTreeSet::new();
    for (s, kind) in &incoming {
        match registry.get(&s.family) {
            Some(stored) if stored != kind => {
                return Err(AggregateError::TypeConflict {
                    family: s.family.clone(),
                    stored: *stored,
                    pushed: *kind,
                }
                .into())
            }
            Some(_) => {}
            None => {
                new_families.insert(s.family.as_str());
            }
        }
        let key = s.key();
        let stored = shards
            .get(&shard_of(&key, n))
            .and_then(|shard| shard.get(&key));
        match stored {
            Some(st) => {
                let mode = if req.gauge_mode.is_asked() {
                    s.gauge_mode
                } else {
                    st.gauge_mode
                };
                aggregate::check_merge(&st.value, st.gauge_mode, &s.value, mode, &s.family, &key)?;
                report.updated += 1;
            }
            None => report.created += 1,
        }
    }
    let limits = &cfg.limits;
    let total = meta.series_count as usize + report.created;
    if report.created > 0 && total > limits.max_total_series {
        return Err(LimitError::TooManyTotalSeries {
            got: total,
            limit: limits.max_total_series,
        }
        .into());
    }
    let families = registry.len() + new_families.len();
    if !new_families.is_empty() && families > limits.max_families {
        return Err(LimitError::TooManyFamilies {
            got: families,
            limit: limits.max_families,
        }
        .into());
    }
    check_backlog(store, cfg)?;

    let delta = PbDelta {
        ts_ms: req.now_ms,
        ops: vec![PbOp {
            families: family_records(req),
            series: incoming
                .iter()
                .map(|(s, _)| PbSeries {
                    keeps_stored_mode: !req.gauge_mode.is_asked(),
                    ..series_to_pb(s)
                })
                .collect(),
            delete: None,
        }],
    };
    store.set(&delta_key, &delta.encode_to_vec())?;
    Ok(report)
}

/// Removes the series a selector matches (as one delta record) and says how many there were.
///
/// A selector that matches nothing writes nothing.
pub fn delete<S: Store>(
    store: &S,
    cfg: &EngineConfig,
    selector: &Selector,
    now_ms: i64,
    nonce: u64,
) -> Result<usize, EngineError> {
    let sel = match selector {
        Selector::All => PbSelector::default(),
        Selector::Family(name, labels) => PbSelector {
            family: name.clone(),
            labels: labels_to_pb(labels),
            group: None,
        },
        Selector::Group(group) => {
            let (_, key) = group_key(group);
            PbSelector {
                family: String::new(),
                labels: Vec::new(),
                group: Some(key),
            }
        }
    };
    let count = load(store, cfg)?.into_merged()?.count_matching(&sel)?;
    if count == 0 {
        return Ok(0);
    }
    check_backlog(store, cfg)?;
    let delta = PbDelta {
        ts_ms: now_ms,
        ops: vec![PbOp {
            families: Vec::new(),
            series: Vec::new(),
            delete: Some(sel),
        }],
    };
    store.set(&keys::delta_key(now_ms, nonce), &delta.encode_to_vec())?;
    Ok(count)
}
