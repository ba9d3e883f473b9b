//! Short-lived state every server instance on one database must agree on: which views were counted
//! recently (one per viewer and video per window) and how much of each request budget is spent.
//! The embedded store keeps it in process memory (one process serves a SQLite file); MongoDB keeps
//! it in TTL-indexed collections so any number of instances behave as one.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::StoreResult;
use crate::domain::Id;

/// A request budget: at most `requests` per fixed window of `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub requests: u32,
    pub window: Duration,
}

/// The answer to spending one request: allowed, or refused until the window ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spend {
    Allowed,
    /// Whole seconds (at least one) until the budget is available again.
    Refused {
        retry_after_secs: u64,
    },
}

#[async_trait]
pub trait EphemeralState: Send + Sync {
    /// Records a view of `video` by `viewer` and says whether it counts: it does unless a view by
    /// the same viewer was counted within `window` (the window slides from the last counted view).
    async fn count_view(&self, viewer: &str, video: Id, window: Duration) -> StoreResult<bool>;

    /// Spends one request from the budget named `key` (a scope and a client address).
    async fn spend(&self, key: &str, budget: Budget) -> StoreResult<Spend>;
}

/// Whole seconds until `remaining` has passed, at least one (a `Retry-After` of 0 invites a storm).
pub fn retry_after_secs(remaining: Duration) -> u64 {
    (remaining.as_secs_f64().ceil() as u64).max(1)
}

/// Above this many remembered entries, expired ones are swept (and for budgets, beyond it the
/// oldest dropped), so memory stays bounded by the traffic within one window.
const MAX_TRACKED: usize = 100_000;

struct Window {
    started: Instant,
    length: Duration,
    count: u32,
}

/// Process memory: right for one process per database, which is how the SQLite store runs. A
/// restart forgets it, so a view may count again and a budget starts afresh.
#[derive(Default)]
pub struct MemoryState {
    views: Mutex<HashMap<(String, Id), Instant>>,
    budgets: Mutex<HashMap<String, Window>>,
}

impl MemoryState {
    fn count_view_at(&self, viewer: &str, video: Id, window: Duration, now: Instant) -> bool {
        let mut seen = self.views.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if seen.len() >= MAX_TRACKED {
            seen.retain(|_, at| now.duration_since(*at) < window);
        }
        let key = (viewer.to_owned(), video);
        match seen.get(&key) {
            Some(at) if now.duration_since(*at) < window => false,
            _ => {
                seen.insert(key, now);
                true
            }
        }
    }

    fn spend_at(&self, key: &str, budget: Budget, now: Instant) -> Spend {
        let mut windows = self.budgets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if windows.len() >= MAX_TRACKED && !windows.contains_key(key) {
            windows.retain(|_, w| now.duration_since(w.started) < w.length);
            if windows.len() >= MAX_TRACKED {
                let oldest = windows.iter().min_by_key(|(_, w)| w.started).map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    windows.remove(&oldest);
                }
            }
        }
        let entry = windows.entry(key.to_owned()).or_insert(Window { started: now, length: budget.window, count: 0 });
        if now.duration_since(entry.started) >= entry.length {
            *entry = Window { started: now, length: budget.window, count: 0 };
        }
        if entry.count >= budget.requests {
            let remaining = entry.length.saturating_sub(now.duration_since(entry.started));
            return Spend::Refused { retry_after_secs: retry_after_secs(remaining) };
        }
        entry.count += 1;
        Spend::Allowed
    }
}

#[async_trait]
impl EphemeralState for MemoryState {
    async fn count_view(&self, viewer: &str, video: Id, window: Duration) -> StoreResult<bool> {
        Ok(self.count_view_at(viewer, video, window, Instant::now()))
    }

    async fn spend(&self, key: &str, budget: Budget) -> StoreResult<Spend> {
        Ok(self.spend_at(key, budget, Instant::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn one_view_per_viewer_within_the_window() {
        let state = MemoryState::default();
        let (video, now) = (Id::generate(), Instant::now());
        assert!(state.count_view_at("user:a", video, HOUR, now));
        assert!(!state.count_view_at("user:a", video, HOUR, now + Duration::from_secs(10)));
        assert!(state.count_view_at("ip:1.2.3.4", video, HOUR, now));
        assert!(state.count_view_at("user:a", Id::generate(), HOUR, now));
        assert!(state.count_view_at("user:a", video, HOUR, now + HOUR), "a new window");
    }

    #[test]
    fn a_zero_window_counts_every_view() {
        let state = MemoryState::default();
        let (video, now) = (Id::generate(), Instant::now());
        assert!(
            state.count_view_at("a", video, Duration::ZERO, now)
                && state.count_view_at("a", video, Duration::ZERO, now)
        );
    }

    #[test]
    fn budgets_are_per_key_and_reset_with_the_window() {
        let state = MemoryState::default();
        let budget = Budget { requests: 2, window: Duration::from_secs(60) };
        let t0 = Instant::now();
        assert_eq!(state.spend_at("auth|a", budget, t0), Spend::Allowed);
        assert_eq!(state.spend_at("auth|a", budget, t0), Spend::Allowed);
        assert_eq!(
            state.spend_at("auth|a", budget, t0 + Duration::from_secs(15)),
            Spend::Refused { retry_after_secs: 45 }
        );
        assert_eq!(state.spend_at("auth|b", budget, t0), Spend::Allowed, "other keys are unaffected");
        assert_eq!(state.spend_at("auth|a", budget, t0 + Duration::from_secs(60)), Spend::Allowed, "new window");
    }

    #[test]
    fn memory_stays_bounded() {
        let state = MemoryState::default();
        let budget = Budget { requests: 1, window: HOUR };
        let now = Instant::now();
        for i in 0..(MAX_TRACKED + 10) {
            assert_eq!(state.spend_at(&format!("api|{i}"), budget, now), Spend::Allowed);
        }
        assert!(state.budgets.lock().unwrap().len() <= MAX_TRACKED);
    }

    #[test]
    fn retry_after_is_whole_seconds_and_never_zero() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
