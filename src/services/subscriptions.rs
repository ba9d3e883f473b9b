//! Subscriptions (docs/api.md §3.8, §3.12): toggles, a channel's subscribers, a user's subscribed
//! channels and the subscription feed.

use super::{ServiceError, Services};
use crate::domain::Id;
use crate::domain::notification::{NewNotification, NotificationType};
use crate::domain::page::{Page, PageRequest};
use crate::domain::social::{SubscribedChannelItem, SubscriberItem};
use crate::domain::user::Identity;
use crate::domain::video::Video;

impl Services {
    /// Flips the caller's subscription to `channel`; returns whether it is now subscribed.
    pub async fn toggle_subscription(&self, caller: &Identity, channel: Id) -> Result<bool, ServiceError> {
        self.existing_user(channel, "Channel not found").await?;
        if channel == caller.id {
            return Err(ServiceError::invalid("You cannot subscribe to yourself"));
        }
        self.refuse_if_blocked(channel, caller, "You cannot subscribe to this channel").await?;
        let subscribed = self.store.subscriptions.toggle(caller.id, channel).await?;
        if subscribed {
            let kind = NotificationType::Subscriber;
            self.notify(NewNotification { recipient: channel, kind, actor: caller.id, video: None, comment: None })
                .await;
        } else {
            // The notification of an ended subscription goes with it.
            self.store.notifications.forget_subscriber(channel, caller.id).await?;
        }
        Ok(subscribed)
    }

    pub async fn channel_subscribers(&self, channel: Id) -> Result<Vec<SubscriberItem>, ServiceError> {
        self.existing_user(channel, "Channel not found").await?;
        Ok(self.store.subscriptions.subscribers(channel).await?)
    }

    /// The subscription feed: public videos of every channel the caller follows, newest first.
    pub async fn subscription_feed(&self, caller: &Identity, page: PageRequest) -> Result<Page<Video>, ServiceError> {
        let (videos, total) = self.store.subscriptions.subscription_feed(caller.id, page.offset(), page.limit).await?;
        Ok(Page::new(videos, total, page))
    }

    pub async fn subscribed_channels(&self, subscriber: Id) -> Result<Vec<SubscribedChannelItem>, ServiceError> {
        self.existing_user(subscriber, "User not found").await?;
        Ok(self.store.subscriptions.subscribed_channels(subscriber).await?)
    }
}
