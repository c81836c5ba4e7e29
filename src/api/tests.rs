//! API tests against the quirk-faithful in-memory stores.

use http::{Method, Request, Response};

use super::*;
use crate::engine::{fold, Backend, EngineConfig};
use crate::store::memory::{MemoryStore, Semantics};

struct Gw {
    store: MemoryStore,
    cfg: ApiConfig,
    t: std::cell::Cell<i64>,
}

impl Gw {
    fn new(sem: Semantics) -> Self {
        let backend = match sem {
            Semantics::Redis => Backend::Redis,
            Semantics::NoAtomics => Backend::Cloud,
            _ => Backend::Sqlite,
        };
        Gw {
            store: MemoryStore::new(sem),
            cfg: ApiConfig {
                engine: EngineConfig::for_backend(backend),
                ..ApiConfig::default()
            },
            t: std::cell::Cell::new(1_700_000_000_000),
        }
    }

    fn send(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Response<Vec<u8>> {
        let mut b = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b.body(body.as_bytes().to_vec()).unwrap();
        self.t.set(self.t.get() + 1);
        let ctx = Ctx {
            now_ms: self.t.get(),
            nonce: self.t.get() as u64,
        };
        handle(&self.store, &self.cfg, &ctx, &req)
    }

    fn ok(&self, method: Method, uri: &str, body: &str) -> String {
        let r = self.send(method.clone(), uri, &[], body);
        let text = String::from_utf8(r.body().clone()).unwrap();
        assert!(
            r.status().is_success(),
            "{method} {uri}: {} {text}",
            r.status()
        );
        text
    }

    /// `GET /metrics` without the gateway's own `promagg_*` families.
    fn metrics(&self) -> String {
        user_lines(&self.ok(Method::GET, "/metrics", ""))
    }

    /// The stored keys and values, without the rejection counters (which rejections write).
    fn user_dump(&self) -> std::collections::BTreeMap<String, Vec<u8>> {
        let mut d = self.store.dump();
        d.retain(|k, _| !k.starts_with(crate::engine::keys::REJECTED_PREFIX));
        d
    }

    fn fold(&self) {
        fold(
            &self.store,
            &self.cfg.engine,
            &|| self.t.get(),
            i64::MAX,
            None,
        )
        .unwrap();
    }
}

/// The exposition without the lines of `promagg_*` families.
fn user_lines(exposition: &str) -> String {
    exposition
        .lines()
        .filter(|l| {
            let name = l
                .strip_prefix("# HELP ")
                .or_else(|| l.strip_prefix("# TYPE "))
                .unwrap_or(l);
            !name.starts_with("promagg_")
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

fn status(r: &Response<Vec<u8>>) -> (u16, String) {
    (
        r.status().as_u16(),
        String::from_utf8(r.body().clone()).unwrap(),
    )
}

const README_BODY: &str = "# TYPE some_metric counter
some_metric{label=\"val1\"} 42
# TYPE another_metric gauge
# HELP another_metric Just an example.
another_metric 2398.283
";

#[test]
fn original_readme_examples_aggregate() {
    for sem in [Semantics::Sqlite, Semantics::Redis, Semantics::NoAtomics] {
        let gw = Gw::new(sem);
        gw.ok(Method::PATCH, "/metrics/metric_name?foo=bar", "");
        gw.ok(Method::PATCH, "/metrics/metric_name?foo=bar", "");
        gw.ok(Method::POST, "/metrics", README_BODY);
        gw.fold();
        gw.ok(Method::POST, "/metrics", README_BODY);
        let m = gw.metrics();
        assert!(m.contains("metric_name{foo=\"bar\"} 2\n"), "{m}");
        assert!(m.contains("some_metric{label=\"val1\"} 84\n"), "{m}");
        assert!(m.contains("another_metric 4796.566\n"), "{m}");
        assert!(
            m.contains("# HELP another_metric Just an example.\n"),
            "{m}"
        );
        assert_eq!(
            gw.ok(Method::DELETE, "/metrics/metric_name?foo=bar", ""),
            "deleted 1 series\n"
        );
        assert_eq!(
            gw.ok(Method::DELETE, "/metrics/some_metric", ""),
            "deleted 1 series\n"
        );
        assert_eq!(
            gw.ok(Method::DELETE, "/metrics/__all", ""),
            "deleted 1 series\n"
        );
        assert_eq!(gw.metrics(), "");
    }
}

#[test]
fn patch_adds_the_body_amount_and_validates() {
    let gw = Gw::new(Semantics::Sqlite);
    gw.ok(Method::PATCH, "/metrics/jobs_total?kind=a", "2.5");
    gw.ok(Method::PATCH, "/metrics/jobs_total?kind=a", "");
    assert!(gw.metrics().contains("jobs_total{kind=\"a\"} 3.5\n"));
    let before = gw.user_dump();
    for (uri, body, code, needle) in [
        ("/metrics/jobs_total?kind=a", "-1", 400, "non-negative"),
        ("/metrics/jobs_total?kind=a", "abc", 400, "number"),
        ("/metrics/9bad", "", 400, "invalid metric name"),
        ("/metrics/ok?a=1&a=2", "", 400, "duplicate label"),
        ("/metrics/ok?__x=1", "", 400, "reserved"),
    ] {
        let (s, text) = status(&gw.send(Method::PATCH, uri, &[], body));
        assert_eq!(s, code, "{uri} {body}: {text}");
        assert!(text.contains(needle), "{uri}: {text}");
    }
    assert_eq!(
        gw.user_dump(),
        before,
        "nothing from rejected requests applied"
    );
}

#[test]
fn pushgateway_path_api() {
    let gw = Gw::new(Semantics::Sqlite);
    let body = "# TYPE job_last_success_unixtime gauge\njob_last_success_unixtime 100\n# TYPE done_total counter\ndone_total 1\n";
    let r = gw.send(
        Method::PUT,
        "/metrics/job/backup/instance@base64/aG9zdC8x",
        &[],
        body,
    );
    assert_eq!(status(&r).0, 200);
    let body2 = body.replace(" 100", " 200");
    assert_eq!(
        status(&gw.send(
            Method::POST,
            "/metrics/job/backup/instance@base64/aG9zdC8x",
            &[],
            &body2
        ))
        .0,
        200
    );
    let m = gw.metrics();
    assert!(
        m.contains("job_last_success_unixtime{instance=\"host/1\",job=\"backup\"} 200\n"),
        "{m}"
    );
    assert!(
        m.contains("done_total{instance=\"host/1\",job=\"backup\"} 2\n"),
        "{m}"
    );
    assert!(
        m.contains("push_time_seconds{instance=\"host/1\",job=\"backup\"}"),
        "{m}"
    );
    assert!(
        m.contains("push_failure_time_seconds{instance=\"host/1\",job=\"backup\"} 0\n"),
        "{m}"
    );
    // instance="" is added when the group has none
    gw.ok(Method::POST, "/metrics/job/other", "x_total 1\n");
    assert!(gw
        .metrics()
        .contains("x_total{instance=\"\",job=\"other\"} 1\n"));
    let r = gw.send(
        Method::DELETE,
        "/metrics/job/backup/instance@base64/aG9zdC8x",
        &[],
        "",
    );
    assert_eq!(status(&r).0, 202);
    let m = gw.metrics();
    assert!(!m.contains("backup"), "{m}");
    assert!(m.contains("other"), "{m}");
    let (s, t) = status(&gw.send(Method::PUT, "/metrics/job@base64/=", &[], "x 1\n"));
    assert_eq!((s, t.as_str()), (400, "job name must not be empty\n"));
}

#[test]
fn errors_are_precise_and_apply_nothing() {
    let gw = Gw::new(Semantics::Sqlite);
    gw.ok(Method::POST, "/metrics", "# TYPE c counter\nc 1\n");
    gw.fold();
    let before = gw.user_dump();
    let (s, t) = status(&gw.send(Method::POST, "/metrics", &[], "ok 1\nbad{ 1\n"));
    assert_eq!(s, 400, "{t}");
    assert!(t.contains("line 2"), "{t}");
    let (s, t) = status(&gw.send(Method::POST, "/metrics", &[], "# TYPE c gauge\nc 1\n"));
    assert_eq!(
        (s, t.as_str()),
        (409, "c is stored as a counter, the push sends a gauge\n")
    );
    let (s, _) = status(&gw.send(
        Method::POST,
        "/metrics",
        &[("content-type", "image/png")],
        "x",
    ));
    assert_eq!(s, 415);
    let (s, _) = status(&gw.send(
        Method::POST,
        "/metrics",
        &[("content-encoding", "br")],
        "x 1\n",
    ));
    assert_eq!(s, 415);
    let (s, _) = status(&gw.send(Method::POST, "/metrics?gauge=avg", &[], "g 1\n"));
    assert_eq!(s, 400);
    let r = gw.send(Method::GET, "/metrics/c", &[], "");
    assert_eq!(r.status().as_u16(), 405);
    assert_eq!(r.headers()["allow"], "PATCH, DELETE");
    assert_eq!(status(&gw.send(Method::GET, "/nope", &[], "")).0, 404);
    let (s, t) = status(&gw.send(Method::POST, "/metrics", &[], "t 1 1700000000000\n"));
    assert_eq!(s, 400, "{t}");
    assert!(t.contains("timestamp"), "{t}");
    assert_eq!(
        gw.user_dump(),
        before,
        "nothing from rejected requests applied"
    );
}

#[test]
fn gauge_mode_selection_and_conflict() {
    let gw = Gw::new(Semantics::Sqlite);
    gw.ok(Method::POST, "/metrics?gauge=max", "temp 3\n");
    gw.ok(Method::POST, "/metrics?gauge=max", "temp 1\n");
    assert!(gw.metrics().contains("temp 3\n"));
    gw.fold();
    // A push naming no mode combines the way the series does (max), folded or not.
    gw.ok(Method::POST, "/metrics", "temp 1\n");
    gw.ok(Method::POST, "/metrics", "temp 4\n");
    assert!(gw.metrics().contains("temp 4\n"));
    gw.fold();
    assert!(gw.metrics().contains("temp 4\n"));
    // Only a push asking for another mode is refused.
    let (s, t) = status(&gw.send(Method::POST, "/metrics?gauge=sum", &[], "temp 1\n"));
    assert_eq!(s, 409, "{t}");
    assert!(t.contains("mode max"), "{t}");
}

#[test]
fn openmetrics_negotiation_and_health() {
    let gw = Gw::new(Semantics::Sqlite);
    gw.ok(
        Method::POST,
        "/metrics",
        "# TYPE a_total counter\na_total 1\n",
    );
    let r = gw.send(
        Method::GET,
        "/metrics",
        &[(
            "accept",
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
        )],
        "",
    );
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    assert!(String::from_utf8(r.body().clone())
        .unwrap()
        .ends_with("# EOF\n"));
    assert_eq!(status(&gw.send(Method::GET, "/-/healthy", &[], "")).0, 200);
    assert_eq!(status(&gw.send(Method::GET, "/-/ready", &[], "")).0, 200);
    gw.store.set_unreachable(true);
    assert_eq!(status(&gw.send(Method::GET, "/-/ready", &[], "")).0, 503);
    let r = gw.send(Method::POST, "/metrics", &[], "x 1\n");
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(r.headers()["retry-after"], "5");
}

#[test]
fn idempotency_key_header() {
    let gw = Gw::new(Semantics::Sqlite);
    let h = [("idempotency-key", "run-7")];
    gw.send(
        Method::POST,
        "/metrics",
        &h,
        "# TYPE r_total counter\nr_total 1\n",
    );
    gw.fold();
    let (s, t) = status(&gw.send(
        Method::POST,
        "/metrics",
        &h,
        "# TYPE r_total counter\nr_total 1\n",
    ));
    assert_eq!(s, 200);
    assert!(t.starts_with("already applied"), "{t}");
    assert!(gw.metrics().contains("r_total 1\n"));
}

#[test]
fn ttl_expires_series_at_fold() {
    let gw = Gw::new(Semantics::Sqlite);
    gw.ok(
        Method::POST,
        "/metrics?ttl=1s",
        "# TYPE e_total counter\ne_total 1\n",
    );
    gw.ok(
        Method::POST,
        "/metrics",
        "# TYPE k_total counter\nk_total 1\n",
    );
    gw.fold();
    assert!(gw.metrics().contains("e_total 1\n"));
    gw.t.set(gw.t.get() + 2_000);
    gw.fold();
    let m = gw.metrics();
    assert!(!m.contains("e_total"), "{m}");
    assert!(m.contains("k_total 1\n"), "{m}");
}

#[test]
fn gauge_mode_is_fixed_by_the_first_push_on_the_path_api_too() {
    let gw = Gw::new(Semantics::Sqlite);
    let path = "/metrics/job/j";
    gw.ok(Method::PUT, &format!("{path}?gauge=max"), "peak 5\n");
    // Unfolded, then folded: plain pushes keep max.
    gw.ok(Method::PUT, path, "peak 2\n");
    assert!(gw.metrics().contains("peak{instance=\"\",job=\"j\"} 5\n"));
    gw.fold();
    gw.ok(Method::POST, path, "peak 3\n");
    gw.ok(Method::POST, path, "peak 7\n");
    gw.fold();
    assert!(gw.metrics().contains("peak{instance=\"\",job=\"j\"} 7\n"));
    let (s, t) = status(&gw.send(Method::PUT, &format!("{path}?gauge=last"), &[], "peak 1\n"));
    assert_eq!(s, 409, "{t}");
    assert!(t.contains("mode max"), "{t}");
    // A new series on the path API keeps the last value...
    gw.ok(Method::PUT, path, "state 3\n");
    gw.ok(Method::PUT, path, "state 1\n");
    gw.fold();
    assert!(gw.metrics().contains("state{instance=\"\",job=\"j\"} 1\n"));
    // ...and a plain POST /metrics onto it keeps it too, as POST's sum default is only for new series.
    gw.ok(
        Method::POST,
        "/metrics",
        "state{instance=\"\",job=\"j\"} 6\n",
    );
    gw.fold();
    assert!(gw.metrics().contains("state{instance=\"\",job=\"j\"} 6\n"));
    // A series created by POST (sum) keeps adding when the path API pushes it without ?gauge=.
    gw.ok(
        Method::POST,
        "/metrics",
        "queue{instance=\"\",job=\"q\"} 2\n",
    );
    gw.fold();
    gw.ok(Method::PUT, "/metrics/job/q", "queue 3\n");
    assert!(gw.metrics().contains("queue{instance=\"\",job=\"q\"} 5\n"));
    let (s, t) = status(&gw.send(Method::PUT, "/metrics/job/q?gauge=last", &[], "queue 1\n"));
    assert_eq!(s, 409, "{t}");
    assert!(t.contains("mode sum"), "{t}");
}

#[test]
fn default_ttl_and_prefix_rules_expire_series() {
    let mut gw = Gw::new(Semantics::Sqlite);
    gw.cfg.default_ttl_ms = Some(900_000);
    gw.cfg.ttl_by_prefix = vec![
        ("batch_".into(), 3_600_000),
        ("batch_tmp_".into(), 600_000),
        ("keep_".into(), 0),
    ];
    gw.ok(
        Method::POST,
        "/metrics",
        "batch_rows 1\nbatch_tmp_rows 1\nkeep_rows 1\nplain_rows 1\n",
    );
    gw.ok(Method::POST, "/metrics?ttl=2h", "asked_rows 1\n");
    gw.fold();
    let t0 = gw.t.get();
    let alive = |gw: &Gw, after_ms: i64| {
        gw.t.set(t0 + after_ms);
        gw.fold();
        let m = gw.metrics();
        [
            "batch_rows",
            "batch_tmp_rows",
            "keep_rows",
            "plain_rows",
            "asked_rows",
        ]
        .into_iter()
        .filter(|n| m.contains(&format!("{n} 1\n")))
        .collect::<Vec<_>>()
    };
    assert_eq!(alive(&gw, 500_000).len(), 5);
    assert_eq!(
        alive(&gw, 700_000),
        ["batch_rows", "keep_rows", "plain_rows", "asked_rows"],
        "longest prefix: batch_tmp_ = 10m"
    );
    assert_eq!(
        alive(&gw, 1_000_000),
        ["batch_rows", "keep_rows", "asked_rows"],
        "default 15m"
    );
    assert_eq!(
        alive(&gw, 3_700_000),
        ["keep_rows", "asked_rows"],
        "batch_ = 1h"
    );
    assert_eq!(
        alive(&gw, 7_300_000),
        ["keep_rows"],
        "?ttl=2h; keep_=0 never"
    );
}

#[test]
fn an_expired_group_leaves_the_status_page_with_its_push_time() {
    let mut gw = Gw::new(Semantics::Sqlite);
    gw.cfg.ttl_by_prefix = vec![("batch_".into(), 3_600_000)];
    gw.ok(Method::PUT, "/metrics/job/nightly", "batch_rows 5\n");
    gw.ok(Method::PUT, "/metrics/job/daemon", "up_seconds 5\n");
    gw.fold();
    assert!(gw.ok(Method::GET, "/", "").contains("nightly"));
    gw.t.set(gw.t.get() + 3_600_000);
    gw.fold();
    let m = gw.metrics();
    assert!(!m.contains("nightly"), "{m}");
    assert!(
        m.contains("push_time_seconds{instance=\"\",job=\"daemon\"}"),
        "{m}"
    );
    let page = gw.ok(Method::GET, "/", "");
    assert!(!page.contains("nightly"), "{page}");
    assert!(page.contains("daemon"), "{page}");
}

#[test]
fn path_api_keeps_a_body_instance_and_grouping_labels_win() {
    let gw = Gw::new(Semantics::Sqlite);
    gw.ok(
        Method::POST,
        "/metrics/job/x",
        "m{instance=\"a\"} 1\nm{instance=\"b\"} 2\nn 3\n",
    );
    gw.ok(
        Method::POST,
        "/metrics/job/y/instance/url",
        "o{job=\"body\",instance=\"body\"} 4\n",
    );
    let m = gw.metrics();
    for line in [
        "m{instance=\"a\",job=\"x\"} 1\n",
        "m{instance=\"b\",job=\"x\"} 2\n",
        "n{instance=\"\",job=\"x\"} 3\n",
        "o{instance=\"url\",job=\"y\"} 4\n",
        "push_failure_time_seconds{instance=\"\",job=\"x\"} 0\n",
    ] {
        assert!(m.contains(line), "{line} in {m}");
    }
    assert!(!m.contains("m{instance=\"\""), "{m}");
    assert!(!m.contains("body"), "{m}");
    // The group is the path's: deleting it removes the series whatever their instance.
    let r = gw.send(Method::DELETE, "/metrics/job/x", &[], "");
    assert_eq!(status(&r).0, 202);
    let m = gw.metrics();
    assert!(!m.contains("job=\"x\""), "{m}");
    assert!(m.contains("o{instance=\"url\",job=\"y\"} 4\n"), "{m}");
}

#[test]
fn path_api_base64_padding_and_errors() {
    let gw = Gw::new(Semantics::Sqlite);
    for (i, v) in ["aG9zdA=", "aG9zdA==", "aG9zdA"].iter().enumerate() {
        gw.ok(
            Method::POST,
            &format!("/metrics/job/b/instance@base64/{v}"),
            &format!("# TYPE c{i}_total counter\nc{i}_total 1\n"),
        );
    }
    let m = gw.metrics();
    for i in 0..3 {
        assert!(
            m.contains(&format!("c{i}_total{{instance=\"host\",job=\"b\"}} 1\n")),
            "{i}: {m}"
        );
    }
    let before = gw.user_dump();
    let (s, t) = status(&gw.send(
        Method::POST,
        "/metrics/job/b/instance@base64/aG9zd",
        &[],
        "x 1\n",
    ));
    assert_eq!(s, 400, "{t}");
    assert!(
        t.starts_with("value of \"instance\" is not valid base64url: "),
        "{t}"
    );
    assert_eq!(gw.user_dump(), before, "nothing applied");
}

#[test]
fn path_api_grouping_labels_are_held_to_limits() {
    let mut gw = Gw::new(Semantics::Sqlite);
    gw.cfg.engine.limits.max_labels_per_series = 3;
    gw.cfg.engine.limits.max_label_value_len = 8;
    let before = gw.user_dump();
    let (s, t) = status(&gw.send(Method::POST, "/metrics/job/j/zone/z", &[], "m{a=\"1\"} 1\n"));
    assert_eq!(
        (s, t.as_str()),
        (
            400,
            "series m{a=\"1\",instance=\"\",job=\"j\",zone=\"z\"} has 4 labels, more than max_labels_per_series=3\n"
        )
    );
    let (s, t) = status(&gw.send(Method::POST, "/metrics/job/a_very_long_job", &[], "m 1\n"));
    assert_eq!(
        (s, t.as_str()),
        (
            400,
            "value of label \"job\" is 15 bytes, more than max_label_value_len=8\n"
        )
    );
    assert_eq!(gw.user_dump(), before, "nothing applied");
    // The same body through /metrics fits.
    gw.ok(Method::POST, "/metrics", "m{a=\"1\"} 1\n");
}

#[test]
fn too_many_series_is_413_on_every_write_route() {
    let mut gw = Gw::new(Semantics::Sqlite);
    gw.cfg.engine.limits.max_series_per_request = 2;
    for uri in ["/metrics", "/metrics/job/j"] {
        let (s, t) = status(&gw.send(Method::POST, uri, &[], "a 1\nb 1\nc 1\n"));
        assert_eq!(
            (s, t.as_str()),
            (
                413,
                "request has 3 series, more than max_series_per_request=2\n"
            ),
            "{uri}"
        );
    }
}
