//! Encoders of stored families: Prometheus text 0.0.4 and OpenMetrics 1.0, and `Accept` negotiation.

pub mod negotiate;
pub mod openmetrics;
pub mod text;
