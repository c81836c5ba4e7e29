//! Key-value backends behind Spin's key-value interfaces.
//!
//! The traits mirror Spin's `factor-key-value` `Store` and `Cas` traits, so each backend can
//! reproduce its Spin counterpart call for call: [`sqlite`] is `key-value-spin`, [`redis`]
//! is `key-value-redis`, [`memory`] wraps the core's quirk-selectable `MemoryStore`, and
//! [`faults`] wraps any of them to inject failures.

pub mod faults;
pub mod memory;
pub mod redis;
pub mod sqlite;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Result};
use async_trait::async_trait;
use promagg::store::memory::{MemoryStore, Semantics};

use crate::runtime_config::{RuntimeConfig, StateDir, StoreConfig};

/// A key-value error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// What Spin reports as `error::other(msg)`.
    #[error("{0}")]
    Other(String),
    /// Spin's host panics here (e.g. `increment` on a value that is not 8 bytes, SQLite);
    /// the host traps the calling instance instead.
    #[error("host panic: {0}")]
    HostPanic(String),
}

/// A failed compare-and-swap.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SwapError {
    /// The backend reports a conflict; the guest gets `cas-failed` with a fresh handle.
    #[error("cas failed: {0}")]
    CasFailed(String),
    /// Any other failure.
    #[error("{0}")]
    Other(String),
}

/// One store label's backend, as Spin's `Store` trait.
#[async_trait]
pub trait KvStore: Send + Sync {
    /// The value of `key`.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError>;
    /// Sets `key`.
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError>;
    /// Deletes `key`.
    async fn delete(&self, key: &str) -> Result<(), KvError>;
    /// Whether `key` exists.
    async fn exists(&self, key: &str) -> Result<bool, KvError>;
    /// Every key.
    async fn get_keys(&self) -> Result<Vec<String>, KvError>;
    /// Values of many keys (backends differ in what they return for absent keys).
    async fn get_many(&self, keys: Vec<String>) -> Result<Vec<(String, Option<Vec<u8>>)>, KvError>;
    /// Sets many keys.
    async fn set_many(&self, entries: Vec<(String, Vec<u8>)>) -> Result<(), KvError>;
    /// Deletes many keys.
    async fn delete_many(&self, keys: Vec<String>) -> Result<(), KvError>;
    /// Adds `delta` to the integer at `key` and returns the result.
    async fn increment(&self, key: String, delta: i64) -> Result<i64, KvError>;
    /// A compare-and-swap handle on `key` (reads nothing yet).
    async fn new_cas(&self, key: &str) -> Result<Arc<dyn KvCas>, KvError>;
}

/// A compare-and-swap handle, as Spin's `Cas` trait.
#[async_trait]
pub trait KvCas: Send + Sync {
    /// Reads the current value (and starts whatever makes the swap conditional).
    async fn current(&self) -> Result<Option<Vec<u8>>, KvError>;
    /// Writes `value` if the backend's condition holds.
    async fn swap(&self, value: Vec<u8>) -> Result<(), SwapError>;
    /// The key.
    fn key(&self) -> &str;
}

/// Which backend serves the app's key-value stores.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum KvBackend {
    /// As `spin up`: the runtime config's stores, and `default` in SQLite under the state dir.
    #[default]
    RuntimeConfig,
    /// Every label in its own in-memory `MemoryStore` with the given semantics.
    Memory(Semantics),
    /// Every label on this Redis URL (Spin's Redis store ignores labels).
    Redis(String),
}

impl std::str::FromStr for KvBackend {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "sqlite" | "spin" => KvBackend::RuntimeConfig,
            "memory" | "memory:sqlite" => KvBackend::Memory(Semantics::Sqlite),
            "memory:redis" => KvBackend::Memory(Semantics::Redis),
            "memory:textbook" => KvBackend::Memory(Semantics::Textbook),
            "memory:no-atomics" => KvBackend::Memory(Semantics::NoAtomics),
            url if url.starts_with("redis://") || url.starts_with("rediss://") => {
                KvBackend::Redis(url.to_string())
            }
            other => bail!(
                "unknown key-value backend {other:?}: expected sqlite, memory[:sqlite|:redis|:textbook|:no-atomics] or redis://host:port"
            ),
        })
    }
}

/// Name of Spin's default SQLite file inside the state directory.
pub const DEFAULT_SPIN_STORE_FILENAME: &str = "sqlite_key_value.db";

/// The configured stores of one app, by label.
#[derive(Clone)]
pub struct Stores {
    stores: HashMap<String, Arc<dyn KvStore>>,
    memory: HashMap<String, Arc<MemoryStore>>,
    summaries: BTreeMap<String, String>,
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stores")
            .field("summaries", &self.summaries)
            .finish()
    }
}

