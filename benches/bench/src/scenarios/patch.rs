//! Scenarios 1, 2 and 6: concurrent `PATCH` increments (one hot series, 10,000 series, a new
//! series per request), each against the trivial one-write-per-request baseline measured
//! just before it (checked to be one changing write per request), with an exactness check
//! of every acknowledged increment.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Result;

use crate::bench::{Bench, TRIVIAL_ROUTE};
use crate::exposition::{canonical, Scrape};
use crate::load::{self, Answer};
use crate::report::{Goal, Row};
use crate::stats::{bytes, group_thousands, ms, rate, Summary};

/// Series of the spread scenario.
pub const SPREAD_SERIES: u64 = 10_000;

/// The original's platform limit, requests per second.
pub const ORIGINAL_LIMIT: f64 = 100.0;

/// Which PATCH scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 1: every client increments the same series.
    Hot,
    /// 2: increments spread round-robin over 10,000 series.
    Spread,
    /// 6: every request creates a series of its own.
    Storm,
}

impl Kind {
    fn title(self) -> &'static str {
        match self {
            Kind::Hot => "1 hot series",
            Kind::Spread => "2 spread (10k series)",
            Kind::Storm => "6 creation storm",
        }
    }

    fn family(self) -> &'static str {
        match self {
            Kind::Hot => "bench_hot_total",
            Kind::Spread => "bench_spread_total",
            Kind::Storm => "bench_storm_total",
        }
    }

    fn goal(self) -> Goal {
        match self {
            Kind::Hot | Kind::Spread => Goal::AtLeast(0.7),
            Kind::Storm => Goal::None,
        }
    }
}

/// The spread scenario's series index of request `seq` of `client`: round-robin, so every
/// series is hit about equally and concurrent clients hit different series.
pub fn spread_index(clients: usize, client: usize, seq: u64) -> u64 {
    (seq * clients as u64 + client as u64) % SPREAD_SERIES
}

/// Labels of the series request `seq` of `client` increments, as `(name, value)` pairs.
pub fn series_labels(kind: Kind, clients: usize, client: usize, seq: u64) -> Vec<(String, String)> {
    match kind {
        Kind::Hot => Vec::new(),
        Kind::Spread => vec![("s".into(), spread_index(clients, client, seq).to_string())],
        Kind::Storm => vec![
            ("c".into(), client.to_string()),
            ("n".into(), seq.to_string()),
        ],
    }
}

fn path(kind: Kind, labels: &[(String, String)]) -> String {
    let query: Vec<String> = labels.iter().map(|(n, v)| format!("{n}={v}")).collect();
    if query.is_empty() {
        format!("/metrics/{}", kind.family())
    } else {
        format!("/metrics/{}?{}", kind.family(), query.join("&"))
    }
}

/// Acknowledged increments compared with what the gateway stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Exactness {
    /// 2xx answers.
    pub acknowledged: u64,
    /// Sum of the stored values.
    pub stored: u64,
    /// Acknowledged increments missing from the store.
    pub lost: u64,
    /// Stored increments that were never acknowledged.
    pub extra: u64,
    /// Requests with no answer (they may or may not have been applied).
    pub unknown: u64,
}

impl Exactness {
    /// Compares the answers with the stored values, series by series (keys as
    /// `Scrape::counters` gives them).
    pub fn check(
        kind: Kind,
        clients: usize,
        answers: &[Answer],
        stored: &HashMap<String, f64>,
    ) -> Exactness {
        let mut expected: HashMap<String, u64> = HashMap::new();
        let mut e = Exactness::default();
        for a in answers {
            if a.ok() {
                let pairs = series_labels(kind, clients, a.client, a.seq);
                let refs: Vec<(&str, &str)> = pairs
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                *expected.entry(canonical(&refs)).or_insert(0) += 1;
                e.acknowledged += 1;
            } else if a.status.is_none() {
                e.unknown += 1;
            }
        }
        for (key, want) in &expected {
            let got = stored.get(key).map_or(0, |v| v.round() as u64);
            e.lost += want.saturating_sub(got);
        }
        for (key, got) in stored {
            let got = got.round() as u64;
            e.stored += got;
            e.extra += got.saturating_sub(expected.get(key).copied().unwrap_or(0));
        }
        e
    }

