//! Scenario 3: push bodies of 1,000 series (counters, gauges, histograms), each client to its
//! own Pushgateway-API group, against Pushgateway fed the same requests.

use std::sync::Arc;

use anyhow::Result;
use bytes::Bytes;

use crate::bench::Bench;
use crate::bodies::{self, Mix, SERIES_PER_FAMILY};
use crate::exposition::{canonical, Scrape};
use crate::load::{self, Answer, MakeRequest, Plan};
use crate::report::{Goal, Row};
use crate::stats::{bytes, ms, rate, Summary};

/// Series per body.
pub const SERIES: usize = 1000;
/// Concurrent clients, one group each.
pub const CLIENTS: usize = 16;

const TITLE: &str = "3 push bodies (1,000 series)";

fn group_path(client: usize) -> String {
    format!("/metrics/job/bench/instance/c{client}")
}

/// Acknowledged pushes of each client.
fn acknowledged(answers: &[Answer]) -> Vec<u64> {
    let mut per = vec![0u64; CLIENTS];
    for a in answers.iter().filter(|a| a.ok()) {
        per[a.client] += 1;
    }
    per
}

/// Series of counter family 0 whose stored value differs from the client's acknowledged
/// pushes (each push adds 1 to every counter of its group).
fn wrong_counters(per_client: &[u64], stored: &std::collections::HashMap<String, f64>) -> usize {
    let mut wrong = 0;
    for (client, want) in per_client.iter().enumerate() {
        let instance = format!("c{client}");
        for s in 0..SERIES_PER_FAMILY {
            let s = s.to_string();
            let key = canonical(&[("instance", &instance), ("job", "bench"), ("s", &s)]);
            let got = stored.get(&key).copied().unwrap_or(0.0);
            if got.round() as u64 != *want {
                wrong += 1;
            }
        }
    }
    wrong
}

/// Runs scenario 3 and adds its rows.
pub fn run(b: &mut Bench) -> Result<()> {
    let body = Bytes::from(bodies::body(SERIES, Mix::Mixed, None));
    eprintln!(
        "== {TITLE}: {CLIENTS} clients, Pushgateway for {:?} and promagg for {:?}, alternating, {} per body",
        b.settings.baseline(),
        b.settings.measure,
        bytes(body.len() as f64)
    );
    let make: MakeRequest = {
        let body = body.clone();
        Arc::new(move |client, _| load::text_request("POST", &group_path(client), body.clone()))
    };
    let mut gw = b.gateway(&[])?;
    let addr = gw.serve(&b.server)?;
    let pgw = b.pushgateway()?;
    let (baseline, run) = match &pgw {
        Some(p) => {
            let (base, run) = b.paired(CLIENTS, (p.addr(), make.clone()), (addr, make))?;
            (Some(Summary::of(&base)), run)
        }
        None => {
            let plan = Plan {
                clients: CLIENTS,
                duration: b.settings.measure,
                max_per_client: u64::MAX,
            };
            (None, b.load(addr, plan, make)?)
        }
    };
    drop(pgw);
    let s = Summary::of(&run);
    let scrape = b
        .client
        .block_on(load::expect_ok(addr, load::request("GET", "/metrics", "")))?;
    let scrape = Scrape::parse(&scrape)?;
    let stored = scrape.counters(&bodies::counter_name(0))?;
    let per_client = acknowledged(&run.answers);
    let wrong = wrong_counters(&per_client, &stored);
    b.retire(gw);

    let series_rate = s.rate * SERIES as f64;
    b.served.push_series_per_s = Some(series_rate);
    let r = &mut b.report;
    match &baseline {
        Some(p) => {
            let p_rate = p.rate * SERIES as f64;
            r.push(Row::ratio(
                TITLE,
                &format!("series/s, {CLIENTS} clients"),
                format!("{} series/s ({} pushes/s)", rate(series_rate), rate(s.rate)),
                format!("Pushgateway {} series/s", rate(p_rate)),
                series_rate / p_rate.max(1e-9),
                Goal::AtLeast(1.0),
            ));
            for (name, v, bv) in [("p50 latency", s.p50, p.p50), ("p99 latency", s.p99, p.p99)] {
                r.push(Row::ratio(
                    TITLE,
                    name,
                    ms(v),
                    format!("Pushgateway {}", ms(bv)),
                    v.as_secs_f64() / bv.as_secs_f64().max(1e-9),
                    Goal::None,
                ));
            }
        }
        None => r.push(Row::info(
            TITLE,
            &format!("series/s, {CLIENTS} clients"),
            format!("{} series/s (no Pushgateway baseline)", rate(series_rate)),
        )),
    }
    r.push(Row::info(
        TITLE,
        "request body",
        format!(
            "{} (text 0.0.4), the same bytes to both",
            bytes(body.len() as f64)
        ),
    ));
    r.push(Row::info(
        TITLE,
        "folds (cron, every 10 s) at the end",
        scrape.fold_state(),
    ));
    let acked: u64 = per_client.iter().sum();
    r.push(Row::check(
        TITLE,
        "exactness (counters = acknowledged pushes per group)",
        format!(
            "{wrong} of {} counter series wrong; {acked} pushes acknowledged; non-2xx: {}",
            CLIENTS * SERIES_PER_FAMILY,
            s.failures()
        ),
        wrong == 0 && s.errors == 0,
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::time::Duration;

    #[test]
    fn counters_must_equal_acknowledged_pushes_of_their_group() {
        let answers: Vec<Answer> = [(0, 200), (0, 200), (1, 200), (1, 503)]
            .iter()
            .map(|&(client, st)| Answer {
                client,
                seq: 0,
                status: Some(st),
                latency: Duration::ZERO,
                sent: 0,
                received: 0,
                in_window: true,
            })
            .collect();
        let per = acknowledged(&answers);
        assert_eq!(&per[..3], &[2, 1, 0]);
        let mut stored = HashMap::new();
        for (client, v) in [(0, 2.0), (1, 1.0)] {
            for s in 0..SERIES_PER_FAMILY {
                let key = canonical(&[
                    ("instance", &format!("c{client}")),
                    ("job", "bench"),
                    ("s", &s.to_string()),
                ]);
                stored.insert(key, v);
            }
        }
        assert_eq!(wrong_counters(&per, &stored), 0);
        let key = canonical(&[("instance", "c1"), ("job", "bench"), ("s", "3")]);
        stored.insert(key, 2.0);
        assert_eq!(wrong_counters(&per, &stored), 1);
    }
}
