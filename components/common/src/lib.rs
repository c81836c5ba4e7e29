//! What the promagg Spin components share: the key-value adapter and configuration from
//! Spin variables. Everything else lives in the `promagg` core library.

pub mod config;
pub mod kv;

/// Milliseconds since the epoch, from `wasi:clocks/wall-clock`.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A random number from `wasi:random` (makes delta keys unique across instances).
pub fn random_u64() -> u64 {
    wasi::random::random::get_random_u64()
}
