//! Fitting each send attempt into what is left of the run's lease: past the deadline the
//! next run may already be folding and pushing, so no attempt may outlive it.

/// The timeout of one attempt: the configured `remote_write_timeout`, clipped to the time
/// left before the run's deadline; `None` when no time is left.
pub fn attempt_timeout_ms(configured_ms: u64, now_ms: i64, deadline_ms: i64) -> Option<u64> {
    let left = u64::try_from(deadline_ms.saturating_sub(now_ms)).ok()?;
    if left == 0 {
        return None;
    }
    Some(configured_ms.clamp(1, left))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configured_timeout_when_time_remains() {
        assert_eq!(attempt_timeout_ms(1_000, 0, 7_500), Some(1_000));
        assert_eq!(attempt_timeout_ms(1_000, 6_500, 7_500), Some(1_000));
    }

    #[test]
    fn clipped_to_the_time_left() {
        assert_eq!(attempt_timeout_ms(10_000, 0, 7_500), Some(7_500));
        assert_eq!(attempt_timeout_ms(1_000, 7_000, 7_500), Some(500));
        assert_eq!(attempt_timeout_ms(1_000, 7_499, 7_500), Some(1));
    }

    #[test]
    fn none_at_or_past_the_deadline() {
        assert_eq!(attempt_timeout_ms(1_000, 7_500, 7_500), None);
        assert_eq!(attempt_timeout_ms(1_000, 9_000, 7_500), None);
        assert_eq!(attempt_timeout_ms(1_000, i64::MAX, i64::MIN), None);
    }

    #[test]
    fn a_zero_timeout_still_gets_a_millisecond() {
        assert_eq!(attempt_timeout_ms(0, 0, 7_500), Some(1));
    }

    #[test]
    fn extreme_clocks_do_not_overflow() {
        assert_eq!(attempt_timeout_ms(1_000, i64::MIN, i64::MAX), Some(1_000));
        assert_eq!(
            attempt_timeout_ms(u64::MAX, i64::MIN, i64::MAX),
            Some(i64::MAX as u64)
        );
    }
}
