//! A faithful Spin 3.x test host, for development only.
//!
//! It loads a `spin.toml` the way `spin up` does and runs the real `.wasm` components on
//! wasmtime: the HTTP trigger (Spin's routing and `spin-*` headers, a fresh instance per
//! request), the cron trigger, key-value stores (Spin's SQLite store statement for
//! statement, Spin's Redis store command for command, or the core's quirk-selectable
//! in-memory store), variables, outbound HTTP with `allowed_outbound_hosts` and service
//! chaining, component dependencies, and host profiles (`spin-up`, `cloud`).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use spin_test_host::{App, Options};
//! let app = App::load("benches/trivial/spin.toml", Options::default()).await?;
//! let resp = app.handle(http::Request::get("/").body(Vec::new())?).await?;
//! assert_eq!(resp.status(), 200);
//! let server = app.serve("127.0.0.1:0".parse()?).await?;
//! println!("Serving {}", server.url());
//! # Ok(()) }
//! ```

pub mod allowed_hosts;
pub mod app;
pub mod bindings;
pub mod cron;
pub mod dependencies;
pub mod engine;
pub mod host;
pub mod http_trigger;
pub mod kv;
pub mod manifest;
pub mod outbound;
pub mod profile;
pub mod routes;
pub mod runtime_config;
pub mod serve;
pub mod state;
pub mod variables;

pub use app::{App, Options};
pub use kv::faults::Faults;
pub use kv::KvBackend;
pub use profile::HostProfile;
pub use promagg::store::memory::{MemoryStore, Semantics};
pub use serve::ServeHandle;
