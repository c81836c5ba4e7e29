//! Varint-delimited `io.prometheus.client.MetricFamily` bodies, as Go's `client_golang`
//! push and Java's `client_java` push send them (`Content-Type: application/vnd.google.protobuf;
//! proto=io.prometheus.client.MetricFamily; encoding=delimited`).
//!
//! Messages and metrics are numbered from 1 in errors. Exemplars are dropped (the model
//! has none). Families without metrics are dropped, as the text parser drops a `# TYPE`
//! line with no samples. A family name that appears in two messages is merged into one
//! family when the type (and any HELP/unit) agrees.

use std::collections::HashMap;
use std::collections::HashSet;

use prost::Message as _;
use thiserror::Error;

use crate::model::{
    validate_metric_name, Bucket, HistogramValue, LabelError, Labels, MetricFamily, MetricType,
    NameError, Quantile, SampleValue, Series, SummaryValue,
};
use crate::proto::client;

/// Why a delimited protobuf body was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProtobufError {
    /// The varint length prefix of a message is malformed.
    #[error("message {index}: malformed varint length prefix")]
    BadLength {
        /// 1-based index of the message in the body.
        index: usize,
    },
    /// The length prefix promises more bytes than the body holds.
    #[error("message {index}: length prefix says {declared} bytes but only {available} remain")]
    Truncated {
        /// 1-based index of the message in the body.
        index: usize,
        /// The length the prefix declared.
        declared: u64,
        /// The bytes left in the body.
        available: usize,
    },
    /// The message bytes are not a valid `MetricFamily`.
    #[error("message {index}: not a valid io.prometheus.client.MetricFamily: {reason}")]
    Decode {
        /// 1-based index of the message in the body.
        index: usize,
        /// The protobuf decoder's explanation.
        reason: String,
    },
    /// The family as a whole is unacceptable.
    #[error("message {index} (family {family:?}): {problem}")]
    Family {
        /// 1-based index of the message in the body.
        index: usize,
        /// The family name as sent.
        family: String,
        /// What is wrong.
        problem: FamilyProblem,
    },
    /// One metric (series) of the family is unacceptable.
    #[error("message {index} (family {family:?}), metric {metric}: {problem}")]
    Metric {
        /// 1-based index of the message in the body.
        index: usize,
        /// The family name as sent.
        family: String,
        /// 1-based index of the metric within the message.
        metric: usize,
        /// What is wrong.
        problem: MetricProblem,
    },
}

/// What is wrong with a family as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FamilyProblem {
    /// The family name breaks the naming rules.
    #[error(transparent)]
    Name(#[from] NameError),
    /// The type field holds a value the schema does not define.
    #[error("unknown metric type {0}")]
    UnknownType(i32),
    /// Gauge histograms have no place in the model.
    #[error("type GAUGE_HISTOGRAM is not supported")]
    GaugeHistogram,
    /// The same name came earlier in the body with another type.
    #[error(
        "type {second} conflicts with type {first} of the same family in message {first_index}"
    )]
    TypeConflict {
        /// The type of the first occurrence.
        first: MetricType,
        /// 1-based message index of the first occurrence.
        first_index: usize,
        /// The type of this occurrence.
        second: MetricType,
    },
    /// The same name came earlier in the body with another HELP or unit.
    #[error("{what} {second:?} conflicts with {what} {first:?} of the same family in message {first_index}")]
    MetadataConflict {
        /// "HELP" or "unit".
        what: &'static str,
        /// The first occurrence's text.
        first: String,
        /// 1-based message index of the first occurrence.
        first_index: usize,
        /// This occurrence's text.
        second: String,
    },
}

