//! Scenario 4: `GET /metrics` with 10k and 100k stored series (1,000-series groups of mixed
//! types), one client alternating between promagg and Pushgateway holding the same groups,
//! so both see the same machine load.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use bytes::Bytes;

use crate::bench::Bench;
use crate::bodies::{self, Mix};
use crate::load::{self, Conn, Reply};
use crate::report::{Goal, Row};
use crate::stats::{bytes, group_thousands, ms, quantile};

/// Series per pushed group.
const GROUP_SERIES: usize = 1000;
/// At most this many scrapes of each server per size.
const MAX_ROUNDS: usize = 200;

/// The scrape latencies and sizes of one server.
#[derive(Debug, Default)]
struct Scrapes {
    latencies: Vec<Duration>,
    bytes: usize,
}

impl Scrapes {
    fn add(&mut self, r: &Reply) {
        self.latencies.push(r.latency);
        self.bytes = r.body.len();
    }

    fn p(&self, q: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        quantile(&sorted, q)
    }
}

fn get_metrics() -> http::Request<http_body_util::Full<Bytes>> {
    load::request("GET", "/metrics", "")
}

async fn scrape(conn: &mut Conn) -> Result<Reply> {
    let r = conn.send(get_metrics()).await?;
    if r.status != 200 {
        return Err(anyhow!("GET /metrics answered {}", r.status));
    }
    Ok(r)
}

/// Scrapes `ours` and `theirs` in turn until `duration` passed (at least 3 rounds).
async fn alternate(
    ours: SocketAddr,
    theirs: Option<SocketAddr>,
    duration: Duration,
) -> Result<(Scrapes, Scrapes)> {
    let mut a = Conn::new(ours);
    let mut b = theirs.map(Conn::new);
    let (mut sa, mut sb) = (Scrapes::default(), Scrapes::default());
    let start = Instant::now();
    let mut rounds = 0;
    while rounds < MAX_ROUNDS && (rounds < 3 || start.elapsed() < duration) {
        if let Some(b) = b.as_mut() {
            sb.add(&scrape(b).await?);
        }
        sa.add(&scrape(&mut a).await?);
        rounds += 1;
    }
    Ok((sa, sb))
}

/// Runs scenario 4 at each size and adds its rows.
pub fn run(b: &mut Bench) -> Result<()> {
    let sizes: &[usize] = if b.settings.quick {
        &[10_000]
    } else {
        &[10_000, 100_000]
    };
    for &n in sizes {
        one(b, n)?;
    }
    Ok(())
}

fn one(b: &mut Bench, n: usize) -> Result<()> {
    let title = format!("4 scrape ({}k series)", n / 1000);
    let groups = n / GROUP_SERIES;
    let body = Bytes::from(bodies::body(GROUP_SERIES, Mix::Mixed, None));
    let path = |g: usize| format!("/metrics/job/scrape/instance/g{g}");
    eprintln!("== {title}: loading {groups} groups of {GROUP_SERIES} series into both");

    let pgw = b.pushgateway()?;
    if let Some(p) = &pgw {
        for g in 0..groups {
            let req = load::text_request("PUT", &path(g), body.clone());
            b.client.block_on(load::expect_ok(p.addr(), req))?;
        }
    }
    // Loaded through the host before serving, then folded by one pusher run, so the scrape
    // reads folded shards as it does between pushes in steady state.
    let mut gw = b.gateway(&[])?;
    for g in 0..groups {
        gw.call(&b.server, "PUT", &path(g), body.to_vec())?;
    }
    let fold = gw.call(&b.server, "POST", "/-/push", Vec::new())?;
    let addr = gw.serve(&b.server)?;

    let measure = b.settings.baseline();
    eprintln!(
        "   folded ({}); scraping both in turn for {measure:?}",
        fold.trim().replace('\n', " ")
    );
    let (ours, theirs) =
        b.client
            .block_on(alternate(addr, pgw.as_ref().map(|p| p.addr()), measure))?;
    let body = b.client.block_on(load::expect_ok(addr, get_metrics()))?;
    let seen = bodies::count_bench_series(&String::from_utf8_lossy(&body));
    // With a write pending the stored exposition is not current: the scrape takes the full
    // read path (shards + deltas, decoded and rendered), as it does under continuous pushes.
    // A PATCH before every scrape keeps one pending whenever the cron folds.
    let rounds_pending = if n <= 10_000 { 50 } else { 10 };
    let mut pending = Vec::with_capacity(rounds_pending);
    for _ in 0..rounds_pending {
        let patch = load::request("PATCH", "/metrics/bench_pending_total", "");
        b.client.block_on(load::expect_ok(addr, patch))?;
        let start = std::time::Instant::now();
        b.client.block_on(load::expect_ok(addr, get_metrics()))?;
        pending.push(start.elapsed());
    }
    pending.sort();
    b.retire(gw);
    drop(pgw);

    let p50 = ours.p(0.5);
    if n == 10_000 {
        b.served.scrape_10k = Some(p50);
    }
    let r = &mut b.report;
    let rounds = ours.latencies.len();
    if theirs.latencies.is_empty() {
        r.push(Row::info(
            &title,
            "p50 latency",
            format!("{} (no Pushgateway baseline)", ms(p50)),
        ));
    } else {
        let goal = if n == 10_000 {
            Goal::AtMost(1.0)
        } else {
            Goal::None
        };
        for (name, q, goal) in [
            ("p50 latency", 0.5, goal),
            ("p99 latency", 0.99, Goal::None),
        ] {
            let (v, bv) = (ours.p(q), theirs.p(q));
            r.push(Row::ratio(
                &title,
                &format!("{name} ({rounds} scrapes each)"),
                ms(v),
                format!("Pushgateway {}", ms(bv)),
                v.as_secs_f64() / bv.as_secs_f64().max(1e-9),
                goal,
            ));
        }
        r.push(Row::ratio(
            &title,
            "bytes per scrape",
            bytes(ours.bytes as f64),
            format!("Pushgateway {}", bytes(theirs.bytes as f64)),
            ours.bytes as f64 / theirs.bytes.max(1) as f64,
            Goal::None,
        ));
    }
    r.push(Row::info(
        &title,
        &format!("p50 latency with a write pending (full read path, {rounds_pending} scrapes)"),
        ms(pending[pending.len() / 2]),
    ));
    r.push(Row::check(
        &title,
        "every stored series in the scrape",
        format!(
            "{} of {}",
            group_thousands(seen as u64),
            group_thousands(n as u64)
        ),
        seen == n,
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrapes_keep_latencies_and_the_last_size() {
        let mut s = Scrapes::default();
        for (ms, len) in [(30, 10), (10, 12), (20, 14)] {
            s.add(&Reply {
                status: 200,
                body: Bytes::from(vec![b'x'; len]),
                latency: Duration::from_millis(ms),
            });
        }
        assert_eq!(s.p(0.5), Duration::from_millis(20));
        assert_eq!(s.p(0.99), Duration::from_millis(30));
        assert_eq!(s.bytes, 14);
    }
}
