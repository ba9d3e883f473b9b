//! MongoDB persistence of likes: one document per like, flipped under the unique (user, target) index.

use async_trait::async_trait;

use super::docs::{LikedVideoDoc, time};
use super::queries::likes as q;
use super::{MongoStore, backend, coll, id_of, oid};
use crate::domain::social::{LikeTarget, LikedVideoItem};
use crate::domain::{Id, Twin};
use crate::store::records::RecordKind;
use crate::store::{LikeRepo, StoreResult};
use bson::doc;

#[async_trait]
impl LikeRepo for MongoStore {
    async fn toggle(&self, user: Id, target: LikeTarget) -> StoreResult<bool> {
        self.counted_flip(RecordKind::Likes, q::like_of(oid(user), target)).await
    }

    async fn count(&self, target: LikeTarget) -> StoreResult<i64> {
        let (collection, id) = q::counted_in(target);
        let found = self
            .collection(collection)
            .find_one(doc! { "_id": id })
            .projection(doc! { "likes": 1 })
            .await
            .map_err(backend)?;
        Ok(found.map_or(0, |t| t.get_i64("likes").or_else(|_| t.get_i32("likes").map(i64::from)).unwrap_or(0)))
    }

    async fn is_liked(&self, user: Id, target: LikeTarget) -> StoreResult<bool> {
        Ok(MongoStore::count(self, coll::LIKES, q::like_of(oid(user), target)).await? > 0)
    }

    async fn liked_videos(&self, user: Id) -> StoreResult<Vec<LikedVideoItem>> {
        let likes = q::liked_videos(oid(user));
        let found: Vec<LikedVideoDoc> = self.aggregate_hinted(coll::LIKES, likes.pipeline, Some(likes.index)).await?;
        Ok(found
            .into_iter()
            .map(|like| LikedVideoItem {
                id: id_of(like.id),
                liked_by: user,
                video: Twin::new(like.video.into_video()),
                created_at: time(like.created_at),
                updated_at: time(like.updated_at),
            })
            .collect())
    }
}
