//! `spin-test-host serve`: runs an app like `spin up` until killed.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{anyhow, Result};
use clap::{Parser, Subcommand};
use spin_test_host::{App, HostProfile, KvBackend, Options};

/// A Spin 3.x test host built on wasmtime.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the app's HTTP triggers and run its cron triggers until killed.
    Serve {
        /// The application manifest.
        #[arg(long, short = 'f', default_value = "spin.toml")]
        manifest: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:3000")]
        listen: SocketAddr,
        /// Runtime config file (key-value stores, state_dir).
        #[arg(long)]
        runtime_config: Option<PathBuf>,
        /// State directory (default `<app dir>/.spin`).
        #[arg(long)]
        state_dir: Option<PathBuf>,
        /// Key-value backend: sqlite, memory[:sqlite|:redis|:textbook|:no-atomics], redis://host:port.
        #[arg(long, default_value = "sqlite")]
        kv: KvBackend,
        /// Host profile: spin-up or cloud.
        #[arg(long, default_value = "spin-up")]
        profile: HostProfile,
        /// Application variable, NAME=VALUE (repeatable).
        #[arg(long = "variable", value_name = "NAME=VALUE")]
        variables: Vec<String>,
    },
}

fn parse_variables(pairs: &[String]) -> Result<BTreeMap<String, String>> {
    pairs
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| anyhow!("--variable {p:?} must be NAME=VALUE"))
        })
        .collect()
}

#[tokio::main]
async fn main() -> Result<()> {
    let Command::Serve {
        manifest,
        listen,
        runtime_config,
        state_dir,
        kv,
        profile,
        variables,
    } = Cli::parse().command;
    let options = Options {
        kv,
        profile,
        variables: parse_variables(&variables)?,
        runtime_config,
        state_dir,
        ..Options::default()
    };
    let app = App::load(&manifest, options).await?;
    let server = app.serve(listen).await?;
    println!("\nServing {}", server.url());
    println!("Available Routes:");
    for (route, component) in app.routes() {
        println!("  {component}: {}{route}", server.url());
    }
    for (label, summary) in app.store_summaries() {
        println!("Key-value store {label:?}: {summary}");
    }
    tokio::select! {
        r = server.wait() => r,
        r = tokio::signal::ctrl_c() => Ok(r?),
    }
}
