//! Comments (docs/api.md §3.5): visible through the commented video, author-only edits, threads of
//! replies, and the pin and hearts of the video's owner.

use super::validate::required_content;
use super::{ServiceError, Services};
use crate::domain::Id;
use crate::domain::moderation::post_visible_to;
use crate::domain::notification::{NewNotification, NotificationType};
use crate::domain::ownership::Owned;
use crate::domain::page::{Page, PageRequest};
use crate::domain::social::{Comment, CommentSort, ReplyTarget};
use crate::domain::user::Identity;
use crate::domain::video::VideoRecord;
use crate::domain::visibility::Place;
use crate::store::{CommentRef, NewReply};

fn comment_not_found() -> ServiceError {
    ServiceError::not_found("Comment not found")
}

impl Services {
    /// A page of the video's top-level comments (`visible_video` checked the video before the query
    /// was validated). The pinned comment the viewer sees comes first in either order, so it opens
    /// page 1 and every later page starts one comment earlier in the rest.
    pub async fn list_comments(
        &self,
        video: &VideoRecord,
        viewer: Option<Id>,
        sort: CommentSort,
        page: PageRequest,
    ) -> Result<Page<Comment>, ServiceError> {
        let video = video.video.id;
        let comments = &self.store.comments;
        let Some(pinned) = comments.pinned(video, viewer).await? else {
            let (docs, total) = comments.list(video, viewer, sort, None, page.offset(), page.limit).await?;
            return Ok(Page::new(docs, total, page));
        };
        let (offset, limit) = match page.offset() {
            0 => (0, page.limit - 1),
            offset => (offset - 1, page.limit),
        };
        // A page holds at least one comment, so the first asks for one more than it shows when the
        // pinned comment takes its only place.
        let (mut docs, total) = comments.list(video, viewer, sort, Some(pinned.id), offset, limit.max(1)).await?;
        docs.truncate(limit as usize);
        if page.offset() == 0 {
            docs.insert(0, pinned);
        }
        Ok(Page::new(docs, total, page))
    }

    /// Adds a comment, or a reply (`target`), to a video the caller was shown (`visible_video`
    /// checked it before the body was read). Refusals in order: a block, the content, the
    /// `parentId`, the comment it names.
    pub async fn add_comment(
        &self,
        caller: &Identity,
        video: &VideoRecord,
        content: Option<&str>,
        target: ReplyTarget,
    ) -> Result<Comment, ServiceError> {
        self.refuse_if_blocked(video.video.owner_id(), caller, "You cannot comment on this channel").await?;
        let content = required_content(content, self.config.limits.content_chars)?;
        let reply = match target {
            ReplyTarget::TopLevel => None,
            ReplyTarget::Malformed => return Err(ServiceError::invalid("Invalid parentId")),
            ReplyTarget::Comment(named) => Some(self.reply_to(named, video.video.id, caller.id).await?),
        };
        let id = self.store.comments.insert(video.video.id, caller.id, &content, reply).await?;
        if let Some(reply) = reply {
            // A thread deleted while the reply was being written takes the reply along.
            if self.store.comments.get_ref(reply.thread).await?.is_none() {
                self.store.comments.delete(id).await?;
                return Err(comment_not_found());
            }
        }
        // A reply tells the author it answers; a top-level comment, the video's owner.
        let (recipient, kind) = match reply {
            Some(reply) => (reply.reply_to, NotificationType::Reply),
            None => (video.video.owner_id(), NotificationType::Comment),
        };
        let (video_id, comment) = (Some(video.video.id), Some(id));
        self.notify(NewNotification { recipient, kind, actor: caller.id, video: video_id, comment }).await;
        self.comment(id, Some(caller.id)).await
    }

    /// Where a reply to the comment `named` goes: its thread (the comment itself when top-level)
    /// and its author. The comment and its thread must be on `video` and seen by the caller.
    async fn reply_to(&self, named: Id, video: Id, caller: Id) -> Result<NewReply, ServiceError> {
        let seen = |comment: &CommentRef| {
            comment.video == video && post_visible_to(comment.owner, comment.hidden, Some(caller))
        };
        let comment = self.store.comments.get_ref(named).await?.filter(seen).ok_or_else(comment_not_found)?;
        let thread = match comment.parent {
            None => comment.id,
            Some(thread) => self.store.comments.get_ref(thread).await?.filter(seen).ok_or_else(comment_not_found)?.id,
        };
        Ok(NewReply { thread, reply_to: comment.owner })
    }

