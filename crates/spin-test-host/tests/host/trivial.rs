//! The host runs the real `benches/trivial` component: every interface it imports, over
//! `App::handle` and over real HTTP.
//!
//! Build the component first:
//! `cargo build --target wasm32-wasip2 --profile component -p trivial`

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::support::get;
use spin_test_host::{App, HostProfile, KvBackend, Options, Semantics};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn manifest() -> PathBuf {
    let wasm = repo().join("target/wasm32-wasip2/component/trivial.wasm");
    assert!(
        wasm.exists(),
        "{} is missing: build the fixture first with \
         `cargo build --target wasm32-wasip2 --profile component -p trivial`",
        wasm.display()
    );
    repo().join("benches/trivial/spin.toml")
}

fn options(state: &tempfile::TempDir) -> Options {
    Options {
        state_dir: Some(state.path().to_path_buf()),
        env_variables: false,
        ..Options::default()
    }
}

/// 8 clients send 50 requests each to `path` over HTTP; returns every response body.
async fn hammer(addr: std::net::SocketAddr, path: &'static str) -> Vec<String> {
    use http_body_util::BodyExt;
    let mut clients = Vec::new();
    for _ in 0..8 {
        clients.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .unwrap();
            tokio::spawn(conn);
            let mut bodies = Vec::new();
            for _ in 0..50 {
                let req = http::Request::get(path)
                    .header("host", addr.to_string())
                    .body(http_body_util::Empty::<bytes::Bytes>::new())
                    .unwrap();
                sender.ready().await.unwrap();
                let resp = sender.send_request(req).await.unwrap();
                let status = resp.status();
                let body = resp.into_body().collect().await.unwrap().to_bytes();
                let body = String::from_utf8(body.to_vec()).unwrap();
                assert_eq!(status, 200, "{path}: {body}");
                bodies.push(body);
            }
            bodies
        }));
    }
    let mut all = Vec::new();
    for c in clients {
        all.extend(c.await.unwrap());
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_clients_fifty_requests_each_count_exactly_four_hundred_on_sqlite() {
    let state = tempfile::tempdir().unwrap();
    let app = App::load(manifest(), options(&state)).await.unwrap();
    let server = app.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();

    // `atomics::increment`: one SQLite transaction per request, exact.
    let bodies = hammer(server.addr(), "/atomic").await;
    let mut values: Vec<u64> = bodies.iter().map(|b| b.parse().unwrap()).collect();
    values.sort_unstable();
    assert_eq!(
        values,
        (1..=400).collect::<Vec<_>>(),
        "each request saw its own value"
    );
    assert_eq!(get(&app, "/atomic").await, (200, "401".to_string()));

    // A CAS loop on a key that exists: exact too, with retries.
    assert_eq!(get(&app, "/cas").await, (200, "1 1".to_string()));
    hammer(server.addr(), "/cas").await;
    assert_eq!(get(&app, "/cas").await.1.split(' ').next(), Some("402"));

    // The baseline route reads with `get` and writes with `set`: every request is one
    // changing write, but concurrent requests race as they do under `spin up`, so updates
    // may be lost; the counter can only end at or below 400.
    let bodies = hammer(server.addr(), "/").await;
    let max: u64 = bodies
        .iter()
        .map(|b| b.parse::<u64>().unwrap())
        .max()
        .unwrap();
    let (_, next) = get(&app, "/").await;
    assert_eq!(next.parse::<u64>().unwrap(), max + 1);
    assert!(max <= 400, "{max}");
    assert!(state.path().join("sqlite_key_value.db").exists());
    drop(server);

    // A restart over the same file keeps the data.
    let restarted = app.reload().await.unwrap();
    assert_eq!(get(&restarted, "/atomic").await, (200, "402".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasi_keyvalue_atomics_cas_batch_and_listing() {
    let state = tempfile::tempdir().unwrap();
    let app = App::load(manifest(), options(&state)).await.unwrap();
    assert_eq!(get(&app, "/atomic").await, (200, "1".to_string()));
    assert_eq!(get(&app, "/atomic").await, (200, "2".to_string()));
    assert_eq!(get(&app, "/cas").await, (200, "1 1".to_string()));
    assert_eq!(get(&app, "/cas").await, (200, "2 1".to_string()));
    // Spin's SQLite get-many returns only present keys: all 5 were just set.
    assert_eq!(get(&app, "/batch?n=5").await, (200, "5".to_string()));
    let (status, keys) = get(&app, "/keys").await;
    assert_eq!(status, 200, "{keys}");
    assert_eq!(keys, "atomic\ncas");
}

/// Spin 3.6.3 pages nothing: `list-keys` with any cursor is the store error "list_keys: cursor
/// not supported" (and the guest sees it as an error, not as an empty page), while the same
/// store lists every key without one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_keys_refuses_a_cursor_like_spin() {
    let state = tempfile::tempdir().unwrap();
    let app = App::load(manifest(), options(&state)).await.unwrap();
    assert_eq!(get(&app, "/atomic").await, (200, "1".to_string()));
    for cursor in ["0", "", "atomic"] {
        let (status, body) = get(&app, &format!("/keys-cursor?cursor={cursor}")).await;
        assert_eq!(status, 500, "cursor {cursor:?}: {body}");
        assert_eq!(
            body,
            format!("list-keys from cursor {cursor:?}: Error::Other(\"list_keys: cursor not supported\")")
        );
    }
    assert_eq!(get(&app, "/keys").await, (200, "atomic".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_cas_conflicts_are_retried_by_the_guest() {
    let state = tempfile::tempdir().unwrap();
    let app = App::load(manifest(), options(&state)).await.unwrap();
    app.faults().inject_cas_conflicts(3);
    assert_eq!(get(&app, "/cas").await, (200, "1 4".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_increment_on_a_non_eight_byte_value_traps_like_spins_panic() {
    let state = tempfile::tempdir().unwrap();
    let app = App::load(manifest(), options(&state)).await.unwrap();
    assert_eq!(get(&app, "/atomic").await, (200, "1".to_string()));
    let db = rusqlite::Connection::open(state.path().join("sqlite_key_value.db")).unwrap();
    // Stored as 8-byte little-endian, as Spin's SQLite store does.
    let stored: Vec<u8> = db
        .query_row(
            "SELECT value FROM spin_key_value WHERE store='default' AND key='atomic'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 1i64.to_le_bytes());
    db.execute(
        "UPDATE spin_key_value SET value=x'010203' WHERE store='default' AND key='atomic'",
        [],
    )
    .unwrap();
    // Spin's host panics (`expect("incorrect length")`); here the instance traps: empty 500.
    assert_eq!(get(&app, "/atomic").await, (500, String::new()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_backend_exposes_the_store_and_faults() {
    let state = tempfile::tempdir().unwrap();
    let app = App::load(
        manifest(),
        Options {
            kv: KvBackend::Memory(Semantics::Redis),
            ..options(&state)
        },
    )
    .await
    .unwrap();
    assert_eq!(get(&app, "/").await, (200, "1".to_string()));
    let store = app.memory_store("default").unwrap();
    assert_eq!(store.dump().get("counter"), Some(&b"1".to_vec()));
    // Redis semantics: every swap reports cas-failed, so the guest gives up.
    let (status, body) = get(&app, "/cas").await;
    assert_eq!(status, 500);
    assert!(body.contains("gave up"), "{body}");
    // Redis semantics: batch get is broken.
    assert_eq!(get(&app, "/batch").await.0, 500);
    app.faults().set_unreachable(true);
    let (status, body) = get(&app, "/").await;
    assert_eq!(status, 500);
    assert!(body.contains("unreachable"), "{body}");
    app.faults().set_unreachable(false);
    app.faults().fail_nth(2);
    assert_eq!(
        get(&app, "/").await.0,
        500,
        "the set (second operation) fails"
    );
    assert_eq!(get(&app, "/").await, (200, "2".to_string()));
    assert!(!state.path().join("sqlite_key_value.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variables_come_from_templates_and_providers() {
    let state = tempfile::tempdir().unwrap();
    let app = App::load(manifest(), options(&state)).await.unwrap();
    assert_eq!(
        get(&app, "/variable").await,
        (200, "hello, world".to_string())
    );
    let app = App::load(
        manifest(),
        Options {
            variables: BTreeMap::from([("greeting".to_string(), "bonjour".to_string())]),
            ..options(&state)
        },
    )
    .await
    .unwrap();
    assert_eq!(
        get(&app, "/variable").await,
        (200, "bonjour, world".to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spin_headers_reach_the_component() {
    let state = tempfile::tempdir().unwrap();
    let app = App::load(manifest(), options(&state)).await.unwrap();
    let (status, headers) = get(&app, "/headers?x=1").await;
    assert_eq!(status, 200);
    for expected in [
        "spin-base-path: /",
        "spin-client-addr: 127.0.0.1:0",
        "spin-component-route: ",
        "spin-full-url: http://localhost:3000/headers?x=1",
        "spin-matched-route: /...",
        "spin-path-info: /headers",
        "spin-raw-component-route: /...",
    ] {
        assert!(
            headers.lines().any(|l| l == expected),
            "{expected:?} in\n{headers}"
        );
    }
    assert_eq!(
        get(&app, "/.well-known/spin/health").await,
        (200, "OK".to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_http_is_checked_and_can_reach_self_and_local_servers() {
    let state = tempfile::tempdir().unwrap();
    let app = App::load(manifest(), options(&state)).await.unwrap();
    let server = app.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
    // Allowed by "http://127.0.0.1:*": the request goes over the network to our own server.
    let url = format!("{}/variable", server.url());
    let (status, body) = get(&app, &format!("/outbound?url={url}")).await;
    assert_eq!((status, body.as_str()), (200, "200 hello, world"));
    // Not allowed: refused before any connection.
    let (status, body) = get(&app, "/outbound?url=http://example.com/").await;
    assert_eq!(status, 500);
    assert!(body.contains("HttpRequestDenied"), "{body}");
    // Allowed by "http://self": a relative URL runs through the app's router.
    let (status, body) = get(&app, "/outbound?url=/variable").await;
    assert_eq!((status, body.as_str()), (200, "200 hello, world"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_profile_refuses_a_component_importing_atomics() {
    let state = tempfile::tempdir().unwrap();
    let err = App::load(
        manifest(),
        Options {
            profile: HostProfile::Cloud,
            ..options(&state)
        },
    )
    .await
    .unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("wasi:keyvalue/atomics@0.2.0-draft2"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_handles_share_one_app() {
    let state = tempfile::tempdir().unwrap();
    let app = Arc::new(App::load(manifest(), options(&state)).await.unwrap());
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                for _ in 0..10 {
                    assert_eq!(get(&app, "/atomic").await.0, 200);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(get(&app, "/atomic").await, (200, "41".to_string()));
}
