//! View de-duplication (contract §3.4.3): one counted view per viewer and video per sliding window.
//! Kept in memory; a restart may count again, which the contract allows.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::Id;

/// Above this many remembered views, expired entries are swept so memory stays bounded by traffic
/// within one window.
const SWEEP_THRESHOLD: usize = 100_000;

pub struct ViewTracker {
    window: Duration,
    last_counted: Mutex<HashMap<(String, Id), Instant>>,
}

impl ViewTracker {
    pub fn new(window_secs: u64) -> Self {
        ViewTracker { window: Duration::from_secs(window_secs), last_counted: Mutex::new(HashMap::new()) }
    }

    /// True when this request counts as a view; the window slides from the last counted view.
    pub fn should_count(&self, viewer: &str, video: Id) -> bool {
        let now = Instant::now();
        let mut seen = self.last_counted.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if seen.len() >= SWEEP_THRESHOLD {
            seen.retain(|_, at| now.duration_since(*at) < self.window);
        }
        let key = (viewer.to_owned(), video);
        match seen.get(&key) {
            Some(at) if now.duration_since(*at) < self.window => false,
            _ => {
                seen.insert(key, now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_view_per_viewer_within_the_window() {
        let tracker = ViewTracker::new(3600);
        let video = Id::generate();
        assert!(tracker.should_count("user:a", video));
        assert!(!tracker.should_count("user:a", video));
        assert!(tracker.should_count("ip:1.2.3.4", video));
        assert!(tracker.should_count("user:a", Id::generate()));
    }

    #[test]
    fn zero_window_counts_every_request() {
        let tracker = ViewTracker::new(0);
        let video = Id::generate();
        assert!(tracker.should_count("a", video) && tracker.should_count("a", video));
    }
}
