//! SQLite persistence of videos, the feed query, views, watch history and channel statistics.

use std::sync::LazyLock;

use async_trait::async_trait;
use rusqlite::OptionalExtension;
use sqlx::Row;

use super::direct::BOUNDED_OFFSET;
use super::{
    OwnerRow, SqliteStore, backend, levels_sql, map_err, now, page_clause, parse_id, parse_visibility, visible_sql,
};
use crate::domain::processing::{Processing, ProcessingStatus, Streams};
use crate::domain::social::ChannelStats;
use crate::domain::trending::TrendingVideo;
use crate::domain::user::ChannelCounts;
use crate::domain::video::{Video, VideoQuery, VideoRecord, VideoSort, WatchedVideo};
use crate::domain::visibility::{Place, Visibility};
use crate::domain::{Id, Timestamp};
use crate::store::{
    DashboardRepo, HistoryRepo, NewVideo, StoreError, StoreResult, VideoRepo, VideoUpdate, Watch, WatchFacts,
};

/// Video columns joined with the owner summary; every video read goes through this projection.
pub(super) const VIDEO_SELECT: &str = "SELECT v.id, v.video_file, v.video_key, v.thumbnail, v.thumbnail_key, \
     v.title, v.description, v.duration, v.views, v.visibility, v.created_at, v.updated_at, \
     v.width, v.height, v.processing_status, v.processing_progress, v.processing_error, v.hls_url, v.hls_key, \
     u.id AS owner_id, u.username AS owner_username, u.full_name AS owner_full_name, u.avatar AS owner_avatar \
     FROM videos v JOIN users u ON u.id = v.owner_id";

/// The video with its channel's counts and likes as the viewer bound to `?2` (possibly NULL) sees
/// them: one statement, each fact a lookup through an index.
static WATCH_PAGE_SELECT: LazyLock<String> = LazyLock::new(|| {
    const FACTS: &str = "COALESCE((SELECT subscribers FROM subscription_counts WHERE user_id = v.owner_id), 0) AS subscribers, \
         COALESCE((SELECT subscribed_to FROM subscription_counts WHERE user_id = v.owner_id), 0) AS subscribed_to, \
         EXISTS (SELECT 1 FROM subscriptions WHERE channel_id = v.owner_id AND subscriber_id = ?2) AS viewer_subscribed, \
         (SELECT COUNT(*) FROM likes WHERE video_id = v.id) AS likes, \
         EXISTS (SELECT 1 FROM likes WHERE liked_by = ?2 AND video_id = v.id) AS viewer_liked";
    let select = VIDEO_SELECT.replacen(" FROM videos v ", &format!(", {FACTS} FROM videos v "), 1);
    format!("{select} WHERE v.id = ?1")
});

/// The columns `VIDEO_SELECT` yields, in order (`VideoRow::from_direct` reads them by position).

