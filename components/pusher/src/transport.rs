//! The pusher's [`Transport`] over `wasi:http/outgoing-handler`, with request-option timeouts.
//!
//! spin-sdk's `send` passes no request options, so a receiver that accepts the connection
//! and never answers would hold the run until the host gives up. Here the connect and
//! first-byte timeouts come from `remote_write_timeout`, and the run's deadline does the rest.

use std::time::Duration;

use promagg::pusher::{HttpRequest, HttpResponse, Transport};
use spin_sdk::wit::wasi::http0_2_0::outgoing_handler;
use spin_sdk::wit::wasi::http0_2_0::types::{
    Fields, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};

/// Outbound HTTP, sleep and clock from the Spin host.
#[derive(Default)]
pub struct SpinTransport;

/// The largest write `blocking-write-and-flush` accepts.
const CHUNK: usize = 4096;

fn split_url(url: &str) -> Result<(Scheme, String, String), String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("endpoint {url:?} is not a URL: {e}"))?;
    let scheme = match uri.scheme_str() {
        Some("http") => Scheme::Http,
        Some("https") => Scheme::Https,
        other => return Err(format!("endpoint scheme {other:?} is not http or https")),
    };
    let authority = uri
        .authority()
        .ok_or_else(|| format!("endpoint {url:?} has no host"))?
        .to_string();
    let path = uri
        .path_and_query()
        .map_or_else(|| "/".to_string(), |p| p.to_string());
    Ok((scheme, authority, path))
}

fn send(req: &HttpRequest) -> Result<HttpResponse, String> {
    let (scheme, authority, path) = split_url(&req.url)?;
    let headers: Vec<(String, Vec<u8>)> = req
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.as_bytes().to_vec()))
        .collect();
    let fields = Fields::from_list(&headers).map_err(|e| format!("request headers: {e:?}"))?;
    let request = OutgoingRequest::new(fields);
    let set = |ok: Result<(), ()>, what: &str| ok.map_err(|()| format!("invalid {what}"));
    set(request.set_method(&Method::Post), "method")?;
    set(request.set_scheme(Some(&scheme)), "scheme")?;
    set(request.set_authority(Some(&authority)), "authority")?;
    set(request.set_path_with_query(Some(&path)), "path")?;
    let options = RequestOptions::new();
    let timeout_ns = Duration::from_millis(req.timeout_ms).as_nanos() as u64;
    // A host may not support an option; the run's deadline still bounds the attempt.
    let _ = options.set_connect_timeout(Some(timeout_ns));
    let _ = options.set_first_byte_timeout(Some(timeout_ns));
    let body = request
        .body()
        .map_err(|()| "request body taken".to_string())?;
    let future = outgoing_handler::handle(request, Some(options)).map_err(|e| format!("{e:?}"))?;
    {
        let stream = body
            .write()
            .map_err(|()| "request body stream".to_string())?;
        for chunk in req.body.chunks(CHUNK) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| format!("writing the request body: {e:?}"))?;
        }
    }
    OutgoingBody::finish(body, None).map_err(|e| format!("finishing the request: {e:?}"))?;
    future.subscribe().block();
    let response = future
        .get()
        .ok_or("no response after the pollable was ready")?
        .map_err(|()| "response already taken".to_string())?
        .map_err(|e| format!("{e:?}"))?;
    let status = response.status();
    let headers = response
        .headers()
        .entries()
        .into_iter()
        .map(|(k, v): (String, Vec<u8>)| (k, String::from_utf8_lossy(&v).into_owned()))
        .collect();
    let mut bytes = Vec::new();
    if let Ok(incoming) = response.consume() {
        if let Ok(stream) = incoming.stream() {
            // The receiver's answer only matters for error messages: read a little.
            while bytes.len() < 64 * 1024 {
                match stream.blocking_read(16 * 1024) {
                    Ok(b) => bytes.extend_from_slice(b.as_slice()),
                    Err(_) => break,
                }
            }
        }
    }
    Ok(HttpResponse {
        status,
        headers,
        body: bytes,
    })
}

impl Transport for SpinTransport {
    fn send(&mut self, req: &HttpRequest) -> Result<HttpResponse, String> {
        send(req)
    }

    fn sleep_ms(&mut self, ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }

    fn now_ms(&self) -> i64 {
        promagg_spin::now_ms()
    }

    fn random(&mut self) -> f64 {
        (promagg_spin::random_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
