//! MongoDB persistence of creator blocks. Each step is idempotent, so a retry after a failure
//! part-way finishes the job.

use async_trait::async_trait;
use bson::doc;
use bson::oid::ObjectId;
use futures_util::TryStreamExt;

use super::docs::OwnerDoc;
use super::queries::blocks as q;
use super::queries::notifications::Touched;
use super::{MongoStore, backend, coll, conflict_on, is_conflict, now, oid};
use crate::domain::Id;
use crate::domain::user::OwnerSummary;
use crate::store::{BlockRepo, StoreResult};

impl MongoStore {
    /// The ids of the owner's videos.
    async fn video_ids_of(&self, owner: ObjectId) -> StoreResult<Vec<ObjectId>> {
        let cursor = self
            .collection(coll::VIDEOS)
            .find(doc! { "owner": owner })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(backend)?;
        let found: Vec<bson::Document> = cursor.try_collect().await.map_err(backend)?;
        Ok(found.iter().filter_map(|v| v.get_object_id("_id").ok()).collect())
    }

    /// Hides (or shows again) the comments of `blocked` on the videos of `blocker`.
    pub(super) async fn set_comments_hidden(
        &self,
        blocker: ObjectId,
        blocked: ObjectId,
        show: bool,
    ) -> StoreResult<()> {
        let videos = self.video_ids_of(blocker).await?;
        if videos.is_empty() {
            return Ok(());
        }
        let (filter, update) = q::comments_on(blocked, &videos, show);
        self.collection(coll::COMMENTS).update_many(filter, update).await.map_err(backend)?;
        self.settle_comments(doc! { "owner": blocked, "video": { "$in": videos } }).await
    }
}

#[async_trait]
impl BlockRepo for MongoStore {
    async fn block(&self, blocker: Id, blocked: Id) -> StoreResult<()> {
        let (blocker, blocked) = (oid(blocker), oid(blocked));
        let mut block = doc! { "_id": ObjectId::new() };
        block.extend(q::block_fields(blocker, blocked, now()));
        if let Err(e) = self.collection(coll::BLOCKS).insert_one(block).await.map_err(conflict_on("block"))
            && !is_conflict(&e)
        {
            return Err(e);
        }
        self.collection(coll::SUBSCRIPTIONS).delete_one(q::subscription(blocker, blocked)).await.map_err(backend)?;
        self.set_comments_hidden(blocker, blocked, false).await?;
        self.refresh_notifications(Touched::Actor(blocked)).await
    }

    async fn unblock(&self, blocker: Id, blocked: Id, blocked_suspended: bool) -> StoreResult<()> {
        let (blocker, blocked) = (oid(blocker), oid(blocked));
        self.collection(coll::BLOCKS).delete_one(q::pair(blocker, blocked)).await.map_err(backend)?;
        if !blocked_suspended {
            self.set_comments_hidden(blocker, blocked, true).await?;
        }
        self.refresh_notifications(Touched::Actor(blocked)).await
    }

    async fn is_blocked(&self, blocker: Id, blocked: Id) -> StoreResult<bool> {
        Ok(self.count(coll::BLOCKS, q::pair(oid(blocker), oid(blocked))).await? > 0)
    }

    async fn blocked_by(&self, blocker: Id) -> StoreResult<Vec<OwnerSummary>> {
        let users: Vec<OwnerDoc> = self.aggregate_as(coll::BLOCKS, q::blocked_by(oid(blocker))).await?;
        Ok(users.into_iter().map(OwnerDoc::into_summary).collect())
    }
}
