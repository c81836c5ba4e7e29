//! Pusher run tests with a scripted transport and a fake clock.

use std::collections::VecDeque;

use super::*;
use crate::aggregate::GaugeMode;
use crate::engine::{self, Backend, PushRequest, Selector};
use crate::model::{Labels, MetricFamily, MetricType, SampleValue, Series};
use crate::remote_write::{decode_v1, decode_v2, is_stale_nan};
use crate::store::memory::{MemoryStore, Semantics};

const T0: i64 = 1_700_000_000_000;
/// With a 10 s interval, the lease of the run starting at `T0` ends here.
const DEADLINE: i64 = T0 + 7_500;
/// A scripted transport error that takes the attempt's whole timeout.
const TIMEOUT: &str = "timeout";

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
        let answer = self.script.pop_front().unwrap_or_else(|| status(200));
        // A scripted "timeout" is a receiver that never answers: the attempt takes all of
        // its timeout, as the real transport's would.
        self.now += match &answer {
            Err(e) if e == TIMEOUT => req.timeout_ms as i64,
            _ => 5,
        };
        answer
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
            gauge_mode: engine::GaugeChoice::Asked(GaugeMode::Sum),
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

fn with_headers(s: u16, headers: &[(&str, &str)]) -> Result<HttpResponse, String> {
    Ok(HttpResponse {
        status: s,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: b"from the receiver".to_vec(),
    })
}

const SAMPLES_WRITTEN: &str = "x-prometheus-remote-write-samples-written";

fn v2_cfg(max_samples_per_batch: usize) -> PushConfig {
    PushConfig {
        protocol: Protocol::V2,
        max_samples_per_batch,
        ..cfg()
    }
}

fn failures(store: &MemoryStore, ecfg: &engine::EngineConfig) -> Vec<(String, u64)> {
    engine::load(store, ecfg)
        .unwrap()
        .meta
        .rw_failures
        .iter()
        .map(|f| (f.reason.clone(), f.count))
        .collect()
}

#[test]
fn v2_written_headers_are_summed_into_the_report() {
    let (store, ecfg) = setup(Semantics::Sqlite);
    push_counter(&store, &ecfg, "a_total", 1.0, T0 - 3);
    push_counter(&store, &ecfg, "b_total", 1.0, T0 - 2);
    push_counter(&store, &ecfg, "c_total", 1.0, T0 - 1);
    let mut t = Fake::new(vec![
        with_headers(
            204,
            &[
                (SAMPLES_WRITTEN, "2"),
                ("X-Prometheus-Remote-Write-Histograms-Written", "0"),
                ("X-Prometheus-Remote-Write-Exemplars-Written", "0"),
            ],
        ),
        with_headers(200, &[(SAMPLES_WRITTEN, "1")]),
    ]);
    let r = run(&store, &ecfg, &v2_cfg(2), &mut t, Trigger::Cron).unwrap();
    assert_eq!(r.error, None);
    assert_eq!((r.batches, r.samples), (2, 3));
    assert_eq!(r.samples_written, Some(3));
    assert_eq!(
        r.histograms_written,
        Some(0),
        "a missing header counts as 0"
    );
    assert_eq!(r.exemplars_written, Some(0));
    let text = r.to_text();
    assert!(text.contains("samples_written=3\n"), "{text}");
    assert!(text.contains("histograms_written=0\n"), "{text}");
    assert!(failures(&store, &ecfg).is_empty());
    assert!(engine::load(&store, &ecfg).unwrap().meta.rw_last_success_ms > 0);
}

#[test]
fn v1_reads_no_written_headers() {
    let (store, ecfg) = setup(Semantics::Sqlite);
    push_counter(&store, &ecfg, "a_total", 1.0, T0 - 1);
    // A 1.0 receiver sends no headers: that confirms nothing and is no failure either.
    let mut t = Fake::new(vec![status(204)]);
    let r = run(&store, &ecfg, &cfg(), &mut t, Trigger::Cron).unwrap();
    assert!(!r.to_text().contains("written"));
    assert_eq!((r.error, r.samples_written), (None, None));
}

