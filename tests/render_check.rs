//! The renderers checked by parsers that are not ours.
//!
//! As prometheus/client_rust checks its output with an independent parser, a fixture
//! holding every metric type (escaping-heavy labels and HELP, NaN/±Inf, timestamps,
//! created times, units) is rendered and then:
//! - the text 0.0.4 output must pass `promtool check metrics` (Prometheus' own parser plus
//!   its linter), from the Debian package `prometheus`;
//! - the text output is parsed with `prometheus_client.parser` and the OpenMetrics output
//!   with the strict `prometheus_client.openmetrics.parser` (Python, `pip install
//!   prometheus_client`), via `scripts/parse_exposition.py`, and every family, sample name,
//!   label and value they report must be what the model says.
//!
//! It also holds the property round trips through our own parsers (`parse(render(x)) == x`
//! for text 0.0.4 and OpenMetrics), kept in this one file so the renderer's integration
//! checks build as one test binary.
//!
//! A missing tool FAILS these tests with a message saying what to install: a check that
//! silently does not run is no check. Where the tools cannot be installed, set
//! `PROMAGG_SKIP_EXTERNAL=1` to skip the external checks explicitly.

use std::io::{ErrorKind, Write as _};
use std::process::{Command, Output, Stdio};

use promagg::model::{
    Bucket, HistogramValue, Labels, MetricFamily, MetricType, Quantile, SampleValue, Series,
    SummaryValue,
};
use promagg::render::{openmetrics, text};

// ---------------------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------------------

const TRICKY_VALUE: &str = "C:\\dir\n\"quoted\" a,b=c} # x ünïcödé ☃";
const TRICKY_HELP: &str = "Requests by \"code\", with a \\ backslash\nand a second line.";

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

fn family(name: &str, kind: MetricType, help: &str, series: Vec<Series>) -> MetricFamily {
    MetricFamily {
        name: name.into(),
        kind,
        help: Some(help.into()),
        unit: None,
        series,
    }
}

fn histogram(bounds_counts: &[(f64, f64)], sum: f64) -> SampleValue {
    SampleValue::Histogram(HistogramValue {
        buckets: bounds_counts
            .iter()
            .map(|&(upper_bound, cumulative_count)| Bucket {
                upper_bound,
                cumulative_count,
            })
            .collect(),
        sum,
        count: bounds_counts.last().map_or(0.0, |b| b.1),
    })
}

