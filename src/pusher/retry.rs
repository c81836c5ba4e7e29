//! Retry policy: 5xx, 429 and transport errors are retried with exponential backoff and
//! jitter, honouring `Retry-After`; other 4xx are final.

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

/// Classifies a status (and its `Retry-After`).
pub fn classify(status: u16, retry_after: Option<&str>) -> Outcome {
    match status {
        200..=299 => Outcome::Done,
        429 | 500..=599 => Outcome::Retry(retry_after.and_then(retry_after_ms)),
        _ => Outcome::Fail,
    }
}

/// `Retry-After` in delta-seconds form, as ms (HTTP dates are ignored: no trusted clock skew).
pub fn retry_after_ms(v: &str) -> Option<u64> {
    v.trim().parse::<u64>().ok().map(|s| s.saturating_mul(1000))
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

    #[test]
    fn classification() {
        assert_eq!(classify(204, None), Outcome::Done);
        assert_eq!(classify(500, None), Outcome::Retry(None));
        assert_eq!(classify(429, Some("3")), Outcome::Retry(Some(3000)));
        assert_eq!(
            classify(503, Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            Outcome::Retry(None)
        );
        assert_eq!(classify(400, None), Outcome::Fail);
        assert_eq!(classify(401, Some("1")), Outcome::Fail);
    }

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff_ms(1, 1.0), 250);
        assert_eq!(backoff_ms(1, 0.0), 125);
        assert_eq!(backoff_ms(3, 1.0), 1000);
        assert_eq!(backoff_ms(20, 1.0), 5000);
    }
}
