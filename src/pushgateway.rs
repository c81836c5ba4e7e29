//! Pushgateway's grouping-key URL syntax: `/metrics/job/<job>{/<label>/<value>}`.
//!
//! Parsed exactly as Pushgateway does: a name suffixed `@base64` carries a base64url value
//! (trailing `=` ignored, so `=` alone is an empty value), every segment is URL-decoded, the
//! job must not be empty, label names follow the classic rules and appear once.

use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use percent_encoding::percent_decode_str;
use thiserror::Error;

use crate::model::{validate_label_name, Labels, NameError};

/// Why a grouping-key path was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GroupingError {
    /// The path does not start with `job`.
    #[error("grouping key must start with /job/<job>")]
    NoJob,
    /// The job name is empty.
    #[error("job name must not be empty")]
    EmptyJob,
    /// A label name has no value segment.
    #[error("label {0:?} has no value in the path (expected /<label>/<value> pairs)")]
    MissingValue(String),
    /// A segment is not valid percent-encoded UTF-8.
    #[error("path segment {0:?} is not valid UTF-8 after URL-decoding")]
    BadEncoding(String),
    /// A base64 value does not decode.
    #[error("value of {label:?} is not valid base64url: {reason}")]
    BadBase64 {
        /// The label.
        label: String,
        /// What failed.
        reason: String,
    },
    /// A label name is invalid.
    #[error("invalid grouping label: {0}")]
    BadName(#[from] NameError),
    /// A label name appears twice.
    #[error("grouping label {0:?} appears twice")]
    Duplicate(String),
}

fn url_decode(segment: &str) -> Result<String, GroupingError> {
    percent_decode_str(segment)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| GroupingError::BadEncoding(segment.to_string()))
}

/// Go's `base64.RawURLEncoding`, which Pushgateway decodes with: no padding, and (not being
/// `Strict`) unused bits of the last character may be set.
const GO_RAW_URL: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

fn base64_value(label: &str, encoded: &str) -> Result<String, GroupingError> {
    let bad = |reason: String| GroupingError::BadBase64 {
        label: label.to_string(),
        reason,
    };
    // Pushgateway strips every trailing `=` before decoding, whether or not it is right padding.
    let bytes = GO_RAW_URL
        .decode(encoded.trim_end_matches('='))
        .map_err(|e| bad(e.to_string()))?;
    String::from_utf8(bytes).map_err(|_| bad("not UTF-8".into()))
}

/// Parses the part of the path after `/metrics/` (e.g. `job/batch/instance@base64/aG9zdA`).
pub fn parse_grouping_path(path: &str) -> Result<Labels, GroupingError> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut it = segments.chunks(2);
    let mut first = true;
    for chunk in &mut it {
        let raw_name = url_decode(chunk[0])?;
        let (name, is_b64) = match raw_name.strip_suffix("@base64") {
            Some(n) => (n.to_string(), true),
            None => (raw_name.clone(), false),
        };
        if first {
            if name != "job" {
                return Err(GroupingError::NoJob);
            }
            first = false;
        }
        let Some(raw_value) = chunk.get(1) else {
            return Err(GroupingError::MissingValue(name));
        };
        let value = url_decode(raw_value)?;
        let value = if is_b64 {
            base64_value(&name, &value)?
        } else {
            value
        };
        validate_label_name(&name)?;
        if pairs.iter().any(|(n, _)| *n == name) {
            return Err(GroupingError::Duplicate(name));
        }
        if name == "job" && value.is_empty() {
            return Err(GroupingError::EmptyJob);
        }
        pairs.push((name, value));
    }
    if first {
        return Err(GroupingError::NoJob);
    }
    Labels::new(pairs).map_err(|e| match e {
        crate::model::LabelError::Name(n) => GroupingError::BadName(n),
        crate::model::LabelError::Duplicate(d) => GroupingError::Duplicate(d),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(path: &str) -> String {
        parse_grouping_path(path).unwrap().series_key("")
    }

    #[test]
    fn plain_and_base64_segments() {
        assert_eq!(key("job/batch"), r#"{job="batch"}"#);
        assert_eq!(
            key("job/batch/instance/host1/"),
            r#"{instance="host1",job="batch"}"#
        );
        // Python's client encodes "a/b" as job@base64/YS9i
        assert_eq!(key("job@base64/YS9i"), r#"{job="a/b"}"#);
        assert_eq!(
            key("job/x/path@base64/L3Zhci90bXA="),
            r#"{job="x",path="/var/tmp"}"#
        );
        assert_eq!(
            key("job/x/path@base64/L3Zhci90bXA"),
            r#"{job="x",path="/var/tmp"}"#
        );
        assert_eq!(key("job/x/empty@base64/="), r#"{empty="",job="x"}"#);
        assert_eq!(key("job/a%20b/l/%C3%A9"), r#"{job="a b",l="é"}"#);
    }

    #[test]
    fn base64_padding_is_stripped_as_pushgateway_does() {
        for encoded in ["aG9zdA", "aG9zdA=", "aG9zdA==", "aG9zdA==="] {
            assert_eq!(
                key(&format!("job/x/instance@base64/{encoded}")),
                r#"{instance="host",job="x"}"#,
                "{encoded}"
            );
        }
        // Go's non-strict decoder ignores set bits after the last byte.
        assert_eq!(key("job@base64/aG9zdB"), r#"{job="host"}"#);
        assert_eq!(key("job/x/e@base64/=="), r#"{e="",job="x"}"#);
    }

    #[test]
    fn invalid_base64_names_the_label() {
        for encoded in ["aG9zd", "aG=9zdA", "aG9z+A", "a", "aG9z%2FA"] {
            let e = parse_grouping_path(&format!("job/x/instance@base64/{encoded}")).unwrap_err();
            assert!(
                matches!(&e, GroupingError::BadBase64 { label, .. } if label == "instance"),
                "{encoded}: {e:?}"
            );
            assert!(
                e.to_string()
                    .starts_with("value of \"instance\" is not valid base64url: "),
                "{e}"
            );
        }
        // Valid base64 of bytes that are not UTF-8.
        assert_eq!(
            parse_grouping_path("job/x/l@base64/_w"),
            Err(GroupingError::BadBase64 {
                label: "l".into(),
                reason: "not UTF-8".into()
            })
        );
    }

    #[test]
    fn errors() {
        assert_eq!(parse_grouping_path("instance/x"), Err(GroupingError::NoJob));
        assert_eq!(
            parse_grouping_path("job"),
            Err(GroupingError::MissingValue("job".into()))
        );
        assert_eq!(
            parse_grouping_path("job@base64/="),
            Err(GroupingError::EmptyJob)
        );
        assert_eq!(
            parse_grouping_path("job/x/a"),
            Err(GroupingError::MissingValue("a".into()))
        );
        assert_eq!(
            parse_grouping_path("job/x/job/y"),
            Err(GroupingError::Duplicate("job".into()))
        );
        assert!(matches!(
            parse_grouping_path("job/x/a-b/1"),
            Err(GroupingError::BadName(_))
        ));
        assert!(matches!(
            parse_grouping_path("job/x/a@base64/!!"),
            Err(GroupingError::BadBase64 { .. })
        ));
        assert!(matches!(
            parse_grouping_path("job/%FF"),
            Err(GroupingError::BadEncoding(_))
        ));
    }
}
