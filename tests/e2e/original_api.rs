//! API compatibility with the original Cloudflare Worker, as a tested contract: every route and
//! every example of `shared/reference/original-worker-README.md`, sent as the HTTP requests its
//! clients send (curl, a Worker's `fetch`), against the real components; after each, the
//! exposition `GET /metrics` serves, line by line (the gateway's own `promagg_*` families
//! aside).
//!
//! README sections, in order: "Simple PATCH counter" and "Aggregated metrics" (Features), the
//! curl examples, the two Workers examples (PATCH with `country` and `anotherLabel`; promjs'
//! `JSON.stringify(registry.metrics())`), the three DELETE forms, and `GET /metrics`.
//!
//! Two parts of that README are covered elsewhere: the remote_write push configured by
//! `SECRET_PROM_ENDPOINT`/`_USER`/`_TOKEN` (here the `prom_*` variables) in `pusher.rs`, and
//! the recommended Service bindings (here Spin's service chaining) in `chaining.rs`.

use std::path::Path;

use spin_test_host::App;

use crate::support::{self, load, root, send_with, Setup};

/// `curl --data-binary @- URL` sends this content type.
const CURL_FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");
/// A Worker's `fetch(url, { body: "<string>" })` sends this content type.
const FETCH_STRING: (&str, &str) = ("content-type", "text/plain;charset=UTF-8");

