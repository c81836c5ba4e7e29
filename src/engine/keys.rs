//! The key layout (see `docs/design/exactness.md`); every key carries the `v1/` prefix.

/// Prefix of ordinary delta records.
pub const DELTA_PREFIX: &str = "v1/d/";
/// Prefix of delta records written under an `Idempotency-Key`.
pub const IDEM_PREFIX: &str = "v1/i/";
/// Prefix of snapshot shards.
pub const SHARD_PREFIX: &str = "v1/s/";
/// Prefix of rendered-exposition chunks (`v1/r/<format>/<i>`).
pub const RENDER_PREFIX: &str = "v1/r/";
/// Store-wide metadata.
pub const META: &str = "v1/meta";
/// Prefix of lease tickets.
pub const LEASE_PREFIX: &str = "v1/lease/";
/// Prefix of the rejected-request counters (`increment`ed on the rejection path only).
pub const REJECTED_PREFIX: &str = "v1/stat/rejected/";

/// The key of an ordinary delta: sorts by arrival time.
pub fn delta_key(ts_ms: i64, nonce: u64) -> String {
    format!("{DELTA_PREFIX}{:013}-{nonce:016x}", ts_ms.max(0))
}

/// The key of a delta written under `Idempotency-Key: k` (hex, so any key is a valid store key).
pub fn idem_key(k: &str) -> String {
    let mut out = String::with_capacity(IDEM_PREFIX.len() + 2 * k.len());
    out.push_str(IDEM_PREFIX);
    for b in k.bytes() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The key of shard `i`.
pub fn shard_key(i: usize) -> String {
    format!("{SHARD_PREFIX}{i:03}")
}

/// The shard index of a shard key.
pub fn shard_index(key: &str) -> Option<usize> {
    key.strip_prefix(SHARD_PREFIX)?.parse().ok()
}

/// The key of chunk `i` of the rendered exposition in `format` (a key segment: `text`, `om`).
pub fn render_key(format: &str, i: usize) -> String {
    format!("{RENDER_PREFIX}{format}/{i:03}")
}

/// True for the keys of rendered-exposition chunks.
pub fn is_render(key: &str) -> bool {
    key.starts_with(RENDER_PREFIX)
}

/// The key of the lease ticket of `epoch`.
pub fn lease_key(epoch: i64) -> String {
    format!("{LEASE_PREFIX}{epoch}")
}

/// The epoch of a lease ticket key.
pub fn lease_epoch(key: &str) -> Option<i64> {
    key.strip_prefix(LEASE_PREFIX)?.parse().ok()
}

/// The counter key of rejections for `reason`.
pub fn rejected_key(reason: &str) -> String {
    format!("{REJECTED_PREFIX}{reason}")
}

/// The reason of a rejection counter key.
pub fn rejected_reason(key: &str) -> Option<&str> {
    key.strip_prefix(REJECTED_PREFIX).filter(|r| !r.is_empty())
}

/// True for the keys of pending deltas.
pub fn is_delta(key: &str) -> bool {
    key.starts_with(DELTA_PREFIX) || key.starts_with(IDEM_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        assert_eq!(
            delta_key(1_700_000_000_123, 0xab),
            "v1/d/1700000000123-00000000000000ab"
        );
        assert!(delta_key(5, 1) < delta_key(10, 0), "sorts by time");
        assert_eq!(idem_key("a/b"), "v1/i/612f62");
        assert_eq!(shard_key(7), "v1/s/007");
        assert_eq!(shard_index("v1/s/007"), Some(7));
        assert_eq!(shard_index("v1/d/1"), None);
        assert_eq!(lease_epoch(&lease_key(42)), Some(42));
        assert!(is_delta("v1/i/00") && is_delta("v1/d/1") && !is_delta(META));
        assert_eq!(rejected_key("limit"), "v1/stat/rejected/limit");
        assert_eq!(rejected_reason(&rejected_key("limit")), Some("limit"));
        assert_eq!(rejected_reason(REJECTED_PREFIX), None);
        assert_eq!(rejected_reason(META), None);
        assert!(!is_delta(&rejected_key("x")) && shard_index(&rejected_key("x")).is_none());
        assert_eq!(render_key("om", 2), "v1/r/om/002");
        assert!(is_render(&render_key("text", 0)) && !is_render(META));
        assert!(!is_delta(&render_key("text", 0)) && shard_index(&render_key("text", 0)).is_none());
    }
}
