//! Stored records (protobuf via prost derive): delta records, snapshot shards and meta.
//!
//! Protobuf keeps the records compact and fast to decode, and forward-compatible: a field
//! added later is ignored by older readers. Tags are part of the storage format (`v1/`):
//! never renumber them.

use prost::Message;

use crate::aggregate::GaugeMode;
use crate::model::{
    Bucket, HistogramValue, Labels, MetricType, Quantile, SampleValue, SummaryValue,
};

use super::state::{FamilyMeta, StoredSeries};
use super::EngineError;

/// A label pair.
#[derive(Clone, PartialEq, Message)]
pub struct PbLabel {
    /// Label name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Label value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// A value of any type.
#[derive(Clone, PartialEq, Message)]
pub struct PbValue {
    /// [`MetricType`] as a number (see [`type_code`]).
    #[prost(int32, tag = "1")]
    pub kind: i32,
    /// Counter, gauge or untyped value.
    #[prost(double, tag = "2")]
    pub value: f64,
    /// Histogram bucket bounds or summary quantile ranks.
    #[prost(double, repeated, tag = "3")]
    pub keys: Vec<f64>,
    /// Histogram cumulative counts or summary quantile values.
    #[prost(double, repeated, tag = "4")]
    pub values: Vec<f64>,
    /// Histogram or summary sum.
    #[prost(double, tag = "5")]
    pub sum: f64,
    /// Histogram or summary count.
    #[prost(double, tag = "6")]
    pub count: f64,
}

/// One series, as pushed (in a delta) or as stored (in a shard).
#[derive(Clone, PartialEq, Message)]
pub struct PbSeries {
    /// Family name.
    #[prost(string, tag = "1")]
    pub family: String,
    /// Sorted labels.
    #[prost(message, repeated, tag = "2")]
    pub labels: Vec<PbLabel>,
    /// The value.
    #[prost(message, optional, tag = "3")]
    pub value: Option<PbValue>,
    /// `_created`, seconds.
    #[prost(double, optional, tag = "4")]
    pub created: Option<f64>,
    /// [`GaugeMode`] as a number.
    #[prost(int32, tag = "5")]
    pub gauge_mode: i32,
    /// Canonical grouping key of the Pushgateway group that pushed it last.
    #[prost(string, optional, tag = "6")]
    pub group: Option<String>,
    /// Last update, ms since the epoch.
    #[prost(int64, tag = "7")]
    pub updated_ms: i64,
    /// Expiry after the last update, ms.
    #[prost(int64, optional, tag = "8")]
    pub ttl_ms: Option<i64>,
    /// In a delta: the write named no gauge mode, so a stored series keeps its own
    /// (`gauge_mode` is then only the mode of a series the delta creates).
    #[prost(bool, tag = "9")]
    pub keeps_stored_mode: bool,
}

/// Family metadata.
#[derive(Clone, PartialEq, Message)]
pub struct PbFamily {
    /// Family name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// [`MetricType`] as a number.
    #[prost(int32, tag = "2")]
    pub kind: i32,
    /// HELP text.
    #[prost(string, optional, tag = "3")]
    pub help: Option<String>,
    /// UNIT.
    #[prost(string, optional, tag = "4")]
    pub unit: Option<String>,
}

/// Which series a delete removes.
#[derive(Clone, PartialEq, Message)]
pub struct PbSelector {
    /// Family to match; empty = every family.
    #[prost(string, tag = "1")]
    pub family: String,
    /// Labels that must all match.
    #[prost(message, repeated, tag = "2")]
    pub labels: Vec<PbLabel>,
    /// Canonical grouping key: match series of this Pushgateway group only.
    #[prost(string, optional, tag = "3")]
    pub group: Option<String>,
}

/// One operation of a delta.
#[derive(Clone, PartialEq, Message)]
pub struct PbOp {
    /// Families' metadata introduced or updated by a push.
    #[prost(message, repeated, tag = "1")]
    pub families: Vec<PbFamily>,
    /// Series to merge.
    #[prost(message, repeated, tag = "2")]
    pub series: Vec<PbSeries>,
    /// Series to delete (applied before `series`).
    #[prost(message, optional, tag = "3")]
    pub delete: Option<PbSelector>,
}

/// A delta record: everything one accepted request changes.
#[derive(Clone, PartialEq, Message)]
pub struct PbDelta {
    /// Arrival time, ms since the epoch: the apply order.
    #[prost(int64, tag = "1")]
    pub ts_ms: i64,
    /// The operations, in order.
    #[prost(message, repeated, tag = "2")]
    pub ops: Vec<PbOp>,
}

impl PbDelta {
    /// True for a push or PATCH (it carries series), false for a delete.
    pub fn carries_series(&self) -> bool {
        self.ops.iter().any(|op| !op.series.is_empty())
    }
}

/// A snapshot shard.
#[derive(Clone, PartialEq, Message)]
pub struct PbShard {
    /// The series of this shard.
    #[prost(message, repeated, tag = "1")]
    pub series: Vec<PbSeries>,
    /// Ids of deltas applied here whose keys may still exist.
    #[prost(string, repeated, tag = "2")]
    pub applied: Vec<String>,
}

/// An idempotency-ledger entry.
#[derive(Clone, PartialEq, Message)]
pub struct PbIdem {
    /// The delta id (`i/<hex>`).
    #[prost(string, tag = "1")]
    pub id: String,
    /// When it was applied, ms.
    #[prost(int64, tag = "2")]
    pub applied_ms: i64,
}

/// A series removed since the last successful remote_write (it gets a staleness marker).
#[derive(Clone, PartialEq, Message)]
pub struct PbStale {
    /// Family name.
    #[prost(string, tag = "1")]
    pub family: String,
    /// Family type.
    #[prost(int32, tag = "2")]
    pub kind: i32,
    /// Labels.
    #[prost(message, repeated, tag = "3")]
    pub labels: Vec<PbLabel>,
    /// Histogram bucket bounds (to mark every `_bucket` series stale).
    #[prost(double, repeated, tag = "4")]
    pub bounds: Vec<f64>,
    /// Summary quantiles.
    #[prost(double, repeated, tag = "5")]
    pub quantiles: Vec<f64>,
}

/// Store-wide metadata, written by the folder.
#[derive(Clone, PartialEq, Message)]
pub struct PbMeta {
    /// Number of shards (fixed per store).
    #[prost(uint32, tag = "1")]
    pub shards: u32,
    /// Family registry.
    #[prost(message, repeated, tag = "2")]
    pub families: Vec<PbFamily>,
    /// Idempotency ledger.
    #[prost(message, repeated, tag = "3")]
    pub idempotency: Vec<PbIdem>,
    /// Series removed, awaiting staleness markers.
    #[prost(message, repeated, tag = "4")]
    pub stale: Vec<PbStale>,
    /// Series dropped by folds because of conflicting concurrent definitions.
    #[prost(uint64, tag = "5")]
    pub fold_conflicts: u64,
    /// Time of the last fold, ms.
    #[prost(int64, tag = "6")]
    pub last_fold_ms: i64,
    /// Remote-write state: last success, ms.
    #[prost(int64, tag = "7")]
    pub rw_last_success_ms: i64,
    /// Remote-write state: samples sent in total.
    #[prost(uint64, tag = "8")]
    pub rw_samples_total: u64,
    /// Remote-write state: failures by reason.
    #[prost(message, repeated, tag = "9")]
    pub rw_failures: Vec<PbLabelCount>,
    /// Remote-write state: last run's duration, seconds.
    #[prost(double, tag = "10")]
    pub rw_last_duration_s: f64,
    /// Remote-write state: last error message.
    #[prost(string, tag = "11")]
    pub rw_last_error: String,
    /// Series stored after the last fold.
    #[prost(uint64, tag = "12")]
    pub series_count: u64,
    /// Remote-write state: time of the last error, ms.
    #[prost(int64, tag = "13")]
    pub rw_last_error_ms: i64,
    /// Write requests carrying series (pushes, PATCH) applied by folds, in total.
    #[prost(uint64, tag = "14")]
    pub pushes_total: u64,
    /// Identifies the rendered expositions written with the shards (0 = none; see
    /// `engine::rendered`): a reader uses a rendered chunk only when its tag is this one.
    #[prost(uint64, tag = "15")]
    pub render_tag: u64,
    /// The rendered expositions' layout, one per format (text 0.0.4, OpenMetrics).
    #[prost(message, repeated, tag = "16")]
    pub renders: Vec<PbRender>,
    /// Families with series after the last fold (the self-metric read with the renders).
    #[prost(uint64, tag = "17")]
    pub family_count: u64,
}

/// Where one rendered exposition is stored and where the gateway's own families go in it.
#[derive(Clone, PartialEq, Message)]
pub struct PbRender {
    /// The format's key segment (`text`, `om`).
    #[prost(string, tag = "1")]
    pub format: String,
    /// Number of chunks (`v1/r/<format>/000`…).
    #[prost(uint32, tag = "2")]
    pub chunks: u32,
    /// Total length in bytes.
    #[prost(uint64, tag = "3")]
    pub len: u64,
    /// Byte offset where the families sorting after `promagg_` begin.
    #[prost(uint64, tag = "4")]
    pub splice_at: u64,
}

/// A counter keyed by a reason.
#[derive(Clone, PartialEq, Message)]
pub struct PbLabelCount {
    /// The reason.
    #[prost(string, tag = "1")]
    pub reason: String,
    /// How many times.
    #[prost(uint64, tag = "2")]
    pub count: u64,
}

/// The storage number of a metric type.
pub fn type_code(t: MetricType) -> i32 {
    match t {
        MetricType::Counter => 1,
        MetricType::Gauge => 2,
        MetricType::Histogram => 3,
        MetricType::Summary => 4,
        MetricType::Untyped => 5,
    }
}

/// The metric type of a storage number.
pub fn type_from_code(c: i32) -> Result<MetricType, EngineError> {
    Ok(match c {
        1 => MetricType::Counter,
        2 => MetricType::Gauge,
        3 => MetricType::Histogram,
        4 => MetricType::Summary,
        5 => MetricType::Untyped,
        other => {
            return Err(EngineError::Corrupt(format!(
                "unknown metric type code {other}"
            )))
        }
    })
}

/// The storage number of a gauge mode.
pub fn mode_code(m: GaugeMode) -> i32 {
    match m {
        GaugeMode::Sum => 0,
        GaugeMode::Last => 1,
        GaugeMode::Max => 2,
        GaugeMode::Min => 3,
    }
}

/// The gauge mode of a storage number.
pub fn mode_from_code(c: i32) -> Result<GaugeMode, EngineError> {
    Ok(match c {
        0 => GaugeMode::Sum,
        1 => GaugeMode::Last,
        2 => GaugeMode::Max,
        3 => GaugeMode::Min,
        other => {
            return Err(EngineError::Corrupt(format!(
                "unknown gauge mode code {other}"
            )))
        }
    })
}

/// Encodes labels.
pub fn labels_to_pb(labels: &Labels) -> Vec<PbLabel> {
    labels
        .pairs()
        .iter()
        .map(|(name, value)| PbLabel {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

/// Decodes labels (validated when written; re-sorted defensively).
pub fn labels_from_pb(pb: Vec<PbLabel>) -> Result<Labels, EngineError> {
    Labels::new(pb.into_iter().map(|l| (l.name, l.value)).collect())
        .map_err(|e| EngineError::Corrupt(format!("stored labels: {e}")))
}

/// Encodes a value.
pub fn value_to_pb(v: &SampleValue) -> PbValue {
    let mut pb = PbValue {
        kind: type_code(crate::aggregate::type_of(v)),
        ..PbValue::default()
    };
    match v {
        SampleValue::Counter(x) | SampleValue::Gauge(x) | SampleValue::Untyped(x) => pb.value = *x,
        SampleValue::Histogram(h) => {
            pb.keys = h.buckets.iter().map(|b| b.upper_bound).collect();
            pb.values = h.buckets.iter().map(|b| b.cumulative_count).collect();
            pb.sum = h.sum;
            pb.count = h.count;
        }
        SampleValue::Summary(s) => {
            pb.keys = s.quantiles.iter().map(|q| q.quantile).collect();
            pb.values = s.quantiles.iter().map(|q| q.value).collect();
            pb.sum = s.sum;
            pb.count = s.count;
        }
    }
    pb
}

/// Decodes a value.
pub fn value_from_pb(pb: PbValue) -> Result<SampleValue, EngineError> {
    if pb.keys.len() != pb.values.len() {
        return Err(EngineError::Corrupt(
            "value keys and values differ in length".into(),
        ));
    }
    Ok(match type_from_code(pb.kind)? {
        MetricType::Counter => SampleValue::Counter(pb.value),
        MetricType::Gauge => SampleValue::Gauge(pb.value),
        MetricType::Untyped => SampleValue::Untyped(pb.value),
        MetricType::Histogram => SampleValue::Histogram(HistogramValue {
            buckets: pb
                .keys
                .iter()
                .zip(&pb.values)
                .map(|(&upper_bound, &cumulative_count)| Bucket {
                    upper_bound,
                    cumulative_count,
                })
                .collect(),
            sum: pb.sum,
            count: pb.count,
        }),
        MetricType::Summary => SampleValue::Summary(SummaryValue {
            quantiles: pb
                .keys
                .iter()
                .zip(&pb.values)
                .map(|(&quantile, &value)| Quantile { quantile, value })
                .collect(),
            sum: pb.sum,
            count: pb.count,
        }),
    })
}

/// Encodes a stored series.
pub fn series_to_pb(s: &StoredSeries) -> PbSeries {
    PbSeries {
        family: s.family.clone(),
        labels: labels_to_pb(&s.labels),
        value: Some(value_to_pb(&s.value)),
        created: s.created,
        gauge_mode: mode_code(s.gauge_mode),
        group: s.group.clone(),
        updated_ms: s.updated_ms,
        ttl_ms: s.ttl_ms,
        keeps_stored_mode: false,
    }
}

/// Decodes a stored series.
pub fn series_from_pb(pb: PbSeries) -> Result<StoredSeries, EngineError> {
    let value = pb
        .value
        .ok_or_else(|| EngineError::Corrupt("series without a value".into()))?;
    Ok(StoredSeries {
        family: pb.family,
        labels: labels_from_pb(pb.labels)?,
        value: value_from_pb(value)?,
        created: pb.created,
        gauge_mode: mode_from_code(pb.gauge_mode)?,
        group: pb.group,
        updated_ms: pb.updated_ms,
        ttl_ms: pb.ttl_ms,
    })
}

/// Encodes family metadata.
pub fn family_to_pb(name: &str, f: &FamilyMeta) -> PbFamily {
    PbFamily {
        name: name.to_string(),
        kind: type_code(f.kind),
        help: f.help.clone(),
        unit: f.unit.clone(),
    }
}

/// Decodes family metadata.
pub fn family_from_pb(pb: PbFamily) -> Result<(String, FamilyMeta), EngineError> {
    Ok((
        pb.name,
        FamilyMeta {
            kind: type_from_code(pb.kind)?,
            help: pb.help,
            unit: pb.unit,
        },
    ))
}

/// Decodes any record, naming the key in the error.
pub fn decode<M: Message + Default>(key: &str, bytes: &[u8]) -> Result<M, EngineError> {
    M::decode(bytes).map_err(|e| EngineError::Corrupt(format!("{key}: {e}")))
}
