//! MongoDB persistence of watch histories, kept inside the user document (`watchHistory` and, aligned
//! with it, `watchHistoryAt`); watching writes them through `VideoRepo::record_watch`.

use async_trait::async_trait;
use bson::oid::ObjectId;

use super::docs::{VideoDoc, time};
use super::queries::by_id;
use super::queries::history as q;
use super::videos::in_order;
use super::{MongoStore, backend, coll, id_of, now, oid, retry_transient};
use crate::domain::Id;
use crate::domain::video::WatchedVideo;
use crate::store::{HistoryRepo, StoreResult};

#[async_trait]
impl HistoryRepo for MongoStore {
    async fn watch_history(&self, user: Id) -> StoreResult<Vec<WatchedVideo>> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct History {
            #[serde(default)]
            watch_history: Vec<ObjectId>,
            #[serde(default)]
            watch_history_at: Vec<Option<bson::DateTime>>,
            videos: Vec<VideoDoc>,
        }
        let found: Vec<History> = self.aggregate_as(coll::USERS, q::watch_history(oid(user))).await?;
        let Some(history) = found.into_iter().next() else {
            return Ok(Vec::new());
        };
        let watched_at = |video: Id| {
            let index = history.watch_history.iter().position(|id| id_of(*id) == video)?;
            history.watch_history_at.get(index).copied().flatten().map(time)
        };
        let videos = in_order(&history.watch_history, history.videos);
        Ok(videos.into_iter().map(|video| WatchedVideo { watched_at: watched_at(video.id), video }).collect())
    }

    async fn clear_history(&self, user: Id) -> StoreResult<()> {
        let users = self.collection(coll::USERS);
        retry_transient(|| users.update_one(by_id(oid(user)), q::clear_history())).await.map_err(backend)?;
        Ok(())
    }

    async fn forget_watch(&self, user: Id, video: Id) -> StoreResult<()> {
        let users = self.collection(coll::USERS);
        let update = q::forget_watches(&[oid(video)]);
        retry_transient(|| users.update_one(by_id(oid(user)), update.clone())).await.map_err(backend)?;
        Ok(())
    }

    async fn set_history_paused(&self, id: Id, paused: bool) -> StoreResult<bool> {
        let result = self
            .collection(coll::USERS)
            .update_one(by_id(oid(id)), q::history_paused(paused, now()))
            .await
            .map_err(backend)?;
        Ok(result.matched_count > 0)
    }
}
