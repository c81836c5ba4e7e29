//! Tests of the delimited protobuf parser: golden bytes, every type, every error.

use proptest::prelude::*;
use prost::Message as _;

use super::*;
use crate::proto::client as pb;
use crate::proto::packages::google::protobuf::Timestamp;

fn body(families: &[pb::MetricFamily]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in families {
        f.encode_length_delimited(&mut out).unwrap();
    }
    out
}

fn family(name: &str, kind: pb::MetricType, metrics: Vec<pb::Metric>) -> pb::MetricFamily {
    pb::MetricFamily {
        name: Some(name.into()),
        help: Some(format!("help of {name}")),
        r#type: Some(kind as i32),
        metric: metrics,
        unit: None,
    }
}

fn labels(pairs: &[(&str, &str)]) -> Vec<pb::LabelPair> {
    pairs
        .iter()
        .map(|(n, v)| pb::LabelPair {
            name: Some(n.to_string()),
            value: Some(v.to_string()),
        })
        .collect()
}

fn model_labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    )
    .unwrap()
}

fn counter(pairs: &[(&str, &str)], v: f64) -> pb::Metric {
    pb::Metric {
        label: labels(pairs),
        counter: Some(pb::Counter {
            value: Some(v),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn gauge(pairs: &[(&str, &str)], v: f64) -> pb::Metric {
    pb::Metric {
        label: labels(pairs),
        gauge: Some(pb::Gauge { value: Some(v) }),
        ..Default::default()
    }
}

fn bucket(le: f64, count: u64) -> pb::Bucket {
    pb::Bucket {
        cumulative_count: Some(count),
        upper_bound: Some(le),
        ..Default::default()
    }
}

fn histogram(pairs: &[(&str, &str)], buckets: Vec<pb::Bucket>, count: u64, sum: f64) -> pb::Metric {
    pb::Metric {
        label: labels(pairs),
        histogram: Some(pb::Histogram {
            sample_count: Some(count),
            sample_sum: Some(sum),
            bucket: buckets,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn summary(pairs: &[(&str, &str)], quantiles: &[(f64, f64)], count: u64, sum: f64) -> pb::Metric {
    pb::Metric {
        label: labels(pairs),
        summary: Some(pb::Summary {
            sample_count: Some(count),
            sample_sum: Some(sum),
            quantile: quantiles
                .iter()
                .map(|&(q, v)| pb::Quantile {
                    quantile: Some(q),
                    value: Some(v),
                })
                .collect(),
            created_timestamp: None,
        }),
        ..Default::default()
    }
}

/// The problem of a single-family body's first failing metric.
fn metric_problem(f: pb::MetricFamily) -> MetricProblem {
    match parse_delimited(&body(&[f])) {
        Err(ProtobufError::Metric { problem, .. }) => problem,
        other => panic!("expected a metric error, got {other:?}"),
    }
}

fn family_problem(families: &[pb::MetricFamily]) -> FamilyProblem {
    match parse_delimited(&body(families)) {
        Err(ProtobufError::Family { problem, .. }) => problem,
        other => panic!("expected a family error, got {other:?}"),
    }
}

/// A counter family encoded by hand, field by field, as Go's proto encoder writes it:
/// pins the field numbers of `proto/io/prometheus/client/metrics.proto`.
const GOLDEN_COUNTER: &[u8] = &[
    0x30, 0x0a, 0x07, 0x63, 0x5f, 0x74, 0x6f, 0x74, 0x61, 0x6c, 0x12, 0x01, 0x68, 0x18, 0x00, 0x22,
    0x20, 0x0a, 0x06, 0x0a, 0x01, 0x61, 0x12, 0x01, 0x62, 0x1a, 0x13, 0x09, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0xf8, 0x3f, 0x1a, 0x08, 0x08, 0x0a, 0x10, 0x80, 0xca, 0xb5, 0xee, 0x01, 0x30, 0xd2,
    0x09,
];

/// A histogram family encoded by hand: one bucket (le=0.5), no +Inf bucket (as Go sends
/// it), count 3, sum 2.5, created_timestamp (field 15) of 7 s.
const GOLDEN_HISTOGRAM: &[u8] = &[
    0x25, 0x0a, 0x01, 0x68, 0x18, 0x04, 0x22, 0x1e, 0x3a, 0x1c, 0x08, 0x03, 0x11, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x04, 0x40, 0x1a, 0x0b, 0x08, 0x01, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xe0, 0x3f, 0x7a, 0x02, 0x08, 0x07,
];

#[test]
fn golden_counter_bytes() {
    let got = parse_delimited(GOLDEN_COUNTER).unwrap();
    let mut want = MetricFamily::new("c_total", MetricType::Counter);
    want.help = Some("h".into());
    want.series.push(Series {
        labels: model_labels(&[("a", "b")]),
        value: SampleValue::Counter(1.5),
        timestamp_ms: Some(1234),
        created: Some(10.5),
    });
    assert_eq!(got, vec![want]);
}

#[test]
fn golden_histogram_bytes_gain_inf_bucket() {
    let got = parse_delimited(GOLDEN_HISTOGRAM).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].name, "h");
    assert_eq!(got[0].kind, MetricType::Histogram);
    assert_eq!(got[0].help, None);
    let s = &got[0].series[0];
    assert_eq!(s.created, Some(7.0));
    assert_eq!(s.timestamp_ms, None);
    assert_eq!(
        s.value,
        SampleValue::Histogram(HistogramValue {
            buckets: vec![
                Bucket {
                    upper_bound: 0.5,
                    cumulative_count: 1.0
                },
                Bucket {
                    upper_bound: f64::INFINITY,
                    cumulative_count: 3.0
                },
            ],
            sum: 2.5,
            count: 3.0,
        })
    );
}

#[test]
fn golden_bytes_match_prost_encoding() {
    // The hand-made bytes and prost's encoding of the same message agree.
    let mut m = counter(&[("a", "b")], 1.5);
    m.timestamp_ms = Some(1234);
    m.counter.as_mut().unwrap().created_timestamp = Some(Timestamp {
        seconds: 10,
        nanos: 500_000_000,
    });
    let mut f = family("c_total", pb::MetricType::Counter, vec![m]);
    f.help = Some("h".into());
    assert_eq!(body(&[f]), GOLDEN_COUNTER);
}

#[test]
fn every_type_in_one_body() {
    let mut untyped = pb::Metric {
        label: labels(&[("x", "1")]),
        untyped: Some(pb::Untyped { value: Some(-3.0) }),
        ..Default::default()
    };
    untyped.timestamp_ms = Some(99);
    let mut s = summary(&[("job", "j")], &[(0.9, 5.0), (0.5, f64::NAN)], 10, 20.0);
    s.summary.as_mut().unwrap().created_timestamp = Some(Timestamp {
        seconds: 100,
        nanos: 0,
    });
    let mut unit_family = family("g_bytes", pb::MetricType::Gauge, vec![gauge(&[], -1.25)]);
    unit_family.unit = Some("bytes".into());
    let got = parse_delimited(&body(&[
        family("c_total", pb::MetricType::Counter, vec![counter(&[], 0.0)]),
        unit_family,
        family("u", pb::MetricType::Untyped, vec![untyped]),
        family("s", pb::MetricType::Summary, vec![s]),
        family(
            "h",
            pb::MetricType::Histogram,
            vec![histogram(
                &[("path", "/")],
                vec![bucket(0.1, 1), bucket(1.0, 2), bucket(f64::INFINITY, 4)],
                4,
                3.5,
            )],
        ),
    ]))
    .unwrap();
    let names: Vec<_> = got.iter().map(|f| (f.name.as_str(), f.kind)).collect();
    assert_eq!(
        names,
        [
            ("c_total", MetricType::Counter),
            ("g_bytes", MetricType::Gauge),
            ("u", MetricType::Untyped),
            ("s", MetricType::Summary),
            ("h", MetricType::Histogram),
        ]
    );
    assert_eq!(got[0].help.as_deref(), Some("help of c_total"));
    assert_eq!(got[0].series[0].value, SampleValue::Counter(0.0));
    assert_eq!(got[1].unit.as_deref(), Some("bytes"));
    assert_eq!(got[1].series[0].value, SampleValue::Gauge(-1.25));
    assert_eq!(got[2].series[0].value, SampleValue::Untyped(-3.0));
    assert_eq!(got[2].series[0].timestamp_ms, Some(99));
    assert_eq!(got[2].series[0].labels, model_labels(&[("x", "1")]));

    let SampleValue::Summary(sv) = &got[3].series[0].value else {
        panic!("not a summary")
    };
    assert_eq!(got[3].series[0].created, Some(100.0));
    assert_eq!((sv.count, sv.sum), (10.0, 20.0));
    // Quantiles come out sorted by rank; a NaN value is kept.
    assert_eq!(sv.quantiles[0].quantile, 0.5);
    assert!(sv.quantiles[0].value.is_nan());
    assert_eq!(
        sv.quantiles[1],
        Quantile {
            quantile: 0.9,
            value: 5.0
        }
    );

    let SampleValue::Histogram(hv) = &got[4].series[0].value else {
        panic!("not a histogram")
    };
    assert_eq!(hv.bounds(), [0.1, 1.0, f64::INFINITY]);
    assert_eq!(hv.buckets[2].cumulative_count, 4.0);
    assert_eq!((hv.count, hv.sum), (4.0, 3.5));
}

#[test]
fn float_counts_override_integer_counts() {
    let mut m = histogram(&[], vec![bucket(1.0, 0)], 0, 1.0);
    let h = m.histogram.as_mut().unwrap();
    h.sample_count_float = Some(2.5);
    h.bucket[0].cumulative_count_float = Some(1.5);
    let got = parse_delimited(&body(&[family("h", pb::MetricType::Histogram, vec![m])])).unwrap();
    let SampleValue::Histogram(hv) = &got[0].series[0].value else {
        panic!("not a histogram")
    };
    assert_eq!(hv.buckets[0].cumulative_count, 1.5);
    assert_eq!(hv.buckets[1].cumulative_count, 2.5);
    assert_eq!(hv.count, 2.5);
}

#[test]
fn histogram_without_buckets_gets_only_inf() {
    let m = histogram(&[], vec![], 7, 1.0);
    let got = parse_delimited(&body(&[family("h", pb::MetricType::Histogram, vec![m])])).unwrap();
    let SampleValue::Histogram(hv) = &got[0].series[0].value else {
        panic!("not a histogram")
    };
    assert_eq!(
        hv.buckets,
        [Bucket {
            upper_bound: f64::INFINITY,
            cumulative_count: 7.0
        }]
    );
}

#[test]
fn classic_buckets_win_over_native_fields() {
    let mut m = histogram(&[], vec![bucket(1.0, 1)], 2, 1.0);
    m.histogram.as_mut().unwrap().schema = Some(3);
    let got = parse_delimited(&body(&[family("h", pb::MetricType::Histogram, vec![m])])).unwrap();
    assert_eq!(got[0].series.len(), 1);
}

#[test]
fn repeated_family_names_merge_when_types_agree() {
    let mut second = family("m", pb::MetricType::Gauge, vec![gauge(&[("a", "2")], 2.0)]);
    second.help = None;
    second.unit = Some("seconds".into());
    let got = parse_delimited(&body(&[
        family("m", pb::MetricType::Gauge, vec![gauge(&[("a", "1")], 1.0)]),
        family("other", pb::MetricType::Gauge, vec![gauge(&[], 0.0)]),
        second,
    ]))
    .unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].name, "m");
    assert_eq!(got[0].help.as_deref(), Some("help of m"));
    assert_eq!(got[0].unit.as_deref(), Some("seconds"));
    let values: Vec<_> = got[0].series.iter().map(|s| s.value.clone()).collect();
    assert_eq!(values, [SampleValue::Gauge(1.0), SampleValue::Gauge(2.0)]);
    assert_eq!(got[1].name, "other");
}

#[test]
fn empty_body_and_empty_families() {
    assert_eq!(parse_delimited(&[]).unwrap(), vec![]);
    let got = parse_delimited(&body(&[
        family("empty", pb::MetricType::Gauge, vec![]),
        family("g", pb::MetricType::Gauge, vec![gauge(&[], 1.0)]),
    ]))
    .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].name, "g");
}

#[test]
fn absent_type_is_counter_as_proto2_defaults() {
    let mut f = family("c_total", pb::MetricType::Counter, vec![counter(&[], 1.0)]);
    f.r#type = None;
    assert_eq!(
        parse_delimited(&body(&[f])).unwrap()[0].kind,
        MetricType::Counter
    );
}

#[test]
fn framing_errors() {
    // Eleven continuation bytes: no valid varint.
    assert_eq!(
        parse_delimited(&[0xff; 11]),
        Err(ProtobufError::BadLength { index: 1 })
    );
    let good = body(&[family("g", pb::MetricType::Gauge, vec![gauge(&[], 1.0)])]);
    let mut two = good.clone();
    two.extend_from_slice(&[0x05, 0x0a, 0x01]);
    assert_eq!(
        parse_delimited(&two),
        Err(ProtobufError::Truncated {
            index: 2,
            declared: 5,
            available: 2
        })
    );
    // A valid length around bytes that are no MetricFamily (wire type 7 does not exist).
    let err = parse_delimited(&[0x02, 0x0f, 0x00]).unwrap_err();
    assert!(
        matches!(err, ProtobufError::Decode { index: 1, .. }),
        "{err:?}"
    );
    assert!(err
        .to_string()
        .starts_with("message 1: not a valid io.prometheus.client.MetricFamily"));
    // Invalid UTF-8 in the name.
    let err = parse_delimited(&[0x04, 0x0a, 0x02, 0xc3, 0x28]).unwrap_err();
    assert!(
        matches!(err, ProtobufError::Decode { index: 1, .. }),
        "{err:?}"
    );
}

#[test]
fn every_truncation_of_a_valid_body_is_refused_or_a_prefix() {
    let full = body(&[
        family(
            "c_total",
            pb::MetricType::Counter,
            vec![counter(&[("a", "b")], 1.0)],
        ),
        family(
            "h",
            pb::MetricType::Histogram,
            vec![histogram(&[], vec![bucket(1.0, 1)], 2, 3.0)],
        ),
    ]);
    let first_len = full.len()
        - body(&[family(
            "h",
            pb::MetricType::Histogram,
            vec![histogram(&[], vec![bucket(1.0, 1)], 2, 3.0)],
        )])
        .len();
    for cut in 0..full.len() {
        match parse_delimited(&full[..cut]) {
            Ok(fams) => {
                assert!(cut == 0 || cut == first_len, "cut {cut} parsed");
                assert_eq!(fams.len(), usize::from(cut == first_len));
            }
            Err(e) => assert!(
                matches!(
                    e,
                    ProtobufError::Truncated { .. } | ProtobufError::BadLength { .. }
                ),
                "cut {cut}: {e}"
            ),
        }
    }
    assert_eq!(parse_delimited(&full).unwrap().len(), 2);
}

#[test]
fn family_errors() {
    let g = || vec![gauge(&[], 1.0)];
    assert_eq!(
        family_problem(&[family("9bad", pb::MetricType::Gauge, g())]),
        FamilyProblem::Name(NameError::InvalidChars {
            kind: "metric",
            name: "9bad".into(),
            pattern: "[a-zA-Z_:][a-zA-Z0-9_:]*"
        })
    );
    let mut nameless = family("x", pb::MetricType::Gauge, g());
    nameless.name = None;
    assert_eq!(
        family_problem(&[nameless]),
        FamilyProblem::Name(NameError::Empty("metric"))
    );

    let mut unknown = family("x", pb::MetricType::Gauge, g());
    unknown.r#type = Some(9);
    assert_eq!(family_problem(&[unknown]), FamilyProblem::UnknownType(9));

    assert_eq!(
        family_problem(&[family("gh", pb::MetricType::GaugeHistogram, vec![])]),
        FamilyProblem::GaugeHistogram
    );

    assert_eq!(
        family_problem(&[
            family("m", pb::MetricType::Gauge, g()),
            family("m", pb::MetricType::Counter, vec![counter(&[], 1.0)]),
        ]),
        FamilyProblem::TypeConflict {
            first: MetricType::Gauge,
            first_index: 1,
            second: MetricType::Counter
        }
    );

    let mut other_help = family("m", pb::MetricType::Gauge, vec![gauge(&[("a", "1")], 1.0)]);
    other_help.help = Some("different".into());
    assert_eq!(
        family_problem(&[family("m", pb::MetricType::Gauge, g()), other_help]),
        FamilyProblem::MetadataConflict {
            what: "HELP",
            first: "help of m".into(),
            first_index: 1,
            second: "different".into()
        }
    );
}

#[test]
fn error_display_names_message_family_and_metric() {
    let err = parse_delimited(&body(&[
        family("a", pb::MetricType::Gauge, vec![gauge(&[], 1.0)]),
        family("b", pb::MetricType::Gauge, vec![gauge(&[], 1.0)]),
        family(
            "foo",
            pb::MetricType::Counter,
            vec![counter(&[("x", "1")], 1.0), counter(&[], -2.0)],
        ),
    ]))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "message 3 (family \"foo\"), metric 2: counter value -2 is invalid: counters must be \
         non-negative and not NaN"
    );
    let err = parse_delimited(&body(&[
        family("m", pb::MetricType::Gauge, vec![gauge(&[], 1.0)]),
        family("m", pb::MetricType::Summary, vec![]),
    ]))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "message 2 (family \"m\"): type summary conflicts with type gauge of the same family in \
         message 1"
    );
}

