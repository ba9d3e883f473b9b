//! Creator blocks (docs/api.md §3.15.4): a user hides another from their channel, as YouTube's
//! "hide user from channel": the blocked user cannot comment on the blocker's videos, subscribe to
//! them or like their tweets, and their comments there are hidden from everyone but them.

use super::{ServiceError, Services};
use crate::domain::Id;
use crate::domain::user::{Identity, OwnerSummary};

impl Services {
    /// `POST /users/blocks/:userId` (`block`) and `DELETE` (`!block`): whether the user is blocked now.
    pub async fn set_block(&self, caller: &Identity, user: Id, block: bool) -> Result<bool, ServiceError> {
        let blocked = self.existing_user(user, "User not found").await?;
        if user == caller.id {
            return Err(ServiceError::invalid("You cannot block yourself"));
        }
        if block {
            self.store.blocks.block(caller.id, user).await?;
        } else {
            let suspended = blocked.suspended_reason.is_some();
            self.store.blocks.unblock(caller.id, user, suspended).await?;
        }
        Ok(block)
    }

    /// `GET /users/blocks`: the users the caller blocks, newest block first.
    pub async fn blocked_users(&self, caller: &Identity) -> Result<Vec<OwnerSummary>, ServiceError> {
        Ok(self.store.blocks.blocked_by(caller.id).await?)
    }

    /// 403 with `message` when `channel` blocks the caller.
    pub(super) async fn refuse_if_blocked(
        &self,
        channel: Id,
        caller: &Identity,
        message: &'static str,
    ) -> Result<(), ServiceError> {
        if channel != caller.id && self.store.blocks.is_blocked(channel, caller.id).await? {
            return Err(ServiceError::forbidden(message));
        }
        Ok(())
    }

    /// Whether the author of the comment `id` is blocked by the owner of the video it is on.
    pub(super) async fn blocked_on_its_video(&self, id: Id) -> Result<bool, ServiceError> {
        let Some(comment) = self.store.comments.get_ref(id).await? else { return Ok(false) };
        let Some(video) = self.store.videos.get(comment.video).await? else { return Ok(false) };
        Ok(self.store.blocks.is_blocked(video.video.owner_id(), comment.owner).await?)
    }
}
