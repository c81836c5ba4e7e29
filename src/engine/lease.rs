//! One folder at a time: a lease that needs only `increment` (exact on SQLite and Redis).
//!
//! Time is cut into epochs of `lease_ms`. A run may start only in the first half of an epoch,
//! after `increment("v1/lease/<epoch>", 1)` returned 1, and must finish its writes before
//! `epoch end - lease_ms/4`. Runs of different epochs therefore never overlap while clocks
//! agree within `lease_ms/4`. A double-applied Redis increment (spin#3563) makes the ticket 2
//! for everyone: that epoch has no run, which is safe.

use crate::store::Store;

use super::io::increment_retrying;
use super::keys;
use super::EngineError;

/// A held lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// The epoch held.
    pub epoch: i64,
    /// Writes must be done before this time, ms.
    pub deadline_ms: i64,
}

/// Why no lease was granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoLease {
    /// Too late in the epoch to start; the next start window opens at this time, ms.
    OutsideWindow {
        /// When the next window opens, ms.
        next_start_ms: i64,
    },
    /// Another run holds this epoch.
    Taken {
        /// When the next window opens, ms.
        next_start_ms: i64,
    },
}

/// Tries to take the lease of the current epoch.
pub fn try_acquire<S: Store>(
    store: &S,
    now_ms: i64,
    lease_ms: i64,
) -> Result<Result<Lease, NoLease>, EngineError> {
    let lease_ms = lease_ms.max(1000);
    let epoch = now_ms.div_euclid(lease_ms);
    let next_start_ms = (epoch + 1) * lease_ms;
    if now_ms.rem_euclid(lease_ms) > lease_ms / 2 {
        return Ok(Err(NoLease::OutsideWindow { next_start_ms }));
    }
    let ticket = increment_retrying(store, &keys::lease_key(epoch), 1)?;
    if ticket != 1 {
        return Ok(Err(NoLease::Taken { next_start_ms }));
    }
    Ok(Ok(Lease {
        epoch,
        deadline_ms: next_start_ms - lease_ms / 4,
    }))
}

/// Ticket keys older than the previous epoch, to delete.
pub fn stale_tickets(listed: &[String], current_epoch: i64) -> Vec<String> {
    listed
        .iter()
        .filter(|k| keys::lease_epoch(k).is_some_and(|e| e < current_epoch - 1))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::{MemoryStore, Semantics};

    #[test]
    fn one_run_per_epoch_and_only_early_in_it() {
        for sem in [Semantics::Sqlite, Semantics::Redis, Semantics::Textbook] {
            let s = MemoryStore::new(sem);
            let got = try_acquire(&s, 100_000, 10_000).unwrap().unwrap();
            assert_eq!(
                got,
                Lease {
                    epoch: 10,
                    deadline_ms: 107_500
                }
            );
            assert_eq!(
                try_acquire(&s, 101_000, 10_000).unwrap(),
                Err(NoLease::Taken {
                    next_start_ms: 110_000
                })
            );
            assert_eq!(
                try_acquire(&s, 106_000, 10_000).unwrap(),
                Err(NoLease::OutsideWindow {
                    next_start_ms: 110_000
                })
            );
            assert!(try_acquire(&s, 110_001, 10_000).unwrap().is_ok());
        }
    }

    #[test]
    fn concurrent_acquirers_get_one_lease() {
        let s = std::sync::Arc::new(MemoryStore::new(Semantics::Sqlite));
        let winners: usize = (0..8)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || try_acquire(&*s, 50_000, 10_000).unwrap().is_ok())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| usize::from(h.join().unwrap()))
            .sum();
        assert_eq!(winners, 1);
    }

    #[test]
    fn old_tickets_are_listed_for_deletion() {
        let listed = vec![
            keys::lease_key(3),
            keys::lease_key(8),
            keys::lease_key(9),
            "v1/meta".into(),
        ];
        assert_eq!(stale_tickets(&listed, 9), vec![keys::lease_key(3)]);
    }
}
