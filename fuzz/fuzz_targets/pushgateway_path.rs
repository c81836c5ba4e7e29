//! Pushgateway grouping-key paths (`promagg::pushgateway::parse_grouping_path`): never panic;
//! an accepted path has a non-empty `job` and valid label names, and the labels written back
//! as a path (every value `@base64`-encoded, as Pushgateway's clients do) parse to the same set.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use promagg::pushgateway::parse_grouping_path;

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    match parse_grouping_path(path) {
        Ok(labels) => {
            let job = labels.get("job").expect("an accepted path has a job");
            assert!(!job.is_empty(), "{path:?}: empty job accepted");
            for (name, _) in labels.pairs() {
                assert!(
                    promagg::model::validate_label_name(name).is_ok(),
                    "{name:?}"
                );
            }
            let again = parse_grouping_path(&as_path(labels.pairs()))
                .unwrap_or_else(|e| panic!("{path:?}: written back path refused: {e}"));
            assert_eq!(labels, again, "{path:?}");
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});

/// `job` first, then the others; an empty value is `=` (an empty segment would end the path).
fn as_path(pairs: &[(String, String)]) -> String {
    let (job, rest): (Vec<_>, Vec<_>) = pairs.iter().partition(|(n, _)| n == "job");
    job.into_iter()
        .chain(rest)
        .map(|(name, value)| {
            let encoded = URL_SAFE_NO_PAD.encode(value);
            let encoded = if encoded.is_empty() {
                "=".to_string()
            } else {
                encoded
            };
            format!("{name}@base64/{encoded}")
        })
        .collect::<Vec<_>>()
        .join("/")
}
