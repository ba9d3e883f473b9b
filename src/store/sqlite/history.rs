//! SQLite persistence of watch histories: the list, clearing it, forgetting one entry, pausing.
//! The entries themselves are written with the views, in batches (`watches.rs`).

use std::sync::LazyLock;

use async_trait::async_trait;

use super::rows::VideoRow;
use super::sql::{OWNER_OF_VIDEO, VIDEO_COLUMNS, visible_sql};
use super::{SqliteStore, now};
use crate::domain::Id;
use crate::domain::Timestamp;
use crate::domain::user::Standing;
use crate::domain::video::WatchedVideo;
use crate::domain::visibility::Place;
use crate::store::{HistoryRepo, StoreResult, UserRepo};

/// The user `?1`'s history, newest first: each video the user may still see, then when it was
/// watched.
static HISTORY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {VIDEO_COLUMNS}, h.watched_at FROM videos v {OWNER_OF_VIDEO} \
         JOIN watch_history h ON h.video_id = v.id WHERE h.user_id = ?1 AND {} ORDER BY h.seq DESC",
        visible_sql("v", Place::ByLink, Some("?1"))
    )
});

#[async_trait]
impl HistoryRepo for SqliteStore {
    async fn watch_history(&self, user: Id) -> StoreResult<Vec<WatchedVideo>> {
        let rows = self
            .reads
            .read_off_thread(move |db| {
                let mut history = db.prepare_cached(&HISTORY)?;
                let rows = history.query_map([user.to_hex()], |row| {
                    Ok((VideoRow::read(row)?, row.get::<_, Option<i64>>(VideoRow::WIDTH)?))
                })?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
            })
            .await?;
        rows.into_iter()
            .map(|(video, watched_at)| {
                Ok(WatchedVideo { video: video.into_video()?, watched_at: watched_at.map(Timestamp) })
            })
            .collect()
    }

    async fn standing_and_history(&self, user: Id) -> StoreResult<Option<(Standing, Vec<WatchedVideo>)>> {
        // Two reads of the same file: nothing to gain from joining them here.
        let Some(standing) = self.identity(user).await? else {
            return Ok(None);
        };
        Ok(Some((standing, self.watch_history(user).await?)))
    }

    async fn clear_history(&self, user: Id) -> StoreResult<()> {
        self.writes
            .write(move |db| {
                db.prepare_cached("DELETE FROM watch_history WHERE user_id = ?1")?.execute([user.to_hex()])
            })
            .await?;
        Ok(())
    }

    async fn forget_watch(&self, user: Id, video: Id) -> StoreResult<()> {
        self.writes
            .write(move |db| {
                db.prepare_cached("DELETE FROM watch_history WHERE user_id = ?1 AND video_id = ?2")?
                    .execute((user.to_hex(), video.to_hex()))
            })
            .await?;
        Ok(())
    }

    async fn set_history_paused(&self, id: Id, paused: bool) -> StoreResult<bool> {
        let changed = self
            .writes
            .write(move |db| {
                db.prepare_cached("UPDATE users SET history_paused = ?1, updated_at = ?2 WHERE id = ?3")?.execute((
                    paused,
                    now(),
                    id.to_hex(),
                ))
            })
            .await?;
        Ok(changed > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::sql::VIDEO_COLUMN_NAMES;
    use crate::store::sqlite::{column_names, query_plan, test_store};

    #[tokio::test]
    async fn history_rows_read_the_video_then_when_it_was_watched() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        let names = column_names(&store, &HISTORY);
        assert_eq!(names[..VideoRow::WIDTH], VIDEO_COLUMN_NAMES);
        assert_eq!(names[VideoRow::WIDTH..], ["watched_at"]);
        let plan = query_plan(&store, &HISTORY, &["u"]);
        assert!(plan.iter().any(|d| d.starts_with("SEARCH h USING INDEX watch_history_order")), "{plan:?}");
    }
}
