//! Redis for real: Debian's `redis-server` on a loopback port, two gateway instances of the
//! test host sharing it (as SpinKube replicas or several `spin up` processes would), clients
//! spread over both and both firing their cron schedule: nothing acknowledged is lost.
//!
//! Needs `redis-server` (`apt-get install -y redis-server`; CI installs it). Set
//! `PROMAGG_SKIP_EXTERNAL=1` to skip on a machine without it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use spin_test_host::{App, KvBackend};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{self, fire_cron, free_port, hammer, load, send, Folds, Setup};

/// A `redis-server` on a free loopback port with its files in a temporary directory; killed
/// on drop.
struct RedisServer {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts one; `None` (skip) only when it is missing and PROMAGG_SKIP_EXTERNAL=1.
    async fn start() -> Option<RedisServer> {
        let bin = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
            .into_iter()
            .find(|p| Path::new(p).exists());
        let Some(bin) = bin else {
            assert!(
                support::skip_external(),
                "redis-server is not installed: apt-get install -y redis-server \
                 (or set PROMAGG_SKIP_EXTERNAL=1)"
            );
            return None;
        };
        let dir = support::tempdir();
        let port = free_port();
        let child = Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(dir.path())
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let server = RedisServer {
            child,
            port,
            _dir: dir,
        };
        for _ in 0..100 {
            if server.command(&["PING"]).await.as_deref() == Some("+PONG") {
                return Some(server);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server did not answer PING on port {port}");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Sends one command; returns the first line of the reply.
    async fn command(&self, args: &[&str]) -> Option<String> {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .ok()?;
        let mut req = format!("*{}\r\n", args.len());
        for a in args {
            req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        s.write_all(req.as_bytes()).await.ok()?;
        let mut buf = vec![0u8; 4096];
        let n = s.read(&mut buf).await.ok()?;
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        text.split("\r\n").next().map(str::to_string)
    }

    /// How many keys match `pattern` (`KEYS`, fine for a test-sized store).
    async fn count_keys(&self, pattern: &str) -> usize {
        let reply = self.command(&["KEYS", pattern]).await.expect("KEYS reply");
        reply
            .strip_prefix('*')
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("unexpected KEYS reply {reply:?}"))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn on_redis(url: &str) -> Setup {
    Setup {
        kv: KvBackend::Redis(url.to_string()),
        ..Setup::default()
    }
    .var("kv_backend", "redis")
    // One-second lease epochs, so folds run (and race the writers) during the test.
    .var("push_interval", "1s")
}

async fn total(app: &App) -> f64 {
    let (status, body) = send(app, "GET", "/metrics", "").await;
    assert_eq!(status, 200, "{body}");
    body.lines()
        .filter(|l| l.starts_with("redis_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_real_redis_lose_nothing() {
    let Some(redis) = RedisServer::start().await else {
        eprintln!("skipped: redis-server missing and PROMAGG_SKIP_EXTERNAL=1");
        return;
    };
    let (dir_a, dir_b) = (support::tempdir(), support::tempdir());
    let a = load(on_redis(&redis.url()), dir_a.path()).await;
    let b = load(on_redis(&redis.url()), dir_b.path()).await;
    let apps: Vec<Arc<App>> = vec![a.clone(), b.clone()];

    // Every acknowledged request adds exactly 1 to the family `redis_total`: PATCHes on a hot
    // series and on series each client creates, and text pushes of the same counter.
    let tally = hammer(&apps, Folds::CronOnEveryApp, 16, 150, |c, i| match i % 3 {
        0 => (
            "PATCH",
            "/metrics/redis_total?kind=hot".into(),
            String::new(),
        ),
        1 => (
            "PATCH",
            format!("/metrics/redis_total?kind=own&client={c}"),
            String::new(),
        ),
        _ => (
            "POST",
            "/metrics".into(),
            format!(
                "# TYPE redis_total counter\nredis_total{{kind=\"pushed\",client=\"{}\"}} 1\n",
                c % 4
            ),
        ),
    })
    .await;
    assert_eq!(tally.acked + tally.refused, 16 * 150);
    assert!(tally.acked > 0, "{tally:?}");
    for app in &apps {
        assert_eq!(total(app).await, tally.acked as f64, "{tally:?}");
    }

    // Later folds apply what is left, once. A run starts only in the first half of its lease
    // epoch, so cron fires until one lands there.
    for _ in 0..40 {
        if redis.count_keys("v1/d/*").await == 0 {
            break;
        }
        fire_cron(&a).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(redis.count_keys("v1/d/*").await, 0, "every delta folded");
    assert!(
        redis.count_keys("v1/s/*").await > 0,
        "the aggregate is in shards"
    );
    for app in &apps {
        assert_eq!(total(app).await, tally.acked as f64);
    }
    // A restarted instance (new connections) reads the same from Redis.
    let restarted = b.reload().await.expect("reload");
    assert_eq!(total(&restarted).await, tally.acked as f64);
}
