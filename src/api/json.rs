//! `GET /api/v1/metrics` and `GET /api/v1/status` in Pushgateway's JSON shapes
//! (prometheus/pushgateway `api/v1/api.go`), so its UI-side tooling and scripts work.
//!
//! - metrics: `{"status":"success","data":[group, ...]}`; a group holds `labels` (the
//!   grouping labels), `last_push_successful`, and one entry per family name with
//!   `time_stamp` (RFC 3339), `type` (`COUNTER`, `GAUGE`, ...), `help` (omitted when empty)
//!   and `metrics`: `labels` plus `value`, or `buckets`/`quantiles` with `count` and `sum`,
//!   every number a string as Go's `fmt.Sprint` writes it. Series pushed without a group
//!   (`POST /metrics`, PATCH) form one group whose `labels` are empty.
//! - status: `flags` (the settings in force), `start_time` (this instance's: Spin starts one
//!   per request) and `build_information`.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::aggregate::type_of;
use crate::engine::state::StoredSeries;
use crate::model::{Labels, MetricType, SampleValue};
use crate::render::float::write_text_label_float;

use super::overview::{Group, Overview};
use super::settings::settings;
use super::timefmt::rfc3339;
use super::ApiConfig;

/// Go's `fmt.Sprint` of a float64 (`0.5`, `1e+06`, `+Inf`, `NaN`).
fn go_float(v: f64) -> String {
    let mut s = String::new();
    write_text_label_float(v, &mut s);
    s
}

/// A count as Pushgateway prints it: an integer (Go's `uint64`) when it is one, else a float.
fn go_count(v: f64) -> String {
    if v >= 0.0 && v.fract() == 0.0 && v < 18_446_744_073_709_551_616.0 {
        format!("{}", v as u64)
    } else {
        go_float(v)
    }
}

/// Go's `dto.MetricType.String()`.
fn type_name(t: MetricType) -> &'static str {
    match t {
        MetricType::Counter => "COUNTER",
        MetricType::Gauge => "GAUGE",
        MetricType::Histogram => "HISTOGRAM",
        MetricType::Summary => "SUMMARY",
        MetricType::Untyped => "UNTYPED",
    }
}

fn label_map(labels: &Labels) -> Value {
    Value::Object(
        labels
            .pairs()
            .iter()
            .map(|(n, v)| (n.clone(), Value::String(v.clone())))
            .collect(),
    )
}

fn metric(s: &StoredSeries) -> Value {
    let mut m = Map::new();
    m.insert("labels".into(), label_map(&s.labels));
    match &s.value {
        SampleValue::Counter(v) | SampleValue::Gauge(v) | SampleValue::Untyped(v) => {
            m.insert("value".into(), go_float(*v).into());
        }
        SampleValue::Histogram(h) => {
            let buckets: Map<String, Value> = h
                .buckets
                .iter()
                .map(|b| (go_float(b.upper_bound), go_count(b.cumulative_count).into()))
                .collect();
            m.insert("buckets".into(), Value::Object(buckets));
            m.insert("count".into(), go_count(h.count).into());
            m.insert("sum".into(), go_float(h.sum).into());
        }
        SampleValue::Summary(q) => {
            let quantiles: Map<String, Value> = q
                .quantiles
                .iter()
                .map(|x| (go_float(x.quantile), go_float(x.value).into()))
                .collect();
            m.insert("quantiles".into(), Value::Object(quantiles));
            m.insert("count".into(), go_count(q.count).into());
            m.insert("sum".into(), go_float(q.sum).into());
        }
    }
    Value::Object(m)
}

/// The `data` of `GET /api/v1/metrics`: one object per group, sorted by grouping labels,
/// the ungrouped series (if any) first.
pub fn metrics_data(o: &Overview) -> Value {
    let groups: Vec<Group> = o.groups();
    let index: BTreeMap<&str, usize> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.key.as_str(), i + 1))
        .collect();
    // Slot 0 holds the series pushed without a group (or whose group lost its push time).
    let mut slots: Vec<BTreeMap<&str, Vec<&StoredSeries>>> =
        vec![BTreeMap::new(); groups.len() + 1];
    for s in o.series() {
        let slot = s
            .group
            .as_deref()
            .and_then(|k| index.get(k).copied())
            .unwrap_or(0);
        slots[slot].entry(s.family.as_str()).or_default().push(s);
    }
    let mut out = Vec::new();
    for (i, families) in slots.into_iter().enumerate() {
        if families.is_empty() {
            continue;
        }
        let (labels, ok) = match i.checked_sub(1).and_then(|g| groups.get(g)) {
            Some(g) => (label_map(&g.labels), g.last_push_successful()),
            None => (Value::Object(Map::new()), true),
        };
        let mut group = Map::new();
        group.insert("labels".into(), labels);
        group.insert("last_push_successful".into(), Value::Bool(ok));
        for (name, mut series) in families {
            series.sort_by(|a, b| a.labels.cmp(&b.labels));
            let meta = o.state.families.get(name);
            let kind = meta.map_or_else(|| type_of(&series[0].value), |m| m.kind);
            let updated = series.iter().map(|s| s.updated_ms).max().unwrap_or(0);
            let mut fam = Map::new();
            fam.insert("time_stamp".into(), rfc3339(updated).into());
            fam.insert("type".into(), type_name(kind).into());
            if let Some(help) = meta
                .and_then(|m| m.help.as_deref())
                .filter(|h| !h.is_empty())
            {
                fam.insert("help".into(), help.into());
            }
            fam.insert(
                "metrics".into(),
                Value::Array(series.iter().map(|s| metric(s)).collect()),
            );
            group.insert(name.to_string(), Value::Object(fam));
        }
        out.push(Value::Object(group));
    }
    Value::Array(out)
}

/// The `data` of `GET /api/v1/status`.
pub fn status_data(cfg: &ApiConfig, now_ms: i64) -> Value {
    let flags: Map<String, Value> = settings(cfg)
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::String(v)))
        .collect();
    json!({
        "flags": flags,
        "start_time": rfc3339(now_ms),
        "build_information": {
            "program": "promagg",
            "version": env!("CARGO_PKG_VERSION"),
        },
    })
}

/// Pushgateway's success envelope.
pub fn success(data: Value) -> Value {
    json!({ "status": "success", "data": data })
}
