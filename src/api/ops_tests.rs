//! Operability tests: status page, Pushgateway JSON API, self-metrics and rejection counters.

use std::sync::atomic::Ordering;

use http::{Method, Request, Response};
use prost::Message;
use serde_json::{json, Value};

use super::*;
use crate::engine::keys::{self, META};
use crate::engine::record::{PbLabelCount, PbMeta};
use crate::engine::{fold, Backend, EngineConfig};
use crate::store::memory::{MemoryStore, Semantics};
use crate::store::Store;

const T0: i64 = 1_700_000_000_000;

/// A gateway over an in-memory store, with a clock that advances 1 s per request.
pub(super) struct Gw {
    pub(super) store: MemoryStore,
    pub(super) cfg: ApiConfig,
    t: std::cell::Cell<i64>,
}

impl Gw {
    pub(super) fn new(sem: Semantics) -> Self {
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
            t: std::cell::Cell::new(T0),
        }
    }

    pub(super) fn send(
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
        self.t.set(self.t.get() + 1000);
        let ctx = Ctx {
            now_ms: self.t.get(),
            nonce: self.t.get() as u64,
        };
        handle(&self.store, &self.cfg, &ctx, &req)
    }

    pub(super) fn ok(&self, method: Method, uri: &str, body: &str) -> String {
        let r = self.send(method.clone(), uri, &[], body);
        let text = String::from_utf8(r.body().clone()).unwrap();
        assert!(
            r.status().is_success(),
            "{method} {uri}: {} {text}",
            r.status()
        );
        text
    }

    fn get(&self, uri: &str) -> String {
        self.ok(Method::GET, uri, "")
    }

    fn json(&self, uri: &str) -> Value {
        let r = self.send(Method::GET, uri, &[], "");
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/json");
        serde_json::from_slice(r.body()).unwrap()
    }

    pub(super) fn fold(&self) {
        fold(
            &self.store,
            &self.cfg.engine,
            &|| self.t.get(),
            i64::MAX,
            None,
        )
        .unwrap();
    }

    fn commits(&self) -> u64 {
        self.store.counters.commits.load(Ordering::SeqCst)
    }

    fn calls(&self) -> u64 {
        self.store.counters.calls.load(Ordering::SeqCst)
    }

    /// Edits the stored meta as the pusher would after a run.
    fn edit_meta(&self, f: impl FnOnce(&mut PbMeta)) {
        let mut meta: PbMeta = self
            .store
            .get(META)
            .unwrap()
            .map(|b| PbMeta::decode(b.as_slice()).unwrap())
            .unwrap_or_default();
        f(&mut meta);
        self.store.set(META, &meta.encode_to_vec()).unwrap();
    }
}

/// The value of the sample line `series` in a text exposition.
fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition.lines().find_map(|l| {
        let (name, v) = l.rsplit_once(' ')?;
        (name == series).then(|| v.parse().unwrap())
    })
}

