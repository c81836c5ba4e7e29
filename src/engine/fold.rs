//! Folding pending deltas into the snapshot shards, crash-safe and exactly once.

use std::collections::HashSet;

use prost::Message;

use crate::store::Store;

use super::io::{delete_all, set_all};
use super::keys::{self, META};
use super::lease;
use super::record::PbIdem;
use super::rendered;
use super::state::State;
use super::view::{load, shard_count};
use super::{EngineConfig, EngineError};

/// Most removed series remembered for staleness markers.
pub const MAX_STALE: usize = 2_000;

/// What a fold did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FoldReport {
    /// Deltas applied.
    pub applied: usize,
    /// Idempotent deltas found already applied (deleted unapplied).
    pub replays: usize,
    /// Shards written.
    pub shards_written: usize,
    /// Series stored afterwards.
    pub series: usize,
    /// Series removed (deleted or expired).
    pub removed: usize,
    /// Series dropped as conflicting (in this fold).
    pub conflicts: u64,
}

/// Folds every pending delta. The caller holds the lease (or, on hosts without atomics, is
/// the only scheduler); writes start only if `clock()` is still before `deadline_ms`.
///
/// Returns the folded state too, so a pusher can send it without reading it again.
pub fn fold<S: Store>(
    store: &S,
    cfg: &EngineConfig,
    clock: &dyn Fn() -> i64,
    deadline_ms: i64,
    current_epoch: Option<i64>,
) -> Result<(FoldReport, State), EngineError> {
    let now_ms = clock();
    let snap = load(store, cfg)?;
    let ledger: HashSet<String> = snap.ledger().into_iter().map(str::to_string).collect();
    let listed: HashSet<String> = snap.listed.iter().cloned().collect();
    let mut meta = snap.meta.clone();
    let mut state = snap.state;
    let conflicts_before = state.conflicts;
    let mut report = FoldReport::default();
    let mut applied_now = Vec::new();
    let mut to_delete = Vec::new();
    for (id, delta) in snap.deltas.iter().take(cfg.max_fold_deltas.max(1)) {
        to_delete.push(id.clone());
        if ledger.contains(id) {
            report.replays += 1;
            continue;
        }
        state.apply_delta(id, delta)?;
        applied_now.push(id.clone());
        // Counted here, in the meta write the fold makes anyway: free for the writer.
        if delta.carries_series() {
            meta.pushes_total += 1;
        }
    }
    state.expire(now_ms);
    state.retire_empty_families();
    report.applied = applied_now.len();
    report.removed = state.removed.len();
    report.series = state.series_count();
    report.conflicts = state.conflicts - conflicts_before;

    let n = shard_count(&meta, cfg);
    let shard_records = state.dirty_shard_records(&applied_now, &listed);
    report.shards_written = shard_records.len();
    let mut entries: Vec<(String, Vec<u8>)> = shard_records
        .iter()
        .map(|(i, pb)| (keys::shard_key(*i), pb.encode_to_vec()))
        .collect();

    meta.shards = n as u32;
    meta.families = state.family_records();
    meta.fold_conflicts = state.conflicts;
    meta.series_count = report.series as u64;
    meta.last_fold_ms = now_ms;
    meta.idempotency
        .retain(|e| e.applied_ms + cfg.idempotency_window_ms > now_ms);
    meta.idempotency.extend(
        applied_now
            .iter()
            .filter(|id| id.starts_with(keys::IDEM_PREFIX))
            .map(|id| PbIdem {
                id: id.clone(),
                applied_ms: now_ms,
            }),
    );
    meta.family_count = state.live_family_count() as u64;
    meta.stale.extend(state.removed_records());
    // Staleness markers are a courtesy to dashboards: keep the newest MAX_STALE so meta stays
    // small (cloud hosts cap a value at 1 MB) when no remote_write endpoint drains them.
    if meta.stale.len() > MAX_STALE {
        let excess = meta.stale.len() - MAX_STALE;
        meta.stale.drain(..excess);
    }

    // The stored expositions change with the shards or the family registry; deltas folded
    // without changing a shard (replays after a fold that stopped early) may follow a
    // rendering that never got its meta, so they re-render too.
    let render_keys: Vec<&String> = snap.listed.iter().filter(|k| keys::is_render(k)).collect();
    let rerender = !entries.is_empty()
        || !snap.deltas.is_empty()
        || meta.families != snap.meta.families
        || snap.meta.render_tag == 0;
    if cfg.render_cache && rerender {
        let rendering = rendered::render_state(&state, snap.meta.render_tag, now_ms);
        let fresh: HashSet<&str> = rendering.entries.iter().map(|(k, _)| k.as_str()).collect();
        // Chunks the new layout does not use are deleted after meta, with the deltas.
        to_delete.extend(
            render_keys
                .iter()
                .filter(|k| !fresh.contains(k.as_str()))
                .map(|k| (*k).clone()),
        );
        meta.render_tag = rendering.tag;
        meta.renders = rendering.renders;
        entries.extend(rendering.entries);
    } else if !cfg.render_cache {
        meta.render_tag = 0;
        meta.renders.clear();
        to_delete.extend(render_keys.iter().map(|k| (*k).clone()));
    }

    if let Some(epoch) = current_epoch {
        to_delete.extend(lease::stale_tickets(&snap.listed, epoch));
    }
    // Past the deadline the next interval's fold may start: stop before any write that
    // would start late. Order matters for crash safety: shards (holding their applied ids),
    // then the ledger, then the deltas; stopping between any two writes is like a crash.
    let in_time = || clock() <= deadline_ms;
    set_all(store, cfg.backend, &entries, &in_time)?;
    if entries.is_empty() && to_delete.is_empty() && snap_meta_unchanged(&snap.meta, &meta) {
        return Ok((report, state));
    }
    // (Nothing was pending, so there is nothing beyond the batch either.)
    if !in_time() {
        return Err(EngineError::DeadlineExceeded);
    }
    store.set(META, &meta.encode_to_vec())?;
    delete_all(store, cfg.backend, &to_delete, &in_time)?;
    state.removed.clear();
    for shard in &mut state.shards {
        shard.dirty = false;
    }
    // Deltas beyond this fold's batch stay pending; the returned state includes them, as a
    // reader's merged view would.
    for (id, delta) in snap.deltas.iter().skip(cfg.max_fold_deltas.max(1)) {
        if !ledger.contains(id) {
            state.apply_delta(id, delta)?;
        }
    }
    Ok((report, state))
}

fn snap_meta_unchanged(before: &super::record::PbMeta, after: &super::record::PbMeta) -> bool {
    let mut a = before.clone();
    let mut b = after.clone();
    a.last_fold_ms = 0;
    b.last_fold_ms = 0;
    a == b
}