/// Well-named families of every type, acceptable to promtool's linter; deliberately unsorted.
fn fixture() -> Vec<MetricFamily> {
    let mut requests = family(
        "promagg_check_requests_total",
        MetricType::Counter,
        TRICKY_HELP,
        vec![
            series(
                &[("code", "500"), ("method", "POST")],
                SampleValue::Counter(3.0),
            ),
            series(
                &[("code", "200"), ("method", "GET")],
                SampleValue::Counter(1027.0),
            ),
            series(
                &[("code", "200"), ("method", TRICKY_VALUE)],
                SampleValue::Counter(0.5),
            ),
        ],
    );
    requests.series[1].created = Some(1_700_000_000.25);
    requests.series[0].created = Some(1_690_000_000.0);
    requests.series[0].timestamp_ms = Some(1_700_000_123_456);

    let mut events = family(
        "promagg_check_events_total",
        MetricType::Counter,
        "Events seen.",
        vec![series(&[], SampleValue::Counter(1e21))],
    );
    events.series[0].timestamp_ms = Some(1_700_000_000_000);

    let mut temperature = family(
        "promagg_check_temperature_celsius",
        MetricType::Gauge,
        "Temperature.",
        vec![
            series(&[("room", "nan")], SampleValue::Gauge(f64::NAN)),
            series(&[("room", "hot")], SampleValue::Gauge(f64::INFINITY)),
            series(&[("room", "cold")], SampleValue::Gauge(f64::NEG_INFINITY)),
            series(&[("room", "lab")], SampleValue::Gauge(-12.345)),
            series(&[("room", "tiny")], SampleValue::Gauge(1.5e-300)),
            series(&[("room", "")], SampleValue::Gauge(0.1)),
        ],
    );
    temperature.unit = Some("celsius".into());
    temperature.series[3].timestamp_ms = Some(1_600_000_000_007);

    let mut latency = family(
        "promagg_check_latency_seconds",
        MetricType::Histogram,
        "Request latency.",
        vec![
            series(
                &[("handler", "/api")],
                histogram(
                    &[
                        (0.005, 0.0),
                        (0.1, 3.0),
                        (1.0, 7.0),
                        (2.5, 7.0),
                        (1e6, 9.0),
                        (f64::INFINITY, 10.0),
                    ],
                    1234.5,
                ),
            ),
            series(
                &[("handler", TRICKY_VALUE)],
                histogram(&[(0.0, 1.0), (f64::INFINITY, 1.0)], 0.0),
            ),
        ],
    );
    latency.unit = Some("seconds".into());
    latency.series[0].created = Some(1_650_000_000.5);
    latency.series[1].timestamp_ms = Some(1_700_000_000_001);

    let mut rpc = family(
        "promagg_check_rpc_duration_seconds",
        MetricType::Summary,
        "RPC duration.",
        vec![series(
            &[("service", "db")],
            SampleValue::Summary(SummaryValue {
                quantiles: [
                    (0.0, 0.001),
                    (0.5, 0.02),
                    (0.9, 0.3),
                    (0.99, 1.75),
                    (1.0, 4.0),
                ]
                .iter()
                .map(|&(quantile, value)| Quantile { quantile, value })
                .collect(),
                sum: 88.25,
                count: 300.0,
            }),
        )],
    );
    rpc.series[0].created = Some(1_650_000_000.0);

    let mut queue = family(
        "promagg_check_queue_length",
        MetricType::Untyped,
        "Queue length.",
        vec![series(&[("queue", "a")], SampleValue::Untyped(42.0))],
    );
    // Not a suffix of the name, so OpenMetrics must not announce it.
    queue.unit = Some("bytes".into());

    let mut uptime = family(
        "promagg_check_uptime_seconds",
        MetricType::Gauge,
        "Uptime.",
        vec![series(&[], SampleValue::Gauge(12345.678))],
    );
    uptime.series[0].timestamp_ms = Some(1_700_000_000_999);

    vec![temperature, requests, uptime, latency, rpc, queue, events]
}

/// Cases promtool's linter rightly complains about but the formats must still carry.
fn fixture_with_lint_findings() -> Vec<MetricFamily> {
    let mut families = fixture();
    // A legacy counter without `_total`.
    families.push(family(
        "promagg_check_legacy",
        MetricType::Counter,
        "Legacy counter.",
        vec![series(&[("a", "b")], SampleValue::Counter(7.0))],
    ));
    // A counter whose OpenMetrics family name is taken by a gauge.
    families.push(family(
        "promagg_check_jobs_total",
        MetricType::Counter,
        "Jobs run.",
        vec![series(&[], SampleValue::Counter(5.0))],
    ));
    // No HELP at all.
    let mut bare = family(
        "promagg_check_bare",
        MetricType::Gauge,
        "",
        vec![series(&[], SampleValue::Gauge(1.0))],
    );
    bare.help = None;
    families.push(bare);
    families.push(family(
        "promagg_check_jobs",
        MetricType::Gauge,
        "Jobs running.",
        vec![series(&[], SampleValue::Gauge(2.0))],
    ));
    families
}

fn render_text(families: &[MetricFamily]) -> String {
    let mut out = String::new();
    text::render(families, &mut out);
    out
}

fn render_openmetrics(families: &[MetricFamily]) -> String {
    let mut out = String::new();
    openmetrics::render(families, &mut out);
    out
}

// ---------------------------------------------------------------------------------------
// Running the external tools
// ---------------------------------------------------------------------------------------

/// True (with a note on stderr) when the external checks were explicitly switched off.
fn skip_external() -> bool {
    let skip = std::env::var("PROMAGG_SKIP_EXTERNAL").as_deref() == Ok("1");
    if skip {
        eprintln!("PROMAGG_SKIP_EXTERNAL=1: external format check skipped");
    }
    skip
}

/// Runs `program args` with `input` on stdin; a missing program fails with `install_hint`.
fn run(program: &str, args: &[&str], input: &str, install_hint: &str) -> Output {
    let mut child = match Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "`{program}` is not on PATH: {install_hint} \
             (or set PROMAGG_SKIP_EXTERNAL=1 to skip the external format checks)"
        ),
        Err(e) => panic!("cannot start `{program}`: {e}"),
    };
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    // Feed stdin from a thread so a chatty child cannot deadlock us on a full pipe.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    output
}