#[test]
fn a_v2_shortfall_is_a_reported_partial_write_not_retried() {
    let (store, ecfg) = setup(Semantics::Sqlite);
    push_counter(&store, &ecfg, "a_total", 1.0, T0 - 3);
    push_counter(&store, &ecfg, "b_total", 1.0, T0 - 2);
    push_counter(&store, &ecfg, "c_total", 1.0, T0 - 1);
    let mut t = Fake::new(vec![
        with_headers(200, &[(SAMPLES_WRITTEN, "1")]),
        with_headers(204, &[(SAMPLES_WRITTEN, "1")]),
    ]);
    let r = run(&store, &ecfg, &v2_cfg(2), &mut t, Trigger::Cron).unwrap();
    assert_eq!(t.sent.len(), 2, "no retry, and the next batch still went");
    assert_eq!(r.retries, 0);
    assert_eq!(r.samples_written, Some(2));
    assert_eq!(r.samples, 3);
    assert_eq!(
        r.error.as_deref(),
        Some(
            "partial write: receiver answered 200 but wrote 1 of 2 samples \
             (X-Prometheus-Remote-Write-Samples-Written)"
        )
    );
    assert!(r.to_text().contains("error=partial write"));
    assert_eq!(failures(&store, &ecfg), [("partial_write".to_string(), 1)]);
    let meta = engine::load(&store, &ecfg).unwrap().meta;
    assert_eq!(meta.rw_last_success_ms, 0, "not recorded as a success");
    assert!(meta.rw_last_error.starts_with("partial write"));
}

#[test]
fn a_v2_2xx_without_written_headers_is_taken_as_415() {
    let (store, ecfg) = setup(Semantics::Sqlite);
    push_counter(&store, &ecfg, "a_total", 1.0, T0 - 2);
    push_counter(&store, &ecfg, "b_total", 1.0, T0 - 1);
    let mut t = Fake::new(vec![status(204)]);
    let r = run(&store, &ecfg, &v2_cfg(1), &mut t, Trigger::Cron).unwrap();
    assert_eq!(
        t.sent.len(),
        1,
        "as for any 4xx: no retry, no further batch"
    );
    let err = r.error.unwrap();
    assert!(
        err.contains("415") && err.contains("remote_write_version=1"),
        "{err}"
    );
    assert_eq!((r.batches, r.samples, r.samples_written), (0, 0, None));
    assert_eq!(failures(&store, &ecfg), [("http_4xx".to_string(), 1)]);
    assert_eq!(
        engine::load(&store, &ecfg).unwrap().meta.rw_samples_total,
        0
    );
}

#[test]
fn a_malformed_written_header_is_reported() {
    let (store, ecfg) = setup(Semantics::Sqlite);
    push_counter(&store, &ecfg, "a_total", 1.0, T0 - 1);
    let mut t = Fake::new(vec![with_headers(204, &[(SAMPLES_WRITTEN, "1.0")])]);
    let r = run(&store, &ecfg, &v2_cfg(10), &mut t, Trigger::Cron).unwrap();
    assert_eq!(t.sent.len(), 1);
    assert!(
        r.error
            .as_deref()
            .unwrap()
            .contains("X-Prometheus-Remote-Write-Samples-Written: \"1.0\""),
        "{:?}",
        r.error
    );
    assert_eq!(
        failures(&store, &ecfg),
        [("written_headers".to_string(), 1)]
    );
}

#[test]
fn attempts_are_clipped_to_the_lease_deadline() {
    let (store, ecfg) = setup(Semantics::Sqlite);
    push_counter(&store, &ecfg, "a_total", 1.0, T0 - 1);
    let mut c = cfg();
    c.timeout_ms = 3_000;
    // Every attempt hangs for its whole timeout.
    let mut t = Fake::new((0..100).map(|_| Err(TIMEOUT.to_string())).collect());
    let r = run(&store, &ecfg, &c, &mut t, Trigger::Cron).unwrap();
    let timeouts: Vec<u64> = t.sent.iter().map(|r| r.timeout_ms).collect();
    assert_eq!(timeouts[..2], [3_000, 3_000], "{timeouts:?}");
    let last = *timeouts.last().unwrap();
    assert!(
        last < 3_000,
        "the last attempt got what was left: {timeouts:?}"
    );
    assert!(
        t.now <= DEADLINE,
        "overran the lease by {} ms",
        t.now - DEADLINE
    );
    assert_eq!(
        r.error.as_deref(),
        Some("receiver unreachable: timeout"),
        "{timeouts:?}"
    );
    // 3 s, 187 ms backoff, 3 s, 375 ms backoff, then the 938 ms left.
    assert_eq!(timeouts, [3_000, 3_000, 938]);
}

