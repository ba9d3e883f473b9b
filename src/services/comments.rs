//! Comments (docs/api.md §3.5): visible through the commented video, author-only edits.

use super::validate::required_content;
use super::{ServiceError, Services};
use crate::domain::Id;
use crate::domain::moderation::post_visible_to;
use crate::domain::ownership::Owned;
use crate::domain::page::{Page, PageRequest};
use crate::domain::social::Comment;
use crate::domain::user::Identity;
use crate::domain::video::VideoRecord;
use crate::domain::visibility::Place;
use crate::store::CommentRef;

impl Services {
    pub async fn list_comments(
        &self,
        video: Id,
        viewer: Option<Id>,
        page: PageRequest,
    ) -> Result<Page<Comment>, ServiceError> {
        self.visible_video(video, viewer).await?;
        let (docs, total) = self.store.comments.list(video, viewer, page.offset(), page.limit).await?;
        Ok(Page::new(docs, total, page))
    }

    /// Adds a comment to a video the caller was shown (`visible_video` checked it before the body was read).
    pub async fn add_comment(
        &self,
        caller: &Identity,
        video: &VideoRecord,
        content: Option<&str>,
    ) -> Result<Comment, ServiceError> {
        self.refuse_if_blocked(video.video.owner_id(), caller, "You cannot comment on this channel").await?;
        let content = required_content(content, self.config.limits.content_chars)?;
        let id = self.store.comments.insert(video.video.id, caller.id, &content).await?;
        self.comment(id, Some(caller.id)).await
    }

    async fn comment(&self, id: Id, viewer: Option<Id>) -> Result<Comment, ServiceError> {
        self.store.comments.get(id, viewer).await?.ok_or_else(|| ServiceError::not_found("Comment not found"))
    }

    /// A comment whose video is visible to `viewer`; `NotFound` `Comment not found` otherwise.
    pub(super) async fn visible_comment(&self, id: Id, viewer: Option<Id>) -> Result<CommentRef, ServiceError> {
        let comment = self.store.comments.get_ref(id).await?;
        let comment = comment.ok_or_else(|| ServiceError::not_found("Comment not found"))?;
        if !post_visible_to(comment.owner, comment.hidden, viewer) {
            return Err(ServiceError::not_found("Comment not found"));
        }
        match self.store.videos.get(comment.video).await? {
            Some(video) if video.video.is_visible_to(viewer, Place::ByLink) => Ok(comment),
            _ => Err(ServiceError::not_found("Comment not found")),
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

    pub async fn delete_comment(&self, comment: Owned<CommentRef>) -> Result<(), ServiceError> {
        self.store.comments.delete(comment.id).await?;
        Ok(())
    }
}