#[async_trait]
impl HistoryRepo for SqliteStore {
    async fn watch_history(&self, user: Id) -> StoreResult<Vec<WatchedVideo>> {
        let columns = VIDEO_SELECT.trim_start_matches("SELECT ");
        let sql = format!(
            "SELECT h.watched_at, {columns} JOIN watch_history h ON h.video_id = v.id \
             WHERE h.user_id = ?1 AND {} ORDER BY h.seq DESC",
            visible_sql("v", Place::ByLink, Some("?1"))
        );
        let rows: Vec<WatchedRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user.to_hex())
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.into_iter()
            .map(|row| Ok(WatchedVideo { video: row.video.into_video()?, watched_at: row.watched_at.map(Timestamp) }))
            .collect()
    }

    async fn clear_history(&self, user: Id) -> StoreResult<()> {
        sqlx::query("DELETE FROM watch_history WHERE user_id = ?")
            .bind(user.to_hex())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn forget_watch(&self, user: Id, video: Id) -> StoreResult<()> {
        sqlx::query("DELETE FROM watch_history WHERE user_id = ? AND video_id = ?")
            .bind(user.to_hex())
            .bind(video.to_hex())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn set_history_paused(&self, id: Id, paused: bool) -> StoreResult<bool> {
        let changed = sqlx::query("UPDATE users SET history_paused = ?, updated_at = ? WHERE id = ?")
            .bind(paused)
            .bind(now())
            .bind(id.to_hex())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(changed.rows_affected() > 0)
    }
}

#[async_trait]
impl DashboardRepo for SqliteStore {
    async fn dashboard_videos(&self, owner: Id) -> StoreResult<Vec<Video>> {
        let sql = VIDEO_SELECT.replacen(
            " FROM videos v",
            ", (SELECT COUNT(*) FROM likes l WHERE l.video_id = v.id) AS likes_count FROM videos v",
            1,
        ) + " WHERE v.owner_id = ? ORDER BY v.created_at DESC, v.id DESC";
        let rows: Vec<CountedVideoRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(owner.to_hex())
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.into_iter()
            .map(|row| {
                let mut video = row.video.into_video()?;
                video.likes_count = Some(row.likes_count);
                Ok(video)
            })
            .collect()
    }

    async fn channel_stats(&self, owner: Id) -> StoreResult<ChannelStats> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM videos WHERE owner_id = ?1) AS total_videos, \
                    (SELECT COALESCE(SUM(views), 0) FROM videos WHERE owner_id = ?1) AS total_views, \
                    COALESCE((SELECT subscribers FROM subscription_counts WHERE user_id = ?1), 0) \
                        AS total_subscribers, \
                    (SELECT COUNT(*) FROM likes l JOIN videos v ON v.id = l.video_id WHERE v.owner_id = ?1) \
                        AS total_likes",
        )
        .bind(owner.to_hex())
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        Ok(ChannelStats {
            total_videos: row.get("total_videos"),
            total_views: row.get("total_views"),
            total_subscribers: row.get("total_subscribers"),
            total_likes: row.get("total_likes"),
        })
    }
}
#[cfg(test)]
const VIDEO_COLUMNS: [&str; 23] = [
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
    "owner_id",
    "owner_username",
    "owner_full_name",
    "owner_avatar",
];

/// A history entry: the video and when it was last watched.
#[derive(sqlx::FromRow)]
struct WatchedRow {
    watched_at: Option<i64>,
    #[sqlx(flatten)]
    video: VideoRow,
}

#[derive(sqlx::FromRow)]
pub(super) struct VideoRow {
    id: String,
    video_file: String,
    video_key: String,
    thumbnail: String,
    thumbnail_key: String,
    title: String,
    description: String,
    duration: f64,
    views: i64,
    visibility: String,
    created_at: i64,
    updated_at: i64,
    width: i64,
    height: i64,
    processing_status: String,
    processing_progress: i64,
    processing_error: Option<String>,
    hls_url: Option<String>,
    hls_key: String,
    #[sqlx(flatten)]
    owner: OwnerRow,
}

impl VideoRow {
    /// The same row read through rusqlite (`direct`) by position: the columns of `VIDEO_SELECT`, in
    /// the order `VIDEO_COLUMNS` names (a test checks it). Looking columns up by name scanned every
    /// column name for every field, a fifth of a feed page's time.
    pub(super) fn from_direct(row: &rusqlite::Row) -> rusqlite::Result<Self> {
        Ok(VideoRow {
            id: row.get(0)?,
            video_file: row.get(1)?,
            video_key: row.get(2)?,
            thumbnail: row.get(3)?,
            thumbnail_key: row.get(4)?,
            title: row.get(5)?,
            description: row.get(6)?,
            duration: row.get(7)?,
            views: row.get(8)?,
            visibility: row.get(9)?,
            created_at: row.get(10)?,
            updated_at: row.get(11)?,
            width: row.get(12)?,
            height: row.get(13)?,
            processing_status: row.get(14)?,
            processing_progress: row.get(15)?,
            processing_error: row.get(16)?,
            hls_url: row.get(17)?,
            hls_key: row.get(18)?,
            owner: OwnerRow::from_direct(row, 19)?,
        })
    }

