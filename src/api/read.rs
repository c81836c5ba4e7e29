//! Read routes: `GET /metrics` and `/-/ready`.

use http::{HeaderValue, Method, Request, Response};

use crate::engine;
use crate::render::negotiate::{negotiate, render};
use crate::store::Store;

use super::{text_response, ApiConfig, ApiError};

/// `GET /metrics`: every series, content-negotiated (text 0.0.4 or OpenMetrics).
pub fn metrics<S: Store>(
    store: &S,
    cfg: &ApiConfig,
    req: &Request<Vec<u8>>,
) -> Result<Response<Vec<u8>>, ApiError> {
    let state = engine::load(store, &cfg.engine)?.into_merged()?;
    let accept = req
        .headers()
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let format = negotiate(accept);
    let body = render(format, &state.families_view());
    let mut resp = text_response(200, "");
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if req.method() != Method::HEAD {
        *resp.body_mut() = body.into_bytes();
    }
    Ok(resp)
}

/// `/-/ready`: 200 when the store answers, 503 otherwise.
pub fn ready<S: Store>(store: &S) -> Result<Response<Vec<u8>>, ApiError> {
    match store.exists(engine::keys::META) {
        Ok(_) => Ok(text_response(200, "OK\n")),
        Err(e) => Err(ApiError::new(503, format!("store unreachable: {e}"))),
    }
}
