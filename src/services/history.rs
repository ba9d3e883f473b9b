//! The caller's watch history: reading, clearing, forgetting one video, pausing and resuming the
//! recording (docs/api.md §3.3.9, §3.3.12). Watches are recorded by `Services::watch_video`.

use super::{ServiceError, Services};
use crate::domain::Id;
use crate::domain::user::Identity;
use crate::domain::video::WatchedVideo;

impl Services {
    /// The history of the caller `access_token` names, refused as [`Self::caller`] refuses (401, or
    /// 403 while suspended); the caller's standing is read with the history, in one read.
    pub async fn caller_watch_history(&self, access_token: Option<&str>) -> Result<Vec<WatchedVideo>, ServiceError> {
        let verified = self.verify_access(access_token)?;
        let found = self.store.history.standing_and_history(verified.user_id).await?;
        let (standing, videos) = found.ok_or_else(|| ServiceError::unauthorized("Invalid Access Token"))?;
        super::sessions::refuse_suspended(&standing.suspended_reason)?;
        Ok(videos)
    }

    pub async fn clear_history(&self, caller: &Identity) -> Result<(), ServiceError> {
        Ok(self.store.history.clear_history(caller.id).await?)
    }

    /// Removes one video from the caller's history; also fine when it is not there or does not exist.
    pub async fn forget_watch(&self, caller: &Identity, video: Id) -> Result<(), ServiceError> {
        Ok(self.store.history.forget_watch(caller.id, video).await?)
    }

    /// Pauses (`true`) or resumes history recording; returns the new state.
    pub async fn pause_history(&self, caller: &Identity, paused: bool) -> Result<bool, ServiceError> {
        if !self.store.history.set_history_paused(caller.id, paused).await? {
            return Err(ServiceError::unauthorized("Invalid Access Token"));
        }
        Ok(paused)
    }
}
