//! The Prometheus data model as the gateway stores it: families, series, label sets and values.

pub mod family;
pub mod labels;
pub mod names;
pub mod value;

pub use family::{MetricFamily, MetricType, Series};
pub use labels::{LabelError, Labels};
pub use names::{validate_label_name, validate_metric_name, NameError};
pub use value::{Bucket, HistogramValue, Quantile, SampleValue, SummaryValue};
