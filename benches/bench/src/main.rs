//! promagg-bench: throughput, latency and exactness of the served gateway, each figure beside
//! a baseline measured in the same run (docs/benchmarks.md).
//!
//! ```text
//! cargo run -p promagg-bench -- all            # full run, ~20 s per scenario
//! cargo run -p promagg-bench -- --quick all    # CI: a few seconds each, checks exactness only
//! cargo run -p promagg-bench -- hot spread     # some scenarios
//! ```
//!
//! The gateway and the trivial baseline run in the test host (as its serve mode runs them,
//! on a runtime of their own in this process), with Spin's SQLite store in a temporary
//! directory; Pushgateway is Debian's binary on a loopback port. Nothing is installed: a
//! missing piece is named with the command that provides it.

mod bench;
mod bodies;
mod exposition;
mod fixtures;
mod load;
mod micro;
mod report;
mod scenarios;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::{Parser, ValueEnum};

use bench::{Bench, Manifests, Settings};
use scenarios::patch::Kind;

/// Benchmarks of promagg against same-run baselines.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// A few seconds per scenario (for CI): checks exactness, judges no speed.
    #[arg(long)]
    quick: bool,
    /// Seconds of each measured load run (default 20, or 2 with --quick); baselines get half.
    #[arg(long)]
    seconds: Option<f64>,
    /// Concurrent clients of the PATCH scenarios.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// The gateway app's manifest, instead of the repository's spin.toml (for experiments,
    /// e.g. a copy without the cron trigger; component paths must then be absolute).
    #[arg(long, value_name = "PATH")]
    gateway_manifest: Option<PathBuf>,
    /// Scenarios to run, in the order given.
    #[arg(required = true, value_enum)]
    scenarios: Vec<Scenario>,
}

/// A scenario of issue 7 (numbered as there), or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// Everything below, in this order.
    All,
    /// Component .wasm sizes against 1 MiB.
    Sizes,
    /// 1: 64 clients PATCH one series.
    Hot,
    /// 2: 64 clients PATCH across 10,000 series.
    Spread,
    /// 3: POST bodies of 1,000 mixed series, against Pushgateway.
    Push,
    /// 4: GET /metrics at 10k and 100k series, against Pushgateway.
    Scrape,
    /// 5: one pusher run of 100k series into a local receiver.
    RemoteWrite,
    /// 6: 64 clients each creating new series.
    Storm,
    /// Native parse/apply/render of the core.
    Micro,
}

const ALL: [Scenario; 8] = [
    Scenario::Sizes,
    Scenario::Hot,
    Scenario::Spread,
    Scenario::Storm,
    Scenario::Push,
    Scenario::Scrape,
    Scenario::RemoteWrite,
    Scenario::Micro,
];

fn expand(chosen: &[Scenario]) -> Vec<Scenario> {
    let mut out: Vec<Scenario> = Vec::new();
    for s in chosen {
        let add: &[Scenario] = if *s == Scenario::All {
            &ALL
        } else {
            std::slice::from_ref(s)
        };
        for a in add {
            if !out.contains(a) {
                out.push(*a);
            }
        }
    }
    out
}

fn run_one(b: &mut Bench, s: Scenario) -> Result<()> {
    match s {
        Scenario::All => Ok(()),
        Scenario::Sizes => scenarios::sizes::run(b),
        Scenario::Hot => scenarios::patch::run(b, Kind::Hot),
        Scenario::Spread => scenarios::patch::run(b, Kind::Spread),
        Scenario::Storm => scenarios::patch::run(b, Kind::Storm),
        Scenario::Push => scenarios::push::run(b),
        Scenario::Scrape => scenarios::scrape::run(b),
        Scenario::RemoteWrite => scenarios::remote_write::run(b),
        Scenario::Micro => micro::run(b),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let seconds = cli.seconds.unwrap_or(if cli.quick { 2.0 } else { 20.0 });
    let settings = Settings {
        quick: cli.quick,
        measure: Duration::from_secs_f64(seconds.max(0.2)),
        clients: cli.clients.max(1),
    };
    let manifests = Manifests {
        gateway: cli.gateway_manifest.clone(),
    };
    let mut b = match Bench::new(settings, manifests) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("promagg-bench: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(p) = &cli.gateway_manifest {
        b.report.note(format!(
            "The gateway ran from {}, not the repository's spin.toml.",
            p.display()
        ));
    }
    let start = Instant::now();
    let mut errors = Vec::new();
    for s in expand(&cli.scenarios) {
        if let Err(e) = run_one(&mut b, s) {
            eprintln!("promagg-bench: {s:?} failed: {e:#}");
            errors.push(format!("{s:?}: {e:#}"));
        }
    }
    println!("{}", b.report.markdown());
    println!(
        "Run: {}, {} s per load run (baselines {} s), {} PATCH clients, {:.0} s in all.",
        if settings.quick { "--quick" } else { "full" },
        settings.measure.as_secs_f64(),
        settings.baseline().as_secs_f64(),
        settings.clients,
        start.elapsed().as_secs_f64()
    );
    let failed = b.report.failures();
    for f in &failed {
        eprintln!(
            "promagg-bench: FAILED {} / {}: {}",
            f.scenario, f.measure, f.value
        );
    }
    if failed.is_empty() && errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        for e in &errors {
            eprintln!("promagg-bench: error in {e}");
        }
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_expands_once_in_order() {
        assert_eq!(expand(&[Scenario::All]), ALL.to_vec());
        assert_eq!(
            expand(&[Scenario::Storm, Scenario::All]),
            [
                Scenario::Storm,
                Scenario::Sizes,
                Scenario::Hot,
                Scenario::Spread,
                Scenario::Push,
                Scenario::Scrape,
                Scenario::RemoteWrite,
                Scenario::Micro
            ]
            .to_vec()
        );
    }

    #[test]
    fn the_ci_command_line_parses() {
        let cli = Cli::try_parse_from(["promagg-bench", "--quick", "all"]).unwrap();
        assert!(cli.quick);
        assert_eq!(cli.scenarios, vec![Scenario::All]);
        let cli = Cli::try_parse_from(["promagg-bench", "remote-write", "--seconds", "5"]).unwrap();
        assert_eq!(cli.scenarios, vec![Scenario::RemoteWrite]);
        assert_eq!(cli.seconds, Some(5.0));
        assert!(Cli::try_parse_from(["promagg-bench"]).is_err());
        let cli =
            Cli::try_parse_from(["promagg-bench", "--gateway-manifest", "/tmp/x.toml", "hot"])
                .unwrap();
        assert_eq!(cli.gateway_manifest, Some(PathBuf::from("/tmp/x.toml")));
    }
}
