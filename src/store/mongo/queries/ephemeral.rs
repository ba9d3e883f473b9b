//! Builders for the shared short-lived state: view marks and request budgets, one document each,
//! removed by TTL indexes once their window is over. A document is created by a plain insert, which
//! the unique `_id` arbitrates, never by an upsert: DocumentDB lets concurrent upserts of one new
//! `_id` each report an insert. Keys are
//! `_id` values, never expressions, so no input reaches an expression.

use bson::{DateTime, Document, doc};

/// A new view mark, counted now and expiring with its window.
pub fn new_view_mark(key: &str, now: DateTime, window_ms: i64) -> Document {
    doc! { "_id": key, "countedAt": now, "expiresAt": later(now, window_ms) }
}

/// Renews the mark `key` when its window is over (the view counts), else matches nothing.
pub fn renew_view_mark(key: &str, now: DateTime, window_ms: i64) -> (Document, Document) {
    (
        doc! { "_id": key, "countedAt": { "$lte": earlier(now, window_ms) } },
        doc! { "$set": { "countedAt": now, "expiresAt": later(now, window_ms) } },
    )
}

/// The counter of a budget's window opened by a first request.
pub fn new_budget(key: &str, now: DateTime, window_ms: i64) -> Document {
    doc! { "_id": key, "startedAt": now, "count": 1, "expiresAt": later(now, window_ms) }
}

/// One more request in the existing budget `key`, atomically: a window starts with its first request
/// and lasts `window_ms`; a request after it starts the next window at a count of one. The document
/// returned afterwards holds `count` and `startedAt`.
pub fn spend(key: &str, now: DateTime, window_ms: i64) -> (Document, Vec<Document>) {
    let over = earlier(now, window_ms);
    (
        doc! { "_id": key },
        vec![
            doc! { "$set": { "fresh": { "$lte": ["$startedAt", over] } } },
            doc! { "$set": {
                "startedAt": { "$cond": ["$fresh", now, "$startedAt"] },
                "count": { "$cond": ["$fresh", 1, { "$add": ["$count", 1] }] },
                "expiresAt": { "$cond": ["$fresh", later(now, window_ms), "$expiresAt"] },
            } },
            doc! { "$unset": "fresh" },
        ],
    )
}

fn earlier(now: DateTime, ms: i64) -> DateTime {
    DateTime::from_millis(now.timestamp_millis().saturating_sub(ms))
}

fn later(now: DateTime, ms: i64) -> DateTime {
    DateTime::from_millis(now.timestamp_millis().saturating_add(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_mark_is_renewed_only_when_its_window_is_over() {
        let now = DateTime::from_millis(10_000);
        assert_eq!(
            new_view_mark("user:a|v1", now, 3_000),
            doc! { "_id": "user:a|v1", "countedAt": now, "expiresAt": DateTime::from_millis(13_000) }
        );
        let (filter, update) = renew_view_mark("user:a|v1", now, 3_000);
        assert_eq!(filter, doc! { "_id": "user:a|v1", "countedAt": { "$lte": DateTime::from_millis(7_000) } });
        assert_eq!(update, doc! { "$set": { "countedAt": now, "expiresAt": DateTime::from_millis(13_000) } });
    }

    #[test]
    fn a_budget_window_starts_with_its_first_request() {
        let (filter, pipeline) = spend("auth|10.0.0.1", DateTime::from_millis(100_000), 60_000);
        assert_eq!(filter, doc! { "_id": "auth|10.0.0.1" });
        let over = DateTime::from_millis(40_000);
        assert_eq!(pipeline[0], doc! { "$set": { "fresh": { "$lte": ["$startedAt", over] } } });
        assert_eq!(
            pipeline[1],
            doc! { "$set": {
                "startedAt": { "$cond": ["$fresh", DateTime::from_millis(100_000), "$startedAt"] },
                "count": { "$cond": ["$fresh", 1, { "$add": ["$count", 1] }] },
                "expiresAt": { "$cond": ["$fresh", DateTime::from_millis(160_000), "$expiresAt"] },
            } }
        );
        assert_eq!(pipeline[2], doc! { "$unset": "fresh" });
        assert_eq!(
            new_budget("auth|10.0.0.1", DateTime::from_millis(100_000), 60_000),
            doc! { "_id": "auth|10.0.0.1", "startedAt": DateTime::from_millis(100_000), "count": 1,
            "expiresAt": DateTime::from_millis(160_000) }
        );
    }
}
