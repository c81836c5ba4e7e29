//! The pusher's [`Transport`] over Spin's outbound HTTP (`wasi:http/outgoing-handler`).

use promagg::pusher::{HttpRequest, HttpResponse, Transport};

/// Outbound HTTP, sleep and clock from the Spin host.
#[derive(Default)]
pub struct SpinTransport;

impl Transport for SpinTransport {
    fn send(&mut self, req: &HttpRequest) -> Result<HttpResponse, String> {
        let mut builder = http::Request::builder().method("POST").uri(&req.url);
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        let request = builder
            .body(req.body.clone())
            .map_err(|e| format!("building the request: {e}"))?;
        let resp: http::Response<Vec<u8>> =
            spin_sdk::http::run(spin_sdk::http::send(request)).map_err(|e| e.to_string())?;
        Ok(HttpResponse {
            status: resp.status().as_u16(),
            headers: resp
                .headers()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
                .collect(),
            body: resp.into_body(),
        })
    }

    fn sleep_ms(&mut self, ms: u64) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }

    fn now_ms(&self) -> i64 {
        promagg_spin::now_ms()
    }

    fn random(&mut self) -> f64 {
        (promagg_spin::random_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
