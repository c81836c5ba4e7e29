//! Shared checks of the fuzz targets: what every successful parse must satisfy.
//!
//! `src/parse/corpus_tests.rs` in the core runs the committed seeds through the same checks
//! on stable; keep the two in step.

use std::io::Write;

use promagg::model::{MetricFamily, MetricType, SampleValue};

/// The model's promises: families non-empty, values matching the family type, counters
/// non-negative, histogram buckets sorted, cumulative and ending with +Inf equal to the count,
/// quantiles sorted within [0, 1], no `le`/`quantile` on histogram/summary series, no
/// duplicate series.
pub fn assert_invariants(families: &[MetricFamily]) {
    for f in families {
        assert!(!f.series.is_empty(), "{}: empty family", f.name);
        assert!(
            promagg::model::validate_metric_name(&f.name).is_ok(),
            "{}",
            f.name
        );
        let mut keys: Vec<_> = f.series.iter().map(|s| &s.labels).collect();
        keys.sort();
        assert!(
            keys.windows(2).all(|w| w[0] != w[1]),
            "{}: duplicate series",
            f.name
        );
        for s in &f.series {
            match (&s.value, f.kind) {
                (SampleValue::Counter(v), MetricType::Counter) => assert!(*v >= 0.0),
                (SampleValue::Gauge(_), MetricType::Gauge) => {}
                (SampleValue::Untyped(_), MetricType::Untyped) => {}
                (SampleValue::Histogram(h), MetricType::Histogram) => {
                    assert!(s.labels.get("le").is_none());
                    let b = &h.buckets;
                    assert!(b.windows(2).all(|w| w[0].upper_bound < w[1].upper_bound));
                    assert!(b
                        .windows(2)
                        .all(|w| w[0].cumulative_count <= w[1].cumulative_count));
                    let last = b.last().expect("a histogram has its +Inf bucket");
                    assert_eq!(last.upper_bound, f64::INFINITY);
                    assert_eq!(last.cumulative_count, h.count);
                }
                (SampleValue::Summary(q), MetricType::Summary) => {
                    assert!(s.labels.get("quantile").is_none());
                    assert!(q
                        .quantiles
                        .windows(2)
                        .all(|w| w[0].quantile < w[1].quantile));
                    assert!(q
                        .quantiles
                        .iter()
                        .all(|x| (0.0..=1.0).contains(&x.quantile)));
                    assert!(q.count >= 0.0);
                }
                (v, k) => panic!("{}: {k} family holds {v:?}", f.name),
            }
        }
    }
}

/// A `parse_body` case from fuzz input: byte 0 picks the Content-Type (bits 0-1), the
/// Content-Encoding (bits 2-3) and whether the rest is compressed here first (bit 4, so the
/// parsers see decompressed fuzz input) or handed to the decompressor as is.
pub fn body_case(data: &[u8]) -> Option<(Option<&'static str>, Option<&'static str>, Vec<u8>)> {
    let (&sel, rest) = data.split_first()?;
    let content_type = match sel & 3 {
        0 => None,
        1 => Some("application/openmetrics-text; version=1.0.0"),
        2 => Some("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"),
        _ => Some("application/json"),
    };
    let encoding = match (sel >> 2) & 3 {
        1 => Some("gzip"),
        2 => Some("snappy"),
        _ => None,
    };
    let compress_here = sel & 16 != 0;
    let body = match (encoding, compress_here) {
        (Some("gzip"), true) => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(rest).ok()?;
            e.finish().ok()?
        }
        (Some("snappy"), true) => {
            let mut e = snap::write::FrameEncoder::new(Vec::new());
            e.write_all(rest).ok()?;
            e.into_inner().ok()?
        }
        _ => rest.to_vec(),
    };
    Some((content_type, encoding, body))
}

/// The same families (by name and type) with the same series (by labels) and values, in any
/// order; NaN equals NaN. `created` is not compared: the text format cannot carry it.
pub fn assert_same_shape(a: &[MetricFamily], b: &[MetricFamily]) {
    let norm = |fs: &[MetricFamily]| {
        let mut fs: Vec<MetricFamily> = fs.to_vec();
        fs.sort_by(|x, y| x.name.cmp(&y.name));
        for f in &mut fs {
            f.series.sort_by(|x, y| x.labels.cmp(&y.labels));
            for s in &mut f.series {
                s.created = None;
            }
        }
        format!("{fs:?}")
    };
    assert_eq!(norm(a), norm(b));
}
