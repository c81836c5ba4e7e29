//! The aggregate in memory: shards of series, the family registry, and applying delta ops.
//!
//! Folds and readers share this code, so a reader's merged view is exactly what the next
//! fold will store.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::aggregate::{self, GaugeMode};
use crate::model::{Labels, MetricFamily, MetricType, SampleValue, Series};

use super::record::{
    self, family_from_pb, family_to_pb, labels_from_pb, series_from_pb, series_to_pb, PbDelta,
    PbMeta, PbSelector, PbShard, PbStale,
};
use super::EngineError;

/// A series as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSeries {
    /// Family name.
    pub family: String,
    /// Labels.
    pub labels: Labels,
    /// The aggregate value.
    pub value: SampleValue,
    /// Earliest `_created`, seconds.
    pub created: Option<f64>,
    /// How gauge pushes combine (fixed by the first push).
    pub gauge_mode: GaugeMode,
    /// Canonical grouping key of the Pushgateway group that last pushed it.
    pub group: Option<String>,
    /// Last update, ms.
    pub updated_ms: i64,
    /// Expiry after the last update, ms.
    pub ttl_ms: Option<i64>,
}

impl StoredSeries {
    /// The canonical key of this series.
    pub fn key(&self) -> String {
        self.labels.series_key(&self.family)
    }
}

/// Family metadata kept in the registry.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyMeta {
    /// Family type.
    pub kind: MetricType,
    /// HELP text.
    pub help: Option<String>,
    /// UNIT.
    pub unit: Option<String>,
}

/// One snapshot shard in memory.
#[derive(Debug, Clone, Default)]
pub struct Shard {
    /// Series by canonical key.
    pub series: BTreeMap<String, StoredSeries>,
    /// Ids of deltas already applied to this shard.
    pub applied: BTreeSet<String>,
    /// Changed since it was read.
    pub dirty: bool,
}

/// The whole aggregate in memory.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// The shards.
    pub shards: Vec<Shard>,
    /// Family registry.
    pub families: BTreeMap<String, FamilyMeta>,
    /// Number of series per family (to retire families left empty).
    family_counts: HashMap<String, usize>,
    /// Series dropped because of conflicting concurrent definitions.
    pub conflicts: u64,
    /// Series removed (deleted or expired), for staleness markers.
    pub removed: Vec<StoredSeries>,
}

/// FNV-1a, 64 bit: stable across versions and platforms, which the shard layout requires.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The shard of a canonical series key.
pub fn shard_of(key: &str, shards: usize) -> usize {
    (fnv1a64(key.as_bytes()) % shards.max(1) as u64) as usize
}

impl State {
    /// An empty aggregate with `n` shards.
    pub fn empty(n: usize) -> Self {
        State {
            shards: vec![Shard::default(); n.max(1)],
            ..State::default()
        }
    }

    /// Rebuilds the aggregate from stored meta and shard records (`None` = shard absent).
    pub fn from_records(
        meta: Option<&PbMeta>,
        shards: Vec<Option<PbShard>>,
    ) -> Result<Self, EngineError> {
        let mut state = State::empty(shards.len());
        if let Some(meta) = meta {
            for f in &meta.families {
                let (name, fm) = family_from_pb(f.clone())?;
                state.families.insert(name, fm);
            }
            state.conflicts = meta.fold_conflicts;
        }
        for (i, pb) in shards.into_iter().enumerate() {
            let Some(pb) = pb else { continue };
            let shard = &mut state.shards[i];
            shard.applied = pb.applied.into_iter().collect();
            for s in pb.series {
                let s = series_from_pb(s)?;
                *state.family_counts.entry(s.family.clone()).or_default() += 1;
                shard.series.insert(s.key(), s);
            }
        }
        Ok(state)
    }

    /// Number of series.
    pub fn series_count(&self) -> usize {
        self.shards.iter().map(|s| s.series.len()).sum()
    }

    /// Looks a series up by canonical key.
    pub fn get(&self, key: &str) -> Option<&StoredSeries> {
        self.shards[shard_of(key, self.shards.len())]
            .series
            .get(key)
    }

