//! Tweets (docs/api.md §3.7): owner-only edits.

use super::validate::required_content;
use super::{ServiceError, Services};
use crate::domain::Id;
use crate::domain::moderation::post_visible_to;
use crate::domain::ownership::Owned;
use crate::domain::social::Tweet;
use crate::domain::user::Identity;
use crate::store::TweetRef;

impl Services {
    pub async fn create_tweet(&self, caller: &Identity, content: Option<&str>) -> Result<Tweet, ServiceError> {
        let content = required_content(content, self.config.limits.content_chars)?;
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

    /// The tweet as `viewer` may see it (a hidden one only its author): `NotFound` otherwise.
    pub(super) async fn visible_tweet(&self, id: Id, viewer: Option<Id>) -> Result<TweetRef, ServiceError> {
        match self.store.tweets.get_ref(id).await? {
            Some(tweet) if post_visible_to(tweet.owner, tweet.hidden, viewer) => Ok(tweet),
            _ => Err(ServiceError::not_found("Tweet not found")),
        }
    }

    /// The caller's own tweet: `NotFound` when missing, `Forbidden` for another owner.
    pub async fn owned_tweet(&self, caller: &Identity, id: Id) -> Result<Owned<TweetRef>, ServiceError> {
        let tweet = self.visible_tweet(id, Some(caller.id)).await?;
        Owned::check(tweet, caller.id).ok_or_else(|| ServiceError::forbidden("You are not the owner of this tweet"))
    }

    pub async fn update_tweet(
        &self,
        caller: &Identity,
        tweet: Owned<TweetRef>,
        content: Option<&str>,
    ) -> Result<Tweet, ServiceError> {
        let content = required_content(content, self.config.limits.content_chars)?;
        self.store.tweets.update(tweet.id, &content).await?;
        self.tweet(tweet.id, Some(caller.id)).await
    }

    pub async fn delete_tweet(&self, tweet: Owned<TweetRef>) -> Result<(), ServiceError> {
        self.store.tweets.delete(tweet.id).await?;
        Ok(())
    }
}
