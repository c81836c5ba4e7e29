//! The load generator: N keep-alive HTTP/1.1 connections over loopback, each sending its
//! requests one after another until a deadline or a request count is reached.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::stats::process_cpu;

/// No single request may take longer than this; a slower one counts as a transport error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Builds request number `seq` of client `client` (a path-only URI; the `Host` header is added).
pub type MakeRequest = Arc<dyn Fn(usize, u64) -> Request<Full<Bytes>> + Send + Sync>;

/// How much load to send.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Concurrent connections, one client each.
    pub clients: usize,
    /// No request starts after this much time.
    pub duration: Duration,
    /// Each client stops after this many requests.
    pub max_per_client: u64,
}

/// One answered (or failed) request.
#[derive(Debug, Clone, Copy)]
pub struct Answer {
    /// The client that sent it.
    pub client: usize,
    /// Its number within that client.
    pub seq: u64,
    /// The HTTP status, or `None` for a transport error (the request may or may not have
    /// been applied).
    pub status: Option<u16>,
    /// Time from sending to the last byte of the answer.
    pub latency: Duration,
    /// Request body bytes.
    pub sent: usize,
    /// Response body bytes.
    pub received: usize,
    /// True when the answer came within the run's planned duration (throughput counts
    /// only these: requests still in flight at the end would stretch the run).
    pub in_window: bool,
}

impl Answer {
    /// True for a 2xx answer: an acknowledged request.
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Every answer of a run and how long it sent load.
#[derive(Debug, Clone)]
pub struct Run {
    /// All answers, in no particular order.
    pub answers: Vec<Answer>,
    /// The planned duration (shorter if every client finished earlier).
    pub window: Duration,
    /// CPU time this process used meanwhile (host, wasm, load generator), when known.
    pub cpu: Option<Duration>,
}

/// One keep-alive connection to a server.
pub struct Conn {
    addr: SocketAddr,
    sender: Option<SendRequest<Full<Bytes>>>,
}

/// A response read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Bytes,
    /// Time from sending to the last byte.
    pub latency: Duration,
}

impl Conn {
    /// A connection to `addr`, opened on first use.
    pub fn new(addr: SocketAddr) -> Self {
        Conn { addr, sender: None }
    }

    async fn connect(&mut self) -> Result<&mut SendRequest<Full<Bytes>>> {
        if self.sender.is_none() {
            let stream = TcpStream::connect(self.addr)
                .await
                .with_context(|| format!("connecting to {}", self.addr))?;
            stream.set_nodelay(true)?;
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .context("HTTP/1.1 handshake")?;
            tokio::spawn(async move {
                // The connection ends when the sender is dropped or the server closes it.
                let _ = conn.await;
            });
            self.sender = Some(sender);
        }
        self.sender
            .as_mut()
            .ok_or_else(|| anyhow!("no connection to {}", self.addr))
    }

    /// Sends `req` (the `Host` header is set) and reads the whole answer; on any transport
    /// error the connection is dropped and the next request opens a new one.
    pub async fn send(&mut self, mut req: Request<Full<Bytes>>) -> Result<Reply> {
        let host = http::HeaderValue::from_str(&self.addr.to_string())?;
        req.headers_mut().insert(http::header::HOST, host);
        let start = Instant::now();
        let outcome = tokio::time::timeout(REQUEST_TIMEOUT, async {
            let sender = self.connect().await?;
            sender.ready().await.context("connection closed")?;
            let resp = sender.send_request(req).await.context("sending request")?;
            let status = resp.status().as_u16();
            let body = resp
                .into_body()
                .collect()
                .await
                .context("reading response body")?
                .to_bytes();
            Ok::<_, anyhow::Error>((status, body))
        })
        .await
        .map_err(|_| anyhow!("no answer within {REQUEST_TIMEOUT:?}"))
        .and_then(|r| r);
        match outcome {
            Ok((status, body)) => Ok(Reply {
                status,
                body,
                latency: start.elapsed(),
            }),
            Err(e) => {
                self.sender = None;
                Err(e)
            }
        }
    }
}

