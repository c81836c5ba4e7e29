//! Parsers for every body format the gateway accepts, and the dispatch between them.

pub mod encoding;
pub mod json;
pub mod openmetrics;
pub mod protobuf;
pub mod text;
