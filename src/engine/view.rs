//! Reading the aggregate: snapshot shards plus pending deltas, merged as the next fold will.

use std::collections::HashSet;

use crate::store::Store;

use super::io::{decode_counter, get_all};
use super::keys::{self, META};
use super::record::{decode, PbDelta, PbMeta, PbShard};
use super::state::State;
use super::{EngineConfig, EngineError};

/// How often a reader starts over when a fold deleted a delta it had listed.
const READ_ATTEMPTS: usize = 5;

/// Everything stored, as read at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Store metadata (default when the store is new).
    pub meta: PbMeta,
    /// The folded aggregate (pending deltas not applied).
    pub state: State,
    /// Every key that was listed.
    pub listed: Vec<String>,
    /// Pending deltas in apply order.
    pub deltas: Vec<(String, PbDelta)>,
    /// Rejected requests by reason (the `v1/stat/rejected/` counters), sorted by reason.
    pub rejections: Vec<(String, u64)>,
}

impl Snapshot {
    /// Ids of idempotent deltas already applied (in the ledger).
    pub fn ledger(&self) -> HashSet<&str> {
        self.meta
            .idempotency
            .iter()
            .map(|e| e.id.as_str())
            .collect()
    }

    /// The aggregate with every pending delta applied: what the next fold will store.
    pub fn into_merged(self) -> Result<State, EngineError> {
        let ledger: HashSet<String> = self.ledger().into_iter().map(str::to_string).collect();
        let mut state = self.state;
        for (id, delta) in &self.deltas {
            if !ledger.contains(id) {
                state.apply_delta(id, delta)?;
            }
        }
        Ok(state)
    }
}

/// Shard count of a store: its own (from meta) once it has one, else the configured one.
pub fn shard_count(meta: &PbMeta, cfg: &EngineConfig) -> usize {
    if meta.shards > 0 {
        meta.shards as usize
    } else {
        cfg.shards.max(1)
    }
}

/// The rejection counters read from `stat_keys`, sorted by reason (unreadable ones skipped).
pub(crate) fn rejections(
    cfg: &EngineConfig,
    stat_keys: &[&String],
    values: impl Iterator<Item = Option<Vec<u8>>>,
) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = stat_keys
        .iter()
        .zip(values)
        .filter_map(|(key, value)| {
            let reason = keys::rejected_reason(key)?;
            Some((reason.to_string(), decode_counter(cfg.backend, &value?)?))
        })
        .collect();
    out.sort();
    out
}

/// Reads meta, every shard and every pending delta consistently.
pub fn load<S: Store>(store: &S, cfg: &EngineConfig) -> Result<Snapshot, EngineError> {
    load_listed(store, cfg, None)
}

/// [`load`], starting from a listing the caller just made (`None`: list first).
pub fn load_listed<S: Store>(
    store: &S,
    cfg: &EngineConfig,
    mut listing: Option<Vec<String>>,
) -> Result<Snapshot, EngineError> {
    for _ in 0..READ_ATTEMPTS {
        let listed = match listing.take() {
            Some(l) => l,
            None => store.list_keys()?,
        };
        let shard_keys: Vec<&String> = listed
            .iter()
            .filter(|k| keys::shard_index(k).is_some())
            .collect();
        let delta_keys: Vec<&String> = listed.iter().filter(|k| keys::is_delta(k)).collect();
        let stat_keys: Vec<&String> = listed
            .iter()
            .filter(|k| keys::rejected_reason(k).is_some())
            .collect();
        let mut fetch: Vec<String> =
            Vec::with_capacity(1 + shard_keys.len() + delta_keys.len() + stat_keys.len());
        fetch.push(META.to_string());
        fetch.extend(shard_keys.iter().map(|k| (*k).clone()));
        fetch.extend(delta_keys.iter().map(|k| (*k).clone()));
        // The counters ride along in the same batch read: self-metrics cost no extra call.
        fetch.extend(stat_keys.iter().map(|k| (*k).clone()));
        let values = get_all(store, cfg.backend, &fetch)?;
        let mut values = values.into_iter();
        let meta: PbMeta = match values.next().flatten() {
            Some(bytes) => decode(META, &bytes)?,
            None => PbMeta::default(),
        };
        let n = shard_count(&meta, cfg);
        let mut shards: Vec<Option<PbShard>> = vec![None; n];
        for (key, value) in shard_keys.iter().zip(values.by_ref()) {
            let (Some(i), Some(bytes)) = (keys::shard_index(key), value) else {
                continue;
            };
            if i < n {
                shards[i] = Some(decode(key, &bytes)?);
            }
        }
        let mut deltas = Vec::with_capacity(delta_keys.len());
        let mut vanished = false;
        for (key, value) in delta_keys.iter().zip(values.by_ref()) {
            match value {
                Some(bytes) => deltas.push(((*key).clone(), decode::<PbDelta>(key, &bytes)?)),
                None => vanished = true,
            }
        }
        // A listed delta that is gone was folded meanwhile: a shard that fold created after
        // the listing was not read, so this read could miss it. Start over.
        if vanished {
            continue;
        }
        let rejections = rejections(cfg, &stat_keys, values);
        deltas.sort_by(|a, b| a.1.ts_ms.cmp(&b.1.ts_ms).then_with(|| a.0.cmp(&b.0)));
        let state = State::from_records(Some(&meta), shards)?;
        return Ok(Snapshot {
            meta,
            state,
            listed,
            deltas,
            rejections,
        });
    }
    Err(EngineError::Unstable)
}
