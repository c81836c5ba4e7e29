//! Query-string parsing: labels for PATCH/DELETE, options for pushes.

use thiserror::Error;

use crate::aggregate::{GaugeMode, UnknownGaugeMode};
use crate::model::{LabelError, Labels};

/// A malformed query string.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QueryError {
    /// A label in the query is invalid.
    #[error("query labels: {0}")]
    Label(#[from] LabelError),
    /// An unknown gauge mode.
    #[error(transparent)]
    GaugeMode(#[from] UnknownGaugeMode),
    /// A bad duration.
    #[error("invalid ttl {0:?}: expected seconds or a duration like 90s, 15m, 2h, 1d")]
    Duration(String),
    /// An option the route does not know.
    #[error("unknown query parameter {0:?} (this route accepts: gauge, ttl)")]
    UnknownOption(String),
}

/// Every `name=value` pair of a query string, URL-decoded.
pub fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// The query as a label set (PATCH and DELETE of the original Worker's API).
pub fn labels(query: Option<&str>) -> Result<Labels, QueryError> {
    Ok(Labels::new(pairs(query))?)
}

/// Push options from the query: `gauge=` and `ttl=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PushOptions {
    /// Requested gauge mode.
    pub gauge: Option<GaugeMode>,
    /// Requested TTL, ms.
    pub ttl_ms: Option<i64>,
}

/// Parses push options, refusing unknown parameters.
pub fn push_options(query: Option<&str>) -> Result<PushOptions, QueryError> {
    let mut opts = PushOptions::default();
    for (k, v) in pairs(query) {
        match k.as_str() {
            "gauge" => opts.gauge = Some(v.parse()?),
            "ttl" => opts.ttl_ms = Some(parse_duration_ms(&v)?),
            _ => return Err(QueryError::UnknownOption(k)),
        }
    }
    Ok(opts)
}

/// Parses `90`, `90s`, `15m`, `2h`, `1d` into milliseconds (`0` = no expiry).
pub fn parse_duration_ms(s: &str) -> Result<i64, QueryError> {
    let bad = || QueryError::Duration(s.to_string());
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: i64 = num.parse().map_err(|_| bad())?;
    let scale = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(bad()),
    };
    n.checked_mul(scale).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("90"), Ok(90_000));
        assert_eq!(parse_duration_ms("15m"), Ok(900_000));
        assert_eq!(parse_duration_ms("2h"), Ok(7_200_000));
        assert_eq!(parse_duration_ms("1d"), Ok(86_400_000));
        assert_eq!(parse_duration_ms("250ms"), Ok(250));
        assert!(parse_duration_ms("1w").is_err());
        assert!(parse_duration_ms("").is_err());
        assert!(parse_duration_ms("-5s").is_err());
    }

    #[test]
    fn options_and_labels() {
        let o = push_options(Some("gauge=max&ttl=10m")).unwrap();
        assert_eq!(o.gauge, Some(GaugeMode::Max));
        assert_eq!(o.ttl_ms, Some(600_000));
        assert!(matches!(
            push_options(Some("foo=1")),
            Err(QueryError::UnknownOption(_))
        ));
        assert!(matches!(
            push_options(Some("gauge=avg")),
            Err(QueryError::GaugeMode(_))
        ));
        let l = labels(Some("country=DE&anotherLabel=a%20b+c")).unwrap();
        assert_eq!(l.series_key("m"), r#"m{anotherLabel="a b c",country="DE"}"#);
        assert!(matches!(
            labels(Some("a=1&a=2")),
            Err(QueryError::Label(LabelError::Duplicate(_)))
        ));
        assert!(labels(None).unwrap().is_empty());
    }
}
