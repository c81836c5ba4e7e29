//! The key-value store contract: what Spin's key-value interfaces offer, as a trait.
//!
//! It mirrors `wasi:keyvalue` (store, batch, atomics) as Spin implements them, so the
//! engine can be written and tested natively against [`memory::MemoryStore`], which
//! reproduces each Spin backend's real semantics, quirks included.

pub mod memory;

use thiserror::Error;

/// An error from the store.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    /// The host does not offer this operation (e.g. atomics on Spin cloud hosts).
    #[error("store operation {0} is not supported by this host")]
    Unsupported(&'static str),
    /// The store could not be reached or failed the call.
    #[error("store error: {0}")]
    Backend(String),
    /// Access to the store label was refused.
    #[error("access to the key-value store was denied")]
    AccessDenied,
}

/// Result of a compare-and-swap.
#[derive(Debug)]
pub enum SwapError<C> {
    /// The value changed since `current` was read (or the backend says so); retry with the new handle.
    CasFailed(C),
    /// The store failed.
    Store(StoreError),
}

/// Which operations a store offers; cloud hosts offer neither batch nor atomics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// `get-many`/`set-many`/`delete-many` are available and trustworthy.
    pub batch_get: bool,
    /// `set-many`/`delete-many` are available.
    pub batch_write: bool,
    /// `increment` is available.
    pub increment: bool,
    /// Compare-and-swap is available.
    pub cas: bool,
}

/// A compare-and-swap handle on one key, as `wasi:keyvalue/atomics.cas`.
pub trait CasHandle {
    /// The value when the handle was made (what a swap compares against).
    fn current(&self) -> Result<Option<Vec<u8>>, StoreError>;
}

/// A Spin key-value store bucket.
pub trait Store {
    /// The compare-and-swap handle type.
    type Cas: CasHandle;

    /// What this store offers.
    fn capabilities(&self) -> Capabilities;
    /// The value of `key`.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Sets `key` to `value`.
    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Deletes `key` (absent is fine).
    fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// True when `key` exists.
    fn exists(&self, key: &str) -> Result<bool, StoreError>;
    /// Every key of the store at once (Spin has no cursor).
    fn list_keys(&self) -> Result<Vec<String>, StoreError>;
    /// Values of many keys; `None` where absent. Same order as `keys`.
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError>;
    /// Sets many keys in one call.
    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError>;
    /// Deletes many keys in one call.
    fn delete_many(&self, keys: &[String]) -> Result<(), StoreError>;
    /// Atomically adds `delta` to the integer at `key` (absent = 0) and returns the result.
    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError>;
    /// Opens a compare-and-swap handle on `key`, reading its current value.
    fn cas(&self, key: &str) -> Result<Self::Cas, StoreError>;
    /// Writes `value` if the key still holds what `cas` read.
    fn swap(&self, cas: Self::Cas, value: &[u8]) -> Result<(), SwapError<Self::Cas>>;
}