fn promtool_check(exposition: &str) {
    let out = run(
        "promtool",
        &["check", "metrics"],
        exposition,
        "install Prometheus' promtool (Debian/Ubuntu: `apt-get install -y prometheus`)",
    );
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && report.trim().is_empty(),
        "promtool check metrics refused our text output ({}):\n{report}\n--- output ---\n{exposition}",
        out.status
    );
}

/// What `scripts/parse_exposition.py` reports for `exposition` in `format`.
fn python_parse(format: &str, exposition: &str) -> Vec<Family> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/parse_exposition.py");
    let out = run(
        "python3",
        &[script, format],
        exposition,
        "install Python 3 and `pip install prometheus_client`",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => {}
        Some(3) => panic!(
            "{stderr}the Python package prometheus_client is required: `pip install prometheus_client` \
             (or set PROMAGG_SKIP_EXTERNAL=1 to skip the external format checks)"
        ),
        _ => panic!(
            "the Python {format} parser refused our output ({}):\n{stderr}\n--- output ---\n{exposition}",
            out.status
        ),
    }
    decode_report(&String::from_utf8(out.stdout).unwrap())
}

// ---------------------------------------------------------------------------------------
// What a parser should see
// ---------------------------------------------------------------------------------------

/// A float that compares NaN as equal to NaN, so whole families can be compared.
#[derive(Debug, Clone, Copy)]
struct Num(f64);

impl PartialEq for Num {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0 || (self.0.is_nan() && other.0.is_nan())
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    /// Sorted by name; `le`/`quantile` normalised to Rust's `{:?}` of their number, so the
    /// comparison is on the value and not on its spelling.
    labels: Vec<(String, String)>,
    value: Num,
    timestamp_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
struct Family {
    name: String,
    kind: String,
    help: String,
    unit: String,
    samples: Vec<Sample>,
}

fn unhex(s: &str) -> String {
    assert!(s.len() % 2 == 0, "odd hex string {s:?}");
    let bytes: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect();
    String::from_utf8(bytes).unwrap()
}

fn normalise_label(name: String, value: String) -> (String, String) {
    if name == "le" || name == "quantile" {
        let v: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a number"));
        return (name, format!("{v:?}"));
    }
    (name, value)
}

fn decode_report(report: &str) -> Vec<Family> {
    let mut families: Vec<Family> = Vec::new();
    for line in report.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["family", name, kind, help, unit] => families.push(Family {
                name: unhex(name),
                kind: kind.to_string(),
                help: unhex(help),
                unit: unhex(unit),
                samples: Vec::new(),
            }),
            ["sample", name, labels, value, ts] => {
                let mut pairs: Vec<(String, String)> = labels
                    .split(',')
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        let (k, v) = p.split_once('=').unwrap();
                        normalise_label(unhex(k), unhex(v))
                    })
                    .collect();
                pairs.sort();
                let sample = Sample {
                    name: unhex(name),
                    labels: pairs,
                    value: Num(value.parse().unwrap()),
                    timestamp_ms: (*ts != "-").then(|| ts.parse().unwrap()),
                };
                families
                    .last_mut()
                    .expect("sample before family")
                    .samples
                    .push(sample);
            }
            _ => panic!("unexpected report line {line:?}"),
        }
    }
    families
}

/// Builds the samples of one series the way both formats lay them out.
struct SeriesSamples<'a> {
    series: &'a Series,
    out: &'a mut Vec<Sample>,
}

impl SeriesSamples<'_> {
    fn push(&mut self, name: String, extra: Option<(&str, f64)>, value: f64) {
        let mut labels: Vec<(String, String)> = self.series.labels.pairs().to_vec();
        if let Some((k, v)) = extra {
            labels.push((k.to_string(), format!("{v:?}")));
        }
        labels.sort();
        self.out.push(Sample {
            name,
            labels,
            value: Num(value),
            timestamp_ms: self.series.timestamp_ms,
        });
    }

    /// Pushes the value samples (not `_created`) of the series under `stem`/`value_name`.
    fn push_values(&mut self, stem: &str, value_name: &str) {
        match &self.series.value {
            SampleValue::Counter(v) | SampleValue::Gauge(v) | SampleValue::Untyped(v) => {
                self.push(value_name.to_string(), None, *v)
            }
            SampleValue::Histogram(h) => {
                for b in &h.buckets {
                    let name = format!("{stem}_bucket");
                    self.push(name, Some(("le", b.upper_bound)), b.cumulative_count);
                }
                self.push(format!("{stem}_sum"), None, h.sum);
                self.push(format!("{stem}_count"), None, h.count);
            }
            SampleValue::Summary(s) => {
                for q in &s.quantiles {
                    self.push(stem.to_string(), Some(("quantile", q.quantile)), q.value);
                }
                self.push(format!("{stem}_sum"), None, s.sum);
                self.push(format!("{stem}_count"), None, s.count);
            }
        }
    }
}

