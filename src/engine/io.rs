//! Reading and writing many keys the way each backend allows.

use crate::store::{Store, StoreError};

use super::{Backend, EngineError};

/// Reads `keys`: one `get-many` where it is consistent and working, else one `get` each.
pub fn get_all<S: Store>(
    store: &S,
    backend: Backend,
    keys: &[String],
) -> Result<Vec<Option<Vec<u8>>>, EngineError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    if backend.batch_get() {
        return Ok(store.get_many(keys)?);
    }
    keys.iter()
        .map(|k| store.get(k).map_err(EngineError::from))
        .collect()
}

/// How often [`increment_retrying`] calls `increment` at most.
const INCREMENT_ATTEMPTS: usize = 3;

/// `increment`, tried again when the call fails.
///
/// Under `spin up` the HTTP trigger and the cron trigger are two processes with their own
/// SQLite connections. Spin's `increment` is a deferred transaction (read, then write), and
/// SQLite fails such a transaction at once with "database is locked", without waiting, when
/// another connection is writing (waiting could deadlock). The failed transaction wrote
/// nothing and, rolled back, lets the writer finish, so an immediate retry waits normally.
/// Only for callers that tolerate a rare double increment (a Redis response lost after the
/// write, spin#3563): a lease ticket above 1 means "no run", a statistic is off by one.
pub fn increment_retrying<S: Store>(store: &S, key: &str, delta: i64) -> Result<i64, EngineError> {
    let mut last = None;
    for _ in 0..INCREMENT_ATTEMPTS {
        match store.increment(key, delta) {
            Ok(n) => return Ok(n),
            Err(StoreError::Unsupported(op)) => return Err(StoreError::Unsupported(op).into()),
            Err(e) => last = Some(e),
        }
    }
    Err(last
        .unwrap_or_else(|| StoreError::Backend("increment: no attempt made".into()))
        .into())
}

/// Reads a counter written by `increment`: decimal text on Redis (`INCRBY`), 8 bytes
/// little-endian elsewhere. `None` when the bytes are neither (never written by `increment`).
pub fn decode_counter(backend: Backend, bytes: &[u8]) -> Option<u64> {
    let n = match backend {
        Backend::Redis => std::str::from_utf8(bytes)
            .ok()?
            .trim()
            .parse::<i64>()
            .ok()?,
        _ => i64::from_le_bytes(bytes.try_into().ok()?),
    };
    u64::try_from(n).ok()
}

/// Writes `entries`: one `set-many` (one commit) where available, else one `set` each.
///
/// `in_time` is asked before every call: a fold stops writing at its lease deadline (every
/// point of a fold is crash-safe, so stopping anywhere is).
pub fn set_all<S: Store>(
    store: &S,
    backend: Backend,
    entries: &[(String, Vec<u8>)],
    in_time: &dyn Fn() -> bool,
) -> Result<(), EngineError> {
    if entries.is_empty() {
        return Ok(());
    }
    if backend.batch_write() {
        deadline(in_time)?;
        return Ok(store.set_many(entries)?);
    }
    for (k, v) in entries {
        deadline(in_time)?;
        store.set(k, v)?;
    }
    Ok(())
}

/// Deletes `keys`: one `delete-many` where available, else one `delete` each, while `in_time`.
pub fn delete_all<S: Store>(
    store: &S,
    backend: Backend,
    keys: &[String],
    in_time: &dyn Fn() -> bool,
) -> Result<(), EngineError> {
    if keys.is_empty() {
        return Ok(());
    }
    if backend.batch_write() {
        deadline(in_time)?;
        return Ok(store.delete_many(keys)?);
    }
    for k in keys {
        deadline(in_time)?;
        store.delete(k)?;
    }
    Ok(())
}

fn deadline(in_time: &dyn Fn() -> bool) -> Result<(), EngineError> {
    if in_time() {
        Ok(())
    } else {
        Err(EngineError::DeadlineExceeded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::{MemoryStore, Semantics};
    use crate::store::Store;

    #[test]
    fn counters_written_by_increment_decode_on_each_backend() {
        for (sem, backend) in [
            (Semantics::Sqlite, Backend::Sqlite),
            (Semantics::Redis, Backend::Redis),
        ] {
            let s = MemoryStore::new(sem);
            s.increment("c", 41).unwrap();
            s.increment("c", 1).unwrap();
            let bytes = s.get("c").unwrap().unwrap();
            assert_eq!(decode_counter(backend, &bytes), Some(42), "{sem:?}");
        }
        assert_eq!(decode_counter(Backend::Sqlite, b"42"), None, "wrong length");
        assert_eq!(decode_counter(Backend::Redis, b"x"), None);
        assert_eq!(decode_counter(Backend::Redis, b"-3"), None, "negative");
        assert_eq!(
            decode_counter(Backend::Sqlite, &(-1i64).to_le_bytes()),
            None
        );
    }
}