    /// Every acknowledged increment stored once; unanswered requests may account for extras.
    pub fn holds(&self) -> bool {
        self.lost == 0 && self.extra <= self.unknown
    }

    /// `lost=0 extra=0 (stored 1,234 = 1,234 acknowledged)`.
    pub fn text(&self) -> String {
        let rel = if self.stored == self.acknowledged {
            "="
        } else {
            "≠"
        };
        let mut s = format!(
            "lost={} extra={} (stored {} {rel} {} acknowledged",
            self.lost,
            self.extra,
            group_thousands(self.stored),
            group_thousands(self.acknowledged)
        );
        if self.unknown > 0 {
            s.push_str(&format!("; {} unanswered", self.unknown));
        }
        s.push(')');
        s
    }
}

/// Runs one PATCH scenario and adds its rows.
pub fn run(b: &mut Bench, kind: Kind) -> Result<()> {
    let clients = b.settings.clients;
    let title = kind.title();
    eprintln!(
        "== {title}: {clients} clients, trivial baseline for {:?} and promagg for {:?}, alternating",
        b.settings.baseline(),
        b.settings.measure
    );
    let trivial = b.trivial()?;
    let mut gw = b.gateway(&[])?;
    let addr = gw.serve(&b.server)?;
    if kind == Kind::Hot {
        super::anatomy::run(b, title, trivial, addr)?;
    }
    let before = b.trivial_counter()?;
    let (base, run) = b.paired(
        clients,
        (
            trivial,
            Arc::new(|_, _| load::request("GET", TRIVIAL_ROUTE, "")),
        ),
        (
            addr,
            Arc::new(move |client, seq| {
                load::request(
                    "PATCH",
                    &path(kind, &series_labels(kind, clients, client, seq)),
                    "",
                )
            }),
        ),
    )?;
    let base = Summary::of(&base);
    let advanced = b.trivial_counter()?.saturating_sub(before + 1);
    let s = Summary::of(&run);
    let scrape = b
        .client
        .block_on(load::expect_ok(addr, load::request("GET", "/metrics", "")))?;
    let scrape = Scrape::parse(&scrape)?;
    let stored = scrape.counters(kind.family())?;
    let exact = Exactness::check(kind, clients, &run.answers, &stored);
    b.retire(gw);

    let trivial_rate = format!("trivial {} req/s", rate(base.rate));
    let r = &mut b.report;
    r.push(Row::ratio(
        title,
        &format!("req/s, {clients} clients"),
        format!("{} req/s", rate(s.rate)),
        trivial_rate,
        s.rate / base.rate.max(1e-9),
        kind.goal(),
    ));
    r.push(Row::ratio(
        title,
        "req/s vs the original's limit",
        format!("{} req/s", rate(s.rate)),
        format!("{ORIGINAL_LIMIT} req/s"),
        s.rate / ORIGINAL_LIMIT,
        Goal::None,
    ));
    for (name, v, bv) in [
        ("p50 latency", s.p50, base.p50),
        ("p99 latency", s.p99, base.p99),
    ] {
        r.push(Row::ratio(
            title,
            name,
            ms(v),
            format!("trivial {}", ms(bv)),
            v.as_secs_f64() / bv.as_secs_f64().max(1e-9),
            Goal::None,
        ));
    }
    if let (Some(c), Some(bc)) = (s.cpu_per_request, base.cpu_per_request) {
        r.push(Row::ratio(
            title,
            "CPU per request (host + wasm + load generator)",
            ms(c),
            format!("trivial {}", ms(bc)),
            c.as_secs_f64() / bc.as_secs_f64().max(1e-9),
            Goal::None,
        ));
    }
    r.push(Row::ratio(
        title,
        "bytes per request (body out / in)",
        format!(
            "{} / {}",
            bytes(s.sent_per_request),
            bytes(s.received_per_request)
        ),
        format!(
            "trivial {} / {}",
            bytes(base.sent_per_request),
            bytes(base.received_per_request)
        ),
        s.received_per_request / base.received_per_request.max(1e-9),
        Goal::None,
    ));
    r.push(Row::check(
        title,
        "baseline makes one changing write per request",
        format!(
            "trivial `{TRIVIAL_ROUTE}`: counter advanced {} for {} acknowledged",
            group_thousands(advanced),
            group_thousands(base.ok)
        ),
        advanced == base.ok,
    ));
    r.push(Row::info(
        title,
        "CAS retries per request",
        "0 by design: a write is one blind `set` of a fresh delta key, no CAS on the path".into(),
    ));
    r.push(Row::info(
        title,
        "folds (cron, every 10 s) at the end",
        scrape.fold_state(),
    ));
    r.push(Row::check(
        title,
        "exactness (GET /metrics after the run)",
        format!("{}; non-2xx: {}", exact.text(), s.failures()),
        exact.holds(),
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ok(client: usize, seq: u64) -> Answer {
        Answer {
            client,
            seq,
            status: Some(200),
            latency: Duration::from_millis(1),
            sent: 0,
            received: 0,
            in_window: true,
        }
    }

    #[test]
    fn spread_covers_every_series_evenly() {
        let mut hits = vec![0u32; SPREAD_SERIES as usize];
        for client in 0..64 {
            for seq in 0..(SPREAD_SERIES / 64 + 1) {
                hits[spread_index(64, client, seq) as usize] += 1;
            }
        }
        assert!(hits.iter().all(|&h| (1..=2).contains(&h)));
    }

    #[test]
    fn paths_name_the_series() {
        let l = series_labels(Kind::Storm, 64, 3, 9);
        assert_eq!(path(Kind::Storm, &l), "/metrics/bench_storm_total?c=3&n=9");
        assert_eq!(path(Kind::Hot, &[]), "/metrics/bench_hot_total");
        let l = series_labels(Kind::Spread, 64, 1, 2);
        assert_eq!(path(Kind::Spread, &l), "/metrics/bench_spread_total?s=129");
    }

    #[test]
    fn exactness_counts_lost_and_extra_per_series() {
        let answers = [ok(0, 0), ok(1, 0), ok(0, 1)];
        let mut stored = HashMap::new();
        stored.insert(canonical(&[("s", "0")]), 1.0);
        stored.insert(canonical(&[("s", "64")]), 1.0);
        stored.insert(canonical(&[("s", "1")]), 0.0);
        let e = Exactness::check(Kind::Spread, 64, &answers, &stored);
        assert_eq!((e.acknowledged, e.stored, e.lost, e.extra), (3, 2, 1, 0));
        assert!(!e.holds());

        let mut stored = HashMap::new();
        stored.insert(String::new(), 4.0);
        let e = Exactness::check(Kind::Hot, 64, &answers, &stored);
        assert_eq!((e.lost, e.extra), (0, 1));
        assert!(!e.holds(), "an extra increment nobody sent is an error");
        let mut unanswered = answers.to_vec();
        unanswered.push(Answer {
            status: None,
            ..ok(2, 0)
        });
        let e = Exactness::check(Kind::Hot, 64, &unanswered, &stored);
        assert!(e.holds(), "an unanswered request may have been applied");
        assert_eq!(
            e.text(),
            "lost=0 extra=1 (stored 4 ≠ 3 acknowledged; 1 unanswered)"
        );
    }

    #[test]
    fn storm_expects_one_per_request() {
        let answers = [ok(0, 0), ok(0, 1), ok(5, 0)];
        let mut stored = HashMap::new();
        for (c, n) in [("0", "0"), ("0", "1"), ("5", "0")] {
            stored.insert(canonical(&[("c", c), ("n", n)]), 1.0);
        }
        let e = Exactness::check(Kind::Storm, 64, &answers, &stored);
        assert!(e.holds());
        assert_eq!(e.text(), "lost=0 extra=0 (stored 3 = 3 acknowledged)");
    }
}
