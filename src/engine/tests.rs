//! Engine tests: semantics, crash safety, idempotency and exactness under concurrency on
//! every quirk-faithful in-memory store.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use super::*;
use crate::aggregate::GaugeMode;
use crate::model::{Bucket, HistogramValue, Labels, MetricFamily, MetricType, SampleValue, Series};
use crate::store::memory::{MemoryStore, Semantics};
use crate::store::Store;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
    )
    .unwrap()
}

fn family(name: &str, kind: MetricType, series: Vec<(Labels, SampleValue)>) -> MetricFamily {
    let mut f = MetricFamily::new(name, kind);
    f.series = series
        .into_iter()
        .map(|(labels, value)| Series {
            labels,
            value,
            timestamp_ms: None,
            created: None,
        })
        .collect();
    f
}

fn counter(name: &str, l: &[(&str, &str)], v: f64) -> MetricFamily {
    family(
        name,
        MetricType::Counter,
        vec![(labels(l), SampleValue::Counter(v))],
    )
}

fn gauge(name: &str, v: f64) -> MetricFamily {
    family(
        name,
        MetricType::Gauge,
        vec![(Labels::empty(), SampleValue::Gauge(v))],
    )
}

fn hist(name: &str, bounds: &[f64], counts: &[f64]) -> MetricFamily {
    let h = HistogramValue {
        buckets: bounds
            .iter()
            .zip(counts)
            .map(|(&upper_bound, &cumulative_count)| Bucket {
                upper_bound,
                cumulative_count,
            })
            .collect(),
        sum: 1.0,
        count: *counts.last().unwrap(),
    };
    family(
        name,
        MetricType::Histogram,
        vec![(Labels::empty(), SampleValue::Histogram(h))],
    )
}

static NONCE: AtomicU64 = AtomicU64::new(1);

fn req(families: Vec<MetricFamily>) -> PushRequest {
    PushRequest {
        families,
        gauge_mode: GaugeMode::Sum.into(),
        group: None,
        ttl_ms: None,
        ttl_by_prefix: Vec::new(),
        idempotency_key: None,
        now_ms: 1_000,
        nonce: NONCE.fetch_add(1, Ordering::SeqCst),
    }
}

fn cfg(backend: Backend) -> EngineConfig {
    EngineConfig {
        shards: 8,
        ..EngineConfig::for_backend(backend)
    }
}

fn backend_of(sem: Semantics) -> Backend {
    match sem {
        Semantics::Sqlite | Semantics::Textbook => Backend::Sqlite,
        Semantics::Redis => Backend::Redis,
        Semantics::NoAtomics => Backend::Cloud,
    }
}

const ALL: [Semantics; 4] = [
    Semantics::Textbook,
    Semantics::Sqlite,
    Semantics::Redis,
    Semantics::NoAtomics,
];

fn value_of(store: &MemoryStore, cfg: &EngineConfig, key: &str) -> Option<SampleValue> {
    let state = load(store, cfg).unwrap().into_merged().unwrap();
    state.get(key).map(|s| s.value.clone())
}

fn fold_now(store: &MemoryStore, cfg: &EngineConfig) -> FoldReport {
    fold(store, cfg, &|| 5_000, i64::MAX, None).unwrap().0
}

#[test]
fn pushes_aggregate_before_and_after_folds_on_every_backend() {
    for sem in ALL {
        let store = MemoryStore::new(sem);
        let c = cfg(backend_of(sem));
        let r = push(
            &store,
            &c,
            &req(vec![counter("c_total", &[("a", "1")], 2.0)]),
        )
        .unwrap();
        assert_eq!((r.created, r.updated), (1, 0));
        push(
            &store,
            &c,
            &req(vec![counter("c_total", &[("a", "1")], 3.0)]),
        )
        .unwrap();
        assert_eq!(
            value_of(&store, &c, "c_total{a=\"1\"}"),
            Some(SampleValue::Counter(5.0))
        );
        let rep = fold_now(&store, &c);
        assert_eq!(rep.applied, 2, "{sem:?}");
        assert_eq!(
            value_of(&store, &c, "c_total{a=\"1\"}"),
            Some(SampleValue::Counter(5.0))
        );
        let r = push(
            &store,
            &c,
            &req(vec![counter("c_total", &[("a", "1")], 1.0)]),
        )
        .unwrap();
        assert_eq!((r.created, r.updated), (0, 1), "{sem:?}");
        fold_now(&store, &c);
        fold_now(&store, &c);
        assert_eq!(
            value_of(&store, &c, "c_total{a=\"1\"}"),
            Some(SampleValue::Counter(6.0))
        );
        assert!(
            store
                .list_keys()
                .unwrap()
                .iter()
                .all(|k| !keys::is_delta(k)),
            "deltas deleted on {sem:?}"
        );
    }
}

#[test]
fn a_write_is_one_commit_whatever_its_size() {
    let store = MemoryStore::new(Semantics::Sqlite);
    let c = cfg(Backend::Sqlite);
    let series: Vec<(Labels, SampleValue)> = (0..1000)
        .map(|i| (labels(&[("i", &i.to_string())]), SampleValue::Counter(1.0)))
        .collect();
    let before = store.counters.commits.load(Ordering::SeqCst);
    push(
        &store,
        &c,
        &req(vec![family("big_total", MetricType::Counter, series)]),
    )
    .unwrap();
    assert_eq!(store.counters.commits.load(Ordering::SeqCst) - before, 1);
    let before = store.counters.commits.load(Ordering::SeqCst);
    fold_now(&store, &c);
    // shards (one set-many) + meta + delete-many
    assert_eq!(store.counters.commits.load(Ordering::SeqCst) - before, 3);
}

