//! Scenario 5: one pusher run (fold + remote_write 1.0) of 100k series into a local
//! recording receiver; every body is decoded with the core's `decode_v1` afterwards to check
//! that each stored series arrived once with its value.
//!
//! The app is not served here: the cron schedule that serving starts would push to the
//! receiver every 10 s on its own. The run is `POST /-/push` handled by the host (the same
//! pusher component and outbound HTTP), started early in a lease epoch so that it never
//! waits for its lease.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};

use crate::bench::{epoch_of, now_ms, wait_for_run_window, Bench};
use crate::bodies::{self, Mix};
use crate::fixtures::receiver::{Received, Receiver};
use crate::fixtures::served::Served;
use crate::report::{Goal, Row};
use crate::stats::{bytes, group_thousands, ms, rate};

/// Series per loading body.
const BODY_SERIES: usize = 1000;
/// The goal for one run.
const GOAL: Duration = Duration::from_secs(2);

/// What the receiver got in one run, decoded.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Decoded {
    /// Requests.
    pub requests: usize,
    /// Compressed body bytes.
    pub wire_bytes: usize,
    /// Time series sent (all names).
    pub series: usize,
    /// Distinct `bench_*` series.
    pub bench_series: usize,
    /// `bench_*` series sent more than once.
    pub duplicates: usize,
    /// Counter samples whose value is not the 1 that was pushed.
    pub wrong_counters: usize,
    /// Bodies that were not snappy-compressed remote write 1.0.
    pub bad_encoding: usize,
}

/// Decodes every body and checks each series.
pub fn decode(received: &[Received]) -> Result<Decoded> {
    let mut d = Decoded::default();
    let mut seen = HashSet::new();
    for r in received {
        d.requests += 1;
        d.wire_bytes += r.body.len();
        if r.encoding != "snappy 0.1.0" {
            d.bad_encoding += 1;
        }
        let req = promagg::remote_write::decode_v1(&r.body)
            .map_err(|e| anyhow!("remote_write body does not decode: {e}"))?;
        for ts in req.timeseries {
            d.series += 1;
            let name = ts
                .labels
                .iter()
                .find(|l| l.name == "__name__")
                .map(|l| l.value.clone())
                .unwrap_or_default();
            if !name.starts_with("bench_") {
                continue;
            }
            if name.starts_with("bench_counter_") && ts.samples.iter().any(|s| s.value != 1.0) {
                d.wrong_counters += 1;
            }
            let key: Vec<(String, String)> =
                ts.labels.into_iter().map(|l| (l.name, l.value)).collect();
            if !seen.insert(key) {
                d.duplicates += 1;
            }
        }
    }
    d.bench_series = seen.len();
    Ok(d)
}

/// One timed run.
struct Timed {
    wall: Duration,
    /// From the start to the first body received: lease, fold, read, encode.
    before_send: Duration,
    /// From the first body to the last.
    sending: Duration,
    decoded: Decoded,
    report: String,
}

fn timed_run(
    b: &Bench,
    gw: &Served,
    receiver: &Receiver,
    last_epoch: &mut Option<u64>,
) -> Result<Timed> {
    std::thread::sleep(wait_for_run_window(now_ms(), *last_epoch));
    receiver.take()?;
    *last_epoch = Some(epoch_of(now_ms()));
    let start = Instant::now();
    let report = gw.call(&b.server, "POST", "/-/push", Vec::new())?;
    let wall = start.elapsed();
    if report.contains("skipped=") || report.contains("error=") {
        return Err(anyhow!("the pusher run did not push: {}", report.trim()));
    }
    let received = receiver.take()?;
    let first = received.iter().map(|r| r.at).min().unwrap_or(start);
    let last = received.iter().map(|r| r.at).max().unwrap_or(start);
    Ok(Timed {
        wall,
        before_send: first.saturating_duration_since(start),
        sending: last.saturating_duration_since(first),
        decoded: decode(&received)?,
        report: report.trim().replace('\n', " "),
    })
}

