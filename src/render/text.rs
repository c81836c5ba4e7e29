//! The Prometheus text exposition format 0.0.4, written as expfmt's text encoder writes it.
//!
//! Unlike prometheus/client_rust (its issue #151), label values and HELP are escaped.
//! `_created` is not part of this format and is never written; timestamps are written
//! (in milliseconds) only when the series has one.

use super::sample::{self, SeriesWriter};
use super::sorted;
use crate::model::labels::escape_help;
use crate::model::{MetricFamily, Series};

/// Appends the families in text format 0.0.4 (sorted, empty families skipped) to `out`.
pub fn render(families: &[MetricFamily], out: &mut String) {
    render_marked(families, "", out);
}

/// [`render`], also returning the offset in `out` where the first family named `mark` or
/// later starts (`out.len()` at the end when there is none).
pub fn render_marked(families: &[MetricFamily], mark: &str, out: &mut String) -> usize {
    let mut at = None;
    for (family, series) in sorted(families) {
        if at.is_none() && family.name.as_str() >= mark {
            at = Some(out.len());
        }
        write_family(family, &series, out);
    }
    at.unwrap_or(out.len())
}

fn write_family(family: &MetricFamily, series: &[&Series], out: &mut String) {
    let name = family.name.as_str();
    if let Some(help) = &family.help {
        out.push_str("# HELP ");
        out.push_str(name);
        out.push(' ');
        escape_help(help, out);
        out.push('\n');
    }
    out.push_str("# TYPE ");
    out.push_str(name);
    out.push(' ');
    out.push_str(family.kind.as_text());
    out.push('\n');
    for s in series {
        write_series(name, s, out);
    }
}