fn sorted_model(families: &[MetricFamily]) -> Vec<MetricFamily> {
    let mut families: Vec<MetricFamily> = families.to_vec();
    families.sort_by(|a, b| a.name.cmp(&b.name));
    for f in &mut families {
        f.series.sort_by(|a, b| a.labels.cmp(&b.labels));
    }
    families
}

/// What prometheus_client's text parser reports: it names a counter family without
/// `_total` and its samples with it, and knows nothing of units or `_created`.
fn expected_text(families: &[MetricFamily]) -> Vec<Family> {
    sorted_model(families)
        .iter()
        .map(|f| {
            let counter = f.kind == MetricType::Counter;
            let name = match f.name.strip_suffix("_total") {
                Some(stem) if counter => stem.to_string(),
                _ => f.name.clone(),
            };
            let value_name = if counter {
                format!("{name}_total")
            } else {
                name.clone()
            };
            let mut samples = Vec::new();
            for s in &f.series {
                SeriesSamples {
                    series: s,
                    out: &mut samples,
                }
                .push_values(&f.name, &value_name);
            }
            Family {
                name,
                // prometheus_client's Metric calls `untyped` by its OpenMetrics name.
                kind: f.kind.as_openmetrics().to_string(),
                help: f.help.clone().unwrap_or_default(),
                unit: String::new(),
                samples,
            }
        })
        .collect()
}

/// What the OpenMetrics parser reports, following the OpenMetrics spec for each type.
fn expected_openmetrics(families: &[MetricFamily]) -> Vec<Family> {
    let names: Vec<&str> = families.iter().map(|f| f.name.as_str()).collect();
    sorted_model(families)
        .iter()
        .map(|f| {
            // A counter is family `stem` with samples `stem_total`/`stem_created`, unless it
            // has no `_total` or the stem is taken, when it can only be `unknown`.
            let stem = f
                .name
                .strip_suffix("_total")
                .filter(|stem| !names.contains(stem))
                .filter(|stem| !names.contains(&format!("{stem}_created").as_str()));
            let (name, kind, value_name) = match (f.kind, stem) {
                (MetricType::Counter, Some(stem)) => {
                    (stem.to_string(), "counter", format!("{stem}_total"))
                }
                (MetricType::Counter, None) => (f.name.clone(), "unknown", f.name.clone()),
                (kind, _) => (f.name.clone(), kind.as_openmetrics(), f.name.clone()),
            };
            let with_created = match f.kind {
                MetricType::Counter => kind == "counter",
                MetricType::Histogram | MetricType::Summary => true,
                MetricType::Gauge | MetricType::Untyped => false,
            };
            let mut samples = Vec::new();
            for s in &f.series {
                let mut out = SeriesSamples {
                    series: s,
                    out: &mut samples,
                };
                out.push_values(&name, &value_name);
                if let Some(created) = s.created.filter(|_| with_created) {
                    out.push(format!("{name}_created"), None, created);
                }
            }
            let unit = f
                .unit
                .clone()
                .filter(|u| name.ends_with(&format!("_{u}")))
                .unwrap_or_default();
            Family {
                name,
                kind: kind.to_string(),
                help: f.help.clone().unwrap_or_default(),
                unit,
                samples,
            }
        })
        .collect()
}

fn assert_same(format: &str, got: &[Family], want: &[Family], exposition: &str) {
    let got_names: Vec<&str> = got.iter().map(|f| f.name.as_str()).collect();
    let want_names: Vec<&str> = want.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        got_names, want_names,
        "{format}: families differ in\n{exposition}"
    );
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g, w, "{format}: family {} differs in\n{exposition}", w.name);
    }
}

// ---------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------

