//! `wasi:keyvalue/{store,batch,atomics}@0.2.0-draft2` and `fermyon:spin/key-value@2.0.0`,
//! dispatched as Spin's `factor-key-value/src/host.rs` does.
//!
//! A label the component does not list in `key_value_stores` is refused (`access-denied`).
//! A list-keys cursor is refused. Empty batch calls return at once without touching the
//! store. A failed swap opens a new CAS handle on the same key and reads it before handing
//! it back. A backend "panic" traps the instance.
//!
//! A dependency that does not inherit its parent's configuration may open no store: as
//! under Spin's deny adapter, `fermyon:spin/key-value.open` answers `no-such-store` and
//! `wasi:keyvalue/store.open` `access-denied`.

use std::collections::HashSet;
use std::sync::Arc;

use wasmtime::component::Resource;

use crate::bindings::fermyon::spin::key_value as legacy;
use crate::bindings::wasi::keyvalue::{atomics, batch, store};
use crate::kv::{KvCas, KvError, KvStore, Stores, SwapError};
use crate::state::HostState;

/// An open store: a `wasi:keyvalue/store.bucket` or a legacy `key-value.store`.
pub struct Bucket {
    store: Arc<dyn KvStore>,
}

/// A `wasi:keyvalue/atomics.cas` handle.
pub struct CasResource {
    cas: Arc<dyn KvCas>,
    store: Arc<dyn KvStore>,
}

/// What one instance may open.
#[derive(Clone)]
pub struct KvAccess {
    /// Labels from the component's `key_value_stores`.
    pub allowed: Arc<HashSet<String>>,
    /// The app's stores.
    pub stores: Stores,
}

enum OpenError {
    AccessDenied,
    NoSuchStore,
}

impl KvAccess {
    fn open(&self, label: &str) -> Result<Arc<dyn KvStore>, OpenError> {
        if !self.allowed.contains(label) {
            return Err(OpenError::AccessDenied);
        }
        self.stores.get(label).ok_or(OpenError::NoSuchStore)
    }
}

/// Maps a backend result: errors go to the guest, host panics trap.
fn guest<T, E>(
    r: Result<T, KvError>,
    to_guest: impl FnOnce(String) -> E,
) -> wasmtime::Result<Result<T, E>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(KvError::Other(msg)) => Ok(Err(to_guest(msg))),
        Err(KvError::HostPanic(msg)) => Err(wasmtime::format_err!("key-value host panic: {msg}")),
    }
}

impl HostState {
    fn bucket(&self, r: &Resource<Bucket>) -> wasmtime::Result<Arc<dyn KvStore>> {
        Ok(self.table.get(r)?.store.clone())
    }
}

impl store::Host for HostState {
    async fn open(
        &mut self,
        identifier: String,
    ) -> wasmtime::Result<Result<Resource<Bucket>, store::Error>> {
        match self.kv.open(&identifier) {
            Ok(store) => Ok(Ok(self.table.push(Bucket { store })?)),
            Err(OpenError::AccessDenied) => Ok(Err(store::Error::AccessDenied)),
            Err(OpenError::NoSuchStore) => Ok(Err(store::Error::NoSuchStore)),
        }
    }
}

