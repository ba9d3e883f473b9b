//! MongoDB persistence of watch histories, kept inside the user document (`watchHistory` and, aligned
//! with it, `watchHistoryAt`); watching writes them through `VideoRepo::record_watch`.

use async_trait::async_trait;
use bson::Document;
use bson::oid::ObjectId;

use super::docs::{VideoDoc, time};
use super::queries::by_id;
use super::queries::history as q;
use super::users::standing_of;
use super::videos::in_order;
use super::{MongoStore, backend, coll, decode, id_of, now, oid, retry_transient};
use crate::domain::Id;
use crate::domain::user::Standing;
use crate::domain::video::WatchedVideo;
use crate::store::{HistoryRepo, StoreResult};

#[async_trait]
impl HistoryRepo for MongoStore {
    async fn watch_history(&self, user: Id) -> StoreResult<Vec<WatchedVideo>> {
        Ok(self.standing_and_history(user).await?.map(|(_, videos)| videos).unwrap_or_default())
    }

    async fn standing_and_history(&self, user: Id) -> StoreResult<Option<(Standing, Vec<WatchedVideo>)>> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct History {
            #[serde(default)]
            watch_history: Vec<ObjectId>,
            #[serde(default)]
            watch_history_at: Vec<Option<bson::DateTime>>,
            videos: Vec<Document>,
            owners: Vec<Document>,
            /// The standing's fields (`queries::users::standing_fields`).
            #[serde(flatten)]
            standing: Document,
        }
        // One round trip: the user's document (its standing and history) with the videos joined.
        let found: Vec<History> = self.aggregate_as(coll::USERS, q::watch_history(oid(user))).await?;
        let Some(history) = found.into_iter().next() else {
            return Ok(None);
        };
        let standing = standing_of(user, &history.standing);
        let watched_at = |video: Id| {
            let index = history.watch_history.iter().position(|id| id_of(*id) == video)?;
            history.watch_history_at.get(index).copied().flatten().map(time)
        };
        // Each video with its owner's summary, as the feeds' owner join leaves it.
        let owner_of = |video: &Document| {
            let owner = video.get_object_id("owner").ok()?;
            history.owners.iter().find(|o| o.get_object_id("_id").is_ok_and(|id| id == owner)).cloned()
        };
        let mut joined = Vec::with_capacity(history.videos.len());
        for mut video in history.videos {
            if let Some(owner) = owner_of(&video) {
                video.insert("owner", owner);
                joined.push(decode::<VideoDoc>(video)?);
            }
        }
        let videos = in_order(&history.watch_history, joined);
        let videos = videos.into_iter().map(|video| WatchedVideo { watched_at: watched_at(video.id), video }).collect();
        Ok(Some((standing, videos)))
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
