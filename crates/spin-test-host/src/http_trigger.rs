//! The HTTP trigger, as Spin's `trigger-http` server handles a request.
//!
//! In order: a `Host` naming a service-chaining host is dropped; `/.well-known/spin/health`
//! answers `OK`; the path is routed (no route: empty 404); the URI gets the scheme and the
//! authority of the `Host` header; the `spin-*` headers are added; a fresh instance of the
//! component handles it through `wasi:http/incoming-handler`. A component that fails before
//! responding gives an empty 500.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use http::uri::{Authority, Scheme};
use http::{HeaderName, HeaderValue, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Full};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme as WasiScheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::WasiHttpView;

use crate::allowed_hosts::service_chaining_target;
use crate::app::AppInner;
use crate::routes::RouteMatch;

/// Request and response bodies inside the host.
pub type Body = HyperOutgoingBody;

/// Prefix of the paths Spin answers itself.
pub const WELL_KNOWN_PREFIX: &str = "/.well-known/spin/";

/// A body holding `bytes`.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

fn empty(status: StatusCode) -> Result<Response<Body>> {
    Ok(Response::builder()
        .status(status)
        .body(Empty::new().map_err(|never| match never {}).boxed_unsync())?)
}

/// Handles one request as Spin's server does.
pub async fn handle(
    app: Arc<AppInner>,
    mut req: Request<Body>,
    scheme: Scheme,
    client_addr: SocketAddr,
) -> Result<Response<Body>> {
    let chaining_host = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| service_chaining_target(h).is_some());
    if chaining_host {
        req.headers_mut().remove(http::header::HOST);
    }
    let path = req.uri().path().to_string();
    if let Some(well_known) = path.strip_prefix(WELL_KNOWN_PREFIX) {
        return match well_known {
            "health" => Ok(Response::new(full("OK"))),
            _ => empty(StatusCode::NOT_FOUND),
        };
    }
    match app.router.route(&path) {
        Some(route) => handle_route(app, req, route, scheme, client_addr).await,
        None => empty(StatusCode::NOT_FOUND),
    }
}

