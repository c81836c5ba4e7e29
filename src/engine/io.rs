//! Reading and writing many keys the way each backend allows.

use crate::store::Store;

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

/// Writes `entries`: one `set-many` (one commit) where available, else one `set` each.
pub fn set_all<S: Store>(
    store: &S,
    backend: Backend,
    entries: &[(String, Vec<u8>)],
) -> Result<(), EngineError> {
    if entries.is_empty() {
        return Ok(());
    }
    if backend.batch_write() {
        return Ok(store.set_many(entries)?);
    }
    for (k, v) in entries {
        store.set(k, v)?;
    }
    Ok(())
}

/// Deletes `keys`: one `delete-many` where available, else one `delete` each.
pub fn delete_all<S: Store>(
    store: &S,
    backend: Backend,
    keys: &[String],
) -> Result<(), EngineError> {
    if keys.is_empty() {
        return Ok(());
    }
    if backend.batch_write() {
        return Ok(store.delete_many(keys)?);
    }
    for k in keys {
        store.delete(k)?;
    }
    Ok(())
}
