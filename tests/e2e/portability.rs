//! Portability: one code base, two builds, four hosts.
//!
//! - The `no-atomics` build (`*-cloud.wasm`, scripts/build-components.sh) imports no
//!   `wasi:keyvalue/atomics` or `batch` (read from the component binaries), so Spin cloud hosts
//!   can instantiate it; the default build does import atomics, and a cloud host refuses it.
//! - `spin.cloud.toml` and `deploy/spinkube/spin.toml` load and serve (writes, `/-/push`,
//!   reads) under the semantics of the hosts they are for, and stay in sync with `spin.toml`.
//! - The cloud build is exact with one scheduler calling `POST /-/push`: the stored value is
//!   the number of acknowledged updates, and the backlog limit keeps the store under 1,024 keys.
//! - The SpinKube manifests pass `scripts/check_deploy.py`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use spin_test_host::manifest::Manifest;
use spin_test_host::{App, HostProfile, KvBackend, Options, Semantics};

use crate::support::{self, hammer, load, root, send, send_with, Folds, Setup};

/// Shards of a store created by the cloud build (`EngineConfig::for_backend(Cloud)`).
const CLOUD_SHARDS: usize = 16;
/// Keys a Spin cloud store holds at most.
const CLOUD_MAX_KEYS: usize = 1024;

/// Path of a built component variant, failing with the command that builds it.
fn built(name: &str) -> PathBuf {
    let p = root().join(format!("target/wasm32-wasip2/component/{name}.wasm"));
    assert!(
        p.exists(),
        "{} is missing: build every variant with ./scripts/build-components.sh",
        p.display()
    );
    p
}

/// The import names of a component's outermost level (what a host must provide).
fn imports(wasm: &Path) -> BTreeSet<String> {
    use wasmparser::{Parser, Payload};
    let bytes = std::fs::read(wasm).expect("read component");
    let mut depth = 0usize;
    let mut names = BTreeSet::new();
    for payload in Parser::new(0).parse_all(&bytes) {
        match payload.expect("a valid wasm binary") {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 0 => {
                for import in reader {
                    names.insert(import.expect("import").name.name.to_string());
                }
            }
            _ => {}
        }
    }
    assert!(
        !names.is_empty(),
        "{} has no component imports",
        wasm.display()
    );
    names
}

fn imports_interface(names: &BTreeSet<String>, interface: &str) -> bool {
    names
        .iter()
        .any(|n| n.starts_with(&format!("{interface}@")))
}

#[test]
fn cloud_builds_import_the_key_value_store_only() {
    for name in ["gateway-cloud", "pusher-cloud"] {
        let names = imports(&built(name));
        assert!(
            imports_interface(&names, "wasi:keyvalue/store"),
            "{name} should use wasi:keyvalue/store: {names:?}"
        );
        for missing_on_cloud in ["wasi:keyvalue/atomics", "wasi:keyvalue/batch"] {
            assert!(
                !imports_interface(&names, missing_on_cloud),
                "{name} imports {missing_on_cloud}, which Spin cloud hosts do not offer: {names:?}"
            );
        }
    }
    // The default pusher takes its fold lease with `increment`, and folds with batch calls.
    let pusher = imports(&built("pusher"));
    assert!(
        imports_interface(&pusher, "wasi:keyvalue/atomics"),
        "{pusher:?}"
    );
    assert!(
        imports_interface(&pusher, "wasi:keyvalue/batch"),
        "{pusher:?}"
    );
}

/// A manifest with one HTTP component on `/-/push`, built from `wasm`.
fn pusher_only_manifest(dir: &Path, wasm: &Path) -> PathBuf {
    let path = dir.join("spin.toml");
    let text = format!(
        "spin_manifest_version = 2\n\
         [application]\nname = \"pusher-only\"\n\
         [[trigger.http]]\nroute = \"/-/push\"\ncomponent = \"pusher\"\n\
         [component.pusher]\nsource = {source:?}\nkey_value_stores = [\"default\"]\n",
        source = wasm.display().to_string()
    );
    std::fs::write(&path, text).expect("write manifest");
    path
}

