//! The pusher's [`Transport`] over `wasi:http/outgoing-handler`, every step of an attempt
//! bounded by its timeout.
//!
//! spin-sdk's `send` passes no request options and blocks without a limit, so a receiver
//! that accepts the connection and then stalls (never reading the body, never answering,
//! or trickling the answer) would hold the run past its lease. Here the core hands each
//! attempt a timeout already clipped to the run's deadline; it is set as the connect,
//! first-byte and between-bytes timeouts (which a host may not support), and every wait
//! (writing the body, the answer, reading its body) also polls a monotonic-clock timer
//! that ends at the same instant.

use std::time::Duration;

use promagg::pusher::{HttpRequest, HttpResponse, Transport};
use spin_sdk::wit::wasi::http0_2_0::outgoing_handler;
use spin_sdk::wit::wasi::http0_2_0::types::{
    Fields, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasi::clocks::monotonic_clock;
use wasi::io::poll::{self, Pollable};

/// Outbound HTTP, sleep and clock from the Spin host.
#[derive(Default)]
pub struct SpinTransport;

/// How much of the receiver's answer body is read: it only feeds error messages.
const MAX_ANSWER_BODY: usize = 64 * 1024;

/// The end of one attempt on the monotonic clock.
struct Budget {
    until_ns: u64,
    timeout_ms: u64,
}

impl Budget {
    fn new(timeout_ms: u64) -> Self {
        let ns = timeout_ms.saturating_mul(1_000_000);
        Budget {
            until_ns: monotonic_clock::now().saturating_add(ns),
            timeout_ms,
        }
    }

    /// Nanoseconds left, for the request options.
    fn left_ns(&self) -> u64 {
        self.until_ns.saturating_sub(monotonic_clock::now())
    }

    /// Blocks until `ready` is, or until the budget ends: `Err` naming `what` then.
    fn wait(&self, ready: &Pollable, what: &str) -> Result<(), String> {
        let timer = monotonic_clock::subscribe_instant(self.until_ns);
        if poll::poll(&[ready, &timer]).contains(&0) {
            Ok(())
        } else {
            Err(format!("timed out after {} ms {what}", self.timeout_ms))
        }
    }
}

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
    let budget = Budget::new(req.timeout_ms);
    let options = RequestOptions::new();
    // A host may not support an option; the budget's timer still bounds every wait.
    let left = Some(budget.left_ns());
    let _ = options.set_connect_timeout(left);
    let _ = options.set_first_byte_timeout(left);
    let _ = options.set_between_bytes_timeout(left);
    let body = request
        .body()
        .map_err(|()| "request body taken".to_string())?;
    let future = outgoing_handler::handle(request, Some(options)).map_err(|e| format!("{e:?}"))?;
    {
        let stream = body
            .write()
            .map_err(|()| "request body stream".to_string())?;
        let mut rest = req.body.as_slice();
        while !rest.is_empty() {
            budget.wait(&stream.subscribe(), "writing the request body")?;
            let room = stream
                .check_write()
                .map_err(|e| format!("writing the request body: {e:?}"))?;
            let n = usize::try_from(room).unwrap_or(usize::MAX).min(rest.len());
            if n == 0 {
                continue;
            }
            let (now, later) = rest.split_at(n);
            stream
                .write(now)
                .map_err(|e| format!("writing the request body: {e:?}"))?;
            rest = later;
        }
        stream
            .flush()
            .map_err(|e| format!("flushing the request body: {e:?}"))?;
        budget.wait(&stream.subscribe(), "flushing the request body")?;
        stream
            .check_write()
            .map_err(|e| format!("flushing the request body: {e:?}"))?;
    }
    OutgoingBody::finish(body, None).map_err(|e| format!("finishing the request: {e:?}"))?;
    {
        let ready = future.subscribe();
        budget.wait(&ready, "waiting for the answer")?;
    }
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
            // Status and headers are in: a body cut short by the budget only shortens the
            // error message, so running out of time here is not a failure.
            while bytes.len() < MAX_ANSWER_BODY {
                if budget.wait(&stream.subscribe(), "").is_err() {
                    break;
                }
                match stream.read((MAX_ANSWER_BODY - bytes.len()) as u64) {
                    Ok(b) => bytes.extend_from_slice(&b),
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
