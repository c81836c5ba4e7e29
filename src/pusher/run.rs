//! The run itself.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use prost::Message;

use crate::engine::keys::META;
use crate::engine::lease::{self, NoLease};
use crate::engine::record::{decode, labels_from_pb, type_from_code, PbLabelCount, PbMeta};
use crate::engine::{fold, EngineConfig, EngineError};
use crate::remote_write::{
    encode_v1, encode_v2, headers_v1, headers_v2, EncodeOptions, StaleSeries, WrittenStats,
};
use crate::store::Store;

use super::confirm::{confirm, Confirmation};
use super::deadline::attempt_timeout_ms;
use super::retry::{backoff_ms, classify, Outcome};
use super::{HttpRequest, Protocol, PushConfig, RunReport, Transport};

/// How many interval starts an on-demand run waits for before giving up.
const ON_DEMAND_WAITS: u32 = 2;

/// How far past an interval's start a waiting on-demand run wakes, ms.
const WAKE_MARGIN_MS: i64 = 20;

/// How often a fold that failed on a store error is tried again within a run.
const FOLD_ATTEMPTS: u32 = 3;

/// What started the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The cron trigger: fires at the start of an interval; never waits.
    Cron,
    /// `POST /-/push`: waits for the next interval's start window when too late in this one
    /// or when this interval already had its run.
    OnDemand,
}

fn auth_header(cfg: &PushConfig) -> Option<String> {
    match (&cfg.user, &cfg.token) {
        (Some(user), Some(token)) => Some(format!(
            "Basic {}",
            STANDARD.encode(format!("{user}:{token}"))
        )),
        (None, Some(token)) => Some(format!("Bearer {token}")),
        _ => None,
    }
}

/// Adds one 2xx answer's counts to the run's, a missing header counting as 0 (2.0 spec).
fn add_written(report: &mut RunReport, stats: &WrittenStats) {
    for (total, n) in [
        (&mut report.samples_written, stats.samples),
        (&mut report.histograms_written, stats.histograms),
        (&mut report.exemplars_written, stats.exemplars),
    ] {
        *total = Some(total.unwrap_or(0).saturating_add(n.unwrap_or(0)));
    }
}

fn stale_series(meta: &PbMeta) -> Result<Vec<StaleSeries>, EngineError> {
    meta.stale
        .iter()
        .map(|s| {
            Ok(StaleSeries {
                family: s.family.clone(),
                kind: type_from_code(s.kind)?,
                labels: labels_from_pb(s.labels.clone())?,
                bounds: s.bounds.clone(),
                quantiles: s.quantiles.clone(),
            })
        })
        .collect()
}

