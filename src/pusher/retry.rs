//! Retry policy: 5xx, 429 and transport errors are retried with exponential backoff and
//! jitter, honouring `Retry-After`; other 4xx are final.

use std::time::UNIX_EPOCH;

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx.
    Done,
    /// Worth retrying, after at least this long (from `Retry-After`), ms.
    Retry(Option<u64>),
    /// Final failure.
    Fail,
}

/// Classifies a status (and its `Retry-After`, read against the run's clock `now_ms`).
pub fn classify(status: u16, retry_after: Option<&str>, now_ms: i64) -> Outcome {
    match status {
        200..=299 => Outcome::Done,
        429 | 500..=599 => Outcome::Retry(retry_after.and_then(|v| retry_after_ms(v, now_ms))),
        _ => Outcome::Fail,
    }
}

/// `Retry-After` as a wait in ms: delta-seconds, or an HTTP-date (RFC 9110) measured from
/// `now_ms` (the run's clock; a date already past means "now"). `None` when it is neither.
pub fn retry_after_ms(v: &str, now_ms: i64) -> Option<u64> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(secs.saturating_mul(1000));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    let at_ms = at.duration_since(UNIX_EPOCH).ok()?.as_millis();
    let at_ms = i64::try_from(at_ms).unwrap_or(i64::MAX);
    Some(u64::try_from(at_ms.saturating_sub(now_ms)).unwrap_or(0))
}

/// Backoff before attempt `n` (1-based retry count): 250 ms doubling up to 5 s, with
/// "full jitter" between half and all of it.
pub fn backoff_ms(n: u32, jitter: f64) -> u64 {
    let base = 250u64.saturating_mul(1u64 << n.min(10).saturating_sub(1));
    let capped = base.min(5_000);
    let j = jitter.clamp(0.0, 1.0);
    capped / 2 + ((capped / 2) as f64 * j) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wed, 21 Oct 2015 07:28:00 GMT.
    const OCT_2015_MS: i64 = 1_445_412_480_000;

    #[test]
    fn classification() {
        assert_eq!(classify(204, None, 0), Outcome::Done);
        assert_eq!(classify(500, None, 0), Outcome::Retry(None));
        assert_eq!(classify(429, Some("3"), 0), Outcome::Retry(Some(3000)));
        assert_eq!(
            classify(
                503,
                Some("Wed, 21 Oct 2015 07:28:00 GMT"),
                OCT_2015_MS - 1500
            ),
            Outcome::Retry(Some(1500))
        );
        assert_eq!(classify(503, Some("soon"), 0), Outcome::Retry(None));
        assert_eq!(classify(400, None, 0), Outcome::Fail);
        assert_eq!(classify(401, Some("1"), 0), Outcome::Fail);
    }

    #[test]
    fn retry_after_seconds() {
        assert_eq!(retry_after_ms("0", 5), Some(0));
        assert_eq!(retry_after_ms(" 120 ", 5), Some(120_000));
        assert_eq!(retry_after_ms(&u64::MAX.to_string(), 0), Some(u64::MAX));
        assert_eq!(retry_after_ms("-1", 0), None);
        assert_eq!(retry_after_ms("1.5", 0), None);
        assert_eq!(retry_after_ms("", 0), None);
    }

    #[test]
    fn retry_after_http_dates_in_all_three_formats() {
        let now = OCT_2015_MS - 60_000;
        // IMF-fixdate, RFC 850 and asctime: RFC 9110 makes recipients accept all three.
        for date in [
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "Wednesday, 21-Oct-15 07:28:00 GMT",
            "Wed Oct 21 07:28:00 2015",
        ] {
            assert_eq!(retry_after_ms(date, now), Some(60_000), "{date}");
        }
        assert_eq!(
            retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", OCT_2015_MS),
            Some(0)
        );
        assert_eq!(
            retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", OCT_2015_MS + 10_000),
            Some(0),
            "a date in the past means retry now"
        );
        assert_eq!(retry_after_ms("Wed, 32 Oct 2015 07:28:00 GMT", 0), None);
        assert_eq!(retry_after_ms("21 Oct 2015", 0), None);
    }

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff_ms(1, 1.0), 250);
        assert_eq!(backoff_ms(1, 0.0), 125);
        assert_eq!(backoff_ms(3, 1.0), 1000);
        assert_eq!(backoff_ms(20, 1.0), 5000);
    }
}