/// Loads `manifest`; the error is the host's message with its causes.
async fn load_with(manifest: &Path, profile: HostProfile, kv: KvBackend) -> Result<App, String> {
    let opts = Options {
        kv,
        profile,
        env_variables: false,
        state_dir: Some(manifest.parent().expect("manifest dir").join(".spin")),
        ..Options::default()
    };
    App::load(manifest, opts)
        .await
        .map_err(|e| format!("{e:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_host_refuses_the_default_pusher_and_runs_the_cloud_one() {
    let dir = support::tempdir();
    let no_atomics = || KvBackend::Memory(Semantics::NoAtomics);

    let default = pusher_only_manifest(dir.path(), &built("pusher"));
    let err = load_with(&default, HostProfile::Cloud, no_atomics())
        .await
        .expect_err("a cloud host cannot instantiate a component importing atomics");
    let msg = err;
    assert!(msg.contains("wasi:keyvalue/atomics"), "{msg}");
    assert!(msg.contains("\"pusher\""), "{msg}");
    // The same component is fine where atomics exist.
    load_with(
        &default,
        HostProfile::SpinUp,
        KvBackend::Memory(Semantics::Sqlite),
    )
    .await
    .expect("spin up instantiates the default pusher");

    let cloud = pusher_only_manifest(dir.path(), &built("pusher-cloud"));
    let app = load_with(&cloud, HostProfile::Cloud, no_atomics())
        .await
        .expect("a cloud host instantiates the cloud pusher");
    let (status, report) = send(&app, "POST", "/-/push", "").await;
    assert_eq!(status, 200, "{report}");
}

fn cloud_setup() -> Setup {
    Setup {
        kv: KvBackend::Memory(Semantics::NoAtomics),
        profile: HostProfile::Cloud,
        manifest: "spin.cloud.toml",
        ..Setup::default()
    }
}

async fn load_cloud(setup: Setup, dir: &Path) -> Arc<App> {
    built("gateway-cloud");
    built("pusher-cloud");
    load(setup, dir).await
}

/// Sum of every sample of `family` in a text exposition.
fn family_sum(body: &str, family: &str) -> f64 {
    body.lines()
        .filter(|l| l.starts_with(&format!("{family}{{")) || l.starts_with(&format!("{family} ")))
        .map(|l| {
            l.rsplit(' ')
                .next()
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or_else(|| panic!("sample line {l:?}"))
        })
        .sum()
}

async fn metrics(app: &App) -> String {
    let (status, body) = send(app, "GET", "/metrics", "").await;
    assert_eq!(status, 200, "{body}");
    body
}

fn delta_keys(app: &App) -> usize {
    let store = app.memory_store("default").expect("in-memory store");
    store
        .dump()
        .keys()
        .filter(|k| k.starts_with("v1/d/") || k.starts_with("v1/i/"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_manifest_serves_writes_reads_and_push() {
    let dir = support::tempdir();
    let app = load_cloud(cloud_setup(), dir.path()).await;
    assert!(
        app.manifest().cron_triggers.is_empty(),
        "cloud hosts have no cron trigger"
    );

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
    assert_eq!(
        delta_keys(&app),
        4,
        "each write is one delta record until a fold"
    );

    // Readers see pending deltas before any fold.
    let before = metrics(&app).await;
    assert!(before.contains("jobs_total{kind=\"a\"} 3\n"), "{before}");

    let (status, report) = send(&app, "POST", "/-/push", "").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(delta_keys(&app), 0, "the push folded every delta: {report}");
    let keys: Vec<String> = app
        .memory_store("default")
        .expect("in-memory store")
        .dump()
        .into_keys()
        .collect();
    assert!(
        keys.iter()
            .all(|k| k == "v1/meta" || k.starts_with("v1/s/")),
        "only shards and meta remain: {keys:?}"
    );
    assert!(keys.len() <= CLOUD_SHARDS + 1, "{keys:?}");

    let after = metrics(&app).await;
    assert!(after.contains("jobs_total{kind=\"a\"} 3\n"), "{after}");
    assert!(after.contains("lat_bucket{le=\"+Inf\"} 2\n"), "{after}");
    assert!(after.contains("lat_count 2\n"), "{after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cloud_build_is_exact_with_one_push_scheduler() {
    const MAX_PENDING: usize = 64;
    const CLIENTS: usize = 12;
    let dir = support::tempdir();
    let app = load_cloud(
        cloud_setup().var("max_pending_deltas", &MAX_PENDING.to_string()),
        dir.path(),
    )
    .await;

    // Watch the store's size while the clients and the scheduler run.
    let (peak_keys, peak_deltas) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (app, stop) = (app.clone(), stop.clone());
        let (peak_keys, peak_deltas) = (peak_keys.clone(), peak_deltas.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let keys = app.memory_store("default").expect("store").dump();
                peak_keys.fetch_max(keys.len(), Ordering::SeqCst);
                peak_deltas.fetch_max(delta_keys(&app), Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };

    let tally = hammer(
        std::slice::from_ref(&app),
        Folds::PushOnFirstApp,
        CLIENTS,
        25,
        |c, i| {
            (
                "PATCH",
                format!("/metrics/cloud_total?series={}", (c + i) % 7),
                String::new(),
            )
        },
    )
    .await;
    stop.store(true, Ordering::SeqCst);
    watcher.await.expect("watcher");

    assert_eq!(tally.acked + tally.refused, (CLIENTS * 25) as u64);
    assert!(tally.acked > 0, "{tally:?}");
    // Pending deltas are read too: exact before the last fold...
    assert_eq!(
        family_sum(&metrics(&app).await, "cloud_total"),
        tally.acked as f64
    );
    // ... and after it, with every delta folded once.
    let (status, report) = send(&app, "POST", "/-/push", "").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(delta_keys(&app), 0, "{report}");
    assert_eq!(
        family_sum(&metrics(&app).await, "cloud_total"),
        tally.acked as f64
    );

    // The backlog check precedes the write, so concurrent writers can overshoot the limit by
    // at most the requests in flight; the store stays far below a cloud store's 1,024 keys.
    let peak = peak_deltas.load(Ordering::SeqCst);
    assert!(
        peak <= MAX_PENDING + CLIENTS,
        "peak {peak} pending deltas, {tally:?}"
    );
    assert!(peak_keys.load(Ordering::SeqCst) <= CLOUD_SHARDS + 1 + MAX_PENDING + CLIENTS);
    assert!(peak_keys.load(Ordering::SeqCst) < CLOUD_MAX_KEYS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backlog_limit_answers_503_with_retry_after_until_the_next_push() {
    let dir = support::tempdir();
    let app = load_cloud(cloud_setup().var("max_pending_deltas", "5"), dir.path()).await;
    for i in 0..5 {
        let (status, body) = send(&app, "PATCH", "/metrics/backlog_total", "").await;
        assert_eq!(status, 200, "write {i}: {body}");
    }
    let req = http::Request::builder()
        .method("PATCH")
        .uri("http://127.0.0.1:3000/metrics/backlog_total")
        .body(Vec::new())
        .expect("request");
    let resp = app.handle(req).await.expect("handled");
    assert_eq!(
        resp.status(),
        503,
        "{}",
        String::from_utf8_lossy(resp.body())
    );
    assert!(
        resp.headers().contains_key("retry-after"),
        "{:?}",
        resp.headers()
    );
    let text = String::from_utf8_lossy(resp.body());
    assert!(text.contains("max_pending_deltas=5"), "{text}");

    let (status, report) = send(&app, "POST", "/-/push", "").await;
    assert_eq!(status, 200, "{report}");
    let (status, body) = send(&app, "PATCH", "/metrics/backlog_total", "").await;
    assert_eq!(status, 200, "room again after the fold: {body}");
    assert_eq!(family_sum(&metrics(&app).await, "backlog_total"), 6.0);
}

/// A text body of `count` 12-bucket histogram series starting at `first`, with realistic labels.
fn histogram_body(first: usize, count: usize) -> String {
    let mut body = String::from("# TYPE http_latency_seconds histogram\n");
    for i in first..first + count {
        let labels = format!("method=\"GET\",path=\"/api/v1/resources/{i:06}\",code=\"200\"");
        for le in [
            "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
        ] {
            body.push_str(&format!(
                "http_latency_seconds_bucket{{{labels},le=\"{le}\"}} 1\n"
            ));
        }
        body.push_str(&format!("http_latency_seconds_sum{{{labels}}} 0.25\n"));
        body.push_str(&format!("http_latency_seconds_count{{{labels}}} 1\n"));
    }
    body
}

fn largest_value(app: &App) -> (String, usize) {
    app.memory_store("default")
        .expect("store")
        .dump()
        .into_iter()
        .map(|(k, v)| (k, v.len()))
        .max_by_key(|(_, len)| *len)
        .expect("a key")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_limits_keep_every_value_under_1_mb() {
    const ONE_MB: usize = 1_000_000;
    let dir = support::tempdir();
    let app = load_cloud(cloud_setup(), dir.path()).await;
    let default = |name: &str| -> usize {
        let v = app.manifest().variables[name].default.as_deref();
        v.and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("spin.cloud.toml sets {name}: {v:?}"))
    };
    let max_body = default("max_body_bytes");
    let max_series = default("max_total_series");
    // Keys: shards, meta and the backlog limit leave room for writes in flight past the check.
    let keys_at_backlog_limit = CLOUD_SHARDS + 1 + default("max_pending_deltas");
    assert!(
        keys_at_backlog_limit + 100 <= CLOUD_MAX_KEYS,
        "{keys_at_backlog_limit}"
    );

    // The largest delta record one request can write: as many series as allowed, each line
    // as short as lets them all fit in the body limit (the record costs about 22 bytes per
    // series more than the text).
    let max_per_request = default("max_series_per_request");
    let header = "# TYPE c counter\n";
    let width = (max_body - header.len()) / max_per_request - "c{i=\"\"} 1\n".len();
    let mut body = String::from(header);
    for i in 0..max_per_request {
        body.push_str(&format!("c{{i=\"{i:0width$}\"}} 1\n"));
    }
    assert!(body.len() <= max_body && body.len() > max_body - max_per_request);
    let (status, text) = send(&app, "POST", "/metrics", &body).await;
    assert_eq!(status, 200, "{text}");
    let (key, len) = largest_value(&app);
    assert!(
        key.starts_with("v1/d/") && len < ONE_MB,
        "{key}: {len} bytes"
    );
    let (status, text) = send(&app, "DELETE", "/metrics/__all", "").await;
    assert_eq!(status, 200, "{text}");

    // Histograms up to max_total_series, with a fold every few requests as a scheduler would.
    let per_request = 350;
    assert!(histogram_body(0, per_request).len() <= max_body);
    let mut stored = 0;
    while stored < max_series {
        let n = per_request.min(max_series - stored);
        let (status, text) = send(&app, "POST", "/metrics", &histogram_body(stored, n)).await;
        assert_eq!(status, 200, "after {stored} series: {text}");
        stored += n;
        if stored % (per_request * 10) == 0 || stored == max_series {
            let (status, report) = send(&app, "POST", "/-/push", "").await;
            assert_eq!(status, 200, "{report}");
        }
    }
    let (key, len) = largest_value(&app);
    assert!(
        len < ONE_MB,
        "{key} holds {len} bytes at {max_series} series"
    );
    assert_eq!(delta_keys(&app), 0);
    // The limit holds: one more new series is refused.
    let (status, text) = send(&app, "POST", "/metrics", &histogram_body(max_series, 1)).await;
    assert!((400..500).contains(&status), "{status} {text}");
}

fn manifest(path: &str) -> Manifest {
    Manifest::load(&root().join(path)).unwrap_or_else(|e| panic!("{path}: {e:#}"))
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn host_manifests_stay_in_sync_with_spin_toml() {
    let base = manifest("spin.toml");
    let routes = |m: &Manifest| {
        m.http_triggers
            .iter()
            .map(|t| format!("{:?} -> {}", t.route, t.component))
            .collect::<Vec<_>>()
    };
    for (path, suffix, kv_backend) in [
        ("spin.cloud.toml", "-cloud", "cloud"),
        ("deploy/spinkube/spin.toml", "", "redis"),
    ] {
        let m = manifest(path);
        assert!(
            m.cron_triggers.is_empty(),
            "{path}: its hosts have no cron trigger"
        );
        assert_eq!(routes(&m), routes(&base), "{path}: routes");
        assert_eq!(
            m.variables.keys().collect::<Vec<_>>(),
            base.variables.keys().collect::<Vec<_>>(),
            "{path}: application variables"
        );
        assert_eq!(
            m.variables["kv_backend"].default.as_deref(),
            Some(kv_backend),
            "{path}: kv_backend"
        );
        assert_eq!(
            m.components.keys().collect::<Vec<_>>(),
            base.components.keys().collect::<Vec<_>>()
        );
        for (id, c) in &m.components {
            let b = &base.components[id];
            assert_eq!(c.variables, b.variables, "{path}: component {id} variables");
            assert_eq!(
                c.key_value_stores, b.key_value_stores,
                "{path}: {id} stores"
            );
            assert_eq!(
                c.allowed_outbound_hosts, b.allowed_outbound_hosts,
                "{path}: {id} outbound hosts"
            );
            assert_eq!(
                file_name(&c.source),
                format!("{id}{suffix}.wasm"),
                "{path}: {id} source"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spinkube_manifest_serves_writes_and_push_on_redis_semantics() {
    let dir = support::tempdir();
    let app = load(
        Setup {
            kv: KvBackend::Memory(Semantics::Redis),
            manifest: "deploy/spinkube/spin.toml",
            ..Setup::default()
        }
        .var("push_interval", "1s"),
        dir.path(),
    )
    .await;
    assert!(app.manifest().cron_triggers.is_empty());
    for _ in 0..4 {
        assert_eq!(
            send(&app, "PATCH", "/metrics/kube_total?pod=a", "").await.0,
            200
        );
    }
    // The CronJob's request (waits for the next lease window, at most push_interval).
    let (status, report) = send_with(&app, "POST", "/-/push", &[], "").await;
    assert_eq!(status, 200, "{report}");
    assert!(!report.contains("skipped=another run"), "{report}");
    let body = metrics(&app).await;
    assert!(body.contains("kube_total{pod=\"a\"} 4\n"), "{body}");
    let store = app.memory_store("default").expect("store").dump();
    assert!(
        !store.keys().any(|k| k.starts_with("v1/d/")),
        "the push folded the deltas: {:?}",
        store.keys().collect::<Vec<_>>()
    );
}

#[test]
fn spinkube_manifests_pass_the_offline_checks() {
    let out = match std::process::Command::new("python3")
        .arg(root().join("scripts/check_deploy.py"))
        .arg(root())
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            assert!(support::skip_external(), "python3 is needed: {e}");
            return;
        }
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "scripts/check_deploy.py failed:\n{text}"
    );
    assert!(text.contains("resources OK"), "{text}");
}
