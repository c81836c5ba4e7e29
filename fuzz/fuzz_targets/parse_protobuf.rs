//! Delimited protobuf `MetricFamily` bodies alone (`promagg::parse::protobuf::parse_delimited`),
//! so every input reaches the protobuf parser: never panic; accepted families keep the model's
//! invariants; `parse_body` with the protobuf Content-Type refuses what the parser refuses, with
//! the parser's message and status 400, and accepts nothing the parser refuses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promagg::limits::Limits;
use promagg::parse::protobuf::parse_delimited;
use promagg::parse::{parse_body, BodyError};

const PROTOBUF: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_body_bytes: 1 << 20,
        ..Limits::default()
    };
    let whole = parse_body(Some(PROTOBUF), None, data, &limits);
    match parse_delimited(data) {
        Ok(families) => {
            promagg_fuzz::assert_invariants(&families);
            match whole {
                Ok(checked) => promagg_fuzz::assert_invariants(&checked),
                Err(BodyError::Protobuf(e)) => panic!("parse_body refused a parsed body: {e}"),
                Err(e) => assert!(matches!(e.status(), 400 | 413), "{e}"),
            }
        }
        Err(e) => {
            let refused = whole.expect_err("parse_body accepted what the parser refused");
            assert_eq!(refused.status(), 400);
            assert_eq!(refused.to_string(), format!("invalid protobuf body: {e}"));
        }
    }
});
