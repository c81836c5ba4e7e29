//! The gateway's HTTP API, independent of Spin: a request and a store in, a response out.
//!
//! The Spin component only adapts `wasi:http` and the key-value store to this module, so the
//! whole API is unit-tested natively against the quirk-faithful in-memory stores.

mod auth;
mod error;
mod html;
mod json;
mod overview;
pub mod query;
mod read;
mod selfmetrics;
mod settings;
mod status;
mod timefmt;
mod write;

pub use auth::{AuthConfig, Scope};
pub use error::ApiError;
pub use query::{parse_duration_ms, QueryError};
pub use write::{parse_ttl_prefixes, TtlRuleError};

use http::{Method, Request, Response, StatusCode};

use crate::engine::EngineConfig;
use crate::store::Store;

/// Gateway settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApiConfig {
    /// Engine settings (backend, shards, limits).
    pub engine: EngineConfig,
    /// TTL given to pushed series when the request sets none, ms.
    pub default_ttl_ms: Option<i64>,
    /// TTLs by metric-name prefix (client libraries cannot add query parameters), ms.
    pub ttl_by_prefix: Vec<(String, i64)>,
    /// Tokens and scopes.
    pub auth: AuthConfig,
}

/// Per-request facts the host supplies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ctx {
    /// Arrival time, ms since the epoch.
    pub now_ms: i64,
    /// A random number (makes delta keys unique).
    pub nonce: u64,
}

/// A response with a plain-text body.
pub fn text_response(status: u16, body: impl Into<String>) -> Response<Vec<u8>> {
    let mut resp = Response::new(body.into().into_bytes());
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// Serves one request of the gateway API.
pub fn handle<S: Store>(
    store: &S,
    cfg: &ApiConfig,
    ctx: &Ctx,
    req: &Request<Vec<u8>>,
) -> Response<Vec<u8>> {
    route(store, cfg, ctx, req).unwrap_or_else(|e| {
        selfmetrics::record_rejection(store, &cfg.engine, &e);
        e.into_response()
    })
}

fn read_only(method: &Method) -> Result<(), ApiError> {
    match *method {
        Method::GET | Method::HEAD => Ok(()),
        _ => Err(ApiError::method_not_allowed("GET, HEAD")),
    }
}

fn route<S: Store>(
    store: &S,
    cfg: &ApiConfig,
    ctx: &Ctx,
    req: &Request<Vec<u8>>,
) -> Result<Response<Vec<u8>>, ApiError> {
    let path = req.uri().path();
    let method = req.method();
    let auth = |scope| cfg.auth.check(req, scope);
    match path {
        "/-/healthy" => {
            read_only(method)?;
            return Ok(text_response(200, "OK\n"));
        }
        "/-/ready" => {
            read_only(method)?;
            return read::ready(store);
        }
        "/" => {
            read_only(method)?;
            auth(Scope::Read)?;
            return read::status_page(store, cfg, ctx, req);
        }
        "/api/v1/metrics" => {
            read_only(method)?;
            auth(Scope::Read)?;
            return read::api_metrics(store, cfg, req);
        }
        "/api/v1/status" => {
            read_only(method)?;
            auth(Scope::Read)?;
            return Ok(read::api_status(cfg, ctx, req));
        }
        "/metrics" | "/metrics/" => {
            return match *method {
                Method::GET | Method::HEAD => {
                    auth(Scope::Read)?;
                    read::metrics(store, cfg, req)
                }
                Method::POST | Method::PUT => {
                    auth(Scope::Write)?;
                    write::push_body(store, cfg, ctx, req, None)
                }
                _ => Err(ApiError::method_not_allowed("GET, HEAD, POST, PUT")),
            }
        }
        _ => {}
    }
    let Some(rest) = path.strip_prefix("/metrics/") else {
        return Err(ApiError::new(404, format!("no route for {path}")));
    };
    let is_group = rest.starts_with("job/") || rest.starts_with("job@base64/");
    let is_all = rest.trim_end_matches('/') == "__all";
    if is_all {
        // A path, not a metric name: PATCH here must not create a counter named `__all`.
        if method != Method::DELETE {
            return Err(ApiError::method_not_allowed("DELETE"));
        }
        auth(Scope::Admin)?;
        return write::delete_series(store, cfg, ctx, req, rest);
    }
    match (method.clone(), is_group) {
        (Method::PUT | Method::POST, true) => {
            auth(Scope::Write)?;
            write::push_group(store, cfg, ctx, req, rest)
        }
        (Method::DELETE, true) => {
            auth(Scope::Write)?;
            write::delete_group(store, cfg, ctx, rest)
        }
        (Method::PATCH, false) => {
            auth(Scope::Write)?;
            write::patch_counter(store, cfg, ctx, req, rest)
        }
        (Method::DELETE, false) => {
            auth(Scope::Write)?;
            write::delete_series(store, cfg, ctx, req, rest)
        }
        (_, true) => Err(ApiError::method_not_allowed("PUT, POST, DELETE")),
        (_, false) => Err(ApiError::method_not_allowed("PATCH, DELETE")),
    }
}

#[cfg(test)]
mod ops_tests;
#[cfg(test)]
mod scrape_tests;
#[cfg(test)]
mod tests;
