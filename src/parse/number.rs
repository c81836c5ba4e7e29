//! Sample values and timestamps as the exposition formats write them.

/// Parses a float as Go's `strconv.ParseFloat` does for the exposition formats.
///
/// Accepts decimal and exponent forms, `Inf`/`Infinity` with an optional sign and `NaN`, all
/// case-insensitively. Like Prometheus it refuses hex floats and `_` separators, and like Go
/// it refuses a signed NaN and decimals too large for an f64 (Rust would round those to ±Inf).
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    // Fast path for the most common values: small non-negative integers.
    if !b.is_empty() && b.len() <= 15 && b.iter().all(u8::is_ascii_digit) {
        let mut v: u64 = 0;
        for &d in b {
            v = v * 10 + u64::from(d - b'0');
        }
        // Exact: every integer below 2^53 is representable.
        return Some(v as f64);
    }
    let unsigned = match b.first() {
        Some(b'+' | b'-') => &b[1..],
        _ => b,
    };
    let letter = unsigned.first().is_some_and(u8::is_ascii_alphabetic);
    if letter && unsigned.len() != b.len() && unsigned[0].eq_ignore_ascii_case(&b'n') {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    if v.is_infinite() && !letter {
        return None;
    }
    Some(v)
}

/// Parses a text-format timestamp: integer milliseconds since the epoch.
pub(crate) fn parse_millis(s: &str) -> Option<i64> {
    s.parse().ok()
}

/// Parses an OpenMetrics timestamp (seconds, possibly fractional) into milliseconds.
pub(crate) fn parse_seconds_as_millis(s: &str) -> Option<i64> {
    let first = *s.as_bytes().first()?;
    if !(first.is_ascii_digit() || first == b'.' || first == b'+' || first == b'-') {
        return None;
    }
    let secs = parse_float(s)?;
    let ms = (secs * 1000.0).round();
    // i64::MAX as f64 rounds up to 2^63, which does not fit, hence the strict bound.
    if !ms.is_finite() || ms.abs() >= 9.2e18 {
        return None;
    }
    Some(ms as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_go_parses_them() {
        let ok = [
            ("0", 0.0),
            ("42", 42.0),
            ("123456789012345", 123456789012345.0),
            ("9007199254740993", 9007199254740992.0),
            ("-1", -1.0),
            ("+1.5", 1.5),
            (".5", 0.5),
            ("5.", 5.0),
            ("1e3", 1000.0),
            ("1E-3", 0.001),
            ("2.5e+2", 250.0),
            ("1e-400", 0.0),
            ("0042", 42.0),
            ("+Inf", f64::INFINITY),
            ("-Inf", f64::NEG_INFINITY),
            ("Inf", f64::INFINITY),
            ("inf", f64::INFINITY),
            ("+infinity", f64::INFINITY),
            ("-Infinity", f64::NEG_INFINITY),
        ];
        for (s, v) in ok {
            assert_eq!(parse_float(s), Some(v), "{s}");
        }
        for s in ["NaN", "nan", "NAN"] {
            assert!(parse_float(s).unwrap().is_nan(), "{s}");
        }
        for s in [
            "", "+", "-", ".", "e5", "1e", "1e+", "abc", "1_000", "0x10", "0x1p4", "+NaN", "-nan",
            "1e400", "-1e400", "Infinit", "1.2.3", "1,5", " 1", "1 ", "٣",
        ] {
            assert_eq!(parse_float(s), None, "{s:?}");
        }
    }

    #[test]
    fn millisecond_timestamps() {
        assert_eq!(parse_millis("1395066363000"), Some(1395066363000));
        assert_eq!(parse_millis("-5"), Some(-5));
        for s in ["", "1.5", "1e3", "x", "99999999999999999999"] {
            assert_eq!(parse_millis(s), None, "{s}");
        }
    }

    #[test]
    fn second_timestamps() {
        assert_eq!(
            parse_seconds_as_millis("1520879607.789"),
            Some(1520879607789)
        );
        assert_eq!(parse_seconds_as_millis("123"), Some(123000));
        assert_eq!(parse_seconds_as_millis("1.5e3"), Some(1500000));
        assert_eq!(parse_seconds_as_millis("-1"), Some(-1000));
        for s in ["", "NaN", "+Inf", "inf", "1e300", "x", "--1"] {
            assert_eq!(parse_seconds_as_millis(s), None, "{s}");
        }
    }
}