impl Stores {
    /// Builds the stores for `labels` (the union of every component's `key_value_stores`).
    ///
    /// `state_dir` is where the default store's file goes when the runtime config says
    /// nothing (`<app dir>/.spin` under `spin up`). `memory` holds the shared in-memory stores
    /// when the backend is `Memory`, so that a second `Stores` (the cron "process") sees
    /// the same data.
    pub fn build(
        backend: &KvBackend,
        runtime_config: &RuntimeConfig,
        default_state_dir: &std::path::Path,
        labels: &[String],
        faults: &Arc<faults::Faults>,
        memory: &HashMap<String, Arc<MemoryStore>>,
    ) -> Result<Stores> {
        let mut stores: HashMap<String, Arc<dyn KvStore>> = HashMap::new();
        let mut summaries = BTreeMap::new();
        for label in labels {
            let (store, summary): (Arc<dyn KvStore>, String) = match backend {
                KvBackend::Memory(semantics) => {
                    let Some(m) = memory.get(label) else {
                        bail!("no in-memory store prepared for label {label:?}");
                    };
                    (
                        Arc::new(memory::MemoryKv::new(m.clone())),
                        format!("in-memory ({semantics:?} semantics)"),
                    )
                }
                KvBackend::Redis(url) => (
                    Arc::new(redis::RedisKv::new(url)?),
                    format!("Redis at {url}"),
                ),
                KvBackend::RuntimeConfig => {
                    let config = match runtime_config.key_value_stores.get(label) {
                        Some(c) => c.clone(),
                        None if label == "default" => StoreConfig::Spin {
                            path: default_path(runtime_config, default_state_dir),
                        },
                        None => bail!(
                            "unknown key_value_stores label {label:?}: only \"default\" exists without a [key_value_store.{label}] runtime config entry"
                        ),
                    };
                    match config {
                        StoreConfig::Spin { path } => {
                            let summary = match &path {
                                Some(p) => format!("SQLite {}", p.display()),
                                None => "a temporary in-memory SQLite store".into(),
                            };
                            (Arc::new(sqlite::SqliteKv::new(label, path)?), summary)
                        }
                        StoreConfig::Redis { url } => (
                            Arc::new(redis::RedisKv::new(&url)?),
                            format!("Redis at {url}"),
                        ),
                    }
                }
            };
            let store: Arc<dyn KvStore> = Arc::new(faults::FaultyKv::new(store, faults.clone()));
            stores.insert(label.clone(), store);
            summaries.insert(label.clone(), summary);
        }
        Ok(Stores {
            stores,
            memory: memory.clone(),
            summaries,
        })
    }

    /// The store for `label`, if configured.
    pub fn get(&self, label: &str) -> Option<Arc<dyn KvStore>> {
        self.stores.get(label).cloned()
    }

    /// The in-memory store behind `label` (memory backend only).
    pub fn memory(&self, label: &str) -> Option<Arc<MemoryStore>> {
        self.memory.get(label).cloned()
    }

    /// What each label is backed by, for the startup banner.
    pub fn summaries(&self) -> &BTreeMap<String, String> {
        &self.summaries
    }
}

/// The default store's file: `<state dir>/sqlite_key_value.db`, or in-memory when the
/// runtime config unsets the state dir.
fn default_path(rc: &RuntimeConfig, default_state_dir: &std::path::Path) -> Option<PathBuf> {
    match &rc.state_dir {
        Some(StateDir::Unset) => None,
        Some(StateDir::Dir(d)) => Some(d.join(DEFAULT_SPIN_STORE_FILENAME)),
        None => Some(default_state_dir.join(DEFAULT_SPIN_STORE_FILENAME)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_names() {
        assert_eq!(
            "sqlite".parse::<KvBackend>().unwrap(),
            KvBackend::RuntimeConfig
        );
        assert_eq!(
            "memory:redis".parse::<KvBackend>().unwrap(),
            KvBackend::Memory(Semantics::Redis)
        );
        assert_eq!(
            "redis://127.0.0.1:6379".parse::<KvBackend>().unwrap(),
            KvBackend::Redis("redis://127.0.0.1:6379".into())
        );
        assert!("postgres".parse::<KvBackend>().is_err());
    }

    #[test]
    fn default_store_lives_in_the_state_dir() {
        let rc = RuntimeConfig::default();
        assert_eq!(
            default_path(&rc, std::path::Path::new("/app/.spin")),
            Some(PathBuf::from("/app/.spin/sqlite_key_value.db"))
        );
        let unset = RuntimeConfig {
            state_dir: Some(StateDir::Unset),
            ..Default::default()
        };
        assert_eq!(default_path(&unset, std::path::Path::new("/x")), None);
    }

    #[test]
    fn undefined_labels_are_refused() {
        let faults = Arc::new(faults::Faults::default());
        let err = Stores::build(
            &KvBackend::RuntimeConfig,
            &RuntimeConfig::default(),
            std::path::Path::new("/tmp"),
            &["cache".to_string()],
            &faults,
            &HashMap::new(),
        )
        .unwrap_err();
        assert!(err
            .to_string()
            .contains("unknown key_value_stores label \"cache\""));
    }
}