const MIXED: &str = "# TYPE req_total counter
# HELP req_total Requests <b>served</b> & \"counted\".
req_total{code=\"200\"} 3
req_total{code=\"500\"} 1
# TYPE lat histogram
lat_bucket{le=\"0.5\"} 1
lat_bucket{le=\"1e+06\"} 2
lat_bucket{le=\"+Inf\"} 2
lat_sum 1.25
lat_count 2
# TYPE rpc summary
rpc{quantile=\"0.99\"} 0.2
rpc_sum 7.5
rpc_count 1000000
";

#[test]
fn self_metrics_follow_pushes_folds_and_rejections() {
    let gw = Gw::new(Semantics::Sqlite);
    gw.ok(Method::POST, "/metrics", MIXED);
    gw.ok(Method::PATCH, "/metrics/jobs_total?kind=a", "");
    gw.ok(
        Method::PUT,
        "/metrics/job/backup/instance/h1",
        "# TYPE done gauge\ndone 1\n",
    );
    let m = gw.get("/metrics");
    // 2 req_total + lat + rpc + jobs_total + done + push_time + push_failure_time
    assert_eq!(sample(&m, "promagg_series"), Some(8.0), "{m}");
    assert_eq!(sample(&m, "promagg_families"), Some(7.0), "{m}");
    assert_eq!(sample(&m, "promagg_pending_writes"), Some(3.0), "{m}");
    assert_eq!(
        sample(&m, "promagg_pushes_total"),
        Some(3.0),
        "pending pushes count: {m}"
    );
    assert_eq!(sample(&m, "promagg_last_fold_timestamp_seconds"), Some(0.0));
    assert_eq!(sample(&m, "promagg_fold_conflicts_total"), Some(0.0));
    assert!(!m.contains("promagg_rejections_total{"), "none yet: {m}");
    assert!(m.contains("# TYPE promagg_pushes_total counter\n"), "{m}");
    assert!(m.contains("# HELP promagg_series "), "{m}");

    gw.fold();
    let fold_t = gw.t.get();
    let m = gw.get("/metrics");
    assert_eq!(sample(&m, "promagg_pending_writes"), Some(0.0));
    assert_eq!(
        sample(&m, "promagg_pushes_total"),
        Some(3.0),
        "counted once, by the fold"
    );
    assert_eq!(
        sample(&m, "promagg_last_fold_timestamp_seconds"),
        Some(fold_t as f64 / 1000.0)
    );
    gw.ok(Method::PATCH, "/metrics/jobs_total?kind=a", "");
    gw.ok(Method::DELETE, "/metrics/jobs_total?kind=zzz", "");
    gw.ok(Method::DELETE, "/metrics/req_total?code=500", "");
    let m = gw.get("/metrics");
    assert_eq!(
        sample(&m, "promagg_pushes_total"),
        Some(4.0),
        "deletes are not pushes"
    );
    assert_eq!(sample(&m, "promagg_series"), Some(7.0));
    gw.fold();
    assert_eq!(
        sample(&gw.get("/metrics"), "promagg_pushes_total"),
        Some(4.0)
    );

    // Rejections by reason.
    for (method, uri, body) in [
        (Method::POST, "/metrics", "bad{ 1\n"),
        (Method::POST, "/metrics", "x 1\ny{ 2\n"),
        (
            Method::POST,
            "/metrics",
            "# TYPE req_total gauge\nreq_total 1\n",
        ),
        (Method::GET, "/nope", ""),
        (Method::POST, "/metrics?ttl=soon", "x 1\n"),
        (Method::POST, "/metrics", "promagg_series 5\n"),
    ] {
        assert!(gw.send(method, uri, &[], body).status().is_client_error());
    }
    let m = gw.get("/metrics");
    assert_eq!(
        sample(&m, "promagg_rejections_total{reason=\"parse\"}"),
        Some(2.0),
        "{m}"
    );
    assert_eq!(
        sample(&m, "promagg_rejections_total{reason=\"conflict\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(&m, "promagg_rejections_total{reason=\"not_found\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(&m, "promagg_rejections_total{reason=\"bad_query\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(&m, "promagg_rejections_total{reason=\"bad_request\"}"),
        Some(1.0)
    );
    assert_eq!(sample(&m, "promagg_series"), Some(7.0), "nothing applied");
    assert_eq!(sample(&m, "promagg_pushes_total"), Some(4.0));

    // Remote-write state as the pusher leaves it in meta.
    gw.edit_meta(|meta| {
        meta.rw_last_success_ms = 1_700_000_123_500;
        meta.rw_samples_total = 4321;
        meta.rw_last_duration_s = 0.25;
        meta.rw_failures = vec![
            PbLabelCount {
                reason: "http_5xx".into(),
                count: 3,
            },
            PbLabelCount {
                reason: "transport".into(),
                count: 1,
            },
        ];
    });
    let m = gw.get("/metrics");
    assert_eq!(
        sample(&m, "promagg_remote_write_last_success_timestamp_seconds"),
        Some(1_700_000_123.5)
    );
    assert_eq!(
        sample(&m, "promagg_remote_write_samples_total"),
        Some(4321.0)
    );
    assert_eq!(
        sample(&m, "promagg_remote_write_duration_seconds"),
        Some(0.25)
    );
    assert_eq!(
        sample(
            &m,
            "promagg_remote_write_failures_total{reason=\"http_5xx\"}"
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &m,
            "promagg_remote_write_failures_total{reason=\"transport\"}"
        ),
        Some(1.0)
    );
}

#[test]
fn self_metrics_in_openmetrics_too() {
    let gw = Gw::new(Semantics::Sqlite);
    gw.ok(
        Method::POST,
        "/metrics",
        "# TYPE a_total counter\na_total 1\n",
    );
    let r = gw.send(
        Method::GET,
        "/metrics",
        &[("accept", "application/openmetrics-text; version=1.0.0")],
        "",
    );
    let m = String::from_utf8(r.body().clone()).unwrap();
    assert!(
        m.contains("# TYPE promagg_pushes counter\npromagg_pushes_total 1\n"),
        "{m}"
    );
    assert!(
        m.contains("# TYPE promagg_series gauge\npromagg_series 1\n"),
        "{m}"
    );
    assert!(m.ends_with("# EOF\n"), "{m}");
}

#[test]
fn reserved_prefix_is_refused_with_a_clear_400() {
    let gw = Gw::new(Semantics::Sqlite);
    let before = gw.store.dump();
    for (method, uri, body) in [
        (Method::POST, "/metrics", "promagg_series 5\n"),
        (
            Method::PUT,
            "/metrics/job/j",
            "# TYPE promagg_pushes_total counter\npromagg_pushes_total 1\n",
        ),
        (Method::PATCH, "/metrics/promagg_x_total", ""),
    ] {
        let r = gw.send(method.clone(), uri, &[], body);
        let text = String::from_utf8(r.body().clone()).unwrap();
        assert_eq!(r.status(), 400, "{method} {uri}: {text}");
        assert!(
            text.contains("reserved for the gateway's own metrics"),
            "{text}"
        );
    }
    let mut after = gw.store.dump();
    assert_eq!(
        after.remove(&keys::rejected_key("bad_request")),
        Some(3i64.to_le_bytes().to_vec())
    );
    assert_eq!(after, before, "only the rejection counter was written");
    gw.ok(Method::POST, "/metrics", "promaggregate 1\n");
}

#[test]
fn rejections_cost_one_increment_and_successes_none() {
    for sem in [Semantics::Sqlite, Semantics::Redis] {
        let gw = Gw::new(sem);
        let c = gw.commits();
        gw.ok(
            Method::POST,
            "/metrics",
            "# TYPE a_total counter\na_total 1\n",
        );
        assert_eq!(
            gw.commits() - c,
            1,
            "{sem:?}: a push is one delta, no stat write"
        );
        let c = gw.commits();
        gw.ok(Method::PATCH, "/metrics/a_total", "");
        assert_eq!(gw.commits() - c, 1, "{sem:?}: PATCH likewise");
        let c = gw.commits();
        gw.get("/metrics");
        gw.get("/");
        gw.get("/api/v1/metrics");
        gw.get("/api/v1/status");
        gw.get("/-/healthy");
        assert_eq!(gw.commits(), c, "{sem:?}: reads write nothing");
        let c = gw.commits();
        assert_eq!(
            gw.send(Method::POST, "/metrics", &[], "a_total{ 1\n")
                .status(),
            400
        );
        assert_eq!(gw.commits() - c, 1, "{sem:?}: a rejection is one increment");
        assert_eq!(
            gw.send(Method::POST, "/metrics", &[], "b{ 1\n").status(),
            400
        );
        let m = gw.get("/metrics");
        assert_eq!(
            sample(&m, "promagg_rejections_total{reason=\"parse\"}"),
            Some(2.0),
            "{sem:?}: {m}"
        );
    }
    // No increment on cloud hosts: a rejection writes nothing at all.
    let gw = Gw::new(Semantics::NoAtomics);
    let c = gw.commits();
    assert_eq!(
        gw.send(Method::POST, "/metrics", &[], "a{ 1\n").status(),
        400
    );
    assert_eq!(gw.send(Method::GET, "/nope", &[], "").status(), 404);
    assert_eq!(gw.commits(), c);
    assert!(!gw.get("/metrics").contains("promagg_rejections_total{"));
}

#[test]
fn server_failures_are_not_counted_as_rejections() {
    let gw = Gw::new(Semantics::Sqlite);
    gw.store.set_unreachable(true);
    assert_eq!(
        gw.send(Method::POST, "/metrics", &[], "x 1\n").status(),
        503
    );
    gw.store.set_unreachable(false);
    assert!(!gw.get("/metrics").contains("promagg_rejections_total{"));
}

#[test]
fn read_routes_cost_one_listing_and_one_batch_read() {
    let gw = Gw::new(Semantics::Sqlite);
    gw.ok(Method::POST, "/metrics", MIXED);
    gw.fold();
    gw.ok(Method::PATCH, "/metrics/jobs_total", "");
    assert_eq!(gw.send(Method::GET, "/nope", &[], "").status(), 404);
    for uri in ["/metrics", "/", "/api/v1/metrics"] {
        let c = gw.calls();
        let body = gw.get(uri);
        assert_eq!(gw.calls() - c, 2, "{uri}: list-keys + get-many");
        assert!(body.contains("jobs_total"), "{uri}");
    }
    let c = gw.calls();
    gw.get("/api/v1/status");
    assert_eq!(gw.calls(), c, "status reads no store");
    // Folded: the stored exposition, in the same two calls.
    gw.fold();
    let c = gw.calls();
    assert!(gw.get("/metrics").contains("jobs_total"));
    assert_eq!(gw.calls() - c, 2, "stored exposition: list-keys + get-many");
}

#[test]
fn status_page_shows_everything_escaped() {
    let mut gw = Gw::new(Semantics::Sqlite);
    gw.cfg.engine.limits.max_total_series = 12_345;
    gw.cfg.default_ttl_ms = Some(900_000);
    gw.ok(Method::POST, "/metrics", MIXED);
    gw.ok(
        Method::PUT,
        "/metrics/job/nightly%3Cbackup%3E/instance/db-1",
        "# TYPE backup_last_success_seconds gauge\n# HELP backup_last_success_seconds <script>alert(1)</script>\nbackup_last_success_seconds 1700000000\n",
    );
    let push_t = gw.t.get();
    let html = gw.get("/");
    assert!(html.starts_with("<!doctype html>"), "{html}");
    assert!(!html.contains("<script"), "nothing unescaped: {html}");
    assert!(!html.contains("<b>served"), "HELP escaped");
    for needle in [
        "<td class=\"name\">req_total</td><td class=\"type\"><span class=\"counter\">counter</span></td><td class=\"num\">2</td><td class=\"help\">Requests &lt;b&gt;served&lt;/b&gt; &amp; &quot;counted&quot;.</td>",
        "<td class=\"name\">lat</td><td class=\"type\"><span class=\"histogram\">histogram</span></td><td class=\"num\">1</td>",
        "<td class=\"name\">rpc</td><td class=\"type\"><span class=\"summary\">summary</span></td>",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "<td class=\"name\">push_time_seconds</td>",
        // The group, its labels escaped, and its last push time.
        "{instance=&quot;db-1&quot;,job=&quot;nightly&lt;backup&gt;&quot;}",
        &super::timefmt::rfc3339(push_t),
        // Pending writes, no fold yet, no remote_write yet, open auth, limits.
        "<div class=\"k\">Pending writes</div><div class=\"v\">2</div>",
        "<div class=\"k\">Last fold</div><div class=\"v\">never</div>",
        "no run recorded",
        "open (no tokens configured)",
        "<div><span class=\"k\">max_total_series</span><span class=\"v\">12345</span></div>",
        "<div><span class=\"k\">default_ttl</span><span class=\"v\">15m</span></div>",
    ] {
        assert!(html.contains(needle), "missing {needle}\n{html}");
    }

    gw.fold();
    assert_eq!(
        gw.send(Method::POST, "/metrics", &[], "x{ 1\n").status(),
        400
    );
    gw.edit_meta(|m| {
        m.rw_last_success_ms = T0;
        m.rw_last_error_ms = gw.t.get();
        m.rw_last_error = "receiver answered 500: <html>oops</html>".into();
        m.rw_samples_total = 77;
        m.rw_failures = vec![PbLabelCount {
            reason: "http_5xx".into(),
            count: 2,
        }];
    });
    let html = gw.get("/");
    for needle in [
        "<div class=\"k\">Pending writes</div><div class=\"v\">0</div>",
        "<div class=\"k\">Last fold</div><div class=\"v\">2 s ago</div>",
        "<span class=\"badge bad\">failing</span>",
        "receiver answered 500: &lt;html&gt;oops&lt;/html&gt;",
        "<dt>Samples sent</dt><dd>77</dd>",
        "http_5xx \u{d7} 2",
        &format!("<dt>Last success</dt><dd>{} (", super::timefmt::rfc3339(T0)),
        "<td class=\"mono\">parse</td><td class=\"num\">1</td>",
    ] {
        assert!(html.contains(needle), "missing {needle}\n{html}");
    }
    assert!(!html.contains("<html>oops"));

    gw.edit_meta(|m| m.rw_last_success_ms = m.rw_last_error_ms + 1);
    assert!(gw
        .get("/")
        .contains("<span class=\"badge ok\">healthy</span>"));
}

#[test]
fn empty_status_page_says_so() {
    let gw = Gw::new(Semantics::Sqlite);
    let html = gw.get("/");
    assert!(html.contains("Nothing stored yet."), "{html}");
    assert!(html.contains("No Pushgateway group"), "{html}");
    let r = gw.send(Method::HEAD, "/", &[], "");
    assert_eq!(r.status(), 200);
    assert!(r.body().is_empty());
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
}

#[test]
fn read_routes_need_the_read_scope_and_only_read() {
    let mut gw = Gw::new(Semantics::Sqlite);
    gw.cfg.auth = AuthConfig::from_lists("r1", "w1", "a1");
    for uri in ["/", "/api/v1/metrics", "/api/v1/status", "/metrics"] {
        let r = gw.send(Method::GET, uri, &[], "");
        assert_eq!(r.status(), 401, "{uri}");
        assert!(r.headers().contains_key("www-authenticate"));
        for token in ["Bearer r1", "Bearer w1", "Bearer a1"] {
            assert_eq!(
                gw.send(Method::GET, uri, &[("authorization", token)], "")
                    .status(),
                200
            );
        }
        let r = gw.send(
            Method::POST,
            uri,
            &[("authorization", "Bearer a1")],
            "x 1\n",
        );
        if uri == "/metrics" {
            assert_eq!(r.status(), 200);
        } else {
            assert_eq!(r.status(), 405, "{uri}");
            assert_eq!(r.headers()["allow"], "GET, HEAD");
        }
    }
    let html = gw.get_with_token("/", "r1");
    assert!(
        html.contains("<span class=\"badge ok\">tokens</span>"),
        "{html}"
    );
    assert!(!html.contains("r1<") && !html.contains("w1<") && !html.contains("a1<"));
    let m = gw.get_with_token("/metrics", "r1");
    assert_eq!(
        sample(&m, "promagg_rejections_total{reason=\"unauthorized\"}"),
        Some(4.0),
        "{m}"
    );
    assert_eq!(
        sample(
            &m,
            "promagg_rejections_total{reason=\"method_not_allowed\"}"
        ),
        Some(3.0)
    );
}

impl Gw {
    fn get_with_token(&self, uri: &str, token: &str) -> String {
        let r = self.send(
            Method::GET,
            uri,
            &[("authorization", &format!("Bearer {token}"))],
            "",
        );
        assert_eq!(r.status(), 200);
        String::from_utf8(r.body().clone()).unwrap()
    }
}

#[test]
fn api_v1_metrics_has_pushgateway_shape() {
    let gw = Gw::new(Semantics::Sqlite);
    gw.ok(Method::PUT, "/metrics/job/batch/instance/n1", MIXED);
    let t_push = gw.t.get();
    assert_eq!(t_push, T0 + 1000, "push_time_seconds below is this time");
    gw.ok(Method::PATCH, "/metrics/ungrouped_total?k=v", "2");
    let t_patch = gw.t.get();
    let v = gw.json("/api/v1/metrics");
    let ts = |ms| Value::String(super::timefmt::rfc3339(ms));
    let gl = json!({"instance": "n1", "job": "batch"});
    let with = |extra: Value| {
        let mut m = gl.as_object().unwrap().clone();
        m.extend(extra.as_object().unwrap().clone());
        Value::Object(m)
    };
    let expected = json!({
        "status": "success",
        "data": [
            {
                "labels": {},
                "last_push_successful": true,
                "ungrouped_total": {
                    "time_stamp": ts(t_patch),
                    "type": "COUNTER",
                    "metrics": [{"labels": {"k": "v"}, "value": "2"}]
                }
            },
            {
                "labels": gl,
                "last_push_successful": true,
                "req_total": {
                    "time_stamp": ts(t_push),
                    "type": "COUNTER",
                    "help": "Requests <b>served</b> & \"counted\".",
                    "metrics": [
                        {"labels": with(json!({"code": "200"})), "value": "3"},
                        {"labels": with(json!({"code": "500"})), "value": "1"}
                    ]
                },
                "lat": {
                    "time_stamp": ts(t_push),
                    "type": "HISTOGRAM",
                    "metrics": [{
                        "labels": gl,
                        "buckets": {"0.5": "1", "1e+06": "2", "+Inf": "2"},
                        "count": "2",
                        "sum": "1.25"
                    }]
                },
                "rpc": {
                    "time_stamp": ts(t_push),
                    "type": "SUMMARY",
                    "metrics": [{
                        "labels": gl,
                        "quantiles": {"0.99": "0.2"},
                        "count": "1000000",
                        "sum": "7.5"
                    }]
                },
                "push_time_seconds": {
                    "time_stamp": ts(t_push),
                    "type": "GAUGE",
                    "help": "Last Unix time when changing this group in the Pushgateway succeeded.",
                    "metrics": [{"labels": gl, "value": "1.700000001e+09"}]
                },
                "push_failure_time_seconds": {
                    "time_stamp": ts(t_push),
                    "type": "GAUGE",
                    "help": "Last Unix time when changing this group in the Pushgateway failed.",
                    "metrics": [{"labels": gl, "value": "0"}]
                }
            }
        ]
    });
    assert_eq!(v, expected, "{}", serde_json::to_string_pretty(&v).unwrap());
}

#[test]
fn api_v1_metrics_groups_sorted_and_failure_reported() {
    let gw = Gw::new(Semantics::Sqlite);
    gw.ok(Method::PUT, "/metrics/job/b", "x 1\n");
    gw.ok(Method::PUT, "/metrics/job/a", "x 2\n");
    let v = gw.json("/api/v1/metrics");
    let jobs: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["labels"]["job"].as_str().unwrap())
        .collect();
    assert_eq!(jobs, ["a", "b"]);
    assert_eq!(v["data"][0]["x"]["type"], "UNTYPED");
    assert_eq!(v["data"][0]["x"]["metrics"][0]["value"], "2");
    assert!(
        v["data"][0]["x"].get("help").is_none(),
        "help omitted when empty"
    );
    assert_eq!(
        gw.json("/api/v1/metrics")["data"].as_array().unwrap().len(),
        2
    );
    let empty = Gw::new(Semantics::Sqlite).json("/api/v1/metrics");
    assert_eq!(empty, json!({"status": "success", "data": []}));
}

#[test]
fn api_v1_status_has_pushgateway_shape() {
    let mut gw = Gw::new(Semantics::Redis);
    gw.cfg.engine.limits.max_families = 77;
    let v = gw.json("/api/v1/status");
    assert_eq!(v["status"], "success");
    let d = &v["data"];
    assert_eq!(d["flags"]["max_families"], "77");
    assert_eq!(d["flags"]["kv_backend"], "redis");
    assert_eq!(d["flags"]["auth"], "open (no tokens configured)");
    assert!(d["flags"]
        .as_object()
        .unwrap()
        .values()
        .all(Value::is_string));
    assert_eq!(d["start_time"], super::timefmt::rfc3339(gw.t.get()));
    assert_eq!(d["build_information"]["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn go_number_formatting_in_json() {
    let gw = Gw::new(Semantics::Sqlite);
    gw.ok(
        Method::POST,
        "/metrics?gauge=last",
        "# TYPE g gauge\ng{k=\"big\"} 1234567\ng{k=\"small\"} 0.00001\ng{k=\"inf\"} +Inf\ng{k=\"nan\"} NaN\ng{k=\"neg\"} -2.5\n",
    );
    let v = gw.json("/api/v1/metrics");
    let vals: Vec<(String, String)> = v["data"][0]["g"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["labels"]["k"].as_str().unwrap().to_string(),
                m["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let get = |k: &str| vals.iter().find(|(a, _)| a == k).unwrap().1.as_str();
    assert_eq!(get("big"), "1.234567e+06");
    assert_eq!(get("small"), "1e-05");
    assert_eq!(get("inf"), "+Inf");
    assert_eq!(get("nan"), "NaN");
    assert_eq!(get("neg"), "-2.5");
}

/// `promtool check metrics` (Prometheus' parser and linter) accepts `/metrics` with the
/// self-metrics. Skipped only when `PROMAGG_SKIP_EXTERNAL=1`; a missing promtool fails.
#[test]
fn promtool_accepts_metrics_with_self_metrics() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    if std::env::var("PROMAGG_SKIP_EXTERNAL").as_deref() == Ok("1") {
        return;
    }
    let gw = Gw::new(Semantics::Sqlite);
    gw.ok(
        Method::PUT,
        "/metrics/job/j",
        MIXED
            .replace(" summary\n", " summary\n# HELP rpc RPCs.\n")
            .replace("# TYPE lat", "# HELP lat Latency.\n# TYPE lat")
            .as_str(),
    );
    assert_eq!(gw.send(Method::GET, "/nope", &[], "").status(), 404);
    gw.edit_meta(|m| {
        m.rw_failures = vec![PbLabelCount {
            reason: "http_4xx".into(),
            count: 1,
        }];
    });
    let body = gw.get("/metrics");
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool not found: install the Debian package prometheus (or set PROMAGG_SKIP_EXTERNAL=1)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let self_problems: Vec<&str> = report.lines().filter(|l| l.contains("promagg_")).collect();
    assert!(self_problems.is_empty(), "{report}\n{body}");
    assert!(out.status.success(), "{report}\n{body}");
}

#[test]
fn reserved_paths_allow_only_their_methods() {
    let gw = Gw::new(Semantics::Sqlite);
    for (method, uri, allow) in [
        (Method::PATCH, "/metrics/__all", "DELETE"),
        (Method::PUT, "/metrics/__all", "DELETE"),
        (Method::PATCH, "/metrics/job/j", "PUT, POST, DELETE"),
        (Method::POST, "/-/healthy", "GET, HEAD"),
        (Method::DELETE, "/-/ready", "GET, HEAD"),
        (Method::TRACE, "/api/v1/status", "GET, HEAD"),
    ] {
        let r = gw.send(method.clone(), uri, &[], "1");
        assert_eq!(r.status(), 405, "{method} {uri}");
        assert_eq!(r.headers()["allow"], allow, "{method} {uri}");
    }
    assert!(
        !gw.get("/metrics").contains("__all"),
        "PATCH /metrics/__all created no counter"
    );
    assert_eq!(gw.get("/-/healthy"), "OK\n");
    assert_eq!(gw.get("/-/ready"), "OK\n");
}

#[test]
fn pushes_are_counted_once_across_a_fold_that_crashed_before_meta() {
    let gw = Gw::new(Semantics::Sqlite);
    gw.ok(
        Method::POST,
        "/metrics",
        "# TYPE a_total counter\na_total 1\n",
    );
    gw.ok(Method::PATCH, "/metrics/a_total", "");
    // Calls of a fold: list, get-many, set-many (shards), set (meta), delete-many (deltas).
    gw.store.fail_nth_call(4);
    assert!(fold(&gw.store, &gw.cfg.engine, &|| gw.t.get(), i64::MAX, None).is_err());
    gw.store.clear_failure();
    let keys = gw.store.dump();
    assert!(
        keys.keys().any(|k| k.starts_with("v1/s/")),
        "shards written"
    );
    assert!(!keys.contains_key(META), "meta not written: {keys:?}");
    let m = gw.get("/metrics");
    assert_eq!(sample(&m, "promagg_pushes_total"), Some(2.0), "{m}");
    assert_eq!(sample(&m, "promagg_pending_writes"), Some(2.0));
    gw.fold();
    let m = gw.get("/metrics");
    assert_eq!(sample(&m, "promagg_pushes_total"), Some(2.0), "{m}");
    assert_eq!(sample(&m, "promagg_pending_writes"), Some(0.0));
    assert_eq!(sample(&m, "a_total"), Some(2.0));
}
