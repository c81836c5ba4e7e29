//! The core promise, proven on the real components: under concurrent clients and concurrent
//! folds, the stored value equals the exact sum of acknowledged updates, on every backend.

use std::sync::Arc;
use std::time::Duration;

use spin_test_host::{App, KvBackend, Semantics};

use crate::support::{self, fire_cron, hammer, load, sample, send, Folds, Setup};

fn fast_lease(setup: Setup) -> Setup {
    // One-second lease epochs, so folds run (and race the writers) during the test.
    setup.var("push_interval", "1s")
}

async fn metrics(app: &App) -> String {
    let (status, body) = send(app, "GET", "/metrics", "").await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn assert_hot(apps: &[Arc<App>], clients: usize, per_client: usize) {
    let acked = hammer(apps, Folds::CronOnEveryApp, clients, per_client, |_, _| {
        ("PATCH", "/metrics/hot_total?k=v".to_string(), String::new())
    })
    .await
    .acked;
    assert_eq!(
        acked,
        (clients * per_client) as u64,
        "every request acknowledged"
    );
    for app in apps {
        assert_eq!(
            sample(&metrics(app).await, "hot_total{k=\"v\"}"),
            Some(acked as f64)
        );
    }
    // After more folds the value is unchanged (nothing applied twice).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    fire_cron(&apps[0]).await;
    assert_eq!(
        sample(&metrics(&apps[0]).await, "hot_total{k=\"v\"}"),
        Some(acked as f64)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hot_series_is_exact_on_sqlite_with_concurrent_folds() {
    let dir = support::tempdir();
    let app = load(fast_lease(Setup::default()), dir.path()).await;
    assert_hot(&[app], 16, 30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_over_one_sqlite_file_are_exact() {
    let dir = support::tempdir();
    let a = load(fast_lease(Setup::default()), dir.path()).await;
    let b = load(fast_lease(Setup::default()), dir.path()).await;
    assert_hot(&[a, b], 16, 25).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hot_series_is_exact_on_redis_semantics() {
    let dir = support::tempdir();
    let setup = Setup {
        kv: KvBackend::Memory(Semantics::Redis),
        ..Setup::default()
    }
    .var("kv_backend", "redis");
    let app = load(fast_lease(setup), dir.path()).await;
    assert_hot(&[app], 16, 25).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn creation_storm_loses_nothing() {
    let dir = support::tempdir();
    let app = load(fast_lease(Setup::default()), dir.path()).await;
    // 16 clients each create series; half of them collide with other clients' series.
    let acked = hammer(
        std::slice::from_ref(&app),
        Folds::CronOnEveryApp,
        16,
        20,
        |c, i| {
            let owner = if i % 2 == 0 { c } else { c % 4 };
            (
                "PATCH",
                format!("/metrics/storm_total?client={owner}&i={i}"),
                "2".to_string(),
            )
        },
    )
    .await
    .acked;
    let body = metrics(&app).await;
    let total: f64 = body
        .lines()
        .filter(|l| l.starts_with("storm_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(total, 2.0 * acked as f64);
    assert_eq!(acked, 320);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn push_bodies_of_many_series_aggregate_exactly() {
    let dir = support::tempdir();
    let app = load(fast_lease(Setup::default()), dir.path()).await;
    let acked = hammer(std::slice::from_ref(&app), Folds::CronOnEveryApp, 8, 10, |_, _| {
        let mut body = String::from("# TYPE req_total counter\n");
        for s in 0..200 {
            body.push_str(&format!("req_total{{path=\"/p{s}\"}} 1\n"));
        }
        body.push_str("# TYPE lat histogram\nlat_bucket{le=\"0.1\"} 1\nlat_bucket{le=\"+Inf\"} 2\nlat_sum 0.5\nlat_count 2\n");
        ("POST", "/metrics".to_string(), body)
    })
    .await
    .acked;
    assert_eq!(acked, 80);
    let body = metrics(&app).await;
    assert_eq!(sample(&body, "req_total{path=\"/p0\"}"), Some(80.0));
    assert_eq!(sample(&body, "req_total{path=\"/p199\"}"), Some(80.0));
    assert_eq!(sample(&body, "lat_bucket{le=\"+Inf\"}"), Some(160.0));
    assert_eq!(sample(&body, "lat_sum"), Some(40.0));
}
