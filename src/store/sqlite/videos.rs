//! SQLite persistence of videos: publishing, the watch page, the feed, updates, trending and views
//! (the views themselves are applied in batches by `watches.rs`).

use std::sync::LazyLock;

use async_trait::async_trait;
use rusqlite::OptionalExtension;

use super::access::BOUNDED_OFFSET;
use super::rows::{VideoRow, videos_from};
use super::sql::{OWNER_OF_VIDEO, VIDEO_COLUMNS, VIDEO_SELECT, levels_sql, page_clause, visible_sql};
use super::{SqliteStore, now};
use crate::domain::Id;
use crate::domain::moderation;
use crate::domain::search::Tags;
use crate::domain::trending::TrendingVideo;
use crate::domain::user::ChannelCounts;
use crate::domain::video::{Video, VideoQuery, VideoRecord, VideoSort};
use crate::domain::visibility::{Place, Visibility};
use crate::store::{NewVideo, StoreError, StoreResult, VideoRepo, VideoUpdate, Watch, WatchFacts};

/// A video by id (`?1`).
static VIDEO_BY_ID: LazyLock<String> = LazyLock::new(|| format!("{VIDEO_SELECT} WHERE v.id = ?1"));

/// What the watch page shows beside the video, as the viewer bound to `?2` (possibly NULL) sees
/// it: each a lookup through an index. Read by name after the video's columns.
const WATCH_FACTS: &str = "COALESCE((SELECT subscribers FROM subscription_counts WHERE user_id = v.owner_id), 0) AS subscribers, \
     COALESCE((SELECT subscribed_to FROM subscription_counts WHERE user_id = v.owner_id), 0) AS subscribed_to, \
     EXISTS (SELECT 1 FROM subscriptions WHERE channel_id = v.owner_id AND subscriber_id = ?2) AS viewer_subscribed, \
     (SELECT COUNT(*) FROM likes WHERE video_id = v.id) AS likes, \
     EXISTS (SELECT 1 FROM likes WHERE liked_by = ?2 AND video_id = v.id) AS viewer_liked";

/// The video `?1` with its channel's counts and likes: the watch page in one statement.
static WATCH_PAGE: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {VIDEO_COLUMNS}, {WATCH_FACTS} FROM videos v {OWNER_OF_VIDEO} WHERE v.id = ?1"));

/// Trending's page query (binds: first hour, limit, offset) and count (binds: first hour): the views
/// of the window summed per video from the hour index, then only those videos are read (by id) and
/// kept when public. Left to itself the planner walks every public video and probes the sums
/// instead: the sums are materialised and `CROSS JOIN` keeps them the outer loop.
static TRENDING: LazyLock<(String, String)> = LazyLock::new(|| {
    let recent = "WITH recent AS MATERIALIZED (SELECT h.video_id, SUM(h.n) AS recent_views \
                  FROM video_view_hours h INDEXED BY video_view_hours_hour WHERE h.hour >= ?1 GROUP BY h.video_id) ";
    let from = "FROM recent r CROSS JOIN videos v ON v.id = r.video_id";
    let filter = format!("WHERE {}", visible_sql("v", Place::Listing, None));
    let page = format!(
        "{recent}SELECT {VIDEO_COLUMNS}, r.recent_views {from} {OWNER_OF_VIDEO} {filter} \
         ORDER BY r.recent_views DESC, v.views DESC, v.created_at DESC, v.id DESC {}",
        page_clause("?2", "?3")
    );
    let count = format!("{recent}SELECT COUNT(*) {from} {filter}");
    (page, count)
});

const INSERT_VIDEO: &str = "INSERT INTO videos (id, owner_id, video_file, video_key, thumbnail, thumbnail_key, title, \
     description, duration, views, visibility, created_at, updated_at, processing_status, processing_progress, \
     width, height, hls_url, tags) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, ?10, ?11, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";

fn sort_column(sort: VideoSort) -> &'static str {
    match sort {
        VideoSort::CreatedAt => "v.created_at",
        VideoSort::Views => "v.views",
        VideoSort::Duration => "v.duration",
        VideoSort::Title => "v.title",
    }
}

