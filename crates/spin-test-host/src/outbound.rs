//! Outbound HTTP from components, as Spin's `factor-outbound-http` and the HTTP trigger's
//! interceptor handle it.
//!
//! Every request is checked against the component's `allowed_outbound_hosts` first (a
//! refusal is `error-code.http-request-denied`). A relative URL or the `self.alt` host is a
//! self request (allowed by `http://self`): it goes through the app's router in-process.
//! A `http://<component>.spin.internal/...` request is service chaining: it runs that
//! component directly (its `/...` route, client address `0.0.0.0:0`), whatever its route,
//! private ones included. Anything else goes to the network.
//!
//! A component dependency that does not inherit its parent's configuration gets no
//! outbound HTTP at all: every request fails with `internal-error("Access denied")`, what
//! Spin's deny adapter answers.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use http::header::HOST;
use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use crate::allowed_hosts::{service_chaining_target, AllowedHosts, OutboundUrl};
use crate::app::AppInner;
use crate::http_trigger;
use crate::routes::RouteMatch;

/// Client address Spin gives a chained request.
const CHAINED_CLIENT_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0);

/// Client address of an in-process self request.
const SELF_CLIENT_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

/// What Spin's deny adapter answers a dependency's outbound request with.
pub const DENIED_BY_ADAPTER: &str = "Access denied";

/// The wasi:http hooks of one instance.
pub struct OutboundHooks {
    app: Arc<AppInner>,
    component_id: Arc<str>,
    allowed: Arc<AllowedHosts>,
    isolated: bool,
}

impl OutboundHooks {
    /// Hooks for an instance of `component_id`; `isolated` denies every request as Spin's
    /// deny adapter does for a dependency without inherited configuration.
    pub fn new(
        app: Arc<AppInner>,
        component_id: Arc<str>,
        allowed: Arc<AllowedHosts>,
        isolated: bool,
    ) -> Self {
        OutboundHooks {
            app,
            component_id,
            allowed,
            isolated,
        }
    }

    /// The app the instance belongs to.
    pub fn app(&self) -> &Arc<AppInner> {
        &self.app
    }
}

type IoFuture = Box<dyn Future<Output = Result<(), Error>> + Send>;
type SendResult = Result<(http::Response<WasiBody>, IoFuture), Error>;

fn done() -> IoFuture {
    Box::new(async { Ok(()) })
}

impl WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: IoFuture,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        if self.isolated {
            return Box::new(async {
                Err(Error::InternalError(Some(DENIED_BY_ADAPTER.to_string())))
            });
        }
        let app = self.app.clone();
        let allowed = self.allowed.clone();
        let component = self.component_id.clone();
        Box::new(send(app, component, allowed, request, options))
    }
}

fn is_self_request(uri: &http::Uri) -> bool {
    match uri.authority() {
        Some(a) => a.host().is_empty() || a.host() == "self.alt",
        None => true,
    }
}

async fn send(
    app: Arc<AppInner>,
    component: Arc<str>,
    allowed: Arc<AllowedHosts>,
    mut request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
) -> SendResult {
    let is_self = is_self_request(request.uri());
    let permitted = if is_self {
        allowed.allows_relative(&["http", "https"])
    } else {
        OutboundUrl::from_uri(request.uri(), "https").is_ok_and(|u| allowed.allows(&u))
    };
    if !permitted {
        eprintln!(
            "A component tried to make an HTTP request to a non-allowed host: component {component:?}, url {}",
            request.uri()
        );
        return Err(Error::HttpRequestDenied);
    }
    request.headers_mut().remove(HOST);
    let internal = |e: anyhow::Error| Error::InternalError(Some(format!("{e:#}")));

    if is_self {
        let authority = app.self_authority();
        let path = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let uri = format!("http://{authority}{path}")
            .parse::<http::Uri>()
            .map_err(|_| Error::HttpRequestUriInvalid)?;
        *request.uri_mut() = uri;
        let host =
            http::HeaderValue::from_str(&authority).map_err(|_| Error::HttpRequestUriInvalid)?;
        request.headers_mut().insert(HOST, host);
        let resp = http_trigger::handle(app, request, http::uri::Scheme::HTTP, SELF_CLIENT_ADDR)
            .await
            .map_err(internal)?;
        return Ok((resp, done()));
    }

    let target = request
        .uri()
        .authority()
        .and_then(|a| service_chaining_target(a.host()))
        .map(str::to_string);
    if let Some(target) = target {
        let path = request.uri().path().to_string();
        let route = RouteMatch::synthetic(&target, &path);
        let resp = http_trigger::handle_route(
            app,
            request,
            route,
            http::uri::Scheme::HTTP,
            CHAINED_CLIENT_ADDR,
        )
        .await
        .map_err(internal)?;
        return Ok((resp, done()));
    }

    // Spin's hyper-util client derives `Host` from the URI; the low-level client used here
    // does not, so set it the same way.
    if let Some(authority) = request.uri().authority() {
        let host = http::HeaderValue::from_str(authority.as_str())
            .map_err(|_| Error::HttpRequestUriInvalid)?;
        request.headers_mut().insert(HOST, host);
    }
    let (resp, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
    Ok((resp.map(BodyExt::boxed_unsync), Box::new(io)))
}