#[test]
fn conflicts_with_stored_state_are_refused_and_nothing_is_written() {
    let store = MemoryStore::new(Semantics::Sqlite);
    let c = cfg(Backend::Sqlite);
    push(&store, &c, &req(vec![counter("x", &[], 1.0)])).unwrap();
    push(
        &store,
        &c,
        &req(vec![hist("h", &[1.0, f64::INFINITY], &[1.0, 2.0])]),
    )
    .unwrap();
    let mut g = req(vec![gauge("g", 1.0)]);
    g.gauge_mode = GaugeMode::Max.into();
    push(&store, &c, &g).unwrap();
    fold_now(&store, &c);
    let keys_before = store.dump();
    let e = push(&store, &c, &req(vec![gauge("x", 1.0)])).unwrap_err();
    assert_eq!(e.status(), 409);
    assert_eq!(
        e.to_string(),
        "x is stored as a counter, the push sends a gauge"
    );
    let e = push(
        &store,
        &c,
        &req(vec![hist("h", &[2.0, f64::INFINITY], &[1.0, 2.0])]),
    )
    .unwrap_err();
    assert_eq!(e.status(), 409);
    assert!(e.to_string().contains("[1, +Inf]"), "{e}");
    let e = push(&store, &c, &req(vec![gauge("g", 1.0)])).unwrap_err();
    assert_eq!(e.status(), 409);
    let e = push(&store, &c, &req(vec![counter("y", &[], -1.0)])).unwrap_err();
    assert_eq!(e.status(), 400);
    assert_eq!(store.dump(), keys_before, "nothing written");
}

#[test]
fn concurrent_conflicting_creations_keep_the_first_and_count_the_rest() {
    let store = MemoryStore::new(Semantics::Sqlite);
    let c = cfg(Backend::Sqlite);
    let mut a = req(vec![counter("z", &[], 1.0)]);
    a.now_ms = 10;
    let mut b = req(vec![gauge("z", 5.0)]);
    b.now_ms = 20;
    push(&store, &c, &a).unwrap();
    push(&store, &c, &b).unwrap();
    let (rep, state) = fold(&store, &c, &|| 5_000, i64::MAX, None).unwrap();
    assert_eq!(rep.conflicts, 1);
    assert_eq!(state.get("z").unwrap().value, SampleValue::Counter(1.0));
}

#[test]
fn gauge_modes_and_last_follows_arrival_order() {
    let store = MemoryStore::new(Semantics::Sqlite);
    let c = cfg(Backend::Sqlite);
    for (t, v) in [(30, 3.0), (10, 1.0), (20, 2.0)] {
        let mut r = req(vec![gauge("last", v)]);
        r.gauge_mode = GaugeMode::Last.into();
        r.now_ms = t;
        push(&store, &c, &r).unwrap();
    }
    assert_eq!(value_of(&store, &c, "last"), Some(SampleValue::Gauge(3.0)));
    fold_now(&store, &c);
    assert_eq!(value_of(&store, &c, "last"), Some(SampleValue::Gauge(3.0)));
}

#[test]
fn deletes_by_family_labels_group_and_all() {
    for sem in ALL {
        let store = MemoryStore::new(sem);
        let c = cfg(backend_of(sem));
        push(
            &store,
            &c,
            &req(vec![counter("a_total", &[("x", "1"), ("y", "1")], 1.0)]),
        )
        .unwrap();
        push(
            &store,
            &c,
            &req(vec![counter("a_total", &[("x", "2")], 1.0)]),
        )
        .unwrap();
        push(&store, &c, &req(vec![counter("b_total", &[], 1.0)])).unwrap();
        let mut g = req(vec![gauge("job_gauge", 7.0)]);
        g.group = Some(labels(&[("job", "batch")]));
        push(&store, &c, &g).unwrap();
        let n = delete(
            &store,
            &c,
            &Selector::Family("a_total".into(), labels(&[("x", "1")])),
            2_000,
            1,
        )
        .unwrap();
        assert_eq!(n, 1, "{sem:?}");
        assert_eq!(value_of(&store, &c, "a_total{x=\"1\",y=\"1\"}"), None);
        assert!(value_of(&store, &c, "a_total{x=\"2\"}").is_some());
        fold_now(&store, &c);
        assert_eq!(
            value_of(&store, &c, "job_gauge{instance=\"\",job=\"batch\"}"),
            Some(SampleValue::Gauge(7.0))
        );
        assert_eq!(
            value_of(&store, &c, "push_time_seconds{instance=\"\",job=\"batch\"}"),
            Some(SampleValue::Gauge(1.0))
        );
        // group deletion removes its series and its push-time series
        assert_eq!(
            delete(
                &store,
                &c,
                &Selector::Group(labels(&[("job", "batch")])),
                3_000,
                2
            )
            .unwrap(),
            3
        );
        assert_eq!(
            value_of(&store, &c, "job_gauge{instance=\"\",job=\"batch\"}"),
            None
        );
        // a delete orders after earlier pushes and before later ones
        let mut later = req(vec![counter("b_total", &[], 5.0)]);
        later.now_ms = 4_000;
        assert_eq!(
            delete(
                &store,
                &c,
                &Selector::Family("b_total".into(), Labels::empty()),
                3_500,
                3
            )
            .unwrap(),
            1
        );
        push(&store, &c, &later).unwrap();
        assert_eq!(
            value_of(&store, &c, "b_total"),
            Some(SampleValue::Counter(5.0))
        );
        assert_eq!(delete(&store, &c, &Selector::All, 5_000, 4).unwrap(), 2);
        assert_eq!(
            load(&store, &c)
                .unwrap()
                .into_merged()
                .unwrap()
                .series_count(),
            0
        );
        let rep = fold_now(&store, &c);
        assert_eq!(rep.series, 0, "{sem:?}");
        assert!(rep.removed >= 2);
        let meta = load(&store, &c).unwrap().meta;
        assert!(meta.families.is_empty(), "families retired");
        assert!(
            !meta.stale.is_empty(),
            "stale series recorded for remote_write"
        );
    }
}

