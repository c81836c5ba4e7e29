//! The original worker's promjs form: a JSON string whose content is a text-format body.
//!
//! `fetch(url, {method: "POST", body: JSON.stringify(registry.metrics())})` sends the
//! text-format output of promjs as one JSON string literal (with `text/plain` as its type).

use super::error::{ParseError, ParseErrorKind};

/// Decodes a body that is exactly one JSON string (surrounding whitespace allowed) into the
/// text it holds.
pub fn unwrap_json_string(body: &[u8]) -> Result<String, ParseError> {
    serde_json::from_slice::<String>(body)
        .map_err(|e| ParseErrorKind::Json(e.to_string()).at(e.line().max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwraps_strings() {
        let body = br##"  "# TYPE a counter\na{x=\"1\"} 1\n\u00e9"  "##;
        assert_eq!(
            unwrap_json_string(body).unwrap(),
            "# TYPE a counter\na{x=\"1\"} 1\n\u{e9}"
        );
        assert_eq!(unwrap_json_string(br#""""#).unwrap(), "");
    }

    #[test]
    fn refuses_anything_else() {
        for (body, line) in [
            (&br#"{"a": 1}"#[..], 1),
            (b"\"unterminated", 1),
            (b"\"a\" \"b\"", 1),
            (b"\n\n 42", 3),
            (b"", 1),
            (b"\"\xff\"", 1),
        ] {
            let e = unwrap_json_string(body).unwrap_err();
            assert_eq!(e.line, line, "{e}");
            assert!(matches!(e.kind, ParseErrorKind::Json(_)), "{e}");
        }
        let e = unwrap_json_string(b"[1]").unwrap_err();
        assert!(e.to_string().starts_with("line 1: invalid JSON-wrapped body (expected one JSON string holding text-format metrics): invalid type: sequence"), "{e}");
    }
}
