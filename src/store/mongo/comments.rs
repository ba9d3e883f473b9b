//! MongoDB persistence of comments, each with its author and like facts when read.

use async_trait::async_trait;

use super::docs::PostDoc;
use super::queries::comments as q;
use super::queries::{by_id, content_update, post_removal};
use super::{MongoStore, backend, coll, id_of, now, oid};
use crate::domain::Id;
use crate::domain::social::Comment;
use crate::store::records::RecordKind;
use crate::store::{CommentRef, CommentRepo, StoreResult};

#[async_trait]
impl CommentRepo for MongoStore {
    async fn insert(&self, video: Id, owner: Id, content: &str) -> StoreResult<Id> {
        self.insert_record(coll::COMMENTS, q::new_comment(oid(video), oid(owner), content)).await
    }

    async fn get_ref(&self, id: Id) -> StoreResult<Option<CommentRef>> {
        let found = self.collection(coll::COMMENTS).find_one(by_id(oid(id))).await.map_err(backend)?;
        Ok(found.and_then(|c| {
            Some(CommentRef {
                id,
                video: id_of(c.get_object_id("video").ok()?),
                owner: id_of(c.get_object_id("owner").ok()?),
                hidden: c.get_bool("hidden").unwrap_or(false),
            })
        }))
    }

    async fn get(&self, id: Id, viewer: Option<Id>) -> StoreResult<Option<Comment>> {
        let found: Vec<PostDoc> = self.aggregate_as(coll::COMMENTS, q::comment(oid(id), viewer.map(oid))).await?;
        Ok(found.into_iter().next().and_then(PostDoc::into_comment))
    }

    async fn list(&self, video: Id, viewer: Option<Id>, offset: u64, limit: u32) -> StoreResult<(Vec<Comment>, u64)> {
        let pipeline = q::comment_page(oid(video), viewer.map(oid), offset, limit);
        let (page, total) = tokio::try_join!(
            self.aggregate_as::<PostDoc>(coll::COMMENTS, pipeline),
            MongoStore::count(self, coll::COMMENTS, q::seen_on_video(oid(video), viewer.map(oid))),
        )?;
        Ok((page.into_iter().filter_map(PostDoc::into_comment).collect(), total))
    }

    async fn update(&self, id: Id, content: &str) -> StoreResult<bool> {
        self.update_record(coll::COMMENTS, id, content_update(content, now())).await
    }

    async fn delete(&self, id: Id) -> StoreResult<bool> {
        self.delete_one_with(RecordKind::Comments, oid(id)).await
    }

    async fn set_removal(&self, id: Id, reason: Option<String>, owner_suspended: bool) -> StoreResult<bool> {
        let removal = post_removal(reason.as_deref(), owner_suspended);
        let result = self.collection(coll::COMMENTS).update_one(by_id(oid(id)), removal).await.map_err(backend)?;
        Ok(result.matched_count > 0)
    }
}
