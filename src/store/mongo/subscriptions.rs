//! MongoDB persistence of subscriptions: one document per pair, flipped under its unique index; both
//! sides' lists, and the subscription feed.

use async_trait::async_trait;
use bson::doc;

use super::docs::{SubscriptionDoc, VideoDoc};
use super::queries::subscriptions as q;
use super::{MongoStore, coll, ids_found, oid};
use crate::domain::Id;
use crate::domain::social::{SubscribedChannelItem, SubscriberItem};
use crate::domain::video::Video;
use crate::domain::visibility::Place;
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
        let total = self.users_videos(&channels, listed);
        let feed = q::subscription_feed_page(channels.clone(), offset, limit);
        let page = self.aggregate_hinted::<VideoDoc>(coll::VIDEOS, feed.pipeline, Some(feed.index));
        let (page, total) = tokio::try_join!(page, total)?;
        Ok((page.into_iter().map(VideoDoc::into_video).collect(), total))
    }
}