    pub(super) fn into_record(self) -> StoreResult<VideoRecord> {
        Ok(VideoRecord {
            video: Video {
                id: parse_id(&self.id)?,
                video_file: self.video_file,
                thumbnail: self.thumbnail,
                title: self.title,
                description: self.description,
                duration: self.duration,
                width: self.width,
                height: self.height,
                processing: Processing {
                    status: ProcessingStatus::from_stored(Some(&self.processing_status)),
                    progress: self.processing_progress.clamp(0, 100) as u8,
                },
                streams: Streams { hls: self.hls_url },
                views: self.views,
                visibility: parse_visibility(&self.visibility)?,
                owner: Video::owner_twin(self.owner.into_summary()?),
                likes_count: None,
                is_liked: None,
                created_at: Timestamp(self.created_at),
                updated_at: Timestamp(self.updated_at),
            },
            video_key: self.video_key,
            thumbnail_key: self.thumbnail_key,
            hls_key: self.hls_key,
            processing_error: self.processing_error,
        })
    }

    pub(super) fn into_video(self) -> StoreResult<Video> {
        self.into_record().map(|r| r.video)
    }
}

#[derive(sqlx::FromRow)]
struct CountedVideoRow {
    #[sqlx(flatten)]
    video: VideoRow,
    likes_count: i64,
}

pub(super) fn videos_from(rows: Vec<VideoRow>) -> StoreResult<Vec<Video>> {
    rows.into_iter().map(VideoRow::into_video).collect()
}

fn sort_column(sort: VideoSort) -> &'static str {
    match sort {
        VideoSort::CreatedAt => "v.created_at",
        VideoSort::Views => "v.views",
        VideoSort::Duration => "v.duration",
        VideoSort::Title => "v.title",
    }
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

/// The page query (ending in its `page_clause`, limit then offset), the count query, and their shared bind values.
/// Without a search the count is read from `video_counts` (kept by triggers), so it costs the same
/// at any table size; a search has to look at the rows anyway.
fn feed_sql(query: &VideoQuery) -> FeedSql {
    let (filter, binds) = feed_filter(query);
    let direction = if query.descending { "DESC" } else { "ASC" };
    let column = sort_column(query.sort);
    let page =
        format!("{VIDEO_SELECT}{filter} ORDER BY {column} {direction}, v.id {direction} {}", page_clause("?", "?"));
    if query.search.is_some() {
        let count = format!("SELECT COUNT(*) FROM videos v{filter}");
        let page = page.replacen(" FROM videos v", ", NULL AS total_docs FROM videos v", 1);
        return FeedSql { page, count, count_binds: binds.clone(), page_binds: binds };
    }
    let owner = query.owner.map_or_else(|| "*".to_owned(), Id::to_hex);
    let levels = levels_sql("video_counts", query.levels).map(|levels| format!(" AND {levels}")).unwrap_or_default();
    let count = format!("SELECT COALESCE(SUM(n), 0) FROM video_counts WHERE owner_id = ?{levels}");
    // The total rides along with the page: one round trip to the database instead of two.
    let page = page.replacen(" FROM videos v", &format!(", ({count}) AS total_docs FROM videos v"), 1);
    let page_binds = std::iter::once(owner.clone()).chain(binds).collect();
    FeedSql { page, page_binds, count, count_binds: vec![owner] }
}