/// What is wrong with one metric of a family.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MetricProblem {
    /// A label name is invalid, reserved or repeated.
    #[error(transparent)]
    Label(#[from] LabelError),
    /// `le` on a histogram or `quantile` on a summary.
    #[error("label {0:?} is reserved for this metric type")]
    ReservedLabel(&'static str),
    /// The metric lacks the value field its family type requires.
    #[error("no {0} value, as the family type requires")]
    MissingValue(&'static str),
    /// A counter value that is negative or NaN.
    #[error("counter value {0} is invalid: counters must be non-negative and not NaN")]
    BadCounter(String),
    /// A native (sparse) histogram, which the model cannot hold.
    #[error("native histograms are not supported (no classic buckets, but schema/zero bucket/spans set)")]
    NativeHistogram,
    /// A histogram bucket bound is NaN.
    #[error("bucket {bucket} has a NaN upper bound")]
    NanBound {
        /// 1-based bucket index.
        bucket: usize,
    },
    /// Bucket bounds are not strictly increasing.
    #[error("bucket bounds must increase: {bound} follows {previous}")]
    BoundsNotIncreasing {
        /// The previous bound.
        previous: String,
        /// The offending bound.
        bound: String,
    },
    /// A count is negative or NaN.
    #[error("{what} {value} is invalid: counts must be non-negative and not NaN")]
    BadCount {
        /// Which count.
        what: String,
        /// The value.
        value: String,
    },
    /// A cumulative bucket count decreased.
    #[error(
        "cumulative count {count} of bucket le={bound} is below {previous} of the bucket before"
    )]
    CountsDecreasing {
        /// The bucket bound.
        bound: String,
        /// Its cumulative count.
        count: String,
        /// The previous bucket's count.
        previous: String,
    },
    /// The `+Inf` bucket (sent or implied) disagrees with the sample count.
    #[error("sample count {count} differs from the +Inf bucket's cumulative count {inf}")]
    InfBucketMismatch {
        /// The sample count.
        count: String,
        /// The +Inf bucket's count (or the last bucket's when +Inf was omitted).
        inf: String,
    },
    /// A summary quantile rank is NaN or outside `[0, 1]`.
    #[error("quantile rank {0} is outside [0, 1]")]
    BadQuantile(String),
    /// A summary quantile rank appears twice.
    #[error("quantile rank {0} appears twice")]
    DuplicateQuantile(String),
    /// The same label set appeared earlier for this family.
    #[error("duplicate series {0}")]
    DuplicateSeries(String),
}

/// Parses a body of varint-length-delimited `MetricFamily` messages into the model.
pub fn parse_delimited(body: &[u8]) -> Result<Vec<MetricFamily>, ProtobufError> {
    let mut out = Merger::default();
    let mut rest = body;
    let mut index = 0;
    while !rest.is_empty() {
        index += 1;
        let declared = prost::encoding::decode_varint(&mut rest)
            .map_err(|_| ProtobufError::BadLength { index })?;
        let len = usize::try_from(declared)
            .ok()
            .filter(|&n| n <= rest.len())
            .ok_or(ProtobufError::Truncated {
                index,
                declared,
                available: rest.len(),
            })?;
        let (message, tail) = rest.split_at(len);
        rest = tail;
        let family = client::MetricFamily::decode(message).map_err(|e| ProtobufError::Decode {
            index,
            reason: e.to_string(),
        })?;
        out.add(index, family)?;
    }
    Ok(out.finish())
}

/// Accumulates families in first-seen order, merging repeated names.
#[derive(Default)]
struct Merger {
    families: Vec<MetricFamily>,
    /// Name -> (position in `families`, message index of first occurrence, series seen).
    seen: HashMap<String, (usize, usize, HashSet<Labels>)>,
}

