//! Read routes: `GET /metrics` (with self-metrics), `GET /`, the JSON API and `/-/ready`.

use http::{HeaderValue, Method, Request, Response};

use crate::engine;
use crate::engine::rendered::Scrape;
use crate::render::negotiate::{close, negotiate, render, render_open};
use crate::store::Store;

use super::overview::Overview;
use super::selfmetrics::Stats;
use super::{json, selfmetrics, status, text_response, ApiConfig, ApiError, Ctx};

/// A 200 with `body` and its content type (no body for `HEAD`).
fn respond(req: &Request<Vec<u8>>, content_type: &'static str, body: String) -> Response<Vec<u8>> {
    let mut resp = text_response(200, "");
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    if req.method() != Method::HEAD {
        *resp.body_mut() = body.into_bytes();
    }
    resp
}

/// `GET /metrics`: every series plus the self-metrics, content-negotiated (text 0.0.4 or
/// OpenMetrics), from one listing and one batch read: of the exposition the last fold stored
/// when nothing is pending, else of the shards and pending writes.
pub fn metrics<S: Store>(
    store: &S,
    cfg: &ApiConfig,
    req: &Request<Vec<u8>>,
) -> Result<Response<Vec<u8>>, ApiError> {
    let accept = req
        .headers()
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let format = negotiate(accept);
    let listing = match engine::rendered::load(store, &cfg.engine, format)? {
        Scrape::Full(listing) => listing,
        Scrape::Stored(stored) => {
            let own = selfmetrics::families(&Stats::of_stored(&stored));
            let (own_text, _) = render_open(format, &own, "");
            let mut body = String::with_capacity(stored.body.len() + own_text.len() + 8);
            body.push_str(&stored.body[..stored.splice_at]);
            body.push_str(&own_text);
            body.push_str(&stored.body[stored.splice_at..]);
            close(format, &mut body);
            return Ok(respond(req, format.content_type(), body));
        }
    };
    let overview = Overview::load_listed(store, &cfg.engine, listing)?;
    let user_families = overview.state.live_family_count();
    let own = selfmetrics::families(&Stats::of(&overview, user_families));
    let mut families = overview.state.into_families();
    families.extend(own);
    Ok(respond(
        req,
        format.content_type(),
        render(format, &families),
    ))
}

/// `GET /`: the status page.
pub fn status_page<S: Store>(
    store: &S,
    cfg: &ApiConfig,
    ctx: &Ctx,
    req: &Request<Vec<u8>>,
) -> Result<Response<Vec<u8>>, ApiError> {
    let overview = Overview::load(store, &cfg.engine)?;
    let html = status::page(&overview, cfg, ctx.now_ms);
    Ok(respond(req, "text/html; charset=utf-8", html))
}

/// `GET /api/v1/metrics`: the groups and their families, in Pushgateway's JSON shape.
pub fn api_metrics<S: Store>(
    store: &S,
    cfg: &ApiConfig,
    req: &Request<Vec<u8>>,
) -> Result<Response<Vec<u8>>, ApiError> {
    let overview = Overview::load(store, &cfg.engine)?;
    let body = json::success(json::metrics_data(&overview)).to_string();
    Ok(respond(req, "application/json", body))
}

/// `GET /api/v1/status`: the settings in force, in Pushgateway's JSON shape.
pub fn api_status(cfg: &ApiConfig, ctx: &Ctx, req: &Request<Vec<u8>>) -> Response<Vec<u8>> {
    let body = json::success(json::status_data(cfg, ctx.now_ms)).to_string();
    respond(req, "application/json", body)
}

/// `/-/ready`: 200 when the store answers, 503 otherwise.
pub fn ready<S: Store>(store: &S) -> Result<Response<Vec<u8>>, ApiError> {
    match store.exists(engine::keys::META) {
        Ok(_) => Ok(text_response(200, "OK\n")),
        Err(e) => Err(ApiError::new(503, format!("store unreachable: {e}"))),
    }
}
