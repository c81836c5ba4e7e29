//! OpenMetrics 1.0 text format.
//!
//! Strict to the specification's ABNF, as Prometheus' `openmetricsparse.go` is: single spaces
//! between tokens, no blank or comment lines, `# EOF` last; `# HELP`, `# TYPE`, `# UNIT` at most
//! once per family and before its samples; escapes `\\`, `\"`, `\n` (other backslashes are kept
//! literally, as the grammar allows); float timestamps in seconds (stored as milliseconds);
//! exemplars are checked and dropped.
//!
//! Types map onto the model as follows: counter family `foo` (samples `foo_total`,
//! `foo_created`) becomes counter `foo_total`, as the text format names it; `unknown` becomes
//! untyped; `info` family `foo` becomes gauge `foo_info` and `stateset` family `foo` gauge
//! `foo`; `_created` of counters, histograms and summaries goes to `Series::created`;
//! `gaugehistogram` is refused.

use crate::model::MetricFamily;

use super::assemble::{Assembler, Kind, Meta};
use super::error::{describe, Number, ParseError, ParseErrorKind};
use super::lexer::{unescape_help, Cursor, Dialect, RawLabel};
use super::lines::Lines;
use super::number::{parse_float, parse_seconds_as_millis};

/// Parses an OpenMetrics 1.0 body into metric families (in input order).
pub fn parse(input: &str) -> Result<Vec<MetricFamily>, ParseError> {
    if input.starts_with('\u{feff}') {
        return Err(ParseErrorKind::ByteOrderMark.at(1));
    }
    let mut asm = Assembler::new(Dialect::OpenMetrics);
    let mut scratch = Scratch::default();
    let mut lines = Lines::new(input);
    let mut eof = false;
    for (n, line) in lines.by_ref() {
        if eof {
            return Err(ParseErrorKind::DataAfterEof.at(n));
        }
        if line == "# EOF" {
            eof = true;
            continue;
        }
        parse_line(&mut asm, &mut scratch, line, n).map_err(|k| k.at(n))?;
    }
    if !eof {
        return Err(ParseErrorKind::MissingEof.at(lines.number().max(1)));
    }
    asm.finish()
}

/// Label buffers reused across lines.
#[derive(Default)]
struct Scratch<'a> {
    labels: Vec<RawLabel<'a>>,
    exemplar: Vec<RawLabel<'a>>,
}

fn parse_line<'a>(
    asm: &mut Assembler,
    scratch: &mut Scratch<'a>,
    line: &'a str,
    n: usize,
) -> Result<(), ParseErrorKind> {
    if line.is_empty() {
        return Err(ParseErrorKind::BlankLine);
    }
    if line.ends_with('\r') {
        return Err(ParseErrorKind::CarriageReturn);
    }
    let c = Cursor::new(line, Dialect::OpenMetrics);
    if line.starts_with('#') {
        descriptor(asm, c, n)
    } else {
        sample(asm, scratch, c, n)
    }
}

/// `# HELP`, `# TYPE` or `# UNIT`; no other `#` line exists in OpenMetrics.
fn descriptor(asm: &mut Assembler, mut c: Cursor<'_>, n: usize) -> Result<(), ParseErrorKind> {
    c.eat(b'#');
    let what = if c.eat_str(" HELP ") {
        "HELP"
    } else if c.eat_str(" TYPE ") {
        "TYPE"
    } else if c.eat_str(" UNIT ") {
        "UNIT"
    } else if c.eat_str(" EOF") {
        return Err(c.expected("end of line after \"# EOF\""));
    } else {
        return Err(ParseErrorKind::Comment);
    };
    let name = c.metric_name()?;
    c.expect(b' ', "' ' after the metric name")?;
    let value = c.rest();
    let meta = match what {
        "HELP" => Meta::Help(unescape_help(value, Dialect::OpenMetrics)?),
        "TYPE" => Meta::Type(match value {
            "counter" => Kind::Counter,
            "gauge" => Kind::Gauge,
            "histogram" => Kind::Histogram,
            "summary" => Kind::Summary,
            "unknown" => Kind::Untyped,
            "info" => Kind::Info,
            "stateset" => Kind::StateSet,
            "gaugehistogram" => return Err(ParseErrorKind::GaugeHistogram(name.to_string())),
            other => return Err(ParseErrorKind::UnknownType {
                found: other.to_string(),
                expected:
                    "counter, gauge, histogram, gaugehistogram, summary, info, stateset, unknown",
            }),
        }),
        _ => {
            if !value.bytes().all(crate::model::names::is_metric_name_char) {
                return Err(ParseErrorKind::InvalidUnit(value.to_string()));
            }
            let suffixed = name
                .strip_suffix(value)
                .is_some_and(|stem| stem.ends_with('_'));
            if !value.is_empty() && !suffixed {
                return Err(ParseErrorKind::UnitNotSuffix {
                    unit: value.to_string(),
                    name: name.to_string(),
                });
            }
            Meta::Unit(value.to_string())
        }
    };
    asm.metadata(name, meta, n)
}

