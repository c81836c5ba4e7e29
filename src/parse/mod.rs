//! Parsers for every body format the gateway accepts, and the dispatch between them.
//!
//! [`parse_body`] is the entry point: it decodes the `Content-Encoding`, picks the format from
//! the `Content-Type` ([`detect_format`]), parses and checks the request limits, so a body is
//! validated completely before anything of it is applied.

mod assemble;
mod body;
mod created;
pub mod encoding;
mod error;
pub mod json;
mod lexer;
mod lines;
mod number;
pub mod openmetrics;
pub mod protobuf;
pub mod text;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod test_util;

pub use body::{detect_format, parse_body, BodyError, BodyFormat};
pub use error::{Found, Number, ParseError, ParseErrorKind};