#[test]
fn label_errors() {
    let f = |m| family("g", pb::MetricType::Gauge, vec![m]);
    assert_eq!(
        metric_problem(f(gauge(&[("a", "1"), ("a", "2")], 1.0))),
        MetricProblem::Label(LabelError::Duplicate("a".into()))
    );
    assert_eq!(
        metric_problem(f(gauge(&[("__name__", "x")], 1.0))),
        MetricProblem::Label(LabelError::Name(NameError::Reserved("__name__".into())))
    );
    assert_eq!(
        metric_problem(f(gauge(&[("", "x")], 1.0))),
        MetricProblem::Label(LabelError::Name(NameError::Empty("label")))
    );
    assert!(matches!(
        metric_problem(f(gauge(&[("a-b", "x")], 1.0))),
        MetricProblem::Label(LabelError::Name(NameError::InvalidChars { .. }))
    ));
    // `le` and `quantile` are ordinary labels on other types.
    let ok = parse_delimited(&body(&[f(gauge(&[("le", "1"), ("quantile", "q")], 1.0))]));
    assert_eq!(ok.unwrap()[0].series[0].labels.len(), 2);
    assert_eq!(
        metric_problem(family(
            "h",
            pb::MetricType::Histogram,
            vec![histogram(&[("le", "1")], vec![], 0, 0.0)]
        )),
        MetricProblem::ReservedLabel("le")
    );
    assert_eq!(
        metric_problem(family(
            "s",
            pb::MetricType::Summary,
            vec![summary(&[("quantile", "0.5")], &[], 0, 0.0)]
        )),
        MetricProblem::ReservedLabel("quantile")
    );
}

