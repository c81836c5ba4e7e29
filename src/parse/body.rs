//! A request body to validated families: decoding, format detection, parsing and limits.

use thiserror::Error;

use crate::limits::{LimitError, Limits};
use crate::model::MetricFamily;

use super::error::{ParseError, ParseErrorKind};
use super::protobuf::ProtobufError;
use super::{encoding, json, openmetrics, protobuf, text};

/// The formats a push body can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics 1.0 text.
    OpenMetrics,
    /// Varint-delimited `io.prometheus.client.MetricFamily` protobuf messages.
    Protobuf,
    /// A JSON string holding a text-format body (the original worker's promjs form).
    JsonText,
}

/// Why a push body was refused; [`BodyError::status`] gives the HTTP status.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum BodyError {
    /// A `Content-Type` the gateway does not read.
    #[error("unsupported Content-Type {0:?}: send text/plain (text format 0.0.4), application/openmetrics-text (version 1.0.0 or 0.0.1), application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited, or application/json holding a JSON string of text format")]
    UnsupportedMediaType(String),
    /// A `charset` other than UTF-8.
    #[error("unsupported charset {0:?}: bodies must be UTF-8")]
    UnsupportedCharset(String),
    /// A `Content-Encoding` the gateway does not read.
    #[error("unsupported Content-Encoding {0:?}: send gzip, snappy (framed format) or identity")]
    UnsupportedEncoding(String),
    /// A compressed body that does not decompress.
    #[error("body does not decompress: {0}")]
    Decompress(String),
    /// A body larger than `max_body_bytes` (after decompression).
    #[error("{0} (after decompression)")]
    TooLarge(LimitError),
    /// A malformed text, OpenMetrics or JSON-wrapped body.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A malformed protobuf body.
    #[error("invalid protobuf body: {0}")]
    Protobuf(ProtobufError),
    /// A well-formed body that breaks a request limit.
    #[error(transparent)]
    Limit(LimitError),
}

impl BodyError {
    /// The HTTP status to answer with: 415 for types, charsets and encodings the gateway does
    /// not read, 413 for bodies too large or with too many series (as the engine answers the
    /// same limit), 400 for everything else.
    pub fn status(&self) -> u16 {
        match self {
            BodyError::UnsupportedMediaType(_)
            | BodyError::UnsupportedCharset(_)
            | BodyError::UnsupportedEncoding(_) => 415,
            BodyError::TooLarge(_)
            | BodyError::Limit(LimitError::BodyTooLarge { .. })
            | BodyError::Limit(LimitError::TooManySeries { .. }) => 413,
            BodyError::Decompress(_)
            | BodyError::Parse(_)
            | BodyError::Protobuf(_)
            | BodyError::Limit(_) => 400,
        }
    }
}

/// A media type's lower-cased essence and its parameters (names lower-cased, values unquoted).
fn media_type(content_type: &str) -> (String, Vec<(String, &str)>) {
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let params = parts
        .filter_map(|p| {
            let (name, value) = p.split_once('=')?;
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            Some((name.trim().to_ascii_lowercase(), value))
        })
        .collect();
    (essence, params)
}

/// Text, or JSON-wrapped text when the body's first non-whitespace byte is `"` (a text-format
/// line can never start with one; `fetch()` with a string body says `text/plain`).
fn sniff_text(body: &[u8]) -> BodyFormat {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'"') => BodyFormat::JsonText,
        _ => BodyFormat::Text,
    }
}

