//! Aggregation rules: how a pushed value combines with the stored value of one series.
//!
//! - counter: add (a negative or NaN increment is refused);
//! - gauge and untyped: add by default (the original Worker's behaviour), or keep the
//!   `last`, `max` or `min` value; the mode is fixed by a series' first push;
//! - histogram: bucket-wise add of cumulative counts, add sum and count; the bucket bounds must
//!   equal the stored ones;
//! - summary: add sum and count; quantiles keep the latest pushed values (quantiles of
//!   different workers cannot be combined, the latest is the only honest value);
//! - `_created`: never summed, the earliest value is kept.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use crate::model::{MetricType, SampleValue};

/// How gauge (and untyped) pushes combine with the stored value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GaugeMode {
    /// Add the pushed value (the default on `POST /metrics`, as the original Worker).
    #[default]
    Sum,
    /// Keep the latest pushed value (the default on Pushgateway's path API).
    Last,
    /// Keep the largest value.
    Max,
    /// Keep the smallest value.
    Min,
}

impl GaugeMode {
    /// The query-parameter spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            GaugeMode::Sum => "sum",
            GaugeMode::Last => "last",
            GaugeMode::Max => "max",
            GaugeMode::Min => "min",
        }
    }
}

impl fmt::Display for GaugeMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown gauge mode name.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown gauge mode {0:?}: expected one of sum, last, max, min")]
pub struct UnknownGaugeMode(pub String);

impl FromStr for GaugeMode {
    type Err = UnknownGaugeMode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sum" => Ok(GaugeMode::Sum),
            "last" => Ok(GaugeMode::Last),
            "max" => Ok(GaugeMode::Max),
            "min" => Ok(GaugeMode::Min),
            other => Err(UnknownGaugeMode(other.to_string())),
        }
    }
}

/// "a counter", "an untyped": a type name with its indefinite article, for messages.
fn with_article(t: MetricType) -> String {
    let article = if t.as_text().starts_with('u') {
        "an"
    } else {
        "a"
    };
    format!("{article} {t}")
}

/// Why a pushed value cannot be combined with the stored one.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AggregateError {
    /// The family is stored with another type.
    #[error(
        "{family} is stored as {}, the push sends {}",
        with_article(*stored),
        with_article(*pushed)
    )]
    TypeConflict {
        /// The family name.
        family: String,
        /// The stored type.
        stored: MetricType,
        /// The pushed type.
        pushed: MetricType,
    },
    /// The histogram's bucket bounds differ from the stored ones.
    #[error(
        "histogram {series} has buckets {}, the push sends {}",
        layout(stored),
        layout(pushed)
    )]
    BucketLayout {
        /// The series, canonically encoded.
        series: String,
        /// Stored bounds.
        stored: Vec<f64>,
        /// Pushed bounds.
        pushed: Vec<f64>,
    },
    /// The series was created with another gauge mode.
    #[error("gauge {series} aggregates with mode {stored}, the push asks for {pushed}")]
    GaugeModeConflict {
        /// The series, canonically encoded.
        series: String,
        /// The stored mode.
        stored: GaugeMode,
        /// The requested mode.
        pushed: GaugeMode,
    },
    /// A counter or histogram increment is negative or NaN.
    #[error("{series}: increment {value} is invalid (counter and histogram increments must be non-negative numbers)")]
    InvalidIncrement {
        /// The series, canonically encoded.
        series: String,
        /// The offending value.
        value: f64,
    },
}

