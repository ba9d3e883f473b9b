//! MongoDB persistence of comments, each with its author, like facts and place in its thread when
//! read. A video's pin is a field of the video's document (`pinnedComment`): pinning another comment
//! replaces it in one atomic update.

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{Document, doc};

use super::docs::PostDoc;
use super::queries::comments as q;
use super::queries::counters::{self, Count, Holder};
use super::queries::notifications::Touched;
use super::queries::{by_id, content_update, post_removal};
use super::{MongoStore, backend, coll, collection, id_of, now, oid, retry_transient};
use crate::domain::Id;
use crate::domain::social::{Comment, CommentSort};
use crate::store::records::RecordKind;
use crate::store::{CommentRef, CommentRepo, NewReply, StoreError, StoreResult};

/// How many times a heart toggle is tried while concurrent toggles keep flipping it first.
const HEART_ATTEMPTS: u32 = 16;

impl MongoStore {
    /// The comments a pipeline finds; a page names the index it reads (`queries::Hinted`).
    async fn comments_of(&self, pipeline: Vec<Document>, hint: Option<&str>) -> StoreResult<Vec<Comment>> {
        let found: Vec<PostDoc> = self.aggregate_hinted(coll::COMMENTS, pipeline, hint).await?;
        Ok(found.into_iter().filter_map(PostDoc::into_comment).collect())
    }

    /// The kept `count` of the holder `id` plus, for a viewer, the viewer's own hidden comments
    /// among `own_hidden` (which only they see).
    async fn seen_total(&self, count: &Count, id: ObjectId, own_hidden: Option<Document>) -> StoreResult<u64> {
        let Holder::Record { kind, .. } = count.holder else { return Ok(0) };
        let holders = self.collection(collection(kind));
        let holder = async { holders.find_one(by_id(id)).projection(doc! { count.field: 1 }).await.map_err(backend) };
        let own = async {
            match own_hidden {
                Some(filter) => MongoStore::count(self, coll::COMMENTS, filter).await,
                None => Ok(0),
            }
        };
        let (holder, own) = tokio::try_join!(holder, own)?;
        let kept = holder.and_then(|h| counters::stored(&h, count, None)).unwrap_or(0);
        Ok(kept.max(0) as u64 + own)
    }
}

#[async_trait]
impl CommentRepo for MongoStore {
    async fn insert(&self, video: Id, owner: Id, content: &str, reply: Option<NewReply>) -> StoreResult<Id> {
        let reply = reply.map(|r| (oid(r.thread), oid(r.reply_to)));
        let fields = q::new_comment(oid(video), oid(owner), content, reply);
        let id = self.insert_record(coll::COMMENTS, fields.clone()).await?;
        self.apply(counters::bumps_of(RecordKind::Comments, &fields, None, 1)).await?;
        Ok(id)
    }

    async fn get_ref(&self, id: Id) -> StoreResult<Option<CommentRef>> {
        let found = self.collection(coll::COMMENTS).find_one(by_id(oid(id))).await.map_err(backend)?;
        Ok(found.and_then(|c| {
            Some(CommentRef {
                id,
                video: id_of(c.get_object_id("video").ok()?),
                owner: id_of(c.get_object_id("owner").ok()?),
                hidden: c.get_bool("hidden").unwrap_or(false),
                parent: c.get_object_id("parent").ok().map(id_of),
            })
        }))
    }

    async fn get(&self, id: Id, viewer: Option<Id>) -> StoreResult<Option<Comment>> {
        Ok(self.comments_of(q::comment(oid(id), viewer.map(oid)), None).await?.into_iter().next())
    }

    async fn list(
        &self,
        video: Id,
        viewer: Option<Id>,
        sort: CommentSort,
        skip: Option<Id>,
        offset: u64,
        limit: u32,
    ) -> StoreResult<(Vec<Comment>, u64)> {
        let (video, viewer) = (oid(video), viewer.map(oid));
        let page = q::comment_page(video, viewer, sort, skip.map(oid), offset, limit);
        let own = viewer.map(|viewer| q::own_hidden_on_video(video, viewer));
        tokio::try_join!(
            self.comments_of(page.pipeline, Some(page.index)),
            self.seen_total(&counters::counts(RecordKind::Comments)[0], video, own)
        )
    }

    async fn replies(
        &self,
        thread: Id,
        viewer: Option<Id>,
        offset: u64,
        limit: u32,
    ) -> StoreResult<(Vec<Comment>, u64)> {
        let (thread, viewer) = (oid(thread), viewer.map(oid));
        let own = viewer.map(|viewer| q::own_hidden_in_thread(thread, viewer));
        let page = q::reply_page(thread, viewer, offset, limit);
        tokio::try_join!(
            self.comments_of(page.pipeline, Some(page.index)),
            self.seen_total(&counters::counts(RecordKind::Comments)[1], thread, own)
        )
    }

    async fn pinned(&self, video: Id, viewer: Option<Id>) -> StoreResult<Option<Comment>> {
        let found = self
            .collection(coll::VIDEOS)
            .find_one(by_id(oid(video)))
            .projection(bson::doc! { "pinnedComment": 1 })
            .await
            .map_err(backend)?;
        let Some(pin) = found.and_then(|v| v.get_object_id("pinnedComment").ok()) else { return Ok(None) };
        Ok(self.comments_of(q::pinned(oid(video), pin, viewer.map(oid)), None).await?.into_iter().next())
    }

    async fn set_pinned(&self, video: Id, id: Id, pinned: bool) -> StoreResult<()> {
        let videos = self.collection(coll::VIDEOS);
        let (filter, update) = q::pin(oid(video), oid(id), pinned);
        retry_transient(|| videos.update_one(filter.clone(), update.clone())).await.map_err(backend)?;
        Ok(())
    }

    async fn toggle_heart(&self, id: Id) -> StoreResult<bool> {
        let comments = self.collection(coll::COMMENTS);
        for _ in 0..HEART_ATTEMPTS {
            // Each attempt flips from the state it names; one of the two matches unless a concurrent
            // toggle flipped in between, and then the next attempt goes on from the new state.
            for hearted in [false, true] {
                let (filter, update) = q::heart_flip(oid(id), hearted);
                let flipped =
                    retry_transient(|| comments.update_one(filter.clone(), update.clone())).await.map_err(backend)?;
                if flipped.modified_count > 0 {
                    return Ok(!hearted);
                }
            }
            if self.get_ref(id).await?.is_none() {
                return Ok(false);
            }
        }
        Err(StoreError::backend("heart toggle kept losing races"))
    }

    async fn update(&self, id: Id, content: &str) -> StoreResult<bool> {
        self.update_record(coll::COMMENTS, id, content_update(content, now())).await
    }

    async fn delete(&self, id: Id) -> StoreResult<bool> {
        // Its replies and every like of either go first (`queries::cascade`).
        self.delete_one_with(RecordKind::Comments, oid(id)).await
    }

    async fn set_removal(&self, id: Id, reason: Option<String>, owner_suspended: bool) -> StoreResult<bool> {
        let removal = post_removal(reason.as_deref(), owner_suspended);
        let result = self.collection(coll::COMMENTS).update_one(by_id(oid(id)), removal).await.map_err(backend)?;
        self.settle_comments(by_id(oid(id))).await?;
        self.refresh_notifications(Touched::Comment(oid(id))).await?;
        Ok(result.matched_count > 0)
    }
}
