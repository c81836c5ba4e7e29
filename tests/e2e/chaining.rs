//! Service chaining: another component of the same app reaches the gateway at
//! `http://gateway.spin.internal/metrics/...` (Spin's counterpart of the original Worker's
//! Cloudflare service bindings), so the gateway needs no public route for in-app clients.
//!
//! App: `tests/fixtures/chain/spin.toml` (the real gateway plus the `chain-client` fixture,
//! whose only outbound host is `http://gateway.spin.internal`).

use crate::support::{self, load, sample, send, send_with, tempdir, Setup};

const SERIES: &str = r#"chained_jobs_total{via="chain-client"}"#;

fn setup() -> Setup {
    let wasm = support::root().join("target/wasm32-wasip2/component/chain_client.wasm");
    assert!(
        wasm.exists(),
        "{} is missing: build it with \
         `cargo build --target wasm32-wasip2 --profile component -p chain-client`",
        wasm.display()
    );
    Setup {
        manifest: "tests/fixtures/chain/spin.toml",
        ..Setup::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chained_component_increments_and_reads_the_gateway() {
    let dir = tempdir();
    let app = load(setup(), dir.path()).await;

    let (status, body) = send(&app, "POST", "/chain/count?amount=2", "").await;
    assert_eq!(status, 200, "first chained PATCH: {body}");
    assert!(body.starts_with("accepted 1 series"), "{body}");
    let (status, body) = send(&app, "POST", "/chain/count?amount=3.5", "").await;
    assert_eq!(status, 200, "second chained PATCH: {body}");

    let (status, metrics) = send(&app, "GET", "/metrics", "").await;
    assert_eq!(status, 200);
    assert_eq!(
        sample(&metrics, SERIES),
        Some(5.5),
        "the gateway's own route sees both chained increments:\n{metrics}"
    );
    let (status, chained) = send(&app, "GET", "/chain/read", "").await;
    assert_eq!(status, 200);
    assert_eq!(
        sample(&chained, SERIES),
        Some(5.5),
        "a chained GET /metrics sees them too:\n{chained}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_come_back_through_the_chain() {
    let dir = tempdir();
    let app = load(setup(), dir.path()).await;
    let (status, body) = send(&app, "POST", "/chain/count?amount=-1", "").await;
    assert_eq!(
        status, 400,
        "a negative counter increment is refused: {body}"
    );
    let (_, metrics) = send(&app, "GET", "/metrics", "").await;
    assert_eq!(sample(&metrics, SERIES), None, "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chained_writes_need_a_token_unless_internal_requests_are_exempt() {
    let dir = tempdir();
    let locked = Setup {
        manifest: "tests/fixtures/chain/spin.toml",
        ..Setup::default()
    }
    .var("auth_write_tokens", "w-token");
    let app = load(locked, dir.path()).await;
    let (status, body) = send(&app, "POST", "/chain/count?amount=1", "").await;
    assert_eq!(
        status, 401,
        "a chained write without a token is refused: {body}"
    );
    let (status, body) = send(&app, "PATCH", "/metrics/chained_jobs_total?via=outside", "").await;
    assert_eq!(status, 401, "so is an outside one: {body}");
    drop(app);

    let dir = tempdir();
    let exempt = Setup {
        manifest: "tests/fixtures/chain/spin.toml",
        ..Setup::default()
    }
    .var("auth_write_tokens", "w-token")
    .var("auth_exempt_internal", "true");
    let app = load(exempt, dir.path()).await;
    let (status, body) = send(&app, "POST", "/chain/count?amount=2", "").await;
    assert_eq!(status, 200, "a chained write is exempt: {body}");
    let (status, body) = send(&app, "PATCH", "/metrics/chained_jobs_total?via=outside", "").await;
    assert_eq!(
        status, 401,
        "an outside write still needs the token: {body}"
    );
    let (status, body) = send_with(
        &app,
        "PATCH",
        "/metrics/chained_jobs_total?via=outside",
        &[("spin-client-addr", "0.0.0.0:0")],
        "",
    )
    .await;
    assert_eq!(
        status, 401,
        "the host overwrites a forged spin-client-addr: {body}"
    );
    let (_, metrics) = send(&app, "GET", "/metrics", "").await;
    assert_eq!(sample(&metrics, SERIES), Some(2.0), "{metrics}");
}
