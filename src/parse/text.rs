//! Prometheus text exposition format 0.0.4.
//!
//! Grammar and semantics follow the format's specification and Prometheus' own parsers
//! (`model/textparse/promparse.go`, and `expfmt`'s parser that Pushgateway uses):
//!
//! - lines end with `\n` (a `\r\n` ending is refused with its own error); blank lines and
//!   `#` lines other than `# HELP` / `# TYPE` are ignored; tokens are separated by runs of
//!   spaces or tabs;
//! - `# HELP name text` (escapes `\\`, `\n`) and `# TYPE name type` at most once per family,
//!   before its samples; all lines of a family form one group;
//! - `name{label="value",...} value [timestamp_ms]`, with a trailing comma allowed in the label
//!   set, label values escaped with `\\`, `\"`, `\n` (any other escape is refused, as
//!   Pushgateway's parser does), values in Go float syntax;
//! - histograms group `_bucket` (`le`), `_sum` and `_count`; summaries the samples with
//!   `quantile` and `_sum`, `_count`;
//! - the `_created` gauges that Python's client writes next to a counter, histogram or summary
//!   are folded into that family's series (see [`super::created`]).

use crate::model::MetricFamily;

use super::assemble::{Assembler, Kind, Meta};
use super::created::attach_created;
use super::error::{ParseError, ParseErrorKind};
use super::lexer::{unescape_help, Cursor, Dialect, RawLabel};
use super::lines::Lines;
use super::number::{parse_float, parse_millis};

/// Parses a text-format 0.0.4 body into metric families (in input order).
pub fn parse(input: &str) -> Result<Vec<MetricFamily>, ParseError> {
    if input.starts_with('\u{feff}') {
        return Err(ParseErrorKind::ByteOrderMark.at(1));
    }
    let mut asm = Assembler::new(Dialect::Text);
    let mut labels: Vec<RawLabel<'_>> = Vec::new();
    for (n, line) in Lines::new(input) {
        parse_line(&mut asm, &mut labels, line, n).map_err(|k| k.at(n))?;
    }
    let mut families = asm.finish()?;
    attach_created(&mut families);
    Ok(families)
}

fn parse_line<'a>(
    asm: &mut Assembler,
    labels: &mut Vec<RawLabel<'a>>,
    line: &'a str,
    n: usize,
) -> Result<(), ParseErrorKind> {
    if line.ends_with('\r') {
        return Err(ParseErrorKind::CarriageReturn);
    }
    let mut c = Cursor::new(line, Dialect::Text);
    c.skip_blanks();
    match c.peek() {
        None => Ok(()),
        Some(b'#') => comment(asm, c, n),
        Some(_) => sample(asm, labels, c, n),
    }
}

/// A `#` line: HELP, TYPE, or a comment to ignore.
fn comment(asm: &mut Assembler, mut c: Cursor<'_>, n: usize) -> Result<(), ParseErrorKind> {
    c.eat(b'#');
    // As in Prometheus, `#HELP` and `# HELP` without anything after it are plain comments.
    if !c.skip_blanks() {
        return Ok(());
    }
    let word = c.token();
    let is_help = match word {
        "HELP" => true,
        "TYPE" => false,
        _ => return Ok(()),
    };
    if !c.skip_blanks() {
        return Ok(());
    }
    let name = c.metric_name()?;
    c.skip_blanks();
    let meta = if is_help {
        Meta::Help(unescape_help(c.rest(), Dialect::Text)?)
    } else {
        let word = c.token();
        if word.is_empty() {
            return Err(c.expected("metric type"));
        }
        let kind = match word {
            "counter" => Kind::Counter,
            "gauge" => Kind::Gauge,
            "histogram" => Kind::Histogram,
            "summary" => Kind::Summary,
            "untyped" => Kind::Untyped,
            other => {
                return Err(ParseErrorKind::UnknownType {
                    found: other.to_string(),
                    expected: "counter, gauge, histogram, summary, untyped",
                })
            }
        };
        c.skip_blanks();
        if !c.at_end() {
            return Err(c.expected("end of line after the metric type"));
        }
        Meta::Type(kind)
    };
    asm.metadata(name, meta, n)
}

