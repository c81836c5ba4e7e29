//! Flattening of families into the series remote write sends, in a deterministic order.

use std::collections::HashSet;

use super::{is_stale_nan, stale_nan, StaleSeries};
use crate::model::{Labels, MetricFamily, MetricType, SampleValue};
use crate::render::float::write_text_label_float;

/// One series as it goes on the wire: every label (with `__name__`), sorted, and one value.
#[derive(Debug, Clone, PartialEq)]
pub struct WireSeries {
    /// All labels including `__name__`, sorted by name (byte order, as Prometheus sorts).
    pub labels: Vec<(String, String)>,
    /// The sample value (the staleness NaN for markers).
    pub value: f64,
    /// Index of the family's entry in [`Expanded::families`].
    pub family: usize,
}

/// Metadata of one family, as both protocol versions send it.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyMeta {
    /// The family name (`foo` for the histogram behind `foo_bucket`).
    pub name: String,
    /// The family type.
    pub kind: MetricType,
    /// HELP text, empty when unknown.
    pub help: String,
    /// Unit, empty when unknown.
    pub unit: String,
    /// False for families known only from staleness markers (their HELP is gone).
    pub live: bool,
}

/// The whole run, flattened.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Expanded {
    /// Every series: live ones (families by name, series by labels), then markers.
    pub series: Vec<WireSeries>,
    /// The families the series refer to.
    pub families: Vec<FamilyMeta>,
}

/// Flattens `families`, then appends one staleness marker per series of `stale` that is
/// not also live, adding each extra label a series lacks.
///
/// A live value that happens to carry the marker's exact bits is sent as a plain NaN, so
/// a pushed value can never mark a series stale.
pub fn expand(
    families: &[MetricFamily],
    stale: &[StaleSeries],
    extra: &[(String, String)],
) -> Expanded {
    let mut out = Expanded::default();
    let mut sorted: Vec<&MetricFamily> = families.iter().filter(|f| !f.series.is_empty()).collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for family in sorted {
        let index = out.families.len();
        out.families.push(FamilyMeta {
            name: family.name.clone(),
            kind: family.kind,
            help: family.help.clone().unwrap_or_default(),
            unit: family.unit.clone().unwrap_or_default(),
            live: true,
        });
        let mut series: Vec<_> = family.series.iter().collect();
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        for s in series {
            push_value(
                &mut out.series,
                index,
                &family.name,
                &s.labels,
                &s.value,
                extra,
            );
        }
    }

    let mut seen: HashSet<Vec<(String, String)>> =
        out.series.iter().map(|s| s.labels.clone()).collect();
    let mut markers: Vec<&StaleSeries> = stale.iter().collect();
    markers.sort_by(|a, b| (&a.family, &a.labels).cmp(&(&b.family, &b.labels)));
    for m in markers {
        let index = family_index(&mut out.families, &m.family, m.kind);
        let mut expanded = Vec::new();
        push_shape(&mut expanded, index, m, extra);
        for s in expanded {
            if seen.insert(s.labels.clone()) {
                out.series.push(s);
            }
        }
    }
    out
}

/// The metadata entry for a marker's family: the live one when the type agrees.
fn family_index(families: &mut Vec<FamilyMeta>, name: &str, kind: MetricType) -> usize {
    if let Some(i) = families
        .iter()
        .position(|f| f.name == name && f.kind == kind)
    {
        return i;
    }
    families.push(FamilyMeta {
        name: name.to_string(),
        kind,
        help: String::new(),
        unit: String::new(),
        live: false,
    });
    families.len() - 1
}

fn push_value(
    out: &mut Vec<WireSeries>,
    family: usize,
    name: &str,
    labels: &Labels,
    value: &SampleValue,
    extra: &[(String, String)],
) {
    let mut push = |suffix: &str, special: Option<(&'static str, f64)>, v: f64| {
        out.push(WireSeries {
            labels: wire_labels(name, suffix, labels, extra, special),
            value: if is_stale_nan(v) { f64::NAN } else { v },
            family,
        });
    };
    match value {
        SampleValue::Counter(v) | SampleValue::Gauge(v) | SampleValue::Untyped(v) => {
            push("", None, *v)
        }
        SampleValue::Histogram(h) => {
            for b in &h.buckets {
                push("_bucket", Some(("le", b.upper_bound)), b.cumulative_count);
            }
            push("_sum", None, h.sum);
            push("_count", None, h.count);
        }
        SampleValue::Summary(s) => {
            for q in &s.quantiles {
                push("", Some(("quantile", q.quantile)), q.value);
            }
            push("_sum", None, s.sum);
            push("_count", None, s.count);
        }
    }
}