#[test]
fn duplicate_series_within_and_across_messages() {
    assert_eq!(
        metric_problem(family(
            "g",
            pb::MetricType::Gauge,
            vec![
                gauge(&[("a", "1"), ("b", "2")], 1.0),
                gauge(&[("b", "2"), ("a", "1")], 2.0)
            ]
        )),
        MetricProblem::DuplicateSeries("g{a=\"1\",b=\"2\"}".into())
    );
    let err = parse_delimited(&body(&[
        family("g", pb::MetricType::Gauge, vec![gauge(&[], 1.0)]),
        family("g", pb::MetricType::Gauge, vec![gauge(&[], 2.0)]),
    ]))
    .unwrap_err();
    assert_eq!(
        err,
        ProtobufError::Metric {
            index: 2,
            family: "g".into(),
            metric: 1,
            problem: MetricProblem::DuplicateSeries("g".into())
        }
    );
}

#[test]
fn value_field_must_match_type() {
    let cases = [
        (pb::MetricType::Counter, "counter"),
        (pb::MetricType::Gauge, "gauge"),
        (pb::MetricType::Untyped, "untyped"),
        (pb::MetricType::Summary, "summary"),
        (pb::MetricType::Histogram, "histogram"),
    ];
    for (kind, what) in cases {
        // A metric carrying only a value of some other type.
        let wrong = if kind == pb::MetricType::Gauge {
            counter(&[], 1.0)
        } else {
            gauge(&[], 1.0)
        };
        assert_eq!(
            metric_problem(family("m", kind, vec![wrong])),
            MetricProblem::MissingValue(what)
        );
    }
}