#[test]
fn a_timeout_longer_than_the_lease_is_clipped_from_the_first_attempt() {
    let (store, ecfg) = setup(Semantics::Sqlite);
    push_counter(&store, &ecfg, "a_total", 1.0, T0 - 1);
    let mut c = cfg();
    c.timeout_ms = 60_000;
    let mut t = Fake::new(vec![Err(TIMEOUT.to_string())]);
    let r = run(&store, &ecfg, &c, &mut t, Trigger::Cron).unwrap();
    assert_eq!(t.sent.len(), 1);
    assert_eq!(t.sent[0].timeout_ms, 7_500, "all that is left of the lease");
    assert_eq!(t.now, DEADLINE);
    assert_eq!(r.error.as_deref(), Some("receiver unreachable: timeout"));
    let meta = engine::load(&store, &ecfg).unwrap().meta;
    assert_eq!(
        meta.rw_failures.len(),
        0,
        "past the deadline meta is left alone"
    );
}

#[test]
fn retry_after_as_an_http_date_is_read_against_the_run_clock() {
    use std::time::{Duration, UNIX_EPOCH};
    let (store, ecfg) = setup(Semantics::Sqlite);
    push_counter(&store, &ecfg, "a_total", 1.0, T0 - 1);
    let at = |ms: i64| httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_millis(ms as u64));
    let retry_at = at(T0 + 3_000);
    let too_late = at(T0 + 60_000);
    let mut t = Fake::new(vec![
        with_headers(503, &[("retry-after", &retry_at)]),
        status(204),
    ]);
    let r = run(&store, &ecfg, &cfg(), &mut t, Trigger::Cron).unwrap();
    assert_eq!(r.error, None);
    // The answer came at T0 + 5: the date is 2,995 ms away.
    assert_eq!(t.slept, [2_995]);
    assert_eq!(t.sent.len(), 2);
    // A date beyond the lease ends the run instead of sleeping through it.
    t.now = T0 + 10_000;
    push_counter(&store, &ecfg, "a_total", 1.0, t.now - 1);
    let mut t2 = Fake::new(vec![with_headers(429, &[("retry-after", &too_late)])]);
    t2.now = t.now;
    let r = run(&store, &ecfg, &cfg(), &mut t2, Trigger::Cron).unwrap();
    assert!(t2.slept.is_empty());
    assert_eq!(t2.sent.len(), 1);
    assert!(r.error.unwrap().contains("429"));
}

#[test]
fn expired_series_get_one_staleness_marker() {
    let (store, ecfg) = setup(Semantics::Sqlite);
    let mut f = MetricFamily::new("batch_rows", MetricType::Gauge);
    f.series.push(Series {
        labels: Labels::new(vec![("job".into(), "x".into())]).unwrap(),
        value: SampleValue::Gauge(7.0),
        timestamp_ms: None,
        created: None,
    });
    let request = PushRequest {
        families: vec![f],
        gauge_mode: GaugeMode::Last.into(),
        group: None,
        ttl_ms: None,
        ttl_by_prefix: vec![("batch_".into(), 15_000)],
        idempotency_key: None,
        now_ms: T0 - 10,
        nonce: 1,
    };
    engine::push(&store, &ecfg, &request).unwrap();
    push_counter(&store, &ecfg, "kept_total", 1.0, T0 - 5);
    let mut t = Fake::new(vec![]);
    let r = run(&store, &ecfg, &cfg(), &mut t, Trigger::Cron).unwrap();
    assert_eq!(r.samples, 2);
    // Not yet expired at T0 + 10 s; expired (pushed at T0 - 10, TTL 15 s) by T0 + 20 s.
    t.now = T0 + 10_000;
    let r = run(&store, &ecfg, &cfg(), &mut t, Trigger::Cron).unwrap();
    assert_eq!((r.samples, r.fold.removed), (2, 0));
    t.now = T0 + 20_000;
    let r = run(&store, &ecfg, &cfg(), &mut t, Trigger::Cron).unwrap();
    assert_eq!((r.samples, r.fold.removed), (2, 1));
    let wr = decode_v1(&t.sent.last().unwrap().body).unwrap();
    let marker = wr
        .timeseries
        .iter()
        .find(|s| s.labels[0].value == "batch_rows")
        .expect("a marker for the expired series");
    assert!(is_stale_nan(marker.samples[0].value));
    let kept = wr
        .timeseries
        .iter()
        .find(|s| s.labels[0].value == "kept_total")
        .unwrap();
    assert_eq!(kept.samples[0].value, 1.0);
    t.now = T0 + 30_000;
    let r = run(&store, &ecfg, &cfg(), &mut t, Trigger::Cron).unwrap();
    assert_eq!(r.samples, 1, "marker sent once; the live series still sent");
    let wr = decode_v1(&t.sent.last().unwrap().body).unwrap();
    assert!(wr
        .timeseries
        .iter()
        .all(|s| s.labels[0].value == "kept_total"));
}
