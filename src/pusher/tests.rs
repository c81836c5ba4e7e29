//! Pusher run tests with a scripted transport and a fake clock.

use std::collections::VecDeque;

use super::*;
use crate::aggregate::GaugeMode;
use crate::engine::{self, Backend, PushRequest, Selector};
use crate::model::{Labels, MetricFamily, MetricType, SampleValue, Series};
use crate::remote_write::{decode_v1, decode_v2, is_stale_nan};
use crate::store::memory::{MemoryStore, Semantics};

const T0: i64 = 1_700_000_000_000;

struct Fake {
    now: i64,
    script: VecDeque<Result<HttpResponse, String>>,
    sent: Vec<HttpRequest>,
    slept: Vec<u64>,
}

impl Fake {
    fn new(script: Vec<Result<HttpResponse, String>>) -> Self {
        Fake {
            now: T0,
            script: script.into(),
            sent: Vec::new(),
            slept: Vec::new(),
        }
    }
}

fn status(s: u16) -> Result<HttpResponse, String> {
    Ok(HttpResponse {
        status: s,
        ..HttpResponse::default()
    })
}

impl Transport for Fake {
    fn send(&mut self, req: &HttpRequest) -> Result<HttpResponse, String> {
        self.sent.push(req.clone());
        self.now += 5;
        self.script.pop_front().unwrap_or_else(|| status(200))
    }
    fn sleep_ms(&mut self, ms: u64) {
        self.slept.push(ms);
        self.now += ms as i64;
    }
    fn now_ms(&self) -> i64 {
        self.now
    }
    fn random(&mut self) -> f64 {
        0.5
    }
}

fn cfg() -> PushConfig {
    PushConfig {
        endpoint: Some("http://rw.test/api/v1/write".into()),
        user: None,
        token: None,
        protocol: Protocol::V1,
        max_samples_per_batch: 2000,
        timeout_ms: 1000,
        extra_labels: vec![("instance".into(), "promagg".into())],
        interval_ms: 10_000,
    }
}

fn push_counter(store: &MemoryStore, ecfg: &engine::EngineConfig, name: &str, v: f64, now: i64) {
    let mut f = MetricFamily::new(name, MetricType::Counter);
    f.series.push(Series {
        labels: Labels::new(vec![("job".into(), "x".into())]).unwrap(),
        value: SampleValue::Counter(v),
        timestamp_ms: None,
        created: None,
    });
    engine::push(
        store,
        ecfg,
        &PushRequest {
            families: vec![f],
            gauge_mode: GaugeMode::Sum,
            group: None,
            ttl_ms: None,
            ttl_by_prefix: Vec::new(),
            idempotency_key: None,
            now_ms: now,
            nonce: now as u64,
        },
    )
    .unwrap();
}

fn setup(sem: Semantics) -> (MemoryStore, engine::EngineConfig) {
    let backend = match sem {
        Semantics::Redis => Backend::Redis,
        Semantics::NoAtomics => Backend::Cloud,
        _ => Backend::Sqlite,
    };
    (
        MemoryStore::new(sem),
        engine::EngineConfig::for_backend(backend),
    )
}

#[test]
fn pushes_every_series_with_sorted_labels_and_one_timestamp() {
    for sem in [Semantics::Sqlite, Semantics::Redis, Semantics::NoAtomics] {
        let (store, ecfg) = setup(sem);
        push_counter(&store, &ecfg, "a_total", 2.0, T0 - 100);
        push_counter(&store, &ecfg, "a_total", 3.0, T0 - 50);
        push_counter(&store, &ecfg, "b_total", 1.0, T0 - 10);
        let mut t = Fake::new(vec![]);
        let r = run(&store, &ecfg, &cfg(), &mut t, Trigger::Cron).unwrap();
        assert_eq!(r.error, None, "{sem:?}");
        assert_eq!((r.series, r.samples, r.batches), (2, 2, 1));
        assert_eq!(r.fold.applied, 3);
        let req = &t.sent[0];
        assert!(req
            .headers
            .contains(&("Content-Encoding".into(), "snappy".into())));
        assert!(req
            .headers
            .contains(&("X-Prometheus-Remote-Write-Version".into(), "0.1.0".into())));
        let wr = decode_v1(&req.body).unwrap();
        let first = &wr.timeseries[0];
        let names: Vec<&str> = first.labels.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["__name__", "instance", "job"]);
        assert_eq!(first.labels[0].value, "a_total");
        assert_eq!(first.samples[0].value, 5.0);
        let ts = first.samples[0].timestamp;
        assert!(wr.timeseries.iter().all(|s| s.samples[0].timestamp == ts));
    }
}