/// Takes the lease, folds, pushes, and records the outcome in `v1/meta`.
///
/// Returns `Ok` with `error` set when the receiver refused or could not be reached (the
/// next run sends the cumulative values again, so nothing is lost); `Err` only when the
/// store failed.
pub fn run<S: Store, T: Transport>(
    store: &S,
    cfg: &EngineConfig,
    push: &PushConfig,
    t: &mut T,
    trigger: Trigger,
) -> Result<RunReport, EngineError> {
    let start = t.now_ms();
    let mut report = RunReport::default();
    let interval = push.interval_ms.max(1000);
    let (deadline, epoch) = if cfg.backend.has_increment() {
        let mut got = lease::try_acquire(store, t.now_ms(), interval)?;
        // On demand, a run that is too late in this interval, or whose interval already had
        // its run, waits for the next interval's start window; two on-demand runs arriving
        // together may both wait, so the loser waits once more (two intervals at most).
        let mut waits = 0;
        while let (
            Err(NoLease::OutsideWindow { next_start_ms } | NoLease::Taken { next_start_ms }),
            Trigger::OnDemand,
        ) = (got, trigger)
        {
            if waits == ON_DEMAND_WAITS {
                break;
            }
            waits += 1;
            // The sleep runs on the monotonic clock and the epochs on the wall clock: wake a
            // little after the boundary, and sleep again if the wall clock is not there yet.
            while t.now_ms() < next_start_ms + WAKE_MARGIN_MS {
                t.sleep_ms((next_start_ms + WAKE_MARGIN_MS - t.now_ms()).max(1) as u64);
            }
            got = lease::try_acquire(store, t.now_ms(), interval)?;
        }
        match got {
            Ok(l) => (l.deadline_ms, Some(l.epoch)),
            Err(NoLease::Taken { .. }) => {
                report.skipped = Some("another run holds this interval's lease".into());
                return Ok(report);
            }
            Err(NoLease::OutsideWindow { .. }) => {
                report.skipped = Some("too late in the interval to start a run".into());
                return Ok(report);
            }
        }
    } else {
        // No atomics: the single scheduler is the lease (docs/deploy/cloud.md).
        (t.now_ms() + interval * 3 / 4, None)
    };

    // A fold is crash-safe at every write, so a store error (e.g. SQLite's "database is
    // locked" between `spin up`'s HTTP and cron processes) is retried while time remains.
    let mut attempt = 0;
    let (fold_report, state) = loop {
        match fold(store, cfg, &|| t.now_ms(), deadline, epoch) {
            Ok(done) => break done,
            Err(EngineError::DeadlineExceeded) => {
                // Nothing was written; the next run folds (each fold takes a bounded batch).
                report.skipped = Some("the fold did not finish before the lease deadline".into());
                report.duration_ms = t.now_ms() - start;
                return Ok(report);
            }
            Err(EngineError::Store(_) | EngineError::Unstable)
                if attempt < FOLD_ATTEMPTS && t.now_ms() < deadline =>
            {
                attempt += 1;
                report.retries += 1;
                let wait = backoff_ms(attempt, t.random()).min(1000);
                t.sleep_ms(wait);
            }
            Err(e) => return Err(e),
        }
    };
    report.fold = fold_report;
    let Some(endpoint) = push.endpoint.clone() else {
        report.skipped = Some("no remote_write endpoint configured (prom_endpoint)".into());
        // Staleness markers have no receiver: drop them rather than let meta grow.
        let mut meta: PbMeta = match store.get(META)? {
            Some(b) => decode(META, &b)?,
            None => PbMeta::default(),
        };
        if !meta.stale.is_empty() && t.now_ms() < deadline {
            meta.stale.clear();
            store.set(META, &meta.encode_to_vec())?;
        }
        report.duration_ms = t.now_ms() - start;
        return Ok(report);
    };

    let mut meta: PbMeta = match store.get(META)? {
        Some(b) => decode(META, &b)?,
        None => PbMeta::default(),
    };
    let stale = stale_series(&meta)?;
    let opts = EncodeOptions {
        timestamp_ms: t.now_ms(),
        extra_labels: push.extra_labels.clone(),
        max_samples_per_batch: push.max_samples_per_batch.max(1),
    };
    let families = state.families_view();
    let (batches, base_headers) = match push.protocol {
        Protocol::V1 => (encode_v1(&families, &stale, &opts), headers_v1()),
        Protocol::V2 => (encode_v2(&families, &stale, &opts), headers_v2()),
    };
    let batches = batches.map_err(|e| EngineError::BadRequest(format!("remote_write: {e}")))?;
    let mut headers: Vec<(String, String)> = base_headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if let Some(a) = auth_header(push) {
        headers.push(("Authorization".into(), a));
    }

    let mut failure: Option<(&'static str, String)> = None;
    'batches: for batch in &batches {
        let mut req = HttpRequest {
            url: endpoint.clone(),
            headers: headers.clone(),
            body: batch.body.clone(),
            timeout_ms: push.timeout_ms,
        };
        let mut attempt = 0u32;
        loop {
            // No attempt may outlive the lease: the next run may be pushing by then.
            let Some(timeout_ms) = attempt_timeout_ms(push.timeout_ms, t.now_ms(), deadline) else {
                failure = Some((
                    "deadline",
                    "run deadline reached before the receiver accepted".into(),
                ));
                break 'batches;
            };
            req.timeout_ms = timeout_ms;
            let (outcome, what) = match t.send(&req) {
                Ok(resp) => {
                    report.last_status = Some(resp.status);
                    let body = String::from_utf8_lossy(&resp.body);
                    let body: String = body.chars().take(200).collect();
                    let outcome = classify(resp.status, resp.header("retry-after"), t.now_ms());
                    if outcome == Outcome::Done && push.protocol == Protocol::V2 {
                        match confirm(&resp, batch.samples) {
                            Confirmation::Complete(stats) => add_written(&mut report, &stats),
                            Confirmation::Partial(stats, message) => {
                                // The receiver took the request: the other batches go on.
                                add_written(&mut report, &stats);
                                failure.get_or_insert(("partial_write", message));
                            }
                            Confirmation::Malformed(message) => {
                                failure.get_or_insert(("written_headers", message));
                            }
                            Confirmation::Unconfirmed(message) => {
                                // As a 415: every other 2.0 request would meet the same fate.
                                failure = Some(("http_4xx", message));
                                break 'batches;
                            }
                        }
                    }
                    (
                        outcome,
                        format!("receiver answered {}: {}", resp.status, body.trim()),
                    )
                }
                Err(e) => (Outcome::Retry(None), format!("receiver unreachable: {e}")),
            };
            match outcome {
                Outcome::Done => {
                    report.batches += 1;
                    report.samples += batch.samples;
                    report.series += batch.series;
                    break;
                }
                Outcome::Fail => {
                    failure = Some(("http_4xx", what));
                    break 'batches;
                }
                Outcome::Retry(after) => {
                    attempt += 1;
                    let wait = backoff_ms(attempt, t.random()).max(after.unwrap_or(0));
                    if t.now_ms()
                        .saturating_add(i64::try_from(wait).unwrap_or(i64::MAX))
                        >= deadline
                    {
                        let reason = match report.last_status {
                            Some(429) => "http_429",
                            Some(_) => "http_5xx",
                            None => "transport",
                        };
                        failure = Some((reason, what));
                        break 'batches;
                    }
                    report.retries += 1;
                    t.sleep_ms(wait);
                }
            }
        }
    }

    let now = t.now_ms();
    report.duration_ms = now - start;
    meta.rw_samples_total += report.samples as u64;
    meta.rw_last_duration_s = report.duration_ms as f64 / 1000.0;
    match &failure {
        None => {
            meta.stale.clear();
            meta.rw_last_success_ms = now;
        }
        Some((reason, message)) => {
            match meta.rw_failures.iter_mut().find(|f| f.reason == *reason) {
                Some(f) => f.count += 1,
                None => meta.rw_failures.push(PbLabelCount {
                    reason: reason.to_string(),
                    count: 1,
                }),
            }
            meta.rw_last_error = message.clone();
            meta.rw_last_error_ms = now;
            report.error = Some(message.clone());
        }
    }
    // Past the deadline the next run may already be folding: leave meta to it.
    if t.now_ms() < deadline {
        store.set(META, &meta.encode_to_vec())?;
    }
    Ok(report)
}