/// Decides a body's format from its `Content-Type` (and, for text, its first byte).
pub fn detect_format(content_type: Option<&str>, body: &[u8]) -> Result<BodyFormat, BodyError> {
    let Some(ct) = content_type.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(sniff_text(body));
    };
    let (essence, params) = media_type(ct);
    let param = |name: &str| params.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
    if let Some(charset) = param("charset") {
        let ok = ["utf-8", "utf8", "us-ascii"];
        if !ok.iter().any(|c| charset.eq_ignore_ascii_case(c)) {
            return Err(BodyError::UnsupportedCharset(charset.to_string()));
        }
    }
    let unsupported = || BodyError::UnsupportedMediaType(ct.to_string());
    match essence.as_str() {
        // curl --data-binary sends form-urlencoded unless told otherwise.
        "text/plain" | "application/x-www-form-urlencoded" => Ok(sniff_text(body)),
        "application/openmetrics-text" => match param("version") {
            None | Some("1.0.0") | Some("0.0.1") => Ok(BodyFormat::OpenMetrics),
            Some(_) => Err(unsupported()),
        },
        "application/json" => Ok(BodyFormat::JsonText),
        "application/vnd.google.protobuf" => {
            let proto = param("proto") == Some("io.prometheus.client.MetricFamily");
            let delimited = param("encoding").is_some_and(|e| e.eq_ignore_ascii_case("delimited"));
            if proto && delimited {
                Ok(BodyFormat::Protobuf)
            } else {
                Err(unsupported())
            }
        }
        _ => Err(unsupported()),
    }
}