impl store::HostBucket for HostState {
    async fn get(
        &mut self,
        b: Resource<Bucket>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, store::Error>> {
        let s = self.bucket(&b)?;
        guest(s.get(&key).await, store::Error::Other)
    }

    async fn set(
        &mut self,
        b: Resource<Bucket>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), store::Error>> {
        let s = self.bucket(&b)?;
        guest(s.set(&key, &value).await, store::Error::Other)
    }

    async fn delete(
        &mut self,
        b: Resource<Bucket>,
        key: String,
    ) -> wasmtime::Result<Result<(), store::Error>> {
        let s = self.bucket(&b)?;
        guest(s.delete(&key).await, store::Error::Other)
    }

    async fn exists(
        &mut self,
        b: Resource<Bucket>,
        key: String,
    ) -> wasmtime::Result<Result<bool, store::Error>> {
        let s = self.bucket(&b)?;
        guest(s.exists(&key).await, store::Error::Other)
    }

    async fn list_keys(
        &mut self,
        b: Resource<Bucket>,
        cursor: Option<String>,
    ) -> wasmtime::Result<Result<store::KeyResponse, store::Error>> {
        if cursor.is_some() {
            return Ok(Err(store::Error::Other(
                "list_keys: cursor not supported".to_owned(),
            )));
        }
        let s = self.bucket(&b)?;
        let keys = guest(s.get_keys().await, store::Error::Other)?;
        Ok(keys.map(|keys| store::KeyResponse { keys, cursor: None }))
    }

    async fn drop(&mut self, b: Resource<Bucket>) -> wasmtime::Result<()> {
        self.table.delete(b)?;
        Ok(())
    }
}

impl batch::Host for HostState {
    async fn get_many(
        &mut self,
        b: Resource<Bucket>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<Vec<(String, Option<Vec<u8>>)>, store::Error>> {
        let s = self.bucket(&b)?;
        if keys.is_empty() {
            return Ok(Ok(Vec::new()));
        }
        guest(s.get_many(keys).await, store::Error::Other)
    }

    async fn set_many(
        &mut self,
        b: Resource<Bucket>,
        entries: Vec<(String, Vec<u8>)>,
    ) -> wasmtime::Result<Result<(), store::Error>> {
        let s = self.bucket(&b)?;
        if entries.is_empty() {
            return Ok(Ok(()));
        }
        guest(s.set_many(entries).await, store::Error::Other)
    }

    async fn delete_many(
        &mut self,
        b: Resource<Bucket>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<(), store::Error>> {
        let s = self.bucket(&b)?;
        if keys.is_empty() {
            return Ok(Ok(()));
        }
        guest(s.delete_many(keys).await, store::Error::Other)
    }
}

impl atomics::HostCas for HostState {
    async fn new(
        &mut self,
        b: Resource<Bucket>,
        key: String,
    ) -> wasmtime::Result<Result<Resource<CasResource>, store::Error>> {
        let s = self.bucket(&b)?;
        match guest(s.new_cas(&key).await, store::Error::Other)? {
            Ok(cas) => Ok(Ok(self.table.push(CasResource { cas, store: s })?)),
            Err(e) => Ok(Err(e)),
        }
    }

    async fn current(
        &mut self,
        c: Resource<CasResource>,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, store::Error>> {
        let cas = self.table.get(&c)?.cas.clone();
        guest(cas.current().await, store::Error::Other)
    }

    async fn drop(&mut self, c: Resource<CasResource>) -> wasmtime::Result<()> {
        self.table.delete(c)?;
        Ok(())
    }
}

impl atomics::Host for HostState {
    async fn increment(
        &mut self,
        b: Resource<Bucket>,
        key: String,
        delta: i64,
    ) -> wasmtime::Result<Result<i64, store::Error>> {
        let s = self.bucket(&b)?;
        guest(s.increment(key, delta).await, store::Error::Other)
    }

    async fn swap(
        &mut self,
        c: Resource<CasResource>,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), atomics::CasError>> {
        let CasResource { cas, store } = self.table.delete(c)?;
        match cas.swap(value).await {
            Ok(()) => Ok(Ok(())),
            Err(SwapError::Other(msg)) => {
                Ok(Err(atomics::CasError::StoreError(store::Error::Other(msg))))
            }
            Err(SwapError::CasFailed(_)) => {
                // As Spin: a fresh handle on the same key, already read, for the retry.
                let retry = match guest(store.new_cas(cas.key()).await, store::Error::Other)? {
                    Ok(retry) => retry,
                    Err(e) => return Ok(Err(atomics::CasError::StoreError(e))),
                };
                if let Err(e) = guest(retry.current().await, store::Error::Other)? {
                    return Ok(Err(atomics::CasError::StoreError(e)));
                }
                let handle = self.table.push(CasResource { cas: retry, store })?;
                Ok(Err(atomics::CasError::CasFailed(handle)))
            }
        }
    }
}

impl legacy::Host for HostState {}

impl legacy::HostStore for HostState {
    async fn open(
        &mut self,
        label: String,
    ) -> wasmtime::Result<Result<Resource<Bucket>, legacy::Error>> {
        if self.isolated {
            return Ok(Err(legacy::Error::NoSuchStore));
        }
        match self.kv.open(&label) {
            Ok(store) => Ok(Ok(self.table.push(Bucket { store })?)),
            Err(OpenError::AccessDenied) => Ok(Err(legacy::Error::AccessDenied)),
            Err(OpenError::NoSuchStore) => Ok(Err(legacy::Error::NoSuchStore)),
        }
    }

    async fn get(
        &mut self,
        b: Resource<Bucket>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, legacy::Error>> {
        let s = self.bucket(&b)?;
        guest(s.get(&key).await, legacy::Error::Other)
    }

    async fn set(
        &mut self,
        b: Resource<Bucket>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), legacy::Error>> {
        let s = self.bucket(&b)?;
        guest(s.set(&key, &value).await, legacy::Error::Other)
    }

    async fn delete(
        &mut self,
        b: Resource<Bucket>,
        key: String,
    ) -> wasmtime::Result<Result<(), legacy::Error>> {
        let s = self.bucket(&b)?;
        guest(s.delete(&key).await, legacy::Error::Other)
    }

    async fn exists(
        &mut self,
        b: Resource<Bucket>,
        key: String,
    ) -> wasmtime::Result<Result<bool, legacy::Error>> {
        let s = self.bucket(&b)?;
        guest(s.exists(&key).await, legacy::Error::Other)
    }

    async fn get_keys(
        &mut self,
        b: Resource<Bucket>,
    ) -> wasmtime::Result<Result<Vec<String>, legacy::Error>> {
        let s = self.bucket(&b)?;
        guest(s.get_keys().await, legacy::Error::Other)
    }

    async fn drop(&mut self, b: Resource<Bucket>) -> wasmtime::Result<()> {
        self.table.delete(b)?;
        Ok(())
    }
}