fn write_series(name: &str, series: &Series, out: &mut String) {
    let writer = SeriesWriter {
        name,
        series,
        dialect: &sample::TEXT,
    };
    writer.write_values("", out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Bucket, HistogramValue, Labels, MetricType, Quantile, SampleValue, SummaryValue,
    };

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
    fn counter_with_help_labels_and_created_ignored() {
        let mut s = series(&[("job", "api")], SampleValue::Counter(17.0));
        s.created = Some(1_700_000_000.5);
        let f = family(
            "http_requests_total",
            MetricType::Counter,
            Some("Requests."),
            vec![s],
        );
        assert_eq!(
            render_str(&[f]),
            "# HELP http_requests_total Requests.\n\
             # TYPE http_requests_total counter\n\
             http_requests_total{job=\"api\"} 17\n"
        );
    }

    #[test]
    fn legacy_counter_without_total_keeps_its_name() {
        let f = family(
            "hits",
            MetricType::Counter,
            None,
            vec![series(&[], SampleValue::Counter(3.0))],
        );
        assert_eq!(render_str(&[f]), "# TYPE hits counter\nhits 3\n");
    }

    #[test]
    fn gauge_and_untyped_without_help() {
        let g = family(
            "temp_celsius",
            MetricType::Gauge,
            None,
            vec![series(&[], SampleValue::Gauge(-3.25))],
        );
        let u = family(
            "mystery",
            MetricType::Untyped,
            None,
            vec![series(&[("a", "b")], SampleValue::Untyped(1e-9))],
        );
        assert_eq!(
            render_str(&[g, u]),
            "# TYPE mystery untyped\nmystery{a=\"b\"} 1e-9\n\
             # TYPE temp_celsius gauge\ntemp_celsius -3.25\n"
        );
    }

    #[test]
    fn histogram_puts_le_last_and_formats_bounds_like_go() {
        let h = histogram(
            &[
                (0.05, 1.0),
                (0.5, 2.0),
                (1.0, 4.0),
                (1e6, 5.0),
                (f64::INFINITY, 6.0),
            ],
            12.5,
            6.0,
        );
        let f = family(
            "latency_seconds",
            MetricType::Histogram,
            Some("Latency."),
            vec![series(&[("zone", "b"), ("app", "x")], h)],
        );
        assert_eq!(
            render_str(&[f]),
            "# HELP latency_seconds Latency.\n\
             # TYPE latency_seconds histogram\n\
             latency_seconds_bucket{app=\"x\",zone=\"b\",le=\"0.05\"} 1\n\
             latency_seconds_bucket{app=\"x\",zone=\"b\",le=\"0.5\"} 2\n\
             latency_seconds_bucket{app=\"x\",zone=\"b\",le=\"1\"} 4\n\
             latency_seconds_bucket{app=\"x\",zone=\"b\",le=\"1e+06\"} 5\n\
             latency_seconds_bucket{app=\"x\",zone=\"b\",le=\"+Inf\"} 6\n\
             latency_seconds_sum{app=\"x\",zone=\"b\"} 12.5\n\
             latency_seconds_count{app=\"x\",zone=\"b\"} 6\n"
        );
    }

    #[test]
    fn histogram_without_labels_and_missing_inf_bucket_gets_one() {
        let h = histogram(&[(1.0, 2.0)], 3.0, 5.0);
        let f = family("h", MetricType::Histogram, None, vec![series(&[], h)]);
        assert_eq!(
            render_str(&[f]),
            "# TYPE h histogram\n\
             h_bucket{le=\"1\"} 2\n\
             h_bucket{le=\"+Inf\"} 5\n\
             h_sum 3\n\
             h_count 5\n"
        );
        let empty = family(
            "e",
            MetricType::Histogram,
            None,
            vec![series(&[], histogram(&[], 0.0, 0.0))],
        );
        assert_eq!(
            render_str(&[empty]),
            "# TYPE e histogram\ne_bucket{le=\"+Inf\"} 0\ne_sum 0\ne_count 0\n"
        );
    }

    #[test]
    fn summary_with_quantiles() {
        let v = SampleValue::Summary(SummaryValue {
            quantiles: vec![
                Quantile {
                    quantile: 0.5,
                    value: 0.2,
                },
                Quantile {
                    quantile: 0.99,
                    value: f64::NAN,
                },
                Quantile {
                    quantile: 1.0,
                    value: 3.0,
                },
            ],
            sum: 10.5,
            count: 7.0,
        });
        let f = family(
            "rpc_seconds",
            MetricType::Summary,
            None,
            vec![series(&[("m", "get")], v)],
        );
        assert_eq!(
            render_str(&[f]),
            "# TYPE rpc_seconds summary\n\
             rpc_seconds{m=\"get\",quantile=\"0.5\"} 0.2\n\
             rpc_seconds{m=\"get\",quantile=\"0.99\"} NaN\n\
             rpc_seconds{m=\"get\",quantile=\"1\"} 3\n\
             rpc_seconds_sum{m=\"get\"} 10.5\n\
             rpc_seconds_count{m=\"get\"} 7\n"
        );
        let bare = SampleValue::Summary(SummaryValue {
            quantiles: vec![],
            sum: 0.0,
            count: 0.0,
        });
        let f = family("s", MetricType::Summary, None, vec![series(&[], bare)]);
        assert_eq!(render_str(&[f]), "# TYPE s summary\ns_sum 0\ns_count 0\n");
    }

    #[test]
    fn escapes_label_values_and_help() {
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
            "# HELP g a \\\\ b\\nc \"quoted\"\n\
             # TYPE g gauge\n\
             g{path=\"C:\\\\dir\\n\\\"x\\\"\"} 1\n"
        );
    }

    #[test]
    fn empty_help_is_written_when_present() {
        let f = family(
            "g",
            MetricType::Gauge,
            Some(""),
            vec![series(&[], SampleValue::Gauge(0.0))],
        );
        assert_eq!(render_str(&[f]), "# HELP g \n# TYPE g gauge\ng 0\n");
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
                series(&[("v", "d")], SampleValue::Gauge(-0.0)),
                series(&[("v", "e")], SampleValue::Gauge(1.5e300)),
            ],
        );
        assert_eq!(
            render_str(&[f]),
            "# TYPE g gauge\n\
             g{v=\"a\"} NaN\n\
             g{v=\"b\"} +Inf\n\
             g{v=\"c\"} -Inf\n\
             g{v=\"d\"} -0\n\
             g{v=\"e\"} 1.5e300\n"
        );
    }

    #[test]
    fn timestamps_only_when_present() {
        let mut with = series(&[("a", "1")], SampleValue::Gauge(2.0));
        with.timestamp_ms = Some(1_700_000_000_123);
        let mut negative = series(&[("a", "2")], SampleValue::Gauge(2.0));
        negative.timestamp_ms = Some(-5);
        let without = series(&[("a", "3")], SampleValue::Gauge(2.0));
        let mut hist = series(&[], histogram(&[(f64::INFINITY, 1.0)], 1.0, 1.0));
        hist.timestamp_ms = Some(42);
        let f = family("g", MetricType::Gauge, None, vec![without, negative, with]);
        let h = family("h", MetricType::Histogram, None, vec![hist]);
        assert_eq!(
            render_str(&[h, f]),
            "# TYPE g gauge\n\
             g{a=\"1\"} 2 1700000000123\n\
             g{a=\"2\"} 2 -5\n\
             g{a=\"3\"} 2\n\
             # TYPE h histogram\n\
             h_bucket{le=\"+Inf\"} 1 42\n\
             h_sum 1 42\n\
             h_count 1 42\n"
        );
    }

    #[test]
    fn sorts_families_and_series_and_skips_empty_families() {
        let b = family(
            "b",
            MetricType::Gauge,
            None,
            vec![
                series(&[("x", "2")], SampleValue::Gauge(2.0)),
                series(&[], SampleValue::Gauge(0.0)),
                series(&[("x", "1"), ("y", "9")], SampleValue::Gauge(1.5)),
                series(&[("x", "1")], SampleValue::Gauge(1.0)),
                series(&[("w", "z")], SampleValue::Gauge(3.0)),
            ],
        );
        let a = family(
            "a",
            MetricType::Gauge,
            Some("first"),
            vec![series(&[], SampleValue::Gauge(9.0))],
        );
        let empty = family("aa", MetricType::Counter, Some("nothing yet"), vec![]);
        assert_eq!(
            render_str(&[b, empty, a]),
            "# HELP a first\n# TYPE a gauge\na 9\n\
             # TYPE b gauge\n\
             b 0\n\
             b{w=\"z\"} 3\n\
             b{x=\"1\"} 1\n\
             b{x=\"1\",y=\"9\"} 1.5\n\
             b{x=\"2\"} 2\n"
        );
    }

    #[test]
    fn nothing_to_render_appends_nothing() {
        let mut out = String::from("keep");
        render(&[], &mut out);
        render(&[family("e", MetricType::Gauge, None, vec![])], &mut out);
        assert_eq!(out, "keep");
    }
}
