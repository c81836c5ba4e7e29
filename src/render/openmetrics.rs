//! The OpenMetrics 1.0 text format, written as expfmt's OpenMetrics encoder writes it.
//!
//! Counters are stored under their text-format sample name (`foo_total`); OpenMetrics names
//! the family `foo` and its samples `foo_total` and `foo_created`. A legacy counter without
//! `_total` is written as `unknown` under its own name, as expfmt does, so its series keep
//! the same name whichever format Prometheus negotiates. `le`/`quantile` values use the
//! canonical OpenMetrics form (`1.0`), timestamps are seconds, and the output ends with
//! `# EOF`.
//!
//! Values are written as stored: OpenMetrics' rules on counter-like values (never NaN or
//! negative, no `_sum` with negative buckets) are for ingestion to enforce, as expfmt
//! leaves them to its callers too.

use std::collections::HashSet;

use super::sample::{self, SeriesWriter};
use super::sorted;
use crate::model::labels::escape_label_value;
use crate::model::{MetricFamily, MetricType, Series};

/// Appends the families in OpenMetrics 1.0 text (sorted, empty families skipped, `# EOF` last) to `out`.
pub fn render(families: &[MetricFamily], out: &mut String) {
    render_marked(families, "", out);
    out.push_str(EOF);
}

/// The last line of every OpenMetrics exposition.
pub const EOF: &str = "# EOF\n";

/// [`render`] without the `# EOF` line, also returning the offset in `out` where the first
/// family named `mark` or later starts (`out.len()` at the end when there is none).
pub fn render_marked(families: &[MetricFamily], mark: &str, out: &mut String) -> usize {
    let names: HashSet<&str> = families.iter().map(|f| f.name.as_str()).collect();
    let mut at = None;
    for (family, series) in sorted(families) {
        if at.is_none() && family.name.as_str() >= mark {
            at = Some(out.len());
        }
        let shape = Shape::of(family, &names);
        write_family(family, &shape, &series, out);
    }
    at.unwrap_or(out.len())
}

/// How one family appears in OpenMetrics: its family name, type and sample suffix.
struct Shape<'a> {
    /// The name in `# HELP`/`# TYPE`/`# UNIT` lines and the stem of `_created`.
    family_name: &'a str,
    /// The OpenMetrics type name.
    type_name: &'static str,
    /// Appended to `family_name` for a counter's value sample.
    value_suffix: &'static str,
    /// Whether `_created` samples may be written.
    created: bool,
}

impl<'a> Shape<'a> {
    fn of(family: &'a MetricFamily, names: &HashSet<&str>) -> Self {
        let name = family.name.as_str();
        let kind = family.kind;
        if kind == MetricType::Counter {
            if let Some(stem) = name.strip_suffix("_total").filter(|s| !s.is_empty()) {
                // A family already named like our stem (or its `_created` sample) would
                // clash with the counter in OpenMetrics; `unknown` keeps both valid.
                let created = format!("{stem}_created");
                if !names.contains(stem) && !names.contains(created.as_str()) {
                    return Shape {
                        family_name: stem,
                        type_name: "counter",
                        value_suffix: "_total",
                        created: true,
                    };
                }
            }
            return Shape {
                family_name: name,
                type_name: "unknown",
                value_suffix: "",
                created: false,
            };
        }
        Shape {
            family_name: name,
            type_name: kind.as_openmetrics(),
            value_suffix: "",
            created: matches!(kind, MetricType::Histogram | MetricType::Summary),
        }
    }
}

fn write_family(family: &MetricFamily, shape: &Shape<'_>, series: &[&Series], out: &mut String) {
    let name = shape.family_name;
    if let Some(help) = &family.help {
        out.push_str("# HELP ");
        out.push_str(name);
        out.push(' ');
        // OpenMetrics escapes HELP like a label value, quotes included.
        escape_label_value(help, out);
        out.push('\n');
    }
    out.push_str("# TYPE ");
    out.push_str(name);
    out.push(' ');
    out.push_str(shape.type_name);
    out.push('\n');
    if let Some(unit) = family.unit.as_deref().filter(|u| unit_matches(name, u)) {
        out.push_str("# UNIT ");
        out.push_str(name);
        out.push(' ');
        out.push_str(unit);
        out.push('\n');
    }
    for s in series {
        write_series(shape, s, out);
    }
}

