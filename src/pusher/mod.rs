//! One pusher run: take the lease, fold pending writes, send every series to remote_write,
//! and record the outcome, with no I/O of its own: the Spin component supplies a
//! [`Transport`] (outbound HTTP, sleep, clock).

mod confirm;
mod deadline;
mod retry;
mod run;

pub use confirm::{confirm, Confirmation};
pub use deadline::attempt_timeout_ms;
pub use retry::{backoff_ms, retry_after_ms, Outcome};
pub use run::{run, Trigger};

use crate::engine::FoldReport;

/// Which remote_write protocol to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// remote_write 1.0 (`prometheus.WriteRequest`), what every receiver accepts.
    #[default]
    V1,
    /// remote_write 2.0 (`io.prometheus.write.v2.Request`), opt-in.
    V2,
}

/// Pusher settings (from Spin variables).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PushConfig {
    /// The remote_write URL; `None` = the pusher only folds.
    pub endpoint: Option<String>,
    /// Basic-auth user (Grafana Cloud style, with `token` as the password).
    pub user: Option<String>,
    /// Token: Basic password with `user`, else a Bearer token.
    pub token: Option<String>,
    /// Protocol version.
    pub protocol: Protocol,
    /// Upper bound on samples per request.
    pub max_samples_per_batch: usize,
    /// Timeout of one HTTP request, ms.
    pub timeout_ms: u64,
    /// Labels added to every series that lacks them.
    pub extra_labels: Vec<(String, String)>,
    /// The push interval = the lease epoch, ms.
    pub interval_ms: i64,
}

/// An outbound HTTP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Full URL.
    pub url: String,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// Bound on the whole attempt (connect, send, answer, reading the body), ms: the
    /// configured timeout clipped to the run's deadline.
    pub timeout_ms: u64,
}

/// An HTTP response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers (names lower-case).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header of that (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the host provides a run: HTTP, sleeping, time and randomness.
pub trait Transport {
    /// Sends one request; `Err` for a transport failure (refused, timed out).
    fn send(&mut self, req: &HttpRequest) -> Result<HttpResponse, String>;
    /// Sleeps.
    fn sleep_ms(&mut self, ms: u64);
    /// Now, ms since the epoch.
    fn now_ms(&self) -> i64;
    /// A random number in `[0, 1)`, for jitter.
    fn random(&mut self) -> f64;
}

/// What a run did (the body of `POST /-/push`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunReport {
    /// Why the run did nothing, when it did nothing.
    pub skipped: Option<String>,
    /// The fold.
    pub fold: FoldReport,
    /// Series sent (live and stale).
    pub series: usize,
    /// Samples sent.
    pub samples: usize,
    /// Requests sent successfully.
    pub batches: usize,
    /// Status of the receiver's last answer.
    pub last_status: Option<u16>,
    /// remote_write 2.0 only: samples the receiver said it wrote
    /// (`X-Prometheus-Remote-Write-Samples-Written`, summed over the 2xx answers).
    pub samples_written: Option<u64>,
    /// remote_write 2.0 only: histogram samples the receiver said it wrote.
    pub histograms_written: Option<u64>,
    /// remote_write 2.0 only: exemplars the receiver said it wrote.
    pub exemplars_written: Option<u64>,
    /// Attempts that were retried.
    pub retries: usize,
    /// Why the push failed, when it did.
    pub error: Option<String>,
    /// Run duration, ms.
    pub duration_ms: i64,
}

impl RunReport {
    /// A human- and machine-readable summary, one `key=value` per line.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        if let Some(why) = &self.skipped {
            s.push_str(&format!("skipped={why}\n"));
        }
        s.push_str(&format!(
            "folded_deltas={}\nseries_stored={}\nseries_sent={}\nsamples_sent={}\nbatches={}\nretries={}\n",
            self.fold.applied, self.fold.series, self.series, self.samples, self.batches, self.retries
        ));
        if let Some(st) = self.last_status {
            s.push_str(&format!("receiver_status={st}\n"));
        }
        for (key, n) in [
            ("samples_written", self.samples_written),
            ("histograms_written", self.histograms_written),
            ("exemplars_written", self.exemplars_written),
        ] {
            if let Some(n) = n {
                s.push_str(&format!("{key}={n}\n"));
            }
        }
        if let Some(e) = &self.error {
            s.push_str(&format!("error={e}\n"));
        }
        s.push_str(&format!("duration_ms={}\n", self.duration_ms));
        s
    }
}

#[cfg(test)]
mod tests;
