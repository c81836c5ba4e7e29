//! Push bodies in the Prometheus text format, the same bytes for promagg and Pushgateway.

use std::fmt::Write as _;

/// Series per metric family in generated bodies.
pub const SERIES_PER_FAMILY: usize = 20;

/// Histogram bucket bounds (the `+Inf` bucket is added).
pub const BUCKETS: [&str; 7] = ["0.005", "0.01", "0.05", "0.1", "0.5", "1", "5"];

/// Which metric types a body holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mix {
    /// 40% counters, 40% gauges, 20% histograms.
    Mixed,
    /// Half counters, half gauges: one remote_write sample per series.
    Scalars,
}

/// How many series of each type a body of `series` series holds: (counters, gauges, histograms).
pub fn split(series: usize, mix: Mix) -> (usize, usize, usize) {
    match mix {
        Mix::Mixed => {
            let c = series * 2 / 5;
            let g = series * 2 / 5;
            (c, g, series - c - g)
        }
        Mix::Scalars => {
            let c = series / 2;
            (c, series - c, 0)
        }
    }
}

/// Name of counter family `f`.
pub fn counter_name(f: usize) -> String {
    format!("bench_counter_{f}_total")
}

fn labels(tag: Option<&str>, i: usize) -> String {
    match tag {
        Some(t) => format!("{{b=\"{t}\",s=\"{i}\"}}"),
        None => format!("{{s=\"{i}\"}}"),
    }
}

/// A body of exactly `series` series (histograms count as one series each); every counter
/// is 1, so after N acknowledged aggregating pushes each counter reads N. `tag` adds the
/// label `b` to every series, so bodies with different tags hold different series.
pub fn body(series: usize, mix: Mix, tag: Option<&str>) -> String {
    let (counters, gauges, histograms) = split(series, mix);
    let mut out = String::with_capacity(series * 120);
    let families = |n: usize| n.div_ceil(SERIES_PER_FAMILY);
    let in_family = |n: usize, f: usize| (n - f * SERIES_PER_FAMILY).min(SERIES_PER_FAMILY);
    for f in 0..families(counters) {
        let name = counter_name(f);
        let _ = writeln!(
            out,
            "# HELP {name} Benchmark counter {f}.\n# TYPE {name} counter"
        );
        for i in 0..in_family(counters, f) {
            let _ = writeln!(out, "{name}{} 1", labels(tag, i));
        }
    }
    for f in 0..families(gauges) {
        let name = format!("bench_gauge_{f}");
        let _ = writeln!(
            out,
            "# HELP {name} Benchmark gauge {f}.\n# TYPE {name} gauge"
        );
        for i in 0..in_family(gauges, f) {
            let _ = writeln!(out, "{name}{} {}.5", labels(tag, i), 40 + i);
        }
    }
    for f in 0..families(histograms) {
        let name = format!("bench_hist_{f}_seconds");
        let _ = writeln!(
            out,
            "# HELP {name} Benchmark histogram {f}.\n# TYPE {name} histogram"
        );
        for i in 0..in_family(histograms, f) {
            let base = labels(tag, i);
            let inner = &base[1..base.len() - 1];
            for (k, le) in BUCKETS.iter().chain(["+Inf"].iter()).enumerate() {
                let count = u32::from(k >= 2);
                let _ = writeln!(out, "{name}_bucket{{{inner},le=\"{le}\"}} {count}");
            }
            let _ = writeln!(out, "{name}_sum{base} 0.042\n{name}_count{base} 1");
        }
    }
    out
}

/// Counts the series of a text exposition whose family starts with `bench_` (counter and
/// gauge samples, and one per histogram through its `_count` line).
pub fn count_bench_series(exposition: &str) -> usize {
    exposition
        .lines()
        .filter(|l| l.starts_with("bench_"))
        .filter(|l| {
            let name = l.split(['{', ' ']).next().unwrap_or("");
            !name.starts_with("bench_hist_") || name.ends_with("_count")
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use promagg::model::{MetricType, SampleValue};

    #[test]
    fn a_body_parses_to_exactly_the_requested_series() {
        for (n, mix) in [(1000, Mix::Mixed), (1000, Mix::Scalars), (37, Mix::Mixed)] {
            let text = body(n, mix, Some("7"));
            let fams = promagg::parse::text::parse(&text).unwrap();
            let total: usize = fams.iter().map(|f| f.series.len()).sum();
            assert_eq!(total, n, "{mix:?}");
            assert_eq!(count_bench_series(&text), n);
            let (c, g, h) = split(n, mix);
            let of = |t: MetricType| -> usize {
                fams.iter()
                    .filter(|f| f.kind == t)
                    .map(|f| f.series.len())
                    .sum()
            };
            assert_eq!(
                (
                    of(MetricType::Counter),
                    of(MetricType::Gauge),
                    of(MetricType::Histogram)
                ),
                (c, g, h)
            );
            for f in &fams {
                for s in &f.series {
                    assert_eq!(s.labels.get("b"), Some("7"));
                    if let SampleValue::Counter(v) = s.value {
                        assert_eq!(v, 1.0);
                    }
                }
            }
        }
    }

    #[test]
    fn tags_make_distinct_series() {
        let a = promagg::parse::text::parse(&body(40, Mix::Scalars, Some("1"))).unwrap();
        let b = promagg::parse::text::parse(&body(40, Mix::Scalars, Some("2"))).unwrap();
        let key = |f: &promagg::model::MetricFamily| f.series[0].labels.series_key(&f.name);
        assert_ne!(key(&a[0]), key(&b[0]));
    }

    #[test]
    fn the_mixed_split_is_two_fifths_two_fifths_one_fifth() {
        assert_eq!(split(1000, Mix::Mixed), (400, 400, 200));
        assert_eq!(split(1000, Mix::Scalars), (500, 500, 0));
        assert_eq!(split(7, Mix::Mixed), (2, 2, 3));
    }
}
