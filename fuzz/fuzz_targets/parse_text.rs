//! Text format 0.0.4: never panic; what parses keeps the model's invariants and survives a
//! render and re-parse unchanged in shape.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promagg::parse::text;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(families) = text::parse(input) {
        promagg_fuzz::assert_invariants(&families);
        let mut out = String::new();
        promagg::render::text::render(&families, &mut out);
        let again = text::parse(&out).unwrap_or_else(|e| panic!("re-parse failed: {e}\n{out}"));
        promagg_fuzz::assert_same_shape(&families, &again);
    }
});