/// `name{labels} value [timestamp] [# {labels} value [timestamp]]`.
fn sample<'a>(
    asm: &mut Assembler,
    scratch: &mut Scratch<'a>,
    mut c: Cursor<'a>,
    n: usize,
) -> Result<(), ParseErrorKind> {
    let name = c.metric_name()?;
    let labels = &mut scratch.labels;
    labels.clear();
    if c.eat(b'{') {
        c.labels(labels)?;
    }
    c.expect(b' ', "' ' before the sample value")?;
    let value = number(&mut c, "sample value")?;
    let mut timestamp = None;
    if c.eat(b' ') {
        if c.peek() == Some(b'#') {
            exemplar(&mut c, &mut scratch.exemplar)?;
        } else {
            timestamp = Some(seconds(&mut c)?);
            if c.eat(b' ') {
                exemplar(&mut c, &mut scratch.exemplar)?;
            }
        }
    }
    if !c.at_end() {
        return Err(c.expected("end of line"));
    }

    let (fam, part) = asm.resolve(name, n)?;
    let f = asm.family(fam);
    match f.kind {
        Kind::Info if value != 1.0 => {
            return Err(ParseErrorKind::InvalidStateValue {
                kind: "info",
                sample: describe(name, labels.iter().map(|l| (l.name, l.value.as_ref()))),
                value: Number(value),
                expected: "1",
            })
        }
        Kind::StateSet => {
            if !labels.iter().any(|l| l.name == f.name) {
                return Err(ParseErrorKind::MissingLabel {
                    sample: describe(name, labels.iter().map(|l| (l.name, l.value.as_ref()))),
                    label: f.name.clone(),
                });
            }
            if value != 0.0 && value != 1.0 {
                return Err(ParseErrorKind::InvalidStateValue {
                    kind: "stateset",
                    sample: describe(name, labels.iter().map(|l| (l.name, l.value.as_ref()))),
                    value: Number(value),
                    expected: "0 or 1",
                });
            }
        }
        _ => {}
    }
    asm.add_sample(fam, part, name, labels, value, timestamp, n)
}

/// A float token, ending at a space or the end of the line.
fn number(c: &mut Cursor<'_>, what: &'static str) -> Result<f64, ParseErrorKind> {
    let token = c.token();
    if token.is_empty() {
        return Err(c.expected(what));
    }
    parse_float(token).ok_or_else(|| ParseErrorKind::InvalidValue(token.to_string()))
}

/// A timestamp token in seconds, as milliseconds.
fn seconds(c: &mut Cursor<'_>) -> Result<i64, ParseErrorKind> {
    let token = c.token();
    if token.is_empty() {
        return Err(c.expected("timestamp or exemplar"));
    }
    parse_seconds_as_millis(token).ok_or_else(|| ParseErrorKind::InvalidTimestamp {
        token: token.to_string(),
        expected: "seconds since the epoch (a finite float)",
    })
}