#[test]
fn idempotency_key_applies_once() {
    for sem in ALL {
        let store = MemoryStore::new(sem);
        let c = cfg(backend_of(sem));
        let mut r = req(vec![counter("i_total", &[], 1.0)]);
        r.idempotency_key = Some("job-42/attempt".into());
        push(&store, &c, &r).unwrap();
        push(&store, &c, &r).unwrap(); // retry before the fold: same key
        assert_eq!(
            value_of(&store, &c, "i_total"),
            Some(SampleValue::Counter(1.0))
        );
        let idem = keys::idem_key("job-42/attempt");
        let original = store.dump()[&idem].clone();
        fold_now(&store, &c);
        let again = push(&store, &c, &r).unwrap(); // retry after the fold: ledger
        assert!(again.replayed);
        // a retry that raced the fold re-created the key: the next fold drops it unapplied
        store.set(&idem, &original).unwrap();
        let rep = fold_now(&store, &c);
        assert_eq!(rep.replays, 1, "{sem:?}");
        assert_eq!(
            value_of(&store, &c, "i_total"),
            Some(SampleValue::Counter(1.0))
        );
        assert!(matches!(
            push(
                &store,
                &c,
                &PushRequest {
                    idempotency_key: Some("bad key".into()),
                    ..r.clone()
                }
            ),
            Err(EngineError::InvalidIdempotencyKey(_))
        ));
    }
}

#[test]
fn a_fold_that_crashes_at_any_write_never_loses_or_doubles() {
    for sem in ALL {
        // Find how many calls a full fold makes, then crash at each of them in turn.
        for crash_at in 1..=40u64 {
            let store = MemoryStore::new(sem);
            let c = cfg(backend_of(sem));
            for i in 0..20 {
                let l = [("i", i.to_string())];
                let l: Vec<(&str, &str)> = l.iter().map(|(a, b)| (*a, b.as_str())).collect();
                push(
                    &store,
                    &c,
                    &req(vec![
                        counter("k_total", &l, 1.0),
                        counter("hot_total", &[], 1.0),
                    ]),
                )
                .unwrap();
            }
            store.fail_nth_call(crash_at);
            let crashed = fold(&store, &c, &|| 5_000, i64::MAX, None).is_err();
            store.clear_failure();
            let state = load(&store, &c).unwrap().into_merged().unwrap();
            assert_eq!(
                state.get("hot_total").unwrap().value,
                SampleValue::Counter(20.0),
                "{sem:?} crash at {crash_at}"
            );
            fold_now(&store, &c);
            fold_now(&store, &c);
            let state = load(&store, &c).unwrap().into_merged().unwrap();
            assert_eq!(
                state.get("hot_total").unwrap().value,
                SampleValue::Counter(20.0),
                "{sem:?} crash at {crash_at}"
            );
            assert_eq!(state.series_count(), 21);
            if !crashed {
                break;
            }
        }
    }
}

#[test]
fn histograms_add_bucketwise_through_the_store() {
    let store = MemoryStore::new(Semantics::Redis);
    let c = cfg(Backend::Redis);
    push(
        &store,
        &c,
        &req(vec![hist("h", &[1.0, f64::INFINITY], &[1.0, 2.0])]),
    )
    .unwrap();
    fold_now(&store, &c);
    push(
        &store,
        &c,
        &req(vec![hist("h", &[1.0, f64::INFINITY], &[0.0, 3.0])]),
    )
    .unwrap();
    let SampleValue::Histogram(h) = value_of(&store, &c, "h").unwrap() else {
        panic!("not a histogram")
    };
    assert_eq!(h.buckets[0].cumulative_count, 1.0);
    assert_eq!(h.buckets[1].cumulative_count, 5.0);
    assert_eq!(h.count, 5.0);
    assert_eq!(h.sum, 2.0);
}

#[test]
fn limits_on_total_series_and_families() {
    let store = MemoryStore::new(Semantics::Sqlite);
    let mut c = cfg(Backend::Sqlite);
    c.limits.max_total_series = 2;
    c.limits.max_families = 2;
    push(
        &store,
        &c,
        &req(vec![counter("a_total", &[("i", "1")], 1.0)]),
    )
    .unwrap();
    push(
        &store,
        &c,
        &req(vec![counter("a_total", &[("i", "2")], 1.0)]),
    )
    .unwrap();
    fold_now(&store, &c);
    let e = push(
        &store,
        &c,
        &req(vec![counter("a_total", &[("i", "3")], 1.0)]),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "store would hold 3 series, more than max_total_series=2"
    );
    push(
        &store,
        &c,
        &req(vec![counter("a_total", &[("i", "1")], 1.0)]),
    )
    .unwrap();
}

#[test]
fn cloud_backlog_refuses_writes_until_a_fold() {
    let store = MemoryStore::new(Semantics::NoAtomics);
    let mut c = cfg(Backend::Cloud);
    c.max_pending_deltas = 3;
    for _ in 0..3 {
        push(&store, &c, &req(vec![counter("b_total", &[], 1.0)])).unwrap();
    }
    let e = push(&store, &c, &req(vec![counter("b_total", &[], 1.0)])).unwrap_err();
    assert_eq!(e.status(), 503);
    fold_now(&store, &c);
    push(&store, &c, &req(vec![counter("b_total", &[], 1.0)])).unwrap();
    assert_eq!(
        value_of(&store, &c, "b_total"),
        Some(SampleValue::Counter(4.0))
    );
}

