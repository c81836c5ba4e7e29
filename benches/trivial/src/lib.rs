//! Benchmark baseline and test-host fixture.
//!
//! The default route makes exactly one changing key-value write per request (a counter
//! read with `get` and written back incremented with `set`), the cost every durable update
//! pays on Spin. The other routes exercise each Spin interface the real components import,
//! so the test host is proven on all of them. A cron event (`fermyon:spin-cron@2.0.0`)
//! increments the `cron` key.

use anyhow::{anyhow, Context, Result};
use spin_sdk::http::{IntoResponse, Method, Request, Response};
use spin_sdk::http_component;
use spin_sdk::key_value::Store;
use spin_sdk::wit::wasi::keyvalue::{atomics, batch, store};

wit_bindgen::generate!({
    path: "../../crates/spin-test-host/wit/deps/spin-cron",
    world: "spin-cron",
});

/// Key incremented by every cron event.
const CRON_KEY: &str = "cron";

struct Cron;

impl Guest for Cron {
    /// Counts cron events with `atomics::increment`; fails when the store does.
    fn handle_cron_event(metadata: Metadata) -> Result<(), Error> {
        let count = open_bucket()
            .and_then(|b| {
                atomics::increment(&b, CRON_KEY, 1).map_err(|e| anyhow!("increment: {e:?}"))
            })
            .map_err(|e| Error::Other(format!("{e:#}")))?;
        eprintln!("trivial cron event {count} at {}", metadata.timestamp);
        Ok(())
    }
}

export!(Cron);

/// Key of the legacy-interface counter written by the default route.
const COUNTER_KEY: &str = "counter";
/// Key incremented with `wasi:keyvalue/atomics.increment`.
const ATOMIC_KEY: &str = "atomic";
/// Key incremented by a compare-and-swap loop.
const CAS_KEY: &str = "cas";
/// A CAS loop gives up after this many failed swaps (Redis reports every swap as failed).
const MAX_CAS_ATTEMPTS: u32 = 10_000;

/// Dispatches on the path below the matched route (`spin-path-info`, the whole path under
/// `/...`); every route answers `text/plain`.
#[http_component]
async fn handle(req: Request) -> Result<impl IntoResponse> {
    let path = req
        .header("spin-path-info")
        .and_then(|v| v.as_str())
        .unwrap_or(req.path())
        .to_string();
    let outcome = match path.as_str() {
        "/atomic" => atomic_increment(),
        "/cas" => cas_increment(),
        "/batch" => batch_round_trip(&req),
        "/keys" => list_keys(),
        "/keys-cursor" => list_keys_from_cursor(&req),
        "/variable" => read_variable(),
        "/headers" => Ok(spin_headers(&req)),
        "/outbound" => outbound(&req).await,
        _ => counter_increment(),
    };
    Ok(match outcome {
        Ok(body) => text(200, body),
        Err(e) => text(500, format!("{e:#}")),
    })
}

fn text(status: u16, body: String) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(body)
        .build()
}

fn parse_counter(bytes: Option<Vec<u8>>) -> Result<u64> {
    match bytes {
        None => Ok(0),
        Some(b) => {
            let s = std::str::from_utf8(&b).context("counter is not UTF-8")?;
            s.parse()
                .with_context(|| format!("counter {s:?} is not a number"))
        }
    }
}

/// One `get` and one changing `set` on the legacy `fermyon:spin/key-value` store.
fn counter_increment() -> Result<String> {
    let store = Store::open_default()?;
    let next = parse_counter(store.get(COUNTER_KEY)?)? + 1;
    store.set(COUNTER_KEY, next.to_string().as_bytes())?;
    Ok(next.to_string())
}

fn open_bucket() -> Result<store::Bucket> {
    store::open("default").map_err(|e| anyhow!("open default: {e:?}"))
}

/// `wasi:keyvalue/atomics.increment` by one.
fn atomic_increment() -> Result<String> {
    let bucket = open_bucket()?;
    let value =
        atomics::increment(&bucket, ATOMIC_KEY, 1).map_err(|e| anyhow!("increment: {e:?}"))?;
    Ok(value.to_string())
}

