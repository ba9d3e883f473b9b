//! Comments, likes and tweets (docs/api.md §3.5–§3.7): author-only edits, visibility through the
//! commented video, race-safe like toggles.

use super::validate::max_chars;
use super::{ServiceError, Services};
use crate::domain::Id;
use crate::domain::ownership::{Owned, OwnedBy};
use crate::domain::page::{Page, PageRequest};
use crate::domain::social::{Comment, LikeState, LikeTarget, LikedVideoItem, Tweet};
use crate::domain::user::{Identity, UserAccount};
use crate::domain::video::VideoRecord;
use crate::domain::visibility::Place;
use crate::store::CommentRef;

impl Services {
    /// `content` is required, non-empty and within MAX_CONTENT_CHARS.
    fn check_content(&self, content: Option<&str>) -> Result<String, ServiceError> {
        let content = match content {
            None => return Err(ServiceError::invalid_field("content", "Content is required")),
            Some("") => return Err(ServiceError::invalid_field("content", "Content is required")),
            Some(c) => c,
        };
        max_chars("content", Some(content), self.config.limits.content_chars)?;
        Ok(content.to_owned())
    }

    pub async fn list_comments(
        &self,
        video: Id,
        viewer: Option<Id>,
        page: Option<&str>,
        limit: Option<&str>,
    ) -> Result<Page<Comment>, ServiceError> {
        self.visible_video(video, viewer).await?;
        let page = PageRequest::parse(page, limit, self.config.limits.page_limit_max);
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
        let content = self.check_content(content)?;
        let id = self.store.comments.insert(video.video.id, caller.id, &content).await?;
        self.comment(id, Some(caller.id)).await
    }

    async fn comment(&self, id: Id, viewer: Option<Id>) -> Result<Comment, ServiceError> {
        self.store.comments.get(id, viewer).await?.ok_or_else(|| ServiceError::not_found("Comment not found"))
    }

    /// A comment whose video is visible to `viewer`; `NotFound` `Comment not found` otherwise.
    async fn visible_comment(&self, id: Id, viewer: Option<Id>) -> Result<CommentRef, ServiceError> {
        let comment = self.store.comments.get_ref(id).await?;
        let comment = comment.ok_or_else(|| ServiceError::not_found("Comment not found"))?;
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
        let content = self.check_content(content)?;
        self.store.comments.update(comment.id, &content).await?;
        self.comment(comment.id, Some(caller.id)).await
    }

    pub async fn delete_comment(&self, comment: Owned<CommentRef>) -> Result<(), ServiceError> {
        self.store.comments.delete(comment.id).await?;
        Ok(())
    }

    /// Flips the caller's like after checking the target exists and is visible.
    pub async fn toggle_like(&self, caller: &Identity, target: LikeTarget) -> Result<LikeState, ServiceError> {
        let viewer = Some(caller.id);
        match target {
            LikeTarget::Video(id) => {
                self.visible_video(id, viewer).await?;
            }
            LikeTarget::Comment(id) => {
                self.visible_comment(id, viewer).await?;
            }
            LikeTarget::Tweet(id) => {
                self.store.tweets.owner_of(id).await?.ok_or_else(|| ServiceError::not_found("Tweet not found"))?;
            }
        }
        let is_liked = self.store.likes.toggle(caller.id, target).await?;
        let likes_count = self.store.likes.count(target).await?;
        Ok(LikeState { is_liked, likes_count })
    }

    pub async fn liked_videos(&self, caller: &Identity) -> Result<Vec<LikedVideoItem>, ServiceError> {
        Ok(self.store.likes.liked_videos(caller.id).await?)
    }

    pub async fn create_tweet(&self, caller: &Identity, content: Option<&str>) -> Result<Tweet, ServiceError> {
        let content = self.check_content(content)?;
        let id = self.store.tweets.insert(caller.id, &content).await?;
        self.tweet(id, Some(caller.id)).await
    }

    async fn tweet(&self, id: Id, viewer: Option<Id>) -> Result<Tweet, ServiceError> {
        self.store.tweets.get(id, viewer).await?.ok_or_else(|| ServiceError::not_found("Tweet not found"))
    }

    pub async fn user_tweets(&self, user: Id, viewer: Option<Id>) -> Result<Vec<Tweet>, ServiceError> {
        self.existing_user(user, "User not found").await?;
        Ok(self.store.tweets.by_owner(user, viewer).await?)
    }

    /// The caller's own tweet: `NotFound` when missing, `Forbidden` for another owner.
    pub async fn owned_tweet(&self, caller: &Identity, id: Id) -> Result<Owned<OwnedBy>, ServiceError> {
        let owner = self.store.tweets.owner_of(id).await?.ok_or_else(|| ServiceError::not_found("Tweet not found"))?;
        Owned::check(OwnedBy { id, owner }, caller.id)
            .ok_or_else(|| ServiceError::forbidden("You are not the owner of this tweet"))
    }

    pub async fn update_tweet(
        &self,
        caller: &Identity,
        tweet: Owned<OwnedBy>,
        content: Option<&str>,
    ) -> Result<Tweet, ServiceError> {
        let content = self.check_content(content)?;
        self.store.tweets.update(tweet.id, &content).await?;
        self.tweet(tweet.id, Some(caller.id)).await
    }

    pub async fn delete_tweet(&self, tweet: Owned<OwnedBy>) -> Result<(), ServiceError> {
        self.store.tweets.delete(tweet.id).await?;
        Ok(())
    }

    /// `NotFound` with `message` unless the user exists.
    pub async fn existing_user(&self, id: Id, message: &'static str) -> Result<UserAccount, ServiceError> {
        self.store.users.by_id(id).await?.ok_or_else(|| ServiceError::not_found(message))
    }
}