fn push_shape(
    out: &mut Vec<WireSeries>,
    family: usize,
    m: &StaleSeries,
    extra: &[(String, String)],
) {
    let mut push = |suffix: &str, special: Option<(&'static str, f64)>| {
        out.push(WireSeries {
            labels: wire_labels(&m.family, suffix, &m.labels, extra, special),
            value: stale_nan(),
            family,
        });
    };
    match m.kind {
        MetricType::Counter | MetricType::Gauge | MetricType::Untyped => push("", None),
        MetricType::Histogram => {
            let mut bounds = m.bounds.clone();
            bounds.retain(|b| !b.is_nan());
            bounds.push(f64::INFINITY);
            bounds.sort_by(f64::total_cmp);
            bounds.dedup();
            for b in bounds {
                push("_bucket", Some(("le", b)));
            }
            push("_sum", None);
            push("_count", None);
        }
        MetricType::Summary => {
            for &q in &m.quantiles {
                push("", Some(("quantile", q)));
            }
            push("_sum", None);
            push("_count", None);
        }
    }
}

/// `__name__`, the series labels, the extra labels it lacks and `le`/`quantile`, sorted.
fn wire_labels(
    name: &str,
    suffix: &str,
    labels: &Labels,
    extra: &[(String, String)],
    special: Option<(&'static str, f64)>,
) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(labels.len() + extra.len() + 2);
    out.push(("__name__".to_string(), format!("{name}{suffix}")));
    let special_name = special.map(|(n, _)| n);
    out.extend(
        labels
            .pairs()
            .iter()
            .filter(|(n, _)| Some(n.as_str()) != special_name)
            .cloned(),
    );
    for (n, v) in extra {
        if labels.get(n).is_none() {
            out.push((n.clone(), v.clone()));
        }
    }
    if let Some((n, v)) = special {
        let mut text = String::new();
        write_text_label_float(v, &mut text);
        out.push((n.to_string(), text));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Bucket, HistogramValue, Quantile, Series, SummaryValue};

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::new(
            pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        )
        .unwrap()
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn series(l: &[(&str, &str)], value: SampleValue) -> Series {
        Series {
            labels: labels(l),
            value,
            timestamp_ms: Some(5),
            created: Some(1.0),
        }
    }

    fn histogram() -> SampleValue {
        SampleValue::Histogram(HistogramValue {
            buckets: vec![
                Bucket {
                    upper_bound: 0.5,
                    cumulative_count: 1.0,
                },
                Bucket {
                    upper_bound: 1.0,
                    cumulative_count: 2.0,
                },
                Bucket {
                    upper_bound: 1e6,
                    cumulative_count: 3.0,
                },
                Bucket {
                    upper_bound: f64::INFINITY,
                    cumulative_count: 4.0,
                },
            ],
            sum: 7.5,
            count: 4.0,
        })
    }

    fn names_and_values(e: &Expanded) -> Vec<(String, f64)> {
        e.series
            .iter()
            .map(|s| {
                let rendered: Vec<String> =
                    s.labels.iter().map(|(n, v)| format!("{n}={v}")).collect();
                (rendered.join(","), s.value)
            })
            .collect()
    }

    #[test]
    fn histogram_expands_to_buckets_sum_count() {
        let mut f = MetricFamily::new("lat", MetricType::Histogram);
        f.series.push(series(&[("path", "/")], histogram()));
        let e = expand(&[f], &[], &[]);
        assert_eq!(
            names_and_values(&e),
            [
                ("__name__=lat_bucket,le=0.5,path=/".to_string(), 1.0),
                ("__name__=lat_bucket,le=1,path=/".to_string(), 2.0),
                ("__name__=lat_bucket,le=1e+06,path=/".to_string(), 3.0),
                ("__name__=lat_bucket,le=+Inf,path=/".to_string(), 4.0),
                ("__name__=lat_sum,path=/".to_string(), 7.5),
                ("__name__=lat_count,path=/".to_string(), 4.0),
            ]
        );
        assert!(e.series.iter().all(|s| s.family == 0));
        assert_eq!(e.families[0].kind, MetricType::Histogram);
    }

    #[test]
    fn summary_expands_to_quantiles_sum_count() {
        let mut f = MetricFamily::new("rpc", MetricType::Summary);
        f.series.push(series(
            &[],
            SampleValue::Summary(SummaryValue {
                quantiles: vec![
                    Quantile {
                        quantile: 0.5,
                        value: 1.0,
                    },
                    Quantile {
                        quantile: 0.99,
                        value: 9.0,
                    },
                ],
                sum: 10.0,
                count: 2.0,
            }),
        ));
        let e = expand(&[f], &[], &[]);
        assert_eq!(
            names_and_values(&e),
            [
                ("__name__=rpc,quantile=0.5".to_string(), 1.0),
                ("__name__=rpc,quantile=0.99".to_string(), 9.0),
                ("__name__=rpc_sum".to_string(), 10.0),
                ("__name__=rpc_count".to_string(), 2.0),
            ]
        );
    }

    #[test]
    fn order_is_families_by_name_then_series_by_labels() {
        let mut b = MetricFamily::new("b_total", MetricType::Counter);
        b.series
            .push(series(&[("x", "2")], SampleValue::Counter(2.0)));
        b.series
            .push(series(&[("x", "1")], SampleValue::Counter(1.0)));
        let mut a = MetricFamily::new("a", MetricType::Gauge);
        a.help = Some("help a".into());
        a.unit = Some("bytes".into());
        a.series.push(series(&[], SampleValue::Gauge(0.5)));
        let empty = MetricFamily::new("empty", MetricType::Gauge);
        let e = expand(&[b, empty, a], &[], &[]);
        assert_eq!(
            names_and_values(&e),
            [
                ("__name__=a".to_string(), 0.5),
                ("__name__=b_total,x=1".to_string(), 1.0),
                ("__name__=b_total,x=2".to_string(), 2.0),
            ]
        );
        assert_eq!(
            e.families,
            [
                FamilyMeta {
                    name: "a".into(),
                    kind: MetricType::Gauge,
                    help: "help a".into(),
                    unit: "bytes".into(),
                    live: true
                },
                FamilyMeta {
                    name: "b_total".into(),
                    kind: MetricType::Counter,
                    help: String::new(),
                    unit: String::new(),
                    live: true
                },
            ]
        );
        assert_eq!(
            e.series.iter().map(|s| s.family).collect::<Vec<_>>(),
            [0, 1, 1]
        );
    }

    #[test]
    fn labels_sort_with_name_in_byte_order_and_extras_override_nothing() {
        let mut f = MetricFamily::new("m", MetricType::Gauge);
        f.series.push(series(
            &[("instance", "mine"), ("Zone", "z"), ("a", "1")],
            SampleValue::Gauge(1.0),
        ));
        let extra = pairs(&[("instance", "gw"), ("job", "pushed")]);
        let e = expand(&[f], &[], &extra);
        // Uppercase sorts before `__name__`, which sorts before lowercase.
        assert_eq!(
            e.series[0].labels,
            pairs(&[
                ("Zone", "z"),
                ("__name__", "m"),
                ("a", "1"),
                ("instance", "mine"),
                ("job", "pushed"),
            ])
        );
    }

    #[test]
    fn pushed_stale_bits_become_plain_nan() {
        let mut f = MetricFamily::new("g", MetricType::Gauge);
        f.series.push(series(&[], SampleValue::Gauge(stale_nan())));
        let e = expand(&[f], &[], &[]);
        assert!(e.series[0].value.is_nan());
        assert!(!is_stale_nan(e.series[0].value));
    }

    #[test]
    fn stale_markers_follow_live_series_and_cover_every_expanded_series() {
        let mut live = MetricFamily::new("h", MetricType::Histogram);
        live.help = Some("live help".into());
        live.series.push(series(&[("a", "1")], histogram()));
        let stale = [
            StaleSeries {
                family: "z_total".into(),
                kind: MetricType::Counter,
                labels: labels(&[]),
                bounds: vec![],
                quantiles: vec![],
            },
            StaleSeries {
                family: "h".into(),
                kind: MetricType::Histogram,
                labels: labels(&[("a", "2")]),
                bounds: vec![2.0, 0.25],
                quantiles: vec![],
            },
            StaleSeries {
                family: "s".into(),
                kind: MetricType::Summary,
                labels: labels(&[]),
                bounds: vec![],
                quantiles: vec![0.9],
            },
        ];
        let e = expand(&[live], &stale, &pairs(&[("instance", "i")]));
        let markers: Vec<String> = e.series[6..]
            .iter()
            .map(|s| {
                assert!(is_stale_nan(s.value));
                s.labels
                    .iter()
                    .map(|(n, v)| format!("{n}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
        assert_eq!(
            markers,
            [
                "__name__=h_bucket,a=2,instance=i,le=0.25",
                "__name__=h_bucket,a=2,instance=i,le=2",
                "__name__=h_bucket,a=2,instance=i,le=+Inf",
                "__name__=h_sum,a=2,instance=i",
                "__name__=h_count,a=2,instance=i",
                "__name__=s,instance=i,quantile=0.9",
                "__name__=s_sum,instance=i",
                "__name__=s_count,instance=i",
                "__name__=z_total,instance=i",
            ]
        );
        assert!(e.series[..6].iter().all(|s| !is_stale_nan(s.value)));
        // The marker of `h` shares the live family's metadata; the others are marker-only.
        assert_eq!(e.series[6].family, 0);
        let s_meta = &e.families[e.series[11].family];
        assert_eq!((s_meta.name.as_str(), s_meta.live), ("s", false));
        assert_eq!(e.families.len(), 3);
    }

    #[test]
    fn stale_markers_never_shadow_live_series_or_repeat() {
        let mut live = MetricFamily::new("g", MetricType::Gauge);
        live.series
            .push(series(&[("a", "1")], SampleValue::Gauge(3.0)));
        let marker = StaleSeries {
            family: "g".into(),
            kind: MetricType::Gauge,
            labels: labels(&[("a", "1")]),
            bounds: vec![],
            quantiles: vec![],
        };
        let other = StaleSeries {
            labels: labels(&[("a", "2")]),
            ..marker.clone()
        };
        let e = expand(&[live], &[marker, other.clone(), other], &[]);
        assert_eq!(e.series.len(), 2);
        assert_eq!(e.series[0].value, 3.0);
        assert!(is_stale_nan(e.series[1].value));
        assert_eq!(e.series[1].labels, pairs(&[("__name__", "g"), ("a", "2")]));
    }
}
