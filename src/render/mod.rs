//! Encoders of stored families: Prometheus text 0.0.4 and OpenMetrics 1.0, and `Accept` negotiation.
//!
//! Both encoders sort their input (families by name, series by labels) so a scrape is
//! deterministic whatever order the store returned, and both skip families without series,
//! as client_golang's registry does (a `# TYPE` line with no sample helps nobody).

pub(crate) mod float;
pub mod negotiate;
pub mod openmetrics;
mod sample;
pub mod text;

use crate::model::{MetricFamily, Series};

/// The non-empty families sorted by name, each with its series sorted by labels.
///
/// Sorts are stable, so entries that compare equal keep their input order.
fn sorted(families: &[MetricFamily]) -> Vec<(&MetricFamily, Vec<&Series>)> {
    let mut out: Vec<(&MetricFamily, Vec<&Series>)> = families
        .iter()
        .filter(|f| !f.series.is_empty())
        .map(|f| {
            let mut series: Vec<&Series> = f.series.iter().collect();
            series.sort_by(|a, b| a.labels.cmp(&b.labels));
            (f, series)
        })
        .collect();
    out.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    out
}