/// A feed query's statements and their binds. Each shape of query (sort, direction, owner or not,
/// levels, search or not) has its own fixed text.
struct FeedSql {
    /// The page (ending in its `page_clause`: limit, then offset), `VideoRow`'s columns, then
    /// `total_docs`.
    page: String,
    page_binds: Vec<String>,
    /// The total, when `total_docs` is NULL (a search, or an empty page).
    count: String,
    count_binds: Vec<String>,
}

/// The WHERE clause of a feed query and its bind values, in order.
fn feed_filter(query: &VideoQuery) -> (String, Vec<String>) {
    let mut clauses = Vec::new();
    let mut binds = Vec::new();
    if let Some(owner) = query.owner {
        clauses.push("v.owner_id = ?");
        binds.push(owner.to_hex());
    }
    let levels = levels_sql("v", query.levels);
    if let Some(levels) = &levels {
        clauses.push(levels);
    }
    if let Some(search) = &query.search {
        // instr() matches literally: no LIKE wildcards or regex syntax can leak through.
        clauses.push("(instr(lower(v.title), ?) > 0 OR instr(lower(v.description), ?) > 0)");
        // SQLite's lower() folds ASCII only; folding the needle the same way keeps non-ASCII
        // letters comparable (exact case) instead of never matching.
        let needle = search.to_ascii_lowercase();
        binds.push(needle.clone());
        binds.push(needle);
    }
    let filter = if clauses.is_empty() { String::new() } else { format!(" WHERE {}", clauses.join(" AND ")) };
    (filter, binds)
}

/// The feed's statements. Without a search the total is read from `video_counts` (kept by
/// triggers), so it costs the same at any table size, and it rides along with the page (one
/// statement instead of two); a search has to look at the rows anyway, and counts them apart.
fn feed_sql(query: &VideoQuery) -> FeedSql {
    let (filter, binds) = feed_filter(query);
    let direction = if query.descending { "DESC" } else { "ASC" };
    let column = sort_column(query.sort);
    let order = format!("ORDER BY {column} {direction}, v.id {direction} {}", page_clause("?", "?"));
    let page = |total: &str| {
        format!("SELECT {VIDEO_COLUMNS}, {total} AS total_docs FROM videos v {OWNER_OF_VIDEO}{filter} {order}")
    };
    if query.search.is_some() {
        let count = format!("SELECT COUNT(*) FROM videos v{filter}");
        return FeedSql { page: page("NULL"), count, count_binds: binds.clone(), page_binds: binds };
    }
    let owner = query.owner.map_or_else(|| "*".to_owned(), Id::to_hex);
    let levels = levels_sql("video_counts", query.levels).map(|levels| format!(" AND {levels}")).unwrap_or_default();
    let count = format!("SELECT COALESCE(SUM(n), 0) FROM video_counts WHERE owner_id = ?{levels}");
    let page_binds = std::iter::once(owner.clone()).chain(binds).collect();
    FeedSql { page: page(&format!("({count})")), page_binds, count, count_binds: vec![owner] }
}

/// Tags as stored: a JSON array of strings.
fn tags_json(tags: &Tags) -> String {
    serde_json::Value::from(tags.as_slice()).to_string()
}

impl SqliteStore {
    /// A video by id, on the caller's thread.
    pub(super) fn video_record(&self, id: Id) -> StoreResult<Option<VideoRecord>> {
        let row = self
            .reads
            .read(|db| db.prepare_cached(&VIDEO_BY_ID)?.query_row([id.to_hex()], VideoRow::read).optional())?;
        row.map(VideoRow::into_record).transpose()
    }
}

#[async_trait]
impl VideoRepo for SqliteStore {
    async fn insert(&self, video: NewVideo) -> StoreResult<VideoRecord> {
        let id = Id::generate();
        self.writes
            .write(move |db| {
                db.prepare_cached(INSERT_VIDEO)?.execute(rusqlite::params![
                    id.to_hex(),
                    video.owner.to_hex(),
                    video.video_file.url,
                    video.video_file.key,
                    video.thumbnail.url,
                    video.thumbnail.key,
                    video.title,
                    video.description,
                    video.duration,
                    video.visibility.as_str(),
                    now(),
                    video.processing.as_str(),
                    i64::from(video.processing.starting_progress()),
                    video.width,
                    video.height,
                    video.hls_url,
                    tags_json(&video.tags),
                ])
            })
            .await?;
        self.video_record(id)?.ok_or_else(|| StoreError::backend("video vanished after insert"))
    }

