//! Likes (docs/api.md §3.6): race-safe toggles on visible videos, comments and tweets, and the
//! caller's liked videos.

use super::{ServiceError, Services};
use crate::domain::social::{LikeState, LikeTarget, LikedVideoItem};
use crate::domain::user::Identity;

impl Services {
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
                let tweet = self.visible_tweet(id, viewer).await?;
                self.refuse_if_blocked(tweet.owner, caller, "You cannot like this channel's tweets").await?;
            }
        }
        let is_liked = self.store.likes.toggle(caller.id, target).await?;
        let likes_count = self.store.likes.count(target).await?;
        Ok(LikeState { is_liked, likes_count })
    }

    pub async fn liked_videos(&self, caller: &Identity) -> Result<Vec<LikedVideoItem>, ServiceError> {
        Ok(self.store.likes.liked_videos(caller.id).await?)
    }
}
