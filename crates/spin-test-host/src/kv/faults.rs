//! Fault injection in front of any key-value backend, for tests.
//!
//! One [`Faults`] is shared by every store of an app. Each key-value call (including CAS
//! `current` and `swap`) counts as one operation.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{KvCas, KvError, KvStore, SwapError};

/// Switches tests flip to make the stores misbehave.
#[derive(Debug, Default)]
pub struct Faults {
    operations: AtomicU64,
    fail_at: AtomicU64,
    cas_conflicts: AtomicU64,
    delay_us: AtomicU64,
    unreachable: AtomicBool,
}

impl Faults {
    /// Makes the `n`th operation from now (1 = the next one) fail with a store error.
    pub fn fail_nth(&self, n: u64) {
        let now = self.operations.load(Ordering::SeqCst);
        self.fail_at.store(now + n, Ordering::SeqCst);
    }

    /// Makes the next `n` swaps report `cas-failed` without writing.
    pub fn inject_cas_conflicts(&self, n: u64) {
        self.cas_conflicts.store(n, Ordering::SeqCst);
    }

    /// Delays every operation by `d` (zero to stop).
    pub fn set_delay(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.delay_us.store(us, Ordering::SeqCst);
    }

    /// Makes every operation fail as if the store could not be reached (or not).
    pub fn set_unreachable(&self, unreachable: bool) {
        self.unreachable.store(unreachable, Ordering::SeqCst);
    }

    /// How many operations the stores were asked to do so far.
    pub fn operations(&self) -> u64 {
        self.operations.load(Ordering::SeqCst)
    }

    async fn enter(&self, op: &str) -> Result<(), KvError> {
        let n = self.operations.fetch_add(1, Ordering::SeqCst) + 1;
        let delay = self.delay_us.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_micros(delay)).await;
        }
        if self.unreachable.load(Ordering::SeqCst) {
            return Err(KvError::Other(format!(
                "{op}: store unreachable (injected)"
            )));
        }
        if self.fail_at.load(Ordering::SeqCst) == n {
            return Err(KvError::Other(format!("{op}: injected failure")));
        }
        Ok(())
    }

    fn take_cas_conflict(&self) -> bool {
        self.cas_conflicts
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// A store with faults injected in front of it.
pub struct FaultyKv {
    inner: Arc<dyn KvStore>,
    faults: Arc<Faults>,
}

impl FaultyKv {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn KvStore>, faults: Arc<Faults>) -> FaultyKv {
        FaultyKv { inner, faults }
    }
}

#[async_trait]
impl KvStore for FaultyKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.faults.enter("get").await?;
        self.inner.get(key).await
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        self.faults.enter("set").await?;
        self.inner.set(key, value).await
    }

    async fn delete(&self, key: &str) -> Result<(), KvError> {
        self.faults.enter("delete").await?;
        self.inner.delete(key).await
    }

    async fn exists(&self, key: &str) -> Result<bool, KvError> {
        self.faults.enter("exists").await?;
        self.inner.exists(key).await
    }

    async fn get_keys(&self) -> Result<Vec<String>, KvError> {
        self.faults.enter("get-keys").await?;
        self.inner.get_keys().await
    }

    async fn get_many(&self, keys: Vec<String>) -> Result<Vec<(String, Option<Vec<u8>>)>, KvError> {
        self.faults.enter("get-many").await?;
        self.inner.get_many(keys).await
    }

    async fn set_many(&self, entries: Vec<(String, Vec<u8>)>) -> Result<(), KvError> {
        self.faults.enter("set-many").await?;
        self.inner.set_many(entries).await
    }

    async fn delete_many(&self, keys: Vec<String>) -> Result<(), KvError> {
        self.faults.enter("delete-many").await?;
        self.inner.delete_many(keys).await
    }

    async fn increment(&self, key: String, delta: i64) -> Result<i64, KvError> {
        self.faults.enter("increment").await?;
        self.inner.increment(key, delta).await
    }

    async fn new_cas(&self, key: &str) -> Result<Arc<dyn KvCas>, KvError> {
        self.faults.enter("cas.new").await?;
        let inner = self.inner.new_cas(key).await?;
        Ok(Arc::new(FaultyCas {
            inner,
            faults: self.faults.clone(),
        }))
    }
}

struct FaultyCas {
    inner: Arc<dyn KvCas>,
    faults: Arc<Faults>,
}

#[async_trait]
impl KvCas for FaultyCas {
    async fn current(&self) -> Result<Option<Vec<u8>>, KvError> {
        self.faults.enter("cas.current").await?;
        self.inner.current().await
    }

    async fn swap(&self, value: Vec<u8>) -> Result<(), SwapError> {
        self.faults
            .enter("swap")
            .await
            .map_err(|e| SwapError::Other(e.to_string()))?;
        if self.faults.take_cas_conflict() {
            return Err(SwapError::CasFailed("injected conflict".into()));
        }
        self.inner.swap(value).await
    }

    fn key(&self) -> &str {
        self.inner.key()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::memory::MemoryKv;
    use promagg::store::memory::{MemoryStore, Semantics};

    fn store() -> (FaultyKv, Arc<Faults>) {
        let faults = Arc::new(Faults::default());
        let inner = Arc::new(MemoryKv::new(Arc::new(MemoryStore::new(Semantics::Sqlite))));
        (FaultyKv::new(inner, faults.clone()), faults)
    }

    #[tokio::test]
    async fn nth_operation_fails_once() {
        let (s, f) = store();
        f.fail_nth(2);
        assert!(s.set("a", b"1").await.is_ok());
        assert!(s.get("a").await.is_err());
        assert!(s.get("a").await.is_ok());
        assert_eq!(f.operations(), 3);
    }

    #[tokio::test]
    async fn unreachable_fails_everything_until_cleared() {
        let (s, f) = store();
        f.set_unreachable(true);
        assert!(s.get_keys().await.is_err());
        assert!(s.new_cas("k").await.is_err());
        f.set_unreachable(false);
        assert!(s.get_keys().await.is_ok());
    }

    #[tokio::test]
    async fn injected_cas_conflicts_do_not_write() {
        let (s, f) = store();
        s.set("k", b"1").await.unwrap();
        f.inject_cas_conflicts(1);
        let c = s.new_cas("k").await.unwrap();
        c.current().await.unwrap();
        assert!(matches!(
            c.swap(b"2".to_vec()).await,
            Err(SwapError::CasFailed(_))
        ));
        assert_eq!(s.get("k").await.unwrap(), Some(b"1".to_vec()));
        let c = s.new_cas("k").await.unwrap();
        c.current().await.unwrap();
        c.swap(b"2".to_vec()).await.unwrap();
        assert_eq!(s.get("k").await.unwrap(), Some(b"2".to_vec()));
    }

    #[tokio::test]
    async fn delay_slows_operations() {
        let (s, f) = store();
        f.set_delay(Duration::from_millis(30));
        let start = std::time::Instant::now();
        s.get("k").await.unwrap();
        assert!(start.elapsed() >= Duration::from_millis(30));
    }
}