/// The subscription feed's page query (binds: subscriber, limit, offset) and count (binds: subscriber):
/// the followed channels come from the subscriber index; the page's ids are picked from
/// `videos_owner_created` alone, channel by channel (the index holds the visibility too), and only
/// the page's rows are then read with their channels. Left to itself the planner walks
/// `videos_visibility_created` instead, which reads every public video of the site until the page
/// is full; reading whole rows while picking read a row (and its channel) for every candidate.
pub(super) fn subscription_feed_sql() -> (String, String) {
    let filter = format!(
        " WHERE v.owner_id IN (SELECT s.channel_id FROM subscriptions s WHERE s.subscriber_id = ?1) AND {}",
        visible_sql("v", Place::Listing, None)
    );
    let order = " ORDER BY v.created_at DESC, v.id DESC";
    let ids = format!(
        "WITH page AS MATERIALIZED (SELECT v.id FROM videos v INDEXED BY videos_owner_created{filter}{order} {}) ",
        page_clause("?2", "?3")
    );
    let page = format!(
        "{ids}{}{order}",
        VIDEO_SELECT.replacen(" FROM videos v", " FROM page CROSS JOIN videos v USING (id)", 1)
    );
    // The total from the per-owner counts the triggers keep: one lookup per followed channel instead
    // of a walk over all their videos (500 channels, 1M videos: 1 s as COUNT(*), 0.1 ms as this sum).
    let listed = levels_sql("c", Place::Listing.levels(false)).map_or_else(String::new, |l| format!(" AND {l}"));
    let count = format!(
        "SELECT COALESCE(SUM(c.n), 0) FROM subscriptions s JOIN video_counts c ON c.owner_id = s.channel_id \
         WHERE s.subscriber_id = ?1{listed}"
    );
    (page, count)
}

/// Trending's page query (binds: first hour, limit, offset) and count (binds: first hour): the views
/// of the window summed per video from the hour index, then only those videos are read (by id) and
/// kept when public. Left to itself the planner walks every public video and probes the sums
/// instead: the sums are materialised and `CROSS JOIN` keeps them the outer loop.
fn trending_sql() -> (String, String) {
    let recent = "WITH recent AS MATERIALIZED (SELECT h.video_id, SUM(h.n) AS recent_views \
                  FROM video_view_hours h INDEXED BY video_view_hours_hour WHERE h.hour >= ?1 GROUP BY h.video_id) ";
    let from = " FROM recent r CROSS JOIN videos v ON v.id = r.video_id";
    let filter = format!(" WHERE {}", visible_sql("v", Place::Listing, None));
    let select = VIDEO_SELECT.replacen("SELECT ", "SELECT r.recent_views, ", 1).replacen(" FROM videos v", from, 1);
    let page = format!(
        "{recent}{select}{filter} ORDER BY r.recent_views DESC, v.views DESC, v.created_at DESC, v.id DESC {}",
        page_clause("?2", "?3")
    );
    let count = format!("{recent}SELECT COUNT(*){from}{filter}");
    (page, count)
}

struct FeedSql {
    page: String,
    page_binds: Vec<String>,
    count: String,
    count_binds: Vec<String>,
}

impl SqliteStore {
    /// Runs a page query (binds: `key` as `?1`, limit, offset) and its count (binds: `key`).
    async fn paged<R, K>(
        &self,
        (page, count): (String, String),
        key: K,
        offset: u64,
        limit: u32,
    ) -> StoreResult<(Vec<R>, u64)>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin,
        K: for<'q> sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + Clone + Send + 'static,
    {
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let rows: Vec<R> = sqlx::query_as(sqlx::AssertSqlSafe(page))
            .bind(key.clone())
            .bind(i64::from(limit))
            .bind(offset)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        let total: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(count)).bind(key).fetch_one(&self.pool).await.map_err(backend)?;
        Ok((rows, total as u64))
    }

    pub(super) async fn video_record(&self, id: Id) -> StoreResult<Option<VideoRecord>> {
        let sql = format!("{VIDEO_SELECT} WHERE v.id = ?");
        let row = self
            .direct
            .read(|db| db.prepare_cached(&sql)?.query_row([id.to_hex()], VideoRow::from_direct).optional())?;
        row.map(VideoRow::into_record).transpose()
    }
}

