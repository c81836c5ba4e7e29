//! Scrapes served from the exposition the fold stored (`engine::rendered`): byte for byte what
//! the full read path renders, and never used when it could be stale or mixed.

use http::{Method, Request};

use super::ops_tests::Gw;
use super::*;
use crate::engine::keys::{self, META};
use crate::engine::record::{decode, PbMeta};
use crate::engine::rendered::{Scrape, CHUNK_BYTES};
use crate::engine::tests::wall_ms;
use crate::engine::{fold, Backend, EngineConfig};
use crate::render::negotiate::Format;
use crate::store::memory::{MemoryStore, Semantics};
use crate::store::Store;
const OM: &str = "application/openmetrics-text; version=1.0.0";

/// Families on both sides of the gateway's own (`promagg_…`) in sort order, every type, and
/// names whose OpenMetrics shape depends on other names (`b_total` beside `b`).
const BODY: &str = "\
# HELP a_requests_total Requests with \\\\ and \\n in HELP.
# TYPE a_requests_total counter
a_requests_total{path=\"/a\",code=\"200\"} 3
a_requests_total{path=\"/b\\\"q\\\"\",code=\"500\"} 1
# TYPE b_total counter
b_total 2
# TYPE b gauge
b 1.5
# TYPE legacy counter
legacy 7
# TYPE promagg gauge
promagg 1
# TYPE promag_total counter
promag_total 4
# TYPE promaggx_seconds histogram
promaggx_seconds_bucket{le=\"0.1\"} 1
promaggx_seconds_bucket{le=\"1\"} 3
promaggx_seconds_bucket{le=\"+Inf\"} 4
promaggx_seconds_sum 2.5
promaggx_seconds_count 4
# TYPE z_latency summary
z_latency{quantile=\"0.5\"} 0.2
z_latency_sum 9
z_latency_count 30
# TYPE zz untyped
zz{x=\"1\"} NaN
zz{x=\"2\"} -Inf
";

/// What these tests do to the shared test gateway besides sending requests.
trait Scraping {
    fn push(&self, body: &str);
    fn scrape(&self, accept: Option<&str>) -> String;
    fn keys(&self, prefix: &str) -> Vec<String>;
    fn meta(&self) -> PbMeta;
    /// Removes the shards: a scrape that still shows the series read the stored exposition.
    fn drop_shards(&self);
}

impl Scraping for Gw {
    fn push(&self, body: &str) {
        self.ok(Method::POST, "/metrics", body);
    }

    fn scrape(&self, accept: Option<&str>) -> String {
        let headers: Vec<(&str, &str)> = accept.map(|a| ("accept", a)).into_iter().collect();
        let r = self.send(Method::GET, "/metrics", &headers, "");
        let text = String::from_utf8(r.body().clone()).unwrap();
        assert_eq!(r.status(), 200, "{text}");
        text
    }

    fn keys(&self, prefix: &str) -> Vec<String> {
        let mut k: Vec<String> = self
            .store
            .list_keys()
            .unwrap()
            .into_iter()
            .filter(|k| k.starts_with(prefix))
            .collect();
        k.sort();
        k
    }

    fn meta(&self) -> PbMeta {
        decode(META, &self.store.get(META).unwrap().unwrap()).unwrap()
    }

    fn drop_shards(&self) {
        for k in self.keys(keys::SHARD_PREFIX) {
            self.store.delete(&k).unwrap();
        }
    }
}

/// A gateway holding one folded counter, `c_total 1`.
fn one_counter_folded() -> Gw {
    let gw = Gw::new(Semantics::Sqlite);
    gw.push("# TYPE c_total counter\nc_total 1\n");
    gw.fold();
    gw
}

/// The same store read twice, with and without the stored exposition.
fn both_paths(sem: Semantics, body: &str, accept: Option<&str>) -> String {
    let mut gw = Gw::new(sem);
    gw.push(body);
    gw.push(body);
    gw.fold();
    assert!(
        !gw.keys(keys::RENDER_PREFIX).is_empty(),
        "the fold rendered"
    );
    let stored = gw.scrape(accept);
    gw.cfg.engine.render_cache = false;
    let full = gw.scrape(accept);
    gw.cfg.engine.render_cache = true;
    assert_eq!(stored, full, "{accept:?}");
    gw.drop_shards();
    assert_eq!(
        gw.scrape(accept),
        stored,
        "served from the stored exposition"
    );
    stored
}

#[test]
fn a_stored_exposition_is_what_the_full_path_renders() {
    for accept in [None, Some(OM)] {
        let stored = both_paths(Semantics::Sqlite, BODY, accept);
        assert!(stored.contains("a_requests_total{code=\"200\",path=\"/a\"} 6"));
        assert!(stored.contains("promagg_series 11\n"), "{stored}");
        assert_eq!(both_paths(Semantics::Redis, BODY, accept), stored);
    }
}

#[test]
fn large_expositions_span_chunks() {
    let mut body = String::from("# TYPE big_total counter\n");
    let pad = "v".repeat(200);
    let mut n = 0;
    while body.len() < CHUNK_BYTES * 5 / 2 {
        body.push_str(&format!("big_total{{i=\"{n}\",pad=\"{pad}é\"}} 1\n"));
        n += 1;
    }
    let gw = Gw::new(Semantics::Sqlite);
    gw.push(&body);
    gw.fold();
    let chunks = gw.keys("v1/r/text/");
    assert_eq!(chunks.len(), 3, "{chunks:?}");
    gw.drop_shards();
    let text = gw.scrape(None);
    assert_eq!(text.matches("big_total{").count(), n);
    for accept in [None, Some(OM)] {
        both_paths(Semantics::Sqlite, &body, accept);
    }
    // A smaller rendering leaves no chunk of the larger one behind.
    gw.send(Method::DELETE, "/metrics/big_total", &[], "");
    gw.push("# TYPE small gauge\nsmall 1\n");
    gw.fold();
    assert_eq!(gw.keys("v1/r/text/"), vec!["v1/r/text/000".to_string()]);
    assert!(gw.scrape(None).contains("small 1"));
}

#[test]
fn pending_writes_are_read_from_the_shards_and_deltas() {
    let gw = one_counter_folded();
    gw.push("# TYPE c_total counter\nc_total 1\n");
    let text = gw.scrape(None);
    assert!(text.contains("c_total 2\n"), "{text}");
    assert!(text.contains("promagg_pending_writes 1\n"), "{text}");
    gw.fold();
    gw.drop_shards();
    assert!(gw.scrape(None).contains("c_total 2\n"));
}

#[test]
fn a_chunk_of_another_fold_is_never_mixed_in() {
    let gw = one_counter_folded();
    // As if a later fold wrote its chunk and stopped before its meta write.
    let key = keys::render_key("text", 0);
    let mut chunk = gw.store.get(&key).unwrap().unwrap();
    chunk[0] ^= 1;
    gw.store.set(&key, &chunk).unwrap();
    let text = gw.scrape(None);
    assert!(text.contains("c_total 1\n"), "read from the shards: {text}");
    gw.drop_shards();
    assert!(!gw.scrape(None).contains("c_total"), "the shards were read");
    // OpenMetrics' chunks still carry meta's tag.
    let om = String::from_utf8(
        gw.send(Method::GET, "/metrics", &[("accept", OM)], "")
            .into_body(),
    )
    .unwrap();
    assert!(om.contains("c_total 1\n"), "{om}");
}

#[test]
fn a_replay_or_a_changed_registry_renders_again() {
    let gw = Gw::new(Semantics::Sqlite);
    gw.push("# HELP g Old.\n# TYPE g gauge\ng 1\n");
    gw.fold();
    let first = gw.meta().render_tag;
    gw.fold();
    assert_eq!(
        gw.meta().render_tag,
        first,
        "nothing changed, nothing written"
    );
    gw.push("# HELP g New.\n# TYPE g gauge\ng 0\n");
    gw.fold();
    assert_ne!(gw.meta().render_tag, first);
    gw.drop_shards();
    assert!(gw.scrape(None).contains("# HELP g New.\n"));
}

#[test]
fn without_the_cache_no_rendering_is_stored_and_old_ones_go() {
    let gw = one_counter_folded();
    assert!(!gw.keys(keys::RENDER_PREFIX).is_empty());
    let mut off = gw;
    off.cfg.engine.render_cache = false;
    off.push("# TYPE c_total counter\nc_total 1\n");
    off.fold();
    assert!(off.keys(keys::RENDER_PREFIX).is_empty());
    assert_eq!(off.meta().render_tag, 0);
    assert!(off.scrape(None).contains("c_total 2\n"));
    // Cloud hosts keep their keys for pending writes.
    let cloud = Gw::new(Semantics::NoAtomics);
    cloud.push("# TYPE c_total counter\nc_total 1\n");
    cloud.fold();
    assert!(cloud.keys(keys::RENDER_PREFIX).is_empty());
}

#[test]
fn an_empty_store_and_head_requests() {
    let gw = Gw::new(Semantics::Sqlite);
    gw.fold();
    let text = gw.scrape(None);
    assert!(text.starts_with("# HELP promagg_families"), "{text}");
    let om = String::from_utf8(
        gw.send(Method::GET, "/metrics", &[("accept", OM)], "")
            .into_body(),
    )
    .unwrap();
    assert!(
        om.ends_with("# EOF\n") && om.matches("# EOF").count() == 1,
        "{om}"
    );
    let head = gw.send(Method::HEAD, "/metrics", &[], "");
    assert_eq!((head.status().as_u16(), head.body().len()), (200, 0));
}

/// Writers push in bursts (so folds, one per 100 ms lease epoch, leave nothing pending
/// between them), a folder folds under
/// the lease, and a scraper reads `/metrics`: every scrape shows a counter between the pushes
/// acknowledged before it started and those acknowledged after it ended, never going back.
fn scrapes_stay_exact_during_folds(sem: Semantics, backend: Backend) {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    let store = Arc::new(MemoryStore::new(sem));
    store.set_delay(std::time::Duration::from_micros(20));
    let cfg = Arc::new(ApiConfig {
        engine: EngineConfig {
            lease_ms: 100,
            shards: 4,
            ..EngineConfig::for_backend(backend)
        },
        ..ApiConfig::default()
    });
    let done = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicU64::new(0));
    let folder = {
        let (store, cfg, done) = (store.clone(), cfg.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                let now = wall_ms();
                if let Ok(Ok(l)) = crate::engine::lease::try_acquire(&*store, now, 100) {
                    let _ = fold(&*store, &cfg.engine, &wall_ms, l.deadline_ms, Some(l.epoch));
                }
                std::thread::sleep(std::time::Duration::from_millis(3));
            }
        })
    };
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (store, cfg, acked) = (store.clone(), cfg.clone(), acked.clone());
            std::thread::spawn(move || {
                for i in 0..60 {
                    let body = format!(
                        "# TYPE c_total counter\nc_total 1\n# TYPE g gauge\ng{{w=\"{w}\",i=\"{}\"}} 1\n",
                        i % 7
                    );
                    let req = Request::post("/metrics").body(body.into_bytes()).unwrap();
                    let ctx = Ctx {
                        now_ms: wall_ms(),
                        nonce: (w as u64) << 32 | i as u64,
                    };
                    let r = handle(&*store, &cfg, &ctx, &req);
                    assert!(r.status().is_success(), "{:?}", r.body());
                    acked.fetch_add(1, Ordering::SeqCst);
                    if i % 10 == 9 {
                        std::thread::sleep(std::time::Duration::from_millis(150));
                    }
                }
            })
        })
        .collect();
    let mut last = 0.0;
    let mut scrapes = 0;
    let mut stored_reads = 0;
    // After the writers stop, the folder folds what is left within an epoch or two: keep
    // reading until the stored exposition is current (or 3 s have passed).
    let mut quiet_since = None;
    loop {
        if writers.iter().all(|w| w.is_finished()) {
            let since = *quiet_since.get_or_insert_with(std::time::Instant::now);
            let waited = since.elapsed() > std::time::Duration::from_secs(3);
            if scrapes >= 50 && (stored_reads > 0 || waited) {
                break;
            }
        }
        let before = acked.load(Ordering::SeqCst) as f64;
        let req = Request::get("/metrics").body(Vec::new()).unwrap();
        let ctx = Ctx {
            now_ms: wall_ms(),
            nonce: 0,
        };
        // Every other read goes to the stored exposition directly, to count its use.
        let text = if scrapes % 2 == 0 {
            let r = handle(&*store, &cfg, &ctx, &req);
            assert_eq!(r.status(), 200);
            String::from_utf8(r.body().clone()).unwrap()
        } else {
            match crate::engine::rendered::load(&*store, &cfg.engine, Format::Text).unwrap() {
                Scrape::Stored(s) => {
                    stored_reads += 1;
                    s.body
                }
                Scrape::Full(_) => {
                    scrapes += 1;
                    continue;
                }
            }
        };
        let after = acked.load(Ordering::SeqCst) as f64;
        let v = text
            .lines()
            .find_map(|l| l.strip_prefix("c_total "))
            .map_or(0.0, |v| v.parse::<f64>().unwrap());
        assert!(
            before <= v && v <= after && v >= last,
            "{sem:?}: scrape saw {v}, acknowledged {before}..{after}, previous {last}"
        );
        last = v;
        scrapes += 1;
    }
    for w in writers {
        w.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
    folder.join().unwrap();
    assert!(
        stored_reads > 0,
        "{sem:?}: no read found the stored exposition current"
    );
    fold(&*store, &cfg.engine, &wall_ms, i64::MAX, None).unwrap();
    let Scrape::Stored(s) =
        crate::engine::rendered::load(&*store, &cfg.engine, Format::Text).unwrap()
    else {
        panic!("{sem:?}: nothing pending after the last fold, yet no stored exposition");
    };
    assert!(s.body.contains("c_total 180\n"), "{sem:?}: {}", s.body);
}

#[test]
fn scrapes_stay_exact_during_folds_sqlite() {
    scrapes_stay_exact_during_folds(Semantics::Sqlite, Backend::Sqlite);
}

#[test]
fn scrapes_stay_exact_during_folds_redis() {
    scrapes_stay_exact_during_folds(Semantics::Redis, Backend::Redis);
}