    /// Applies one delta, skipping the shards that already hold it.
    pub fn apply_delta(&mut self, id: &str, delta: &PbDelta) -> Result<(), EngineError> {
        let n = self.shards.len();
        for op in &delta.ops {
            if let Some(sel) = &op.delete {
                self.apply_delete(id, sel)?;
            }
            let mut refused: HashSet<&str> = HashSet::new();
            for f in &op.families {
                let (name, fm) = family_from_pb(f.clone())?;
                let empty = self.family_counts.get(&name).copied().unwrap_or(0) == 0;
                match self.families.get_mut(&name) {
                    Some(existing) if existing.kind != fm.kind && !empty => {
                        refused.insert(f.name.as_str());
                    }
                    Some(existing) => {
                        existing.kind = fm.kind;
                        if fm.help.is_some() {
                            existing.help = fm.help;
                        }
                        if fm.unit.is_some() {
                            existing.unit = fm.unit;
                        }
                    }
                    None => {
                        self.families.insert(name, fm);
                    }
                }
            }
            for pb in &op.series {
                if refused.contains(pb.family.as_str()) {
                    self.conflicts += 1;
                    continue;
                }
                let incoming = series_from_pb(pb.clone())?;
                let key = incoming.key();
                let i = shard_of(&key, n);
                let shard = &mut self.shards[i];
                if shard.applied.contains(id) {
                    continue;
                }
                match shard.series.get_mut(&key) {
                    Some(stored) => {
                        let mode = if pb.keeps_stored_mode {
                            stored.gauge_mode
                        } else {
                            incoming.gauge_mode
                        };
                        let merged = aggregate::merge(
                            &mut stored.value,
                            stored.gauge_mode,
                            &incoming.value,
                            mode,
                            &incoming.family,
                            &key,
                        );
                        if merged.is_err() {
                            self.conflicts += 1;
                            continue;
                        }
                        stored.created = aggregate::merge_created(stored.created, incoming.created);
                        if incoming.group.is_some() {
                            stored.group = incoming.group;
                        }
                        if incoming.ttl_ms.is_some() {
                            stored.ttl_ms = incoming.ttl_ms;
                        }
                        stored.updated_ms = stored.updated_ms.max(incoming.updated_ms);
                    }
                    None => {
                        *self
                            .family_counts
                            .entry(incoming.family.clone())
                            .or_default() += 1;
                        shard.series.insert(key, incoming);
                    }
                }
                shard.dirty = true;
            }
        }
        Ok(())
    }

    fn apply_delete(&mut self, id: &str, sel: &PbSelector) -> Result<(), EngineError> {
        let labels = labels_from_pb(sel.labels.clone())?;
        self.remove_where(Some(id), |s| selector_matches(sel, &labels, s));
        Ok(())
    }

    /// Removes the series `doomed` picks (from every shard that does not yet hold delta
    /// `skip`), keeping them for staleness markers.
    fn remove_where(&mut self, skip: Option<&str>, doomed: impl Fn(&StoredSeries) -> bool) {
        let State {
            shards,
            family_counts,
            removed,
            ..
        } = self;
        for shard in shards.iter_mut() {
            if skip.is_some_and(|id| shard.applied.contains(id)) {
                continue;
            }
            let before = removed.len();
            shard.series.retain(|_, s| {
                if !doomed(s) {
                    return true;
                }
                if let Some(c) = family_counts.get_mut(&s.family) {
                    *c = c.saturating_sub(1);
                }
                removed.push(s.clone());
                false
            });
            shard.dirty |= removed.len() > before;
        }
    }

    /// Counts the series a selector matches.
    pub fn count_matching(&self, sel: &PbSelector) -> Result<usize, EngineError> {
        let labels = labels_from_pb(sel.labels.clone())?;
        Ok(self
            .shards
            .iter()
            .flat_map(|s| s.series.values())
            .filter(|s| selector_matches(sel, &labels, s))
            .count())
    }

    /// Removes series not updated within their TTL.
    pub fn expire(&mut self, now_ms: i64) {
        self.remove_where(None, |s| {
            s.ttl_ms
                .is_some_and(|ttl| ttl > 0 && s.updated_ms + ttl <= now_ms)
        });
    }

    /// Families that have at least one series.
    pub fn live_family_count(&self) -> usize {
        self.family_counts.values().filter(|&&n| n > 0).count()
    }