/// An exemplar after its leading space: `# {labels} value [timestamp]`, checked and dropped.
fn exemplar<'a>(c: &mut Cursor<'a>, labels: &mut Vec<RawLabel<'a>>) -> Result<(), ParseErrorKind> {
    if !c.eat_str("# {") {
        return Err(c.expected("exemplar \"# {labels} value\" or end of line"));
    }
    labels.clear();
    c.labels(labels)?;
    c.expect(b' ', "' ' before the exemplar value")?;
    number(c, "exemplar value")?;
    if c.eat(b' ') {
        seconds(c)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Bucket, HistogramValue, MetricType, SampleValue, Series};
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

    #[test]
    fn spec_example() {
        let body = "# TYPE acme_http_router_request_seconds summary\n# UNIT acme_http_router_request_seconds seconds\n# HELP acme_http_router_request_seconds Latency though all of ACME's HTTP request router.\nacme_http_router_request_seconds_sum{path=\"/api/v1\",method=\"GET\"} 9036.32\nacme_http_router_request_seconds_count{path=\"/api/v1\",method=\"GET\"} 807283.0\nacme_http_router_request_seconds_created{path=\"/api/v1\",method=\"GET\"} 1605281325.0\nacme_http_router_request_seconds_sum{path=\"/api/v2\",method=\"POST\"} 479.3\nacme_http_router_request_seconds_count{path=\"/api/v2\",method=\"POST\"} 34.0\nacme_http_router_request_seconds_created{path=\"/api/v2\",method=\"POST\"} 1605281325.0\n# TYPE go_goroutines gauge\n# HELP go_goroutines Number of goroutines that currently exist.\ngo_goroutines 69\n# TYPE process_cpu_seconds counter\n# UNIT process_cpu_seconds seconds\n# HELP process_cpu_seconds Total user and system CPU time spent in seconds.\nprocess_cpu_seconds_total 4.20072246e+06\n# EOF\n";
        let f = ok(body);
        let names: Vec<&str> = f.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "acme_http_router_request_seconds",
                "go_goroutines",
                "process_cpu_seconds_total"
            ]
        );
        assert_eq!(f[0].unit.as_deref(), Some("seconds"));
        assert_eq!(f[0].series[0].created, Some(1605281325.0));
        assert_eq!(
            f[0].series[1].labels,
            labels(&[("method", "POST"), ("path", "/api/v2")])
        );
        assert_eq!(
            f[2],
            MetricFamily {
                name: "process_cpu_seconds_total".into(),
                kind: MetricType::Counter,
                help: Some("Total user and system CPU time spent in seconds.".into()),
                unit: Some("seconds".into()),
                series: vec![series(&[], SampleValue::Counter(4.20072246e+06))],
            }
        );
    }

    #[test]
    fn eof_rules() {
        assert_eq!(parse("# EOF").unwrap(), vec![]);
        assert_eq!(parse("# EOF\n").unwrap(), vec![]);
        assert_eq!(
            err(""),
            (1, "OpenMetrics body does not end with \"# EOF\"".into())
        );
        assert_eq!(
            err("a 1\nb 2\n"),
            (2, "OpenMetrics body does not end with \"# EOF\"".into())
        );
        assert_eq!(
            err("# EOF\n\n"),
            (2, "unexpected data after \"# EOF\"".into())
        );
        assert_eq!(
            err("# EOF\na 1\n"),
            (2, "unexpected data after \"# EOF\"".into())
        );
        assert_eq!(
            err("# EOF \n"),
            (1, "expected end of line after \"# EOF\", found ' '".into())
        );
    }

    #[test]
    fn counters_with_total_and_created() {
        let body = "# TYPE foo counter\n# HELP foo Things.\nfoo_total{a=\"x\"} 17.0 1520879607.789\nfoo_created{a=\"x\"} 1520430000.123\nfoo_total{a=\"y\"} 1 # {trace_id=\"KOO5S4vxi0o\"} 0.67\nfoo_total{a=\"z\"} 2 123 # {} 1 456.5\n# EOF\n";
        let f = ok(body);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].name, "foo_total");
        assert_eq!(
            f[0].series[0],
            Series {
                labels: labels(&[("a", "x")]),
                value: SampleValue::Counter(17.0),
                timestamp_ms: Some(1_520_879_607_789),
                created: Some(1520430000.123),
            }
        );
        assert_eq!(f[0].series[2].timestamp_ms, Some(123_000));
        let c = "# TYPE foo counter\n";
        let cases: Vec<(String, usize, &str)> = vec![
            (format!("{c}foo 1\n# EOF\n"), 2, "sample \"foo\" does not fit counter family \"foo\": expected foo_total or foo_created"),
            (format!("{c}foo_total -1\n# EOF\n"), 2, "counter increments must be non-negative numbers: foo_total is -1"),
            (format!("{c}foo_created 5\n# EOF\n"), 2, "counter foo_total has no _total sample"),
            (format!("{c}foo_total 1\nfoo_total 2\n# EOF\n"), 3, "duplicate sample foo_total (first given at line 2)"),
            (format!("{c}foo_total 1\nfoo_created 2\nfoo_created 3\n# EOF\n"), 4, "duplicate sample foo_created (first given at line 3)"),
        ];
        for (input, line, msg) in cases {
            assert_eq!(err(&input), (line, msg.to_string()), "{input:?}");
        }
    }

    #[test]
    fn histograms_with_exemplars_and_created() {
        let body = "# TYPE foo histogram\nfoo_bucket{le=\"0.01\"} 0\nfoo_bucket{le=\"0.1\"} 8 # {} 0.054\nfoo_bucket{le=\"1\"} 11 # {trace_id=\"KOO5S4vxi0o\"} 0.67\nfoo_bucket{le=\"10\"} 17 # {trace_id=\"oHg5SJYRHA0\"} 9.8 1520879607.789\nfoo_bucket{le=\"+Inf\"} 17\nfoo_count 17\nfoo_sum 324789.3\nfoo_created 1520430000.123\n# EOF\n";
        let f = ok(body);
        assert_eq!(
            f[0].series,
            vec![Series {
                labels: labels(&[]),
                value: SampleValue::Histogram(HistogramValue {
                    buckets: [
                        (0.01, 0.0),
                        (0.1, 8.0),
                        (1.0, 11.0),
                        (10.0, 17.0),
                        (f64::INFINITY, 17.0)
                    ]
                    .iter()
                    .map(|&(upper_bound, cumulative_count)| Bucket {
                        upper_bound,
                        cumulative_count
                    })
                    .collect(),
                    sum: 324789.3,
                    count: 17.0,
                }),
                timestamp_ms: None,
                created: Some(1520430000.123),
            }]
        );
        // OpenMetrics allows a histogram without _sum and _count; the gateway needs both.
        assert_eq!(
            err("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\n# EOF\n"),
            (2, "histogram h has no _sum sample".into())
        );
    }

    #[test]
    fn types_map_onto_the_model() {
        let body = "# TYPE i info\ni_info{version=\"1\"} 1\n# TYPE s stateset\ns{s=\"a\",x=\"1\"} 1\ns{s=\"b\",x=\"1\"} 0\n# TYPE u unknown\nu 3\nbare 4\n# TYPE g gauge\ng NaN\n# EOF\n";
        let f = ok(body);
        let kinds: Vec<(&str, MetricType)> = f.iter().map(|f| (f.name.as_str(), f.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("i_info", MetricType::Gauge),
                ("s", MetricType::Gauge),
                ("u", MetricType::Untyped),
                ("bare", MetricType::Untyped),
                ("g", MetricType::Gauge),
            ]
        );
        assert_eq!(f[0].series[0].value, SampleValue::Gauge(1.0));
        assert_eq!(f[1].series[1].labels, labels(&[("s", "b"), ("x", "1")]));
        let cases: &[(&str, usize, &str)] = &[
            ("# TYPE i info\ni_info 2\n# EOF\n", 2, "info sample i_info is 2, but must be 1"),
            ("# TYPE i info\ni 1\n# EOF\n", 2, "sample \"i\" does not fit info family \"i\": expected i_info"),
            ("# TYPE s stateset\ns{x=\"1\"} 1\n# EOF\n", 2, "sample s{x=\"1\"} has no \"s\" label"),
            ("# TYPE s stateset\ns{s=\"a\"} 0.5\n# EOF\n", 2, "stateset sample s{s=\"a\"} is 0.5, but must be 0 or 1"),
            ("# TYPE gh gaugehistogram\n# EOF\n", 1, "metric family \"gh\" is a gaugehistogram, which promagg does not support"),
            ("# TYPE x untyped\n# EOF\n", 1, "unknown metric type \"untyped\" (expected one of: counter, gauge, histogram, gaugehistogram, summary, info, stateset, unknown)"),
            ("# TYPE x counter \n# EOF\n", 1, "unknown metric type \"counter \" (expected one of: counter, gauge, histogram, gaugehistogram, summary, info, stateset, unknown)"),
            ("# TYPE g gauge\ng_total 1\n# TYPE g_total counter\n# EOF\n", 3, "TYPE line for metric family \"g_total\" comes after its samples; metadata must come first"),
        ];
        for (input, line, msg) in cases {
            assert_eq!(err(input), (*line, msg.to_string()), "{input:?}");
        }
    }

    #[test]
    fn units() {
        let f = ok("# TYPE foo_seconds gauge\n# UNIT foo_seconds seconds\nfoo_seconds 1\n# TYPE bar gauge\n# UNIT bar \nbar 1\n# EOF\n");
        assert_eq!(f[0].unit.as_deref(), Some("seconds"));
        assert_eq!(f[1].unit, None);
        let cases: &[(&str, usize, &str)] = &[
            ("# UNIT foo seconds\n# EOF\n", 1, "unit \"seconds\" is not a suffix of metric family name \"foo\" (the name must end in \"_seconds\")"),
            ("# UNIT fooseconds seconds\n# EOF\n", 1, "unit \"seconds\" is not a suffix of metric family name \"fooseconds\" (the name must end in \"_seconds\")"),
            ("# UNIT a_b-c b-c\n# EOF\n", 1, "invalid metric name \"a_b-c\": must match [a-zA-Z_:][a-zA-Z0-9_:]* (UTF-8 names are not supported)"),
            ("# UNIT a_x x y\n# EOF\n", 1, "invalid unit \"x y\": a unit must match [a-zA-Z0-9_:]*"),
            ("# UNIT a_x x\n# UNIT a_x x\n# EOF\n", 2, "second UNIT line for metric family \"a_x\""),
        ];
        for (input, line, msg) in cases {
            assert_eq!(err(input), (*line, msg.to_string()), "{input:?}");
        }
    }

    #[test]
    fn strict_syntax() {
        let cases: &[(&str, usize, &str)] = &[
            ("a 1\n\nb 1\n# EOF\n", 2, "blank lines are not allowed in OpenMetrics"),
            ("# a comment\n# EOF\n", 1, "comment lines are not allowed in OpenMetrics (only # HELP, # TYPE, # UNIT and # EOF)"),
            ("#HELP a x\n# EOF\n", 1, "comment lines are not allowed in OpenMetrics (only # HELP, # TYPE, # UNIT and # EOF)"),
            ("# HELP a\n# EOF\n", 1, "expected ' ' after the metric name, found end of line"),
            ("a  1\n# EOF\n", 1, "expected sample value, found ' '"),
            ("a\t1\n# EOF\n", 1, "invalid metric name \"a\\t1\": must match [a-zA-Z_:][a-zA-Z0-9_:]* (UTF-8 names are not supported)"),
            (" a 1\n# EOF\n", 1, "expected metric name, found ' '"),
            ("a{b=\"1\"}1\n# EOF\n", 1, "expected ' ' before the sample value, found '1'"),
            ("a{b=\"1\", c=\"2\"} 1\n# EOF\n", 1, "expected label name, found ' '"),
            ("a 1 \n# EOF\n", 1, "expected timestamp or exemplar, found end of line"),
            ("a 1 2 \n# EOF\n", 1, "expected exemplar \"# {labels} value\" or end of line, found end of line"),
            ("a 1 2 3\n# EOF\n", 1, "expected exemplar \"# {labels} value\" or end of line, found '3'"),
            ("a 1 x\n# EOF\n", 1, "invalid timestamp \"x\": expected seconds since the epoch (a finite float)"),
            ("a 1 NaN\n# EOF\n", 1, "invalid timestamp \"NaN\": expected seconds since the epoch (a finite float)"),
            ("a x\n# EOF\n", 1, "invalid sample value \"x\": expected a float, NaN, +Inf or -Inf"),
            ("a 1 # {a=\"1\"}\n# EOF\n", 1, "expected ' ' before the exemplar value, found end of line"),
            ("a 1 # {a=\"1\"} x\n# EOF\n", 1, "invalid sample value \"x\": expected a float, NaN, +Inf or -Inf"),
            ("a 1 # a 1\n# EOF\n", 1, "expected exemplar \"# {labels} value\" or end of line, found '#'"),
            ("a 1 # {a=\"1\"} 1 x\n# EOF\n", 1, "invalid timestamp \"x\": expected seconds since the epoch (a finite float)"),
            ("a 1 # {a=\"1\"} 1 2 3\n# EOF\n", 1, "expected end of line, found ' '"),
            ("a 1\r\n# EOF\n", 1, "line ends with a carriage return: lines must end with \\n alone"),
            ("\u{feff}# EOF\n", 1, "body starts with a byte order mark (U+FEFF); send UTF-8 without one"),
            ("# HELP a x\n# HELP a y\n# EOF\n", 2, "second HELP line for metric family \"a\""),
            ("a 1\nb 1\na{x=\"1\"} 1\n# EOF\n", 3, "metric family \"a\" continues here after other families; all lines of a family must form one group (it started at line 1)"),
            ("# TYPE c counter\nc_total 1\nb 1\nc_created 1\n# EOF\n", 4, "metric family \"c\" continues here after other families; all lines of a family must form one group (it started at line 1)"),
        ];
        for (input, line, msg) in cases {
            assert_eq!(err(input), (*line, msg.to_string()), "{input:?}");
        }
    }

    #[test]
    fn escapes() {
        let f = ok("# HELP a x \\\"q\\\" \\\\ \\n \\t\na{v=\"\\\"\\\\\\n\\t\"} 1\n# EOF\n");
        assert_eq!(f[0].help.as_deref(), Some("x \"q\" \\ \n \\t"));
        assert_eq!(f[0].series[0].labels.get("v"), Some("\"\\\n\\t"));
    }

    #[test]
    fn counter_names_clash_across_formats_of_naming() {
        // Counter `foo` is stored as `foo_total`; a gauge called `foo_total` would collide.
        let body = "# TYPE foo counter\nfoo_total 1\n# TYPE foo_total gauge\nfoo_total 2\n# EOF\n";
        assert_eq!(
            err(body),
            (
                3,
                "metric family \"foo_total\" clashes with family \"foo\" (line 1): both would expose samples named \"foo_total\"".into()
            )
        );
    }

    #[test]
    fn python_client_output() {
        let body = String::from_utf8(fixture("python_client.om.txt")).unwrap();
        let om = ok(&body);
        let text =
            crate::parse::text::parse(&String::from_utf8(fixture("python_client.txt")).unwrap())
                .unwrap();
        // The same registry in both formats gives the same model, `_created` included.
        assert_eq!(om.len(), text.len());
        for t in &text {
            let o = family(&om, &t.name);
            assert_eq!((o.kind, &o.series), (t.kind, &t.series), "{}", t.name);
        }
        assert_eq!(
            family(&om, "http_requests_total").help.as_deref(),
            Some("Requests served, by \"path\" and\nstatus.")
        );
    }

    #[test]
    fn go_expfmt_output() {
        let om = ok(&String::from_utf8(fixture("go_expfmt.om.txt")).unwrap());
        let text = crate::parse::text::parse(&String::from_utf8(fixture("go_expfmt.txt")).unwrap())
            .unwrap();
        assert_eq!(om, text);
    }
}
