//! Helpers shared by the parser tests.

use crate::model::{Labels, MetricFamily, SampleValue, Series};

use super::error::ParseError;

/// A label set from literal pairs.
pub(crate) fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
    )
    .unwrap()
}

/// A series with no timestamp and no created time.
pub(crate) fn series(pairs: &[(&str, &str)], value: SampleValue) -> Series {
    Series {
        labels: labels(pairs),
        value,
        timestamp_ms: None,
        created: None,
    }
}

/// The family called `name`, which must be there exactly once.
pub(crate) fn family<'a>(families: &'a [MetricFamily], name: &str) -> &'a MetricFamily {
    let mut found = families.iter().filter(|f| f.name == name);
    let f = found.next().unwrap_or_else(|| panic!("no family {name}"));
    assert!(found.next().is_none(), "family {name} twice");
    f
}

/// Checks what the model promises of parsed families: histogram buckets sorted, cumulative
/// and ending with +Inf equal to the count; quantiles sorted in [0, 1]; counters non-negative;
/// no `le`/`quantile` label on histogram/summary series; no duplicate series in a family.
pub(crate) fn assert_model_invariants(families: &[MetricFamily]) {
    for f in families {
        assert!(!f.series.is_empty(), "{}: empty family", f.name);
        let mut keys: Vec<&Labels> = f.series.iter().map(|s| &s.labels).collect();
        keys.sort();
        assert!(
            keys.windows(2).all(|w| w[0] != w[1]),
            "{}: duplicate series",
            f.name
        );
        for s in &f.series {
            match &s.value {
                SampleValue::Counter(v) => assert!(*v >= 0.0, "{}", f.name),
                SampleValue::Histogram(h) => {
                    assert!(s.labels.get("le").is_none());
                    let b = &h.buckets;
                    assert!(!b.is_empty());
                    assert!(b.windows(2).all(|w| w[0].upper_bound < w[1].upper_bound));
                    assert!(b
                        .windows(2)
                        .all(|w| w[0].cumulative_count <= w[1].cumulative_count));
                    let last = b[b.len() - 1];
                    assert_eq!(last.upper_bound, f64::INFINITY);
                    assert_eq!(last.cumulative_count, h.count);
                }
                SampleValue::Summary(q) => {
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
                SampleValue::Gauge(_) | SampleValue::Untyped(_) => {}
            }
            let kind_matches = matches!(
                (f.kind, &s.value),
                (crate::model::MetricType::Counter, SampleValue::Counter(_))
                    | (crate::model::MetricType::Gauge, SampleValue::Gauge(_))
                    | (crate::model::MetricType::Untyped, SampleValue::Untyped(_))
                    | (
                        crate::model::MetricType::Histogram,
                        SampleValue::Histogram(_)
                    )
                    | (crate::model::MetricType::Summary, SampleValue::Summary(_))
            );
            assert!(kind_matches, "{}: value does not match type", f.name);
        }
    }
}

/// The error's line and message without the `line N: ` prefix.
pub(crate) fn line_and_message(e: &ParseError) -> (usize, String) {
    (e.line, e.kind.to_string())
}

/// Reads a committed fixture from `tests/fixtures/`.
pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
