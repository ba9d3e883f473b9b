//! SQLite persistence of likes (of videos, comments and tweets) and the liked-videos list.

use std::sync::LazyLock;

use async_trait::async_trait;

use super::rows::VideoRow;
use super::sql::{OWNER_OF_VIDEO, VIDEO_COLUMNS, visible_sql};
use super::{SqliteStore, parse_id, toggle_pair};
use crate::domain::social::{LikeTarget, LikedVideoItem};
use crate::domain::visibility::Place;
use crate::domain::{Id, Timestamp, Twin};
use crate::store::{LikeRepo, StoreResult};

/// The statements of one kind of like target, each over the target's column of `likes`.
struct TargetSql {
    /// Binds: user, target.
    unlike: &'static str,
    /// Binds: user, target, new id, now.
    like: &'static str,
    /// Binds: target.
    count: &'static str,
    /// Binds: user, target.
    liked: &'static str,
}

macro_rules! target_sql {
    ($column:literal) => {
        TargetSql {
            unlike: concat!("DELETE FROM likes WHERE liked_by = ?1 AND ", $column, " = ?2"),
            like: concat!(
                "INSERT INTO likes (id, liked_by, ",
                $column,
                ", created_at, updated_at) VALUES (?3, ?1, ?2, ?4, ?4)"
            ),
            count: concat!("SELECT COUNT(*) FROM likes WHERE ", $column, " = ?1"),
            liked: concat!("SELECT EXISTS (SELECT 1 FROM likes WHERE liked_by = ?1 AND ", $column, " = ?2)"),
        }
    };
}

static VIDEO_LIKES: TargetSql = target_sql!("video_id");
static COMMENT_LIKES: TargetSql = target_sql!("comment_id");
static TWEET_LIKES: TargetSql = target_sql!("tweet_id");

fn target_sql(target: LikeTarget) -> (&'static TargetSql, Id) {
    match target {
        LikeTarget::Video(id) => (&VIDEO_LIKES, id),
        LikeTarget::Comment(id) => (&COMMENT_LIKES, id),
        LikeTarget::Tweet(id) => (&TWEET_LIKES, id),
    }
}

/// The videos the user `?1` liked and may still see, most recent like first: each video, then
/// the like's id and times.
static LIKED_VIDEOS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {VIDEO_COLUMNS}, l.id, l.created_at, l.updated_at FROM videos v {OWNER_OF_VIDEO} \
         JOIN likes l ON l.video_id = v.id WHERE l.liked_by = ?1 AND {} ORDER BY l.created_at DESC, l.id DESC",
        visible_sql("v", Place::ByLink, Some("?1"))
    )
});

#[async_trait]
impl LikeRepo for SqliteStore {
    async fn toggle(&self, user: Id, target: LikeTarget) -> StoreResult<bool> {
        let (sql, id) = target_sql(target);
        self.writes.transaction(move |tx| toggle_pair(tx, sql.unlike, sql.like, user, id)).await
    }

    async fn count(&self, target: LikeTarget) -> StoreResult<i64> {
        // Through the target's index, as the watch page counts a video's likes.
        let (sql, id) = target_sql(target);
        self.reads.read(|db| db.prepare_cached(sql.count)?.query_row([id.to_hex()], |row| row.get(0)))
    }

    async fn is_liked(&self, user: Id, target: LikeTarget) -> StoreResult<bool> {
        let (sql, id) = target_sql(target);
        self.reads.read(|db| db.prepare_cached(sql.liked)?.query_row((user.to_hex(), id.to_hex()), |row| row.get(0)))
    }

    async fn liked_videos(&self, user: Id) -> StoreResult<Vec<LikedVideoItem>> {
        let rows = self
            .reads
            .read_off_thread(move |db| {
                let mut liked = db.prepare_cached(&LIKED_VIDEOS)?;
                let rows = liked.query_map([user.to_hex()], |row| {
                    let like = VideoRow::WIDTH;
                    let id: String = row.get(like)?;
                    Ok((VideoRow::read(row)?, id, row.get::<_, i64>(like + 1)?, row.get::<_, i64>(like + 2)?))
                })?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
            })
            .await?;
        rows.into_iter()
            .map(|(video, id, created_at, updated_at)| {
                Ok(LikedVideoItem {
                    id: parse_id(&id)?,
                    liked_by: user,
                    video: Twin::new(video.into_video()?),
                    created_at: Timestamp(created_at),
                    updated_at: Timestamp(updated_at),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::sql::VIDEO_COLUMN_NAMES;
    use crate::store::sqlite::{column_names, test_store};

    #[tokio::test]
    async fn liked_video_rows_read_the_video_then_the_like() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        let names = column_names(&store, &LIKED_VIDEOS);
        assert_eq!(names[..VideoRow::WIDTH], VIDEO_COLUMN_NAMES);
        assert_eq!(names[VideoRow::WIDTH..], ["id", "created_at", "updated_at"]);
    }
}
