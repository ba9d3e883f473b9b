//! The creator dashboard (docs/api.md §3.10): the caller's channel statistics and videos.

use super::{ServiceError, Services};
use crate::domain::social::ChannelStats;
use crate::domain::user::Identity;
use crate::domain::video::Video;

impl Services {
    pub async fn channel_stats(&self, caller: &Identity) -> Result<ChannelStats, ServiceError> {
        Ok(self.store.dashboard.channel_stats(caller.id).await?)
    }

    pub async fn dashboard_videos(&self, caller: &Identity) -> Result<Vec<Video>, ServiceError> {
        Ok(self.store.dashboard.dashboard_videos(caller.id).await?)
    }
}
