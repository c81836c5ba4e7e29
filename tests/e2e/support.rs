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

/// True when external tools may be missing (developer machines); CI installs them.
pub fn skip_external() -> bool {
    std::env::var("PROMAGG_SKIP_EXTERNAL").is_ok_and(|v| v == "1")
}
