//! SQLite persistence of the processing queue: the job is a few columns of its video, claimed by
//! one conditional UPDATE under SQLite's write lock.

use async_trait::async_trait;

use super::{SqliteStore, backend};
use crate::domain::video::VideoRecord;
use crate::domain::{Id, Timestamp};
use crate::store::{ProcessedVideo, ProcessingRepo, StoreResult};

/// A job that may be claimed: queued, or held by an instance whose lease ran out (`?3` = now).
const CLAIMABLE: &str = "(processing_status = 'queued' OR (processing_status = 'processing' AND lease_until < ?3))";

/// The claim (binds: holder, lease end, now): the oldest claimable job, taken if it still is. The
/// `IN` lets the queue index bound the search to queued and processing videos: with `CLAIMABLE`'s
/// `OR` alone the planner walked the whole table, every poll (1M videos: about 40k page reads a
/// second from an idle server).
fn claim_sql() -> String {
    format!(
        "UPDATE videos SET processing_status = 'processing', lease_holder = ?1, lease_until = ?2 \
         WHERE id = (SELECT id FROM videos WHERE processing_status IN ('queued', 'processing') AND {CLAIMABLE} \
                     ORDER BY created_at, id LIMIT 1) AND {CLAIMABLE} \
         RETURNING id"
    )
}

#[async_trait]
impl ProcessingRepo for SqliteStore {
    async fn claim(&self, holder: &str, now: Timestamp, until: Timestamp) -> StoreResult<Option<VideoRecord>> {
        let claimed: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(claim_sql()))
            .bind(holder)
            .bind(until.millis())
            .bind(now.millis())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        match claimed {
            Some(id) => self.video_record(super::parse_id(&id)?).await,
            None => Ok(None),
        }
    }

    async fn renew(&self, video: Id, holder: &str, progress: u8, until: Timestamp) -> StoreResult<bool> {
        let renewed = sqlx::query(
            "UPDATE videos SET processing_progress = MAX(processing_progress, ?1), lease_until = ?2 \
             WHERE id = ?3 AND lease_holder = ?4 AND processing_status = 'processing'",
        )
        .bind(i64::from(progress))
        .bind(until.millis())
        .bind(video.to_hex())
        .bind(holder)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(renewed.rows_affected() > 0)
    }

    async fn finish(&self, video: Id, holder: &str, done: &ProcessedVideo) -> StoreResult<Option<VideoRecord>> {
        let (file, file_key) = done.video_file.as_ref().map(|m| (&m.url, &m.key)).unzip();
        let (thumbnail, thumbnail_key) = done.thumbnail.as_ref().map(|m| (&m.url, &m.key)).unzip();
        // SET expressions read the row as it was, so both thumbnail columns test the old key.
        let finished = sqlx::query(
            "UPDATE videos SET processing_status = 'ready', processing_progress = 100, processing_error = NULL, \
             lease_holder = NULL, lease_until = NULL, duration = ?1, width = ?2, height = ?3, \
             video_file = COALESCE(?4, video_file), video_key = COALESCE(?5, video_key), \
             thumbnail = CASE WHEN thumbnail_key = '' THEN COALESCE(?6, thumbnail) ELSE thumbnail END, \
             thumbnail_key = CASE WHEN thumbnail_key = '' THEN COALESCE(?7, thumbnail_key) ELSE thumbnail_key END, \
             hls_url = ?8, hls_key = ?9 \
             WHERE id = ?10 AND lease_holder = ?11 AND processing_status = 'processing'",
        )
        .bind(done.duration)
        .bind(done.width)
        .bind(done.height)
        .bind(file)
        .bind(file_key)
        .bind(thumbnail)
        .bind(thumbnail_key)
        .bind(&done.hls.url)
        .bind(&done.hls.key)
        .bind(video.to_hex())
        .bind(holder)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        if finished.rows_affected() == 0 {
            return Ok(None);
        }
        self.video_record(video).await
    }

    async fn fail(&self, video: Id, holder: &str, error: &str) -> StoreResult<bool> {
        let failed = sqlx::query(
            "UPDATE videos SET processing_status = 'failed', processing_error = ?1, lease_holder = NULL, \
             lease_until = NULL WHERE id = ?2 AND lease_holder = ?3 AND processing_status = 'processing'",
        )
        .bind(error)
        .bind(video.to_hex())
        .bind(holder)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(failed.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_claim_reads_the_queue_through_its_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("plan.db")).await.unwrap();
        let details = super::super::query_plan(&store, &claim_sql(), &["holder", "2", "1"]).await;
        assert!(details.iter().all(|d| !d.starts_with("SCAN")), "{details:?}");
        assert!(details.iter().any(|d| d.contains("USING INDEX videos_processing_queue")), "{details:?}");
    }
}