    async fn get(&self, id: Id) -> StoreResult<Option<VideoRecord>> {
        self.video_record(id)
    }

    async fn watch_page(&self, id: Id, viewer: Option<Id>) -> StoreResult<Option<(VideoRecord, WatchFacts)>> {
        let read = |row: &rusqlite::Row| {
            let channel = ChannelCounts {
                subscribers: row.get("subscribers")?,
                subscribed_to: row.get("subscribed_to")?,
                viewer_subscribed: row.get("viewer_subscribed")?,
            };
            let facts = WatchFacts { channel, likes: row.get("likes")?, viewer_liked: row.get("viewer_liked")? };
            Ok((VideoRow::read(row)?, facts))
        };
        let found = self.reads.read(|db| {
            let mut statement = db.prepare_cached(&WATCH_PAGE)?;
            statement.query_row((id.to_hex(), viewer.map(Id::to_hex)), read).optional()
        })?;
        found.map(|(row, facts)| Ok((row.into_record()?, facts))).transpose()
    }

    async fn list(&self, query: &VideoQuery) -> StoreResult<(Vec<Video>, u64)> {
        let sql = feed_sql(query);
        let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
        let limit = i64::from(query.limit);
        // A page through an index stays on the request's thread; a search or a deep page may scan (D17).
        let bounded = query.search.is_none() && query.offset <= BOUNDED_OFFSET;
        let (rows, total) = self
            .reads
            .read_page(bounded, move |db| {
                let mut page = db.prepare_cached(&sql.page)?;
                let mut binds: Vec<&dyn rusqlite::ToSql> =
                    sql.page_binds.iter().map(|b| b as &dyn rusqlite::ToSql).collect();
                binds.extend([&limit as &dyn rusqlite::ToSql, &offset]);
                let rows = page
                    .query_map(binds.as_slice(), |row| {
                        Ok((VideoRow::read(row)?, row.get::<_, Option<i64>>(VideoRow::WIDTH)?))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let total = match rows.first().and_then(|(_, total)| *total) {
                    Some(total) => total,
                    None => db
                        .prepare_cached(&sql.count)?
                        .query_row(rusqlite::params_from_iter(sql.count_binds.iter()), |row| row.get(0))?,
                };
                Ok((rows, total))
            })
            .await?;
        let videos = rows.into_iter().map(|(row, _)| row.into_video()).collect::<StoreResult<_>>()?;
        Ok((videos, total as u64))
    }

    async fn update(&self, id: Id, update: VideoUpdate) -> StoreResult<Option<VideoRecord>> {
        let (thumbnail, thumbnail_key) = update.thumbnail.map(|m| (m.url, m.key)).unzip();
        let changed = self
            .writes
            .write(move |db| {
                db.prepare_cached(
                    "UPDATE videos SET title = COALESCE(?1, title), description = COALESCE(?2, description), \
                     thumbnail = COALESCE(?3, thumbnail), thumbnail_key = COALESCE(?4, thumbnail_key), \
                     visibility = COALESCE(?5, visibility), updated_at = ?6, tags = COALESCE(?8, tags) WHERE id = ?7",
                )?
                .execute((
                    update.title,
                    update.description,
                    thumbnail,
                    thumbnail_key,
                    update.visibility.map(Visibility::as_str),
                    now(),
                    id.to_hex(),
                    update.tags.as_ref().map(tags_json),
                ))
            })
            .await?;
        if changed == 0 {
            return Ok(None);
        }
        self.video_record(id)
    }

    async fn set_visibility(&self, id: Id, visibility: Visibility) -> StoreResult<Option<VideoRecord>> {
        self.writes
            .write(move |db| {
                db.prepare_cached("UPDATE videos SET visibility = ?1, updated_at = ?2 WHERE id = ?3")?.execute((
                    visibility.as_str(),
                    now(),
                    id.to_hex(),
                ))
            })
            .await?;
        self.video_record(id)
    }

    async fn set_removal(&self, id: Id, reason: Option<String>, owner_suspended: bool) -> StoreResult<bool> {
        // Every expression of a SET reads the row as it was, so the level moves in one statement;
        // the listed level is what `visibility::listed` gives, and the counters' triggers follow.
        let sql = match (&reason, moderation::hidden(false, owner_suspended)) {
            (Some(_), _) => {
                "UPDATE videos SET removed_reason = ?2, held_visibility = COALESCE(held_visibility, visibility), \
                 visibility = 'private' WHERE id = ?1"
            }
            // Restored, but its owner's suspension still hides it.
            (None, true) => "UPDATE videos SET removed_reason = ?2 WHERE id = ?1",
            (None, false) => {
                "UPDATE videos SET removed_reason = ?2, visibility = COALESCE(held_visibility, visibility), \
                 held_visibility = NULL WHERE id = ?1"
            }
        };
        let changed = self.writes.write(move |db| db.prepare_cached(sql)?.execute((id.to_hex(), reason))).await?;
        Ok(changed > 0)
    }

    async fn delete(&self, id: Id) -> StoreResult<bool> {
        // Foreign keys cascade to likes, comments (and their likes), playlist entries and history.
        let deleted = self
            .writes
            .write(move |db| db.prepare_cached("DELETE FROM videos WHERE id = ?1")?.execute([id.to_hex()]))
            .await?;
        Ok(deleted > 0)
    }

    async fn record_watch(&self, watch: Watch) -> StoreResult<Option<i64>> {
        self.watches.record(watch).await
    }

    async fn trending(&self, first_hour: i64, offset: u64, limit: u32) -> StoreResult<(Vec<TrendingVideo>, u64)> {
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let (rows, total) = self
            .reads
            .read_off_thread(move |db| {
                let (page, count) = &*TRENDING;
                let rows = db
                    .prepare_cached(page)?
                    .query_map((first_hour, i64::from(limit), offset), |row| {
                        Ok((VideoRow::read(row)?, row.get::<_, i64>(VideoRow::WIDTH)?))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let total: i64 = db.prepare_cached(count)?.query_row([first_hour], |row| row.get(0))?;
                Ok((rows, total))
            })
            .await?;
        let videos = rows
            .into_iter()
            .map(|(video, recent_views)| Ok(TrendingVideo { video: video.into_video()?, recent_views }))
            .collect::<StoreResult<_>>()?;
        Ok((videos, total as u64))
    }

    async fn prune_view_hours(&self, first_kept_hour: i64) -> StoreResult<u64> {
        let pruned = self
            .writes
            .write(move |db| {
                db.prepare_cached("DELETE FROM video_view_hours WHERE hour < ?1")?.execute([first_kept_hour])
            })
            .await?;
        Ok(pruned as u64)
    }

    async fn visible_by_ids(&self, ids: &[Id], viewer: Option<Id>) -> StoreResult<Vec<Video>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // The ids as one JSON array: one statement text whatever their number.
        let wanted = serde_json::Value::from(ids.iter().map(|id| id.to_hex()).collect::<Vec<_>>()).to_string();
        let rows = self
            .reads
            .read_off_thread(move |db| {
                let mut found = db.prepare_cached(&VISIBLE_BY_IDS)?;
                let rows = found.query_map((wanted, viewer.map(Id::to_hex)), VideoRow::read)?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
            })
            .await?;
        let found = videos_from(rows)?;
        Ok(ids.iter().filter_map(|id| found.iter().find(|v| v.id == *id).cloned()).collect())
    }
}

/// The videos of the JSON array of ids `?1` that the viewer `?2` may see by link: each looked up by
/// id (`CROSS JOIN` keeps the ids the outer loop; the visibility condition's `OR` would otherwise
/// invite the planner to walk the indexes it names).
static VISIBLE_BY_IDS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {VIDEO_COLUMNS} FROM json_each(?1) AS wanted CROSS JOIN videos v ON v.id = wanted.value \
         {OWNER_OF_VIDEO} WHERE {}",
        visible_sql("v", Place::ByLink, Some("?2"))
    )
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::sql::VIDEO_COLUMN_NAMES;
    use crate::store::sqlite::{column_names, query_plan, test_store};

    fn feed() -> VideoQuery {
        VideoQuery {
            search: None,
            owner: None,
            levels: Place::Listing.levels(false),
            sort: VideoSort::CreatedAt,
            descending: true,
            offset: 0,
            limit: 10,
        }
    }

    /// The positions `VideoRow::read` reads are the selects' columns; the statements' own columns
    /// come after them.
    #[tokio::test]
    async fn video_rows_read_the_columns_the_selects_yield() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        let names = |sql: &str| column_names(&store, sql);
        assert_eq!(names(VIDEO_SELECT), VIDEO_COLUMN_NAMES);
        assert_eq!(names(&VIDEO_BY_ID), VIDEO_COLUMN_NAMES);
        assert_eq!(names(&VISIBLE_BY_IDS), VIDEO_COLUMN_NAMES);
        let watch_page = names(&WATCH_PAGE);
        assert_eq!(watch_page[..VideoRow::WIDTH], VIDEO_COLUMN_NAMES, "the facts come after the video");
        let search = VideoQuery { search: Some("x".into()), ..feed() };
        for page in [feed_sql(&feed()).page, feed_sql(&search).page] {
            let page = names(&page);
            assert_eq!(page[..VideoRow::WIDTH], VIDEO_COLUMN_NAMES);
            assert_eq!(page[VideoRow::WIDTH..], ["total_docs"]);
        }
        let trending = names(&TRENDING.0);
        assert_eq!(trending[..VideoRow::WIDTH], VIDEO_COLUMN_NAMES);
        assert_eq!(trending[VideoRow::WIDTH..], ["recent_views"]);
    }

