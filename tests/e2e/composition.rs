//! Composition: a component that imports `promagg:gateway/ingest` (`wit/promagg-gateway`),
//! plugged together with promagg's `ingest` component as its manifest's
//! `[component.orders.dependencies]` declares, records metrics that the gateway of the same
//! app serves, aggregated like pushes; refusals come back as the WIT error kinds.
//!
//! Two ways: the example manifest as is (the test host links local dependencies as Spin
//! does), and the composition done ahead of time with `wasm-compose` (what `wac plug` or
//! `wasm-tools compose` produce for hosts without component dependencies), run with the
//! gateway on one key-value store.

use std::path::{Path, PathBuf};

use spin_test_host::manifest::Manifest;
use spin_test_host::{App, Options};
use wasm_compose::composer::ComponentComposer;
use wasm_compose::config::Config;

use crate::support::{self, sample, send, send_with};

const EXAMPLE: &str = "examples/ingest-consumer/spin.toml";
const BUILD: &str = "cargo build --target wasm32-wasip2 --profile component -p gateway -p ingest -p ingest-consumer";

fn built(path: &Path) -> PathBuf {
    assert!(
        path.exists(),
        "{} is missing: build with `{BUILD}`",
        path.display()
    );
    path.to_path_buf()
}

/// Composes the example's `orders` component with its declared `ingest` dependency, ahead of time.
fn compose_example(out: &Path) -> PathBuf {
    let manifest = Manifest::load(&support::root().join(EXAMPLE)).expect("example manifest");
    let orders = manifest.components.get("orders").expect("component orders");
    assert!(
        orders.dependencies_inherit_configuration,
        "the ingest dependency needs the parent's key-value store"
    );
    let dep = orders
        .dependencies
        .get("promagg:gateway/ingest")
        .expect("orders depends on promagg:gateway/ingest");
    let config = Config {
        definitions: vec![built(&dep.path)],
        ..Config::default()
    };
    let bytes = ComponentComposer::new(&built(&orders.source), &config)
        .compose()
        .expect("the example composes with the ingest component");
    let path = out.join("orders-composed.wasm");
    std::fs::write(&path, bytes).expect("write composed component");
    path
}

/// The app: the composed `orders` component, the gateway and the pusher (`POST /-/push`
/// folds), sharing the `default` store.
async fn app(dir: &Path) -> App {
    let composed = compose_example(dir);
    let wasm = |name: &str| {
        built(&support::root().join(format!("target/wasm32-wasip2/component/{name}.wasm")))
    };
    let (gateway, pusher) = (wasm("gateway"), wasm("pusher"));
    let manifest = dir.join("spin.toml");
    let text = format!(
        "spin_manifest_version = 2\n\
         [application]\nname = \"composition\"\n\
         [[trigger.http]]\nroute = \"/orders\"\ncomponent = \"orders\"\n\
         [[trigger.http]]\nroute = \"/...\"\ncomponent = \"gateway\"\n\
         [component.orders]\nsource = {composed:?}\nkey_value_stores = [\"default\"]\n\
         [component.gateway]\nsource = {gateway:?}\nkey_value_stores = [\"default\"]\n\
         [[trigger.http]]\nroute = \"/-/push\"\ncomponent = \"pusher\"\n\
         [component.pusher]\nsource = {pusher:?}\nkey_value_stores = [\"default\"]\n\
         [component.pusher.variables]\npush_interval = \"1s\"\n",
        composed = composed.display().to_string(),
        gateway = gateway.display().to_string(),
        pusher = pusher.display().to_string(),
    );
    std::fs::write(&manifest, text).expect("write manifest");
    let opts = Options {
        env_variables: false,
        state_dir: Some(dir.join(".spin")),
        ..Options::default()
    };
    App::load(&manifest, opts)
        .await
        .expect("composed app loads")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_ingest_calls_land_in_the_gateway() {
    let dir = support::tempdir();
    let app = app(dir.path()).await;
    for value in ["42", "420"] {
        let (status, body) =
            send(&app, "POST", &format!("/orders?plan=pro&value={value}"), "").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body,
            format!("recorded an order of {value} on plan pro (and 1 text series)\n")
        );
    }
    let (status, metrics) = send(&app, "GET", "/metrics", "").await;
    assert_eq!(status, 200);
    let expected = [
        (r#"orders_total{plan="pro"}"#, 2.0),
        (r#"orders_last_value_dollars{plan="pro"}"#, 420.0),
        (r#"orders_value_dollars_bucket{plan="pro",le="10"}"#, 0.0),
        (r#"orders_value_dollars_bucket{plan="pro",le="100"}"#, 1.0),
        (r#"orders_value_dollars_bucket{plan="pro",le="1000"}"#, 2.0),
        (r#"orders_value_dollars_bucket{plan="pro",le="+Inf"}"#, 2.0),
        (r#"orders_value_dollars_sum{plan="pro"}"#, 462.0),
        (r#"orders_value_dollars_count{plan="pro"}"#, 2.0),
        ("orders_batches_total", 2.0),
    ];
    for (series, value) in expected {
        assert_eq!(
            sample(&metrics, series),
            Some(value),
            "{series} in:\n{metrics}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_come_back_as_wit_errors() {
    let dir = support::tempdir();
    let app = app(dir.path()).await;
    // orders_total is stored as a gauge (folded: conflicts are checked against stored
    // state), so the import's counter-add conflicts with it.
    let (status, body) = send_with(
        &app,
        "POST",
        "/metrics",
        &[("content-type", "text/plain; version=0.0.4")],
        "# TYPE orders_total gauge\norders_total{plan=\"pro\"} 5\n",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, report) = send(&app, "POST", "/-/push", "").await;
    assert_eq!(status, 200, "fold: {report}");
    let (status, body) = send(&app, "POST", "/orders?plan=pro&value=1", "").await;
    assert_eq!(
        status, 409,
        "error::conflict, mapped to 409 by the example: {body}"
    );
    assert!(
        body.contains("orders_total"),
        "the refusal names the metric: {body}"
    );
    let (_, metrics) = send(&app, "GET", "/metrics", "").await;
    assert_eq!(
        sample(&metrics, r#"orders_total{plan="pro"}"#),
        Some(5.0),
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, r#"orders_last_value_dollars{plan="pro"}"#),
        None,
        "nothing after the refused call was recorded:\n{metrics}"
    );
}

/// `examples/ingest-consumer/spin.toml` as `spin up` would run it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_manifest_runs_with_its_dependency() {
    let dir = support::tempdir();
    let manifest = support::root().join(EXAMPLE);
    let opts = Options {
        env_variables: false,
        state_dir: Some(dir.path().to_path_buf()),
        ..Options::default()
    };
    let app = App::load(&manifest, opts).await.expect("example app loads");
    let (status, body) = send(&app, "POST", "/orders?plan=free&value=5", "").await;
    assert_eq!(status, 200, "{body}");
    let (_, metrics) = send(&app, "GET", "/metrics", "").await;
    assert_eq!(
        sample(&metrics, r#"orders_total{plan="free"}"#),
        Some(1.0),
        "{metrics}"
    );
}
