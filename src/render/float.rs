//! Go-compatible float formatting for the `le` and `quantile` label values.
//!
//! Label values are strings to Prometheus 2.x, so `le="1e+06"` and `le="1000000"` are
//! different series. Go clients (and the Pushgateway) write these labels with
//! `strconv.FormatFloat(v, 'g', -1, 64)`, so we do too: a histogram pushed by a Go client
//! keeps its exact series identity when scraped from us. OpenMetrics additionally wants
//! integral values with a `.0` (`le="1.0"`), as expfmt's `writeOpenMetricsFloat` writes them
//! and as strict OpenMetrics parsers check.

use std::fmt::Write as _;

/// Appends `v` as expfmt's text writer formats `le`/`quantile` values (`0.5`, `1`, `1e+06`, `+Inf`).
pub fn write_text_label_float(v: f64, out: &mut String) {
    if !write_special(v, out) {
        write_go_g(v, out);
    }
}

/// Appends `v` as expfmt's OpenMetrics writer formats `le`/`quantile` values (`0.5`, `1.0`, `1e+06`).
pub fn write_openmetrics_label_float(v: f64, out: &mut String) {
    if write_special(v, out) {
        if v == 0.0 || v == 1.0 || v == -1.0 {
            out.push_str(".0");
        }
        return;
    }
    let start = out.len();
    write_go_g(v, out);
    if !out[start..].contains(['.', 'e']) {
        out.push_str(".0");
    }
}

/// The values expfmt hard-codes before falling back to `strconv` (it writes `-0` as `0`).
fn write_special(v: f64, out: &mut String) -> bool {
    let s = if v.is_nan() {
        "NaN"
    } else if v == f64::INFINITY {
        "+Inf"
    } else if v == f64::NEG_INFINITY {
        "-Inf"
    } else if v == 0.0 {
        "0"
    } else if v == 1.0 {
        "1"
    } else if v == -1.0 {
        "-1"
    } else {
        return false;
    };
    out.push_str(s);
    true
}

/// Go's `strconv.FormatFloat(v, 'g', -1, 64)` for a finite `v`.
///
/// Both Go and Rust pick the shortest digit string that round-trips; Go then uses
/// exponent notation when the decimal exponent is below -4 or at least 6 (the precision
/// Go assumes for shortest formatting), with a signed exponent of at least two digits.
fn write_go_g(v: f64, out: &mut String) {
    // Integers below 1e6 print as plain digits in 'g' form; i64 formatting is exact there and
    // far cheaper (bucket bounds are mostly such values). `-0` keeps its sign below.
    if v == v.trunc() && v.abs() < 1e6 && !(v == 0.0 && v.is_sign_negative()) {
        let _ = write!(out, "{}", v as i64);
        return;
    }
    // `{:e}` yields the shortest round-trip digits as `-d.ddde-x` (at most 17 digits and a
    // 3-digit exponent: 26 bytes); formatted on the stack, as this runs once per sample.
    let mut sci_buf = [0u8; 32];
    let sci_len = {
        let mut cursor = std::io::Cursor::new(&mut sci_buf[..]);
        let _ = std::io::Write::write_fmt(&mut cursor, format_args!("{v:e}"));
        cursor.position() as usize
    };
    let sci = std::str::from_utf8(&sci_buf[..sci_len]).unwrap_or("0e0");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let mut digit_buf = [0u8; 32];
    let mut digit_len = 0;
    for (slot, b) in digit_buf
        .iter_mut()
        .zip(mantissa.bytes().filter(|b| *b != b'.'))
    {
        *slot = b;
        digit_len += 1;
    }
    let digits = std::str::from_utf8(&digit_buf[..digit_len]).unwrap_or("0");
    if negative {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
    } else if exp >= 0 {
        // `exp` is in 0..6 here, so the integer part has exp + 1 digits.
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(digits);
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
        out.push_str(digits);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: f64) -> String {
        let mut s = String::new();
        write_text_label_float(v, &mut s);
        s
    }

    fn om(v: f64) -> String {
        let mut s = String::new();
        write_openmetrics_label_float(v, &mut s);
        s
    }

    // Expected strings are what Go's strconv.FormatFloat(v, 'g', -1, 64) prints.
    #[test]
    fn text_matches_go_g_formatting() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.0, "-1"),
            (0.5, "0.5"),
            (0.005, "0.005"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (0.000123, "0.000123"),
            (1.5e-7, "1.5e-07"),
            (2.5, "2.5"),
            (10.0, "10"),
            (100000.0, "100000"),
            (123456.0, "123456"),
            (999999.0, "999999"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (2.5e6, "2.5e+06"),
            (1e21, "1e+21"),
            (1e100, "1e+100"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (0.1, "0.1"),
            (0.30000000000000004, "0.30000000000000004"),
            (-2.5e-5, "-2.5e-05"),
            (-300.0, "-300"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ];
        for (v, want) in cases {
            assert_eq!(text(*v), *want, "{v:?}");
        }
    }

    #[test]
    fn openmetrics_adds_point_zero_to_integers_only() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "0.0"),
            (1.0, "1.0"),
            (-1.0, "-1.0"),
            (10.0, "10.0"),
            (100000.0, "100000.0"),
            (0.25, "0.25"),
            (1e6, "1e+06"),
            (0.00001, "1e-05"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ];
        for (v, want) in cases {
            assert_eq!(om(*v), *want, "{v:?}");
        }
    }

    #[test]
    fn every_formatted_value_parses_back_exactly() {
        let mut x = 1.0e-9_f64;
        while x < 1e12 {
            for v in [x, -x, x * 1.7, x / 3.0] {
                assert_eq!(text(v).parse::<f64>().unwrap(), v, "{v:?}");
                assert_eq!(om(v).parse::<f64>().unwrap(), v, "{v:?}");
            }
            x *= 7.3;
        }
    }
}