#[async_trait]
impl VideoRepo for SqliteStore {
    async fn insert(&self, video: NewVideo) -> StoreResult<VideoRecord> {
        let id = Id::generate();
        let now = now();
        sqlx::query(
            "INSERT INTO videos (id, owner_id, video_file, video_key, thumbnail, thumbnail_key, title, description, \
             duration, views, visibility, created_at, updated_at, processing_status, processing_progress, width, \
             height, hls_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id.to_hex())
        .bind(video.owner.to_hex())
        .bind(video.video_file.url)
        .bind(video.video_file.key)
        .bind(video.thumbnail.url)
        .bind(video.thumbnail.key)
        .bind(video.title)
        .bind(video.description)
        .bind(video.duration)
        .bind(video.visibility.as_str())
        .bind(now)
        .bind(now)
        .bind(video.processing.as_str())
        .bind(i64::from(video.processing.starting_progress()))
        .bind(video.width)
        .bind(video.height)
        .bind(video.hls_url)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        self.video_record(id).await?.ok_or_else(|| StoreError::backend("video vanished after insert"))
    }

    async fn get(&self, id: Id) -> StoreResult<Option<VideoRecord>> {
        self.video_record(id).await
    }

    async fn watch_page(&self, id: Id, viewer: Option<Id>) -> StoreResult<Option<(VideoRecord, WatchFacts)>> {
        let read = |row: &rusqlite::Row| {
            let channel = ChannelCounts {
                subscribers: row.get("subscribers")?,
                subscribed_to: row.get("subscribed_to")?,
                viewer_subscribed: row.get("viewer_subscribed")?,
            };
            let facts = WatchFacts { channel, likes: row.get("likes")?, viewer_liked: row.get("viewer_liked")? };
            Ok((VideoRow::from_direct(row)?, facts))
        };
        let found = self.direct.read(|db| {
            let mut statement = db.prepare_cached(&WATCH_PAGE_SELECT)?;
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
            .direct
            .read_page(bounded, move |db| {
                let mut page = db.prepare_cached(&sql.page)?;
                let mut binds: Vec<&dyn rusqlite::ToSql> =
                    sql.page_binds.iter().map(|b| b as &dyn rusqlite::ToSql).collect();
                binds.extend([&limit as &dyn rusqlite::ToSql, &offset]);
                let rows = page
                    .query_map(binds.as_slice(), |row| {
                        Ok((VideoRow::from_direct(row)?, row.get::<_, Option<i64>>("total_docs")?))
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
        let changed = sqlx::query(
            "UPDATE videos SET title = COALESCE(?, title), description = COALESCE(?, description), \
             thumbnail = COALESCE(?, thumbnail), thumbnail_key = COALESCE(?, thumbnail_key), \
             visibility = COALESCE(?, visibility), updated_at = ? WHERE id = ?",
        )
        .bind(update.title)
        .bind(update.description)
        .bind(thumbnail)
        .bind(thumbnail_key)
        .bind(update.visibility.map(Visibility::as_str))
        .bind(now())
        .bind(id.to_hex())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        if changed.rows_affected() == 0 {
            return Ok(None);
        }
        self.video_record(id).await
    }

    async fn set_visibility(&self, id: Id, visibility: Visibility) -> StoreResult<Option<VideoRecord>> {
        sqlx::query("UPDATE videos SET visibility = ?, updated_at = ? WHERE id = ?")
            .bind(visibility.as_str())
            .bind(now())
            .bind(id.to_hex())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        self.video_record(id).await
    }

    async fn delete(&self, id: Id) -> StoreResult<bool> {
        // Foreign keys cascade to likes, comments (and their likes), playlist entries and history.
        let deleted = sqlx::query("DELETE FROM videos WHERE id = ?")
            .bind(id.to_hex())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(deleted.rows_affected() > 0)
    }

    async fn record_watch(&self, watch: Watch) -> StoreResult<Option<i64>> {
        self.watches.record(watch).await
    }

    async fn trending(&self, first_hour: i64, offset: u64, limit: u32) -> StoreResult<(Vec<TrendingVideo>, u64)> {
        #[derive(sqlx::FromRow)]
        struct Row {
            recent_views: i64,
            #[sqlx(flatten)]
            video: VideoRow,
        }
        let (rows, total) = self.paged::<Row, _>(trending_sql(), first_hour, offset, limit).await?;
        let videos = rows
            .into_iter()
            .map(|row| Ok(TrendingVideo { video: row.video.into_video()?, recent_views: row.recent_views }))
            .collect::<StoreResult<_>>()?;
        Ok((videos, total))
    }

    async fn prune_view_hours(&self, first_kept_hour: i64) -> StoreResult<u64> {
        let pruned = sqlx::query("DELETE FROM video_view_hours WHERE hour < ?")
            .bind(first_kept_hour)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(pruned.rows_affected())
    }

    async fn visible_by_ids(&self, ids: &[Id], viewer: Option<Id>) -> StoreResult<Vec<Video>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = vec!["?"; ids.len()].join(", ");
        let sql =
            format!("{VIDEO_SELECT} WHERE v.id IN ({placeholders}) AND {}", visible_sql("v", Place::ByLink, Some("?")));
        let mut query = sqlx::query_as::<_, VideoRow>(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(id.to_hex());
        }
        let rows = query.bind(viewer.map(Id::to_hex)).fetch_all(&self.pool).await.map_err(backend)?;
        let found = videos_from(rows)?;
        Ok(ids.iter().filter_map(|id| found.iter().find(|v| v.id == *id).cloned()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The positions `VideoRow::from_direct` and `PostRow::from_direct` read are the selects' columns.
    #[tokio::test]
    async fn direct_rows_read_the_columns_the_selects_yield() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("columns.db")).await.unwrap();
        let names = |sql: &str| super::super::column_names(&store, sql);
        assert_eq!(names(VIDEO_SELECT), VIDEO_COLUMNS);
        let watch_page = names(&WATCH_PAGE_SELECT);
        assert_eq!(watch_page[..VIDEO_COLUMNS.len()], VIDEO_COLUMNS, "the facts come after the video");
        let feed = VideoQuery {
            search: None,
            owner: None,
            levels: Place::Listing.levels(false),
            sort: VideoSort::CreatedAt,
            descending: true,
            offset: 0,
            limit: 10,
        };
        for page in [feed_sql(&feed).page, feed_sql(&VideoQuery { search: Some("x".into()), ..feed }).page] {
            assert_eq!(names(&page)[..VIDEO_COLUMNS.len()], VIDEO_COLUMNS, "total_docs comes after the video");
        }
        assert_eq!(names(&subscription_feed_sql().0), VIDEO_COLUMNS, "the subscription feed's page");
        let posts = names(&super::super::social::comment_select());
        let expected = ["id", "content", "video_id", "created_at", "updated_at", "likes_count", "is_liked"];
        assert_eq!(posts[..7], expected);
        assert_eq!(posts[7..], VIDEO_COLUMNS[19..]);
    }

    async fn plan(store: &SqliteStore, sql: &str, binds: &[String]) -> Vec<String> {
        let mut binds: Vec<&str> = binds.iter().map(String::as_str).collect();
        if sql.ends_with(&page_clause("?", "?")) {
            binds.extend(["10", "0"]);
        }
        super::super::query_plan(store, sql, &binds).await
    }

    #[tokio::test]
    async fn every_feed_query_is_served_by_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("plan.db")).await.unwrap();
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
                            let details = plan(&store, &sql, &binds).await;
                            let full_scan = details.iter().any(|d| d.starts_with("SCAN") && !d.contains("INDEX"));
                            assert!(!full_scan, "{query:?}: {details:?}");
                        }
                    }
                }
            }
        }
    }

