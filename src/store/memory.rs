//! An in-memory [`Store`] that reproduces each Spin backend's real semantics, quirks included.
//!
//! Facts from `shared/reference/spin-kv-semantics.md` (Spin 3.6.3 sources, observed runs):
//! - SQLite: a swap after reading a value is a value-compare `UPDATE`; a swap after reading
//!   nothing is an unconditional upsert (two racing creators: one write is lost silently);
//!   `increment` stores 8-byte little-endian and panics the host on any other length.
//! - Redis: every swap reports `cas-failed`, whether it wrote (value unchanged since the
//!   read) or not (a WATCH abort writes nothing); batch get is broken; `increment` is
//!   `INCRBY` on decimal text.
//! - No-atomics (Spin cloud hosts): no batch, no `increment`, no CAS.
//! - Textbook: what the `wasi:keyvalue` docs promise, for comparison.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use super::{Capabilities, CasHandle, Store, StoreError, SwapError};

/// Which backend's semantics to reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Semantics {
    /// Promised semantics: insert-if-absent CAS, versioned compare, batch, increment.
    Textbook,
    /// Spin's SQLite store (`spin up` default).
    Sqlite,
    /// Spin's Redis store.
    Redis,
    /// Spin cloud hosts: plain get/set/delete/exists/list only.
    NoAtomics,
}

#[derive(Debug, Clone)]
struct Entry {
    value: Vec<u8>,
    version: u64,
}

/// Counters of what the store did, for cost assertions in tests.
#[derive(Debug, Default)]
pub struct Counters {
    /// Calls that changed stored data (one per call, as one SQLite commit).
    pub commits: AtomicU64,
    /// Every call made.
    pub calls: AtomicU64,
}

/// A thread-safe in-memory store with selectable semantics and fault injection.
#[derive(Debug)]
pub struct MemoryStore {
    semantics: Semantics,
    data: Mutex<BTreeMap<String, Entry>>,
    next_version: AtomicU64,
    /// Fail the call whose 1-based number equals this (0 = never).
    fail_at_call: AtomicU64,
    unreachable: AtomicBool,
    delay_us: AtomicU64,
    /// What the store did.
    pub counters: Counters,
}

/// A CAS handle of the in-memory store.
#[derive(Debug)]
pub struct MemoryCas {
    key: String,
    read: Option<(Vec<u8>, u64)>,
}

impl CasHandle for MemoryCas {
    fn current(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.read.as_ref().map(|(v, _)| v.clone()))
    }
}

impl MemoryStore {
    /// A new empty store with the given semantics.
    pub fn new(semantics: Semantics) -> Self {
        MemoryStore {
            semantics,
            data: Mutex::new(BTreeMap::new()),
            next_version: AtomicU64::new(1),
            fail_at_call: AtomicU64::new(0),
            unreachable: AtomicBool::new(false),
            delay_us: AtomicU64::new(0),
            counters: Counters::default(),
        }
    }

    /// The semantics this store reproduces.
    pub fn semantics(&self) -> Semantics {
        self.semantics
    }

    /// Makes the `n`th call from now fail with a backend error.
    pub fn fail_nth_call(&self, n: u64) {
        let now = self.counters.calls.load(Ordering::SeqCst);
        self.fail_at_call.store(now + n, Ordering::SeqCst);
    }

    /// Cancels a pending [`MemoryStore::fail_nth_call`].
    pub fn clear_failure(&self) {
        self.fail_at_call.store(0, Ordering::SeqCst);
    }

    /// Makes every call fail as if the store were unreachable (or reachable again).
    pub fn set_unreachable(&self, unreachable: bool) {
        self.unreachable.store(unreachable, Ordering::SeqCst);
    }

    /// Delays every call by `d` (to widen race windows).
    pub fn set_delay(&self, d: Duration) {
        self.delay_us.store(d.as_micros() as u64, Ordering::SeqCst);
    }

