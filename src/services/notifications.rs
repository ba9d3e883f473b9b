//! Notifications (docs/api.md §3.17): who is told of what, the lists, settings and retention, the
//! deferred fan-out of new videos (D25), and the live stream: one poller per process tails the
//! notifications of the users with an open stream and fans them out through a broadcast channel.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, broadcast, watch};

use super::{ServiceError, Services};
use crate::domain::notification::{NewNotification, Notification, NotificationSettings, NotificationType};
use crate::domain::page::{Page, PageRequest};
use crate::domain::user::Identity;
use crate::domain::video::Video;
use crate::domain::visibility::Visibility;
use crate::domain::{Id, Timestamp};
use crate::error::Chain;

/// Subscribers told per batch of a `new_video` fan-out (one write transaction or `insertMany` each).
const FANOUT_BATCH: u32 = 500;
/// Fan-outs running at once per process; more wait their turn.
const FANOUTS_AT_ONCE: usize = 2;
/// How often the stream poller reads the new notifications of the users with an open stream.
const POLL_EVERY: Duration = Duration::from_millis(500);
/// How far back each poll reads: notifications committed late (a slow write, another instance's
/// clock) are still found; those already sent are remembered for as long.
const LOOKBACK_MS: i64 = 10_000;
/// Most notifications one poll reads.
const POLL_LIMIT: u32 = 1_000;
/// Events buffered for all streams of a process; a stream further behind skips ahead.
const CHANNEL_CAPACITY: usize = 1_024;
/// Most notifications a reconnect with `Last-Event-ID` replays.
pub const REPLAY_LIMIT: u32 = 100;

/// A notification for one recipient, as the poller broadcasts it.
pub type Delivery = Arc<(Id, Notification)>;

/// The live side of notifications in this process: the open streams and the poller's channel.
pub struct NotificationHub {
    sender: broadcast::Sender<Delivery>,
    /// Open streams per user: the users whose notifications the poller reads.
    watching: Mutex<HashMap<Id, usize>>,
    fanouts: Arc<Semaphore>,
    /// Set when the process stops: streams end so that the server can.
    closing: watch::Sender<bool>,
}

impl Default for NotificationHub {
    fn default() -> Self {
        NotificationHub {
            sender: broadcast::channel(CHANNEL_CAPACITY).0,
            watching: Mutex::default(),
            fanouts: Arc::new(Semaphore::new(FANOUTS_AT_ONCE)),
            closing: watch::channel(false).0,
        }
    }
}

impl NotificationHub {
    fn watched(&self) -> Vec<Id> {
        self.watching.lock().unwrap_or_else(|p| p.into_inner()).keys().copied().collect()
    }

    /// Ends every open stream (the process is stopping).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }
}

/// One open stream: its live notifications, and its place among the watched users until dropped.
pub struct StreamSubscription {
    pub user: Id,
    /// Notifications created before this are not sent live (a reconnect replays them).
    pub opened_at: Timestamp,
    pub replay: Vec<Notification>,
    pub live: broadcast::Receiver<Delivery>,
    pub closing: watch::Receiver<bool>,
    hub: Arc<NotificationHub>,
}

impl Drop for StreamSubscription {
    fn drop(&mut self) {
        let mut watching = self.hub.watching.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = watching.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                watching.remove(&self.user);
            }
        }
    }
}

/// A settings change as read at the edge: each named type on or off.
pub type SettingsChange = Vec<(NotificationType, bool)>;

impl Services {
    /// Tells `n.recipient` of what `n.actor` did, unless it is their own action (or the store
    /// refuses: type off, actor blocked). Best effort: the action stands whatever happens here.
    pub(super) async fn notify(&self, n: NewNotification) {
        if n.recipient == n.actor {
            return;
        }
        if let Err(e) = self.store.notifications.notify(n).await {
            tracing::error!(error = %Chain(&e), kind = ?n.kind, "storing a notification failed");
        }
    }

