//! Trending (docs/api.md §3.4.7): counted views are kept per video and hour, and the ranking sums
//! the hours of a window. The window's hours and its validation live here.

use serde::Serialize;

use super::Timestamp;
use super::video::Video;

/// The widest window, in hours; view records older than it are no longer needed.
pub const MAX_HOURS: u32 = 720;

/// The window when the query names none.
pub const DEFAULT_HOURS: u32 = 48;

/// 400 message for an `hours` outside 1–720 or not a whole number.
pub const INVALID_HOURS: &str = "hours must be a whole number from 1 to 720";

const HOUR_MS: i64 = 3_600_000;

/// The hour (since the epoch) a counted view at `at` is recorded under.
pub fn view_hour(at: Timestamp) -> i64 {
    at.millis().div_euclid(HOUR_MS)
}

/// The trending window: a whole number of hours, 1–720.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window(u32);

impl Window {
    /// `hours` as sent (already trimmed); `None` when it is not a whole number from 1 to 720.
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let hours = raw.parse::<u64>().ok().filter(|h| (1..=u64::from(MAX_HOURS)).contains(h))?;
        Some(Window(hours as u32))
    }

    /// The first hour whose views count at `now`: every hour that overlaps the last `hours` hours,
    /// so a view inside the window always counts (one that is up to an hour older may count too).
    pub fn first_hour(self, now: Timestamp) -> i64 {
        view_hour(Timestamp(now.millis() - i64::from(self.0) * HOUR_MS))
    }
}

impl Default for Window {
    fn default() -> Self {
        Window(DEFAULT_HOURS)
    }
}

/// The first hour kept at `now`: older records can never be in a window again.
pub fn oldest_kept_hour(now: Timestamp) -> i64 {
    Window(MAX_HOURS).first_hour(now)
}

/// A Video with the number of views counted in the window.
#[derive(Serialize, utoipa::ToSchema, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct TrendingVideo {
    #[serde(flatten)]
    pub video: Video,
    pub recent_views: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_are_whole_numbers_from_1_to_720() {
        for (raw, hours) in [("1", 1), ("48", 48), ("720", 720), ("0048", 48)] {
            assert_eq!(Window::parse(raw), Some(Window(hours)), "{raw}");
        }
        for raw in ["", "0", "721", "-1", "+5", "1.5", "1e2", "abc", "99999999999999999999999"] {
            assert_eq!(Window::parse(raw), None, "{raw}");
        }
    }

    #[test]
    fn the_window_covers_every_hour_it_overlaps() {
        let now = Timestamp(10 * HOUR_MS + 5 * 60_000);
        assert_eq!(view_hour(now), 10);
        assert_eq!(Window(1).first_hour(now), 9, "a view 50 minutes ago, in the previous hour, counts");
        assert_eq!(Window(48).first_hour(Timestamp(100 * HOUR_MS)), 52, "on the hour: exactly 48 hours");
        assert_eq!(oldest_kept_hour(Timestamp(1000 * HOUR_MS)), 280);
    }
}
