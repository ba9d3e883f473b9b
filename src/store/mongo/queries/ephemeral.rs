//! Builders for the shared short-lived state: view marks and request budgets, one document each,
//! written with atomic upserts and removed by TTL indexes once their window is over. Keys are
//! `_id` values, never expressions, so no input reaches an expression.

use bson::{DateTime, Document, doc};

/// The mark of a view that counts now: matches an existing mark only when its window is over, so an
/// upsert either refreshes an expired mark, inserts a new one, or fails on the unique `_id` because
/// a live mark exists (the view does not count).
pub fn view_mark(key: &str, now: DateTime, window_ms: i64) -> (Document, Document) {
    let window_start = DateTime::from_millis(now.timestamp_millis().saturating_sub(window_ms));
    let expires = DateTime::from_millis(now.timestamp_millis().saturating_add(window_ms));
    (
        doc! { "_id": key, "countedAt": { "$lte": window_start } },
        doc! { "$set": { "countedAt": now, "expiresAt": expires } },
    )
}

/// One more request in the budget `key`, as one atomic upsert: a window starts with the first request
/// and lasts `window_ms`; a request after it starts the next window at a count of one. The document
/// returned afterwards holds `count` and `startedAt`; it expires with its window.
pub fn spend(key: &str, now: DateTime, window_ms: i64) -> (Document, Vec<Document>) {
    let over = DateTime::from_millis(now.timestamp_millis().saturating_sub(window_ms));
    let expires = DateTime::from_millis(now.timestamp_millis().saturating_add(window_ms));
    let fresh = doc! { "$lte": [{ "$ifNull": ["$startedAt", over] }, over] };
    (
        doc! { "_id": key },
        vec![
            doc! { "$set": { "fresh": fresh } },
            doc! { "$set": {
                "startedAt": { "$cond": ["$fresh", now, "$startedAt"] },
                "count": { "$cond": ["$fresh", 1, { "$add": ["$count", 1] }] },
                "expiresAt": { "$cond": ["$fresh", expires, "$expiresAt"] },
            } },
            doc! { "$unset": "fresh" },
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_counts_only_when_the_last_counted_one_is_out_of_the_window() {
        let (filter, update) = view_mark("user:a|v1", DateTime::from_millis(10_000), 3_000);
        assert_eq!(filter, doc! { "_id": "user:a|v1", "countedAt": { "$lte": DateTime::from_millis(7_000) } });
        assert_eq!(
            update,
            doc! { "$set": { "countedAt": DateTime::from_millis(10_000), "expiresAt": DateTime::from_millis(13_000) } }
        );
    }

    #[test]
    fn a_budget_window_starts_with_its_first_request() {
        let (filter, pipeline) = spend("auth|10.0.0.1", DateTime::from_millis(100_000), 60_000);
        assert_eq!(filter, doc! { "_id": "auth|10.0.0.1" });
        let over = DateTime::from_millis(40_000);
        assert_eq!(pipeline[0], doc! { "$set": { "fresh": { "$lte": [{ "$ifNull": ["$startedAt", over] }, over] } } });
        assert_eq!(
            pipeline[1],
            doc! { "$set": {
                "startedAt": { "$cond": ["$fresh", DateTime::from_millis(100_000), "$startedAt"] },
                "count": { "$cond": ["$fresh", 1, { "$add": ["$count", 1] }] },
                "expiresAt": { "$cond": ["$fresh", DateTime::from_millis(160_000), "$expiresAt"] },
            } }
        );
        assert_eq!(pipeline[2], doc! { "$unset": "fresh" });
    }
}
