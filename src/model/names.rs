//! Metric and label name rules (the classic Prometheus character set; UTF-8 names are refused).

use thiserror::Error;

/// Why a metric or label name was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    /// The name is empty.
    #[error("empty {0} name")]
    Empty(&'static str),
    /// The name has a character outside the classic Prometheus set.
    #[error("invalid {kind} name {name:?}: must match {pattern} (UTF-8 names are not supported)")]
    InvalidChars {
        /// "metric" or "label".
        kind: &'static str,
        /// The offending name.
        name: String,
        /// The rule it broke.
        pattern: &'static str,
    },
    /// Label names starting with `__` are reserved for Prometheus itself.
    #[error("label name {0:?} is reserved (names starting with \"__\" belong to Prometheus)")]
    Reserved(String),
}

const METRIC_PATTERN: &str = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL_PATTERN: &str = "[a-zA-Z_][a-zA-Z0-9_]*";

/// True when `b` may start a metric name.
pub fn is_metric_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':'
}

/// True when `b` may continue a metric name.
pub fn is_metric_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}

/// True when `b` may start a label name.
pub fn is_label_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

/// True when `b` may continue a label name.
pub fn is_label_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Checks a metric name against `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn validate_metric_name(name: &str) -> Result<(), NameError> {
    let bytes = name.as_bytes();
    let Some(&first) = bytes.first() else {
        return Err(NameError::Empty("metric"));
    };
    if !is_metric_name_start(first) || !bytes[1..].iter().all(|&b| is_metric_name_char(b)) {
        return Err(NameError::InvalidChars {
            kind: "metric",
            name: name.to_string(),
            pattern: METRIC_PATTERN,
        });
    }
    Ok(())
}

/// Checks a label name against `[a-zA-Z_][a-zA-Z0-9_]*` and refuses reserved `__` names.
pub fn validate_label_name(name: &str) -> Result<(), NameError> {
    let bytes = name.as_bytes();
    let Some(&first) = bytes.first() else {
        return Err(NameError::Empty("label"));
    };
    if !is_label_name_start(first) || !bytes[1..].iter().all(|&b| is_label_name_char(b)) {
        return Err(NameError::InvalidChars {
            kind: "label",
            name: name.to_string(),
            pattern: LABEL_PATTERN,
        });
    }
    if name.starts_with("__") {
        return Err(NameError::Reserved(name.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names() {
        for ok in ["a", "_a", ":a", "a:b_c9", "http_requests_total", "A"] {
            assert_eq!(validate_metric_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(validate_metric_name(""), Err(NameError::Empty("metric")));
        for bad in ["9a", "a-b", "a.b", "ä", "a b", "a{"] {
            assert!(
                matches!(
                    validate_metric_name(bad),
                    Err(NameError::InvalidChars { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn label_names() {
        for ok in ["a", "_a", "a_9", "le", "_"] {
            assert_eq!(validate_label_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(validate_label_name(""), Err(NameError::Empty("label")));
        for bad in ["9a", "a:b", "a-b", "é"] {
            assert!(
                matches!(
                    validate_label_name(bad),
                    Err(NameError::InvalidChars { .. })
                ),
                "{bad}"
            );
        }
        assert_eq!(
            validate_label_name("__name__"),
            Err(NameError::Reserved("__name__".into()))
        );
    }
}