/// A request with a path-only URI.
pub fn request(method: &str, path: &str, body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    let mut req = Request::new(Full::new(body.into()));
    *req.method_mut() = method.parse().unwrap_or(http::Method::GET);
    *req.uri_mut() = path.parse().unwrap_or_else(|_| http::Uri::from_static("/"));
    req
}

/// A request with a text-format body (Prometheus text 0.0.4).
pub fn text_request(method: &str, path: &str, body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    let mut req = request(method, path, body);
    req.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    req
}

/// Sends one request on a fresh connection and returns the answer, failing on a non-2xx
/// status (for loading data and reading results, not for measuring).
pub async fn expect_ok(addr: SocketAddr, req: Request<Full<Bytes>>) -> Result<Bytes> {
    let what = format!("{} {}", req.method(), req.uri());
    let reply = Conn::new(addr).send(req).await.context(what.clone())?;
    if !(200..300).contains(&reply.status) {
        return Err(anyhow!(
            "{what} answered {}: {}",
            reply.status,
            String::from_utf8_lossy(&reply.body).trim()
        ));
    }
    Ok(reply.body)
}

/// Runs `plan` against `addr`: every client sends `make(client, seq)` for seq = 0, 1, ...
pub async fn run(addr: SocketAddr, plan: Plan, make: MakeRequest) -> Result<Run> {
    run_from(addr, plan, make, 0).await
}

/// Like `run`, numbering each client's requests from `first_seq`.
pub async fn run_from(
    addr: SocketAddr,
    plan: Plan,
    make: MakeRequest,
    first_seq: u64,
) -> Result<Run> {
    let cpu_start = process_cpu();
    let start = Instant::now();
    let deadline = start + plan.duration;
    let workers: Vec<_> = (0..plan.clients)
        .map(|client| {
            let make = make.clone();
            tokio::spawn(async move {
                let mut conn = Conn::new(addr);
                let mut answers = Vec::new();
                let mut seq = first_seq;
                while seq - first_seq < plan.max_per_client && Instant::now() < deadline {
                    let req = make(client, seq);
                    let sent = req.body().size_hint_len();
                    let t0 = Instant::now();
                    let answer = match conn.send(req).await {
                        Ok(reply) => Answer {
                            client,
                            seq,
                            status: Some(reply.status),
                            latency: reply.latency,
                            sent,
                            received: reply.body.len(),
                            in_window: Instant::now() <= deadline,
                        },
                        Err(_) => {
                            // Do not spin on a refused connection.
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            Answer {
                                client,
                                seq,
                                status: None,
                                latency: t0.elapsed(),
                                sent,
                                received: 0,
                                in_window: Instant::now() <= deadline,
                            }
                        }
                    };
                    answers.push(answer);
                    seq += 1;
                }
                answers
            })
        })
        .collect();
    let mut answers = Vec::new();
    for w in workers {
        answers.extend(w.await.context("load worker panicked")?);
    }
    let cpu = match (cpu_start, process_cpu()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    Ok(Run {
        answers,
        window: plan.duration.min(start.elapsed()),
        cpu,
    })
}

impl Run {
    /// One run made of `self` followed by `next`.
    pub fn extend(&mut self, next: Run) {
        self.answers.extend(next.answers);
        self.window += next.window;
        self.cpu = match (self.cpu, next.cpu) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
    }

    /// The first request number no client has used yet.
    pub fn next_seq(&self) -> u64 {
        self.answers.iter().map(|a| a.seq + 1).max().unwrap_or(0)
    }
}

/// The exact length of a request body that is known up front.
trait SizeHintLen {
    fn size_hint_len(&self) -> usize;
}

impl SizeHintLen for Full<Bytes> {
    fn size_hint_len(&self) -> usize {
        hyper::body::Body::size_hint(self)
            .exact()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0)
    }
}