    /// A page of a thread's replies, oldest first; `Comment not found` unless the comment is a
    /// top-level one the viewer sees on a video the viewer sees.
    pub async fn list_replies(
        &self,
        thread: Id,
        viewer: Option<Id>,
        page: PageRequest,
    ) -> Result<Page<Comment>, ServiceError> {
        let thread = self.visible_comment(thread, viewer).await?;
        if thread.parent.is_some() {
            return Err(comment_not_found());
        }
        let (docs, total) = self.store.comments.replies(thread.id, viewer, page.offset(), page.limit).await?;
        Ok(Page::new(docs, total, page))
    }

    /// Pins (or unpins) a top-level comment of the caller's video; pinning ends the video's
    /// previous pin. Whether it is now pinned.
    pub async fn pin_comment(&self, caller: &Identity, id: Id, pinned: bool) -> Result<bool, ServiceError> {
        let (comment, video) = self.creator_comment(caller, id, "Only the video owner can pin comments").await?;
        if comment.parent.is_some() {
            return Err(ServiceError::invalid("Only top-level comments can be pinned"));
        }
        self.store.comments.set_pinned(video.video.id, comment.id, pinned).await?;
        Ok(pinned)
    }

    /// Flips the creator's heart on a comment (or reply) of the caller's video; whether it is now hearted.
    pub async fn heart_comment(&self, caller: &Identity, id: Id) -> Result<bool, ServiceError> {
        let (comment, _) = self.creator_comment(caller, id, "Only the video owner can heart comments").await?;
        Ok(self.store.comments.toggle_heart(comment.id).await?)
    }

    /// A comment the caller sees on a video the caller owns: `NotFound`, else `Forbidden` `refusal`.
    async fn creator_comment(
        &self,
        caller: &Identity,
        id: Id,
        refusal: &'static str,
    ) -> Result<(CommentRef, VideoRecord), ServiceError> {
        let (comment, video) = self.visible_comment_on(id, Some(caller.id)).await?;
        if video.video.owner_id() != caller.id {
            return Err(ServiceError::forbidden(refusal));
        }
        Ok((comment, video))
    }

    async fn comment(&self, id: Id, viewer: Option<Id>) -> Result<Comment, ServiceError> {
        self.store.comments.get(id, viewer).await?.ok_or_else(comment_not_found)
    }

    /// A comment whose video is visible to `viewer`; `NotFound` `Comment not found` otherwise.
    pub(super) async fn visible_comment(&self, id: Id, viewer: Option<Id>) -> Result<CommentRef, ServiceError> {
        Ok(self.visible_comment_on(id, viewer).await?.0)
    }

    /// A comment `viewer` sees, with its video.
    async fn visible_comment_on(&self, id: Id, viewer: Option<Id>) -> Result<(CommentRef, VideoRecord), ServiceError> {
        let comment = self.store.comments.get_ref(id).await?;
        let comment = comment.ok_or_else(comment_not_found)?;
        if !post_visible_to(comment.owner, comment.hidden, viewer) {
            return Err(comment_not_found());
        }
        match self.store.videos.get(comment.video).await? {
            Some(video) if video.video.is_visible_to(viewer, Place::ByLink) => Ok((comment, video)),
            _ => Err(comment_not_found()),
        }
    }

    /// The caller's own comment: `NotFound` when missing or hidden, `Forbidden` for another author.
    pub async fn owned_comment(&self, caller: &Identity, id: Id) -> Result<Owned<CommentRef>, ServiceError> {
        let comment = self.visible_comment(id, Some(caller.id)).await?;
        Owned::check(comment, caller.id).ok_or_else(|| ServiceError::forbidden("You are not the owner of this comment"))
    }

    pub async fn update_comment(
        &self,
        caller: &Identity,
        comment: Owned<CommentRef>,
        content: Option<&str>,
    ) -> Result<Comment, ServiceError> {
        let content = required_content(content, self.config.limits.content_chars)?;
        self.store.comments.update(comment.id, &content).await?;
        self.comment(comment.id, Some(caller.id)).await
    }

    /// Deletes the comment with its likes; a top-level comment's replies (and their likes) go too.
    pub async fn delete_comment(&self, comment: Owned<CommentRef>) -> Result<(), ServiceError> {
        self.store.comments.delete(comment.id).await?;
        Ok(())
    }
}
