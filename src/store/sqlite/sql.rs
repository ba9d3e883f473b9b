//! Named SQL fragments shared by several areas, and the builders of the conditions the domain rules
//! decide (`visible_sql`, `levels_sql`) and of page clauses (`page_clause`).
//!
//! Statements are put together from these once, into fixed texts (constants, or statics built on
//! first use when they hold a generated condition), so that each connection prepares a statement
//! once and finds it in its statement cache afterwards. The column lists are in the order the row
//! decoders of `rows.rs` read them; tests pin every statement's columns against them.

use crate::domain::visibility::{ALL_LEVELS, Place, Visibility};

/// The owner summary of the user `u`, as `OwnerRow` reads it.
macro_rules! owner_columns {
    () => {
        "u.id AS owner_id, u.username AS owner_username, u.full_name AS owner_full_name, u.avatar AS owner_avatar"
    };
}
pub(super) use owner_columns;

/// A video `v` with the owner summary of its user `u`, as `VideoRow` reads it (`VIDEO_COLUMN_NAMES`).
macro_rules! video_columns {
    () => {
        concat!(
            "v.id, v.video_file, v.video_key, v.thumbnail, v.thumbnail_key, v.title, v.description, v.duration, \
             v.views, v.visibility, v.created_at, v.updated_at, v.width, v.height, v.processing_status, \
             v.processing_progress, v.processing_error, v.hls_url, v.hls_key, v.removed_reason, v.held_visibility, v.tags, ",
            $crate::store::sqlite::sql::owner_columns!()
        )
    };
}
pub(super) use video_columns;

/// Joins the owner `u` of the video `v`.
macro_rules! owner_of_video {
    () => {
        "JOIN users u ON u.id = v.owner_id"
    };
}
pub(super) use owner_of_video;

/// `VideoRow`'s columns: a video `v` and its owner `u`.
pub(super) const VIDEO_COLUMNS: &str = video_columns!();
/// Joins the owner `u` of the video `v`.
pub(super) const OWNER_OF_VIDEO: &str = owner_of_video!();
/// Every video read starts here: `VideoRow`'s columns over videos and their owners. Statements
/// that add columns put them after these, so the video is always read from position 0.
pub(super) const VIDEO_SELECT: &str = concat!("SELECT ", video_columns!(), " FROM videos v ", owner_of_video!());

/// A video as a channel card shows it (`?1`: its id), as `LatestVideoRow` reads it.
pub(super) const LATEST_VIDEO: &str =
    "SELECT id, title, thumbnail, duration, views, created_at FROM videos WHERE id = ?1";

/// The names `VIDEO_COLUMNS` yields, in order.
#[cfg(test)]
pub(super) const VIDEO_COLUMN_NAMES: [&str; 26] = [
    "id",
    "video_file",
    "video_key",
    "thumbnail",
    "thumbnail_key",
    "title",
    "description",
    "duration",
    "views",
    "visibility",
    "created_at",
    "updated_at",
    "width",
    "height",
    "processing_status",
    "processing_progress",
    "processing_error",
    "hls_url",
    "hls_key",
    "removed_reason",
    "held_visibility",
    "tags",
    "owner_id",
    "owner_username",
    "owner_full_name",
    "owner_avatar",
];

/// The names `owner_columns!` yields, in order.
#[cfg(test)]
pub(super) const OWNER_COLUMN_NAMES: [&str; 4] = ["owner_id", "owner_username", "owner_full_name", "owner_avatar"];

/// `LIMIT`/`OFFSET` over the bound parameters `limit` and `offset` (such as `?2`). A bare parameter
/// there is read by SQLite's planner, which then marks the statement to be prepared again every
/// time the parameter is bound (same value or not): every page query was parsed and planned anew.
/// `(? + 0)` is not read at prepare time.
pub(super) fn page_clause(limit: &str, offset: &str) -> String {
    format!("LIMIT ({limit} + 0) OFFSET ({offset} + 0)")
}

/// `levels` as a SQL condition on the `visibility` column of the row `alias` (of videos or of
/// `video_counts`); `None` when every level passes.
pub fn levels_sql(alias: &str, levels: &[Visibility]) -> Option<String> {
    if ALL_LEVELS.iter().all(|level| levels.contains(level)) {
        return None;
    }
    let names: Vec<String> = levels.iter().map(|level| format!("'{}'", level.as_str())).collect();
    Some(match names.as_slice() {
        [one] => format!("{alias}.visibility = {one}"),
        _ => format!("{alias}.visibility IN ({})", names.join(", ")),
    })
}

/// The visibility rule (`domain::visibility::may_see`) for `place` as a SQL condition on the row
/// `alias` of videos: `viewer` is the SQL expression holding the viewer's id (a placeholder such
/// as `?1`, which may be bound to NULL), `None` for an anonymous viewer. Every query that shows
/// videos of more than one owner uses it.
pub fn visible_sql(alias: &str, place: Place, viewer: Option<&str>) -> String {
    let (anyone, owner) = (place.levels(false), place.levels(true));
    let for_anyone = levels_sql(alias, anyone).unwrap_or_else(|| "1".to_owned());
    match viewer {
        Some(viewer) if owner != anyone => {
            let own = match levels_sql(alias, owner) {
                Some(levels) => format!("({alias}.owner_id = {viewer} AND {levels})"),
                None => format!("{alias}.owner_id = {viewer}"),
            };
            format!("({for_anyone} OR {own})")
        }
        _ => for_anyone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Id;
    use crate::domain::visibility::may_see;

    #[test]
    fn a_page_clause_is_prepared_once() {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        db.execute_batch("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT); CREATE INDEX tb ON t (b, a);").unwrap();
        let reprepares = |page: &str| {
            let mut statement = db.prepare(&format!("SELECT a FROM t ORDER BY b DESC, a DESC {page}")).unwrap();
            for _ in 0..5 {
                statement.query_map((20, 0), |row| row.get::<_, i64>(0)).unwrap().for_each(drop);
            }
            statement.get_status(rusqlite::StatementStatus::RePrepare)
        };
        assert_eq!(reprepares("LIMIT ?1 OFFSET ?2"), 5, "the form this avoids is re-prepared on every run");
        assert_eq!(reprepares(&page_clause("?1", "?2")), 0);
    }

    #[test]
    fn the_sql_visibility_rule_agrees_with_the_domain_rule() {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        let (owner, other) = (Id::generate(), Id::generate());
        for place in [Place::ByLink, Place::Channel, Place::Listing] {
            for level in ALL_LEVELS.iter().copied() {
                for viewer in [None, Some(owner), Some(other)] {
                    let condition = visible_sql("v", place, viewer.map(|_| "?3"));
                    let sql =
                        format!("SELECT {condition} FROM (SELECT ?1 AS visibility, ?2 AS owner_id, ?3 AS viewer) v");
                    let visible: bool = db
                        .query_row(&sql, (level.as_str(), owner.to_hex(), viewer.map(Id::to_hex)), |row| row.get(0))
                        .unwrap();
                    let expected = may_see(level, owner, viewer, place);
                    assert_eq!(visible, expected, "{level:?} in {place:?} to {viewer:?}");
                }
            }
        }
        assert_eq!(levels_sql("v", ALL_LEVELS), None, "no condition when every level passes");
    }
}
