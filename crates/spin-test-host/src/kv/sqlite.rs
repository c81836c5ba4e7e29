//! Spin's SQLite key-value store (`crates/key-value-spin/src/store.rs`), statement for statement.
//!
//! One connection per store definition, opened on first use, behind a mutex; no PRAGMA
//! (rollback journal, rusqlite's 5 s busy timeout); every call its own autocommit statement
//! except `set_many` and `increment`, which are deferred transactions. Quirks reproduced:
//! a swap after `current()` read nothing is an unconditional upsert; `increment` stores
//! 8-byte little-endian and Spin panics on any other length; `get_many` returns only the
//! keys that exist.

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use rusqlite::{named_params, Connection};

use super::{KvCas, KvError, KvStore, SwapError};

type Shared = Arc<Mutex<Connection>>;

/// A SQLite-backed store label.
pub struct SqliteKv {
    name: String,
    path: Option<PathBuf>,
    connection: OnceLock<Shared>,
}

fn other(e: impl std::fmt::Display) -> KvError {
    KvError::Other(e.to_string())
}

const UPSERT: &str = "INSERT INTO spin_key_value (store, key, value) VALUES ($1, $2, $3)
                     ON CONFLICT(store, key) DO UPDATE SET value=$3";
const SELECT_VALUE: &str = "SELECT value FROM spin_key_value WHERE store=$1 AND key=$2";

impl SqliteKv {
    /// A store named `label` in the database at `path` (`None` = in-memory).
    pub fn new(label: &str, path: Option<PathBuf>) -> anyhow::Result<SqliteKv> {
        if let Some(parent) = path.as_ref().and_then(|p| p.parent()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                anyhow::anyhow!(
                    "failed to create key value store's parent directory: '{}': {e}",
                    parent.display()
                )
            })?;
        }
        Ok(SqliteKv {
            name: label.to_string(),
            path,
            connection: OnceLock::new(),
        })
    }

    fn open(&self) -> Result<Shared, KvError> {
        if let Some(c) = self.connection.get() {
            return Ok(c.clone());
        }
        let connection = match &self.path {
            Some(p) => Connection::open(p),
            None => Connection::open_in_memory(),
        }
        .map_err(other)?;
        connection
            .execute(
                "CREATE TABLE IF NOT EXISTS spin_key_value (
                   store TEXT NOT NULL,
                   key   TEXT NOT NULL,
                   value BLOB NOT NULL,

                   PRIMARY KEY (store, key)
                )",
                [],
            )
            .map_err(other)?;
        rusqlite::vtab::array::load_module(&connection).map_err(other)?;
        Ok(self
            .connection
            .get_or_init(|| Arc::new(Mutex::new(connection)))
            .clone())
    }

    /// Runs `f` on the connection off the async threads, as Spin's `block_in_place` does.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection, &str) -> Result<T, KvError> + Send + 'static,
    ) -> Result<T, KvError> {
        let shared = self.open()?;
        let name = self.name.clone();
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock only happens in `increment` before any write.
            let mut conn = shared.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut conn, &name)
        })
        .await
        .map_err(other)?
    }
}

fn select_value(conn: &Connection, name: &str, key: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.prepare_cached(SELECT_VALUE)?
        .query_map([name, key], |row| row.get::<_, Vec<u8>>(0))?
        .next()
        .transpose()
}

fn key_array(keys: Vec<String>) -> Rc<Vec<rusqlite::types::Value>> {
    Rc::new(keys.into_iter().map(rusqlite::types::Value::from).collect())
}