#[test]
fn counter_values_must_be_non_negative_numbers() {
    for bad in [-0.5, f64::NAN, f64::NEG_INFINITY] {
        let p = metric_problem(family(
            "c",
            pb::MetricType::Counter,
            vec![counter(&[], bad)],
        ));
        assert!(matches!(p, MetricProblem::BadCounter(_)), "{bad}: {p:?}");
    }
    let ok = family(
        "c",
        pb::MetricType::Counter,
        vec![counter(&[], f64::INFINITY)],
    );
    assert!(parse_delimited(&body(&[ok])).is_ok());
}

#[test]
fn histogram_errors() {
    let h = |m| family("h", pb::MetricType::Histogram, vec![m]);

    let mut native = histogram(&[], vec![], 5, 1.0);
    native.histogram.as_mut().unwrap().schema = Some(0);
    assert_eq!(metric_problem(h(native)), MetricProblem::NativeHistogram);
    let mut spans_only = histogram(&[], vec![], 0, 0.0);
    spans_only.histogram.as_mut().unwrap().positive_span = vec![pb::BucketSpan {
        offset: Some(0),
        length: Some(0),
    }];
    assert_eq!(
        metric_problem(h(spans_only)),
        MetricProblem::NativeHistogram
    );
    let err = parse_delimited(&body(&[h({
        let mut m = histogram(&[], vec![], 1, 1.0);
        m.histogram.as_mut().unwrap().zero_threshold = Some(1e-128);
        m
    })]))
    .unwrap_err();
    assert!(err.to_string().contains("family \"h\""), "{err}");
    assert!(
        err.to_string()
            .contains("native histograms are not supported"),
        "{err}"
    );

    assert_eq!(
        metric_problem(h(histogram(&[], vec![bucket(f64::NAN, 0)], 0, 0.0))),
        MetricProblem::NanBound { bucket: 1 }
    );
    assert_eq!(
        metric_problem(h(histogram(
            &[],
            vec![bucket(1.0, 0), bucket(1.0, 0)],
            0,
            0.0
        ))),
        MetricProblem::BoundsNotIncreasing {
            previous: "1".into(),
            bound: "1".into()
        }
    );
    assert_eq!(
        metric_problem(h(histogram(
            &[],
            vec![bucket(2.0, 0), bucket(0.5, 0)],
            0,
            0.0
        ))),
        MetricProblem::BoundsNotIncreasing {
            previous: "2".into(),
            bound: "0.5".into()
        }
    );
    assert_eq!(
        metric_problem(h(histogram(
            &[],
            vec![bucket(1.0, 3), bucket(2.0, 2)],
            3,
            0.0
        ))),
        MetricProblem::CountsDecreasing {
            bound: "2".into(),
            count: "2".into(),
            previous: "3".into()
        }
    );
    // Implied +Inf: the last bucket must not exceed the sample count.
    assert_eq!(
        metric_problem(h(histogram(&[], vec![bucket(1.0, 5)], 4, 0.0))),
        MetricProblem::InfBucketMismatch {
            count: "4".into(),
            inf: "5".into()
        }
    );
    // Explicit +Inf: it must equal the sample count.
    assert_eq!(
        metric_problem(h(histogram(&[], vec![bucket(f64::INFINITY, 3)], 4, 0.0))),
        MetricProblem::InfBucketMismatch {
            count: "4".into(),
            inf: "3".into()
        }
    );
    let mut negative = histogram(&[], vec![bucket(1.0, 0)], 1, 0.0);
    negative.histogram.as_mut().unwrap().bucket[0].cumulative_count_float = Some(f64::NAN);
    assert_eq!(
        metric_problem(h(negative)),
        MetricProblem::BadCount {
            what: "cumulative count of bucket le=1".into(),
            value: "NaN".into()
        }
    );
    let mut nan_count = histogram(&[], vec![], 1, 0.0);
    nan_count.histogram.as_mut().unwrap().sample_count_float = Some(f64::NAN);
    assert_eq!(
        metric_problem(h(nan_count)),
        MetricProblem::BadCount {
            what: "sample count".into(),
            value: "NaN".into()
        }
    );
}

