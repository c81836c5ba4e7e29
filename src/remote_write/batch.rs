//! Splitting a run into requests of bounded size.
//!
//! Every wire series carries exactly one sample, so a batch of at most N samples is a run
//! of at most N consecutive series; a histogram's expanded series may straddle two
//! requests, but no series is ever split.

use std::collections::HashSet;
use std::ops::Range;

use super::expand::WireSeries;

/// Consecutive ranges of at most `max` (at least 1) covering `0..total`; none when empty.
pub fn ranges(total: usize, max: usize) -> impl Iterator<Item = Range<usize>> {
    let max = max.max(1);
    (0..total)
        .step_by(max)
        .map(move |start| start..(start + max).min(total))
}

/// The family indexes a batch refers to, each once, in order of first appearance.
pub fn families_in(series: &[WireSeries]) -> Vec<usize> {
    let mut seen = HashSet::new();
    series
        .iter()
        .map(|s| s.family)
        .filter(|f| seen.insert(*f))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_everything_in_bounded_steps() {
        assert_eq!(ranges(0, 3).count(), 0);
        assert_eq!(ranges(5, 2).collect::<Vec<_>>(), [0..2, 2..4, 4..5]);
        assert_eq!(ranges(4, 2).collect::<Vec<_>>(), [0..2, 2..4]);
        let whole: Vec<Range<usize>> = ranges(3, 10).collect();
        assert_eq!(whole.len(), 1);
        assert_eq!(whole[0], 0..3);
        assert_eq!(ranges(2, 0).collect::<Vec<_>>(), [0..1, 1..2]);
    }

    #[test]
    fn families_listed_once_in_order() {
        let s = |family| WireSeries {
            labels: vec![],
            value: 0.0,
            family,
        };
        assert_eq!(families_in(&[s(2), s(2), s(0), s(2), s(1)]), [2, 0, 1]);
        assert!(families_in(&[]).is_empty());
    }
}
