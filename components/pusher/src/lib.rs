//! promagg's pusher: on the cron trigger (and on `POST /-/push`, for hosts without cron),
//! folds pending writes and sends every series to remote_write. The run itself lives in the
//! core (`promagg::pusher`); this component supplies outbound HTTP, sleep and the clock.

mod transport;

use promagg::api::Scope;
use promagg::pusher::{self, RunReport, Trigger};
use promagg_spin::{config, kv::SpinStore};
use spin_sdk::http_component;

wit_bindgen::generate!({
    path: "../../wit/cron",
    world: "spin-cron",
});

// The world's `use cron-types.{metadata, error}` puts `Metadata` and `Error` at the root.
type CronError = Error;

fn run_once(trigger: Trigger) -> anyhow::Result<RunReport> {
    let engine = config::engine_config()?;
    let push = config::push_config()?;
    let store = SpinStore::open("default")?;
    let mut transport = transport::SpinTransport::default();
    Ok(pusher::run(
        &store,
        &engine,
        &push,
        &mut transport,
        trigger,
    )?)
}

struct Cron;

impl Guest for Cron {
    fn handle_cron_event(metadata: Metadata) -> Result<(), CronError> {
        match run_once(Trigger::Cron) {
            Ok(report) => {
                let summary = report.to_text().replace('\n', " ");
                eprintln!(
                    "promagg pusher (cron {}): {}",
                    metadata.timestamp,
                    summary.trim()
                );
                Ok(())
            }
            Err(e) => Err(CronError::Other(format!("{e:#}"))),
        }
    }
}

export!(Cron);

/// `POST /-/push`: one run now; answers with what was sent.
#[http_component]
fn push_now(req: http::Request<Vec<u8>>) -> anyhow::Result<http::Response<Vec<u8>>> {
    let auth = match config::auth_config() {
        Ok(a) => a,
        Err(e) => return Ok(text(500, format!("configuration: {e:#}\n"))),
    };
    if let Err(e) = auth.check(&req, Scope::Admin) {
        eprintln!("promagg: POST /-/push -> {}: {}", e.status, e.message);
        return Ok(e.into_response());
    }
    if req.method() != http::Method::POST {
        return Ok(promagg::api::ApiError::method_not_allowed("POST").into_response());
    }
    let (status, body) = match run_once(Trigger::OnDemand) {
        Ok(report) if report.error.is_some() => (502, report.to_text()),
        Ok(report) => (200, report.to_text()),
        Err(e) => (503, format!("error={e:#}\n")),
    };
    Ok(text(status, body))
}

fn text(status: u16, body: String) -> http::Response<Vec<u8>> {
    promagg::api::text_response(status, body)
}
