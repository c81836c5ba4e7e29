//! The exactness engine: applies pushes, deletes and folds to a Spin key-value store so that
//! no acknowledged update is lost or applied twice on any backend (`docs/design/exactness.md`).

pub mod fold;
pub mod io;
pub mod keys;
pub mod lease;
pub mod push;
pub mod record;
pub mod rendered;
pub mod state;
pub mod view;

use std::str::FromStr;

use thiserror::Error;

use crate::aggregate::AggregateError;
use crate::limits::{LimitError, Limits};
use crate::store::StoreError;

pub use fold::{fold, FoldReport};
pub use push::{delete, push, GaugeChoice, PushReport, PushRequest, Selector};
pub use view::{load, Snapshot};

/// Which Spin backend the store is, declared by the `kv_backend` variable (a component cannot tell).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// Spin's SQLite store: `get-many` is one consistent `SELECT`, batches are one commit.
    #[default]
    Sqlite,
    /// Spin's Redis store: no CAS, no `get-many`.
    Redis,
    /// Spin cloud hosts: no batch, no atomics, 1,024 keys.
    Cloud,
}

impl Backend {
    /// True when `get-many` may be used (consistent, working).
    pub fn batch_get(self) -> bool {
        self == Backend::Sqlite
    }

    /// True when `set-many`/`delete-many` may be used.
    pub fn batch_write(self) -> bool {
        self == Backend::Sqlite
    }

    /// True when `increment` exists (and so the fold lease).
    pub fn has_increment(self) -> bool {
        self != Backend::Cloud
    }
}

impl FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "sqlite" | "spin" | "" => Ok(Backend::Sqlite),
            "redis" => Ok(Backend::Redis),
            "cloud" | "no-atomics" => Ok(Backend::Cloud),
            other => Err(format!(
                "unknown kv_backend {other:?}: expected sqlite, redis or cloud"
            )),
        }
    }
}

/// Engine settings.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// The backend's semantics.
    pub backend: Backend,
    /// Shard count for a new store (an existing store keeps its own, from `v1/meta`).
    pub shards: usize,
    /// Request and store limits.
    pub limits: Limits,
    /// How long applied idempotency keys are remembered, ms.
    pub idempotency_window_ms: i64,
    /// Pending deltas at which writes answer 503 (cloud hosts' 1,024-key limit).
    pub max_pending_deltas: usize,
    /// Lease epoch length, ms.
    pub lease_ms: i64,
    /// Most deltas one fold applies (the oldest first), so a fold always finishes in its
    /// lease even after a long backlog; the rest wait for the next fold.
    pub max_fold_deltas: usize,
    /// Folds store the rendered expositions for scrapes (`engine::rendered`); off on cloud
    /// hosts, whose 1,024 keys are kept for pending writes.
    pub render_cache: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig::for_backend(Backend::Sqlite)
    }
}

impl EngineConfig {
    /// Defaults suited to a backend.
    pub fn for_backend(backend: Backend) -> Self {
        let cloud = backend == Backend::Cloud;
        EngineConfig {
            backend,
            shards: if cloud { 16 } else { 64 },
            limits: Limits::default(),
            idempotency_window_ms: 10 * 60 * 1000,
            // Cloud stores hold 1,024 keys: 16 shards + meta + 900 leave room for writes in flight.
            max_pending_deltas: if cloud { 900 } else { 1_000_000 },
            lease_ms: 10_000,
            max_fold_deltas: 20_000,
            render_cache: !cloud,
        }
    }
}

/// Why the engine refused or failed a request.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EngineError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The push conflicts with stored state.
    #[error(transparent)]
    Aggregate(#[from] AggregateError),
    /// A limit was exceeded.
    #[error(transparent)]
    Limit(#[from] LimitError),
    /// A stored record could not be decoded.
    #[error("corrupt stored record: {0}")]
    Corrupt(String),
    /// Too many pending deltas; the next fold makes room.
    #[error("{pending} writes are waiting to be folded (max_pending_deltas={limit}); retry after the next fold")]
    Backlog {
        /// Pending deltas.
        pending: usize,
        /// The limit.
        limit: usize,
    },
    /// The `Idempotency-Key` header is not usable.
    #[error("invalid Idempotency-Key: {0}")]
    InvalidIdempotencyKey(String),
    /// The request is malformed in a way the engine detects.
    #[error("{0}")]
    BadRequest(String),
    /// A run would pass its lease deadline; nothing was written.
    #[error("the run passed its lease deadline before writing; nothing was written")]
    DeadlineExceeded,
    /// Concurrent folds kept changing the store while it was read.
    #[error("the store changed during every read attempt; retry")]
    Unstable,
}

impl EngineError {
    /// The HTTP status this error maps to.
    pub fn status(&self) -> u16 {
        match self {
            EngineError::Aggregate(AggregateError::InvalidIncrement { .. }) => 400,
            EngineError::Aggregate(_) => 409,
            EngineError::Limit(l) => match l {
                LimitError::BodyTooLarge { .. } | LimitError::TooManySeries { .. } => 413,
                LimitError::TooManyTotalSeries { .. } | LimitError::TooManyFamilies { .. } => 409,
                _ => 400,
            },
            EngineError::InvalidIdempotencyKey(_) | EngineError::BadRequest(_) => 400,
            EngineError::Corrupt(_) => 500,
            EngineError::Store(_)
            | EngineError::Backlog { .. }
            | EngineError::DeadlineExceeded
            | EngineError::Unstable => 503,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