    /// A copy of every key and value, for assertions.
    pub fn dump(&self) -> BTreeMap<String, Vec<u8>> {
        self.lock()
            .iter()
            .map(|(k, e)| (k.clone(), e.value.clone()))
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Entry>> {
        // A panic while holding the lock cannot leave the map half-written (every
        // mutation is a single insert/remove), so a poisoned lock is still usable.
        self.data.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn enter(&self, op: &'static str, needs: Option<bool>) -> Result<(), StoreError> {
        let n = self.counters.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let delay = self.delay_us.load(Ordering::SeqCst);
        if delay > 0 {
            std::thread::sleep(Duration::from_micros(delay));
        }
        if self.unreachable.load(Ordering::SeqCst) {
            return Err(StoreError::Backend(format!("{op}: store unreachable")));
        }
        if self.fail_at_call.load(Ordering::SeqCst) == n {
            return Err(StoreError::Backend(format!("{op}: injected failure")));
        }
        if needs == Some(false) {
            return Err(StoreError::Unsupported(op));
        }
        Ok(())
    }

    fn commit(&self) {
        self.counters.commits.fetch_add(1, Ordering::SeqCst);
    }

    fn put(&self, map: &mut BTreeMap<String, Entry>, key: &str, value: &[u8]) -> bool {
        if map.get(key).is_some_and(|e| e.value == value) {
            return false;
        }
        let version = self.next_version.fetch_add(1, Ordering::SeqCst);
        map.insert(
            key.to_string(),
            Entry {
                value: value.to_vec(),
                version,
            },
        );
        true
    }
}

impl Store for MemoryStore {
    type Cas = MemoryCas;

    fn capabilities(&self) -> Capabilities {
        match self.semantics {
            Semantics::Textbook | Semantics::Sqlite => Capabilities {
                batch_get: true,
                batch_write: true,
                increment: true,
                cas: true,
            },
            Semantics::Redis => Capabilities {
                batch_get: false,
                batch_write: true,
                increment: true,
                cas: true,
            },
            Semantics::NoAtomics => Capabilities {
                batch_get: false,
                batch_write: false,
                increment: false,
                cas: false,
            },
        }
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.enter("get", None)?;
        Ok(self.lock().get(key).map(|e| e.value.clone()))
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.enter("set", None)?;
        let mut map = self.lock();
        if self.put(&mut map, key, value) {
            self.commit();
        }
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.enter("delete", None)?;
        if self.lock().remove(key).is_some() {
            self.commit();
        }
        Ok(())
    }

    fn exists(&self, key: &str) -> Result<bool, StoreError> {
        self.enter("exists", None)?;
        Ok(self.lock().contains_key(key))
    }

    fn list_keys(&self) -> Result<Vec<String>, StoreError> {
        self.enter("list-keys", None)?;
        Ok(self.lock().keys().cloned().collect())
    }

    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let caps = self.capabilities();
        if self.semantics == Semantics::Redis {
            self.enter("get-many", None)?;
            // Spin's Redis store sends `KEYS k1 k2 ...` instead of MGET.
            return Err(StoreError::Backend(
                "get-many: ERR wrong number of arguments for 'keys' command".into(),
            ));
        }
        self.enter("get-many", Some(caps.batch_get))?;
        let map = self.lock();
        Ok(keys
            .iter()
            .map(|k| map.get(k).map(|e| e.value.clone()))
            .collect())
    }

    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        self.enter("set-many", Some(self.capabilities().batch_write))?;
        let mut map = self.lock();
        let mut changed = false;
        for (k, v) in entries {
            changed |= self.put(&mut map, k, v);
        }
        if changed {
            self.commit();
        }
        Ok(())
    }

    fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        self.enter("delete-many", Some(self.capabilities().batch_write))?;
        let mut map = self.lock();
        let mut changed = false;
        for k in keys {
            changed |= map.remove(k).is_some();
        }
        if changed {
            self.commit();
        }
        Ok(())
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        self.enter("increment", Some(self.capabilities().increment))?;
        let mut map = self.lock();
        let current = match (self.semantics, map.get(key)) {
            (_, None) => 0,
            (Semantics::Redis, Some(e)) => std::str::from_utf8(&e.value)
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(|| {
                    StoreError::Backend(
                        "increment: ERR value is not an integer or out of range".into(),
                    )
                })?,
            (_, Some(e)) => {
                let bytes: [u8; 8] = e.value.as_slice().try_into().map_err(|_| {
                    // Spin's SQLite store panics here (`expect("incorrect length")`),
                    // which traps the calling instance.
                    StoreError::Backend("increment: host panic: incorrect length".into())
                })?;
                i64::from_le_bytes(bytes)
            }
        };
        let new = current
            .checked_add(delta)
            .ok_or_else(|| StoreError::Backend("increment: overflow".into()))?;
        let encoded = match self.semantics {
            Semantics::Redis => new.to_string().into_bytes(),
            _ => new.to_le_bytes().to_vec(),
        };
        if self.put(&mut map, key, &encoded) {
            self.commit();
        }
        Ok(new)
    }

    fn cas(&self, key: &str) -> Result<MemoryCas, StoreError> {
        self.enter("cas.new", Some(self.capabilities().cas))?;
        let read = self.lock().get(key).map(|e| (e.value.clone(), e.version));
        Ok(MemoryCas {
            key: key.to_string(),
            read,
        })
    }

    fn swap(&self, cas: MemoryCas, value: &[u8]) -> Result<(), SwapError<MemoryCas>> {
        self.enter("swap", Some(self.capabilities().cas))
            .map_err(SwapError::Store)?;
        let mut map = self.lock();
        let now = map.get(&cas.key).map(|e| (e.value.clone(), e.version));
        let wrote = match (self.semantics, &cas.read, &now) {
            // Textbook: versioned compare, insert-if-absent.
            (Semantics::Textbook, None, None) => true,
            (Semantics::Textbook, Some((_, rv)), Some((_, nv))) => rv == nv,
            (Semantics::Textbook, _, _) => false,
            // SQLite: value compare after a read, unconditional upsert after reading nothing.
            (Semantics::Sqlite, None, _) => true,
            (Semantics::Sqlite, Some((rv, _)), Some((nv, _))) => rv == nv,
            (Semantics::Sqlite, Some(_), None) => false,
            // Redis: WATCH/MULTI/SET/EXEC, aborted when the key changed since the read.
            (Semantics::Redis, read, now) => {
                read.as_ref().map(|r| r.1) == now.as_ref().map(|n| n.1)
            }
            (Semantics::NoAtomics, _, _) => false,
        };
        if wrote && self.put(&mut map, &cas.key, value) {
            self.commit();
        }
        let retry = |map: &BTreeMap<String, Entry>| MemoryCas {
            key: cas.key.clone(),
            read: map.get(&cas.key).map(|e| (e.value.clone(), e.version)),
        };
        if self.semantics == Semantics::Redis || !wrote {
            // Redis: the trailing `UNWATCH <key>` is rejected, so every swap reports failure.
            return Err(SwapError::CasFailed(retry(&map)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_cas_on_absent_key_is_an_upsert() {
        let s = MemoryStore::new(Semantics::Sqlite);
        let a = s.cas("k").unwrap();
        let b = s.cas("k").unwrap();
        s.swap(a, b"a").unwrap();
        // b read "absent" too, and overwrites a's write silently.
        s.swap(b, b"b").unwrap();
        assert_eq!(s.get("k").unwrap(), Some(b"b".to_vec()));
    }

    #[test]
    fn textbook_cas_on_absent_key_inserts_once() {
        let s = MemoryStore::new(Semantics::Textbook);
        let a = s.cas("k").unwrap();
        let b = s.cas("k").unwrap();
        s.swap(a, b"a").unwrap();
        assert!(matches!(s.swap(b, b"b"), Err(SwapError::CasFailed(_))));
        assert_eq!(s.get("k").unwrap(), Some(b"a".to_vec()));
    }

    #[test]
    fn sqlite_cas_compares_values_once_present() {
        let s = MemoryStore::new(Semantics::Sqlite);
        s.set("k", b"1").unwrap();
        let a = s.cas("k").unwrap();
        let b = s.cas("k").unwrap();
        s.swap(a, b"2").unwrap();
        let Err(SwapError::CasFailed(b2)) = s.swap(b, b"3") else {
            panic!("second swap must fail")
        };
        assert_eq!(b2.current().unwrap(), Some(b"2".to_vec()));
        s.swap(b2, b"3").unwrap();
        assert_eq!(s.get("k").unwrap(), Some(b"3".to_vec()));
    }

    #[test]
    fn redis_swap_always_reports_failure_whether_or_not_it_wrote() {
        let s = MemoryStore::new(Semantics::Redis);
        s.set("k", b"1").unwrap();
        let a = s.cas("k").unwrap();
        assert!(matches!(s.swap(a, b"2"), Err(SwapError::CasFailed(_))));
        assert_eq!(s.get("k").unwrap(), Some(b"2".to_vec()), "it wrote");
        let stale = s.cas("k").unwrap();
        s.set("k", b"9").unwrap();
        assert!(matches!(s.swap(stale, b"3"), Err(SwapError::CasFailed(_))));
        assert_eq!(
            s.get("k").unwrap(),
            Some(b"9".to_vec()),
            "aborted: no write"
        );
        assert!(s.get_many(&["k".into()]).is_err());
    }

    #[test]
    fn increment_encodings_differ_by_backend() {
        let sq = MemoryStore::new(Semantics::Sqlite);
        assert_eq!(sq.increment("c", 5).unwrap(), 5);
        assert_eq!(sq.get("c").unwrap(), Some(5i64.to_le_bytes().to_vec()));
        sq.set("t", b"text").unwrap();
        assert!(sq.increment("t", 1).is_err());
        let rd = MemoryStore::new(Semantics::Redis);
        assert_eq!(rd.increment("c", 5).unwrap(), 5);
        assert_eq!(rd.increment("c", -2).unwrap(), 3);
        assert_eq!(rd.get("c").unwrap(), Some(b"3".to_vec()));
    }

    #[test]
    fn no_atomics_refuses_batch_increment_and_cas() {
        let s = MemoryStore::new(Semantics::NoAtomics);
        assert_eq!(
            s.increment("c", 1),
            Err(StoreError::Unsupported("increment"))
        );
        assert!(matches!(
            s.cas("c"),
            Err(StoreError::Unsupported("cas.new"))
        ));
        assert!(s.get_many(&[]).is_err());
        assert!(s.set_many(&[]).is_err());
        s.set("k", b"v").unwrap();
        assert_eq!(s.list_keys().unwrap(), vec!["k".to_string()]);
    }

    #[test]
    fn faults_and_commit_counting() {
        let s = MemoryStore::new(Semantics::Sqlite);
        s.set("a", b"1").unwrap();
        s.set("a", b"1").unwrap();
        assert_eq!(
            s.counters.commits.load(Ordering::SeqCst),
            1,
            "unchanged set is no commit"
        );
        s.set_many(&[("b".into(), b"1".to_vec()), ("c".into(), b"1".to_vec())])
            .unwrap();
        assert_eq!(
            s.counters.commits.load(Ordering::SeqCst),
            2,
            "a batch is one commit"
        );
        s.fail_nth_call(2);
        assert!(s.get("a").is_ok());
        assert!(s.get("a").is_err());
        assert!(s.get("a").is_ok());
        s.set_unreachable(true);
        assert!(s.list_keys().is_err());
    }
}