/// Runs scenario 5 and adds its rows.
pub fn run(b: &mut Bench) -> Result<()> {
    let n = if b.settings.quick { 10_000 } else { 100_000 };
    let title = format!("5 remote_write ({}k series)", n / 1000);
    let receiver = Receiver::start(&b.client)?;
    let vars = [
        (
            "prom_endpoint",
            format!("http://{}/api/v1/write", receiver.addr()),
        ),
        ("prom_host", format!("http://{}", receiver.addr())),
    ];
    let gw = b.gateway(&vars)?;
    eprintln!(
        "== {title}: loading {} bodies of {BODY_SERIES} counters and gauges",
        n / BODY_SERIES
    );
    for k in 0..n / BODY_SERIES {
        let body = bodies::body(BODY_SERIES, Mix::Scalars, Some(&k.to_string()));
        gw.call(&b.server, "POST", "/metrics", body.into_bytes())
            .with_context(|| format!("loading body {k}"))?;
    }
    eprintln!(
        "   first run (folds the {} pending pushes, then sends)",
        n / BODY_SERIES
    );
    let mut last_epoch = None;
    let first = timed_run(b, &gw, &receiver, &mut last_epoch)?;
    eprintln!("   pusher: {}", first.report);
    let second = if b.settings.quick {
        None
    } else {
        eprintln!("   second run in the next epoch (nothing to fold)");
        let t = timed_run(b, &gw, &receiver, &mut last_epoch)?;
        eprintln!("   pusher: {}", t.report);
        Some(t)
    };
    b.retire(gw);

    let r = &mut b.report;
    let goal_text = format!("goal {}", ms(GOAL));
    r.push(Row::ratio(
        &title,
        &format!("one run incl. fold of {} pushes", n / BODY_SERIES),
        format!(
            "{} (fold+read+encode {}, sending {})",
            ms(first.wall),
            ms(first.before_send),
            ms(first.sending)
        ),
        goal_text.clone(),
        first.wall.as_secs_f64() / GOAL.as_secs_f64(),
        Goal::AtMost(1.0),
    ));
    if let Some(s) = &second {
        r.push(Row::ratio(
            &title,
            "one steady-state run (nothing to fold)",
            format!(
                "{} (read+encode {}, sending {})",
                ms(s.wall),
                ms(s.before_send),
                ms(s.sending)
            ),
            goal_text,
            s.wall.as_secs_f64() / GOAL.as_secs_f64(),
            Goal::AtMost(1.0),
        ));
    }
    let d = &first.decoded;
    r.push(Row::info(
        &title,
        "bytes on the wire (snappy)",
        format!(
            "{} in {} requests, {:.1} B/series, {} series/s",
            bytes(d.wire_bytes as f64),
            d.requests,
            d.wire_bytes as f64 / d.series.max(1) as f64,
            rate(n as f64 / first.wall.as_secs_f64().max(1e-9))
        ),
    ));
    for (label, t) in
        std::iter::once(("first run", &first)).chain(second.iter().map(|s| ("second run", s)))
    {
        let d = &t.decoded;
        r.push(Row::check(
            &title,
            &format!("receiver decoded every series once ({label})"),
            format!(
                "{} of {} bench series, {} duplicates, {} wrong counters, {} bad encodings",
                group_thousands(d.bench_series as u64),
                group_thousands(n as u64),
                d.duplicates,
                d.wrong_counters,
                d.bad_encoding
            ),
            d.bench_series == n
                && d.duplicates == 0
                && d.wrong_counters == 0
                && d.bad_encoding == 0,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use promagg::model::{Labels, MetricFamily, MetricType, SampleValue, Series};
    use promagg::remote_write::{encode_v1, EncodeOptions};

    fn family(name: &str, kind: MetricType, values: &[f64]) -> MetricFamily {
        let mut f = MetricFamily::new(name, kind);
        for (i, v) in values.iter().enumerate() {
            f.series.push(Series {
                labels: Labels::new(vec![("s".into(), i.to_string())]).unwrap(),
                value: match kind {
                    MetricType::Counter => SampleValue::Counter(*v),
                    _ => SampleValue::Gauge(*v),
                },
                timestamp_ms: None,
                created: None,
            });
        }
        f
    }

    fn received(families: &[MetricFamily], per_batch: usize) -> Vec<Received> {
        let opts = EncodeOptions {
            timestamp_ms: 1,
            extra_labels: Vec::new(),
            max_samples_per_batch: per_batch,
        };
        encode_v1(families, &[], &opts)
            .unwrap()
            .into_iter()
            .map(|b| Received {
                at: Instant::now(),
                encoding: "snappy 0.1.0".into(),
                body: Bytes::from(b.body),
            })
            .collect()
    }

    #[test]
    fn decode_counts_series_and_checks_counters() {
        let fams = [
            family(
                "bench_counter_0_total",
                MetricType::Counter,
                &[1.0, 1.0, 1.0],
            ),
            family("bench_gauge_0", MetricType::Gauge, &[40.5, 41.5]),
            family("other", MetricType::Gauge, &[1.0]),
        ];
        let got = decode(&received(&fams, 2)).unwrap();
        assert_eq!(got.requests, 3);
        assert_eq!(got.series, 6);
        assert_eq!(got.bench_series, 5);
        assert_eq!(
            (got.duplicates, got.wrong_counters, got.bad_encoding),
            (0, 0, 0)
        );

        let wrong = [family(
            "bench_counter_0_total",
            MetricType::Counter,
            &[1.0, 2.0],
        )];
        let mut twice = received(&wrong, 10);
        twice.extend(received(&wrong, 10));
        twice[0].encoding = "gzip".into();
        let got = decode(&twice).unwrap();
        assert_eq!(got.bench_series, 2);
        assert_eq!(
            (got.duplicates, got.wrong_counters, got.bad_encoding),
            (2, 2, 1)
        );
    }

    #[test]
    fn garbage_does_not_decode() {
        let r = Received {
            at: Instant::now(),
            encoding: "snappy 0.1.0".into(),
            body: Bytes::from_static(b"not snappy"),
        };
        assert!(decode(&[r]).is_err());
    }
}
