//! `/-/push` for schedulers: GET and POST both run once, other methods get 405, and push
//! tokens (`push_tokens`) open it, by `Authorization: Bearer` or by `?token=` (schedulers
//! that cannot set headers), without opening anything else.

use spin_test_host::{App, KvBackend, Semantics};

use crate::support::{self, load, send, send_with, Setup};

/// How many deltas wait for a fold (`v1/d/*` and `v1/i/*` keys).
fn pending(app: &App) -> usize {
    let store = app.memory_store("default").expect("in-memory store");
    store
        .dump()
        .keys()
        .filter(|k| k.starts_with("v1/d/") || k.starts_with("v1/i/"))
        .count()
}

/// `spin up`'s SQLite semantics in memory, so the test can count pending deltas.
fn setup() -> Setup {
    Setup {
        kv: KvBackend::Memory(Semantics::Sqlite),
        ..Setup::default()
    }
    .var("push_interval", "1s")
}

/// Sends `method uri` with `Authorization: Bearer <token>` when a token is given.
async fn send_as(app: &App, method: &str, uri: &str, token: Option<&str>) -> (u16, String) {
    match token {
        Some(t) => {
            let bearer = format!("Bearer {t}");
            send_with(app, method, uri, &[("authorization", &bearer)], "").await
        }
        None => send(app, method, uri, "").await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_and_post_both_run_other_methods_get_405() {
    let dir = support::tempdir();
    let app = load(setup(), dir.path()).await;
    for method in ["GET", "POST"] {
        let (status, _) = send(&app, "PATCH", "/metrics/jobs_total?kind=a", "").await;
        assert_eq!(status, 200);
        assert_eq!(pending(&app), 1, "one write waits for a fold");
        let (status, report) = send(&app, method, "/-/push", "").await;
        assert_eq!(status, 200, "{method} /-/push: {report}");
        assert!(report.contains("folded_deltas=1"), "{method}: {report}");
        assert_eq!(pending(&app), 0, "{method} /-/push folded the write");
    }
    let (_, body) = send(&app, "GET", "/metrics", "").await;
    assert_eq!(
        support::sample(&body, "jobs_total{kind=\"a\"}"),
        Some(2.0),
        "{body}"
    );
    for method in ["PUT", "DELETE", "PATCH", "HEAD"] {
        send(&app, "PATCH", "/metrics/jobs_total?kind=a", "").await;
        let req = http::Request::builder()
            .method(method)
            .uri("http://127.0.0.1:3000/-/push")
            .body(Vec::new())
            .expect("request");
        let resp = app.handle(req).await.expect("host handles the request");
        assert_eq!(resp.status(), 405, "{method}");
        assert_eq!(
            resp.headers().get("allow").map(|v| v.as_bytes()),
            Some(&b"GET, POST"[..]),
            "{method}"
        );
        assert_eq!(pending(&app), 1, "{method} /-/push ran nothing");
        send(&app, "POST", "/-/push", "").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_tokens_open_the_push_route_and_nothing_else() {
    let dir = support::tempdir();
    let app = load(
        setup()
            .var("auth_write_tokens", "w-token")
            .var("auth_admin_tokens", "adm-token")
            .var("push_tokens", "old-push, push-token"),
        dir.path(),
    )
    .await;
    // No token: refused, nothing runs.
    let write = |app: std::sync::Arc<App>| async move {
        let (status, body) = send_as(&app, "PATCH", "/metrics/a_total", Some("w-token")).await;
        assert_eq!(status, 200, "{body}");
    };
    write(app.clone()).await;
    for method in ["GET", "POST"] {
        let (status, body) = send_as(&app, method, "/-/push", None).await;
        assert_eq!(status, 401, "{method}: {body}");
    }
    let (status, _) = send_as(&app, "GET", "/-/push?token=nope", None).await;
    assert_eq!(status, 401, "a wrong query token");
    let (status, _) = send_as(&app, "GET", "/-/push?token=adm-token", None).await;
    assert_eq!(status, 401, "admin tokens are not taken from the URL");
    let (status, _) = send_as(&app, "POST", "/-/push", Some("w-token")).await;
    assert_eq!(status, 403, "a write token lacks the admin scope");
    assert_eq!(pending(&app), 1, "no refused request ran a fold");

    // A push token in the query (the `spin aka cron` form): runs.
    let (status, report) = send_as(&app, "GET", "/-/push?token=push-token", None).await;
    assert_eq!(status, 200, "{report}");
    assert!(report.contains("folded_deltas=1"), "{report}");
    assert_eq!(pending(&app), 0);

    // A push token as bearer (the crontab and CronJob form), either listed token: runs.
    for token in ["push-token", "old-push"] {
        write(app.clone()).await;
        let (status, report) = send_as(&app, "POST", "/-/push", Some(token)).await;
        assert_eq!(status, 200, "{token}: {report}");
        assert_eq!(pending(&app), 0, "{token} ran a fold");
    }

    // A push token grants nothing else: not a write, not a wipe.
    let (status, body) = send_as(&app, "PATCH", "/metrics/a_total", Some("push-token")).await;
    assert_eq!(status, 401, "push token on a write route: {body}");
    let (status, _) = send(&app, "PATCH", "/metrics/a_total?token=push-token", "").await;
    assert_eq!(status, 401, "push token in a write route's query");
    let (status, _) = send_as(&app, "DELETE", "/metrics/__all", Some("push-token")).await;
    assert_eq!(status, 401, "push token on the wipe route");
    assert_eq!(pending(&app), 0, "the refused write left no delta");

    // Admin tokens keep working through the header.
    write(app.clone()).await;
    let (status, report) = send_as(&app, "GET", "/-/push", Some("adm-token")).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(pending(&app), 0);
    let (_, body) = send(&app, "GET", "/metrics", "").await;
    assert_eq!(support::sample(&body, "a_total"), Some(4.0), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_tokens_alone_close_the_push_route_only() {
    let dir = support::tempdir();
    let app = load(setup().var("push_tokens", "push-token"), dir.path()).await;
    assert_eq!(send(&app, "GET", "/-/push", "").await.0, 401);
    assert_eq!(
        send(&app, "GET", "/-/push?token=push-token", "").await.0,
        200
    );
    assert_eq!(
        send(&app, "PATCH", "/metrics/a_total", "").await.0,
        200,
        "writes stay open without auth_*_tokens"
    );
}