    fn plan(store: &SqliteStore, sql: &str, binds: &[String]) -> Vec<String> {
        let mut binds: Vec<&str> = binds.iter().map(String::as_str).collect();
        if sql.ends_with(&page_clause("?", "?")) {
            binds.extend(["10", "0"]);
        }
        query_plan(store, sql, &binds)
    }

    #[tokio::test]
    async fn every_feed_query_is_served_by_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        let owner = Some(Id::generate());
        let sorts = [VideoSort::CreatedAt, VideoSort::Views, VideoSort::Duration, VideoSort::Title];
        for sort in sorts {
            for descending in [true, false] {
                let shapes =
                    [(None, Place::Listing, false), (owner, Place::Channel, false), (owner, Place::Channel, true)];
                for (owner, place, owns) in shapes {
                    for search in [None, Some("tide".to_owned())] {
                        let levels = place.levels(owns);
                        let query = VideoQuery { search, owner, levels, sort, descending, offset: 0, limit: 10 };
                        let sql = feed_sql(&query);
                        for (sql, binds) in [(sql.page, sql.page_binds), (sql.count, sql.count_binds)] {
                            let details = plan(&store, &sql, &binds);
                            let full_scan = details.iter().any(|d| d.starts_with("SCAN") && !d.contains("INDEX"));
                            assert!(!full_scan, "{query:?}: {details:?}");
                        }
                    }
                }
            }
        }
    }

    #[tokio::test]
    async fn trending_reads_the_hours_of_its_window_and_never_scans_the_videos() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        let (page, count) = &*TRENDING;
        let binds = ["1000".to_owned(), "10".to_owned(), "0".to_owned()];
        for (sql, binds) in [(page, &binds[..]), (count, &binds[..1])] {
            let details = plan(&store, sql, binds);
            assert!(details.iter().any(|d| d.starts_with("SEARCH h USING COVERING INDEX video_view_hours_hour")));
            let videos_by_id = details.iter().any(|d| d.starts_with("SEARCH v USING INDEX sqlite_autoindex_videos_1"));
            let scans_videos = details.iter().any(|d| d.starts_with("SCAN v") || d.starts_with("SCAN videos"));
            assert!(videos_by_id && !scans_videos, "{details:?}");
        }
    }

    #[tokio::test]
    async fn videos_by_ids_are_looked_up_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        let details = query_plan(&store, &VISIBLE_BY_IDS, &["[\"a\"]", "b"]);
        assert!(details.iter().any(|d| d.starts_with("SEARCH v USING INDEX sqlite_autoindex_videos_1")), "{details:?}");
        assert!(!details.iter().any(|d| d.starts_with("SCAN v")), "{details:?}");
    }
}
