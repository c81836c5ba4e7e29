//! The Redis backend against a real `redis-server` (started by the test on a free port):
//! Spin's Redis quirks, and two host instances sharing one store.
//!
//! Needs `redis-server` on PATH (`apt-get install redis-server`; CI installs it). Set
//! `PROMAGG_SKIP_EXTERNAL=1` to skip on a machine without it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use spin_test_host::kv::redis::RedisKv;
use spin_test_host::kv::{KvStore, SwapError};
use spin_test_host::{App, KvBackend, Options};

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn skip() -> bool {
    std::env::var("PROMAGG_SKIP_EXTERNAL").is_ok_and(|v| v == "1")
}

async fn redis() -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start redis-server ({e}): install it with `apt-get install redis-server`, or set PROMAGG_SKIP_EXTERNAL=1")
        });
    let server = Server {
        child,
        url: format!("redis://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("redis-server did not start on port {port}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spin_redis_store_quirks() {
    if skip() {
        eprintln!("skipped: PROMAGG_SKIP_EXTERNAL=1");
        return;
    }
    let server = redis().await;
    let s = RedisKv::new(&server.url).unwrap();

    // increment is INCRBY: decimal text, not 8-byte little-endian.
    assert_eq!(s.increment("n".into(), 5).await.unwrap(), 5);
    assert_eq!(s.get("n").await.unwrap(), Some(b"5".to_vec()));

    // Every swap reports cas-failed (`UNWATCH <key>` is rejected), yet it wrote.
    s.set("k", b"1").await.unwrap();
    let cas = s.new_cas("k").await.unwrap();
    assert_eq!(cas.current().await.unwrap(), Some(b"1".to_vec()));
    assert!(matches!(
        cas.swap(b"2".to_vec()).await,
        Err(SwapError::CasFailed(_))
    ));
    assert_eq!(s.get("k").await.unwrap(), Some(b"2".to_vec()));

    // A swap whose key changed after current(): EXEC is aborted, nothing is written, and
    // the result is the same cas-failed.
    let stale = s.new_cas("k").await.unwrap();
    stale.current().await.unwrap();
    s.set("k", b"9").await.unwrap();
    assert!(matches!(
        stale.swap(b"3".to_vec()).await,
        Err(SwapError::CasFailed(_))
    ));
    assert_eq!(s.get("k").await.unwrap(), Some(b"9".to_vec()));

    // get-many sends `KEYS k1 k2`: broken.
    assert!(s.get_many(vec!["k".into(), "n".into()]).await.is_err());

    // Labels share one keyspace; listing is KEYS *.
    let other = RedisKv::new(&server.url).unwrap();
    let mut keys = other.get_keys().await.unwrap();
    keys.sort();
    assert_eq!(keys, vec!["k", "n"]);
    other
        .delete_many(vec!["k".into(), "n".into()])
        .await
        .unwrap();
    assert!(s.get_keys().await.unwrap().is_empty());
}

fn manifest() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let wasm = root.join("target/wasm32-wasip2/component/trivial.wasm");
    assert!(
        wasm.exists(),
        "{} is missing: build the fixture first with \
         `cargo build --target wasm32-wasip2 --profile component -p trivial`",
        wasm.display()
    );
    root.join("benches/trivial/spin.toml")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hosts_share_one_redis_store() {
    if skip() {
        eprintln!("skipped: PROMAGG_SKIP_EXTERNAL=1");
        return;
    }
    let server = redis().await;
    let state = tempfile::tempdir().unwrap();
    let options = Options {
        kv: KvBackend::Redis(server.url.clone()),
        state_dir: Some(state.path().to_path_buf()),
        env_variables: false,
        ..Options::default()
    };
    let a = App::load(manifest(), options.clone()).await.unwrap();
    let b = App::load(manifest(), options).await.unwrap();
    let get = |app: App, path: &'static str| async move { crate::support::get(&app, path).await };
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let app = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(get(app, "/atomic"))
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().0, 200);
    }
    assert_eq!(get(b.clone(), "/atomic").await, (200, "41".to_string()));
    assert_eq!(
        get(a.clone(), "/batch").await.0,
        500,
        "get-many is broken on Redis"
    );
    assert!(!state.path().join("sqlite_key_value.db").exists());
}
