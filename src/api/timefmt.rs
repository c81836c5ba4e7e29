//! Times for people and for Pushgateway's JSON: RFC 3339 in UTC, and "3 min ago".
//!
//! Written here rather than taken from a date crate: the core needs only these two
//! conversions, and they must never panic on a stored value, whatever its range.

use std::fmt::Write as _;

/// Milliseconds since the epoch as RFC 3339 in UTC, the way Go's `time.RFC3339Nano` writes
/// it (Pushgateway's `time_stamp`): the fraction without trailing zeros, none when zero.
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let frac = ms.rem_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    let mut out = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    );
    if frac != 0 {
        let digits = format!("{frac:03}");
        let _ = write!(out, ".{}", digits.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Year, month, day of a day count since 1970-01-01 (proleptic Gregorian calendar).
///
/// Howard Hinnant's `civil_from_days`, exact over the whole `i64` range we can be given
/// (milliseconds since the epoch, so days stay far below overflow).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// How long before `now_ms` the time `then_ms` was, in the largest whole unit ("42 s ago").
pub fn ago(now_ms: i64, then_ms: i64) -> String {
    let d = now_ms.saturating_sub(then_ms);
    if d < 0 {
        return "in the future".into();
    }
    let s = d / 1000;
    match s {
        0 => "just now".into(),
        1..=119 => format!("{s} s ago"),
        120..=7_199 => format!("{} min ago", s / 60),
        7_200..=172_799 => format!("{} h ago", s / 3600),
        _ => format!("{} d ago", s / 86_400),
    }
}

/// A duration in ms in the largest unit that divides it exactly (`15m`, `2h`, `1500ms`).
pub fn duration(ms: i64) -> String {
    for (unit, scale) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
    ] {
        if ms != 0 && ms % scale == 0 {
            return format!("{}{unit}", ms / scale);
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_go() {
        // Values as Go's time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) prints them.
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(1_700_000_000_100), "2023-11-14T22:13:20.1Z");
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z", "leap day");
        assert_eq!(rfc3339(4_107_542_399_999), "2100-02-28T23:59:59.999Z");
        assert_eq!(
            rfc3339(4_107_542_400_000),
            "2100-03-01T00:00:00Z",
            "2100 not leap"
        );
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(rfc3339(253_402_300_799_000), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn never_panics_on_extremes() {
        for ms in [i64::MIN, i64::MIN + 1, i64::MAX, -86_400_000_000] {
            let s = rfc3339(ms);
            assert!(s.ends_with('Z'), "{s}");
        }
        assert_eq!(ago(i64::MAX, i64::MIN), "106751991167 d ago");
    }

    #[test]
    fn relative_times() {
        let now = 1_000_000_000;
        assert_eq!(ago(now, now), "just now");
        assert_eq!(ago(now, now - 42_000), "42 s ago");
        assert_eq!(ago(now, now - 180_000), "3 min ago");
        assert_eq!(ago(now, now - 3 * 3_600_000), "3 h ago");
        assert_eq!(ago(now, now - 3 * 86_400_000), "3 d ago");
        assert_eq!(ago(now, now + 5_000), "in the future");
    }

    #[test]
    fn durations() {
        assert_eq!(duration(900_000), "15m");
        assert_eq!(duration(7_200_000), "2h");
        assert_eq!(duration(86_400_000), "1d");
        assert_eq!(duration(90_000), "90s");
        assert_eq!(duration(1500), "1500ms");
        assert_eq!(duration(0), "0ms");
    }
}
