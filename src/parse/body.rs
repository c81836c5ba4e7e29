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
    /// not read, 413 for bodies too large, 400 for everything else.
    pub fn status(&self) -> u16 {
        match self {
            BodyError::UnsupportedMediaType(_)
            | BodyError::UnsupportedCharset(_)
            | BodyError::UnsupportedEncoding(_) => 415,
            BodyError::TooLarge(_) | BodyError::Limit(LimitError::BodyTooLarge { .. }) => 413,
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
