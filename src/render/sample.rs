//! Sample lines, shared by both formats: `name{labels,le="…"} value [timestamp]`.
//!
//! The formats lay out a series' samples identically (expfmt order: buckets, `_sum`,
//! `_count`); they differ only in how `le`/`quantile` and timestamps are spelled, which a
//! [`Dialect`] supplies.

use super::float::{write_openmetrics_label_float, write_text_label_float};
use crate::model::labels::{escape_label_value, format_value};
use crate::model::{SampleValue, Series};

/// How one format spells the parts of a sample line that differ between formats.
pub(super) struct Dialect {
    /// Writes a `le`/`quantile` label value.
    label_float: fn(f64, &mut String),
    /// Writes a timestamp given in milliseconds.
    timestamp: fn(i64, &mut String),
}

/// Text 0.0.4: Go `%g` label floats, integer milliseconds.
pub(super) const TEXT: Dialect = Dialect {
    label_float: write_text_label_float,
    timestamp: write_millis,
};

/// OpenMetrics 1.0: canonical label floats (`1.0`), decimal seconds.
pub(super) const OPENMETRICS: Dialect = Dialect {
    label_float: write_openmetrics_label_float,
    timestamp: write_seconds,
};

/// Writes the sample lines of one series; every line shares its name, labels and timestamp.
pub(super) struct SeriesWriter<'a> {
    /// The family name the sample suffixes are appended to.
    pub name: &'a str,
    /// The series being written.
    pub series: &'a Series,
    /// The format's spelling.
    pub dialect: &'a Dialect,
}

impl SeriesWriter<'_> {
    /// Writes the value samples, naming a scalar's sample `name + value_suffix`.
    ///
    /// A histogram whose last bucket is not `+Inf` gets one holding the count, as expfmt
    /// adds it, so the output is always a valid histogram.
    pub fn write_values(&self, value_suffix: &str, out: &mut String) {
        match &self.series.value {
            SampleValue::Counter(v) | SampleValue::Gauge(v) | SampleValue::Untyped(v) => {
                self.write_line(value_suffix, None, *v, out);
            }
            SampleValue::Histogram(h) => {
                for b in &h.buckets {
                    let le = Some(("le", b.upper_bound));
                    self.write_line("_bucket", le, b.cumulative_count, out);
                }
                if h.buckets.last().map(|b| b.upper_bound) != Some(f64::INFINITY) {
                    self.write_line("_bucket", Some(("le", f64::INFINITY)), h.count, out);
                }
                self.write_line("_sum", None, h.sum, out);
                self.write_line("_count", None, h.count, out);
            }
            SampleValue::Summary(s) => {
                for q in &s.quantiles {
                    self.write_line("", Some(("quantile", q.quantile)), q.value, out);
                }
                self.write_line("_sum", None, s.sum, out);
                self.write_line("_count", None, s.count, out);
            }
        }
    }

    /// Writes `name+suffix{labels,extra} value [timestamp]`, with `extra` (`le`/`quantile`)
    /// last among the labels as expfmt places it.
    pub fn write_line(
        &self,
        suffix: &str,
        extra: Option<(&str, f64)>,
        value: f64,
        out: &mut String,
    ) {
        out.push_str(self.name);
        out.push_str(suffix);
        let pairs = self.series.labels.pairs();
        if !pairs.is_empty() || extra.is_some() {
            let mut sep = '{';
            for (label, label_value) in pairs {
                out.push(sep);
                out.push_str(label);
                out.push_str("=\"");
                escape_label_value(label_value, out);
                out.push('"');
                sep = ',';
            }
            if let Some((label, bound)) = extra {
                out.push(sep);
                out.push_str(label);
                out.push_str("=\"");
                (self.dialect.label_float)(bound, out);
                out.push('"');
            }
            out.push('}');
        }
        out.push(' ');
        format_value(value, out);
        if let Some(ms) = self.series.timestamp_ms {
            out.push(' ');
            (self.dialect.timestamp)(ms, out);
        }
        out.push('\n');
    }
}

/// Writes a timestamp as integer milliseconds, as text 0.0.4 wants it.
fn write_millis(ms: i64, out: &mut String) {
    out.push_str(&ms.to_string());
}

/// Writes a millisecond timestamp as exact decimal seconds (`1700000000.123`, `-0.5`, `12`).
fn write_seconds(ms: i64, out: &mut String) {
    let abs = ms.unsigned_abs();
    if ms < 0 {
        out.push('-');
    }
    out.push_str(&(abs / 1000).to_string());
    let frac = abs % 1000;
    if frac != 0 {
        let digits = format!("{frac:03}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Labels;

    #[test]
    fn seconds_formatting_edges() {
        let fmt = |ms: i64| {
            let mut s = String::new();
            write_seconds(ms, &mut s);
            s
        };
        assert_eq!(fmt(0), "0");
        assert_eq!(fmt(1), "0.001");
        assert_eq!(fmt(-1), "-0.001");
        assert_eq!(fmt(10), "0.01");
        assert_eq!(fmt(1_010), "1.01");
        assert_eq!(fmt(-1_500), "-1.5");
        assert_eq!(fmt(i64::MIN), "-9223372036854775.808");
        assert_eq!(fmt(i64::MAX), "9223372036854775.807");
    }

    #[test]
    fn dialects_differ_only_in_label_floats_and_timestamps() {
        let series = Series {
            labels: Labels::new(vec![("a".into(), "x".into())]).unwrap(),
            value: SampleValue::Gauge(1.0),
            timestamp_ms: Some(1_500),
            created: None,
        };
        let line = |dialect: &Dialect| {
            let mut out = String::new();
            let w = SeriesWriter {
                name: "m",
                series: &series,
                dialect,
            };
            w.write_line("_bucket", Some(("le", 1.0)), 2.0, &mut out);
            w.write_line("_sum", None, 0.5, &mut out);
            out
        };
        assert_eq!(
            line(&TEXT),
            "m_bucket{a=\"x\",le=\"1\"} 2 1500\nm_sum{a=\"x\"} 0.5 1500\n"
        );
        assert_eq!(
            line(&OPENMETRICS),
            "m_bucket{a=\"x\",le=\"1.0\"} 2 1.5\nm_sum{a=\"x\"} 0.5 1.5\n"
        );
    }
}
