//! Figures of a load run: rate, latency percentiles, bytes, answers by status.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::load::{Answer, Run};

/// What a run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// 2xx answers.
    pub ok: u64,
    /// Non-2xx answers by status.
    pub refused: BTreeMap<u16, u64>,
    /// Transport errors (no answer).
    pub errors: u64,
    /// Acknowledged requests per second of the load window.
    pub rate: f64,
    /// Median latency of acknowledged requests.
    pub p50: Duration,
    /// 99th-percentile latency of acknowledged requests.
    pub p99: Duration,
    /// Mean request body bytes.
    pub sent_per_request: f64,
    /// Mean response body bytes of acknowledged requests.
    pub received_per_request: f64,
    /// The load window.
    pub window: Duration,
    /// This process's CPU time per acknowledged request, when known.
    pub cpu_per_request: Option<Duration>,
}

/// The `q`-quantile (0..=1) of sorted durations, nearest-rank; zero when empty.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl Summary {
    /// Summarizes every answer of `run`.
    pub fn of(run: &Run) -> Summary {
        let mut s = Self::of_answers(&run.answers, run.window);
        s.cpu_per_request = run.cpu.map(|c| c / s.ok.max(1) as u32);
        s
    }

    /// Summarizes `answers` of a load window of `window`.
    pub fn of_answers(answers: &[Answer], window: Duration) -> Summary {
        let ok: Vec<&Answer> = answers.iter().filter(|a| a.ok()).collect();
        let mut latencies: Vec<Duration> = ok.iter().map(|a| a.latency).collect();
        latencies.sort_unstable();
        let mut refused = BTreeMap::new();
        for a in answers.iter().filter(|a| !a.ok()) {
            if let Some(s) = a.status {
                *refused.entry(s).or_insert(0) += 1;
            }
        }
        let n = ok.len().max(1) as f64;
        Summary {
            ok: ok.len() as u64,
            refused,
            errors: answers.iter().filter(|a| a.status.is_none()).count() as u64,
            rate: ok.iter().filter(|a| a.in_window).count() as f64 / window.as_secs_f64().max(1e-9),
            p50: quantile(&latencies, 0.50),
            p99: quantile(&latencies, 0.99),
            sent_per_request: answers.iter().map(|a| a.sent).sum::<usize>() as f64
                / answers.len().max(1) as f64,
            received_per_request: ok.iter().map(|a| a.received).sum::<usize>() as f64 / n,
            window,
            cpu_per_request: None,
        }
    }

    /// Non-2xx answers and transport errors, e.g. `503×3, errors×1`, or `none`.
    pub fn failures(&self) -> String {
        let mut parts: Vec<String> = self
            .refused
            .iter()
            .map(|(s, n)| format!("{s}×{n}"))
            .collect();
        if self.errors > 0 {
            parts.push(format!("transport errors×{}", self.errors));
        }
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        }
    }
}

/// Linux's `USER_HZ`, the unit of `/proc/self/stat` CPU times (100 on every Linux build
/// this tool runs on; `getconf CLK_TCK`).
const USER_HZ: u64 = 100;

/// CPU time used by this process so far (user + system), from `/proc/self/stat`; `None`
/// where that file does not exist.
pub fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_stat_cpu(&stat)
}

/// User + system time of a `/proc/<pid>/stat` line (fields 14 and 15, counted after the
/// parenthesized command name, which may itself hold spaces).
fn parse_stat_cpu(stat: &str) -> Option<Duration> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 1000 / USER_HZ))
}

/// Milliseconds with a sensible precision.
pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

/// A byte count with a binary unit.
pub fn bytes(n: f64) -> String {
    if n >= 1024.0 * 1024.0 {
        format!("{:.2} MiB", n / (1024.0 * 1024.0))
    } else if n >= 1024.0 {
        format!("{:.1} KiB", n / 1024.0)
    } else {
        format!("{n:.0} B")
    }
}

/// A rate with thousands separators and no false precision.
pub fn rate(r: f64) -> String {
    let rounded = if r >= 100.0 {
        r.round()
    } else {
        (r * 10.0).round() / 10.0
    };
    if rounded >= 1000.0 {
        group_thousands(rounded as u64)
    } else {
        format!("{rounded}")
    }
}

/// `1234567` as `1,234,567`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: Option<u16>, ms: u64) -> Answer {
        Answer {
            client: 0,
            seq: 0,
            status,
            latency: Duration::from_millis(ms),
            sent: 10,
            received: 4,
            in_window: ms < 100,
        }
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let d: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile(&d, 0.5), Duration::from_millis(50));
        assert_eq!(quantile(&d, 0.99), Duration::from_millis(99));
        assert_eq!(quantile(&d, 1.0), Duration::from_millis(100));
        assert_eq!(quantile(&d[..1], 0.99), Duration::from_millis(1));
        assert_eq!(quantile(&[], 0.5), Duration::ZERO);
    }

    #[test]
    fn summary_counts_only_2xx_as_acknowledged() {
        let answers = [
            answer(Some(200), 1),
            answer(Some(204), 3),
            answer(Some(200), 500),
            answer(Some(503), 100),
            answer(None, 100),
        ];
        let s = Summary::of_answers(&answers, Duration::from_secs(2));
        assert_eq!(s.ok, 3);
        assert_eq!(s.rate, 1.0, "the answer after the window is not counted");
        assert_eq!(s.errors, 1);
        assert_eq!(s.refused.get(&503), Some(&1));
        assert_eq!(s.p50, Duration::from_millis(3));
        assert_eq!(s.p99, Duration::from_millis(500));
        assert_eq!(s.sent_per_request, 10.0);
        assert_eq!(s.received_per_request, 4.0);
        assert_eq!(s.failures(), "503×1, transport errors×1");
    }

    #[test]
    fn cpu_time_is_read_after_the_command_name() {
        let line = "42 (a b) c) S 1 2 3 4 5 6 7 8 9 10 250 150 0 0 20";
        assert_eq!(parse_stat_cpu(line), Some(Duration::from_millis(4000)));
        assert_eq!(parse_stat_cpu("garbage"), None);
        assert!(process_cpu().is_some(), "this tool runs on Linux");
    }

    #[test]
    fn formats() {
        assert_eq!(group_thousands(1_234_567), "1,234,567");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(rate(1234.4), "1,234");
        assert_eq!(rate(12.34), "12.3");
        assert_eq!(bytes(2048.0), "2.0 KiB");
        assert_eq!(ms(Duration::from_micros(1500)), "1.50 ms");
    }
}