fn layout(bounds: &[f64]) -> String {
    let parts: Vec<String> = bounds
        .iter()
        .map(|b| {
            let mut s = String::new();
            crate::model::labels::format_value(*b, &mut s);
            s
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

/// The type a value belongs to.
pub fn type_of(value: &SampleValue) -> MetricType {
    match value {
        SampleValue::Counter(_) => MetricType::Counter,
        SampleValue::Gauge(_) => MetricType::Gauge,
        SampleValue::Untyped(_) => MetricType::Untyped,
        SampleValue::Histogram(_) => MetricType::Histogram,
        SampleValue::Summary(_) => MetricType::Summary,
    }
}

fn bad_increment(v: f64) -> bool {
    v.is_nan() || v < 0.0
}

/// Refuses increments that cannot be added: negative or NaN counters and histogram counts.
pub fn validate_increment(value: &SampleValue, series: &str) -> Result<(), AggregateError> {
    let invalid = |value: f64| AggregateError::InvalidIncrement {
        series: series.to_string(),
        value,
    };
    match value {
        SampleValue::Counter(v) if bad_increment(*v) => Err(invalid(*v)),
        SampleValue::Histogram(h) => {
            if let Some(b) = h.buckets.iter().find(|b| bad_increment(b.cumulative_count)) {
                return Err(invalid(b.cumulative_count));
            }
            if bad_increment(h.count) {
                return Err(invalid(h.count));
            }
            Ok(())
        }
        SampleValue::Summary(s) if bad_increment(s.count) => Err(invalid(s.count)),
        _ => Ok(()),
    }
}

/// Checks that `incoming` can be merged into `stored` without changing anything.
pub fn check_merge(
    stored: &SampleValue,
    stored_mode: GaugeMode,
    incoming: &SampleValue,
    incoming_mode: GaugeMode,
    family: &str,
    series: &str,
) -> Result<(), AggregateError> {
    let (st, it) = (type_of(stored), type_of(incoming));
    if st != it {
        return Err(AggregateError::TypeConflict {
            family: family.to_string(),
            stored: st,
            pushed: it,
        });
    }
    match (stored, incoming) {
        (SampleValue::Histogram(a), SampleValue::Histogram(b)) => {
            let same = a.buckets.len() == b.buckets.len()
                && a.buckets
                    .iter()
                    .zip(&b.buckets)
                    .all(|(x, y)| x.upper_bound == y.upper_bound);
            if !same {
                return Err(AggregateError::BucketLayout {
                    series: series.to_string(),
                    stored: a.bounds(),
                    pushed: b.bounds(),
                });
            }
        }
        (SampleValue::Gauge(_), _) | (SampleValue::Untyped(_), _)
            if stored_mode != incoming_mode =>
        {
            return Err(AggregateError::GaugeModeConflict {
                series: series.to_string(),
                stored: stored_mode,
                pushed: incoming_mode,
            });
        }
        _ => {}
    }
    Ok(())
}

/// Merges `incoming` into `stored` (after [`check_merge`] succeeded).
pub fn merge(
    stored: &mut SampleValue,
    stored_mode: GaugeMode,
    incoming: &SampleValue,
    incoming_mode: GaugeMode,
    family: &str,
    series: &str,
) -> Result<(), AggregateError> {
    check_merge(stored, stored_mode, incoming, incoming_mode, family, series)?;
    match (stored, incoming) {
        (SampleValue::Counter(a), SampleValue::Counter(b)) => *a += b,
        (SampleValue::Gauge(a), SampleValue::Gauge(b))
        | (SampleValue::Untyped(a), SampleValue::Untyped(b)) => {
            *a = combine_gauge(*a, *b, stored_mode)
        }
        (SampleValue::Histogram(a), SampleValue::Histogram(b)) => {
            for (x, y) in a.buckets.iter_mut().zip(&b.buckets) {
                x.cumulative_count += y.cumulative_count;
            }
            a.sum += b.sum;
            a.count += b.count;
        }
        (SampleValue::Summary(a), SampleValue::Summary(b)) => {
            a.quantiles.clone_from(&b.quantiles);
            a.sum += b.sum;
            a.count += b.count;
        }
        // check_merge refused every other pairing.
        _ => {}
    }
    Ok(())
}

/// Combines two gauge values under `mode`.
pub fn combine_gauge(stored: f64, pushed: f64, mode: GaugeMode) -> f64 {
    match mode {
        GaugeMode::Sum => stored + pushed,
        GaugeMode::Last => pushed,
        // NaN never wins a comparison: a real value replaces a NaN, a NaN never replaces one.
        GaugeMode::Max => {
            if stored.is_nan() || pushed > stored {
                pushed
            } else {
                stored
            }
        }
        GaugeMode::Min => {
            if stored.is_nan() || pushed < stored {
                pushed
            } else {
                stored
            }
        }
    }
}

/// Combines two `_created` times: the earliest is kept.
pub fn merge_created(stored: Option<f64>, pushed: Option<f64>) -> Option<f64> {
    match (stored, pushed) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Bucket, HistogramValue, Quantile, SummaryValue};

    fn hist(bounds: &[f64], counts: &[f64], sum: f64) -> SampleValue {
        SampleValue::Histogram(HistogramValue {
            buckets: bounds
                .iter()
                .zip(counts)
                .map(|(&upper_bound, &cumulative_count)| Bucket {
                    upper_bound,
                    cumulative_count,
                })
                .collect(),
            sum,
            count: *counts.last().unwrap(),
        })
    }

    fn m(
        stored: &mut SampleValue,
        mode: GaugeMode,
        pushed: SampleValue,
    ) -> Result<(), AggregateError> {
        merge(stored, mode, &pushed, mode, "f", "f{}")
    }

    #[test]
    fn counters_add() {
        let mut v = SampleValue::Counter(1.5);
        m(&mut v, GaugeMode::Sum, SampleValue::Counter(2.0)).unwrap();
        assert_eq!(v, SampleValue::Counter(3.5));
    }

    #[test]
    fn gauge_modes() {
        for (mode, want) in [
            (GaugeMode::Sum, 12.0),
            (GaugeMode::Last, 2.0),
            (GaugeMode::Max, 10.0),
            (GaugeMode::Min, 2.0),
        ] {
            let mut v = SampleValue::Gauge(10.0);
            m(&mut v, mode, SampleValue::Gauge(2.0)).unwrap();
            assert_eq!(v, SampleValue::Gauge(want), "{mode}");
        }
        assert_eq!(combine_gauge(f64::NAN, 3.0, GaugeMode::Max), 3.0);
        assert_eq!(combine_gauge(3.0, f64::NAN, GaugeMode::Min), 3.0);
        let mut u = SampleValue::Untyped(1.0);
        m(&mut u, GaugeMode::Sum, SampleValue::Untyped(1.0)).unwrap();
        assert_eq!(u, SampleValue::Untyped(2.0));
    }

    #[test]
    fn gauge_mode_is_fixed_by_first_push() {
        let mut v = SampleValue::Gauge(1.0);
        let err = merge(
            &mut v,
            GaugeMode::Sum,
            &SampleValue::Gauge(1.0),
            GaugeMode::Last,
            "g",
            "g",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "gauge g aggregates with mode sum, the push asks for last"
        );
    }

    #[test]
    fn histograms_add_bucketwise_and_refuse_other_layouts() {
        let mut v = hist(&[0.5, 1.0, f64::INFINITY], &[1.0, 2.0, 3.0], 2.5);
        m(
            &mut v,
            GaugeMode::Sum,
            hist(&[0.5, 1.0, f64::INFINITY], &[0.0, 1.0, 1.0], 0.75),
        )
        .unwrap();
        assert_eq!(v, hist(&[0.5, 1.0, f64::INFINITY], &[1.0, 3.0, 4.0], 3.25));
        let err = m(
            &mut v,
            GaugeMode::Sum,
            hist(&[1.0, f64::INFINITY], &[1.0, 1.0], 1.0),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "histogram f{} has buckets [0.5, 1, +Inf], the push sends [1, +Inf]"
        );
        assert_eq!(
            v,
            hist(&[0.5, 1.0, f64::INFINITY], &[1.0, 3.0, 4.0], 3.25),
            "unchanged"
        );
    }

    #[test]
    fn summaries_add_sum_count_and_keep_latest_quantiles() {
        let s = |q: f64, sum: f64, count: f64| {
            SampleValue::Summary(SummaryValue {
                quantiles: vec![Quantile {
                    quantile: 0.5,
                    value: q,
                }],
                sum,
                count,
            })
        };
        let mut v = s(1.0, 10.0, 4.0);
        m(&mut v, GaugeMode::Sum, s(7.0, 5.0, 1.0)).unwrap();
        assert_eq!(v, s(7.0, 15.0, 5.0));
    }

    #[test]
    fn type_conflicts_are_refused() {
        let mut v = SampleValue::Counter(1.0);
        let err = m(&mut v, GaugeMode::Sum, SampleValue::Gauge(1.0)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "f is stored as a counter, the push sends a gauge"
        );
    }

    #[test]
    fn invalid_increments() {
        assert!(validate_increment(&SampleValue::Counter(-1.0), "c").is_err());
        assert!(validate_increment(&SampleValue::Counter(f64::NAN), "c").is_err());
        assert!(validate_increment(&SampleValue::Counter(0.0), "c").is_ok());
        assert!(validate_increment(&SampleValue::Gauge(-1.0), "g").is_ok());
        assert!(validate_increment(&hist(&[f64::INFINITY], &[-1.0], 0.0), "h").is_err());
    }

    #[test]
    fn created_keeps_earliest() {
        assert_eq!(merge_created(Some(5.0), Some(3.0)), Some(3.0));
        assert_eq!(merge_created(None, Some(3.0)), Some(3.0));
        assert_eq!(merge_created(Some(5.0), None), Some(5.0));
        assert_eq!(merge_created(None, None), None);
    }
}