    /// A database of the published-flag schema (migrations up to 0003) keeps its videos: published
    /// ones become public, the others private, and the per-level totals match.
    #[tokio::test]
    async fn published_flags_become_levels_with_their_totals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&path).create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        sqlx::migrate!("./migrations/sqlite").run_to(3, &pool).await.unwrap();
        let owner = Id::generate().to_hex();
        sqlx::query(
            "INSERT INTO users (id, username, email, full_name, avatar, avatar_key, password_hash, created_at, \
             updated_at) VALUES (?1, 'asha', 'asha@example.com', 'Asha', 'a', 'k', 'h', 1, 1)",
        )
        .bind(&owner)
        .execute(&pool)
        .await
        .unwrap();
        for (title, published) in [("out", 1), ("draft", 0), ("also out", 1)] {
            sqlx::query(
                "INSERT INTO videos (id, owner_id, video_file, video_key, thumbnail, thumbnail_key, title, \
                 description, is_published, created_at, updated_at) VALUES (?, ?, 'v', 'vk', 't', 'tk', ?, 'd', ?, 1, 1)",
            )
            .bind(Id::generate().to_hex())
            .bind(&owner)
            .bind(title)
            .bind(published)
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;

        let store = SqliteStore::open(&path).await.unwrap();
        let levels: Vec<(String, String)> =
            sqlx::query_as("SELECT title, visibility FROM videos ORDER BY title").fetch_all(&store.pool).await.unwrap();
        let expected = [("also out", "public"), ("draft", "private"), ("out", "public")];
        assert_eq!(levels, expected.map(|(t, l)| (t.to_owned(), l.to_owned())));
        let totals: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT owner_id, visibility, n FROM video_counts ORDER BY owner_id, visibility")
                .fetch_all(&store.pool)
                .await
                .unwrap();
        let expected =
            [("*", "private", 1), ("*", "public", 2), (owner.as_str(), "private", 1), (owner.as_str(), "public", 2)];
        assert_eq!(totals, expected.map(|(o, l, n)| (o.to_owned(), l.to_owned(), n)));
    }

    #[tokio::test]
    async fn trending_reads_the_hours_of_its_window_and_never_scans_the_videos() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("plan.db")).await.unwrap();
        let (page, count) = trending_sql();
        let binds = ["1000".to_owned(), "10".to_owned(), "0".to_owned()];
        for (sql, binds) in [(page, &binds[..]), (count, &binds[..1])] {
            let details = plan(&store, &sql, binds).await;
            assert!(details.iter().any(|d| d.starts_with("SEARCH h USING COVERING INDEX video_view_hours_hour")));
            let videos_by_id = details.iter().any(|d| d.starts_with("SEARCH v USING INDEX sqlite_autoindex_videos_1"));
            let scans_videos = details.iter().any(|d| d.starts_with("SCAN v") || d.starts_with("SCAN videos"));
            assert!(videos_by_id && !scans_videos, "{details:?}");
        }
    }

    #[tokio::test]
    async fn the_subscription_feed_reads_the_followed_channels_through_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("plan.db")).await.unwrap();
        let (page, count) = subscription_feed_sql();
        let subscriber = Id::generate().to_hex();
        let binds = [subscriber.clone(), "10".to_owned(), "0".to_owned()];
        let details = plan(&store, &page, &binds).await;
        // The materialised page of ids is the one thing scanned.
        let full_scan = |details: &[String]| {
            details.iter().any(|d| d.starts_with("SCAN") && !d.contains("INDEX") && d != "SCAN page")
        };
        assert!(!full_scan(&details), "{details:?}");
        assert!(details.iter().any(|d| d.contains("USING COVERING INDEX videos_owner_created")), "{details:?}");
        // Whole rows only for the page: the table is searched by id, never walked.
        let row_reads: Vec<_> = details.iter().filter(|d| d.contains(" v ")).collect();
        assert!(
            row_reads.iter().all(|d| d.contains("COVERING INDEX videos_owner_created") || d.contains("(id=?)")),
            "{details:?}"
        );
        let details = plan(&store, &count, &binds[..1]).await;
        assert!(!full_scan(&details), "{details:?}");
        assert!(!details.iter().any(|d| d.contains(" v ") || d.contains("videos")), "no video is read: {details:?}");
        assert!(details.iter().any(|d| d.contains("SEARCH c USING PRIMARY KEY")), "{details:?}");
    }
}