/// The body as UTF-8, or an error on the line of the first invalid byte.
fn utf8(body: &[u8]) -> Result<&str, ParseError> {
    std::str::from_utf8(body).map_err(|e| {
        let valid = &body[..e.valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        ParseErrorKind::InvalidUtf8.at(line)
    })
}

/// Decodes, detects, parses and checks a push body completely, so that the caller applies
/// all of it or nothing.
pub fn parse_body(
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    body: &[u8],
    limits: &Limits,
) -> Result<Vec<MetricFamily>, BodyError> {
    let body = encoding::decode(content_encoding, body, limits.max_body_bytes)?;
    let mut families = match detect_format(content_type, &body)? {
        BodyFormat::Text => text::parse(utf8(&body)?)?,
        BodyFormat::OpenMetrics => openmetrics::parse(utf8(&body)?)?,
        BodyFormat::JsonText => text::parse(&json::unwrap_json_string(&body)?)?,
        BodyFormat::Protobuf => protobuf::parse_delimited(&body).map_err(BodyError::Protobuf)?,
    };
    limits
        .check_request(&mut families)
        .map_err(BodyError::Limit)?;
    Ok(families)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MetricType, SampleValue};
    use crate::parse::encoding::tests::{gzip, snappy};
    use crate::parse::test_util::{assert_model_invariants, family, fixture, labels, series};

    const PROTO: &str =
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

    fn parse(
        ct: Option<&str>,
        ce: Option<&str>,
        body: &[u8],
    ) -> Result<Vec<MetricFamily>, BodyError> {
        parse_body(ct, ce, body, &Limits::default())
    }

    #[test]
    fn detects_formats() {
        let text = b"a 1\n";
        let json = b" \n\"a 1\\n\"";
        let cases: &[(Option<&str>, &[u8], BodyFormat)] = &[
            (None, text, BodyFormat::Text),
            (None, json, BodyFormat::JsonText),
            (Some(""), text, BodyFormat::Text),
            (Some("text/plain"), text, BodyFormat::Text),
            (Some("text/plain; version=0.0.4; charset=utf-8"), text, BodyFormat::Text),
            (Some("Text/Plain;charset=\"UTF-8\""), json, BodyFormat::JsonText),
            (Some("application/x-www-form-urlencoded"), text, BodyFormat::Text),
            (Some("application/x-www-form-urlencoded"), json, BodyFormat::JsonText),
            (Some("application/openmetrics-text"), text, BodyFormat::OpenMetrics),
            (Some("application/openmetrics-text; version=1.0.0; charset=utf-8"), text, BodyFormat::OpenMetrics),
            (Some("application/openmetrics-text; version=0.0.1"), json, BodyFormat::OpenMetrics),
            (Some("application/json"), json, BodyFormat::JsonText),
            (Some("application/json; charset=utf-8"), text, BodyFormat::JsonText),
            (Some(PROTO), text, BodyFormat::Protobuf),
            (Some("application/vnd.google.protobuf;encoding=\"delimited\";proto=\"io.prometheus.client.MetricFamily\""), text, BodyFormat::Protobuf),
        ];
        for (ct, body, format) in cases {
            assert_eq!(detect_format(*ct, body), Ok(*format), "{ct:?}");
        }
    }

    #[test]
    fn unsupported_types_are_415_and_named() {
        for ct in [
            "application/xml",
            "application/openmetrics-text; version=2.0.0",
            "application/vnd.google.protobuf",
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=text",
            "application/vnd.google.protobuf; proto=other.Message; encoding=delimited",
            "application/x-protobuf",
        ] {
            let e = detect_format(Some(ct), b"a 1\n").unwrap_err();
            assert_eq!(e, BodyError::UnsupportedMediaType(ct.to_string()));
            assert_eq!(e.status(), 415);
            assert!(e.to_string().starts_with(&format!("unsupported Content-Type {ct:?}")), "{e}");
        }
        let e = detect_format(Some("text/plain; charset=iso-8859-1"), b"").unwrap_err();
        assert_eq!(e, BodyError::UnsupportedCharset("iso-8859-1".into()));
        assert_eq!(e.status(), 415);
        let e = parse(None, Some("br"), b"a 1\n").unwrap_err();
        assert_eq!(e, BodyError::UnsupportedEncoding("br".into()));
        assert_eq!(e.status(), 415);
        assert_eq!(
            e.to_string(),
            "unsupported Content-Encoding \"br\": send gzip, snappy (framed format) or identity"
        );
    }

    #[test]
    fn compressed_bodies() {
        let body = b"# TYPE a counter\na{x=\"1\"} 3\n";
        let want = vec![MetricFamily {
            name: "a".into(),
            kind: MetricType::Counter,
            help: None,
            unit: None,
            series: vec![series(&[("x", "1")], SampleValue::Counter(3.0))],
        }];
        assert_eq!(parse(Some("text/plain"), None, body).unwrap(), want);
        assert_eq!(
            parse(Some("text/plain"), Some("gzip"), &gzip(body)).unwrap(),
            want
        );
        assert_eq!(parse(None, Some("snappy"), &snappy(body)).unwrap(), want);
        let e = parse(None, Some("gzip"), body).unwrap_err();
        assert!(matches!(e, BodyError::Decompress(_)));
        assert_eq!(e.status(), 400);
    }

    #[test]
    fn size_limit_applies_after_decompression() {
        let limits = Limits {
            max_body_bytes: 1000,
            ..Limits::default()
        };
        let big = "a 1\n".repeat(1000);
        let packed = gzip(big.as_bytes());
        assert!(packed.len() < 1000);
        let e = parse_body(None, Some("gzip"), &packed, &limits).unwrap_err();
        assert_eq!(
            e,
            BodyError::TooLarge(LimitError::BodyTooLarge { limit: 1000 })
        );
        assert_eq!(e.status(), 413);
        assert_eq!(
            e.to_string(),
            "request body exceeds max_body_bytes=1000 (after decompression)"
        );
        let e = parse_body(None, None, big.as_bytes(), &limits).unwrap_err();
        assert_eq!(e.status(), 413);
        let e = parse_body(None, Some("snappy"), &snappy(big.as_bytes()), &limits).unwrap_err();
        assert_eq!(e.status(), 413);
    }

    #[test]
    fn request_limits_are_checked() {
        let limits = Limits {
            max_series_per_request: 2,
            ..Limits::default()
        };
        let e = parse_body(None, None, b"a 1\nb 1\nc 1\n", &limits).unwrap_err();
        assert_eq!(
            e,
            BodyError::Limit(LimitError::TooManySeries { got: 3, limit: 2 })
        );
        assert_eq!(e.status(), 413);
        assert_eq!(
            e.status(),
            crate::engine::EngineError::Limit(LimitError::TooManySeries { got: 3, limit: 2 })
                .status(),
            "the parser and the engine answer the same limit alike"
        );
        assert_eq!(
            e.to_string(),
            "request has 3 series, more than max_series_per_request=2"
        );
        let e = parse_body(
            None,
            None,
            b"a{l=\"x\"} 1\n",
            &Limits {
                max_label_value_len: 0,
                ..limits
            },
        )
        .unwrap_err();
        assert!(
            matches!(e, BodyError::Limit(LimitError::LabelValueTooLong { .. })),
            "{e}"
        );
        assert_eq!(e.status(), 400);
        // Timestamps are refused by default, as Pushgateway does.
        let e = parse(None, None, b"a 1 1000\n").unwrap_err();
        assert!(
            matches!(e, BodyError::Limit(LimitError::TimestampNotAllowed { .. })),
            "{e}"
        );
    }

    #[test]
    fn parse_errors_keep_their_line() {
        let e = parse(None, None, b"a 1\nb\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 2: expected sample value, found end of line"
        );
        assert_eq!(e.status(), 400);
        let e = parse(Some("application/openmetrics-text"), None, b"a 1\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1: OpenMetrics body does not end with \"# EOF\""
        );
        let e = parse(None, None, b"a 1\nb 2\nc\xff 3\n").unwrap_err();
        assert_eq!(e.to_string(), "line 3: body is not valid UTF-8");
        let e = parse(Some("application/openmetrics-text"), None, b"\xfe").unwrap_err();
        assert_eq!(e.to_string(), "line 1: body is not valid UTF-8");
        let e = parse(Some(PROTO), None, b"\x05ab").unwrap_err();
        assert!(matches!(e, BodyError::Protobuf(_)), "{e}");
        assert_eq!(e.status(), 400);
        assert!(
            e.to_string()
                .starts_with("invalid protobuf body: message 1:"),
            "{e}"
        );
    }

    #[test]
    fn json_wrapped_promjs_readme_example() {
        let body = fixture("promjs_readme_example.json");
        // fetch() with a string body sends text/plain; the sniff finds the JSON string.
        for ct in [
            None,
            Some("text/plain;charset=UTF-8"),
            Some("application/json"),
        ] {
            let f = parse(ct, None, &body).unwrap();
            assert_model_invariants(&f);
            assert_eq!(
                f,
                vec![MetricFamily {
                    name: "my_counter".into(),
                    kind: MetricType::Counter,
                    help: Some("A counter for things".into()),
                    unit: None,
                    series: vec![
                        series(
                            &[("plan", "pro"), ("user", "user1")],
                            SampleValue::Counter(1.0)
                        ),
                        series(
                            &[("plan", "free"), ("user", "user2")],
                            SampleValue::Counter(3.0)
                        ),
                        series(
                            &[("plan", "pro"), ("user", "user3")],
                            SampleValue::Counter(1.0)
                        ),
                    ],
                }],
                "{ct:?}"
            );
        }
        assert_eq!(
            parse(None, Some("gzip"), &gzip(&body)).unwrap()[0]
                .series
                .len(),
            3
        );
    }

    #[test]
    fn json_wrapped_promjs_all_types() {
        let f = parse(None, None, &fixture("promjs_all_types.json")).unwrap();
        assert_model_invariants(&f);
        let h = family(&f, "latency_ms");
        assert_eq!(h.series.len(), 2);
        assert_eq!(h.series[1].labels, labels(&[("route", "/x")]));
        let SampleValue::Histogram(v) = &h.series[1].value else {
            panic!("{h:?}")
        };
        assert_eq!(v.bounds(), vec![10.0, 100.0, 1000.0, f64::INFINITY]);
        assert_eq!((v.sum, v.count), (5555.0, 4.0));
        assert_eq!(
            family(&f, "temperature").series[0].value,
            SampleValue::Gauge(21.5)
        );
    }

    #[test]
    fn json_errors() {
        let e = parse(Some("application/json"), None, b"{\"a\": 1}").unwrap_err();
        assert!(matches!(&e, BodyError::Parse(p) if p.line == 1), "{e}");
        // Errors inside the wrapped text count lines of the text.
        let e = parse(None, None, b"\"a 1\\nb\\n\"").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 2: expected sample value, found end of line"
        );
    }

    #[test]
    fn the_three_go_encodings_agree() {
        let text = parse(
            Some("text/plain; version=0.0.4"),
            None,
            &fixture("go_expfmt.txt"),
        )
        .unwrap();
        let om = parse(
            Some("application/openmetrics-text; version=1.0.0"),
            None,
            &fixture("go_expfmt.om.txt"),
        )
        .unwrap();
        let pb = parse(Some(PROTO), None, &fixture("go_expfmt.pb")).unwrap();
        assert_eq!(text, om);
        assert_eq!(text.len(), pb.len());
        for t in &text {
            let p = family(&pb, &t.name);
            assert_eq!(
                (p.kind, &p.help, &p.series),
                (t.kind, &t.help, &t.series),
                "{}",
                t.name
            );
        }
    }
}
