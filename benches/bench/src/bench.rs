//! What every scenario shares: settings, the two runtimes (server and load generator), the
//! trivial baseline app, and the report being built.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Result};
use tokio::runtime::Runtime;

use crate::fixtures::pushgateway::{self, Pushgateway};
use crate::fixtures::served::Served;
use crate::load::{self, MakeRequest, Plan, Run};
use crate::report::Report;

/// Alternating slices of baseline and subject load in a full run.
pub const PAIRED_ROUNDS: u32 = 8;

/// Where to send load, and what.
pub type Target = (SocketAddr, MakeRequest);

/// The pusher's lease epoch (`push_interval` in spin.toml); a run may start only in the
/// first half of an epoch.
pub const EPOCH_MS: u64 = 10_000;

/// How long and how hard to run.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// `--quick`: a few seconds per scenario, exactness checked, speed not judged.
    pub quick: bool,
    /// Length of a measured load run.
    pub measure: Duration,
    /// Concurrent clients of the PATCH scenarios.
    pub clients: usize,
}

/// Where the apps' manifests are.
#[derive(Debug, Clone, Default)]
pub struct Manifests {
    /// The gateway app's manifest instead of the repository's spin.toml (experiments, e.g.
    /// without the cron trigger).
    pub gateway: Option<PathBuf>,
}

impl Settings {
    /// Length of a baseline run (half a measured run: it is measured once per scenario).
    pub fn baseline(&self) -> Duration {
        self.measure / 2
    }
}

/// Figures one scenario leaves for another (the micro-benchmarks compare against them).
#[derive(Debug, Default, Clone, Copy)]
pub struct Carried {
    /// Scenario 3: series per second pushed through the served gateway.
    pub push_series_per_s: Option<f64>,
    /// Scenario 4 at 10k series: median scrape latency of the served gateway.
    pub scrape_10k: Option<Duration>,
}

/// The shared context of a benchmark run.
pub struct Bench {
    /// How long and how hard.
    pub settings: Settings,
    /// Manifest overrides.
    pub manifests: Manifests,
    /// The repository root (where spin.toml is).
    pub root: PathBuf,
    /// Runs the test host (servers, wasm instances, cron schedules).
    pub server: Runtime,
    /// Runs the load generator and the remote_write receiver.
    pub client: Runtime,
    /// The table being built.
    pub report: Report,
    /// Figures for later comparisons.
    pub served: Carried,
    trivial: Option<Served>,
    /// Apps of finished scenarios: stopped, but their state directories must outlive any
    /// cron job still running (declared after the runtimes, so dropped after them).
    retired: Vec<Served>,
}

/// The trivial app's baseline route: `wasi:keyvalue/atomics.increment`, one changing write
/// per request however many clients race. Its default route (`get` then `set`) is not used:
/// under concurrency most of its `set`s rewrite the value another request just stored, which
/// costs almost nothing (measured: the counter advanced 188 times for 3,346 answers).
pub const TRIVIAL_ROUTE: &str = "/atomic";

/// `.wasm` files the scenarios need, and how to build them.
pub const BUILD_COMPONENTS: &str =
    "cargo build --target wasm32-wasip2 --profile component -p gateway -p pusher -p trivial";

