//! MongoDB persistence of the processing queue: single-document conditional updates, so exactly one
//! instance wins a claim and a job taken over (or deleted with its video) accepts no more writes.

use async_trait::async_trait;
use bson::Document;
use mongodb::options::ReturnDocument;

use super::queries::processing as q;
use super::{MongoStore, backend, coll, date, id_of, oid, retry_transient};
use crate::domain::video::VideoRecord;
use crate::domain::{Id, Timestamp};
use crate::store::{ProcessedVideo, ProcessingRepo, StoreResult};

#[async_trait]
impl ProcessingRepo for MongoStore {
    async fn claim(&self, holder: &str, now: Timestamp, until: Timestamp) -> StoreResult<Option<VideoRecord>> {
        let videos = self.collection(coll::VIDEOS);
        let claimed: Option<Document> = retry_transient(|| {
            videos
                .find_one_and_update(q::claimable(date(now)), q::claim(holder, date(until)))
                .sort(q::claim_order())
                .projection(bson::doc! { "_id": 1 })
                .return_document(ReturnDocument::After)
        })
        .await
        .map_err(backend)?;
        match claimed.and_then(|d| d.get_object_id("_id").ok()) {
            Some(id) => self.video_record(id_of(id)).await,
            None => Ok(None),
        }
    }

    async fn renew(&self, video: Id, holder: &str, progress: u8, until: Timestamp) -> StoreResult<bool> {
        let videos = self.collection(coll::VIDEOS);
        let result =
            retry_transient(|| videos.update_one(q::held(oid(video), holder), q::renew(progress, date(until))))
                .await
                .map_err(backend)?;
        Ok(result.matched_count > 0)
    }

    async fn finish(&self, video: Id, holder: &str, done: &ProcessedVideo) -> StoreResult<Option<VideoRecord>> {
        let videos = self.collection(coll::VIDEOS);
        let result = retry_transient(|| videos.update_one(q::held(oid(video), holder), q::finish(done)))
            .await
            .map_err(backend)?;
        if result.matched_count == 0 {
            return Ok(None);
        }
        self.video_record(video).await
    }

    async fn fail(&self, video: Id, holder: &str, error: &str) -> StoreResult<bool> {
        let videos = self.collection(coll::VIDEOS);
        let result = retry_transient(|| videos.update_one(q::held(oid(video), holder), q::fail(error)))
            .await
            .map_err(backend)?;
        Ok(result.matched_count > 0)
    }

    async fn release(&self, video: Id, holder: &str) -> StoreResult<bool> {
        let videos = self.collection(coll::VIDEOS);
        let result =
            retry_transient(|| videos.update_one(q::held(oid(video), holder), q::release())).await.map_err(backend)?;
        Ok(result.matched_count > 0)
    }
}
