//! SQLite reads of a channel's dashboard: its videos with their like counts, and its totals.

use async_trait::async_trait;

use super::SqliteStore;
use super::rows::VideoRow;
use super::sql::{owner_of_video, video_columns};
use crate::domain::Id;
use crate::domain::social::ChannelStats;
use crate::domain::video::Video;
use crate::store::{DashboardRepo, StoreResult};

/// Every video of the owner `?1`, newest first, each with its like count after the video.
const DASHBOARD_VIDEOS: &str = concat!(
    "SELECT ",
    video_columns!(),
    ", (SELECT COUNT(*) FROM likes l WHERE l.video_id = v.id) AS likes_count FROM videos v ",
    owner_of_video!(),
    " WHERE v.owner_id = ?1 ORDER BY v.created_at DESC, v.id DESC"
);

/// The totals of the owner `?1`, in the order `channel_stats` reads them.
const CHANNEL_STATS: &str = "SELECT (SELECT COUNT(*) FROM videos WHERE owner_id = ?1) AS total_videos, \
     (SELECT COALESCE(SUM(views), 0) FROM videos WHERE owner_id = ?1) AS total_views, \
     COALESCE((SELECT subscribers FROM subscription_counts WHERE user_id = ?1), 0) AS total_subscribers, \
     (SELECT COUNT(*) FROM likes l JOIN videos v ON v.id = l.video_id WHERE v.owner_id = ?1) AS total_likes";

#[async_trait]
impl DashboardRepo for SqliteStore {
    async fn dashboard_videos(&self, owner: Id) -> StoreResult<Vec<Video>> {
        let rows = self
            .reads
            .read_off_thread(move |db| {
                let mut videos = db.prepare_cached(DASHBOARD_VIDEOS)?;
                let rows = videos.query_map([owner.to_hex()], |row| {
                    Ok((VideoRow::read(row)?, row.get::<_, i64>(VideoRow::WIDTH)?))
                })?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
            })
            .await?;
        rows.into_iter()
            .map(|(row, likes)| {
                let mut video = row.into_video()?;
                video.likes_count = Some(likes);
                Ok(video)
            })
            .collect()
    }

    async fn channel_stats(&self, owner: Id) -> StoreResult<ChannelStats> {
        self.reads
            .read_off_thread(move |db| {
                db.prepare_cached(CHANNEL_STATS)?.query_row([owner.to_hex()], |row| {
                    Ok(ChannelStats {
                        total_videos: row.get(0)?,
                        total_views: row.get(1)?,
                        total_subscribers: row.get(2)?,
                        total_likes: row.get(3)?,
                    })
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::sql::VIDEO_COLUMN_NAMES;
    use crate::store::sqlite::{column_names, test_store};

    #[tokio::test]
    async fn dashboard_rows_read_the_video_then_its_likes() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        let names = column_names(&store, DASHBOARD_VIDEOS);
        assert_eq!(names[..VideoRow::WIDTH], VIDEO_COLUMN_NAMES);
        assert_eq!(names[VideoRow::WIDTH..], ["likes_count"]);
        let totals = ["total_videos", "total_views", "total_subscribers", "total_likes"];
        assert_eq!(column_names(&store, CHANNEL_STATS), totals);
    }
}
