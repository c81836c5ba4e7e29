//! The core's [`Store`] over Spin's `wasi:keyvalue` interfaces.
//!
//! With the `no-atomics` feature, nothing here references `wasi:keyvalue/batch` or
//! `atomics`, so the component imports only `wasi:keyvalue/store` and instantiates on Spin
//! cloud hosts, which lack the others.

use promagg::store::{Capabilities, CasHandle, Store, StoreError, SwapError};
use spin_sdk::wit::wasi::keyvalue::store;
#[cfg(not(feature = "no-atomics"))]
use spin_sdk::wit::wasi::keyvalue::{atomics, batch};

fn err(e: store::Error) -> StoreError {
    match e {
        store::Error::NoSuchStore => StoreError::Backend("no such key-value store".into()),
        store::Error::AccessDenied => StoreError::AccessDenied,
        store::Error::Other(m) => StoreError::Backend(m),
    }
}

/// An open Spin key-value store.
pub struct SpinStore {
    bucket: store::Bucket,
}

impl SpinStore {
    /// Opens the store with this label (declared in the component's `key_value_stores`).
    pub fn open(label: &str) -> Result<Self, StoreError> {
        Ok(SpinStore {
            bucket: store::open(label).map_err(err)?,
        })
    }
}

/// A CAS handle over `wasi:keyvalue/atomics.cas`.
pub struct SpinCas {
    #[cfg(not(feature = "no-atomics"))]
    cas: atomics::Cas,
    current: Option<Vec<u8>>,
}

impl CasHandle for SpinCas {
    fn current(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.current.clone())
    }
}

impl Store for SpinStore {
    type Cas = SpinCas;

    fn capabilities(&self) -> Capabilities {
        let all = cfg!(not(feature = "no-atomics"));
        Capabilities {
            batch_get: all,
            batch_write: all,
            increment: all,
            cas: all,
        }
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.bucket.get(key).map_err(err)
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.bucket.set(key, value).map_err(err)
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.bucket.delete(key).map_err(err)
    }

    fn exists(&self, key: &str) -> Result<bool, StoreError> {
        self.bucket.exists(key).map_err(err)
    }

    fn list_keys(&self) -> Result<Vec<String>, StoreError> {
        // Spin has no cursor: one call returns every key.
        Ok(self.bucket.list_keys(None).map_err(err)?.keys)
    }

    #[cfg(not(feature = "no-atomics"))]
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let got = batch::get_many(&self.bucket, keys).map_err(err)?;
        let mut by_key: std::collections::HashMap<String, Option<Vec<u8>>> =
            got.into_iter().collect();
        Ok(keys.iter().map(|k| by_key.remove(k).flatten()).collect())
    }

    #[cfg(feature = "no-atomics")]
    fn get_many(&self, _keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        Err(StoreError::Unsupported("get-many"))
    }

    #[cfg(not(feature = "no-atomics"))]
    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        batch::set_many(&self.bucket, entries).map_err(err)
    }

    #[cfg(feature = "no-atomics")]
    fn set_many(&self, _entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        Err(StoreError::Unsupported("set-many"))
    }

    #[cfg(not(feature = "no-atomics"))]
    fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        batch::delete_many(&self.bucket, keys).map_err(err)
    }

    #[cfg(feature = "no-atomics")]
    fn delete_many(&self, _keys: &[String]) -> Result<(), StoreError> {
        Err(StoreError::Unsupported("delete-many"))
    }

    #[cfg(not(feature = "no-atomics"))]
    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        atomics::increment(&self.bucket, key, delta).map_err(err)
    }

    #[cfg(feature = "no-atomics")]
    fn increment(&self, _key: &str, _delta: i64) -> Result<i64, StoreError> {
        Err(StoreError::Unsupported("increment"))
    }

    #[cfg(not(feature = "no-atomics"))]
    fn cas(&self, key: &str) -> Result<SpinCas, StoreError> {
        let cas = atomics::Cas::new(&self.bucket, key).map_err(err)?;
        let current = cas.current().map_err(err)?;
        Ok(SpinCas { cas, current })
    }

    #[cfg(feature = "no-atomics")]
    fn cas(&self, _key: &str) -> Result<SpinCas, StoreError> {
        Err(StoreError::Unsupported("cas"))
    }

    #[cfg(not(feature = "no-atomics"))]
    fn swap(&self, cas: SpinCas, value: &[u8]) -> Result<(), SwapError<SpinCas>> {
        match atomics::swap(cas.cas, value) {
            Ok(()) => Ok(()),
            Err(atomics::CasError::CasFailed(next)) => {
                let current = next.current().map_err(|e| SwapError::Store(err(e)))?;
                Err(SwapError::CasFailed(SpinCas { cas: next, current }))
            }
            Err(atomics::CasError::StoreError(e)) => Err(SwapError::Store(err(e))),
        }
    }

    #[cfg(feature = "no-atomics")]
    fn swap(&self, _cas: SpinCas, _value: &[u8]) -> Result<(), SwapError<SpinCas>> {
        Err(SwapError::Store(StoreError::Unsupported("swap")))
    }
}
