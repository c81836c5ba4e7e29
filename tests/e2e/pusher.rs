//! The pusher component: remote_write to a recording receiver that fails on cue, one pusher at
//! a time across instances, and end to end into a real Prometheus.

use std::time::{Duration, Instant};

use promagg::remote_write::{decode_v1, decode_v2, CONTENT_TYPE_V2};

use crate::receiver::{Receiver, Reply};
use crate::support::{self, load, send, Setup};

fn setup(rx: &Receiver) -> Setup {
    Setup::default()
        .var("prom_endpoint", &rx.url())
        .var("prom_host", &rx.host())
        .var("push_interval", "4s")
        .var("remote_write_timeout", "1s")
}

fn field<'a>(report: &'a str, key: &str) -> &'a str {
    report
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("{key} missing in report:\n{report}"))
}

fn value_of(body: &[u8], name: &str) -> Option<f64> {
    let wr = decode_v1(body).expect("remote_write 1.0 body");
    wr.timeseries
        .iter()
        .find(|ts| {
            ts.labels
                .iter()
                .any(|l| l.name == "__name__" && l.value == name)
        })
        .map(|ts| ts.samples[0].value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pushes_aggregates_with_the_right_headers_and_auth() {
    let rx = Receiver::start().await;
    let dir = support::tempdir();
    let app = load(
        setup(&rx)
            .var("prom_user", "23333")
            .var("prom_token", "xxyy")
            .var("remote_write_extra_labels", "instance=promagg"),
        dir.path(),
    )
    .await;
    for _ in 0..3 {
        assert_eq!(
            send(&app, "PATCH", "/metrics/jobs_total?kind=a", "")
                .await
                .0,
            200
        );
    }
    let body = "# TYPE lat histogram\nlat_bucket{le=\"1\"} 1\nlat_bucket{le=\"+Inf\"} 2\nlat_sum 3\nlat_count 2\n";
    assert_eq!(send(&app, "POST", "/metrics", body).await.0, 200);
    let (status, report) = send(&app, "POST", "/-/push", "").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(field(&report, "samples_sent"), "5", "{report}");
    let reqs = rx.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.header("content-encoding"), Some("snappy"));
    assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
    assert_eq!(r.header("x-prometheus-remote-write-version"), Some("0.1.0"));
    assert!(r.header("user-agent").unwrap().starts_with("promagg/"));
    assert_eq!(r.header("authorization"), Some("Basic MjMzMzM6eHh5eQ=="));
    assert_eq!(value_of(&r.body, "jobs_total"), Some(3.0));
    assert_eq!(value_of(&r.body, "lat_count"), Some(2.0));
    let wr = decode_v1(&r.body).unwrap();
    let jobs = wr
        .timeseries
        .iter()
        .find(|ts| ts.labels[0].value == "jobs_total")
        .unwrap();
    let names: Vec<&str> = jobs.labels.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["__name__", "instance", "kind"]);
    // The gateway shows the pusher's state.
    let (_, metrics) = send(&app, "GET", "/metrics", "").await;
    assert!(metrics.contains("jobs_total{kind=\"a\"} 3"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retries_500_and_429_honouring_retry_after() {
    let rx = Receiver::start().await;
    rx.script([
        Reply::status(500),
        Reply {
            headers: vec![("retry-after", "1".into())],
            ..Reply::status(429)
        },
    ]);
    let dir = support::tempdir();
    // A 10 s interval leaves the run room for a 1 s Retry-After.
    let app = load(setup(&rx).var("push_interval", "10s"), dir.path()).await;
    send(&app, "PATCH", "/metrics/r_total", "").await;
    let (status, report) = send(&app, "POST", "/-/push", "").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(field(&report, "retries"), "2", "{report}");
    let reqs = rx.requests();
    assert_eq!(reqs.len(), 3);
    assert!(
        reqs[2].at - reqs[1].at >= Duration::from_millis(950),
        "Retry-After honoured"
    );
    assert_eq!(value_of(&reqs[2].body, "r_total"), Some(1.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_400_is_not_retried_and_nothing_is_lost() {
    let rx = Receiver::start().await;
    rx.script([Reply::status(400)]);
    let dir = support::tempdir();
    let app = load(setup(&rx), dir.path()).await;
    send(&app, "PATCH", "/metrics/k_total", "").await;
    let (status, report) = send(&app, "POST", "/-/push", "").await;
    assert_eq!(status, 502, "{report}");
    assert!(field(&report, "error").contains("400"), "{report}");
    assert_eq!(rx.requests().len(), 1, "no retry of a 400");
    send(&app, "PATCH", "/metrics/k_total", "").await;
    let (status, report) = send(&app, "POST", "/-/push", "").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(rx.requests().len(), 2, "{report}");
    assert_eq!(
        value_of(&rx.requests()[1].body, "k_total"),
        Some(2.0),
        "cumulative"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_receiver_that_never_answers_times_out_and_is_retried() {
    let rx = Receiver::start().await;
    rx.script([Reply {
        delay: Duration::from_secs(5),
        ..Reply::status(204)
    }]);
    let dir = support::tempdir();
    let app = load(setup(&rx), dir.path()).await;
    send(&app, "PATCH", "/metrics/t_total", "").await;
    let started = Instant::now();
    let (status, report) = send(&app, "POST", "/-/push", "").await;
    assert_eq!(status, 200, "{report}");
    assert!(rx.requests().len() >= 2, "timed out and retried: {report}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "did not wait for the slow answer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_push_one_interval_once() {
    let rx = Receiver::start().await;
    let dir = support::tempdir();
    let a = load(setup(&rx), dir.path()).await;
    let b = load(setup(&rx), dir.path()).await;
    send(&a, "PATCH", "/metrics/once_total", "").await;
    // Both ask at once: one takes this interval's lease, the other waits for the next one.
    let (ra, rb) = tokio::join!(
        send(&a, "POST", "/-/push", ""),
        send(&b, "POST", "/-/push", "")
    );
    assert_eq!((ra.0, rb.0), (200, 200), "{ra:?} {rb:?}");
    let reqs = rx.requests();
    assert_eq!(reqs.len(), 2, "{ra:?} {rb:?}");
    let interval = |r: &crate::receiver::Recorded| {
        decode_v1(&r.body).unwrap().timeseries[0].samples[0].timestamp / 4000
    };
    assert_ne!(
        interval(&reqs[0]),
        interval(&reqs[1]),
        "never two pushes in one interval"
    );
}

/// A real Prometheus (Debian's, with its remote-write receiver) gets the exact values.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_real_prometheus_receives_the_exact_values() {
    let Some(prom) = support::Prometheus::start(&["--web.enable-remote-write-receiver"]).await
    else {
        return;
    };
    let dir = support::tempdir();
    let app = load(
        Setup::default()
            .var("prom_endpoint", &format!("{}/api/v1/write", prom.url()))
            .var("prom_host", &prom.url())
            .var("push_interval", "2s"),
        dir.path(),
    )
    .await;
    for _ in 0..7 {
        send(&app, "PATCH", "/metrics/e2e_total?src=promagg", "").await;
    }
    send(
        &app,
        "POST",
        "/metrics?gauge=max",
        "# TYPE e2e_gauge gauge\ne2e_gauge 41.5\n",
    )
    .await;
    let (status, report) = send(&app, "POST", "/-/push", "").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(prom.query("e2e_total{src=\"promagg\"}").await, Some(7.0));
    assert_eq!(prom.query("e2e_gauge").await, Some(41.5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_guard_both_components() {
    let dir = support::tempdir();
    let app = load(
        Setup::default()
            .var("auth_write_tokens", "w-token")
            .var("auth_admin_tokens", "adm-token")
            .var("push_interval", "2s"),
        dir.path(),
    )
    .await;
    let bearer = |t: &str| format!("Bearer {t}");
    let (w, adm) = (bearer("w-token"), bearer("adm-token"));
    assert_eq!(send(&app, "PATCH", "/metrics/a_total", "").await.0, 401);
    assert_eq!(
        support::send_with(
            &app,
            "PATCH",
            "/metrics/a_total",
            &[("authorization", &w)],
            ""
        )
        .await
        .0,
        200
    );
    assert_eq!(
        send(&app, "GET", "/metrics", "").await.0,
        200,
        "reads are open without read tokens"
    );
    let all = "/metrics/__all";
    assert_eq!(
        support::send_with(&app, "DELETE", all, &[("authorization", &w)], "")
            .await
            .0,
        403
    );
    assert_eq!(send(&app, "POST", "/-/push", "").await.0, 401);
    assert_eq!(
        support::send_with(&app, "POST", "/-/push", &[("authorization", &w)], "")
            .await
            .0,
        403
    );
    let (status, report) =
        support::send_with(&app, "POST", "/-/push", &[("authorization", &adm)], "").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        support::send_with(&app, "DELETE", all, &[("authorization", &adm)], "")
            .await
            .0,
        200
    );
}

/// The value of the series named `name` in a remote_write 2.0 body.
fn value_of_v2(body: &[u8], name: &str) -> Option<f64> {
    let req = decode_v2(body).expect("remote_write 2.0 body");
    req.timeseries
        .iter()
        .find(|ts| {
            ts.labels_refs.chunks(2).any(|pair| {
                req.symbols[pair[0] as usize] == "__name__" && req.symbols[pair[1] as usize] == name
            })
        })
        .map(|ts| ts.samples[0].value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn remote_write_2_reads_the_receivers_written_headers() {
    let rx = Receiver::start_v2().await;
    let dir = support::tempdir();
    let app = load(setup(&rx).var("remote_write_version", "2"), dir.path()).await;
    for _ in 0..2 {
        send(&app, "PATCH", "/metrics/v2_total?kind=a", "").await;
    }
    let body = "# TYPE lat histogram\nlat_bucket{le=\"1\"} 1\nlat_bucket{le=\"+Inf\"} 2\nlat_sum 3\nlat_count 2\n";
    assert_eq!(send(&app, "POST", "/metrics", body).await.0, 200);
    let (status, report) = send(&app, "POST", "/-/push", "").await;
    assert_eq!(status, 200, "{report}");
    let reqs = rx.requests();
    assert_eq!(reqs.len(), 1, "{report}");
    let r = &reqs[0];
    assert_eq!(r.header("content-type"), Some(CONTENT_TYPE_V2));
    assert_eq!(r.header("content-encoding"), Some("snappy"));
    assert_eq!(r.header("x-prometheus-remote-write-version"), Some("2.0.0"));
    assert!(r.header("user-agent").unwrap().starts_with("promagg/"));
    let decoded = decode_v2(&r.body).unwrap();
    assert_eq!(decoded.symbols[0], "", "the symbol table starts with \"\"");
    assert_eq!(value_of_v2(&r.body, "v2_total"), Some(2.0));
    assert_eq!(value_of_v2(&r.body, "lat_count"), Some(2.0));
    assert_eq!(value_of_v2(&r.body, "lat_sum"), Some(3.0));
    let sent: usize = decoded.timeseries.iter().map(|ts| ts.samples.len()).sum();
    assert_eq!(
        sent, 5,
        "a counter, and a histogram's 2 buckets, sum and count"
    );
    // The pusher read the receiver's counts back.
    assert_eq!(field(&report, "samples_sent"), "5", "{report}");
    assert_eq!(field(&report, "samples_written"), "5", "{report}");
    assert_eq!(field(&report, "histograms_written"), "0", "{report}");
    assert_eq!(field(&report, "exemplars_written"), "0", "{report}");
    assert!(!report.contains("error="), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn remote_write_2_reports_a_partial_write_without_retrying() {
    let rx = Receiver::start_v2().await;
    rx.script([Reply {
        headers: vec![("X-Prometheus-Remote-Write-Samples-Written", "1".into())],
        ..Reply::status(200)
    }]);
    let dir = support::tempdir();
    let app = load(setup(&rx).var("remote_write_version", "2"), dir.path()).await;
    send(&app, "PATCH", "/metrics/p_total?x=1", "").await;
    send(&app, "PATCH", "/metrics/p_total?x=2", "").await;
    let (status, report) = send(&app, "POST", "/-/push", "").await;
    assert_eq!(status, 502, "{report}");
    assert!(
        field(&report, "error")
            .starts_with("partial write: receiver answered 200 but wrote 1 of 2"),
        "{report}"
    );
    assert_eq!(field(&report, "samples_written"), "1", "{report}");
    assert_eq!(field(&report, "retries"), "0", "{report}");
    assert_eq!(rx.requests().len(), 1, "a 2xx is not retried");
    // The gateway's own metrics count it under its reason.
    let (_, metrics) = send(&app, "GET", "/metrics", "").await;
    assert!(
        metrics.contains("promagg_remote_write_failures_total{reason=\"partial_write\"} 1"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn remote_write_2_to_a_1_0_receiver_is_taken_as_415() {
    // A 1.0 receiver answers 204 and sends no -Written header.
    let rx = Receiver::start().await;
    let dir = support::tempdir();
    let app = load(setup(&rx).var("remote_write_version", "2"), dir.path()).await;
    send(&app, "PATCH", "/metrics/o_total", "").await;
    let (status, report) = send(&app, "POST", "/-/push", "").await;
    assert_eq!(status, 502, "{report}");
    let error = field(&report, "error");
    assert!(
        error.contains("415") && error.contains("remote_write_version=1"),
        "{report}"
    );
    assert_eq!(rx.requests().len(), 1, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_attempt_never_outlives_the_lease() {
    let rx = Receiver::start().await;
    rx.script([Reply {
        delay: Duration::from_secs(20),
        ..Reply::status(204)
    }]);
    let dir = support::tempdir();
    // A 4 s interval: the lease ends 3 s after the interval's start, well before 30 s.
    let app = load(setup(&rx).var("remote_write_timeout", "30s"), dir.path()).await;
    send(&app, "PATCH", "/metrics/l_total", "").await;
    let (status, report) = send(&app, "POST", "/-/push", "").await;
    let answered = Instant::now();
    assert_eq!(status, 502, "{report}");
    let reqs = rx.requests();
    assert_eq!(reqs.len(), 1, "no time left for a retry: {report}");
    let took = answered - reqs[0].at;
    assert!(
        took < Duration::from_millis(3_500),
        "the attempt ran {took:?}, past the lease: {report}"
    );
    assert!(field(&report, "error").contains("unreachable"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_answer_body_that_never_ends_is_cut_at_the_timeout() {
    let rx = Receiver::start().await;
    rx.script([Reply {
        stall: Duration::from_secs(20),
        ..Reply::status(200)
    }]);
    let dir = support::tempdir();
    let app = load(setup(&rx), dir.path()).await;
    send(&app, "PATCH", "/metrics/b_total", "").await;
    let (status, report) = send(&app, "POST", "/-/push", "").await;
    let answered = Instant::now();
    assert_eq!(
        status, 200,
        "the status was in before the body stalled: {report}"
    );
    assert_eq!(field(&report, "receiver_status"), "200", "{report}");
    let reqs = rx.requests();
    assert_eq!(reqs.len(), 1, "{report}");
    let took = answered - reqs[0].at;
    assert!(
        took < Duration::from_millis(2_500),
        "read the stalled body for {took:?} (remote_write_timeout is 1 s)"
    );
}