/// A sample line: `name{labels} value [timestamp]`.
fn sample<'a>(
    asm: &mut Assembler,
    labels: &mut Vec<RawLabel<'a>>,
    mut c: Cursor<'a>,
    n: usize,
) -> Result<(), ParseErrorKind> {
    let name = c.metric_name()?;
    c.skip_blanks();
    labels.clear();
    if c.eat(b'{') {
        c.labels(labels)?;
        c.skip_blanks();
    }
    let token = c.token();
    if token.is_empty() {
        return Err(c.expected("sample value"));
    }
    let value =
        parse_float(token).ok_or_else(|| ParseErrorKind::InvalidValue(token.to_string()))?;
    c.skip_blanks();
    let mut timestamp = None;
    if !c.at_end() {
        let token = c.token();
        timestamp = Some(
            parse_millis(token).ok_or_else(|| ParseErrorKind::InvalidTimestamp {
                token: token.to_string(),
                expected: "integer milliseconds since the epoch",
            })?,
        );
        c.skip_blanks();
        if !c.at_end() {
            return Err(c.expected("end of line after the timestamp"));
        }
    }
    let (fam, part) = asm.resolve(name, n)?;
    asm.add_sample(fam, part, name, labels, value, timestamp, n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Bucket, HistogramValue, MetricType, Quantile, SampleValue, Series, SummaryValue,
    };
    use crate::parse::test_util::{
        assert_model_invariants, family, fixture, labels, line_and_message, series,
    };

    fn ok(input: &str) -> Vec<MetricFamily> {
        let fams = parse(input).unwrap_or_else(|e| panic!("{e}\n{input}"));
        assert_model_invariants(&fams);
        fams
    }

    fn err(input: &str) -> (usize, String) {
        match parse(input) {
            Ok(f) => panic!("accepted {input:?}: {f:?}"),
            Err(e) => line_and_message(&e),
        }
    }

    fn kind(input: &str) -> (usize, ParseErrorKind) {
        let e = parse(input).unwrap_err();
        (e.line, e.kind)
    }

    #[test]
    fn original_worker_readme_body() {
        let body = "# TYPE some_metric counter\nsome_metric{label=\"val1\"} 42\n# TYPE another_metric gauge\n# HELP another_metric Just an example.\nanother_metric 2398.283\n";
        let fams = ok(body);
        assert_eq!(
            fams,
            vec![
                MetricFamily {
                    name: "some_metric".into(),
                    kind: MetricType::Counter,
                    help: None,
                    unit: None,
                    series: vec![series(&[("label", "val1")], SampleValue::Counter(42.0))],
                },
                MetricFamily {
                    name: "another_metric".into(),
                    kind: MetricType::Gauge,
                    help: Some("Just an example.".into()),
                    unit: None,
                    series: vec![series(&[], SampleValue::Gauge(2398.283))],
                },
            ]
        );
    }

    #[test]
    fn whitespace_comments_and_blank_lines() {
        let body = "\n  # a comment\n#another\n# HELP\n#\n\t# TYPE  g \t gauge \t\n   g  {  a = \"1\" , b=\"2\" , }   3 \t 1700000000000  \n\ng{} 4\n";
        let f = ok(body);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].kind, MetricType::Gauge);
        let s = &f[0].series;
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].labels, labels(&[("a", "1"), ("b", "2")]));
        assert_eq!(s[0].timestamp_ms, Some(1_700_000_000_000));
        assert_eq!(s[1].labels, labels(&[]));
        assert_eq!(s[1].value, SampleValue::Gauge(4.0));
        // `g{}` and `g` are the same series.
        assert_eq!(
            kind(&format!("{body}g 5\n")),
            (
                10,
                ParseErrorKind::DuplicateSample {
                    sample: "g".into(),
                    first_line: 9
                }
            )
        );
    }

    #[test]
    fn duplicate_empty_label_set_is_reported_with_lines() {
        assert_eq!(
            err("g{} 1\ng 2\n"),
            (2, "duplicate sample g (first given at line 1)".into())
        );
    }

    #[test]
    fn help_text() {
        let f = ok("# HELP m  a \\\\ b \\n c \"q\" é  \nm 1\n# HELP n\n# HELP o \n");
        assert_eq!(f[0].help.as_deref(), Some("a \\ b \n c \"q\" é  "));
        assert_eq!(
            err("# HELP m a\\tb\nm 1\n"),
            (
                1,
                r#"invalid escape sequence "\t" in HELP text (only \\ and \n are allowed)"#.into()
            )
        );
        // `# HELP` with a name and no text is an empty HELP, which counts as none.
        let f = ok("# HELP m\n# HELP m real\nm 1\n");
        assert_eq!(f[0].help.as_deref(), Some("real"));
    }

    #[test]
    fn values_in_go_float_syntax() {
        let body = "a NaN\nb +Inf\nc -Inf\nd Inf\ne 1e3\nf .5\ng -0.25e-2\nh 0042\n";
        let f = ok(body);
        let v: Vec<f64> = f
            .iter()
            .map(|f| match f.series[0].value {
                SampleValue::Untyped(v) => v,
                _ => panic!(),
            })
            .collect();
        assert!(v[0].is_nan());
        assert_eq!(
            &v[1..],
            &[
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::INFINITY,
                1000.0,
                0.5,
                -0.0025,
                42.0
            ]
        );
        assert!(f.iter().all(|f| f.kind == MetricType::Untyped));
        for bad in ["x 1,5", "x 0x10", "x 1_000", "x abc", "x -NaN", "x 1e999"] {
            let (line, k) = kind(bad);
            assert_eq!(line, 1);
            assert!(matches!(k, ParseErrorKind::InvalidValue(_)), "{bad}: {k}");
        }
        assert_eq!(
            err("# ok\nx 12a\n"),
            (
                2,
                "invalid sample value \"12a\": expected a float, NaN, +Inf or -Inf".into()
            )
        );
    }

    #[test]
    fn timestamps() {
        let f = ok("a 1 -5\nb{x=\"y\"} 2 1395066363000\n");
        assert_eq!(f[0].series[0].timestamp_ms, Some(-5));
        assert_eq!(f[1].series[0].timestamp_ms, Some(1_395_066_363_000));
        assert_eq!(
            err("a 1\na 1 1.5\n").0,
            2,
            "the duplicate or the timestamp, line 2 either way"
        );
        assert_eq!(
            err("b 1 1.5\n"),
            (
                1,
                "invalid timestamp \"1.5\": expected integer milliseconds since the epoch".into()
            )
        );
        assert_eq!(
            err("b 1 15 extra\n"),
            (
                1,
                "expected end of line after the timestamp, found 'e'".into()
            )
        );
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let cases: &[(&str, usize, &str)] = &[
            ("a 1\nfoo\n", 2, "expected sample value, found end of line"),
            ("foo{a=\"1\"}\n", 1, "expected sample value, found end of line"),
            ("a 1\n\n9foo 1\n", 3, "invalid metric name \"9foo\": must match [a-zA-Z_:][a-zA-Z0-9_:]* (UTF-8 names are not supported)"),
            ("foo-bar 1\n", 1, "invalid metric name \"foo-bar\": must match [a-zA-Z_:][a-zA-Z0-9_:]* (UTF-8 names are not supported)"),
            ("{a=\"1\"} 1\n", 1, "expected metric name, found '{'"),
            ("foo{\"a\"=\"1\"} 1\n", 1, "quoted metric and label names are not supported (UTF-8 names are refused); names must match [a-zA-Z_:][a-zA-Z0-9_:]*"),
            ("foo{a.b=\"1\"} 1\n", 1, "invalid label name \"a.b\": must match [a-zA-Z_][a-zA-Z0-9_]* (UTF-8 names are not supported)"),
            ("foo{__x=\"1\"} 1\n", 1, "label name \"__x\" is reserved (names starting with \"__\" belong to Prometheus)"),
            ("foo{a=\"1\",a=\"2\"} 1\n", 1, "duplicate label \"a\""),
            ("foo{a=\"1\" b=\"2\"} 1\n", 1, "expected ',' or '}' after the label value, found 'b'"),
            ("foo{a:\"1\"} 1\n", 1, "invalid label name \"a:\\\"1\\\"\": must match [a-zA-Z_][a-zA-Z0-9_]* (UTF-8 names are not supported)"),
            ("foo{a=1} 1\n", 1, "expected '\"' opening the label value, found '1'"),
            ("foo{a=\"1\\x\"} 1\n", 1, r#"invalid escape sequence "\x" in label value (only \\, \" and \n are allowed)"#),
            ("foo{a=\"1} 1\n", 1, "label value is not closed by '\"' before the end of the line (raw newlines must be escaped as \\n)"),
            ("foo{a=\"1\"\n", 1, "expected ',' or '}' after the label value, found end of line"),
            ("foo{\n", 1, "expected label name or '}', found end of line"),
            ("a 1\r\n", 1, "line ends with a carriage return: lines must end with \\n alone"),
            ("\u{feff}a 1\n", 1, "body starts with a byte order mark (U+FEFF); send UTF-8 without one"),
            ("# TYPE a gauges\n", 1, "unknown metric type \"gauges\" (expected one of: counter, gauge, histogram, summary, untyped)"),
            ("# TYPE a Counter\n", 1, "unknown metric type \"Counter\" (expected one of: counter, gauge, histogram, summary, untyped)"),
            ("# TYPE a\n", 1, "expected metric type, found end of line"),
            ("# TYPE a gauge x\n", 1, "expected end of line after the metric type, found 'x'"),
            ("# TYPE \n", 1, "expected metric name, found end of line"),
            ("# HELP 1a x\n", 1, "invalid metric name \"1a\": must match [a-zA-Z_:][a-zA-Z0-9_:]* (UTF-8 names are not supported)"),
        ];
        for (input, line, msg) in cases {
            assert_eq!(err(input), (*line, msg.to_string()), "{input:?}");
        }
    }

    #[test]
    fn metadata_rules() {
        let cases: &[(&str, usize, &str)] = &[
            ("# HELP a x\n# HELP a y\n", 2, "second HELP line for metric family \"a\""),
            ("# TYPE a gauge\n# TYPE a counter\n", 2, "second TYPE line for metric family \"a\""),
            ("a 1\n# TYPE a gauge\n", 2, "TYPE line for metric family \"a\" comes after its samples; metadata must come first"),
            ("a 1\n# HELP a x\n", 2, "HELP line for metric family \"a\" comes after its samples; metadata must come first"),
            ("a 1\nb 1\na{x=\"1\"} 2\n", 3, "metric family \"a\" continues here after other families; all lines of a family must form one group (it started at line 1)"),
            ("# TYPE a gauge\n# TYPE b gauge\na 1\n", 3, "metric family \"a\" continues here after other families; all lines of a family must form one group (it started at line 1)"),
            ("# HELP a x\nb 1\n# TYPE a gauge\n", 3, "metric family \"a\" continues here after other families; all lines of a family must form one group (it started at line 1)"),
            ("# TYPE h histogram\nh_sum 1\nb 1\nh_count 1\n", 4, "metric family \"h\" continues here after other families; all lines of a family must form one group (it started at line 1)"),
        ];
        for (input, line, msg) in cases {
            assert_eq!(err(input), (*line, msg.to_string()), "{input:?}");
        }
        // HELP and TYPE in either order; a family with metadata and no samples is dropped.
        let f = ok("# TYPE a counter\n# HELP a x\na 1\n# HELP empty y\n# TYPE empty gauge\n");
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].kind, f[0].help.as_deref()),
            (MetricType::Counter, Some("x"))
        );
        assert_eq!(parse("").unwrap(), vec![]);
        assert_eq!(parse("\n\n# just a comment\n").unwrap(), vec![]);
    }

    #[test]
    fn counters_must_not_decrease() {
        let msg = |s: &str| format!("counter increments must be non-negative numbers: {s}");
        assert_eq!(err("# TYPE c counter\nc -1\n"), (2, msg("c is -1")));
        assert_eq!(
            err("# TYPE c counter\nc{a=\"x\"} NaN\n"),
            (2, msg("c{a=\"x\"} is NaN"))
        );
        assert_eq!(
            err("# TYPE h histogram\nh_bucket{le=\"+Inf\"} -1\n"),
            (2, msg("h_bucket{le=\"+Inf\"} is -1"))
        );
        assert_eq!(
            err("# TYPE s summary\ns_count NaN\n"),
            (2, msg("s_count is NaN"))
        );
        // Gauges and untyped may be anything; counters may be +Inf and zero.
        ok("# TYPE g gauge\ng -1\nu NaN\n# TYPE c counter\nc{a=\"1\"} 0\nc{a=\"2\"} +Inf\n");
    }

    const HIST: &str = "# HELP h Latency.\n# TYPE h histogram\nh_bucket{path=\"/a\",le=\"0.5\"} 1\nh_bucket{path=\"/a\",le=\"1\"} 3\nh_bucket{path=\"/a\",le=\"+Inf\"} 4\nh_sum{path=\"/a\"} 3.5\nh_count{path=\"/a\"} 4\n";

    #[test]
    fn histograms() {
        let f = ok(HIST);
        assert_eq!(
            f,
            vec![MetricFamily {
                name: "h".into(),
                kind: MetricType::Histogram,
                help: Some("Latency.".into()),
                unit: None,
                series: vec![series(
                    &[("path", "/a")],
                    SampleValue::Histogram(HistogramValue {
                        buckets: vec![
                            Bucket {
                                upper_bound: 0.5,
                                cumulative_count: 1.0
                            },
                            Bucket {
                                upper_bound: 1.0,
                                cumulative_count: 3.0
                            },
                            Bucket {
                                upper_bound: f64::INFINITY,
                                cumulative_count: 4.0
                            },
                        ],
                        sum: 3.5,
                        count: 4.0
                    })
                )],
            }]
        );
    }

    #[test]
    fn histogram_samples_in_any_order_and_interleaved_series() {
        let body = "# TYPE h histogram\nh_count{x=\"b\"} 1\nh_bucket{le=\"+Inf\",x=\"a\"} 2\nh_bucket{x=\"b\",le=\"+Inf\"} 1\nh_bucket{le=\"1e0\",x=\"a\"} 1\nh_sum{x=\"a\"} 1.5\nh_sum{x=\"b\"} 0\nh_count{x=\"a\"} 2\n";
        let f = ok(body);
        assert_eq!(f[0].series.len(), 2);
        assert_eq!(f[0].series[0].labels, labels(&[("x", "b")]));
        let SampleValue::Histogram(a) = &f[0].series[1].value else {
            panic!()
        };
        assert_eq!(a.bounds(), vec![1.0, f64::INFINITY]);
        assert_eq!((a.sum, a.count), (1.5, 2.0));
    }

    #[test]
    fn histogram_errors() {
        let h = "# TYPE h histogram\n";
        let cases: Vec<(String, usize, &str)> = vec![
            (format!("{h}h 1\n"), 2, "sample \"h\" does not fit histogram family \"h\": expected h_bucket, h_sum or h_count"),
            (format!("{h}h_bucket 1\n"), 2, "sample h_bucket has no \"le\" label"),
            (format!("{h}h_sum{{le=\"1\"}} 1\n"), 2, "sample h_sum{le=\"1\"} must not have a \"le\" label"),
            (format!("{h}h_bucket{{le=\"x\"}} 1\n"), 2, "invalid le value \"x\": expected a float or +Inf"),
            (format!("{h}h_bucket{{le=\"NaN\"}} 1\n"), 2, "invalid le value \"NaN\": must not be NaN"),
            (format!("{h}h_bucket{{le=\"1\",le=\"2\"}} 1\n"), 2, "duplicate label \"le\""),
            (format!("{h}h_bucket{{le=\"1\"}} 1\nh_bucket{{le=\"1.0\"}} 1\n"), 3, "duplicate sample h_bucket{le=\"1\"} (first given at line 2)"),
            (format!("{h}h_bucket{{a=\"x\",le=\"+Inf\"}} 1\nh_sum{{a=\"x\"}} 1\nh_sum{{a=\"x\"}} 2\n"), 4, "duplicate sample h_sum{a=\"x\"} (first given at line 3)"),
            (format!("{h}h_bucket{{le=\"1\"}} 1\nh_sum 1\nh_count 1\n"), 2, "histogram h has no le=\"+Inf\" bucket"),
            (format!("{h}h_bucket{{le=\"+Inf\",a=\"b\"}} 1\nh_count{{a=\"b\"}} 1\n"), 2, "histogram h{a=\"b\"} has no _sum sample"),
            (format!("{h}h_bucket{{le=\"+Inf\"}} 1\nh_sum 1\n"), 2, "histogram h has no _count sample"),
            (format!("{h}h_sum 1\nh_count 1\n"), 2, "histogram h has no le=\"+Inf\" bucket"),
            (format!("{h}h_bucket{{le=\"1\"}} 5\nh_bucket{{le=\"2\"}} 4\nh_bucket{{le=\"+Inf\"}} 6\nh_sum 1\nh_count 6\n"), 3, "histogram h: bucket le=\"2\" has count 4, less than 5 in the bucket below; buckets are cumulative"),
            (format!("{h}h_bucket{{le=\"+Inf\"}} 6\nh_sum 1\nh_count 7\n"), 4, "histogram h: _count 7 differs from the le=\"+Inf\" bucket 6"),
        ];
        for (input, line, msg) in cases {
            assert_eq!(err(&input), (line, msg.to_string()), "{input:?}");
        }
    }

    #[test]
    fn negative_zero_bounds_are_zero() {
        let f = ok("# TYPE h histogram\nh_bucket{le=\"-0\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n");
        let SampleValue::Histogram(v) = &f[0].series[0].value else {
            panic!()
        };
        assert!(v.buckets[0].upper_bound.is_sign_positive());
        assert_eq!(
            err("# TYPE h histogram\nh_bucket{le=\"-0\"} 0\nh_bucket{le=\"0\"} 0\n").0,
            3
        );
    }

    #[test]
    fn le_without_histogram_type_is_an_ordinary_label() {
        let f = ok("h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\n");
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].name, "h_bucket");
        assert_eq!(f[0].kind, MetricType::Untyped);
        assert_eq!(f[0].series[1].labels, labels(&[("le", "+Inf")]));
    }

    #[test]
    fn summaries() {
        let body = "# TYPE s summary\ns{quantile=\"0.99\",m=\"GET\"} 9\ns{m=\"GET\",quantile=\"0.5\"} 5\ns_sum{m=\"GET\"} 100\ns_count{m=\"GET\"} 20\ns_sum 0\ns_count 0\n";
        let f = ok(body);
        assert_eq!(
            f[0].series,
            vec![
                series(
                    &[("m", "GET")],
                    SampleValue::Summary(SummaryValue {
                        quantiles: vec![
                            Quantile {
                                quantile: 0.5,
                                value: 5.0
                            },
                            Quantile {
                                quantile: 0.99,
                                value: 9.0
                            }
                        ],
                        sum: 100.0,
                        count: 20.0
                    })
                ),
                series(
                    &[],
                    SampleValue::Summary(SummaryValue {
                        quantiles: vec![],
                        sum: 0.0,
                        count: 0.0
                    })
                ),
            ]
        );
        let s = "# TYPE s summary\n";
        let cases: Vec<(String, usize, &str)> = vec![
            (format!("{s}s 1\n"), 2, "sample s has no \"quantile\" label"),
            (format!("{s}s_sum{{quantile=\"0.5\"}} 1\n"), 2, "sample s_sum{quantile=\"0.5\"} must not have a \"quantile\" label"),
            (format!("{s}s{{quantile=\"1.5\"}} 1\n"), 2, "invalid quantile value \"1.5\": must be between 0 and 1"),
            (format!("{s}s{{quantile=\"-0.1\"}} 1\n"), 2, "invalid quantile value \"-0.1\": must be between 0 and 1"),
            (format!("{s}s{{quantile=\"0.5\"}} 1\ns{{quantile=\"0.50\"}} 1\n"), 3, "duplicate sample s{quantile=\"0.5\"} (first given at line 2)"),
            (format!("{s}s{{quantile=\"0.5\"}} 1\ns_count 1\n"), 2, "summary s has no _sum sample"),
            (format!("{s}s_sum 1\n"), 2, "summary s has no _count sample"),
            (format!("{s}s_total 1\n# TYPE s_total gauge\n"), 3, "TYPE line for metric family \"s_total\" comes after its samples; metadata must come first"),
        ];
        for (input, line, msg) in cases {
            assert_eq!(err(&input), (line, msg.to_string()), "{input:?}");
        }
        // NaN quantile values are fine (no observations in the window).
        ok("# TYPE s summary\ns{quantile=\"0.5\"} NaN\ns_sum 0\ns_count 0\n");
    }

    #[test]
    fn families_that_would_expose_the_same_samples_clash() {
        let body = "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n# TYPE h_count gauge\nh_count 5\n";
        assert_eq!(
            err(body),
            (
                5,
                "metric family \"h_count\" clashes with family \"h\" (line 1): both would expose samples named \"h_count\"".into()
            )
        );
        let body = "# TYPE s_sum gauge\ns_sum 1\n# TYPE s summary\ns_sum 1\ns_count 1\n";
        assert_eq!(err(body).0, 3);
    }

    #[test]
    fn duplicate_series() {
        assert_eq!(
            err("# TYPE g gauge\ng{a=\"1\",b=\"2\"} 1\ng{b=\"2\",a=\"1\"} 2\n"),
            (
                3,
                "duplicate sample g{b=\"2\",a=\"1\"} (first given at line 2)".into()
            )
        );
        // Values differing only by escaping are distinct series.
        let f = ok("g{a=\"x\\\\y\"} 1\ng{a=\"x\\ny\"} 2\ng{a=\"x\\\"y\"} 3\n");
        assert_eq!(f[0].series.len(), 3);
        assert_eq!(f[0].series[1].labels.get("a"), Some("x\ny"));
    }

    #[test]
    fn many_labels_take_the_slow_path() {
        let pairs: Vec<String> = (0..40).map(|i| format!("l{i}=\"v{i}\"")).collect();
        let one = pairs.join(",");
        let mut rev = pairs.clone();
        rev.reverse();
        let body = format!(
            "# TYPE h histogram\nh_bucket{{{one},le=\"+Inf\"}} 1\nh_sum{{{}}} 1\nh_count{{{one}}} 1\n",
            rev.join(",")
        );
        let f = ok(&body);
        assert_eq!(f[0].series.len(), 1);
        assert_eq!(f[0].series[0].labels.len(), 40);
    }

    #[test]
    fn python_client_output() {
        let body = String::from_utf8(fixture("python_client.txt")).unwrap();
        let f = ok(&body);
        let names: Vec<&str> = f.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "http_requests_total",
                "queue_depth",
                "job_duration_seconds",
                "payload_bytes",
                "build_info",
                "task_state"
            ]
        );
        let c = family(&f, "http_requests_total");
        assert_eq!(c.kind, MetricType::Counter);
        assert_eq!(
            c.help.as_deref(),
            Some("Requests served, by \"path\" and\nstatus.")
        );
        assert_eq!(c.series[0].value, SampleValue::Counter(7.0));
        assert_eq!(c.series[1].labels.get("path"), Some("/we\\ird\"path\n"));
        // The `_created` gauges became the owners' created times.
        for fam in [
            c,
            family(&f, "job_duration_seconds"),
            family(&f, "payload_bytes"),
        ] {
            for s in &fam.series {
                let created = s
                    .created
                    .unwrap_or_else(|| panic!("{} has no created", fam.name));
                assert!(created > 1.5e9, "{created}");
            }
        }
        let h = family(&f, "job_duration_seconds");
        assert_eq!(h.series.len(), 2);
        let SampleValue::Histogram(v) = &h.series[0].value else {
            panic!()
        };
        assert_eq!(v.bounds(), vec![0.1, 1.0, 10.0, f64::INFINITY]);
        assert_eq!((v.sum, v.count), (46.25, 5.0));
        let g = family(&f, "queue_depth");
        assert_eq!(g.series[1].value, SampleValue::Gauge(1e-9));
        assert_eq!(family(&f, "task_state").series.len(), 2);
    }

    #[test]
    fn go_expfmt_output() {
        let body = String::from_utf8(fixture("go_expfmt.txt")).unwrap();
        let f = ok(&body);
        assert_eq!(f.len(), 5);
        assert_eq!(
            family(&f, "http_requests_total").help.as_deref(),
            Some("Requests served, by \"path\" and\nstatus \\ backslash.")
        );
        let s = family(&f, "payload_bytes");
        assert_eq!(
            s.series,
            vec![series(
                &[("kind", "json")],
                SampleValue::Summary(SummaryValue {
                    quantiles: vec![
                        Quantile {
                            quantile: 0.5,
                            value: 100.0
                        },
                        Quantile {
                            quantile: 0.99,
                            value: 250.0
                        }
                    ],
                    sum: 350.0,
                    count: 2.0
                })
            )]
        );
        let u = family(&f, "legacy_value");
        assert_eq!(
            (u.kind, &u.series),
            (
                MetricType::Untyped,
                &vec![series(&[], SampleValue::Untyped(12.0))]
            )
        );
    }

    #[test]
    fn python_created_without_owner_stays_a_gauge() {
        let body = "# TYPE foo_created gauge\nfoo_created{a=\"1\"} 17\n# TYPE foo_total counter\nfoo_total{a=\"2\"} 1\n";
        let f = ok(body);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].name, "foo_created");
        assert_eq!(f[1].series[0].created, None);
        let f = ok("# TYPE h_created gauge\nh_created 1\n");
        assert_eq!(
            f[0].series,
            vec![Series {
                labels: labels(&[]),
                value: SampleValue::Gauge(1.0),
                timestamp_ms: None,
                created: None
            }]
        );
    }

    #[test]
    fn every_line_number_is_right_in_a_long_body() {
        let mut body = String::new();
        for i in 0..500 {
            body.push_str(&format!("# HELP m{i} x\nm{i}{{a=\"{i}\"}} {i}\n\n"));
        }
        body.push_str("bad line here\n");
        assert_eq!(err(&body).0, 1501);
    }
}