#[test]
fn retries_5xx_and_429_with_retry_after_then_succeeds() {
    let (store, ecfg) = setup(Semantics::Sqlite);
    push_counter(&store, &ecfg, "a_total", 1.0, T0 - 1);
    let mut ra = HttpResponse {
        status: 429,
        ..HttpResponse::default()
    };
    ra.headers.push(("retry-after".into(), "2".into()));
    let mut t = Fake::new(vec![
        status(500),
        Ok(ra),
        Err("refused".into()),
        status(204),
    ]);
    let r = run(&store, &ecfg, &cfg(), &mut t, Trigger::Cron).unwrap();
    assert_eq!(r.error, None);
    assert_eq!(r.retries, 3);
    assert_eq!(t.sent.len(), 4);
    assert!(t.slept[1] >= 2000, "Retry-After honoured: {:?}", t.slept);
    let meta = engine::load(&store, &ecfg).unwrap().meta;
    assert!(meta.rw_last_success_ms > 0);
    assert_eq!(meta.rw_samples_total, 1);
}

#[test]
fn a_4xx_is_final_and_the_next_run_sends_again() {
    let (store, ecfg) = setup(Semantics::Sqlite);
    push_counter(&store, &ecfg, "a_total", 1.0, T0 - 1);
    let mut t = Fake::new(vec![status(400)]);
    let r = run(&store, &ecfg, &cfg(), &mut t, Trigger::Cron).unwrap();
    assert_eq!(t.sent.len(), 1, "no retry of a 400");
    assert!(r.error.as_deref().unwrap().contains("400"));
    let meta = engine::load(&store, &ecfg).unwrap().meta;
    assert_eq!(meta.rw_failures[0].reason, "http_4xx");
    assert_eq!(meta.rw_failures[0].count, 1);
    // next interval: everything is sent again
    t.now = T0 + 10_000;
    let r = run(&store, &ecfg, &cfg(), &mut t, Trigger::Cron).unwrap();
    assert_eq!((r.error, r.samples), (None, 1));
}

#[test]
fn retries_stop_at_the_deadline() {
    let (store, ecfg) = setup(Semantics::Sqlite);
    push_counter(&store, &ecfg, "a_total", 1.0, T0 - 1);
    let mut t = Fake::new((0..100).map(|_| status(503)).collect());
    let r = run(&store, &ecfg, &cfg(), &mut t, Trigger::Cron).unwrap();
    assert!(r.error.is_some());
    assert!(
        t.now < T0 + 7_500,
        "stopped before the deadline: {}",
        t.now - T0
    );
    let meta = engine::load(&store, &ecfg).unwrap().meta;
    assert_eq!(meta.rw_failures[0].reason, "http_5xx");
}

#[test]
fn one_run_per_interval_and_on_demand_waits_for_the_window() {
    let (store, ecfg) = setup(Semantics::Redis);
    let mut t = Fake::new(vec![]);
    let r1 = run(&store, &ecfg, &cfg(), &mut t, Trigger::Cron).unwrap();
    assert_eq!(r1.skipped, None);
    let r2 = run(&store, &ecfg, &cfg(), &mut t, Trigger::Cron).unwrap();
    assert_eq!(
        r2.skipped.as_deref(),
        Some("another run holds this interval's lease")
    );
    t.now = T0 + 6_000; // second half of the interval
    let r3 = run(&store, &ecfg, &cfg(), &mut t, Trigger::OnDemand).unwrap();
    assert_eq!(r3.skipped, None);
    assert_eq!(t.slept, vec![4_020], "waited for the next window");
}

#[test]
fn deleted_series_get_one_staleness_marker() {
    let (store, ecfg) = setup(Semantics::Sqlite);
    push_counter(&store, &ecfg, "gone_total", 1.0, T0 - 10);
    let mut t = Fake::new(vec![]);
    run(&store, &ecfg, &cfg(), &mut t, Trigger::Cron).unwrap();
    engine::delete(&store, &ecfg, &Selector::All, T0 + 9_000, 9).unwrap();
    t.now = T0 + 10_000;
    let r = run(&store, &ecfg, &cfg(), &mut t, Trigger::Cron).unwrap();
    assert_eq!(r.samples, 1);
    let wr = decode_v1(&t.sent[1].body).unwrap();
    assert!(is_stale_nan(wr.timeseries[0].samples[0].value));
    t.now = T0 + 20_000;
    let r = run(&store, &ecfg, &cfg(), &mut t, Trigger::Cron).unwrap();
    assert_eq!(r.samples, 0, "marker sent once");
}

