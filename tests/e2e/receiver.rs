//! A remote_write receiver for tests: records every request and answers from a script.
//! Started with [`Receiver::start_v2`], its unscripted answers to remote_write 2.0 requests
//! carry the `X-Prometheus-Remote-Write-*-Written` counts of the decoded body, as the 2.0
//! spec requires of a receiver.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::body::{Bytes, Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use promagg::remote_write::{decode_v2, CONTENT_TYPE_V2};

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Request headers (lower-case names).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// When it arrived.
    pub at: Instant,
}

impl Recorded {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How to answer the next request.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Extra response headers.
    pub headers: Vec<(&'static str, String)>,
    /// Wait this long before answering.
    pub delay: Duration,
    /// After the first bytes of the answer body, hold the body open this long.
    pub stall: Duration,
}

impl Reply {
    /// A plain status.
    pub fn status(status: u16) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            delay: Duration::ZERO,
            stall: Duration::ZERO,
        }
    }
}

/// An answer body: its bytes, then held open for the reply's `stall` before it ends.
struct ReplyBody {
    chunk: Option<Bytes>,
    stall: Pin<Box<tokio::time::Sleep>>,
}

impl hyper::body::Body for ReplyBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(chunk) = self.chunk.take() {
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        self.stall.as_mut().poll(cx).map(|()| None)
    }
}

/// A 2.0 receiver's answer: 204 with what the body holds as written, or 400.
fn written_reply(body: &[u8]) -> Reply {
    match decode_v2(body) {
        Ok(req) => {
            let count = |f: fn(&promagg::proto::write_v2::TimeSeries) -> usize| {
                req.timeseries.iter().map(f).sum::<usize>().to_string()
            };
            Reply {
                headers: vec![
                    (
                        "X-Prometheus-Remote-Write-Samples-Written",
                        count(|ts| ts.samples.len()),
                    ),
                    (
                        "X-Prometheus-Remote-Write-Histograms-Written",
                        count(|ts| ts.histograms.len()),
                    ),
                    (
                        "X-Prometheus-Remote-Write-Exemplars-Written",
                        count(|ts| ts.exemplars.len()),
                    ),
                ],
                ..Reply::status(204)
            }
        }
        Err(_) => Reply::status(400),
    }
}

/// The running receiver.
pub struct Receiver {
    /// Where it listens.
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
}

impl Receiver {
    /// Starts on a free loopback port; unscripted requests get 204.
    pub async fn start() -> Receiver {
        Self::start_with(false).await
    }

    /// Like [`Receiver::start`], but an unscripted 2.0 request is decoded and its 204 carries
    /// the three `-Written` counts (a body that does not decode gets 400).
    pub async fn start_v2() -> Receiver {
        Self::start_with(true).await
    }

    async fn start_with(answer_v2: bool) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let script: Arc<Mutex<VecDeque<Reply>>> = Arc::default();
        let (rq, sc) = (requests.clone(), script.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (rq, sc) = (rq.clone(), sc.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<Incoming>| {
                        let (rq, sc) = (rq.clone(), sc.clone());
                        async move {
                            let at = Instant::now();
                            let headers: Vec<(String, String)> = req
                                .headers()
                                .iter()
                                .map(|(k, v)| {
                                    (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())
                                })
                                .collect();
                            let body = req.into_body().collect().await.map(|b| b.to_bytes());
                            let body = body.map(|b| b.to_vec()).unwrap_or_default();
                            let is_v2 = headers
                                .iter()
                                .any(|(k, v)| k == "content-type" && v == CONTENT_TYPE_V2);
                            let scripted = sc.lock().unwrap().pop_front();
                            let reply = match scripted {
                                Some(r) => r,
                                None if answer_v2 && is_v2 => written_reply(&body),
                                None => Reply::status(204),
                            };
                            rq.lock().unwrap().push(Recorded { headers, body, at });
                            tokio::time::sleep(reply.delay).await;
                            let mut resp = Response::builder().status(reply.status);
                            for (k, v) in &reply.headers {
                                resp = resp.header(*k, v);
                            }
                            Ok::<_, Infallible>(
                                resp.body(ReplyBody {
                                    chunk: Some(Bytes::from_static(b"recorded")),
                                    stall: Box::pin(tokio::time::sleep(reply.stall)),
                                })
                                .expect("response"),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Receiver {
            addr,
            requests,
            script,
        }
    }

    /// Queues answers for the next requests.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.script.lock().unwrap().extend(replies);
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// The endpoint URL.
    pub fn url(&self) -> String {
        format!("http://{}/api/v1/write", self.addr)
    }

    /// The `allowed_outbound_hosts` entry.
    pub fn host(&self) -> String {
        format!("http://{}", self.addr)
    }
}
