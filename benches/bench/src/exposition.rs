//! Reading values back from a `GET /metrics` answer, with the core's own text parser.

use std::collections::HashMap;

use anyhow::{anyhow, Context, Result};
use promagg::model::SampleValue;

/// The counter values of family `name` in a text exposition, by series labels in canonical
/// form (`{a="1",b="2"}`, the empty string for none); empty when the family is absent.
pub fn counters(exposition: &[u8], name: &str) -> Result<HashMap<String, f64>> {
    let text = std::str::from_utf8(exposition).context("GET /metrics is not UTF-8")?;
    let families = promagg::parse::text::parse(text)
        .map_err(|e| anyhow!("GET /metrics does not parse: {e}"))?;
    let mut out = HashMap::new();
    for f in families.into_iter().filter(|f| f.name == name) {
        for s in f.series {
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

/// The canonical label form `counters` uses, from sorted `(name, value)` pairs.
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
                     # TYPE g gauge\ng 1\n";
        let got = counters(text, "x_total").unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[&canonical(&[("a", "1"), ("b", "2")])], 5.0);
        assert_eq!(got[&canonical(&[])], 7.0);
        assert!(counters(text, "absent_total").unwrap().is_empty());
        assert!(counters(text, "g").is_err());
        assert!(counters(b"x{ 1\n", "x").is_err());
    }
}