#[test]
fn summary_errors() {
    let s = |q: &[(f64, f64)]| family("s", pb::MetricType::Summary, vec![summary(&[], q, 1, 1.0)]);
    assert_eq!(
        metric_problem(s(&[(1.5, 1.0)])),
        MetricProblem::BadQuantile("1.5".into())
    );
    assert_eq!(
        metric_problem(s(&[(-0.1, 1.0)])),
        MetricProblem::BadQuantile("-0.1".into())
    );
    assert_eq!(
        metric_problem(s(&[(f64::NAN, 1.0)])),
        MetricProblem::BadQuantile("NaN".into())
    );
    assert_eq!(
        metric_problem(s(&[(0.5, 1.0), (0.9, 2.0), (0.5, 3.0)])),
        MetricProblem::DuplicateQuantile("0.5".into())
    );
    assert!(parse_delimited(&body(&[s(&[(0.0, 1.0), (1.0, 2.0)])])).is_ok());
}

proptest! {
    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse_delimited(&bytes);
    }

    #[test]
    fn gauges_round_trip(values in proptest::collection::vec(-1e12f64..1e12, 1..20)) {
        let metrics = values
            .iter()
            .enumerate()
            .map(|(i, &v)| gauge(&[("i", &i.to_string())], v))
            .collect();
        let got = parse_delimited(&body(&[family("g", pb::MetricType::Gauge, metrics)])).unwrap();
        let back: Vec<f64> = got[0]
            .series
            .iter()
            .map(|s| match s.value {
                SampleValue::Gauge(v) => v,
                _ => f64::NAN,
            })
            .collect();
        prop_assert_eq!(back, values);
    }
}
