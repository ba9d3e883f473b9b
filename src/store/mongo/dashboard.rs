//! MongoDB persistence of a channel owner's dashboard: their videos with like counts and the
//! channel's totals.

use async_trait::async_trait;

use super::docs::{VideoDoc, number};
use super::queries::dashboard as q;
use super::{MongoStore, coll, oid};
use crate::domain::Id;
use crate::domain::social::ChannelStats;
use crate::domain::video::Video;
use crate::store::{DashboardRepo, StoreResult, UserRepo};

#[async_trait]
impl DashboardRepo for MongoStore {
    async fn dashboard_videos(&self, owner: Id) -> StoreResult<Vec<Video>> {
        let found = self.videos(q::dashboard_videos(oid(owner))).await?;
        Ok(found.into_iter().map(VideoDoc::into_video).collect())
    }

    async fn channel_stats(&self, owner: Id) -> StoreResult<ChannelStats> {
        #[derive(serde::Deserialize, Default)]
        #[serde(rename_all = "camelCase")]
        struct Totals {
            #[serde(deserialize_with = "number")]
            total_videos: i64,
            #[serde(deserialize_with = "number")]
            total_views: i64,
            #[serde(deserialize_with = "number")]
            total_likes: i64,
        }
        let (totals, channel) = tokio::try_join!(
            self.aggregate_as::<Totals>(coll::VIDEOS, q::channel_totals(oid(owner))),
            UserRepo::channel_counts(self, owner, None),
        )?;
        let subscribers = channel.subscribers;
        let totals = totals.into_iter().next().unwrap_or_default();
        Ok(ChannelStats {
            total_videos: totals.total_videos,
            total_views: totals.total_views,
            total_subscribers: subscribers,
            total_likes: totals.total_likes,
        })
    }
}
