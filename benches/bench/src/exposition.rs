//! Reading values back from a `GET /metrics` answer, with the core's own text parser.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Context, Result};
use promagg::model::{MetricFamily, SampleValue};

/// A parsed text exposition.
pub struct Scrape {
    families: Vec<MetricFamily>,
}

impl Scrape {
    /// Parses a `GET /metrics` body (text format 0.0.4).
    pub fn parse(exposition: &[u8]) -> Result<Scrape> {
        let text = std::str::from_utf8(exposition).context("GET /metrics is not UTF-8")?;
        let families = promagg::parse::text::parse(text)
            .map_err(|e| anyhow!("GET /metrics does not parse: {e}"))?;
        Ok(Scrape { families })
    }

    /// The counter values of family `name`, by series labels in canonical form
    /// (`{a="1",b="2"}`, the empty string for none); empty when the family is absent.
    pub fn counters(&self, name: &str) -> Result<HashMap<String, f64>> {
        let mut out = HashMap::new();
        for f in self.families.iter().filter(|f| f.name == name) {
            for s in &f.series {
                let SampleValue::Counter(v) = s.value else {
                    return Err(anyhow!("{name} is a {}, not a counter", f.kind));
                };
                let mut key = String::new();
                s.labels.write_canonical(&mut key);
                out.insert(key, v);
            }
        }
        Ok(out)
    }

    /// The value of the first series of gauge `name`, if present.
    pub fn gauge(&self, name: &str) -> Option<f64> {
        self.families
            .iter()
            .filter(|f| f.name == name)
            .flat_map(|f| f.series.iter())
            .find_map(|s| match s.value {
                SampleValue::Gauge(v) | SampleValue::Untyped(v) => Some(v),
                _ => None,
            })
    }

    /// How the folds kept up, from the gateway's self-metrics: writes still pending and
    /// seconds since the last fold, e.g. `12 writes pending, last fold 3.2 s ago`.
    pub fn fold_state(&self) -> String {
        let pending = self.gauge("promagg_pending_writes");
        let last = self.gauge("promagg_last_fold_timestamp_seconds");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        match (pending, last) {
            (Some(p), Some(t)) if t > 0.0 => {
                format!("{p} writes pending, last fold {:.1} s ago", now - t)
            }
            (Some(p), _) => format!("{p} writes pending, no fold yet"),
            _ => "not exposed by this gateway build".into(),
        }
    }
}

/// The canonical label form `Scrape::counters` uses, from `(name, value)` pairs.
pub fn canonical(pairs: &[(&str, &str)]) -> String {
    let labels = promagg::model::Labels::new(
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    )
    .unwrap_or_else(|_| promagg::model::Labels::empty());
    let mut key = String::new();
    labels.write_canonical(&mut key);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_counters_by_canonical_labels() {
        let text = b"# TYPE x_total counter\nx_total{b=\"2\",a=\"1\"} 5\nx_total 7\n\
                     # TYPE g gauge\ng 1.5\n";
        let s = Scrape::parse(text).unwrap();
        let got = s.counters("x_total").unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[&canonical(&[("a", "1"), ("b", "2")])], 5.0);
        assert_eq!(got[&canonical(&[])], 7.0);
        assert!(s.counters("absent_total").unwrap().is_empty());
        assert!(s.counters("g").is_err());
        assert_eq!(s.gauge("g"), Some(1.5));
        assert_eq!(s.gauge("x_total"), None);
        assert!(Scrape::parse(b"x{ 1\n").is_err());
    }

    #[test]
    fn fold_state_reads_the_self_metrics() {
        let s = Scrape::parse(
            b"# TYPE promagg_pending_writes gauge\npromagg_pending_writes 12\n\
              # TYPE promagg_last_fold_timestamp_seconds gauge\n\
              promagg_last_fold_timestamp_seconds 0\n",
        )
        .unwrap();
        assert_eq!(s.fold_state(), "12 writes pending, no fold yet");
        assert_eq!(
            Scrape::parse(b"").unwrap().fold_state(),
            "not exposed by this gateway build"
        );
    }
}
