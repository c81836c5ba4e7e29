//! Spin's Redis key-value store (`crates/key-value-redis/src/store.rs`), command for command,
//! with the same `redis` crate major version (0.32).
//!
//! Labels are ignored (one keyspace per URL); `get_keys` is `KEYS *`; `increment` is
//! `INCRBY` (decimal text); `get_many` sends `KEYS k1 k2 ...` as Spin does (broken); a CAS
//! opens its own connection, `current()` is `WATCH` + `GET`, `swap()` is `MULTI`/`SET`/`EXEC`
//! then `UNWATCH <key>`, which Redis rejects, so every swap reports `cas-failed` (observed on
//! Spin 3.6.3 with Redis 7).

use std::sync::Arc;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Client, RedisError};
use tokio::sync::OnceCell;

use super::{KvCas, KvError, KvStore, SwapError};

/// A store on one Redis URL.
pub struct RedisKv {
    client: Client,
    connection: OnceCell<ConnectionManager>,
}

fn other(e: RedisError) -> KvError {
    KvError::Other(e.to_string())
}

impl RedisKv {
    /// A store on `url`; connects on first use.
    pub fn new(url: &str) -> anyhow::Result<RedisKv> {
        let client =
            Client::open(url).map_err(|e| anyhow::anyhow!("Invalid Redis URL {url:?}: {e}"))?;
        Ok(RedisKv {
            client,
            connection: OnceCell::new(),
        })
    }

    async fn conn(&self) -> Result<ConnectionManager, KvError> {
        self.connection
            .get_or_try_init(|| async { self.client.get_connection_manager().await })
            .await
            .cloned()
            .map_err(other)
    }
}

#[async_trait]
impl KvStore for RedisKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.conn()
            .await?
            .get::<_, Option<Vec<u8>>>(key)
            .await
            .map_err(other)
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        self.conn()
            .await?
            .set::<_, _, ()>(key, value)
            .await
            .map_err(other)
    }

    async fn delete(&self, key: &str) -> Result<(), KvError> {
        self.conn().await?.del::<_, ()>(key).await.map_err(other)
    }

    async fn exists(&self, key: &str) -> Result<bool, KvError> {
        self.conn()
            .await?
            .exists::<_, bool>(key)
            .await
            .map_err(other)
    }

    async fn get_keys(&self) -> Result<Vec<String>, KvError> {
        self.conn()
            .await?
            .keys::<_, Vec<String>>("*")
            .await
            .map_err(other)
    }

    async fn get_many(&self, keys: Vec<String>) -> Result<Vec<(String, Option<Vec<u8>>)>, KvError> {
        // Spin's bug, kept on purpose: `KEYS k1 k2 ...` instead of `MGET`.
        self.conn()
            .await?
            .keys::<_, Vec<(String, Option<Vec<u8>>)>>(keys)
            .await
            .map_err(other)
    }

    async fn set_many(&self, entries: Vec<(String, Vec<u8>)>) -> Result<(), KvError> {
        self.conn()
            .await?
            .mset::<_, _, ()>(&entries)
            .await
            .map_err(other)
    }

    async fn delete_many(&self, keys: Vec<String>) -> Result<(), KvError> {
        self.conn().await?.del::<_, ()>(keys).await.map_err(other)
    }

    async fn increment(&self, key: String, delta: i64) -> Result<i64, KvError> {
        self.conn()
            .await?
            .incr::<_, _, i64>(key, delta)
            .await
            .map_err(other)
    }

    async fn new_cas(&self, key: &str) -> Result<Arc<dyn KvCas>, KvError> {
        // A transaction is scoped to a connection, so each CAS gets its own (as in Spin).
        let connection = self.client.get_connection_manager().await.map_err(other)?;
        Ok(Arc::new(RedisCas {
            key: key.to_string(),
            connection,
        }))
    }
}

struct RedisCas {
    key: String,
    connection: ConnectionManager,
}

#[async_trait]
impl KvCas for RedisCas {
    async fn current(&self) -> Result<Option<Vec<u8>>, KvError> {
        redis::cmd("WATCH")
            .arg(&self.key)
            .exec_async(&mut self.connection.clone())
            .await
            .map_err(other)?;
        self.connection
            .clone()
            .get::<_, Option<Vec<u8>>>(&self.key)
            .await
            .map_err(other)
    }

    async fn swap(&self, value: Vec<u8>) -> Result<(), SwapError> {
        let res: Result<(), RedisError> = redis::pipe()
            .atomic()
            .set(&self.key, value)
            .query_async(&mut self.connection.clone())
            .await;
        redis::cmd("UNWATCH")
            .arg(&self.key)
            .exec_async(&mut self.connection.clone())
            .await
            .map_err(|err| SwapError::CasFailed(format!("{err:?}")))?;
        res.map_err(|err| SwapError::CasFailed(format!("{err:?}")))
    }

    fn key(&self) -> &str {
        &self.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_urls_are_refused_without_connecting() {
        assert!(RedisKv::new("redis://127.0.0.1:6379").is_ok());
        assert!(RedisKv::new("not a url").is_err());
    }
}
