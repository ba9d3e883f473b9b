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
/// Budgets left after a sweep that had to drop live ones: a tenth of the room is freed at once, so
/// the next sweep waits for that many new keys.
const BUDGETS_AFTER_DROP: usize = MAX_TRACKED - MAX_TRACKED / 10;

struct Window {
    started: Instant,
    length: Duration,
    count: u32,
}

/// View marks, swept of expired ones only once they have grown to `sweep_at`, which each sweep sets
/// to twice what it kept. Sweeping whenever the map held `MAX_TRACKED` marks walked all of them on
/// every view once that many were live (a busy hour), under the lock every view takes.
struct ViewMarks {
    seen: HashMap<(String, Id), Instant>,
    sweep_at: usize,
}

impl Default for ViewMarks {
    fn default() -> Self {
        ViewMarks { seen: HashMap::new(), sweep_at: MAX_TRACKED }
    }
}

/// Process memory: right for one process per database, which is how the SQLite store runs. A
/// restart forgets it, so a view may count again and a budget starts afresh.
#[derive(Default)]
pub struct MemoryState {
    views: Mutex<ViewMarks>,
    budgets: Mutex<HashMap<String, Window>>,
}

impl MemoryState {
    fn count_view_at(&self, viewer: &str, video: Id, window: Duration, now: Instant) -> bool {
        let mut marks = self.views.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if marks.seen.len() >= marks.sweep_at {
            marks.seen.retain(|_, at| now.duration_since(*at) < window);
            marks.sweep_at = (marks.seen.len() * 2).max(MAX_TRACKED);
        }
        let key = (viewer.to_owned(), video);
        match marks.seen.get(&key) {
            Some(at) if now.duration_since(*at) < window => false,
            _ => {
                marks.seen.insert(key, now);
                true
            }
        }
    }

    fn spend_at(&self, key: &str, budget: Budget, now: Instant) -> Spend {
        let mut windows = self.budgets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if windows.len() >= MAX_TRACKED && !windows.contains_key(key) {
            windows.retain(|_, w| now.duration_since(w.started) < w.length);
            // Dropping one live budget per new key walked them all on every request of a flood
            // from many addresses: the oldest tenth goes at once instead.
            let excess = windows.len().saturating_sub(BUDGETS_AFTER_DROP);
            drop_oldest(&mut windows, excess);
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

/// Removes the `n` budgets whose windows started first.
fn drop_oldest(windows: &mut HashMap<String, Window>, n: usize) {
    if n == 0 {
        return;
    }
    let mut by_age: Vec<(Instant, &String)> = windows.iter().map(|(key, w)| (w.started, key)).collect();
    by_age.select_nth_unstable(n - 1);
    let oldest: Vec<String> = by_age[..n].iter().map(|(_, key)| (*key).clone()).collect();
    for key in oldest {
        windows.remove(&key);
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
    fn a_full_map_of_live_view_marks_is_swept_once_not_on_every_view() {
        let state = MemoryState::default();
        let now = Instant::now();
        for i in 0..MAX_TRACKED {
            assert!(state.count_view_at(&format!("user:{i}"), Id::generate(), HOUR, now));
        }
        let video = Id::generate();
        assert!(state.count_view_at("user:late", video, HOUR, now), "swept nothing, counted");
        let (len, sweep_at) = {
            let marks = state.views.lock().unwrap();
            (marks.seen.len(), marks.sweep_at)
        };
        assert_eq!(len, MAX_TRACKED + 1, "every live mark kept");
        assert_eq!(sweep_at, 2 * MAX_TRACKED, "the next sweep waits until the marks have doubled");
        assert!(!state.count_view_at("user:late", video, HOUR, now), "still remembered");
        // Expired marks go at the next sweep.
        let later = now + HOUR;
        for i in 0..MAX_TRACKED {
            state.count_view_at(&format!("later:{i}"), Id::generate(), HOUR, later);
        }
        assert!(state.views.lock().unwrap().seen.len() <= MAX_TRACKED + 2);
    }

    #[test]
    fn a_flood_of_new_budget_keys_drops_the_oldest_tenth_at_once() {
        let state = MemoryState::default();
        let budget = Budget { requests: 1, window: HOUR };
        let start = Instant::now();
        let at = |i: usize| start + Duration::from_millis(i as u64);
        for i in 0..MAX_TRACKED {
            assert_eq!(state.spend_at(&format!("api|{i}"), budget, at(i)), Spend::Allowed);
        }
        assert_eq!(state.spend_at("api|new", budget, at(MAX_TRACKED)), Spend::Allowed);
        {
            let windows = state.budgets.lock().unwrap();
            assert_eq!(windows.len(), BUDGETS_AFTER_DROP + 1);
            assert!(!windows.contains_key("api|0") && windows.contains_key(&format!("api|{}", MAX_TRACKED - 1)));
        }
        let newest = format!("api|{}", MAX_TRACKED - 1);
        assert!(matches!(state.spend_at(&newest, budget, at(MAX_TRACKED)), Spend::Refused { .. }), "kept and spent");
    }

    #[test]
    fn retry_after_is_whole_seconds_and_never_zero() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