/// The wall clock, ms.
pub(crate) fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Many threads push to one hot series and create new series while folders fold: the stored
/// values equal the acknowledged pushes exactly.
fn exact_under_concurrency(sem: Semantics, folders: usize) {
    let store = Arc::new(MemoryStore::new(sem));
    store.set_delay(std::time::Duration::from_micros(20));
    let c = Arc::new(EngineConfig {
        lease_ms: 1000,
        ..cfg(backend_of(sem))
    });
    let done = Arc::new(AtomicBool::new(false));
    let acked_hot = Arc::new(AtomicU64::new(0));
    let acked_new = Arc::new(AtomicU64::new(0));
    let folds = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for f in 0..folders {
        let (store, c, done, folds) = (store.clone(), c.clone(), done.clone(), folds.clone());
        handles.push(std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                if c.backend.has_increment() {
                    let now = wall_ms();
                    if let Ok(Ok(l)) = lease::try_acquire(&*store, now, c.lease_ms) {
                        if fold(&*store, &c, &wall_ms, l.deadline_ms, Some(l.epoch)).is_ok() {
                            folds.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                } else if f == 0 && fold(&*store, &c, &wall_ms, i64::MAX, None).is_ok() {
                    folds.fetch_add(1, Ordering::SeqCst);
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }));
    }
    let writers: Vec<_> = (0..6)
        .map(|t| {
            let (store, c, acked_hot, acked_new) = (
                store.clone(),
                c.clone(),
                acked_hot.clone(),
                acked_new.clone(),
            );
            std::thread::spawn(move || {
                for i in 0..150 {
                    let mut r = req(vec![counter("hot_total", &[], 1.0)]);
                    r.now_ms = wall_ms();
                    match push(&*store, &c, &r) {
                        Ok(_) => {
                            acked_hot.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(EngineError::Backlog { .. }) => {}
                        Err(e) => panic!("push failed: {e}"),
                    }
                    let (ts, is) = (t.to_string(), (i % 50).to_string());
                    let mut r = req(vec![counter("new_total", &[("t", &ts), ("i", &is)], 1.0)]);
                    r.now_ms = wall_ms();
                    match push(&*store, &c, &r) {
                        Ok(_) => {
                            acked_new.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(EngineError::Backlog { .. }) => {}
                        Err(e) => panic!("push failed: {e}"),
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    done.store(true, Ordering::SeqCst);
    for h in handles {
        h.join().unwrap();
    }
    fold(&*store, &c, &wall_ms, i64::MAX, None).unwrap();
    let state = load(&*store, &c).unwrap().into_merged().unwrap();
    let hot = acked_hot.load(Ordering::SeqCst) as f64;
    assert_eq!(
        state.get("hot_total").unwrap().value,
        SampleValue::Counter(hot),
        "{sem:?}"
    );
    let new_sum: f64 = state
        .series()
        .filter(|s| s.family == "new_total")
        .map(|s| match s.value {
            SampleValue::Counter(v) => v,
            _ => 0.0,
        })
        .sum();
    assert_eq!(new_sum, acked_new.load(Ordering::SeqCst) as f64, "{sem:?}");
    if c.backend != Backend::Cloud {
        assert_eq!(hot, 900.0, "every push acknowledged on {sem:?}");
    } else {
        assert!(
            hot > 0.0,
            "some pushes acknowledged between backlog refusals"
        );
    }
    assert!(
        folds.load(Ordering::SeqCst) >= 1,
        "folds ran concurrently on {sem:?}"
    );
}

#[test]
fn exact_under_concurrency_sqlite_two_folders() {
    exact_under_concurrency(Semantics::Sqlite, 2);
}

#[test]
fn exact_under_concurrency_redis_two_folders() {
    exact_under_concurrency(Semantics::Redis, 2);
}

#[test]
fn exact_under_concurrency_textbook() {
    exact_under_concurrency(Semantics::Textbook, 2);
}

#[test]
fn exact_under_concurrency_no_atomics_one_scheduler() {
    exact_under_concurrency(Semantics::NoAtomics, 1);
}

#[test]
fn a_fold_takes_a_bounded_batch_and_readers_stay_exact() {
    let store = MemoryStore::new(Semantics::Sqlite);
    let c = EngineConfig {
        max_fold_deltas: 2,
        ..cfg(Backend::Sqlite)
    };
    for t in 0..5 {
        let mut r = req(vec![counter("b_total", &[], 1.0)]);
        r.now_ms = 100 + t;
        push(&store, &c, &r).unwrap();
    }
    let (rep, state) = fold(&store, &c, &|| 5_000, i64::MAX, None).unwrap();
    assert_eq!(rep.applied, 2);
    assert_eq!(
        state.get("b_total").unwrap().value,
        SampleValue::Counter(5.0),
        "returned state includes the rest"
    );
    assert_eq!(
        value_of(&store, &c, "b_total"),
        Some(SampleValue::Counter(5.0))
    );
    assert_eq!(fold_now(&store, &c).applied, 2);
    assert_eq!(fold_now(&store, &c).applied, 1);
    assert_eq!(fold_now(&store, &c).applied, 0);
    assert_eq!(
        value_of(&store, &c, "b_total"),
        Some(SampleValue::Counter(5.0))
    );
}

#[test]
fn a_fold_stops_writing_at_its_deadline_and_the_next_one_finishes() {
    for sem in [Semantics::Redis, Semantics::NoAtomics, Semantics::Sqlite] {
        for allowed_checks in 0..12 {
            let store = MemoryStore::new(sem);
            let c = cfg(backend_of(sem));
            for i in 0..20 {
                let l = [("i", i.to_string())];
                let l: Vec<(&str, &str)> = l.iter().map(|(a, b)| (*a, b.as_str())).collect();
                push(
                    &store,
                    &c,
                    &req(vec![
                        counter("k_total", &l, 1.0),
                        counter("hot_total", &[], 1.0),
                    ]),
                )
                .unwrap();
            }
            // The clock passes the deadline after `allowed_checks` readings.
            let readings = std::cell::Cell::new(0);
            let clock = || {
                readings.set(readings.get() + 1);
                if readings.get() <= allowed_checks + 1 {
                    0
                } else {
                    10
                }
            };
            let first = fold(&store, &c, &clock, 5, None);
            if allowed_checks == 0 {
                assert!(
                    matches!(first, Err(EngineError::DeadlineExceeded)),
                    "{sem:?}"
                );
                assert!(
                    store.list_keys().unwrap().iter().all(|k| keys::is_delta(k)),
                    "nothing written"
                );
            }
            fold_now(&store, &c);
            let state = load(&store, &c).unwrap().into_merged().unwrap();
            assert_eq!(
                state.get("hot_total").unwrap().value,
                SampleValue::Counter(20.0),
                "{sem:?} {allowed_checks}"
            );
            assert_eq!(state.series_count(), 21);
        }
    }
}

#[test]
fn staleness_records_are_bounded() {
    let store = MemoryStore::new(Semantics::Sqlite);
    let c = cfg(Backend::Sqlite);
    let series: Vec<(Labels, SampleValue)> = (0..fold::MAX_STALE + 10)
        .map(|i| (labels(&[("i", &i.to_string())]), SampleValue::Counter(1.0)))
        .collect();
    push(
        &store,
        &c,
        &req(vec![family("many_total", MetricType::Counter, series)]),
    )
    .unwrap();
    fold_now(&store, &c);
    delete(&store, &c, &Selector::All, 2_000, 1).unwrap();
    fold_now(&store, &c);
    assert_eq!(load(&store, &c).unwrap().meta.stale.len(), fold::MAX_STALE);
}

fn grouped(families: Vec<MetricFamily>, group: &[(&str, &str)]) -> PushRequest {
    let mut r = req(families);
    r.group = Some(labels(group));
    r
}

#[test]
fn grouping_labels_as_pushgateway_sanitizes_them() {
    let store = MemoryStore::new(Semantics::Sqlite);
    let c = cfg(Backend::Sqlite);
    // A body `instance` survives a path without one; instance="" only fills a gap.
    let body = family(
        "m_total",
        MetricType::Counter,
        vec![
            (labels(&[("instance", "a")]), SampleValue::Counter(1.0)),
            (labels(&[("x", "1")]), SampleValue::Counter(2.0)),
        ],
    );
    push(&store, &c, &grouped(vec![body], &[("job", "j")])).unwrap();
    assert_eq!(
        value_of(&store, &c, "m_total{instance=\"a\",job=\"j\"}"),
        Some(SampleValue::Counter(1.0))
    );
    assert_eq!(
        value_of(&store, &c, "m_total{instance=\"\",job=\"j\",x=\"1\"}"),
        Some(SampleValue::Counter(2.0))
    );
    assert_eq!(
        value_of(&store, &c, "m_total{instance=\"\",job=\"j\"}"),
        None
    );
    // The group's own series carry the group and instance="".
    assert!(value_of(&store, &c, "push_time_seconds{instance=\"\",job=\"j\"}").is_some());
    // Grouping labels win over the body's values (job and instance included).
    let body = counter(
        "n_total",
        &[("job", "body"), ("instance", "b"), ("k", "v")],
        3.0,
    );
    push(
        &store,
        &c,
        &grouped(vec![body], &[("job", "j"), ("instance", "url")]),
    )
    .unwrap();
    assert_eq!(
        value_of(&store, &c, "n_total{instance=\"url\",job=\"j\",k=\"v\"}"),
        Some(SampleValue::Counter(3.0))
    );
    // Deleting the group removes the series whatever their instance.
    let n = delete(
        &store,
        &c,
        &Selector::Group(labels(&[("job", "j")])),
        2_000,
        9,
    )
    .unwrap();
    assert_eq!(
        n, 4,
        "m_total x2, push_time_seconds, push_failure_time_seconds"
    );
    assert_eq!(
        value_of(&store, &c, "m_total{instance=\"a\",job=\"j\"}"),
        None
    );
    assert!(value_of(&store, &c, "n_total{instance=\"url\",job=\"j\",k=\"v\"}").is_some());
}

#[test]
fn body_series_colliding_after_grouping_are_refused() {
    let store = MemoryStore::new(Semantics::Sqlite);
    let c = cfg(Backend::Sqlite);
    let body = family(
        "m_total",
        MetricType::Counter,
        vec![
            (labels(&[("job", "a")]), SampleValue::Counter(1.0)),
            (labels(&[("job", "b")]), SampleValue::Counter(1.0)),
        ],
    );
    let e = push(&store, &c, &grouped(vec![body], &[("job", "j")])).unwrap_err();
    assert_eq!(e.status(), 400);
    assert_eq!(
        e.to_string(),
        "duplicate series m_total{instance=\"\",job=\"j\"} in one request (after applying grouping labels)"
    );
    assert!(store.dump().is_empty(), "nothing written");
}

#[test]
fn grouping_labels_are_held_to_the_series_limits() {
    let store = MemoryStore::new(Semantics::Sqlite);
    let mut c = cfg(Backend::Sqlite);
    c.limits.max_labels_per_series = 3;
    c.limits.max_name_len = 8;
    c.limits.max_label_value_len = 4;
    // Body: 2 labels; with job and instance it has 4.
    let body = || counter("m_total", &[("a", "1"), ("b", "2")], 1.0);
    let e = push(&store, &c, &grouped(vec![body()], &[("job", "j")])).unwrap_err();
    assert_eq!(
        e,
        EngineError::Limit(LimitError::TooManyLabels {
            series: "m_total{a=\"1\",b=\"2\",instance=\"\",job=\"j\"}".into(),
            got: 4,
            limit: 3
        })
    );
    assert_eq!(e.status(), 400);
    assert_eq!(
        e.to_string(),
        "series m_total{a=\"1\",b=\"2\",instance=\"\",job=\"j\"} has 4 labels, more than max_labels_per_series=3"
    );
    // Exactly at the limit passes: the body's instance is kept, no instance="" added.
    let ok = counter("m_total", &[("a", "1"), ("instance", "i")], 1.0);
    push(&store, &c, &grouped(vec![ok], &[("job", "j")])).unwrap();
    let before = store.dump();
    // A grouping label value longer than max_label_value_len.
    let e = push(
        &store,
        &c,
        &grouped(vec![counter("m_total", &[], 1.0)], &[("job", "jobby")]),
    )
    .unwrap_err();
    assert_eq!(
        e,
        EngineError::Limit(LimitError::LabelValueTooLong {
            label: "job".into(),
            got: 5,
            limit: 4
        })
    );
    // A grouping label name longer than max_name_len.
    let e = push(
        &store,
        &c,
        &grouped(
            vec![counter("m_total", &[], 1.0)],
            &[("job", "j"), ("long_name", "v")],
        ),
    )
    .unwrap_err();
    assert!(
        matches!(&e, EngineError::Limit(LimitError::NameTooLong { name, got: 9, limit: 8 }) if name == "long_name"),
        "{e:?}"
    );
    // An empty body still checks the group's own push-time series.
    c.limits.max_labels_per_series = 2;
    let e = push(&store, &c, &grouped(vec![], &[("job", "j"), ("zone", "z")])).unwrap_err();
    assert_eq!(
        e,
        EngineError::Limit(LimitError::TooManyLabels {
            series: "{instance=\"\",job=\"j\",zone=\"z\"}".into(),
            got: 3,
            limit: 2
        })
    );
    assert_eq!(store.dump(), before, "nothing from refused pushes applied");
}

fn stored_ttl(store: &MemoryStore, c: &EngineConfig, key: &str) -> Option<i64> {
    let state = load(store, c).unwrap().into_merged().unwrap();
    state
        .get(key)
        .unwrap_or_else(|| panic!("{key} not stored"))
        .ttl_ms
}

const HOUR: i64 = 3_600_000;

#[test]
fn ttl_for_takes_the_request_then_the_longest_prefix_then_the_default() {
    let mut r = req(Vec::new());
    r.ttl_by_prefix = vec![
        ("batch_".into(), HOUR),
        ("batch_tmp_".into(), 600_000),
        ("keep_".into(), 0),
        (String::new(), 900_000),
    ];
    assert_eq!(push::ttl_for(&r, "batch_rows"), Some(HOUR));
    assert_eq!(
        push::ttl_for(&r, "batch_tmp_rows"),
        Some(600_000),
        "the longer prefix wins whatever the order"
    );
    r.ttl_by_prefix.reverse();
    assert_eq!(push::ttl_for(&r, "batch_tmp_rows"), Some(600_000));
    assert_eq!(push::ttl_for(&r, "batch_rows"), Some(HOUR));
    assert_eq!(
        push::ttl_for(&r, "other"),
        Some(900_000),
        "empty prefix = default"
    );
    assert_eq!(
        push::ttl_for(&r, "keep_me"),
        Some(0),
        "a 0 rule overrides the default: never"
    );
    assert_eq!(
        push::ttl_for(&r, "batc"),
        Some(900_000),
        "a prefix longer than the name does not match"
    );
    r.ttl_ms = Some(60_000);
    assert_eq!(push::ttl_for(&r, "batch_rows"), Some(60_000), "?ttl= wins");
    assert_eq!(push::ttl_for(&r, "keep_me"), Some(60_000));
    r.ttl_ms = Some(0);
    assert_eq!(
        push::ttl_for(&r, "batch_rows"),
        Some(0),
        "?ttl=0 never expires"
    );
    r.ttl_ms = None;
    r.ttl_by_prefix.clear();
    assert_eq!(push::ttl_for(&r, "batch_rows"), None, "no rule, no expiry");
}

#[test]
fn prefix_ttls_are_stored_per_series_and_expire_at_the_fold() {
    let store = MemoryStore::new(Semantics::Sqlite);
    let c = cfg(Backend::Sqlite);
    let mut r = req(vec![
        counter("batch_rows_total", &[], 1.0),
        counter("batch_tmp_total", &[], 1.0),
        counter("kept_total", &[], 1.0),
    ]);
    r.ttl_by_prefix = vec![("batch_".into(), HOUR), ("batch_tmp_".into(), 600_000)];
    push(&store, &c, &r).unwrap();
    assert_eq!(stored_ttl(&store, &c, "batch_rows_total"), Some(HOUR));
    assert_eq!(stored_ttl(&store, &c, "batch_tmp_total"), Some(600_000));
    assert_eq!(stored_ttl(&store, &c, "kept_total"), None);
    let at = |t: i64| fold(&store, &c, &|| t, i64::MAX, None).unwrap().0;
    // Pushed at 1,000: the 10-minute series lasts until 601,000 exactly.
    assert_eq!(at(600_999).removed, 0);
    assert_eq!(at(601_000).removed, 1);
    assert_eq!(value_of(&store, &c, "batch_tmp_total"), None);
    assert!(value_of(&store, &c, "batch_rows_total").is_some());
    assert_eq!(at(HOUR + 1_000).removed, 1);
    assert_eq!(value_of(&store, &c, "batch_rows_total"), None);
    assert_eq!(
        value_of(&store, &c, "kept_total"),
        Some(SampleValue::Counter(1.0))
    );
}

#[test]
fn a_groups_bookkeeping_series_live_as_long_as_its_longest_lived_series() {
    let rules = vec![("batch_".to_string(), HOUR), ("tmp_".to_string(), 600_000)];
    let push_time = "push_time_seconds{instance=\"\",job=\"j\"}";
    let failure_time = "push_failure_time_seconds{instance=\"\",job=\"j\"}";
    let cases: [(Vec<MetricFamily>, Option<i64>); 4] = [
        (
            vec![
                counter("batch_a_total", &[], 1.0),
                counter("tmp_b_total", &[], 1.0),
            ],
            Some(HOUR),
        ),
        (vec![counter("tmp_b_total", &[], 1.0)], Some(600_000)),
        (
            vec![
                counter("batch_a_total", &[], 1.0),
                counter("other_total", &[], 1.0),
            ],
            Some(0),
        ),
        // No series: the rules for the bookkeeping series' own names (none match).
        (Vec::new(), None),
    ];
    for (families, want) in cases {
        let store = MemoryStore::new(Semantics::Sqlite);
        let c = cfg(Backend::Sqlite);
        let mut r = req(families);
        r.group = Some(labels(&[("job", "j")]));
        r.ttl_by_prefix = rules.clone();
        push(&store, &c, &r).unwrap();
        assert_eq!(stored_ttl(&store, &c, push_time), want);
        assert_eq!(stored_ttl(&store, &c, failure_time), want);
    }
    // An empty push with a default TTL takes the default.
    let store = MemoryStore::new(Semantics::Sqlite);
    let c = cfg(Backend::Sqlite);
    let mut r = req(Vec::new());
    r.group = Some(labels(&[("job", "j")]));
    r.ttl_by_prefix = vec![(String::new(), 900_000)];
    push(&store, &c, &r).unwrap();
    assert_eq!(stored_ttl(&store, &c, push_time), Some(900_000));
}

#[test]
fn ttl_zero_clears_a_stored_ttl_and_no_ttl_keeps_it() {
    let store = MemoryStore::new(Semantics::Sqlite);
    let c = cfg(Backend::Sqlite);
    let mut r = req(vec![counter("jobs_total", &[], 1.0)]);
    r.ttl_ms = Some(600_000);
    push(&store, &c, &r).unwrap();
    fold(&store, &c, &|| 2_000, i64::MAX, None).unwrap();
    assert_eq!(stored_ttl(&store, &c, "jobs_total"), Some(600_000));
    r.ttl_ms = None;
    r.nonce += 1;
    push(&store, &c, &r).unwrap();
    fold(&store, &c, &|| 3_000, i64::MAX, None).unwrap();
    assert_eq!(
        stored_ttl(&store, &c, "jobs_total"),
        Some(600_000),
        "a push with no TTL keeps the stored one"
    );
    r.ttl_ms = Some(0);
    r.nonce += 1;
    push(&store, &c, &r).unwrap();
    fold(&store, &c, &|| 4_000, i64::MAX, None).unwrap();
    assert_eq!(
        stored_ttl(&store, &c, "jobs_total"),
        Some(0),
        "?ttl=0 clears it"
    );
    assert_eq!(
        fold(&store, &c, &|| 100 * HOUR, i64::MAX, None)
            .unwrap()
            .0
            .removed,
        0,
        "and the series never expires"
    );
    assert_eq!(
        value_of(&store, &c, "jobs_total"),
        Some(SampleValue::Counter(3.0))
    );
}

#[test]
fn a_group_whose_series_all_expired_is_gone_with_its_push_time() {
    let store = MemoryStore::new(Semantics::Sqlite);
    let c = cfg(Backend::Sqlite);
    let mut r = req(vec![counter("batch_rows_total", &[], 5.0)]);
    r.group = Some(labels(&[("job", "nightly")]));
    r.ttl_by_prefix = vec![("batch_".into(), HOUR)];
    push(&store, &c, &r).unwrap();
    let at = |t: i64| fold(&store, &c, &|| t, i64::MAX, None).unwrap();
    let (_, state) = at(HOUR);
    assert_eq!(
        state.series_count(),
        3,
        "series and both bookkeeping series"
    );
    let (rep, state) = at(HOUR + 1_000);
    assert_eq!(rep.removed, 3);
    assert_eq!(state.series_count(), 0, "nothing of the group outlives it");
    assert!(load(&store, &c).unwrap().meta.families.is_empty());
}

#[test]
fn a_push_naming_no_gauge_mode_combines_the_way_the_stored_series_does() {
    for sem in ALL {
        let store = MemoryStore::new(sem);
        let c = cfg(backend_of(sem));
        let with = |v: f64, mode: GaugeChoice| {
            let mut r = req(vec![gauge("temp", v)]);
            r.gauge_mode = mode;
            push(&store, &c, &r)
        };
        with(3.0, GaugeChoice::Asked(GaugeMode::Max)).unwrap();
        // Still a pending delta: the fold (and every reader) takes the stored mode.
        with(1.0, GaugeChoice::StoredOr(GaugeMode::Sum)).unwrap();
        assert_eq!(
            value_of(&store, &c, "temp"),
            Some(SampleValue::Gauge(3.0)),
            "{sem:?}"
        );
        let rep = fold_now(&store, &c);
        assert_eq!(rep.conflicts, 0, "{sem:?}");
        assert_eq!(value_of(&store, &c, "temp"), Some(SampleValue::Gauge(3.0)));
        // Folded: the push is checked against the stored mode.
        with(5.0, GaugeChoice::StoredOr(GaugeMode::Last)).unwrap();
        with(4.0, GaugeChoice::StoredOr(GaugeMode::Sum)).unwrap();
        assert_eq!(
            value_of(&store, &c, "temp"),
            Some(SampleValue::Gauge(5.0)),
            "{sem:?}"
        );
        fold_now(&store, &c);
        assert_eq!(
            value_of(&store, &c, "temp"),
            Some(SampleValue::Gauge(5.0)),
            "{sem:?}"
        );
        // Asking for another mode is still refused, and writes nothing.
        let before = store.dump();
        let e = with(9.0, GaugeChoice::Asked(GaugeMode::Sum)).unwrap_err();
        assert_eq!(e.status(), 409, "{sem:?}");
        assert!(e.to_string().contains("mode max"), "{e}");
        assert_eq!(store.dump(), before);
        with(6.0, GaugeChoice::Asked(GaugeMode::Max)).unwrap();
        assert_eq!(value_of(&store, &c, "temp"), Some(SampleValue::Gauge(6.0)));
        // A new series takes the choice's default.
        let mut r = req(vec![gauge("fresh", 2.0)]);
        r.gauge_mode = GaugeChoice::StoredOr(GaugeMode::Last);
        push(&store, &c, &r).unwrap();
        let mut r = req(vec![gauge("fresh", 7.0)]);
        r.gauge_mode = GaugeChoice::StoredOr(GaugeMode::Sum);
        push(&store, &c, &r).unwrap();
        fold_now(&store, &c);
        let state = load(&store, &c).unwrap().into_merged().unwrap();
        assert_eq!(state.get("fresh").unwrap().gauge_mode, GaugeMode::Last);
        assert_eq!(state.get("fresh").unwrap().value, SampleValue::Gauge(7.0));
    }
}

#[test]
fn an_unfolded_push_asking_for_another_mode_is_a_fold_conflict() {
    let store = MemoryStore::new(Semantics::Sqlite);
    let c = cfg(Backend::Sqlite);
    let mut a = req(vec![gauge("g", 3.0)]);
    a.gauge_mode = GaugeChoice::Asked(GaugeMode::Max);
    a.now_ms = 10;
    let mut b = req(vec![gauge("g", 1.0)]);
    b.gauge_mode = GaugeChoice::Asked(GaugeMode::Sum);
    b.now_ms = 20;
    push(&store, &c, &a).unwrap();
    push(&store, &c, &b).unwrap();
    assert_eq!(fold_now(&store, &c).conflicts, 1);
    assert_eq!(value_of(&store, &c, "g"), Some(SampleValue::Gauge(3.0)));
}

/// Every writer pushes the same fresh series at once, round after round, while folders fold:
/// creations race (on SQLite a swap on an absent key is an unconditional upsert), yet every
/// acknowledged push is counted exactly once.
fn exact_when_everyone_creates_the_same_series(sem: Semantics, folders: usize) {
    const WRITERS: usize = 6;
    const ROUNDS: usize = 40;
    let store = Arc::new(MemoryStore::new(sem));
    store.set_delay(std::time::Duration::from_micros(20));
    let c = Arc::new(EngineConfig {
        lease_ms: 1000,
        ..cfg(backend_of(sem))
    });
    let done = Arc::new(AtomicBool::new(false));
    let folds = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for f in 0..folders {
        let (store, c, done, folds) = (store.clone(), c.clone(), done.clone(), folds.clone());
        handles.push(std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                if c.backend.has_increment() {
                    if let Ok(Ok(l)) = lease::try_acquire(&*store, wall_ms(), c.lease_ms) {
                        if fold(&*store, &c, &wall_ms, l.deadline_ms, Some(l.epoch)).is_ok() {
                            folds.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                } else if f == 0 && fold(&*store, &c, &wall_ms, i64::MAX, None).is_ok() {
                    folds.fetch_add(1, Ordering::SeqCst);
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        }));
    }
    let start = Arc::new(std::sync::Barrier::new(WRITERS));
    // acked[round] = acknowledged pushes of that round's series.
    let acked: Arc<Vec<AtomicU64>> = Arc::new((0..ROUNDS).map(|_| AtomicU64::new(0)).collect());
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (store, c, start, acked) = (store.clone(), c.clone(), start.clone(), acked.clone());
            std::thread::spawn(move || {
                for round in 0..ROUNDS {
                    let r_label = round.to_string();
                    // Every writer's first push of the round creates the same series.
                    start.wait();
                    let mut families = vec![counter("fresh_total", &[("round", &r_label)], 1.0)];
                    let g = family(
                        "fresh_gauge",
                        MetricType::Gauge,
                        vec![(labels(&[("round", &r_label)]), SampleValue::Gauge(1.0))],
                    );
                    families.push(g);
                    let mut r = req(families);
                    r.now_ms = wall_ms();
                    r.gauge_mode = if w % 2 == 0 {
                        GaugeChoice::StoredOr(GaugeMode::Sum)
                    } else {
                        GaugeChoice::Asked(GaugeMode::Sum)
                    };
                    match push(&*store, &c, &r) {
                        Ok(_) => {
                            acked[round].fetch_add(1, Ordering::SeqCst);
                        }
                        Err(EngineError::Backlog { .. }) => {}
                        Err(e) => panic!("push failed: {e}"),
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    done.store(true, Ordering::SeqCst);
    for h in handles {
        h.join().unwrap();
    }
    let (rep, state) = fold(&*store, &c, &wall_ms, i64::MAX, None).unwrap();
    assert_eq!(rep.conflicts, 0, "{sem:?}");
    let mut total = 0;
    for (round, n) in acked.iter().enumerate() {
        let n = n.load(Ordering::SeqCst);
        total += n;
        let key = |name: &str| format!("{name}{{round=\"{round}\"}}");
        let want = (n > 0).then_some(n as f64);
        assert_eq!(
            state.get(&key("fresh_total")).map(|s| s.value.clone()),
            want.map(SampleValue::Counter),
            "{sem:?} round {round}"
        );
        assert_eq!(
            state.get(&key("fresh_gauge")).map(|s| s.value.clone()),
            want.map(SampleValue::Gauge),
            "{sem:?} round {round}"
        );
    }
    if c.backend != Backend::Cloud {
        assert_eq!(
            total,
            (WRITERS * ROUNDS) as u64,
            "every push acknowledged on {sem:?}"
        );
    } else {
        assert!(
            total > 0,
            "some pushes acknowledged between backlog refusals"
        );
    }
    let stored = state
        .series()
        .filter(|s| s.family.starts_with("fresh_"))
        .count();
    let rounds_with_acks = acked
        .iter()
        .filter(|n| n.load(Ordering::SeqCst) > 0)
        .count();
    assert_eq!(stored, 2 * rounds_with_acks, "one series per key, {sem:?}");
    assert!(
        folds.load(Ordering::SeqCst) >= 1,
        "folds ran concurrently on {sem:?}"
    );
}

#[test]
fn same_fresh_series_from_every_writer_sqlite() {
    exact_when_everyone_creates_the_same_series(Semantics::Sqlite, 2);
}

#[test]
fn same_fresh_series_from_every_writer_redis() {
    exact_when_everyone_creates_the_same_series(Semantics::Redis, 2);
}

#[test]
fn same_fresh_series_from_every_writer_textbook() {
    exact_when_everyone_creates_the_same_series(Semantics::Textbook, 2);
}

#[test]
fn same_fresh_series_from_every_writer_no_atomics() {
    exact_when_everyone_creates_the_same_series(Semantics::NoAtomics, 1);
}

#[test]
fn into_families_equals_the_view_and_counts_live_families() {
    let store = MemoryStore::new(Semantics::Sqlite);
    let c = cfg(Backend::Sqlite);
    let mut r = req(vec![
        counter("b_total", &[("x", "2")], 1.0),
        counter("b_total", &[("x", "1")], 2.0),
        gauge("a", 3.0),
    ]);
    push(&store, &c, &r).unwrap();
    fold(&store, &c, &|| 2_000, i64::MAX, None).unwrap();
    r.families = vec![counter("c_total", &[], 1.0), gauge("a", 1.0)];
    r.nonce += 1;
    push(&store, &c, &r).unwrap();
    let state = load(&store, &c).unwrap().into_merged().unwrap();
    let view = state.families_view();
    assert_eq!(state.live_family_count(), 3);
    let names: Vec<&str> = view.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a", "b_total", "c_total"]);
    let xs: Vec<&str> = view[1]
        .series
        .iter()
        .map(|s| s.labels.get("x").unwrap())
        .collect();
    assert_eq!(xs, ["1", "2"], "series in label order");
    assert_eq!(state.into_families(), view);
}