/// Runs the component of `route` for `req` (also the entry of service chaining).
pub async fn handle_route(
    app: Arc<AppInner>,
    mut req: Request<Body>,
    route: RouteMatch,
    scheme: Scheme,
    client_addr: SocketAddr,
) -> Result<Response<Body>> {
    set_req_uri(&mut req, scheme)?;
    if !app.is_http_component(&route.component_id) {
        bail!("unknown routing destination '{}'", route.component_id);
    }
    match execute(&app, req, &route, client_addr).await {
        Ok(resp) => Ok(resp),
        Err(e) => {
            eprintln!("Error processing request: {e:?}");
            empty(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// Gives the URI the server's scheme and the authority of the `Host` header.
fn set_req_uri(req: &mut Request<Body>, scheme: Scheme) -> Result<()> {
    let mut parts = req.uri().clone().into_parts();
    let header_authority = req
        .headers()
        .get(http::header::HOST)
        .map(|h| -> Result<Authority> {
            let host = h.to_str().context("'Host' header is not valid UTF-8")?;
            host.parse()
                .context("'Host' header contains an invalid authority")
        })
        .transpose()?;
    let authority = match (header_authority, parts.authority.take()) {
        (None, None) => bail!("no 'Host' header present in request"),
        (None, Some(a)) | (Some(a), None) => a,
        (Some(a1), Some(a2)) => {
            if a1 != a2 {
                bail!("authority in 'Host' header does not match authority in URI");
            }
            a1
        }
    };
    parts.scheme = Some(scheme);
    parts.authority = Some(authority);
    if parts.path_and_query.is_none() {
        parts.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
    }
    *req.uri_mut() = Uri::from_parts(parts)?;
    Ok(())
}

/// The `spin-*` headers Spin adds (`trigger-http/src/headers.rs`).
pub fn spin_headers(
    uri: &Uri,
    host: &str,
    route: &RouteMatch,
    client_addr: SocketAddr,
) -> Vec<(String, String)> {
    let abs_path = uri.path_and_query().map_or("/", |p| p.as_str());
    let scheme = uri.scheme_str().unwrap_or("http");
    let mut headers = vec![
        (
            "spin-path-info".to_string(),
            route.trailing_wildcard.clone(),
        ),
        (
            "spin-full-url".to_string(),
            format!("{scheme}://{host}{abs_path}"),
        ),
        ("spin-matched-route".to_string(), route.based_route.clone()),
        ("spin-base-path".to_string(), "/".to_string()),
        (
            "spin-raw-component-route".to_string(),
            route.raw_route.clone(),
        ),
        (
            "spin-component-route".to_string(),
            route.raw_route_or_prefix().to_string(),
        ),
        ("spin-client-addr".to_string(), client_addr.to_string()),
    ];
    for (name, value) in &route.named_wildcards {
        headers.push((
            format!("spin-path-match-{}", name.to_ascii_lowercase()).replace('_', "-"),
            value.clone(),
        ));
    }
    headers
}

fn prepare_headers(
    req: &mut Request<Body>,
    route: &RouteMatch,
    client_addr: SocketAddr,
) -> Result<()> {
    let mut all = Vec::new();
    for (name, value) in req.headers() {
        let value = std::str::from_utf8(value.as_bytes())
            .with_context(|| format!("header {name} is not valid UTF-8"))?;
        all.push((name.to_string(), value.to_string()));
    }
    let host = req
        .headers()
        .get(http::header::HOST)
        .map(|h| std::str::from_utf8(h.as_bytes()))
        .transpose()?
        .unwrap_or("localhost")
        .to_string();
    all.extend(spin_headers(req.uri(), &host, route, client_addr));
    let headers = req.headers_mut();
    headers.clear();
    headers.extend(all.into_iter().filter_map(|(n, v)| {
        Some((
            n.parse::<HeaderName>().ok()?,
            HeaderValue::from_bytes(v.as_bytes()).ok()?,
        ))
    }));
    Ok(())
}

async fn execute(
    app: &Arc<AppInner>,
    mut req: Request<Body>,
    route: &RouteMatch,
    client_addr: SocketAddr,
) -> Result<Response<Body>> {
    prepare_headers(&mut req, route, client_addr)?;
    let component = &route.component_id;
    let pre = app
        .proxy_pre(component)
        .with_context(|| format!("unknown component ID {component:?}"))?;
    let mut store = app.new_store(component, false)?;
    let proxy = pre
        .instantiate_async(&mut store)
        .await
        .map_err(anyhow::Error::from)?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (request, out) = {
        let mut http = store.data_mut().http();
        let request = http
            .new_incoming_request(WasiScheme::Http, req)
            .map_err(anyhow::Error::from)?;
        let out = http
            .new_response_outparam(tx)
            .map_err(anyhow::Error::from)?;
        (request, out)
    };
    let task = tokio::spawn(async move {
        proxy
            .wasi_http_incoming_handler()
            .call_handle(&mut store, request, out)
            .await
            .map_err(anyhow::Error::from)
    });
    match rx.await {
        Ok(response) => {
            let component = component.clone();
            tokio::spawn(async move {
                let result = task
                    .await
                    .context("guest invocation panicked")
                    .and_then(|r| r.context("guest invocation failed"));
                if let Err(e) = result {
                    eprintln!(
                        "Component {component:?} error after response started. The response may not be fully sent: {e:?}"
                    );
                }
            });
            response.map_err(|code| anyhow!("guest failed to produce a response: {code:?}"))
        }
        Err(_) => {
            task.await
                .context("guest invocation panicked")?
                .context("guest invocation failed")?;
            Err(anyhow!(
                "guest failed to produce a response prior to returning"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::RouteConfig;
    use crate::routes::Router;

    fn find<'a>(h: &'a [(String, String)], name: &str) -> &'a str {
        h.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("missing {name}"))
    }

    #[test]
    fn spin_headers_match_spin() {
        let configs = [("dummy", RouteConfig::Route("/foo/...".into()))];
        let (router, _) = Router::build("/", configs.iter().map(|(c, r)| (*c, r))).unwrap();
        let route = router.route("/foo/bar").unwrap();
        let uri: Uri = "https://fermyon.dev/foo/bar?key1=value1&key2=value2"
            .parse()
            .unwrap();
        let h = spin_headers(
            &uri,
            "fermyon.dev",
            &route,
            "127.0.0.1:8777".parse().unwrap(),
        );
        assert_eq!(
            find(&h, "spin-full-url"),
            "https://fermyon.dev/foo/bar?key1=value1&key2=value2"
        );
        assert_eq!(find(&h, "spin-path-info"), "/bar");
        assert_eq!(find(&h, "spin-matched-route"), "/foo/...");
        assert_eq!(find(&h, "spin-base-path"), "/");
        assert_eq!(find(&h, "spin-raw-component-route"), "/foo/...");
        assert_eq!(find(&h, "spin-component-route"), "/foo");
        assert_eq!(find(&h, "spin-client-addr"), "127.0.0.1:8777");
    }

    #[test]
    fn named_wildcards_become_path_match_headers() {
        let configs = [("dummy", RouteConfig::Route("/foo/:userid/...".into()))];
        let (router, _) = Router::build("/", configs.iter().map(|(c, r)| (*c, r))).unwrap();
        let route = router.route("/foo/42/bar").unwrap();
        let uri: Uri = "http://h/foo/42/bar".parse().unwrap();
        let h = spin_headers(&uri, "h", &route, "127.0.0.1:1".parse().unwrap());
        assert_eq!(find(&h, "spin-path-match-userid"), "42");
        assert_eq!(find(&h, "spin-component-route"), "/foo/:userid");
        assert_eq!(find(&h, "spin-path-info"), "/bar");
    }

    #[test]
    fn request_uri_takes_host_header_authority() {
        let mut req = Request::builder()
            .uri("/x?y=1")
            .header("host", "example.com:3000")
            .body(full(""))
            .unwrap();
        set_req_uri(&mut req, Scheme::HTTP).unwrap();
        assert_eq!(req.uri().to_string(), "http://example.com:3000/x?y=1");

        let mut missing = Request::builder().uri("/x").body(full("")).unwrap();
        assert!(set_req_uri(&mut missing, Scheme::HTTP).is_err());

        let mut mismatch = Request::builder()
            .uri("http://a.com/x")
            .header("host", "b.com")
            .body(full(""))
            .unwrap();
        assert!(set_req_uri(&mut mismatch, Scheme::HTTP).is_err());
    }
}
