//! Where a PATCH's time goes beyond the trivial write: one client, requests in turn, so
//! queueing plays no part. A route with no key-value call shows the cost of an instance
//! (and, for the gateway, of reading its configuration); a route with one write adds the
//! key-value calls.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{anyhow, Result};

use crate::bench::{Bench, TRIVIAL_ROUTE};
use crate::load::{self, Conn};
use crate::report::{Goal, Row};
use crate::stats::{ms, quantile};

/// The four requests, in the order they are sent each round.
const PROBES: [(&str, &str, bool); 4] = [
    ("GET", "/headers", false),
    ("GET", "/-/healthy", true),
    ("GET", TRIVIAL_ROUTE, false),
    ("PATCH", "/metrics/bench_anatomy_total", true),
];

/// Median latency of each probe over `rounds` rounds.
async fn medians(trivial: SocketAddr, gateway: SocketAddr, rounds: usize) -> Result<Vec<Duration>> {
    let mut t = Conn::new(trivial);
    let mut g = Conn::new(gateway);
    let mut lat: Vec<Vec<Duration>> = vec![Vec::new(); PROBES.len()];
    for _ in 0..rounds {
        for (i, (method, path, on_gateway)) in PROBES.iter().enumerate() {
            let conn = if *on_gateway { &mut g } else { &mut t };
            let reply = conn.send(load::request(method, path, "")).await?;
            if reply.status != 200 {
                return Err(anyhow!("{method} {path} answered {}", reply.status));
            }
            lat[i].push(reply.latency);
        }
    }
    Ok(lat
        .into_iter()
        .map(|mut l| {
            l.sort_unstable();
            quantile(&l, 0.5)
        })
        .collect())
}

/// Adds the two rows: an instance with no key-value call, and a request with one write.
pub fn run(b: &mut Bench, title: &str, trivial: SocketAddr, gateway: SocketAddr) -> Result<()> {
    let rounds = if b.settings.quick { 30 } else { 300 };
    let m = b.client.block_on(medians(trivial, gateway, rounds))?;
    let rows = [
        (
            "1 client: request with no KV call (p50)",
            m[1],
            format!("trivial `/headers` {}", ms(m[0])),
            m[0],
            "gateway `/-/healthy`",
        ),
        (
            "1 client: request with one write (p50)",
            m[3],
            format!("trivial `{TRIVIAL_ROUTE}` {}", ms(m[2])),
            m[2],
            "gateway PATCH",
        ),
    ];
    for (measure, v, baseline, bv, what) in rows {
        b.report.push(Row::ratio(
            title,
            measure,
            format!("{what} {}", ms(v)),
            baseline,
            v.as_secs_f64() / bv.as_secs_f64().max(1e-9),
            Goal::None,
        ));
    }
    Ok(())
}