#[async_trait]
impl KvStore for SqliteKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let key = key.to_string();
        self.with(move |c, name| select_value(c, name, &key).map_err(other))
            .await
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        let (key, value) = (key.to_string(), value.to_vec());
        self.with(move |c, name| {
            c.prepare_cached(UPSERT)
                .and_then(|mut s| s.execute(rusqlite::params![name, key, value]))
                .map(drop)
                .map_err(other)
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), KvError> {
        let key = key.to_string();
        self.with(move |c, name| {
            c.prepare_cached("DELETE FROM spin_key_value WHERE store=$1 AND key=$2")
                .and_then(|mut s| s.execute([name, key.as_str()]))
                .map(drop)
                .map_err(other)
        })
        .await
    }

    async fn exists(&self, key: &str) -> Result<bool, KvError> {
        let key = key.to_string();
        self.with(move |c, name| {
            c.prepare_cached("SELECT 1 FROM spin_key_value WHERE store=$1 AND key=$2 LIMIT 1")
                .and_then(|mut s| s.exists([name, key.as_str()]))
                .map_err(other)
        })
        .await
    }

    async fn get_keys(&self) -> Result<Vec<String>, KvError> {
        self.with(move |c, name| {
            let mut stmt = c
                .prepare_cached("SELECT key FROM spin_key_value WHERE store=$1")
                .map_err(other)?;
            let keys = stmt
                .query_map([name], |row| row.get::<_, String>(0))
                .map_err(other)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(other);
            keys
        })
        .await
    }

    async fn get_many(&self, keys: Vec<String>) -> Result<Vec<(String, Option<Vec<u8>>)>, KvError> {
        self.with(move |c, name| {
            let ptr = key_array(keys);
            let mut stmt = c
                .prepare_cached(
                    "SELECT key, value FROM spin_key_value WHERE store=:name AND key IN rarray(:keys)",
                )
                .map_err(other)?;
            let rows = stmt
                .query_map(named_params! {":name": name, ":keys": ptr}, |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, Option<Vec<u8>>>(1)?))
                })
                .map_err(other)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(other);
            rows
        })
        .await
    }

    async fn set_many(&self, entries: Vec<(String, Vec<u8>)>) -> Result<(), KvError> {
        self.with(move |c, name| {
            let tx = c.transaction().map_err(other)?;
            for (k, v) in entries {
                tx.prepare_cached(UPSERT)
                    .and_then(|mut s| s.execute(rusqlite::params![name, k, v]))
                    .map_err(other)?;
            }
            tx.commit().map_err(other)
        })
        .await
    }

    async fn delete_many(&self, keys: Vec<String>) -> Result<(), KvError> {
        self.with(move |c, name| {
            let ptr = key_array(keys);
            c.prepare_cached(
                "DELETE FROM spin_key_value WHERE store=:name AND key IN rarray(:keys)",
            )
            .and_then(|mut s| s.execute(named_params! {":name": name, ":keys": ptr}))
            .map(drop)
            .map_err(other)
        })
        .await
    }

    async fn increment(&self, key: String, delta: i64) -> Result<i64, KvError> {
        self.with(move |c, name| {
            let tx = c.transaction().map_err(other)?;
            let numeric = match select_value(&tx, name, &key).map_err(other)? {
                Some(v) => {
                    let bytes: [u8; 8] = v.try_into().map_err(|v: Vec<u8>| {
                        // Spin: `i64::from_le_bytes(v.try_into().expect("incorrect length"))`.
                        KvError::HostPanic(format!(
                            "incorrect length: value of {key:?} has {} bytes, not 8",
                            v.len()
                        ))
                    })?;
                    i64::from_le_bytes(bytes)
                }
                None => 0,
            };
            // Spin adds without overflow checks; release builds wrap.
            let new_value = numeric.wrapping_add(delta);
            tx.prepare_cached(UPSERT)
                .and_then(|mut s| s.execute(rusqlite::params![name, key, new_value.to_le_bytes()]))
                .map_err(other)?;
            tx.commit().map_err(other)?;
            Ok(new_value)
        })
        .await
    }

    async fn new_cas(&self, key: &str) -> Result<Arc<dyn KvCas>, KvError> {
        Ok(Arc::new(SqliteCas {
            name: self.name.clone(),
            key: key.to_string(),
            connection: self.open()?,
            value: Arc::new(Mutex::new(None)),
        }))
    }
}

/// Spin's `CompareAndSwap` for SQLite: remembers what `current()` read.
struct SqliteCas {
    name: String,
    key: String,
    connection: Shared,
    value: Arc<Mutex<Option<Vec<u8>>>>,
}

#[async_trait]
impl KvCas for SqliteCas {
    async fn current(&self) -> Result<Option<Vec<u8>>, KvError> {
        let (shared, name, key, slot) = (
            self.connection.clone(),
            self.name.clone(),
            self.key.clone(),
            self.value.clone(),
        );
        tokio::task::spawn_blocking(move || {
            let conn = shared.lock().unwrap_or_else(|p| p.into_inner());
            let value = select_value(&conn, &name, &key).map_err(other)?;
            slot.lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone_from(&value);
            Ok(value)
        })
        .await
        .map_err(other)?
    }

    async fn swap(&self, value: Vec<u8>) -> Result<(), SwapError> {
        let (shared, name, key, slot) = (
            self.connection.clone(),
            self.name.clone(),
            self.key.clone(),
            self.value.clone(),
        );
        let cas_err = |e: rusqlite::Error| SwapError::Other(e.to_string());
        tokio::task::spawn_blocking(move || {
            let old_value = slot.lock().unwrap_or_else(|p| p.into_inner()).clone();
            let mut conn = shared.lock().unwrap_or_else(|p| p.into_inner());
            let rows_changed = match old_value {
                Some(old) => conn
                    .prepare_cached(
                        "UPDATE spin_key_value SET value=:new_value WHERE store=:name and key=:key and value=:old_value",
                    )
                    .and_then(|mut s| {
                        s.execute(named_params! {
                            ":name": name,
                            ":key": key,
                            ":old_value": old,
                            ":new_value": value,
                        })
                    })
                    .map_err(cas_err)?,
                None => {
                    // Spin's quirk: reading nothing makes the swap an upsert, not an insert.
                    let tx = conn.transaction().map_err(cas_err)?;
                    let rows = tx
                        .prepare_cached(UPSERT)
                        .and_then(|mut s| s.execute(rusqlite::params![name, key, value]))
                        .map_err(cas_err)?;
                    tx.commit().map_err(cas_err)?;
                    rows
                }
            };
            if rows_changed == 1 {
                Ok(())
            } else {
                Err(SwapError::CasFailed("failed to update 1 row".to_owned()))
            }
        })
        .await
        .map_err(|e| SwapError::Other(e.to_string()))?
    }

