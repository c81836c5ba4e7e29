//! Folding the `_created` gauges of Python's text output into the series they describe.
//!
//! The text format 0.0.4 has no `_created` samples, so Python's `prometheus_client` writes each
//! one as its own gauge family after the owner: counter `foo_total` gets gauge `foo_created`,
//! histogram or summary `h` gets gauge `h_created`. Stored as gauges they would be summed
//! across pushes into nonsense; attached to the owner they become [`Series::created`].
//!
//! [`Series::created`]: crate::model::Series::created

use std::collections::HashMap;

use crate::model::{Labels, MetricFamily, MetricType, SampleValue};

/// The owner family of a `base_created` gauge: counter `base_total`, or counter, histogram
/// or summary `base`.
fn owner_of(
    families: &[MetricFamily],
    by_name: &HashMap<&str, usize>,
    base: &str,
) -> Option<usize> {
    let total = format!("{base}_total");
    let counter = by_name
        .get(total.as_str())
        .copied()
        .filter(|&i| families[i].kind == MetricType::Counter);
    counter.or_else(|| {
        by_name.get(base).copied().filter(|&i| {
            matches!(
                families[i].kind,
                MetricType::Counter | MetricType::Histogram | MetricType::Summary
            )
        })
    })
}

/// Moves every `X_created` gauge (or untyped) sample whose owner series is in `families` onto
/// that series, and drops the `X_created` families left empty. Samples without an owner series
/// stay ordinary gauges.
pub(crate) fn attach_created(families: &mut Vec<MetricFamily>) {
    let pairs: Vec<(usize, usize)> = {
        let by_name: HashMap<&str, usize> = families
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.as_str(), i))
            .collect();
        families
            .iter()
            .enumerate()
            .filter(|(_, f)| matches!(f.kind, MetricType::Gauge | MetricType::Untyped))
            .filter_map(|(i, f)| {
                let base = f.name.strip_suffix("_created")?;
                Some((i, owner_of(families, &by_name, base)?))
            })
            .collect()
    };
    if pairs.is_empty() {
        return;
    }
    for (created, owner) in pairs {
        let samples = std::mem::take(&mut families[created].series);
        let owner = &mut families[owner];
        let index: HashMap<&Labels, usize> = owner
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| (&s.labels, i))
            .collect();
        let mut hits = Vec::new();
        let mut left = Vec::new();
        for s in samples {
            match (index.get(&s.labels), &s.value) {
                (Some(&i), SampleValue::Gauge(v) | SampleValue::Untyped(v)) => hits.push((i, *v)),
                _ => left.push(s),
            }
        }
        for (i, v) in hits {
            owner.series[i].created = Some(v);
        }
        families[created].series = left;
    }
    families.retain(|f| !f.series.is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Series;

    fn fam(name: &str, kind: MetricType, label_values: &[&str], value: f64) -> MetricFamily {
        let mut f = MetricFamily::new(name, kind);
        for v in label_values {
            let labels = Labels::new(vec![("a".into(), v.to_string())]).unwrap();
            let value = match kind {
                MetricType::Counter => SampleValue::Counter(value),
                MetricType::Untyped => SampleValue::Untyped(value),
                _ => SampleValue::Gauge(value),
            };
            f.series.push(Series {
                labels,
                value,
                timestamp_ms: None,
                created: None,
            });
        }
        f
    }

    #[test]
    fn attaches_to_total_counters_and_keeps_orphans() {
        let mut fs = vec![
            fam("foo_total", MetricType::Counter, &["x", "y"], 1.0),
            fam("foo_created", MetricType::Gauge, &["x", "z"], 17.5),
            fam("other_created", MetricType::Gauge, &["x"], 3.0),
        ];
        attach_created(&mut fs);
        assert_eq!(fs.len(), 3);
        assert_eq!(fs[0].series[0].created, Some(17.5));
        assert_eq!(fs[0].series[1].created, None);
        // The sample for a={z} has no owner series: it stays a gauge.
        assert_eq!(fs[1].name, "foo_created");
        assert_eq!(fs[1].series.len(), 1);
        assert_eq!(fs[1].series[0].labels.get("a"), Some("z"));
        assert_eq!(fs[2].name, "other_created");
    }

    #[test]
    fn attaches_to_untyped_created_and_drops_the_family() {
        let mut fs = vec![
            fam("bar_created", MetricType::Untyped, &["x"], 5.0),
            fam("bar", MetricType::Counter, &["x"], 2.0),
        ];
        attach_created(&mut fs);
        assert_eq!(fs.len(), 1);
        assert_eq!(fs[0].name, "bar");
        assert_eq!(fs[0].series[0].created, Some(5.0));
    }

    #[test]
    fn gauges_do_not_own_created() {
        let mut fs = vec![
            fam("g", MetricType::Gauge, &["x"], 1.0),
            fam("g_created", MetricType::Gauge, &["x"], 5.0),
            fam("c_total", MetricType::Counter, &["x"], 1.0),
            fam("c_total_created", MetricType::Counter, &["x"], 5.0),
        ];
        let before = fs.clone();
        attach_created(&mut fs);
        assert_eq!(fs, before);
    }
}
