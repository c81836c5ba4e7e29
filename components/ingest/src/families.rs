//! Ingest calls as metric families, validated as the HTTP API validates pushes.

use promagg::model::{
    validate_metric_name, Bucket, HistogramValue, LabelError, Labels, MetricFamily, MetricType,
    NameError, SampleValue, Series,
};
use thiserror::Error;

/// Input an ingest call cannot turn into a family.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum InputError {
    /// The metric name breaks the naming rules.
    #[error("metric name {name:?}: {source}")]
    Name {
        /// The name given.
        name: String,
        /// Which rule it breaks.
        source: NameError,
    },
    /// A label is invalid or repeated.
    #[error("labels: {0}")]
    Labels(#[from] LabelError),
    /// Histogram bounds are not finite and strictly increasing.
    #[error(
        "histogram bounds must be finite and strictly increasing (+Inf is implied), got {0:?}"
    )]
    Bounds(Vec<f64>),
    /// An observation that is not a number.
    #[error("histogram observation must be a number, got {0}")]
    Observation(f64),
}

fn family(
    name: &str,
    kind: MetricType,
    labels: Vec<(String, String)>,
    value: SampleValue,
) -> Result<MetricFamily, InputError> {
    validate_metric_name(name).map_err(|source| InputError::Name {
        name: name.to_string(),
        source,
    })?;
    let mut family = MetricFamily::new(name, kind);
    family.series.push(Series {
        labels: Labels::new(labels)?,
        value,
        timestamp_ms: None,
        created: None,
    });
    Ok(family)
}

/// `counter-add`: one counter series carrying the increment (the engine refuses negative ones).
pub fn counter(
    name: &str,
    labels: Vec<(String, String)>,
    amount: f64,
) -> Result<MetricFamily, InputError> {
    family(
        name,
        MetricType::Counter,
        labels,
        SampleValue::Counter(amount),
    )
}

/// `gauge-set`: one gauge series with the value.
pub fn gauge(
    name: &str,
    labels: Vec<(String, String)>,
    value: f64,
) -> Result<MetricFamily, InputError> {
    family(name, MetricType::Gauge, labels, SampleValue::Gauge(value))
}

/// `histogram-observe`: a histogram of one observation over `bounds` plus `+Inf`.
pub fn histogram(
    name: &str,
    labels: Vec<(String, String)>,
    bounds: &[f64],
    value: f64,
) -> Result<MetricFamily, InputError> {
    let increasing = bounds.windows(2).all(|w| w[0] < w[1]);
    if !increasing || bounds.iter().any(|b| !b.is_finite()) {
        return Err(InputError::Bounds(bounds.to_vec()));
    }
    if value.is_nan() {
        return Err(InputError::Observation(value));
    }
    let buckets = bounds
        .iter()
        .copied()
        .chain(std::iter::once(f64::INFINITY))
        .map(|upper_bound| Bucket {
            upper_bound,
            cumulative_count: if value <= upper_bound { 1.0 } else { 0.0 },
        })
        .collect();
    let value = SampleValue::Histogram(HistogramValue {
        buckets,
        sum: value,
        count: 1.0,
    });
    family(name, MetricType::Histogram, labels, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn counter_and_gauge_carry_one_series() {
        let c = counter("jobs_total", labels(&[("queue", "a")]), 2.5).unwrap();
        assert_eq!(c.name, "jobs_total");
        assert_eq!(c.kind, MetricType::Counter);
        assert_eq!(c.series.len(), 1);
        assert_eq!(c.series[0].value, SampleValue::Counter(2.5));
        assert_eq!(
            c.series[0].labels.series_key("jobs_total"),
            r#"jobs_total{queue="a"}"#
        );
        let g = gauge("depth", vec![], -3.0).unwrap();
        assert_eq!(g.kind, MetricType::Gauge);
        assert_eq!(g.series[0].value, SampleValue::Gauge(-3.0));
        assert!(g.series[0].labels.is_empty());
    }

    #[test]
    fn histogram_buckets_are_cumulative_with_inf() {
        let h = histogram("lat_seconds", vec![], &[0.1, 1.0], 0.5).unwrap();
        let SampleValue::Histogram(v) = &h.series[0].value else {
            panic!("not a histogram: {h:?}");
        };
        let got: Vec<(f64, f64)> = v
            .buckets
            .iter()
            .map(|b| (b.upper_bound, b.cumulative_count))
            .collect();
        assert_eq!(got, vec![(0.1, 0.0), (1.0, 1.0), (f64::INFINITY, 1.0)]);
        assert_eq!((v.sum, v.count), (0.5, 1.0));
        // on a bound: counted in it (le is <=)
        let h = histogram("x", vec![], &[1.0], 1.0).unwrap();
        let SampleValue::Histogram(v) = &h.series[0].value else {
            panic!("not a histogram");
        };
        assert_eq!(v.buckets[0].cumulative_count, 1.0);
        // above every bound: only +Inf
        let h = histogram("x", vec![], &[1.0], 7.0).unwrap();
        let SampleValue::Histogram(v) = &h.series[0].value else {
            panic!("not a histogram");
        };
        assert_eq!(v.buckets[0].cumulative_count, 0.0);
        assert_eq!(v.buckets[1].cumulative_count, 1.0);
        // no bounds: +Inf only
        let h = histogram("x", vec![], &[], 7.0).unwrap();
        let SampleValue::Histogram(v) = &h.series[0].value else {
            panic!("not a histogram");
        };
        assert_eq!(v.buckets.len(), 1);
    }

    #[test]
    fn bad_input_is_named() {
        assert!(matches!(
            counter("1bad", vec![], 1.0),
            Err(InputError::Name { name, .. }) if name == "1bad"
        ));
        assert!(matches!(
            gauge("ok", labels(&[("a", "1"), ("a", "2")]), 1.0),
            Err(InputError::Labels(LabelError::Duplicate(_)))
        ));
        assert!(matches!(
            gauge("ok", labels(&[("bad-name", "1")]), 1.0),
            Err(InputError::Labels(_))
        ));
        for bounds in [
            &[1.0, 1.0][..],
            &[2.0, 1.0],
            &[f64::NAN],
            &[1.0, f64::INFINITY],
        ] {
            // compared as text: NaN is not equal to itself
            match histogram("h", vec![], bounds, 0.5) {
                Err(InputError::Bounds(got)) => {
                    assert_eq!(format!("{got:?}"), format!("{bounds:?}"))
                }
                other => panic!("{bounds:?} accepted: {other:?}"),
            }
        }
        assert!(matches!(
            histogram("h", vec![], &[1.0], f64::NAN),
            Err(InputError::Observation(_))
        ));
        let msg = histogram("h", vec![], &[2.0, 1.0], 0.5)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("strictly increasing"), "{msg}");
    }
}