    fn key(&self) -> &str {
        &self.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &tempfile::TempDir) -> SqliteKv {
        SqliteKv::new("default", Some(dir.path().join("sub/kv.db"))).unwrap()
    }

    #[tokio::test]
    async fn basic_operations_and_listing() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(&dir);
        assert_eq!(s.get("a").await.unwrap(), None);
        s.set("a", b"1").await.unwrap();
        s.set("b", b"2").await.unwrap();
        assert!(s.exists("a").await.unwrap());
        let mut keys = s.get_keys().await.unwrap();
        keys.sort();
        assert_eq!(keys, vec!["a", "b"]);
        s.delete("a").await.unwrap();
        assert!(!s.exists("a").await.unwrap());
        assert!(
            dir.path().join("sub/kv.db").exists(),
            "parent directory is created"
        );
    }

    #[tokio::test]
    async fn labels_share_a_file_but_not_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.db");
        let a = SqliteKv::new("a", Some(path.clone())).unwrap();
        let b = SqliteKv::new("b", Some(path)).unwrap();
        a.set("k", b"from-a").await.unwrap();
        assert_eq!(b.get("k").await.unwrap(), None);
        assert_eq!(b.get_keys().await.unwrap(), Vec::<String>::new());
    }

    #[tokio::test]
    async fn increment_is_eight_byte_little_endian_and_panics_on_other_lengths() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(&dir);
        assert_eq!(s.increment("c".into(), 5).await.unwrap(), 5);
        assert_eq!(s.increment("c".into(), -7).await.unwrap(), -2);
        assert_eq!(
            s.get("c").await.unwrap(),
            Some((-2i64).to_le_bytes().to_vec())
        );
        s.set("text", b"12").await.unwrap();
        assert!(matches!(
            s.increment("text".into(), 1).await,
            Err(KvError::HostPanic(msg)) if msg.contains("incorrect length")
        ));
    }

    #[tokio::test]
    async fn cas_on_absent_key_is_an_upsert_so_a_racing_creation_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(&dir);
        let a = s.new_cas("k").await.unwrap();
        let b = s.new_cas("k").await.unwrap();
        assert_eq!(a.current().await.unwrap(), None);
        assert_eq!(b.current().await.unwrap(), None);
        a.swap(b"a".to_vec()).await.unwrap();
        // b read "absent" as well and silently overwrites a's acknowledged write.
        b.swap(b"b".to_vec()).await.unwrap();
        assert_eq!(s.get("k").await.unwrap(), Some(b"b".to_vec()));
    }

    #[tokio::test]
    async fn cas_compares_values_once_present() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(&dir);
        s.set("k", b"1").await.unwrap();
        let a = s.new_cas("k").await.unwrap();
        let b = s.new_cas("k").await.unwrap();
        assert_eq!(a.current().await.unwrap(), Some(b"1".to_vec()));
        b.current().await.unwrap();
        a.swap(b"2".to_vec()).await.unwrap();
        assert!(matches!(
            b.swap(b"3".to_vec()).await,
            Err(SwapError::CasFailed(_))
        ));
        assert_eq!(s.get("k").await.unwrap(), Some(b"2".to_vec()));
        // ABA: a value-compare succeeds when the value came back.
        let c = s.new_cas("k").await.unwrap();
        c.current().await.unwrap();
        s.set("k", b"x").await.unwrap();
        s.set("k", b"2").await.unwrap();
        c.swap(b"4".to_vec()).await.unwrap();
        assert_eq!(s.get("k").await.unwrap(), Some(b"4".to_vec()));
    }

    #[tokio::test]
    async fn batch_operations() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(&dir);
        s.set_many(vec![
            ("x".into(), b"1".to_vec()),
            ("y".into(), b"2".to_vec()),
        ])
        .await
        .unwrap();
        let mut got = s
            .get_many(vec!["x".into(), "y".into(), "absent".into()])
            .await
            .unwrap();
        got.sort();
        // Spin's SQLite store returns only the keys it found.
        assert_eq!(
            got,
            vec![
                ("x".to_string(), Some(b"1".to_vec())),
                ("y".to_string(), Some(b"2".to_vec()))
            ]
        );
        s.delete_many(vec!["x".into(), "y".into()]).await.unwrap();
        assert!(s.get_keys().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn data_survives_a_restart_over_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        store(&dir).set("k", b"v").await.unwrap();
        assert_eq!(store(&dir).get("k").await.unwrap(), Some(b"v".to_vec()));
    }
}