/// A compare-and-swap loop adding one to a decimal counter; answers "value attempts".
fn cas_increment() -> Result<String> {
    let bucket = open_bucket()?;
    let mut cas = atomics::Cas::new(&bucket, CAS_KEY).map_err(|e| anyhow!("cas new: {e:?}"))?;
    for attempt in 1..=MAX_CAS_ATTEMPTS {
        let current = cas.current().map_err(|e| anyhow!("cas current: {e:?}"))?;
        let next = parse_counter(current)? + 1;
        match atomics::swap(cas, next.to_string().as_bytes()) {
            Ok(()) => return Ok(format!("{next} {attempt}")),
            Err(atomics::CasError::CasFailed(retry)) => cas = retry,
            Err(atomics::CasError::StoreError(e)) => return Err(anyhow!("swap: {e:?}")),
        }
    }
    Err(anyhow!(
        "cas: gave up after {MAX_CAS_ATTEMPTS} failed swaps"
    ))
}

fn query_param<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.query()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `set-many` of `n` keys `batch-<i>` (query `n`, default 3), then `get-many` of them;
/// answers how many came back, then deletes them with `delete-many`.
fn batch_round_trip(req: &Request) -> Result<String> {
    let n: usize = query_param(req, "n").unwrap_or("3").parse().context("n")?;
    let bucket = open_bucket()?;
    let entries: Vec<(String, Vec<u8>)> = (0..n)
        .map(|i| (format!("batch-{i}"), i.to_string().into_bytes()))
        .collect();
    batch::set_many(&bucket, &entries).map_err(|e| anyhow!("set-many: {e:?}"))?;
    let keys: Vec<String> = entries.into_iter().map(|(k, _)| k).collect();
    let got = batch::get_many(&bucket, &keys).map_err(|e| anyhow!("get-many: {e:?}"))?;
    let found = got.iter().filter(|(_, v)| v.is_some()).count();
    batch::delete_many(&bucket, &keys).map_err(|e| anyhow!("delete-many: {e:?}"))?;
    Ok(found.to_string())
}

/// Every key of the default store through both interfaces, which must agree.
fn list_keys() -> Result<String> {
    let mut legacy = Store::open_default()?.get_keys()?;
    let mut wasi = open_bucket()?
        .list_keys(None)
        .map_err(|e| anyhow!("list-keys: {e:?}"))?
        .keys;
    legacy.sort();
    wasi.sort();
    if legacy != wasi {
        return Err(anyhow!("key lists differ: {legacy:?} vs {wasi:?}"));
    }
    Ok(legacy.join("\n"))
}

/// `list-keys` from the cursor in query `cursor` (default `0`): Spin refuses every cursor, so
/// this answers the store's error (status 500) there; elsewhere the keys, one a line.
fn list_keys_from_cursor(req: &Request) -> Result<String> {
    let cursor = query_param(req, "cursor").unwrap_or("0").to_string();
    let response = open_bucket()?
        .list_keys(Some(&cursor))
        .map_err(|e| anyhow!("list-keys from cursor {cursor:?}: {e:?}"))?;
    Ok(response.keys.join("\n"))
}

fn read_variable() -> Result<String> {
    spin_sdk::variables::get("greeting").map_err(|e| anyhow!("variable greeting: {e}"))
}

/// The `spin-*` headers the host set, one `name: value` per line, sorted.
fn spin_headers(req: &Request) -> String {
    let mut lines: Vec<String> = req
        .headers()
        .filter(|(name, _)| name.starts_with("spin-"))
        .map(|(name, value)| format!("{name}: {}", String::from_utf8_lossy(value.as_bytes())))
        .collect();
    lines.sort();
    lines.join("\n")
}

/// GETs the URL in query `url` and answers "status body".
async fn outbound(req: &Request) -> Result<String> {
    let url = query_param(req, "url").context("query parameter url is required")?;
    let outgoing = Request::builder().method(Method::Get).uri(url).build();
    let resp: Response = spin_sdk::http::send(outgoing)
        .await
        .map_err(|e| anyhow!("send {url}: {e}"))?;
    Ok(format!(
        "{} {}",
        resp.status(),
        String::from_utf8_lossy(resp.body())
    ))
}
