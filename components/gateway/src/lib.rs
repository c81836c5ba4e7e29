//! promagg's HTTP component: adapts `wasi:http` and the Spin key-value store to the core's
//! API (`promagg::api`), where every route lives and is tested.

use promagg::api::{self, text_response, Ctx};
use promagg_spin::{config, kv::SpinStore, now_ms, random_u64};
use spin_sdk::http_component;

/// Serves one request of the gateway API.
#[http_component]
fn handle(req: http::Request<Vec<u8>>) -> anyhow::Result<http::Response<Vec<u8>>> {
    let cfg = match config::api_config() {
        Ok(cfg) => cfg,
        Err(e) => {
            return Ok(reject(
                &req,
                text_response(500, format!("configuration: {e:#}\n")),
            ))
        }
    };
    let store = match SpinStore::open("default") {
        Ok(s) => s,
        Err(e) => return Ok(reject(&req, text_response(503, format!("{e}\n")))),
    };
    let ctx = Ctx {
        now_ms: now_ms(),
        nonce: random_u64(),
    };
    let resp = api::handle(&store, &cfg, &ctx, &req);
    Ok(if resp.status().as_u16() >= 400 {
        reject(&req, resp)
    } else {
        resp
    })
}

/// Logs one line per rejected request (the reason, never a credential).
fn reject(req: &http::Request<Vec<u8>>, resp: http::Response<Vec<u8>>) -> http::Response<Vec<u8>> {
    let reason = String::from_utf8_lossy(resp.body());
    eprintln!(
        "promagg: {} {} -> {}: {}",
        req.method(),
        req.uri().path(),
        resp.status().as_u16(),
        reason.trim_end()
    );
    resp
}
