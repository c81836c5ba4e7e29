//! Shared helpers: loading the app, sending requests, external tools.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use spin_test_host::{App, HostProfile, KvBackend, Options};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Path of a built component, failing with the command to build it when it is missing.
pub fn component(name: &str) -> PathBuf {
    let p = root().join(format!("target/wasm32-wasip2/component/{name}.wasm"));
    assert!(
        p.exists(),
        "{} is missing: build the components first with \
         `cargo build --target wasm32-wasip2 --profile component -p gateway -p pusher -p trivial` \
         (./scripts/test.sh does)",
        p.display()
    );
    p
}

/// How to load the app for a test.
pub struct Setup {
    /// Key-value backend.
    pub kv: KvBackend,
    /// Host profile.
    pub profile: HostProfile,
    /// Application variables.
    pub variables: BTreeMap<String, String>,
    /// Manifest, relative to the repo root.
    pub manifest: &'static str,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            kv: KvBackend::RuntimeConfig,
            profile: HostProfile::SpinUp,
            variables: BTreeMap::new(),
            manifest: "spin.toml",
        }
    }
}

impl Setup {
    /// With an application variable set.
    pub fn var(mut self, k: &str, v: &str) -> Self {
        self.variables.insert(k.to_string(), v.to_string());
        self
    }
}

/// Loads the app with its SQLite state (if any) in `state_dir`.
pub async fn load(setup: Setup, state_dir: &Path) -> Arc<App> {
    component("gateway");
    component("pusher");
    let opts = Options {
        kv: setup.kv,
        profile: setup.profile,
        variables: setup.variables,
        env_variables: false,
        state_dir: Some(state_dir.to_path_buf()),
        ..Options::default()
    };
    Arc::new(
        App::load(root().join(setup.manifest), opts)
            .await
            .expect("app loads"),
    )
}

/// A fresh temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// Sends one request through the host; returns status and body text.
pub async fn send(app: &App, method: &str, uri: &str, body: &str) -> (u16, String) {
    send_with(app, method, uri, &[], body).await
}

/// Sends one request with headers.
pub async fn send_with(
    app: &App,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut b = http::Request::builder()
        .method(method)
        .uri(format!("http://127.0.0.1:3000{uri}"));
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let resp = app
        .handle(b.body(body.as_bytes().to_vec()).expect("request"))
        .await
        .expect("host handles the request");
    (
        resp.status().as_u16(),
        String::from_utf8_lossy(resp.body()).into_owned(),
    )
}

/// The value of the sample line `series` in a text-format body.
pub fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().expect("sample value"))
}

/// Runs the pusher's cron handler once (it folds, and pushes when an endpoint is set).
pub async fn fire_cron(app: &App) {
    app.fire_cron("pusher").await.expect("cron handler runs");
}

/// Who runs folds while [`hammer`]'s clients write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folds {
    /// Every app fires its own cron schedule in a loop (every Spin instance fires its own).
    CronOnEveryApp,
    /// One scheduler calls `POST /-/push` on the first app in a loop (hosts without cron).
    PushOnFirstApp,
}

/// What a [`hammer`] run was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Requests answered 2xx.
    pub acked: u64,
    /// Requests refused with 503 (overload, backlog limit): not applied.
    pub refused: u64,
}