#[test]
fn fixture_is_what_these_checks_need() {
    // Guards the fixture itself, so the external checks keep covering what they claim.
    let families = fixture_with_lint_findings();
    for kind in [
        MetricType::Counter,
        MetricType::Gauge,
        MetricType::Histogram,
        MetricType::Summary,
        MetricType::Untyped,
    ] {
        assert!(families.iter().any(|f| f.kind == kind), "{kind:?} missing");
    }
    let all: Vec<&Series> = families.iter().flat_map(|f| &f.series).collect();
    assert!(all.iter().any(|s| s.timestamp_ms.is_some()));
    assert!(all.iter().any(|s| s.created.is_some()));
    assert!(all
        .iter()
        .any(|s| s.labels.pairs().iter().any(|(_, v)| v == TRICKY_VALUE)));
    let text = render_text(&families);
    assert!(text.contains("le=\"1e+06\"") && text.contains("NaN") && text.contains("-Inf"));
    let om = render_openmetrics(&families);
    assert!(om.contains("# UNIT ") && om.contains("_created") && om.ends_with("# EOF\n"));
}

#[test]
fn promtool_accepts_the_text_output() {
    if skip_external() {
        return;
    }
    promtool_check(&render_text(&fixture()));
}

#[test]
fn promtool_catches_a_broken_exposition() {
    // Proves the promtool check can fail: a lint finding and a syntax error.
    if skip_external() {
        return;
    }
    for bad in [
        "# TYPE promagg_check_bad counter\npromagg_check_bad 1\n",
        "# HELP promagg_check_bad_total x\n# TYPE promagg_check_bad_total counter\npromagg_check_bad_total{a=\"1} 1\n",
    ] {
        let result = std::panic::catch_unwind(|| promtool_check(bad));
        assert!(result.is_err(), "promtool accepted {bad:?}");
    }
}

#[test]
fn python_text_parser_reads_back_every_sample() {
    if skip_external() {
        return;
    }
    let families = fixture_with_lint_findings();
    let exposition = render_text(&families);
    let got = python_parse("text", &exposition);
    assert_same("text", &got, &expected_text(&families), &exposition);
}

#[test]
fn python_openmetrics_parser_reads_back_every_sample() {
    if skip_external() {
        return;
    }
    let families = fixture_with_lint_findings();
    let exposition = render_openmetrics(&families);
    let got = python_parse("openmetrics", &exposition);
    assert_same(
        "openmetrics",
        &got,
        &expected_openmetrics(&families),
        &exposition,
    );
}

