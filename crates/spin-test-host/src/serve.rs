//! Serving an app over HTTP/1.1 on tokio, with its cron schedules, until stopped.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::app::AppInner;
use crate::{cron, http_trigger};

/// A running server; dropping it stops the server and the cron schedules.
#[derive(Debug)]
pub struct ServeHandle {
    addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl ServeHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections and stops the cron schedules.
    pub fn stop(self) {
        drop(self);
    }

    /// Waits until the server ends (it only ends on an accept error or when stopped).
    pub async fn wait(mut self) -> Result<()> {
        if let Some(accept) = self.tasks.first_mut() {
            accept.await.context("server task failed")?;
        }
        Ok(())
    }
}

impl Drop for ServeHandle {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Binds `addr`, then accepts connections and runs cron schedules in background tasks.
pub async fn serve(app: Arc<AppInner>, addr: SocketAddr) -> Result<ServeHandle> {
    let listener = TcpListener::bind(addr).await.map_err(|err| {
        if err.kind() == std::io::ErrorKind::AddrInUse {
            anyhow::anyhow!("{addr} is already in use")
        } else {
            anyhow::anyhow!("Unable to listen on {addr}: {err}")
        }
    })?;
    let local = listener.local_addr()?;
    app.set_self_addr(local);
    let accept_app = app.clone();
    let accept = tokio::spawn(async move {
        loop {
            let (stream, client_addr) = match listener.accept().await {
                Ok(conn) => conn,
                Err(e) => {
                    // E.g. out of file descriptors: back off instead of spinning.
                    eprintln!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let app = accept_app.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<Incoming>| {
                    let app = app.clone();
                    let req =
                        req.map(|b| b.map_err(wasmtime_wasi_http::Error::from).boxed_unsync());
                    http_trigger::handle(app, req, http::uri::Scheme::HTTP, client_addr)
                });
                if let Err(e) = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                {
                    eprintln!("Error serving HTTP connection: {e:?}");
                }
            });
        }
    });
    let mut tasks = vec![accept];
    if app.runs_cron() {
        tasks.extend(cron::schedule(&app));
    }
    Ok(ServeHandle { addr: local, tasks })
}