/// OpenMetrics requires the unit to be a `_`-separated suffix of the family name.
fn unit_matches(name: &str, unit: &str) -> bool {
    !unit.is_empty()
        && name
            .strip_suffix(unit)
            .is_some_and(|rest| rest.ends_with('_'))
}

fn write_series(shape: &Shape<'_>, series: &Series, out: &mut String) {
    let writer = SeriesWriter {
        name: shape.family_name,
        series,
        dialect: &sample::OPENMETRICS,
    };
    writer.write_values(shape.value_suffix, out);
    // The timestamp goes on `_created` too: OpenMetrics forbids mixing timestamped and
    // untimestamped samples within one metric point.
    if let Some(created) = series.created.filter(|_| shape.created) {
        writer.write_line("_created", None, created, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Bucket, HistogramValue, Labels, Quantile, SampleValue, SummaryValue};

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::new(
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        )
        .unwrap()
    }

    fn series(pairs: &[(&str, &str)], value: SampleValue) -> Series {
        Series {
            labels: labels(pairs),
            value,
            timestamp_ms: None,
            created: None,
        }
    }

    fn family(
        name: &str,
        kind: MetricType,
        help: Option<&str>,
        series: Vec<Series>,
    ) -> MetricFamily {
        MetricFamily {
            name: name.into(),
            kind,
            help: help.map(str::to_string),
            unit: None,
            series,
        }
    }

    fn render_str(families: &[MetricFamily]) -> String {
        let mut out = String::new();
        render(families, &mut out);
        out
    }

    fn histogram(bounds_counts: &[(f64, f64)], sum: f64, count: f64) -> SampleValue {
        SampleValue::Histogram(HistogramValue {
            buckets: bounds_counts
                .iter()
                .map(|&(upper_bound, cumulative_count)| Bucket {
                    upper_bound,
                    cumulative_count,
                })
                .collect(),
            sum,
            count,
        })
    }

    #[test]
    fn empty_input_is_just_eof() {
        assert_eq!(render_str(&[]), "# EOF\n");
        assert_eq!(
            render_str(&[family("g", MetricType::Gauge, Some("h"), vec![])]),
            "# EOF\n"
        );
    }

    #[test]
    fn counter_drops_total_from_metadata_and_writes_created() {
        let mut s = series(&[("job", "api")], SampleValue::Counter(17.0));
        s.created = Some(1_700_000_000.25);
        let mut f = family(
            "http_request_seconds_total",
            MetricType::Counter,
            Some("Time."),
            vec![s],
        );
        f.unit = Some("seconds".into());
        assert_eq!(
            render_str(&[f]),
            "# HELP http_request_seconds Time.\n\
             # TYPE http_request_seconds counter\n\
             # UNIT http_request_seconds seconds\n\
             http_request_seconds_total{job=\"api\"} 17\n\
             http_request_seconds_created{job=\"api\"} 1700000000.25\n\
             # EOF\n"
        );
    }

    #[test]
    fn legacy_counter_is_unknown_under_its_own_name() {
        let mut s = series(&[], SampleValue::Counter(3.0));
        s.created = Some(5.0);
        let f = family("hits", MetricType::Counter, Some("Hits."), vec![s]);
        assert_eq!(
            render_str(&[f]),
            "# HELP hits Hits.\n# TYPE hits unknown\nhits 3\n# EOF\n"
        );
        let bare = family(
            "_total",
            MetricType::Counter,
            None,
            vec![series(&[], SampleValue::Counter(1.0))],
        );
        assert_eq!(
            render_str(&[bare]),
            "# TYPE _total unknown\n_total 1\n# EOF\n"
        );
    }

    #[test]
    fn counter_whose_stem_is_taken_stays_unknown() {
        let counter = family(
            "jobs_total",
            MetricType::Counter,
            None,
            vec![series(&[], SampleValue::Counter(2.0))],
        );
        let gauge = family(
            "jobs",
            MetricType::Gauge,
            None,
            vec![series(&[], SampleValue::Gauge(1.0))],
        );
        assert_eq!(
            render_str(&[counter.clone(), gauge]),
            "# TYPE jobs gauge\njobs 1\n# TYPE jobs_total unknown\njobs_total 2\n# EOF\n"
        );
        let created = family(
            "jobs_created",
            MetricType::Gauge,
            None,
            vec![series(&[], SampleValue::Gauge(1.0))],
        );
        assert_eq!(
            render_str(&[counter, created]),
            "# TYPE jobs_created gauge\njobs_created 1\n# TYPE jobs_total unknown\njobs_total 2\n# EOF\n"
        );
    }

    #[test]
    fn gauge_and_untyped_never_write_created() {
        let mut g = series(&[], SampleValue::Gauge(1.5));
        g.created = Some(9.0);
        let mut u = series(&[], SampleValue::Untyped(-2.0));
        u.created = Some(9.0);
        let gauge = family("temperature_celsius", MetricType::Gauge, None, vec![g]);
        let untyped = family("thing", MetricType::Untyped, Some("?"), vec![u]);
        assert_eq!(
            render_str(&[untyped, gauge]),
            "# TYPE temperature_celsius gauge\ntemperature_celsius 1.5\n\
             # HELP thing ?\n# TYPE thing unknown\nthing -2\n# EOF\n"
        );
    }

    #[test]
    fn unit_only_when_it_is_a_suffix() {
        let mk = |name: &str, unit: &str| {
            let mut f = family(
                name,
                MetricType::Gauge,
                None,
                vec![series(&[], SampleValue::Gauge(1.0))],
            );
            f.unit = Some(unit.into());
            render_str(&[f])
        };
        assert_eq!(
            mk("size_bytes", "bytes"),
            "# TYPE size_bytes gauge\n# UNIT size_bytes bytes\nsize_bytes 1\n# EOF\n"
        );
        assert_eq!(
            mk("sizebytes", "bytes"),
            "# TYPE sizebytes gauge\nsizebytes 1\n# EOF\n"
        );
        assert_eq!(mk("bytes", "bytes"), "# TYPE bytes gauge\nbytes 1\n# EOF\n");
        assert_eq!(
            mk("_bytes", "bytes"),
            "# TYPE _bytes gauge\n# UNIT _bytes bytes\n_bytes 1\n# EOF\n"
        );
        assert_eq!(
            mk("size_bytes", ""),
            "# TYPE size_bytes gauge\nsize_bytes 1\n# EOF\n"
        );
        assert_eq!(
            mk("size_bytes", "seconds"),
            "# TYPE size_bytes gauge\nsize_bytes 1\n# EOF\n"
        );
    }

    #[test]
    fn histogram_with_canonical_le_and_created() {
        let mut s = series(
            &[("zone", "b"), ("app", "x")],
            histogram(
                &[(0.05, 1.0), (1.0, 4.0), (1e6, 5.0), (f64::INFINITY, 6.0)],
                12.5,
                6.0,
            ),
        );
        s.created = Some(1.0e9);
        let mut f = family(
            "latency_seconds",
            MetricType::Histogram,
            Some("Latency."),
            vec![s],
        );
        f.unit = Some("seconds".into());
        assert_eq!(
            render_str(&[f]),
            "# HELP latency_seconds Latency.\n\
             # TYPE latency_seconds histogram\n\
             # UNIT latency_seconds seconds\n\
             latency_seconds_bucket{app=\"x\",zone=\"b\",le=\"0.05\"} 1\n\
             latency_seconds_bucket{app=\"x\",zone=\"b\",le=\"1.0\"} 4\n\
             latency_seconds_bucket{app=\"x\",zone=\"b\",le=\"1e+06\"} 5\n\
             latency_seconds_bucket{app=\"x\",zone=\"b\",le=\"+Inf\"} 6\n\
             latency_seconds_sum{app=\"x\",zone=\"b\"} 12.5\n\
             latency_seconds_count{app=\"x\",zone=\"b\"} 6\n\
             latency_seconds_created{app=\"x\",zone=\"b\"} 1000000000\n\
             # EOF\n"
        );
    }

    #[test]
    fn histogram_missing_inf_bucket_gets_one() {
        let f = family(
            "h",
            MetricType::Histogram,
            None,
            vec![series(&[], histogram(&[(0.0, 1.0)], 0.0, 2.0))],
        );
        assert_eq!(
            render_str(&[f]),
            "# TYPE h histogram\nh_bucket{le=\"0.0\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 0\nh_count 2\n# EOF\n"
        );
    }

    #[test]
    fn summary_with_quantiles_and_created() {
        let mut s = series(
            &[],
            SampleValue::Summary(SummaryValue {
                quantiles: vec![
                    Quantile {
                        quantile: 0.0,
                        value: 0.1,
                    },
                    Quantile {
                        quantile: 0.5,
                        value: 0.2,
                    },
                    Quantile {
                        quantile: 1.0,
                        value: 3.0,
                    },
                ],
                sum: 10.5,
                count: 7.0,
            }),
        );
        s.created = Some(12.5);
        let f = family("rpc_seconds", MetricType::Summary, None, vec![s]);
        assert_eq!(
            render_str(&[f]),
            "# TYPE rpc_seconds summary\n\
             rpc_seconds{quantile=\"0.0\"} 0.1\n\
             rpc_seconds{quantile=\"0.5\"} 0.2\n\
             rpc_seconds{quantile=\"1.0\"} 3\n\
             rpc_seconds_sum 10.5\n\
             rpc_seconds_count 7\n\
             rpc_seconds_created 12.5\n\
             # EOF\n"
        );
    }

    #[test]
    fn escapes_help_quotes_and_label_values() {
        let f = family(
            "g",
            MetricType::Gauge,
            Some("a \\ b\nc \"quoted\""),
            vec![series(
                &[("path", "C:\\dir\n\"x\"")],
                SampleValue::Gauge(1.0),
            )],
        );
        assert_eq!(
            render_str(&[f]),
            "# HELP g a \\\\ b\\nc \\\"quoted\\\"\n\
             # TYPE g gauge\n\
             g{path=\"C:\\\\dir\\n\\\"x\\\"\"} 1\n\
             # EOF\n"
        );
    }

    #[test]
    fn special_values() {
        let f = family(
            "g",
            MetricType::Gauge,
            None,
            vec![
                series(&[("v", "a")], SampleValue::Gauge(f64::NAN)),
                series(&[("v", "b")], SampleValue::Gauge(f64::INFINITY)),
                series(&[("v", "c")], SampleValue::Gauge(f64::NEG_INFINITY)),
                series(&[("v", "d")], SampleValue::Gauge(0.1)),
            ],
        );
        assert_eq!(
            render_str(&[f]),
            "# TYPE g gauge\ng{v=\"a\"} NaN\ng{v=\"b\"} +Inf\ng{v=\"c\"} -Inf\ng{v=\"d\"} 0.1\n# EOF\n"
        );
    }

    #[test]
    fn timestamps_are_seconds_on_every_line_of_the_series() {
        let mut c = series(&[("a", "1")], SampleValue::Counter(1.0));
        c.timestamp_ms = Some(1_700_000_000_123);
        c.created = Some(1_600_000_000.0);
        let mut d = series(&[("a", "2")], SampleValue::Counter(2.0));
        d.timestamp_ms = Some(1_700_000_000_500);
        let mut e = series(&[("a", "3")], SampleValue::Counter(3.0));
        e.timestamp_ms = Some(-1_500);
        let mut g = series(&[("a", "4")], SampleValue::Counter(4.0));
        g.timestamp_ms = Some(7_000);
        let f = family("c_total", MetricType::Counter, None, vec![g, e, d, c]);
        assert_eq!(
            render_str(&[f]),
            "# TYPE c counter\n\
             c_total{a=\"1\"} 1 1700000000.123\n\
             c_created{a=\"1\"} 1600000000 1700000000.123\n\
             c_total{a=\"2\"} 2 1700000000.5\n\
             c_total{a=\"3\"} 3 -1.5\n\
             c_total{a=\"4\"} 4 7\n\
             # EOF\n"
        );
    }

    #[test]
    fn sorts_families_by_stored_name_and_series_by_labels() {
        let b = family(
            "b",
            MetricType::Gauge,
            None,
            vec![
                series(&[("x", "2")], SampleValue::Gauge(2.0)),
                series(&[], SampleValue::Gauge(0.0)),
                series(&[("x", "1")], SampleValue::Gauge(1.0)),
            ],
        );
        let a = family(
            "a_total",
            MetricType::Counter,
            None,
            vec![series(&[], SampleValue::Counter(9.0))],
        );
        assert_eq!(
            render_str(&[b, a]),
            "# TYPE a counter\na_total 9\n# TYPE b gauge\nb 0\nb{x=\"1\"} 1\nb{x=\"2\"} 2\n# EOF\n"
        );
    }
}
