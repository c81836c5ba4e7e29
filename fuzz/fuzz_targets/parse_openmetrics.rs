//! OpenMetrics 1.0: never panic; what parses keeps the model's invariants and survives a
//! render and re-parse unchanged in shape.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promagg::parse::openmetrics;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(families) = openmetrics::parse(input) {
        promagg_fuzz::assert_invariants(&families);
        let mut out = String::new();
        promagg::render::openmetrics::render(&families, &mut out);
        let again =
            openmetrics::parse(&out).unwrap_or_else(|e| panic!("re-parse failed: {e}\n{out}"));
        promagg_fuzz::assert_same_shape(&families, &again);
    }
});
