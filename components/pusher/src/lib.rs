//! promagg's pusher: on the cron trigger (and on `GET`/`POST /-/push`, for hosts without cron),
//! folds pending writes and sends every series to remote_write. The run itself lives in the
//! core (`promagg::pusher`); this component supplies outbound HTTP, sleep and the clock.

mod transport;

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
    let mut transport = transport::SpinTransport;
    Ok(pusher::run(
        &store,
        &engine,
        &push,
        &mut transport,
        trigger,
    )?)
}

/// ` auth=open` when no token of any scope (push tokens included) is configured, so that
/// every run's log line says the app is open: a component lives for one request, so there is
/// no process to log it once.
fn auth_note() -> String {
    match (config::auth_config(), config::push_tokens()) {
        (Ok(auth), Ok(push)) if auth.is_open() && push.is_empty() => " auth=open".to_string(),
        (Ok(_), Ok(_)) => String::new(),
        (Err(e), _) | (_, Err(e)) => format!(" auth=unknown ({e:#})"),
    }
}

struct Cron;

impl Guest for Cron {
    fn handle_cron_event(metadata: Metadata) -> Result<(), CronError> {
        match run_once(Trigger::Cron) {
            Ok(report) => {
                let summary = report.to_text().replace('\n', " ");
                eprintln!(
                    "promagg pusher (cron {}): {}{}",
                    metadata.timestamp,
                    summary.trim(),
                    auth_note()
                );
                Ok(())
            }
            Err(e) => Err(CronError::Other(format!("{e:#}{}", auth_note()))),
        }
    }
}

export!(Cron);

/// `GET` or `POST /-/push`: one run now; answers with what was sent. GET too, because
/// schedulers such as `spin aka cron` send a GET and cannot set headers (hence push tokens
/// in `?token=`).
#[http_component]
fn push_now(req: http::Request<Vec<u8>>) -> anyhow::Result<http::Response<Vec<u8>>> {
    let method = req.method().clone();
    if method != http::Method::GET && method != http::Method::POST {
        return Ok(promagg::api::ApiError::method_not_allowed("GET, POST").into_response());
    }
    let (auth, push_tokens) = match (config::auth_config(), config::push_tokens()) {
        (Ok(a), Ok(p)) => (a, p),
        (Err(e), _) | (_, Err(e)) => return Ok(text(500, format!("configuration: {e:#}\n"))),
    };
    if let Err(e) = auth.check_push(&req, &push_tokens) {
        eprintln!("promagg: {method} /-/push -> {}: {}", e.status, e.message);
        return Ok(e.into_response());
    }
    let open = if auth.is_open() && push_tokens.is_empty() {
        " auth=open"
    } else {
        ""
    };
    let (status, body) = match run_once(Trigger::OnDemand) {
        Ok(report) if report.error.is_some() => (502, report.to_text()),
        Ok(report) => (200, report.to_text()),
        Err(e) => (503, format!("error={e:#}\n")),
    };
    eprintln!(
        "promagg pusher ({method} /-/push) -> {status}: {}{open}",
        body.replace('\n', " ").trim()
    );
    Ok(text(status, body))
}

fn text(status: u16, body: String) -> http::Response<Vec<u8>> {
    promagg::api::text_response(status, body)
}
