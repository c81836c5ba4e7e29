//! Varint-delimited `io.prometheus.client.MetricFamily` bodies (being written).

use thiserror::Error;

use crate::model::MetricFamily;

/// Why a delimited protobuf body was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProtobufError {
    /// The body could not be decoded.
    #[error("message {index}: {reason}")]
    Decode {
        /// Zero-based index of the message in the body.
        index: usize,
        /// What went wrong.
        reason: String,
    },
}

/// Parses a body of varint-length-delimited `MetricFamily` messages into the model.
pub fn parse_delimited(_body: &[u8]) -> Result<Vec<MetricFamily>, ProtobufError> {
    Err(ProtobufError::Decode {
        index: 0,
        reason: "protobuf parsing is not available yet".into(),
    })
}
