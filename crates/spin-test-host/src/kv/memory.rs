//! The core's in-memory `MemoryStore` behind Spin's key-value interfaces.
//!
//! The quirks come from `MemoryStore`'s `Semantics` (SQLite, Redis, no-atomics, textbook);
//! this adapter only maps Spin's lazy CAS protocol (`new`, then `current`, then `swap`) onto
//! the store's read-at-creation handle: the handle is taken when the guest calls `current()`,
//! or at swap time when it never did (an unconditional swap, as on Spin's SQLite and Redis).

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use promagg::store::memory::{MemoryCas, MemoryStore, Semantics};
use promagg::store::{CasHandle, Store, StoreError, SwapError as CoreSwapError};

use super::{KvCas, KvError, KvStore, SwapError};

/// A label served by a shared `MemoryStore`.
pub struct MemoryKv {
    store: Arc<MemoryStore>,
}

impl MemoryKv {
    /// Serves `store`.
    pub fn new(store: Arc<MemoryStore>) -> MemoryKv {
        MemoryKv { store }
    }
}

fn map_err(e: StoreError) -> KvError {
    match e {
        StoreError::Backend(msg) if msg.contains("host panic") => KvError::HostPanic(msg),
        other => KvError::Other(other.to_string()),
    }
}

#[async_trait]
impl KvStore for MemoryKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.store.get(key).map_err(map_err)
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        self.store.set(key, value).map_err(map_err)
    }

    async fn delete(&self, key: &str) -> Result<(), KvError> {
        self.store.delete(key).map_err(map_err)
    }

    async fn exists(&self, key: &str) -> Result<bool, KvError> {
        self.store.exists(key).map_err(map_err)
    }

    async fn get_keys(&self) -> Result<Vec<String>, KvError> {
        self.store.list_keys().map_err(map_err)
    }

    async fn get_many(&self, keys: Vec<String>) -> Result<Vec<(String, Option<Vec<u8>>)>, KvError> {
        let values = self.store.get_many(&keys).map_err(map_err)?;
        let pairs = keys.into_iter().zip(values);
        Ok(match self.store.semantics() {
            // Spin's SQLite store returns only the rows it found.
            Semantics::Sqlite => pairs.filter(|(_, v)| v.is_some()).collect(),
            _ => pairs.collect(),
        })
    }

    async fn set_many(&self, entries: Vec<(String, Vec<u8>)>) -> Result<(), KvError> {
        self.store.set_many(&entries).map_err(map_err)
    }

    async fn delete_many(&self, keys: Vec<String>) -> Result<(), KvError> {
        self.store.delete_many(&keys).map_err(map_err)
    }

    async fn increment(&self, key: String, delta: i64) -> Result<i64, KvError> {
        self.store.increment(&key, delta).map_err(map_err)
    }

    async fn new_cas(&self, key: &str) -> Result<Arc<dyn KvCas>, KvError> {
        if !self.store.capabilities().cas {
            return Err(map_err(StoreError::Unsupported("cas.new")));
        }
        Ok(Arc::new(MemoryKvCas {
            store: self.store.clone(),
            key: key.to_string(),
            read: Mutex::new(None),
        }))
    }
}

struct MemoryKvCas {
    store: Arc<MemoryStore>,
    key: String,
    read: Mutex<Option<MemoryCas>>,
}

#[async_trait]
impl KvCas for MemoryKvCas {
    async fn current(&self) -> Result<Option<Vec<u8>>, KvError> {
        let handle = self.store.cas(&self.key).map_err(map_err)?;
        let value = handle.current().map_err(map_err)?;
        *self.read.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
        Ok(value)
    }

    async fn swap(&self, value: Vec<u8>) -> Result<(), SwapError> {
        let taken = self.read.lock().unwrap_or_else(|p| p.into_inner()).take();
        let handle = match taken {
            Some(h) => h,
            None => self
                .store
                .cas(&self.key)
                .map_err(|e| SwapError::Other(e.to_string()))?,
        };
        match self.store.swap(handle, &value) {
            Ok(()) => Ok(()),
            Err(CoreSwapError::CasFailed(_)) => Err(SwapError::CasFailed(
                "the value changed since it was read".into(),
            )),
            Err(CoreSwapError::Store(e)) => Err(SwapError::Other(e.to_string())),
        }
    }

    fn key(&self) -> &str {
        &self.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(semantics: Semantics) -> MemoryKv {
        MemoryKv::new(Arc::new(MemoryStore::new(semantics)))
    }

    #[tokio::test]
    async fn sqlite_semantics_upsert_on_absent_and_sparse_get_many() {
        let s = kv(Semantics::Sqlite);
        let a = s.new_cas("k").await.unwrap();
        let b = s.new_cas("k").await.unwrap();
        a.current().await.unwrap();
        b.current().await.unwrap();
        a.swap(b"a".to_vec()).await.unwrap();
        b.swap(b"b".to_vec()).await.unwrap();
        assert_eq!(s.get("k").await.unwrap(), Some(b"b".to_vec()));
        let got = s.get_many(vec!["k".into(), "absent".into()]).await.unwrap();
        assert_eq!(got, vec![("k".to_string(), Some(b"b".to_vec()))]);
        s.set("t", b"abc").await.unwrap();
        assert!(matches!(
            s.increment("t".into(), 1).await,
            Err(KvError::HostPanic(_))
        ));
    }

    #[tokio::test]
    async fn redis_semantics_every_swap_reports_failure() {
        let s = kv(Semantics::Redis);
        s.set("k", b"1").await.unwrap();
        let c = s.new_cas("k").await.unwrap();
        c.current().await.unwrap();
        assert!(matches!(
            c.swap(b"2".to_vec()).await,
            Err(SwapError::CasFailed(_))
        ));
        assert_eq!(
            s.get("k").await.unwrap(),
            Some(b"2".to_vec()),
            "it wrote anyway"
        );
        assert!(s.get_many(vec!["k".into()]).await.is_err());
    }

    #[tokio::test]
    async fn textbook_semantics_keep_absent_keys_and_refuse_racing_creation() {
        let s = kv(Semantics::Textbook);
        let a = s.new_cas("k").await.unwrap();
        let b = s.new_cas("k").await.unwrap();
        a.current().await.unwrap();
        b.current().await.unwrap();
        a.swap(b"a".to_vec()).await.unwrap();
        assert!(matches!(
            b.swap(b"b".to_vec()).await,
            Err(SwapError::CasFailed(_))
        ));
        let got = s.get_many(vec!["k".into(), "absent".into()]).await.unwrap();
        assert_eq!(got[1], ("absent".to_string(), None));
    }

    #[tokio::test]
    async fn no_atomics_refuses_cas_and_increment() {
        let s = kv(Semantics::NoAtomics);
        assert!(s.new_cas("k").await.is_err());
        assert!(s.increment("k".into(), 1).await.is_err());
    }
}
