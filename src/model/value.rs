//! Sample values of each metric type, as pushed and as stored.

/// One cumulative histogram bucket: observations `<= upper_bound`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// The `le` bound; the last bucket of a valid histogram is `+Inf`.
    pub upper_bound: f64,
    /// Cumulative count of observations up to the bound.
    pub cumulative_count: f64,
}

/// A histogram: cumulative buckets sorted by bound (ending with `+Inf`), sum and count.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramValue {
    /// Buckets in increasing `le` order; the last one is `+Inf` and equals `count`.
    pub buckets: Vec<Bucket>,
    /// Sum of observations.
    pub sum: f64,
    /// Number of observations.
    pub count: f64,
}

/// One summary quantile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantile {
    /// The quantile rank, in `[0, 1]`.
    pub quantile: f64,
    /// The value at that rank.
    pub value: f64,
}

/// A summary: quantiles sorted by rank, sum and count.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryValue {
    /// Quantiles in increasing rank order.
    pub quantiles: Vec<Quantile>,
    /// Sum of observations.
    pub sum: f64,
    /// Number of observations.
    pub count: f64,
}

/// The value of one series; its variant always agrees with the family's type.
#[derive(Debug, Clone, PartialEq)]
pub enum SampleValue {
    /// A counter value (non-negative, never NaN when pushed).
    Counter(f64),
    /// A gauge value.
    Gauge(f64),
    /// An untyped value (aggregated like a gauge).
    Untyped(f64),
    /// A histogram.
    Histogram(HistogramValue),
    /// A summary.
    Summary(SummaryValue),
}

impl HistogramValue {
    /// The bucket bounds, for comparing layouts.
    pub fn bounds(&self) -> Vec<f64> {
        self.buckets.iter().map(|b| b.upper_bound).collect()
    }
}