impl Bench {
    /// A context rooted at the repository that holds this crate.
    pub fn new(settings: Settings, manifests: Manifests) -> Result<Bench> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let root = root.canonicalize().unwrap_or(root);
        let runtime = |name: &str| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name(name)
                .enable_all()
                .build()
        };
        Ok(Bench {
            settings,
            manifests,
            root,
            server: runtime("host")?,
            client: runtime("load")?,
            report: Report::default(),
            served: Carried::default(),
            trivial: None,
            retired: Vec::new(),
        })
    }

    /// Path of a built component, or an error saying how to build it.
    pub fn component(&self, name: &str) -> Result<PathBuf> {
        let p = self
            .root
            .join(format!("target/wasm32-wasip2/component/{name}.wasm"));
        if !p.exists() {
            return Err(anyhow!(
                "{} is missing: build the components first with `{BUILD_COMPONENTS}`",
                p.display()
            ));
        }
        Ok(p)
    }

    /// The gateway app (spin.toml: gateway + pusher), loaded with a fresh SQLite store, not
    /// yet served.
    pub fn gateway(&self, variables: &[(&str, String)]) -> Result<Served> {
        self.component("gateway")?;
        self.component("pusher")?;
        let manifest = match &self.manifests.gateway {
            Some(p) => p.clone(),
            None => self.root.join("spin.toml"),
        };
        Served::load(&self.server, &manifest, variables)
    }

    /// Stops a scenario's app; its state is removed only when the run ends.
    pub fn retire(&mut self, mut app: Served) {
        app.stop();
        self.retired.push(app);
    }

    /// The served trivial baseline app, started once.
    pub fn trivial(&mut self) -> Result<SocketAddr> {
        if self.trivial.is_none() {
            self.component("trivial")?;
            let manifest = self.root.join("benches/trivial/spin.toml");
            let mut app = Served::load(&self.server, &manifest, &[])?;
            app.serve(&self.server)?;
            self.trivial = Some(app);
        }
        match &self.trivial {
            Some(app) => app.addr(),
            None => Err(anyhow!("the trivial app did not start")),
        }
    }

    /// Increments the trivial app's baseline counter once and returns the new value (the
    /// route answers the value it wrote).
    pub fn trivial_counter(&mut self) -> Result<u64> {
        let addr = self.trivial()?;
        let req = load::request("GET", TRIVIAL_ROUTE, "");
        let body = self.client.block_on(load::expect_ok(addr, req))?;
        let text = String::from_utf8_lossy(&body);
        text.trim()
            .parse()
            .map_err(|_| anyhow!("the trivial app answered {text:?}, not a counter value"))
    }

    /// Runs a load plan from the load generator's runtime.
    pub fn load(&self, addr: SocketAddr, plan: Plan, make: MakeRequest) -> Result<Run> {
        self.client.block_on(load::run(addr, plan, make))
    }

    /// Loads the baseline for `baseline()` and the subject for `measure` in alternating
    /// slices (several rounds in a full run), so that both see the same machine: the
    /// machines are shared and their speed drifts within seconds.
    pub fn paired(&self, clients: usize, baseline: Target, subject: Target) -> Result<(Run, Run)> {
        let rounds = if self.settings.quick {
            1
        } else {
            PAIRED_ROUNDS
        };
        let plan = |total: Duration| Plan {
            clients,
            duration: total / rounds,
            max_per_client: u64::MAX,
        };
        let empty = || Run {
            answers: Vec::new(),
            window: Duration::ZERO,
            cpu: Some(Duration::ZERO),
        };
        let (mut base, mut subj) = (empty(), empty());
        for _ in 0..rounds {
            let slice = load::run_from(
                baseline.0,
                plan(self.settings.baseline()),
                baseline.1.clone(),
                base.next_seq(),
            );
            base.extend(self.client.block_on(slice)?);
            let slice = load::run_from(
                subject.0,
                plan(self.settings.measure),
                subject.1.clone(),
                subj.next_seq(),
            );
            subj.extend(self.client.block_on(slice)?);
        }
        Ok((base, subj))
    }

    /// A fresh Pushgateway, or `None` (with a note) when it is missing and
    /// `PROMAGG_SKIP_EXTERNAL=1` allows going on without it.
    pub fn pushgateway(&mut self) -> Result<Option<Pushgateway>> {
        if pushgateway::binary().is_none() && skip_external() {
            self.report.note(format!(
                "{}: its baselines were skipped (PROMAGG_SKIP_EXTERNAL=1).",
                pushgateway::MISSING
            ));
            return Ok(None);
        }
        Pushgateway::start(&self.client)
            .map(Some)
            .map_err(|e| anyhow!("{e:#} (set PROMAGG_SKIP_EXTERNAL=1 to skip its baselines)"))
    }
}

/// True when missing external tools may be skipped (the e2e tests' convention).
pub fn skip_external() -> bool {
    std::env::var("PROMAGG_SKIP_EXTERNAL").is_ok_and(|v| v == "1")
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// How long to wait so that a pusher run started now gets its lease without waiting inside
/// the run: zero early in an epoch that had no run yet (`last_run_epoch`), else until just
/// after the next epoch starts. (A run on demand that finds its epoch taken or half over
/// sleeps until the next one, and that sleep would count as run time.)
pub fn wait_for_run_window(now_ms: u64, last_run_epoch: Option<u64>) -> Duration {
    let into = now_ms % EPOCH_MS;
    let fresh = last_run_epoch != Some(now_ms / EPOCH_MS);
    if fresh && into <= EPOCH_MS * 2 / 5 {
        Duration::ZERO
    } else {
        Duration::from_millis(EPOCH_MS - into + 200)
    }
}

/// The lease epoch `now_ms` falls in.
pub fn epoch_of(now_ms: u64) -> u64 {
    now_ms / EPOCH_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_window_waits_late_in_an_epoch_or_when_it_had_its_run() {
        assert_eq!(wait_for_run_window(1_000_000, None), Duration::ZERO);
        assert_eq!(wait_for_run_window(1_004_000, Some(99)), Duration::ZERO);
        assert_eq!(
            wait_for_run_window(1_004_001, None),
            Duration::from_millis(6_199)
        );
        assert_eq!(
            wait_for_run_window(1_009_900, None),
            Duration::from_millis(300)
        );
        assert_eq!(
            wait_for_run_window(1_000_900, Some(epoch_of(1_000_200))),
            Duration::from_millis(9_300),
            "the epoch already had its run"
        );
    }
}