#[test]
fn python_openmetrics_parser_catches_a_broken_exposition() {
    // Proves the OpenMetrics check can fail: no `# EOF`, and a non-canonical `le`.
    if skip_external() {
        return;
    }
    for bad in [
        "# TYPE a gauge\na 1\n",
        "# TYPE h histogram\nh_bucket{le=\"Inf\"} 1\nh_count 1\nh_sum 1\n# EOF\n",
    ] {
        let result = std::panic::catch_unwind(|| python_parse("openmetrics", bad));
        assert!(result.is_err(), "the OpenMetrics parser accepted {bad:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Round trips through our own parsers
// ---------------------------------------------------------------------------------------

/// `parse(render(x)) == x` for every family both formats can carry exactly, generated in
/// the canonical form the renderers write: sorted, unique names and label sets, no NaN
/// (NaN != NaN; it has its own test), HELP not starting with a blank (the formats skip the
/// blanks after the name). Text carries no unit and no `_created`; OpenMetrics names
/// counters `*_total` and keeps counter-like values non-negative.
mod roundtrip {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use promagg::parse;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Target {
        Text,
        OpenMetrics,
    }

    const UNITS: [&str; 3] = ["seconds", "bytes", "ratio"];

    fn label_name() -> impl Strategy<Value = String> {
        "[a-zA-Z_][a-zA-Z0-9_]{0,5}".prop_filter("reserved or structural", |n| {
            !n.starts_with("__") && n != "le" && n != "quantile"
        })
    }

    fn label_value() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9\\\\\"\n ,={}#.]{0,10}",
            "\\PC{0,6}",
            Just(String::new()),
        ]
    }

    fn help() -> impl Strategy<Value = Option<String>> {
        proptest::option::of(prop_oneof![
            Just(String::new()),
            // A carriage return mid-text is fine; at the end of the line our parser takes
            // it for a CRLF ending and refuses it (neither format can escape it).
            "[a-zA-Z0-9.\\\\\"\n][a-zA-Z0-9 .\\\\\"\n\r#{}]{0,20}[a-z]",
            "[\\PC&&[^ \t]]\\PC{0,10}",
        ])
    }

    fn labels() -> impl Strategy<Value = Labels> {
        proptest::collection::btree_map(label_name(), label_value(), 0..4)
            .prop_map(|m| Labels::new(m.into_iter().collect()).unwrap())
    }

    fn finite() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<f64>().prop_filter("finite", |v| v.is_finite()),
            (-1_000_000i64..1_000_000).prop_map(|v| v as f64),
            -1e6..1e6f64,
        ]
    }

    fn non_negative() -> impl Strategy<Value = f64> {
        finite().prop_map(f64::abs)
    }

    fn histogram_value(target: Target) -> impl Strategy<Value = SampleValue> {
        let bound = if target == Target::Text {
            finite().boxed()
        } else {
            non_negative().boxed()
        };
        (
            proptest::collection::btree_set(bound.prop_map(|b| OrdF64(b + 0.0)), 0..5),
            proptest::collection::vec(0u32..1000, 6),
            non_negative(),
        )
            .prop_map(|(bounds, increments, sum)| {
                let mut cumulative = 0.0;
                let mut buckets: Vec<Bucket> = bounds
                    .into_iter()
                    .map(|b| b.0)
                    .chain([f64::INFINITY])
                    .zip(increments)
                    .map(|(upper_bound, inc)| {
                        cumulative += f64::from(inc);
                        Bucket {
                            upper_bound,
                            cumulative_count: cumulative,
                        }
                    })
                    .collect();
                buckets.dedup_by(|a, b| a.upper_bound == b.upper_bound);
                SampleValue::Histogram(HistogramValue {
                    buckets,
                    sum,
                    count: cumulative,
                })
            })
    }

    fn summary_value() -> impl Strategy<Value = SampleValue> {
        (
            proptest::collection::btree_map(
                (0u32..=1000).prop_map(|q| OrdF64(f64::from(q) / 1000.0)),
                non_negative(),
                0..5,
            ),
            non_negative(),
            0u32..100_000,
        )
            .prop_map(|(quantiles, sum, count)| {
                SampleValue::Summary(SummaryValue {
                    quantiles: quantiles
                        .into_iter()
                        .map(|(q, value)| Quantile {
                            quantile: q.0,
                            value,
                        })
                        .collect(),
                    sum,
                    count: f64::from(count),
                })
            })
    }

    /// A float ordered by its value, for sorted unique bounds (never NaN here).
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct OrdF64(f64);
    impl Eq for OrdF64 {}
    impl PartialOrd for OrdF64 {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for OrdF64 {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            self.0.total_cmp(&other.0)
        }
    }

    fn value(kind: MetricType, target: Target) -> BoxedStrategy<SampleValue> {
        let gauge_like = prop_oneof![
            4 => finite(),
            1 => Just(f64::INFINITY),
            1 => Just(f64::NEG_INFINITY),
        ];
        match kind {
            MetricType::Counter => non_negative().prop_map(SampleValue::Counter).boxed(),
            MetricType::Gauge => gauge_like.prop_map(SampleValue::Gauge).boxed(),
            MetricType::Untyped => gauge_like.prop_map(SampleValue::Untyped).boxed(),
            MetricType::Histogram => histogram_value(target).boxed(),
            MetricType::Summary => summary_value().boxed(),
        }
    }

    fn series(kind: MetricType, target: Target) -> impl Strategy<Value = Series> {
        let created = kind != MetricType::Gauge && kind != MetricType::Untyped;
        let created = if target == Target::OpenMetrics && created {
            proptest::option::of(finite()).boxed()
        } else {
            Just(None).boxed()
        };
        (
            labels(),
            value(kind, target),
            proptest::option::of(-1_000_000_000_000i64..4_000_000_000_000),
            created,
        )
            .prop_map(|(labels, value, timestamp_ms, created)| Series {
                labels,
                value,
                timestamp_ms,
                created,
            })
    }

    fn kind() -> impl Strategy<Value = MetricType> {
        prop_oneof![
            Just(MetricType::Counter),
            Just(MetricType::Gauge),
            Just(MetricType::Histogram),
            Just(MetricType::Summary),
            Just(MetricType::Untyped),
        ]
    }

    /// Family number `index`: names are `m{index}_{base}[_{unit}][_total]`, so no family
    /// name is another's name plus a sample suffix.
    fn family(index: usize, target: Target) -> impl Strategy<Value = MetricFamily> {
        (
            kind(),
            "[a-z][a-z0-9]{0,6}",
            proptest::option::of(0..UNITS.len()),
            any::<bool>(),
            help(),
        )
            .prop_flat_map(move |(kind, base, unit, legacy, help)| {
                let unit = unit
                    .filter(|_| target == Target::OpenMetrics)
                    .map(|u| UNITS[u]);
                let mut name = format!("m{index}_{base}");
                if let Some(unit) = unit {
                    name = format!("{name}_{unit}");
                }
                // Text may carry legacy counters; OpenMetrics writes those as `unknown`.
                if kind == MetricType::Counter && !(legacy && target == Target::Text) {
                    name.push_str("_total");
                }
                let series = proptest::collection::vec(series(kind, target), 1..5).prop_map(|s| {
                    // Unique label sets, sorted.
                    let by_labels: BTreeMap<Labels, Series> =
                        s.into_iter().map(|s| (s.labels.clone(), s)).collect();
                    by_labels.into_values().collect::<Vec<_>>()
                });
                (Just((name, kind, help, unit)), series)
            })
            .prop_map(|((name, kind, help, unit), series)| MetricFamily {
                name,
                kind,
                help,
                unit: unit.map(str::to_string),
                series,
            })
    }

    fn families(target: Target) -> impl Strategy<Value = Vec<MetricFamily>> {
        (0usize..6).prop_flat_map(move |n| {
            let all: Vec<_> = (0..n).map(|i| family(i, target)).collect();
            all.prop_map(|mut families| {
                families.sort_by(|a, b| a.name.cmp(&b.name));
                families
            })
        })
    }

    /// What the parsers give back: they read an empty `# HELP x ` as no HELP at all.
    fn as_parsed(families: &[MetricFamily]) -> Vec<MetricFamily> {
        let mut out = families.to_vec();
        for f in &mut out {
            f.help = f.help.take().filter(|h| !h.is_empty());
        }
        out
    }

    fn reversed(families: &[MetricFamily]) -> Vec<MetricFamily> {
        let mut out: Vec<MetricFamily> = families.iter().rev().cloned().collect();
        for f in &mut out {
            f.series.reverse();
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn text_round_trips(families in families(Target::Text)) {
            let rendered = render_text(&families);
            let parsed = parse::text::parse(&rendered)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{rendered}")))?;
            prop_assert_eq!(&parsed, &as_parsed(&families), "{}", rendered);
            prop_assert_eq!(render_text(&reversed(&families)), rendered);
        }

        #[test]
        fn openmetrics_round_trips(families in families(Target::OpenMetrics)) {
            let rendered = render_openmetrics(&families);
            let parsed = parse::openmetrics::parse(&rendered)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{rendered}")))?;
            prop_assert_eq!(&parsed, &as_parsed(&families), "{}", rendered);
            prop_assert_eq!(render_openmetrics(&reversed(&families)), rendered);
        }
    }

    #[test]
    fn nan_round_trips_in_both_formats() {
        let families = vec![family_with_nan()];
        let text = render_text(&families);
        let om = render_openmetrics(&families);
        for (format, parsed) in [
            ("text", parse::text::parse(&text).unwrap()),
            ("openmetrics", parse::openmetrics::parse(&om).unwrap()),
        ] {
            assert_eq!(parsed.len(), 1, "{format}");
            assert_eq!(parsed[0].series.len(), 1, "{format}");
            match parsed[0].series[0].value {
                SampleValue::Gauge(v) => assert!(v.is_nan(), "{format}: {v}"),
                ref other => panic!("{format}: {other:?}"),
            }
        }
    }

    fn family_with_nan() -> MetricFamily {
        MetricFamily {
            name: "nan_gauge".into(),
            kind: MetricType::Gauge,
            help: None,
            unit: None,
            series: vec![Series {
                labels: Labels::empty(),
                value: SampleValue::Gauge(f64::NAN),
                timestamp_ms: None,
                created: None,
            }],
        }
    }
}