    /// Drops registry entries of families that have no series left.
    pub fn retire_empty_families(&mut self) {
        let counts = &self.family_counts;
        self.families
            .retain(|name, _| counts.get(name).copied().unwrap_or(0) > 0);
    }

    /// The stored families, for rendering (series in label order, families by name).
    pub fn families_view(&self) -> Vec<MetricFamily> {
        self.build_families(self.series().cloned())
    }

    /// [`State::families_view`], consuming the aggregate: nothing is copied, for a read that
    /// renders and is done.
    pub fn into_families(mut self) -> Vec<MetricFamily> {
        let shards = std::mem::take(&mut self.shards);
        self.build_families(shards.into_iter().flat_map(|s| s.series.into_values()))
    }

    fn build_families(&self, series: impl Iterator<Item = StoredSeries>) -> Vec<MetricFamily> {
        let mut out: HashMap<String, MetricFamily> = HashMap::new();
        for s in series {
            let entry = Series {
                labels: s.labels,
                value: s.value,
                timestamp_ms: None,
                created: s.created,
            };
            if let Some(fam) = out.get_mut(&s.family) {
                fam.series.push(entry);
                continue;
            }
            let meta = self.families.get(&s.family);
            out.insert(
                s.family.clone(),
                MetricFamily {
                    kind: meta.map_or_else(|| aggregate::type_of(&entry.value), |m| m.kind),
                    help: meta.and_then(|m| m.help.clone()),
                    unit: meta.and_then(|m| m.unit.clone()),
                    name: s.family,
                    series: vec![entry],
                },
            );
        }
        let mut fams: Vec<MetricFamily> = out.into_values().collect();
        fams.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        for f in &mut fams {
            f.series.sort_unstable_by(|a, b| a.labels.cmp(&b.labels));
        }
        fams
    }

    /// Every stored series.
    pub fn series(&self) -> impl Iterator<Item = &StoredSeries> {
        self.shards.iter().flat_map(|s| s.series.values())
    }

    /// Encodes the shards that changed, with their new `applied` lists.
    ///
    /// `applied_now` are the deltas of this fold; ids of earlier folds are kept only while
    /// their delta keys are still `listed` (afterwards they can never reappear).
    pub fn dirty_shard_records(
        &self,
        applied_now: &[String],
        listed: &HashSet<String>,
    ) -> Vec<(usize, PbShard)> {
        self.shards
            .iter()
            .enumerate()
            .filter(|(_, s)| s.dirty)
            .map(|(i, s)| {
                let mut applied: BTreeSet<String> = s
                    .applied
                    .iter()
                    .filter(|id| listed.contains(*id))
                    .cloned()
                    .collect();
                applied.extend(applied_now.iter().cloned());
                (
                    i,
                    PbShard {
                        series: s.series.values().map(series_to_pb).collect(),
                        applied: applied.into_iter().collect(),
                    },
                )
            })
            .collect()
    }

    /// The registry as records.
    pub fn family_records(&self) -> Vec<record::PbFamily> {
        self.families
            .iter()
            .map(|(n, f)| family_to_pb(n, f))
            .collect()
    }

    /// Staleness records for the removed series.
    pub fn removed_records(&self) -> Vec<PbStale> {
        self.removed
            .iter()
            .map(|s| {
                let (bounds, quantiles) = match &s.value {
                    SampleValue::Histogram(h) => (h.bounds(), Vec::new()),
                    SampleValue::Summary(q) => {
                        (Vec::new(), q.quantiles.iter().map(|q| q.quantile).collect())
                    }
                    _ => (Vec::new(), Vec::new()),
                };
                PbStale {
                    family: s.family.clone(),
                    kind: record::type_code(aggregate::type_of(&s.value)),
                    labels: record::labels_to_pb(&s.labels),
                    bounds,
                    quantiles,
                }
            })
            .collect()
    }
}

fn selector_matches(sel: &PbSelector, labels: &Labels, s: &StoredSeries) -> bool {
    (sel.family.is_empty() || sel.family == s.family)
        && s.labels.matches(labels)
        && sel
            .group
            .as_ref()
            .is_none_or(|g| s.group.as_ref() == Some(g))
}
