//! The cron trigger, as the `spin-trigger-cron` plugin runs it.
//!
//! Each `[[trigger.cron]]` fires on its six-field schedule (UTC) in a task of its own; every
//! event gets a fresh instance whose `handle-cron-event` receives the current time in
//! seconds. A failure is only logged. Under `spin up` the cron trigger is a separate
//! process with its own key-value connections; the host reproduces that by giving cron
//! instances their own store connections.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Context, Result};
use chrono::{DateTime, Utc};

use crate::app::AppInner;
use crate::bindings::cron::fermyon::spin_cron::cron_types::{Error as CronError, Metadata};

/// Runs `component`'s `handle-cron-event` once, now.
pub async fn fire(app: &Arc<AppInner>, component: &str) -> Result<()> {
    let pre = app.cron_pre(component)?;
    let mut store = app.new_store(component, true)?;
    let instance = pre
        .instantiate_async(&mut store)
        .await
        .map_err(anyhow::Error::from)?;
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("system clock is before 1970")?
        .as_secs();
    instance
        .call_handle_cron_event(&mut store, Metadata { timestamp })
        .await
        .map_err(anyhow::Error::from)
        .context("cron handler trapped")?
        .map_err(|CronError::Other(msg)| anyhow!("Component {component} failed: {msg}"))
}

fn now_utc() -> Result<DateTime<Utc>> {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("system clock is before 1970")?;
    let secs = i64::try_from(d.as_secs()).context("clock out of range")?;
    DateTime::from_timestamp(secs, d.subsec_nanos()).context("clock out of range")
}

/// Time until the schedule's next occurrence after now.
fn until_next(schedule: &croner::Cron) -> Result<Duration> {
    let now = now_utc()?;
    let next = schedule
        .find_next_occurrence(&now, false)
        .map_err(|e| anyhow!("no next occurrence: {e}"))?;
    Ok((next - now).to_std().unwrap_or(Duration::ZERO))
}

/// Starts one task per cron trigger; abort the handles to stop them.
pub fn schedule(app: &Arc<AppInner>) -> Vec<tokio::task::JoinHandle<()>> {
    app.manifest
        .cron_triggers
        .iter()
        .map(|trigger| {
            let app = app.clone();
            let trigger = trigger.clone();
            tokio::spawn(async move {
                loop {
                    let wait = match until_next(&trigger.schedule) {
                        Ok(w) => w,
                        Err(e) => {
                            eprintln!("cron trigger for {:?} stops: {e:#}", trigger.component);
                            return;
                        }
                    };
                    tokio::time::sleep(wait).await;
                    let app = app.clone();
                    let component = trigger.component.clone();
                    // Jobs run in their own task, so a slow run does not delay the next one.
                    tokio::spawn(async move {
                        if let Err(e) = fire(&app, &component).await {
                            eprintln!("cron event for component {component:?} failed: {e:#}");
                        }
                    });
                    // Never fire twice for the same second.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_occurrence_is_within_the_period() {
        let every_two = crate::manifest::parse_cron("*/2 * * * * *").unwrap();
        let wait = until_next(&every_two).unwrap();
        assert!(wait <= Duration::from_secs(2), "{wait:?}");
        let hourly = crate::manifest::parse_cron("0 0 * * * *").unwrap();
        assert!(until_next(&hourly).unwrap() <= Duration::from_secs(3600));
    }
}