    /// After a write that left `video` public: the first time, its channel's subscribers are told,
    /// in the background in bounded batches, so the answer does not wait for them (D25).
    pub(super) async fn announce(&self, video: &Video) {
        if video.visibility != Visibility::Public {
            return;
        }
        match self.store.notifications.claim_announcement(video.id).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::error!(error = %Chain(&e), "claiming a video's announcement failed");
                return;
            }
        }
        let (services, channel, id) = (self.clone(), video.owner.value.id, video.id);
        tokio::spawn(async move {
            let Ok(_turn) = services.notifications.fanouts.clone().acquire_owned().await else { return };
            let mut after = None;
            loop {
                match services.store.notifications.announce_batch(channel, id, after, FANOUT_BATCH).await {
                    Ok(Some(next)) => after = Some(next),
                    Ok(None) => break,
                    Err(e) => {
                        tracing::error!(error = %Chain(&e), video = %id, "telling subscribers of a new video failed");
                        break;
                    }
                }
                tokio::task::yield_now().await;
            }
        });
    }

    pub async fn notifications(
        &self,
        caller: &Identity,
        unread_only: bool,
        page: PageRequest,
    ) -> Result<Page<Notification>, ServiceError> {
        let (docs, total) = self.store.notifications.list(caller.id, unread_only, page.offset(), page.limit).await?;
        Ok(Page::new(docs, total, page))
    }

    pub async fn unread_notifications(&self, caller: &Identity) -> Result<u64, ServiceError> {
        Ok(self.store.notifications.unread(caller.id).await?)
    }

    /// Marks one of the caller's notifications read; the unread count after it.
    pub async fn mark_notification_read(&self, caller: &Identity, id: Id) -> Result<u64, ServiceError> {
        if !self.store.notifications.mark_read(caller.id, id).await? {
            return Err(ServiceError::not_found("Notification not found"));
        }
        self.unread_notifications(caller).await
    }

    pub async fn mark_all_notifications_read(&self, caller: &Identity) -> Result<u64, ServiceError> {
        self.store.notifications.mark_all_read(caller.id).await?;
        self.unread_notifications(caller).await
    }

    pub async fn notification_settings(&self, caller: &Identity) -> Result<NotificationSettings, ServiceError> {
        Ok(self.store.notifications.settings(caller.id).await?)
    }

    pub async fn update_notification_settings(
        &self,
        caller: &Identity,
        change: SettingsChange,
    ) -> Result<NotificationSettings, ServiceError> {
        let settings = self.store.notifications.settings(caller.id).await?.with(&change);
        self.store.notifications.save_settings(caller.id, settings).await?;
        Ok(settings)
    }

    /// Deletes the notifications older than `NOTIFICATION_RETENTION_DAYS`; how many.
    pub async fn prune_notifications(&self) -> Result<u64, ServiceError> {
        let days = self.config.notification_retention_days;
        let before = Timestamp(Timestamp::now().millis() - (days as i64).saturating_mul(86_400_000));
        Ok(self.store.notifications.prune(before).await?)
    }

    /// Opens a stream for the caller: the notifications after `last_event` to replay, then the live ones.
    pub async fn open_notification_stream(
        &self,
        caller: &Identity,
        last_event: Option<Id>,
    ) -> Result<StreamSubscription, ServiceError> {
        let hub = self.notifications.clone();
        // Subscribed before the replay is read, so nothing falls between the two.
        let live = hub.sender.subscribe();
        *hub.watching.lock().unwrap_or_else(|p| p.into_inner()).entry(caller.id).or_default() += 1;
        let mut subscription = StreamSubscription {
            user: caller.id,
            opened_at: Timestamp::now(),
            replay: Vec::new(),
            live,
            closing: hub.closing.subscribe(),
            hub,
        };
        if let Some(after) = last_event {
            subscription.replay = self.store.notifications.after(caller.id, after, REPLAY_LIMIT).await?;
        }
        Ok(subscription)
    }

    pub fn notification_keepalive(&self) -> Duration {
        Duration::from_secs(self.config.notification_keepalive_secs)
    }

    /// Runs the stream poller for the life of the process: every `POLL_EVERY`, while any stream is
    /// open, the new notifications of the users with an open stream, whichever instance wrote
    /// them, go to this process's streams. DocumentDB has no change streams: this is a tailing
    /// read of the `createdAt` index.
    pub fn spawn_notification_poller(&self) {
        let services = self.clone();
        tokio::spawn(async move {
            let mut sent: HashMap<Id, Timestamp> = HashMap::new();
            let mut ticker = tokio::time::interval(POLL_EVERY);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let watched = services.notifications.watched();
                if watched.is_empty() {
                    sent.clear();
                    continue;
                }
                let from = Timestamp(Timestamp::now().millis() - LOOKBACK_MS);
                match services.store.notifications.created_since(from, &watched, POLL_LIMIT).await {
                    Ok(found) => {
                        for (recipient, notification) in found {
                            if sent.insert(notification.id, notification.created_at).is_none() {
                                let _ = services.notifications.sender.send(Arc::new((recipient, notification)));
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %Chain(&e), "reading new notifications failed"),
                }
                sent.retain(|_, at| *at >= from);
            }
        });
    }
}
