//! The API's query-string parsers (`promagg::api::query`): never panic; accepted label sets
//! hold exactly the query's pairs, accepted push options name only `gauge` and `ttl`, and an
//! accepted duration is non-negative and reads back from its millisecond form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use promagg::api::query::{labels, pairs, parse_duration_ms, push_options, QueryError};
use promagg::model::LabelError;

fuzz_target!(|data: &[u8]| {
    let Ok(q) = std::str::from_utf8(data) else {
        return;
    };
    let all = pairs(Some(q));
    match labels(Some(q)) {
        Ok(set) => {
            assert_eq!(set.len(), all.len(), "{q:?}");
            for (k, v) in &all {
                assert_eq!(set.get(k), Some(v.as_str()), "{q:?}: {k}");
            }
        }
        Err(QueryError::Label(LabelError::Duplicate(d))) => {
            assert!(
                all.iter().filter(|(k, _)| *k == d).count() >= 2,
                "{q:?}: {d}"
            );
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    match push_options(Some(q)) {
        Ok(opts) => {
            assert!(all.iter().all(|(k, _)| k == "gauge" || k == "ttl"), "{q:?}");
            if let Some(ttl) = opts.ttl_ms {
                assert!(ttl >= 0, "{q:?}: ttl {ttl}");
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    if let Ok(ms) = parse_duration_ms(q) {
        assert!(ms >= 0, "{q:?}: {ms}");
        assert_eq!(parse_duration_ms(&format!("{ms}ms")), Ok(ms), "{q:?}");
    }
});
