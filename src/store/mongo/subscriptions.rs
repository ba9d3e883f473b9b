//! MongoDB persistence of subscriptions: one document per pair, flipped under its unique index; both
//! sides' lists, and the subscription feed.

use async_trait::async_trait;
use bson::doc;

use super::docs::{SubscriptionDoc, VideoDoc};
use super::queries::read_for;
use super::queries::subscriptions as q;
use super::{MongoStore, coll, ids_found, oid};
use crate::domain::Id;
use crate::domain::social::{SubscribedChannelItem, SubscriberItem};
use crate::domain::video::Video;
use crate::domain::visibility::{ALL_LEVELS, Place};
use crate::store::records::RecordKind;
use crate::store::{StoreResult, SubscriptionRepo};

#[async_trait]
impl SubscriptionRepo for MongoStore {
    async fn toggle(&self, subscriber: Id, channel: Id) -> StoreResult<bool> {
        self.counted_flip(RecordKind::Subscriptions, q::subscription_of(oid(subscriber), oid(channel))).await
    }

    async fn subscribers(&self, channel: Id) -> StoreResult<Vec<SubscriberItem>> {
        let found: Vec<SubscriptionDoc> = self.aggregate_as(coll::SUBSCRIPTIONS, q::subscribers(oid(channel))).await?;
        Ok(found.into_iter().map(SubscriptionDoc::into_subscriber).collect())
    }

    async fn subscribed_channels(&self, subscriber: Id) -> StoreResult<Vec<SubscribedChannelItem>> {
        let pipeline = q::subscribed_channels(oid(subscriber));
        let found: Vec<SubscriptionDoc> = self.aggregate_as(coll::SUBSCRIPTIONS, pipeline).await?;
        Ok(found.into_iter().map(SubscriptionDoc::into_channel).collect())
    }

    async fn subscription_feed(&self, subscriber: Id, offset: u64, limit: u32) -> StoreResult<(Vec<Video>, u64)> {
        let subscriptions = self.collection(coll::SUBSCRIPTIONS);
        let find =
            subscriptions.find(doc! { "subscriber": oid(subscriber) }).projection(doc! { "channel": 1, "_id": 0 });
        let channels = ids_found(find, "channel").await?;
        if channels.is_empty() {
            return Ok((Vec::new(), 0));
        }
        // The total sums the channels' stored counts of listed videos: bounded by the subscriptions.
        let listed = Place::Listing.levels(false);
        // With the site's count of videos it also chooses the page's read: walking `_id` when the
        // channels hold enough of the site's videos, else sorting theirs (`queries::read_for`, D26).
        let (total, stored) = tokio::try_join!(self.users_videos(&channels, listed), self.site_videos(ALL_LEVELS))?;
        let read = read_for(offset.saturating_add(u64::from(limit)), total, stored);
        let feed = q::subscription_feed_page(channels, offset, limit, read);
        let page = self.aggregate_hinted::<VideoDoc>(coll::VIDEOS, feed.pipeline, Some(feed.index)).await?;
        Ok((page.into_iter().map(VideoDoc::into_video).collect(), total))
    }
}
