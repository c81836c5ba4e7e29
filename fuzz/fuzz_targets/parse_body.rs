//! The whole request path: decompression, format detection, every parser (protobuf
//! included) and the request limits. Never panic; what is accepted keeps the invariants, and
//! errors map to 400, 413 or 415.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promagg::limits::Limits;
use promagg::parse::parse_body;

fuzz_target!(|data: &[u8]| {
    let Some((content_type, encoding, body)) = promagg_fuzz::body_case(data) else {
        return;
    };
    let limits = Limits {
        max_body_bytes: 1 << 20,
        ..Limits::default()
    };
    match parse_body(content_type, encoding, &body, &limits) {
        Ok(families) => promagg_fuzz::assert_invariants(&families),
        Err(e) => assert!(matches!(e.status(), 400 | 413 | 415), "{e}"),
    }
});
