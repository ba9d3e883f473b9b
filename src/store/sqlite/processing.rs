//! SQLite persistence of the processing queue: the job is a few columns of its video, claimed by
//! one conditional UPDATE under SQLite's write lock.

use std::sync::LazyLock;

use async_trait::async_trait;
use rusqlite::OptionalExtension;

use super::{SqliteStore, parse_id};
use crate::domain::video::VideoRecord;
use crate::domain::{Id, Timestamp};
use crate::store::{ProcessedVideo, ProcessingRepo, StoreResult};

/// A job that may be claimed: queued, or held by an instance whose lease ran out (`?3` = now).
const CLAIMABLE: &str = "(processing_status = 'queued' OR (processing_status = 'processing' AND lease_until < ?3))";

/// The claim (binds: holder, lease end, now): the oldest claimable job, taken if it still is. The
/// `IN` lets the queue index bound the search to queued and processing videos: with `CLAIMABLE`'s
/// `OR` alone the planner walked the whole table, every poll (1M videos: about 40k page reads a
/// second from an idle server).
static CLAIM: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE videos SET processing_status = 'processing', lease_holder = ?1, lease_until = ?2 \
         WHERE id = (SELECT id FROM videos WHERE processing_status IN ('queued', 'processing') AND {CLAIMABLE} \
                     ORDER BY created_at, id LIMIT 1) AND {CLAIMABLE} \
         RETURNING id"
    )
});

#[async_trait]
impl ProcessingRepo for SqliteStore {
    async fn claim(&self, holder: &str, now: Timestamp, until: Timestamp) -> StoreResult<Option<VideoRecord>> {
        let holder = holder.to_owned();
        let claimed: Option<String> = self
            .writes
            .write(move |db| {
                db.prepare_cached(&CLAIM)?
                    .query_row((holder, until.millis(), now.millis()), |row| row.get(0))
                    .optional()
            })
            .await?;
        match claimed {
            Some(id) => self.video_record(parse_id(&id)?),
            None => Ok(None),
        }
    }

    async fn renew(&self, video: Id, holder: &str, progress: u8, until: Timestamp) -> StoreResult<bool> {
        let holder = holder.to_owned();
        let renewed = self
            .writes
            .write(move |db| {
                db.prepare_cached(
                    "UPDATE videos SET processing_progress = MAX(processing_progress, ?1), lease_until = ?2 \
                     WHERE id = ?3 AND lease_holder = ?4 AND processing_status = 'processing'",
                )?
                .execute((i64::from(progress), until.millis(), video.to_hex(), holder))
            })
            .await?;
        Ok(renewed > 0)
    }

    async fn finish(&self, video: Id, holder: &str, done: &ProcessedVideo) -> StoreResult<Option<VideoRecord>> {
        let (file, file_key) = done.video_file.clone().map(|m| (m.url, m.key)).unzip();
        let (thumbnail, thumbnail_key) = done.thumbnail.clone().map(|m| (m.url, m.key)).unzip();
        let (duration, width, height) = (done.duration, done.width, done.height);
        let (hls_url, hls_key) = (done.hls.url.clone(), done.hls.key.clone());
        let holder = holder.to_owned();
        // SET expressions read the row as it was, so both thumbnail columns test the old key.
        let finished = self
            .writes
            .write(move |db| {
                db.prepare_cached(
                    "UPDATE videos SET processing_status = 'ready', processing_progress = 100, \
                     processing_error = NULL, lease_holder = NULL, lease_until = NULL, duration = ?1, width = ?2, \
                     height = ?3, video_file = COALESCE(?4, video_file), video_key = COALESCE(?5, video_key), \
                     thumbnail = CASE WHEN thumbnail_key = '' THEN COALESCE(?6, thumbnail) ELSE thumbnail END, \
                     thumbnail_key = CASE WHEN thumbnail_key = '' THEN COALESCE(?7, thumbnail_key) \
                                          ELSE thumbnail_key END, \
                     hls_url = ?8, hls_key = ?9 \
                     WHERE id = ?10 AND lease_holder = ?11 AND processing_status = 'processing'",
                )?
                .execute(rusqlite::params![
                    duration,
                    width,
                    height,
                    file,
                    file_key,
                    thumbnail,
                    thumbnail_key,
                    hls_url,
                    hls_key,
                    video.to_hex(),
                    holder,
                ])
            })
            .await?;
        if finished == 0 {
            return Ok(None);
        }
        self.video_record(video)
    }

    async fn fail(&self, video: Id, holder: &str, error: &str) -> StoreResult<bool> {
        let (holder, error) = (holder.to_owned(), error.to_owned());
        let failed = self
            .writes
            .write(move |db| {
                db.prepare_cached(
                    "UPDATE videos SET processing_status = 'failed', processing_error = ?1, lease_holder = NULL, \
                     lease_until = NULL WHERE id = ?2 AND lease_holder = ?3 AND processing_status = 'processing'",
                )?
                .execute((error, video.to_hex(), holder))
            })
            .await?;
        Ok(failed > 0)
    }

    async fn release(&self, video: Id, holder: &str) -> StoreResult<bool> {
        let holder = holder.to_owned();
        let released = self
            .writes
            .write(move |db| {
                db.prepare_cached(
                    "UPDATE videos SET processing_status = 'queued', lease_holder = NULL, lease_until = NULL \
                     WHERE id = ?1 AND lease_holder = ?2 AND processing_status = 'processing'",
                )?
                .execute((video.to_hex(), holder))
            })
            .await?;
        Ok(released > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_claim_reads_the_queue_through_its_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::sqlite::test_store(&dir).await;
        let details = crate::store::sqlite::query_plan(&store, &CLAIM, &["holder", "2", "1"]);
        assert!(details.iter().all(|d| !d.starts_with("SCAN")), "{details:?}");
        assert!(details.iter().any(|d| d.contains("USING INDEX videos_processing_queue")), "{details:?}");
    }
}