/// Sends `clients x per_client` requests spread over `apps` while `folds` runs folds
/// concurrently; any answer but 2xx or 503 fails the test.
pub async fn hammer(
    apps: &[Arc<App>],
    folds: Folds,
    clients: usize,
    per_client: usize,
    request: impl Fn(usize, usize) -> (&'static str, String, String) + Send + Sync + 'static,
) -> Tally {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let (acked, refused) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let done = Arc::new(AtomicBool::new(false));
    let request = Arc::new(request);
    let folder_apps = match folds {
        Folds::CronOnEveryApp => apps.to_vec(),
        Folds::PushOnFirstApp => apps[..1].to_vec(),
    };
    let folders: Vec<_> = folder_apps
        .into_iter()
        .map(|app| {
            let done = done.clone();
            tokio::spawn(async move {
                while !done.load(Ordering::SeqCst) {
                    match folds {
                        Folds::CronOnEveryApp => {
                            // Under `spin up` the cron trigger has its own SQLite connection; a
                            // run may meet "database is locked" (the plugin logs it and fires
                            // again later).
                            if let Err(e) = app.fire_cron("pusher").await {
                                let msg = format!("{e:#}");
                                assert!(
                                    msg.contains("database is locked"),
                                    "cron run failed: {msg}"
                                );
                            }
                        }
                        Folds::PushOnFirstApp => {
                            let (status, report) = send(&app, "POST", "/-/push", "").await;
                            assert_eq!(status, 200, "POST /-/push: {report}");
                        }
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
                }
            })
        })
        .collect();
    let workers: Vec<_> = (0..clients)
        .map(|c| {
            let app = apps[c % apps.len()].clone();
            let (acked, refused, request) = (acked.clone(), refused.clone(), request.clone());
            tokio::spawn(async move {
                for i in 0..per_client {
                    let (method, uri, body) = request(c, i);
                    let (status, text) = send(&app, method, &uri, &body).await;
                    if (200..300).contains(&status) {
                        acked.fetch_add(1, Ordering::SeqCst);
                    } else {
                        assert_eq!(status, 503, "only overload may refuse: {status} {text}");
                        refused.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("client task");
    }
    done.store(true, Ordering::SeqCst);
    for f in folders {
        f.await.expect("folder task");
    }
    Tally {
        acked: acked.load(Ordering::SeqCst),
        refused: refused.load(Ordering::SeqCst),
    }
}

/// True when external tools may be missing (developer machines); CI installs them.
pub fn skip_external() -> bool {
    std::env::var("PROMAGG_SKIP_EXTERNAL").is_ok_and(|v| v == "1")
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A minimal HTTP/1.0 GET over loopback: status and body.
pub async fn http_get(url: &str) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut s = tokio::net::TcpStream::connect(authority).await.ok()?;
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n").as_bytes())
        .await
        .ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

/// A real Prometheus server (Debian's `prometheus`) on a loopback port, killed on drop.
pub struct Prometheus {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts it with extra flags; `None` (skip) only when PROMAGG_SKIP_EXTERNAL=1 and it is missing.
    pub async fn start(flags: &[&str]) -> Option<Prometheus> {
        Self::start_with_config(flags, "global:\n  scrape_interval: 1s\n").await
    }

    /// Starts it with a configuration file body.
    pub async fn start_with_config(flags: &[&str], config: &str) -> Option<Prometheus> {
        let bin = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"]
            .into_iter()
            .find(|p| Path::new(p).exists());
        let Some(bin) = bin else {
            assert!(
                skip_external(),
                "prometheus is not installed: apt-get install prometheus (or set PROMAGG_SKIP_EXTERNAL=1)"
            );
            return None;
        };
        let dir = tempdir();
        let cfg = dir.path().join("prometheus.yml");
        std::fs::write(&cfg, config).expect("write config");
        let port = free_port();
        let child = std::process::Command::new(bin)
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .args(flags)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start prometheus");
        let prom = Prometheus {
            child,
            port,
            _dir: dir,
        };
        for _ in 0..100 {
            if let Some((200, _)) = http_get(&format!("{}/-/ready", prom.url())).await {
                return Some(prom);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("prometheus did not become ready on port {port}");
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The value of an instant query with one result, retried for a few seconds.
    pub async fn query(&self, promql: &str) -> Option<f64> {
        let q: String = form_urlencoded::byte_serialize(promql.as_bytes()).collect();
        for _ in 0..50 {
            if let Some((200, body)) =
                http_get(&format!("{}/api/v1/query?query={q}", self.url())).await
            {
                let json: serde_json::Value = serde_json::from_str(&body).expect("query JSON");
                if let Some(v) = json["data"]["result"][0]["value"][1].as_str() {
                    return v.parse().ok();
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        None
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