impl Merger {
    fn add(&mut self, index: usize, mf: client::MetricFamily) -> Result<(), ProtobufError> {
        let name = mf.name.clone().unwrap_or_default();
        let family_err = |problem| ProtobufError::Family {
            index,
            family: name.clone(),
            problem,
        };
        validate_metric_name(&name).map_err(|e| family_err(e.into()))?;
        let kind = metric_type(mf.r#type).map_err(family_err)?;

        if let Some(&(pos, first_index, _)) = self.seen.get(&name) {
            let existing = &mut self.families[pos];
            if existing.kind != kind {
                return Err(family_err(FamilyProblem::TypeConflict {
                    first: existing.kind,
                    first_index,
                    second: kind,
                }));
            }
            merge_text("HELP", &mut existing.help, mf.help, first_index).map_err(family_err)?;
            merge_text("unit", &mut existing.unit, mf.unit, first_index).map_err(family_err)?;
        } else {
            let mut family = MetricFamily::new(name.clone(), kind);
            family.help = mf.help;
            family.unit = mf.unit.filter(|u| !u.is_empty());
            self.families.push(family);
        }
        let next = self.families.len() - 1;
        let (pos, _, series_seen) = self
            .seen
            .entry(name.clone())
            .or_insert_with(|| (next, index, HashSet::new()));

        for (i, metric) in mf.metric.into_iter().enumerate() {
            let metric_err = |problem| ProtobufError::Metric {
                index,
                family: name.clone(),
                metric: i + 1,
                problem,
            };
            let series = convert_metric(kind, metric).map_err(metric_err)?;
            if !series_seen.insert(series.labels.clone()) {
                return Err(metric_err(MetricProblem::DuplicateSeries(
                    series.labels.series_key(&name),
                )));
            }
            self.families[*pos].series.push(series);
        }
        Ok(())
    }

    fn finish(self) -> Vec<MetricFamily> {
        self.families
            .into_iter()
            .filter(|f| !f.series.is_empty())
            .collect()
    }
}

/// Keeps the first non-empty HELP/unit; a different non-empty one later is a conflict.
fn merge_text(
    what: &'static str,
    existing: &mut Option<String>,
    new: Option<String>,
    first_index: usize,
) -> Result<(), FamilyProblem> {
    let Some(new) = new.filter(|s| !s.is_empty()) else {
        return Ok(());
    };
    match existing {
        Some(old) if !old.is_empty() && *old != new => Err(FamilyProblem::MetadataConflict {
            what,
            first: old.clone(),
            first_index,
            second: new,
        }),
        _ => {
            *existing = Some(new);
            Ok(())
        }
    }
}

fn metric_type(raw: Option<i32>) -> Result<MetricType, FamilyProblem> {
    // proto2 default for an absent enum is its first value, COUNTER.
    let raw = raw.unwrap_or(client::MetricType::Counter as i32);
    Ok(
        match client::MetricType::try_from(raw).map_err(|_| FamilyProblem::UnknownType(raw))? {
            client::MetricType::Counter => MetricType::Counter,
            client::MetricType::Gauge => MetricType::Gauge,
            client::MetricType::Summary => MetricType::Summary,
            client::MetricType::Untyped => MetricType::Untyped,
            client::MetricType::Histogram => MetricType::Histogram,
            client::MetricType::GaugeHistogram => return Err(FamilyProblem::GaugeHistogram),
        },
    )
}

fn convert_metric(kind: MetricType, m: client::Metric) -> Result<Series, MetricProblem> {
    let pairs = m
        .label
        .into_iter()
        .map(|l| (l.name.unwrap_or_default(), l.value.unwrap_or_default()))
        .collect();
    let labels = Labels::new(pairs)?;
    let reserved = match kind {
        MetricType::Histogram => Some("le"),
        MetricType::Summary => Some("quantile"),
        _ => None,
    };
    if let Some(name) = reserved.filter(|n| labels.get(n).is_some()) {
        return Err(MetricProblem::ReservedLabel(name));
    }

    let (value, created) = match kind {
        MetricType::Counter => {
            let c = m.counter.ok_or(MetricProblem::MissingValue("counter"))?;
            let v = c.value.unwrap_or(0.0);
            if v.is_nan() || v < 0.0 {
                return Err(MetricProblem::BadCounter(fmt_f64(v)));
            }
            (
                SampleValue::Counter(v),
                c.created_timestamp.as_ref().map(seconds),
            )
        }
        MetricType::Gauge => {
            let g = m.gauge.ok_or(MetricProblem::MissingValue("gauge"))?;
            (SampleValue::Gauge(g.value.unwrap_or(0.0)), None)
        }
        MetricType::Untyped => {
            let u = m.untyped.ok_or(MetricProblem::MissingValue("untyped"))?;
            (SampleValue::Untyped(u.value.unwrap_or(0.0)), None)
        }
        MetricType::Summary => {
            let s = m.summary.ok_or(MetricProblem::MissingValue("summary"))?;
            let created = s.created_timestamp.as_ref().map(seconds);
            (SampleValue::Summary(convert_summary(s)?), created)
        }
        MetricType::Histogram => {
            let h = m
                .histogram
                .ok_or(MetricProblem::MissingValue("histogram"))?;
            let created = h.created_timestamp.as_ref().map(seconds);
            (SampleValue::Histogram(convert_histogram(h)?), created)
        }
    };
    Ok(Series {
        labels,
        value,
        timestamp_ms: m.timestamp_ms,
        created,
    })
}

fn seconds(ts: &crate::proto::packages::google::protobuf::Timestamp) -> f64 {
    ts.seconds as f64 + f64::from(ts.nanos) / 1e9
}

fn fmt_f64(v: f64) -> String {
    let mut s = String::new();
    crate::model::labels::format_value(v, &mut s);
    s
}

/// A float count overrides the integer one when positive, as the schema says.
fn count_of(int: Option<u64>, float: Option<f64>) -> f64 {
    match float {
        Some(f) if f > 0.0 || f.is_nan() => f,
        _ => int.unwrap_or(0) as f64,
    }
}

fn check_count(what: impl FnOnce() -> String, v: f64) -> Result<f64, MetricProblem> {
    if v.is_nan() || v < 0.0 {
        return Err(MetricProblem::BadCount {
            what: what(),
            value: fmt_f64(v),
        });
    }
    Ok(v)
}

fn convert_histogram(h: client::Histogram) -> Result<HistogramValue, MetricProblem> {
    let native = h.schema.is_some()
        || h.zero_threshold.is_some()
        || h.zero_count.is_some()
        || h.zero_count_float.is_some()
        || !h.positive_span.is_empty()
        || !h.negative_span.is_empty();
    if h.bucket.is_empty() && native {
        return Err(MetricProblem::NativeHistogram);
    }
    let count = check_count(
        || "sample count".into(),
        count_of(h.sample_count, h.sample_count_float),
    )?;
    let mut buckets: Vec<Bucket> = Vec::with_capacity(h.bucket.len() + 1);
    for (i, b) in h.bucket.iter().enumerate() {
        let bound = b.upper_bound.unwrap_or(0.0);
        if bound.is_nan() {
            return Err(MetricProblem::NanBound { bucket: i + 1 });
        }
        let cumulative = check_count(
            || format!("cumulative count of bucket le={}", fmt_f64(bound)),
            count_of(b.cumulative_count, b.cumulative_count_float),
        )?;
        if let Some(prev) = buckets.last() {
            if bound <= prev.upper_bound {
                return Err(MetricProblem::BoundsNotIncreasing {
                    previous: fmt_f64(prev.upper_bound),
                    bound: fmt_f64(bound),
                });
            }
            if cumulative < prev.cumulative_count {
                return Err(MetricProblem::CountsDecreasing {
                    bound: fmt_f64(bound),
                    count: fmt_f64(cumulative),
                    previous: fmt_f64(prev.cumulative_count),
                });
            }
        }
        buckets.push(Bucket {
            upper_bound: bound,
            cumulative_count: cumulative,
        });
    }
    match buckets.last() {
        Some(last) if last.upper_bound == f64::INFINITY => {
            if last.cumulative_count != count {
                return Err(MetricProblem::InfBucketMismatch {
                    count: fmt_f64(count),
                    inf: fmt_f64(last.cumulative_count),
                });
            }
        }
        last => {
            // Go's client omits the +Inf bucket: it is implied by the sample count.
            if let Some(last) = last.filter(|l| l.cumulative_count > count) {
                return Err(MetricProblem::InfBucketMismatch {
                    count: fmt_f64(count),
                    inf: fmt_f64(last.cumulative_count),
                });
            }
            buckets.push(Bucket {
                upper_bound: f64::INFINITY,
                cumulative_count: count,
            });
        }
    }
    Ok(HistogramValue {
        buckets,
        sum: h.sample_sum.unwrap_or(0.0),
        count,
    })
}

fn convert_summary(s: client::Summary) -> Result<SummaryValue, MetricProblem> {
    let mut quantiles = Vec::with_capacity(s.quantile.len());
    for q in &s.quantile {
        let rank = q.quantile.unwrap_or(0.0);
        if !(0.0..=1.0).contains(&rank) {
            return Err(MetricProblem::BadQuantile(fmt_f64(rank)));
        }
        // Values may be NaN: Go reports NaN quantiles before the first observation.
        quantiles.push(Quantile {
            quantile: rank,
            value: q.value.unwrap_or(0.0),
        });
    }
    quantiles.sort_by(|a, b| a.quantile.total_cmp(&b.quantile));
    if let Some(w) = quantiles
        .windows(2)
        .find(|w| w[0].quantile == w[1].quantile)
    {
        return Err(MetricProblem::DuplicateQuantile(fmt_f64(w[0].quantile)));
    }
    Ok(SummaryValue {
        quantiles,
        sum: s.sample_sum.unwrap_or(0.0),
        count: s.sample_count.unwrap_or(0) as f64,
    })
}

#[cfg(test)]
mod tests;
