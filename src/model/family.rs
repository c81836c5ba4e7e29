//! Metric families and their series.

use std::fmt;

use super::labels::Labels;
use super::value::SampleValue;

/// The type of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MetricType {
    /// Monotonic counter.
    Counter,
    /// Gauge.
    Gauge,
    /// Classic (bucketed) histogram.
    Histogram,
    /// Summary with quantiles.
    Summary,
    /// Untyped (OpenMetrics `unknown`).
    Untyped,
}

impl MetricType {
    /// The name used in text-format `# TYPE` lines.
    pub fn as_text(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::Summary => "summary",
            MetricType::Untyped => "untyped",
        }
    }

    /// The name used in OpenMetrics `# TYPE` lines.
    pub fn as_openmetrics(self) -> &'static str {
        match self {
            MetricType::Untyped => "unknown",
            other => other.as_text(),
        }
    }

    /// Parses a text-format type name.
    pub fn from_text(s: &str) -> Option<Self> {
        Some(match s {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "summary" => MetricType::Summary,
            "untyped" => MetricType::Untyped,
            _ => return None,
        })
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_text())
    }
}

/// One series of a family: its labels (without `le`/`quantile`), value and optional extras.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Labels of the series, without the family name.
    pub labels: Labels,
    /// The value; its variant matches the family type.
    pub value: SampleValue,
    /// Timestamp in milliseconds, when the sample carried one.
    pub timestamp_ms: Option<i64>,
    /// The `_created` time in seconds since the epoch, when known.
    pub created: Option<f64>,
}

/// A metric family: name, type, metadata and series.
///
/// Counters are named by their sample name as the text format 0.0.4 shows it: an
/// OpenMetrics counter family `foo` with sample `foo_total` becomes `foo_total`, so the
/// same counter pushed in either format lands on one stored series.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricFamily {
    /// Family name.
    pub name: String,
    /// Family type.
    pub kind: MetricType,
    /// HELP text (unescaped).
    pub help: Option<String>,
    /// OpenMetrics UNIT, when given.
    pub unit: Option<String>,
    /// The series, in input order.
    pub series: Vec<Series>,
}

impl MetricFamily {
    /// A family with no series yet.
    pub fn new(name: impl Into<String>, kind: MetricType) -> Self {
        MetricFamily {
            name: name.into(),
            kind,
            help: None,
            unit: None,
            series: Vec::new(),
        }
    }
}