/// The heredoc body of the README's second curl example, byte for byte.
const README_TEXT_BODY: &str = "# TYPE some_metric counter
some_metric{label=\"val1\"} 42
# TYPE another_metric gauge
# HELP another_metric Just an example.
another_metric 2398.283
";

/// Whether an exposition line belongs to the gateway's own `promagg_*` families (an addition
/// of this gateway; the original served only what clients sent).
fn own_metric(line: &str) -> bool {
    let name = line
        .strip_prefix("# HELP ")
        .or_else(|| line.strip_prefix("# TYPE "))
        .unwrap_or(line);
    name.starts_with("promagg_")
}

/// Lines `GET /metrics` serves now for what clients sent (no blank lines).
async fn exposition(app: &App) -> Vec<String> {
    let (status, body) = send_with(app, "GET", "/metrics", &[], "").await;
    assert_eq!(status, 200, "{body}");
    body.lines()
        .filter(|l| !l.trim().is_empty() && !own_metric(l))
        .map(str::to_string)
        .collect()
}

/// Asserts the exposition is exactly `expected` (order included).
async fn assert_exposition(app: &App, expected: &[&str]) {
    let got = exposition(app).await;
    assert_eq!(got, expected, "GET /metrics served:\n{}", got.join("\n"));
}

async fn ok(app: &App, method: &str, uri: &str, headers: &[(&str, &str)], body: &str) {
    let (status, text) = send_with(app, method, uri, headers, body).await;
    assert_eq!(status, 200, "{method} {uri}: {text}");
}

async fn fresh(dir: &Path) -> std::sync::Arc<App> {
    let app = load(Setup::default(), dir).await;
    assert_exposition(&app, &[]).await;
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_patch_counter_example() {
    let dir = support::tempdir();
    let app = fresh(dir.path()).await;
    // `curl -X PATCH https://worker.example.com/metrics/metric_name?foo=bar` (the README's
    // `-x` is a typo for `-X`): no body, curl's default headers.
    let curl = [("user-agent", "curl/8.5.0"), ("accept", "*/*")];
    ok(&app, "PATCH", "/metrics/metric_name?foo=bar", &curl, "").await;
    assert_exposition(
        &app,
        &["# TYPE metric_name counter", "metric_name{foo=\"bar\"} 1"],
    )
    .await;
    // "received values are added up to the current (label matching) metrics"
    ok(&app, "PATCH", "/metrics/metric_name?foo=bar", &curl, "").await;
    ok(&app, "PATCH", "/metrics/metric_name?foo=baz", &curl, "").await;
    assert_exposition(
        &app,
        &[
            "# TYPE metric_name counter",
            "metric_name{foo=\"bar\"} 2",
            "metric_name{foo=\"baz\"} 1",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_post_text_format_example() {
    let dir = support::tempdir();
    let app = fresh(dir.path()).await;
    ok(&app, "POST", "/metrics", &[CURL_FORM], README_TEXT_BODY).await;
    let once = [
        "# HELP another_metric Just an example.",
        "# TYPE another_metric gauge",
        "another_metric 2398.283",
        "# TYPE some_metric counter",
        "some_metric{label=\"val1\"} 42",
    ];
    assert_exposition(&app, &once).await;
    // Aggregated: the same body again adds up (the counter and, as in the original, the gauge).
    ok(&app, "POST", "/metrics", &[CURL_FORM], README_TEXT_BODY).await;
    assert_exposition(
        &app,
        &[
            "# HELP another_metric Just an example.",
            "# TYPE another_metric gauge",
            "another_metric 4796.566",
            "# TYPE some_metric counter",
            "some_metric{label=\"val1\"} 84",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_patch_with_country_and_another_label() {
    let dir = support::tempdir();
    let app = fresh(dir.path()).await;
    // fetch(`https://worker.example.com/metrics/worker_request?country=${request.cf.country}
    // &anotherLabel=value`, { method: "PATCH" }), once per request the Worker serves.
    for country in ["DE", "US", "DE"] {
        let uri = format!("/metrics/worker_request?country={country}&anotherLabel=value");
        ok(&app, "PATCH", &uri, &[], "").await;
    }
    assert_exposition(
        &app,
        &[
            "# TYPE worker_request counter",
            "worker_request{anotherLabel=\"value\",country=\"DE\"} 2",
            "worker_request{anotherLabel=\"value\",country=\"US\"} 1",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_promjs_json_stringify_example() {
    let dir = support::tempdir();
    let app = fresh(dir.path()).await;
    // Real promjs 0.4.2 output of the README's registry (tests/fixtures/README.md).
    let body = std::fs::read_to_string(root().join("tests/fixtures/promjs_readme_example.json"))
        .expect("promjs fixture");
    assert!(
        body.starts_with('"'),
        "JSON.stringify of a string is a JSON string"
    );
    ok(&app, "POST", "/metrics", &[FETCH_STRING], &body).await;
    let expected = [
        "# HELP my_counter A counter for things",
        "# TYPE my_counter counter",
        "my_counter{plan=\"free\",user=\"user2\"} 3",
        "my_counter{plan=\"pro\",user=\"user1\"} 1",
        "my_counter{plan=\"pro\",user=\"user3\"} 1",
    ];
    assert_exposition(&app, &expected).await;
    // The Worker runs this on every request: counts add up.
    ok(&app, "POST", "/metrics", &[FETCH_STRING], &body).await;
    assert_exposition(
        &app,
        &[
            "# HELP my_counter A counter for things",
            "# TYPE my_counter counter",
            "my_counter{plan=\"free\",user=\"user2\"} 6",
            "my_counter{plan=\"pro\",user=\"user1\"} 2",
            "my_counter{plan=\"pro\",user=\"user3\"} 2",
        ],
    )
    .await;
}

/// The README's examples together, then its three DELETE forms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_forms() {
    let dir = support::tempdir();
    let app = fresh(dir.path()).await;
    ok(&app, "PATCH", "/metrics/metric_name?foo=bar", &[], "").await;
    ok(&app, "PATCH", "/metrics/metric_name?foo=bar&x=1", &[], "").await;
    ok(&app, "PATCH", "/metrics/metric_name?foo=baz", &[], "").await;
    ok(&app, "POST", "/metrics", &[CURL_FORM], README_TEXT_BODY).await;
    let body = std::fs::read_to_string(root().join("tests/fixtures/promjs_readme_example.json"))
        .expect("promjs fixture");
    ok(&app, "POST", "/metrics", &[FETCH_STRING], &body).await;

    // `DELETE /metrics/:metricName?foo=bar`: only series matching every given label.
    ok(&app, "DELETE", "/metrics/metric_name?foo=bar", &[], "").await;
    let got = exposition(&app).await;
    assert!(
        got.contains(&"metric_name{foo=\"baz\"} 1".to_string()),
        "{got:?}"
    );
    assert!(!got.iter().any(|l| l.contains("foo=\"bar\"")), "{got:?}");
    // A label set nothing matches deletes nothing.
    ok(&app, "DELETE", "/metrics/my_counter?user=nobody", &[], "").await;
    assert_eq!(
        exposition(&app)
            .await
            .iter()
            .filter(|l| l.starts_with("my_counter{"))
            .count(),
        3
    );
    ok(&app, "DELETE", "/metrics/my_counter?plan=pro", &[], "").await;
    let got = exposition(&app).await;
    let my: Vec<&String> = got.iter().filter(|l| l.starts_with("my_counter")).collect();
    assert_eq!(
        my,
        ["my_counter{plan=\"free\",user=\"user2\"} 3"],
        "{got:?}"
    );

    // `DELETE /metrics/:metricName`: the whole metric.
    ok(&app, "DELETE", "/metrics/metric_name", &[], "").await;
    assert_exposition(
        &app,
        &[
            "# HELP another_metric Just an example.",
            "# TYPE another_metric gauge",
            "another_metric 2398.283",
            "# HELP my_counter A counter for things",
            "# TYPE my_counter counter",
            "my_counter{plan=\"free\",user=\"user2\"} 3",
            "# TYPE some_metric counter",
            "some_metric{label=\"val1\"} 42",
        ],
    )
    .await;

    // `DELETE /metrics/__all`: everything.
    ok(&app, "DELETE", "/metrics/__all", &[], "").await;
    assert_exposition(&app, &[]).await;
    // And the gateway keeps counting from zero afterwards.
    ok(&app, "PATCH", "/metrics/metric_name?foo=bar", &[], "").await;
    assert_exposition(
        &app,
        &["# TYPE metric_name counter", "metric_name{foo=\"bar\"} 1"],
    )
    .await;
}

/// Routes outside the README's answer as HTTP says, not as a success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn methods_outside_the_contract_are_refused() {
    let dir = support::tempdir();
    let app = fresh(dir.path()).await;
    let (status, _) = send_with(&app, "GET", "/metrics/metric_name", &[], "").await;
    assert_eq!(status, 405);
    let (status, _) = send_with(&app, "DELETE", "/metrics", &[], "").await;
    assert_eq!(status, 405);
    let (status, _) = send_with(&app, "GET", "/nothing-here", &[], "").await;
    assert_eq!(status, 404);
    assert_exposition(&app, &[]).await;
}