#[test]
fn auth_headers_and_v2() {
    let (store, ecfg) = setup(Semantics::Sqlite);
    push_counter(&store, &ecfg, "a_total", 1.0, T0 - 1);
    let mut c = cfg();
    c.user = Some("23333".into());
    c.token = Some("xxyy".into());
    c.protocol = Protocol::V2;
    let mut t = Fake::new(vec![]);
    run(&store, &ecfg, &c, &mut t, Trigger::Cron).unwrap();
    let req = &t.sent[0];
    assert!(req
        .headers
        .contains(&("Authorization".into(), "Basic MjMzMzM6eHh5eQ==".into())));
    assert!(req
        .headers
        .iter()
        .any(|(k, v)| k == "Content-Type" && v.contains("io.prometheus.write.v2.Request")));
    let v2 = decode_v2(&req.body).unwrap();
    assert_eq!(v2.timeseries.len(), 1);
    c.user = None;
    t.now = T0 + 10_000;
    push_counter(&store, &ecfg, "a_total", 1.0, t.now - 1);
    run(&store, &ecfg, &c, &mut t, Trigger::Cron).unwrap();
    assert!(t.sent[1]
        .headers
        .contains(&("Authorization".into(), "Bearer xxyy".into())));
}

#[test]
fn no_endpoint_only_folds() {
    let (store, ecfg) = setup(Semantics::Sqlite);
    push_counter(&store, &ecfg, "a_total", 1.0, T0 - 1);
    let mut c = cfg();
    c.endpoint = None;
    let mut t = Fake::new(vec![]);
    let r = run(&store, &ecfg, &c, &mut t, Trigger::Cron).unwrap();
    assert!(r.skipped.unwrap().contains("no remote_write endpoint"));
    assert_eq!(r.fold.applied, 1);
    assert!(t.sent.is_empty());
}

#[test]
fn a_fold_that_fails_on_the_store_is_retried_within_the_run() {
    let (store, ecfg) = setup(Semantics::Sqlite);
    push_counter(&store, &ecfg, "a_total", 1.0, T0 - 1);
    // Call 1 is the lease increment; call 2 (the fold's listing) fails once.
    store.fail_nth_call(2);
    let mut t = Fake::new(vec![]);
    let r = run(&store, &ecfg, &cfg(), &mut t, Trigger::Cron).unwrap();
    assert_eq!(r.retries, 1);
    assert_eq!((r.error, r.samples), (None, 1));
}

#[test]
fn on_demand_waits_for_the_next_interval_when_this_one_had_its_run() {
    let (store, ecfg) = setup(Semantics::Sqlite);
    let mut t = Fake::new(vec![]);
    run(&store, &ecfg, &cfg(), &mut t, Trigger::Cron).unwrap();
    t.now = T0 + 1_000;
    let r = run(&store, &ecfg, &cfg(), &mut t, Trigger::OnDemand).unwrap();
    assert_eq!(r.skipped, None);
    assert_eq!(t.slept, vec![9_020]);
}

#[test]
fn on_demand_waits_at_most_two_interval_starts() {
    use crate::engine::keys::lease_key;
    use crate::store::Store;
    let (store, ecfg) = setup(Semantics::Sqlite);
    let epoch = T0 / 10_000;
    for e in [epoch, epoch + 1] {
        store.increment(&lease_key(e), 1).unwrap();
    }
    let mut t = Fake::new(vec![]);
    t.now = T0 + 1_000;
    let r = run(&store, &ecfg, &cfg(), &mut t, Trigger::OnDemand).unwrap();
    assert_eq!(r.skipped, None, "got the third interval");
    assert_eq!(t.slept, vec![9_020, 10_000]);
    store.increment(&lease_key(epoch + 3), 1).unwrap();
    store.increment(&lease_key(epoch + 4), 1).unwrap();
    store.increment(&lease_key(epoch + 5), 1).unwrap();
    t.now = T0 + 30_500;
    let r = run(&store, &ecfg, &cfg(), &mut t, Trigger::OnDemand).unwrap();
    assert_eq!(
        r.skipped.as_deref(),
        Some("another run holds this interval's lease")
    );
}
