//! MongoDB persistence of notifications and their settings (`queries::notifications`).
//!
//! Lists decide when read which notifications are shown (D25); each notification also stores
//! `shown`, which the recipient's totals count (`queries::counters`). A write that changes what
//! decides it (`Touched`) settles the notifications it touches: at once when they are at most
//! `WINDOW`, else through a queue the `Settler` task works through. Settling reads the targets,
//! applies the rule (`q::is_shown`) and moves each notification whose `shown` changes by one
//! update that returns it as it was, so its counts move exactly once; each update carries the
//! time its targets were read, and one that read them earlier never overwrites a later one.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{DateTime, Document, doc};
use futures_util::{StreamExt, TryStreamExt};
use mongodb::options::ReturnDocument;
use tokio::task::JoinHandle;

use super::docs::{SettingsDoc, ShownNotificationDoc, time};
use super::queries::Change;
use super::queries::cascade::Step;
use super::queries::counters::{self as counters, SHOWN};
use super::queries::notifications::{self as q, Targets, Touched};
use super::{
    MongoStore, backend, coll, conflict_on, date, decode, id_of, ids_found, is_conflict, now, oid, retry_transient,
};
use crate::domain::notification::{NewNotification, Notification, NotificationSettings, NotificationType};
use crate::domain::{Id, Timestamp};
use crate::store::records::RecordKind;
use crate::store::{FanoutCursor, NotificationRepo, StoreResult};

/// How many notifications a change settles itself; a change touching more is queued.
const WINDOW: usize = 500;

/// The queue of changes touching more than `WINDOW` notifications.
pub(super) const REFRESHES: &str = "notificationRefreshes";

/// How long a settler holds a queued change before another may take it over (renewed per batch).
const LEASE: Duration = Duration::from_secs(60);

/// How long the settler waits when the queue is empty.
const SETTLER_PAUSE: Duration = Duration::from_millis(250);

/// Notifications whose `shown` is moved at once.
const SETTLE_CONCURRENCY: usize = 16;

/// Why notifications are settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Settling {
    /// A target changed: those already right are stamped too, so that a settling that read the
    /// targets before the change and lands after this one cannot undo it.
    AfterChange,
    /// A check, not tied to a change (notifications just inserted, for a target that may have
    /// changed since the caller decided to tell; the repair pass): only those wrong are moved. Any
    /// change settles what it touches itself, and so stamps against earlier settlings.
    Check,
}

fn later(at: DateTime, by: Duration) -> DateTime {
    DateTime::from_millis(at.timestamp_millis() + by.as_millis() as i64)
}

impl MongoStore {
    /// Settles the notifications a change touches: at once when they are few, else queued.
    pub(super) async fn refresh_notifications(&self, touched: Touched) -> StoreResult<()> {
        let notifications = self.collection(coll::NOTIFICATIONS);
        let find = notifications.find(touched.filter()).projection(doc! { "_id": 1 }).limit(WINDOW as i64 + 1);
        let ids = ids_found(find, "_id").await?;
        if ids.len() <= WINDOW {
            return self.settle_notifications(&ids, Settling::AfterChange).await;
        }
        let queued = touched.queued(DateTime::from_millis(0));
        self.collection(REFRESHES).insert_one(queued).await.map_err(backend)?;
        Ok(())
    }

    /// Takes the oldest queued change no one holds and settles every notification it touches;
    /// false when there was none.
    pub(super) async fn settle_queued(&self) -> StoreResult<bool> {
        let refreshes = self.collection(REFRESHES);
        let at = now();
        let entry = refreshes
            .find_one_and_update(
                doc! { "leaseUntil": { "$lte": at } },
                doc! { "$set": { "leaseUntil": later(at, LEASE) } },
            )
            .sort(doc! { "_id": 1 })
            .await
            .map_err(backend)?;
        let Some(entry) = entry else { return Ok(false) };
        let id = entry.get_object_id("_id").map_err(crate::store::StoreError::backend)?;
        if let Some(touched) = Touched::from_queued(&entry) {
            let mut ids = self.ids_where(coll::NOTIFICATIONS, touched.filter()).await?;
            ids.sort();
            for batch in ids.chunks(WINDOW) {
                self.settle_notifications(batch, Settling::AfterChange).await?;
                let renewed = doc! { "$set": { "leaseUntil": later(now(), LEASE) } };
                refreshes.update_one(doc! { "_id": id }, renewed).await.map_err(backend)?;
            }
        }
        refreshes.delete_one(doc! { "_id": id }).await.map_err(backend)?;
        Ok(true)
    }

    /// Checks every notification, in batches (the repair pass, and after `migrate` copied them).
    pub(super) async fn settle_all_notifications(&self) -> StoreResult<()> {
        let notifications = self.collection(coll::NOTIFICATIONS);
        let mut after: Option<ObjectId> = None;
        loop {
            let filter = after.map_or_else(Document::new, |id| doc! { "_id": { "$gt": id } });
            let find = notifications.find(filter).projection(doc! { "_id": 1 }).sort(doc! { "_id": 1 });
            let batch = ids_found(find.limit(WINDOW as i64), "_id").await?;
            let Some(last) = batch.last().copied() else { return Ok(()) };
            self.settle_notifications(&batch, Settling::Check).await?;
            after = Some(last);
        }
    }

    /// Decides `shown` for the notifications `ids` from their targets as they are now, and moves
    /// the counts of those it changes.
    pub(super) async fn settle_notifications(&self, ids: &[ObjectId], settling: Settling) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let notifications = self.collection(coll::NOTIFICATIONS);
        // Taken before anything is read: an update carrying it never overwrites one from a
        // settling that read later.
        let at = now();
        let found: Vec<Document> = notifications
            .find(doc! { "_id": { "$in": ids } })
            .projection(q::settled_fields())
            .await
            .map_err(backend)?
            .try_collect()
            .await
            .map_err(backend)?;
        let targets = self.targets(&found).await?;
        let mut moves: Vec<(ObjectId, bool)> = Vec::new();
        for shown in [true, false] {
            let (right, wrong): (Vec<&Document>, Vec<&Document>) =
                found.iter().filter(|n| q::is_shown(n, &targets) == shown).partition(|n| q::stored_shown(n) == shown);
            moves.extend(wrong.iter().filter_map(|n| n.get_object_id("_id").ok()).map(|id| (id, shown)));
            let right: Vec<ObjectId> = right.iter().filter_map(|n| n.get_object_id("_id").ok()).collect();
            if right.is_empty() || settling == Settling::Check {
                continue;
            }
            // Those already right are stamped, so an earlier settling landing later does not undo
            // them; one changed since it was read is moved with the others.
            let (filter, update) = q::stamp(&right, shown, at);
            let stamped = notifications.update_many(filter, update).await.map_err(backend)?;
            if (stamped.matched_count as usize) < right.len() {
                let changed = self.ids_where(coll::NOTIFICATIONS, q::unstamped(&right, at)).await?;
                moves.extend(changed.into_iter().map(|id| (id, shown)));
            }
        }
        let projection = counters::counted_fields(RecordKind::Notifications);
        let changes: Vec<(Document, Document)> = futures_util::stream::iter(moves)
            .map(|(id, shown)| {
                let (notifications, projection) = (notifications.clone(), projection.clone());
                async move {
                    let (filter, update) = q::settle_one(id, shown, at);
                    let before = retry_transient(|| {
                        notifications
                            .find_one_and_update(filter.clone(), update.clone())
                            .projection(projection.clone())
                            .return_document(ReturnDocument::Before)
                    })
                    .await
                    .map_err(backend)?;
                    StoreResult::Ok(before.map(|before| {
                        let mut after = before.clone();
                        after.insert(SHOWN, shown);
                        (before, after)
                    }))
                }
            })
            .buffer_unordered(SETTLE_CONCURRENCY)
            .try_filter_map(|change| async move { Ok(change) })
            .try_collect()
            .await?;
        self.apply(counters::moved(RecordKind::Notifications, &changes)).await
    }

    /// What the rule reads of the targets of `notifications`.
    async fn targets(&self, notifications: &[Document]) -> StoreResult<Targets> {
        let ids = |field: &str| {
            let mut ids: Vec<ObjectId> = notifications.iter().filter_map(|n| n.get_object_id(field).ok()).collect();
            ids.sort();
            ids.dedup();
            ids
        };
        let (actors, recipients, videos, comments) = (ids("actor"), ids("recipient"), ids("video"), ids("comment"));
        let read = |name: &'static str, filter: Document, projection: Document| async move {
            let found: Vec<Document> = self
                .collection(name)
                .find(filter)
                .projection(projection)
                .await
                .map_err(backend)?
                .try_collect()
                .await
                .map_err(backend)?;
            StoreResult::Ok(found)
        };
        let (live, blocks, videos, comments) = tokio::try_join!(
            self.ids_where(coll::USERS, doc! { "_id": { "$in": &actors }, "suspendedReason": null }),
            read(
                coll::BLOCKS,
                doc! { "blocker": { "$in": &recipients }, "blocked": { "$in": &actors } },
                doc! { "blocker": 1, "blocked": 1 }
            ),
            read(
                coll::VIDEOS,
                doc! { "_id": { "$in": &videos } },
                doc! { "owner": 1, "isPublished": 1, "visibility": 1 }
            ),
            self.ids_where(coll::COMMENTS, doc! { "_id": { "$in": &comments }, "hidden": { "$ne": true } }),
        )?;
        let mut targets = Targets {
            live_actors: live.into_iter().collect(),
            blocks: blocks
                .iter()
                .filter_map(|b| Some((b.get_object_id("blocker").ok()?, b.get_object_id("blocked").ok()?)))
                .collect(),
            shown_comments: comments.into_iter().collect(),
            ..Targets::default()
        };
        for video in &videos {
            targets.add_video(video);
        }
        Ok(targets)
    }

    /// The recipient's kept totals: shown notifications, shown unread ones (0 before the first).
    async fn notification_counts(&self, recipient: ObjectId) -> StoreResult<(u64, u64)> {
        let counts = counters::counts(RecordKind::Notifications);
        let projection: Document = counts.iter().map(|count| (count.field.to_owned(), 1.into())).collect();
        let holder = self
            .collection(counts[0].collection())
            .find_one(doc! { "_id": recipient })
            .projection(projection)
            .await
            .map_err(backend)?;
        let stored = |count| holder.as_ref().and_then(|h| counters::stored(h, count, None)).unwrap_or(0).max(0) as u64;
        Ok((stored(&counts[0]), stored(&counts[1])))
    }

    /// Inserts new notifications counted as shown, bumps their recipients' totals, then settles
    /// them (a target may have changed since the caller decided to tell).
    async fn insert_notifications(&self, notifications: Vec<Document>) -> StoreResult<()> {
        if notifications.is_empty() {
            return Ok(());
        }
        let ids: Vec<ObjectId> = notifications.iter().filter_map(|n| n.get_object_id("_id").ok()).collect();
        let bumps = notifications
            .iter()
            .flat_map(|n| counters::bumps_of(RecordKind::Notifications, n, None, 1))
            .collect::<Vec<_>>();
        self.collection(coll::NOTIFICATIONS).insert_many(notifications).await.map_err(backend)?;
        self.apply(bumps).await?;
        self.settle_notifications(&ids, Settling::Check).await
    }

    async fn shown_notifications(&self, pipeline: Vec<Document>) -> StoreResult<Vec<(ObjectId, Notification)>> {
        let docs: Vec<ShownNotificationDoc> = self.aggregate_as(coll::NOTIFICATIONS, pipeline).await?;
        Ok(docs.into_iter().filter_map(ShownNotificationDoc::into_notification).collect())
    }

    /// Deletes the notifications matching `filter`, each leaving its recipient's totals.
    async fn delete_notifications(&self, filter: Document) -> StoreResult<u64> {
        let kind = RecordKind::Notifications;
        let step = Step { kind, collection: coll::NOTIFICATIONS, filter, change: Change::Delete };
        self.delete_counted(&step).await
    }

    /// Among `users`, those who are to be told of `kind` by `actor`: the type on, the actor not blocked.
    async fn told(&self, users: Vec<ObjectId>, kind: NotificationType, actor: ObjectId) -> StoreResult<Vec<ObjectId>> {
        if users.is_empty() {
            return Ok(users);
        }
        let off = self.ids_where(coll::NOTIFICATION_SETTINGS, q::switched_off(&users, kind)).await?;
        let cursor = self.collection(coll::BLOCKS).find(q::blocking(&users, actor)).await.map_err(backend)?;
        let blocks: Vec<Document> = cursor.try_collect().await.map_err(backend)?;
        let blocking: Vec<ObjectId> = blocks.iter().filter_map(|b| b.get_object_id("blocker").ok()).collect();
        Ok(users.into_iter().filter(|u| !off.contains(u) && !blocking.contains(u)).collect())
    }
}

#[async_trait]
impl NotificationRepo for MongoStore {
    async fn notify(&self, n: NewNotification) -> StoreResult<bool> {
        let actor = oid(n.actor);
        let decided = now();
        if self.told(vec![oid(n.recipient)], n.kind, actor).await?.is_empty() {
            return Ok(false);
        }
        let mut notification = doc! { "_id": ObjectId::new() };
        notification.extend(q::notification_fields(
            oid(n.recipient),
            n.kind,
            actor,
            n.video.map(oid),
            n.comment.map(oid),
            false,
            now(),
        ));
        notification.extend(q::counted_as_shown(decided));
        self.insert_notifications(vec![notification]).await?;
        Ok(true)
    }

    async fn claim_announcement(&self, video: Id) -> StoreResult<bool> {
        let (filter, update) = q::claim(oid(video));
        let claimed = self.collection(coll::VIDEOS).update_one(filter, update).await.map_err(backend)?;
        Ok(claimed.modified_count == 1)
    }

    async fn announce_batch(
        &self,
        channel: Id,
        video: Id,
        after: Option<FanoutCursor>,
        limit: u32,
    ) -> StoreResult<Option<FanoutCursor>> {
        let (channel, video) = (oid(channel), oid(video));
        let after = after.map(|c| (date(c.created_at), oid(c.id)));
        let cursor = self
            .collection(coll::SUBSCRIPTIONS)
            .find(q::subscriptions_after(channel, after))
            .sort(doc! { "createdAt": 1, "_id": 1 })
            .limit(i64::from(limit))
            .projection(doc! { "subscriber": 1, "createdAt": 1 })
            .await
            .map_err(backend)?;
        let batch: Vec<Document> = cursor.try_collect().await.map_err(backend)?;
        let subscribers: Vec<ObjectId> = batch.iter().filter_map(|s| s.get_object_id("subscriber").ok()).collect();
        let decided = now();
        let at = now();
        let notifications: Vec<Document> = self
            .told(subscribers, NotificationType::NewVideo, channel)
            .await?
            .into_iter()
            .map(|recipient| {
                let mut n = doc! { "_id": ObjectId::new() };
                n.extend(q::notification_fields(
                    recipient,
                    NotificationType::NewVideo,
                    channel,
                    Some(video),
                    None,
                    false,
                    at,
                ));
                n.extend(q::counted_as_shown(decided));
                n
            })
            .collect();
        self.insert_notifications(notifications).await?;
        if batch.len() < limit as usize {
            return Ok(None);
        }
        let last = batch.last().and_then(|s| Some((s.get_datetime("createdAt").ok()?, s.get_object_id("_id").ok()?)));
        Ok(last.map(|(at, id)| FanoutCursor { created_at: time(*at), id: id_of(id) }))
    }

    async fn list(
        &self,
        recipient: Id,
        unread_only: bool,
        offset: u64,
        limit: u32,
    ) -> StoreResult<(Vec<Notification>, u64)> {
        let recipient = oid(recipient);
        let (page, (shown, unread)) = tokio::try_join!(
            self.shown_notifications(q::page(recipient, unread_only, offset, limit)),
            self.notification_counts(recipient)
        )?;
        Ok((page.into_iter().map(|(_, n)| n).collect(), if unread_only { unread } else { shown }))
    }

    async fn unread(&self, recipient: Id) -> StoreResult<u64> {
        Ok(self.notification_counts(oid(recipient)).await?.1)
    }

    async fn mark_read(&self, recipient: Id, id: Id) -> StoreResult<bool> {
        let filter = doc! { "_id": oid(id), "recipient": oid(recipient) };
        let before = self
            .collection(coll::NOTIFICATIONS)
            .find_one_and_update(filter, doc! { "$set": { "read": true } })
            .projection(counters::counted_fields(RecordKind::Notifications))
            .return_document(ReturnDocument::Before)
            .await
            .map_err(backend)?;
        let Some(before) = before else { return Ok(false) };
        let mut after = before.clone();
        after.insert("read", true);
        self.apply(counters::moved(RecordKind::Notifications, &[(before, after)])).await?;
        Ok(true)
    }

    async fn mark_all_read(&self, recipient: Id) -> StoreResult<()> {
        // Those not shown first (they count nowhere), then the shown ones, which leave the unread
        // count by as many as were marked; each is matched with its state at its own update, so a
        // notification settled meanwhile is marked in the next step (or the last).
        let recipient = oid(recipient);
        let notifications = self.collection(coll::NOTIFICATIONS);
        let read = doc! { "$set": { "read": true } };
        for shown in [false, true, false] {
            let mut filter = q::of(recipient, true);
            filter.insert(SHOWN, if shown { bson::Bson::Boolean(true) } else { doc! { "$ne": true }.into() });
            let marked = notifications.update_many(filter, read.clone()).await.map_err(backend)?;
            if shown && marked.modified_count > 0 {
                let unread = &counters::counts(RecordKind::Notifications)[1];
                let bump = counters::bump(unread, Some(recipient), None, -(marked.modified_count as i64));
                self.apply(bump.into_iter().collect()).await?;
            }
        }
        Ok(())
    }

    async fn after(&self, recipient: Id, after: Id, limit: u32) -> StoreResult<Vec<Notification>> {
        let (recipient, after) = (oid(recipient), oid(after));
        let found = self
            .collection(coll::NOTIFICATIONS)
            .find_one(doc! { "_id": after, "recipient": recipient })
            .projection(doc! { "createdAt": 1 })
            .await
            .map_err(backend)?;
        let Some(at) = found.and_then(|d| d.get_datetime("createdAt").ok().copied()) else { return Ok(Vec::new()) };
        let shown = self.shown_notifications(q::oldest_first(q::after(recipient, at, after), recipient, limit)).await?;
        Ok(shown.into_iter().map(|(_, n)| n).collect())
    }

    async fn created_since(
        &self,
        from: Timestamp,
        recipients: &[Id],
        limit: u32,
    ) -> StoreResult<Vec<(Id, Notification)>> {
        let recipients: Vec<ObjectId> = recipients.iter().copied().map(oid).collect();
        // The recipients with anything new, then each one's shown notifications (the shown filter
        // depends on the recipient).
        let with_news = self
            .collection(coll::NOTIFICATIONS)
            .distinct("recipient", q::since(date(from), &recipients))
            .await
            .map_err(backend)?;
        let mut found = Vec::new();
        for recipient in with_news.into_iter().filter_map(|r| r.as_object_id()) {
            let filter = q::since(date(from), &[recipient]);
            for (recipient, n) in self.shown_notifications(q::oldest_first(filter, recipient, limit)).await? {
                found.push((id_of(recipient), n));
            }
        }
        found.sort_by_key(|(_, n)| (n.created_at, n.id));
        found.truncate(limit as usize);
        Ok(found)
    }

    async fn forget_subscriber(&self, channel: Id, subscriber: Id) -> StoreResult<()> {
        self.delete_notifications(q::subscriber_of(oid(channel), oid(subscriber))).await.map(drop)
    }

    async fn prune(&self, before: Timestamp) -> StoreResult<u64> {
        self.delete_notifications(doc! { "createdAt": { "$lt": date(before) } }).await
    }

    async fn settings(&self, user: Id) -> StoreResult<NotificationSettings> {
        let found =
            self.collection(coll::NOTIFICATION_SETTINGS).find_one(doc! { "_id": oid(user) }).await.map_err(backend)?;
        match found {
            Some(document) => Ok(decode::<SettingsDoc>(document)?.settings()),
            None => Ok(NotificationSettings::default()),
        }
    }

    async fn save_settings(&self, user: Id, settings: NotificationSettings) -> StoreResult<()> {
        // Inserted the first time, the unique `_id` arbitrating (no upsert: docs/architecture.md §7),
        // then updated.
        let fields = q::settings_fields(settings, now());
        let mut first = doc! { "_id": oid(user) };
        first.extend(fields.clone());
        let collection = self.collection(coll::NOTIFICATION_SETTINGS);
        match collection.insert_one(first).await.map_err(conflict_on("settings")) {
            Ok(_) => Ok(()),
            Err(e) if is_conflict(&e) => {
                collection.update_one(doc! { "_id": oid(user) }, doc! { "$set": fields }).await.map_err(backend)?;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

/// The task working through queued changes (`settle_queued`) while the store is in use: it stops
/// at `close` or when the last handle of the store that started it goes.
#[derive(Default)]
pub(super) struct Settler(Mutex<Option<JoinHandle<()>>>);

impl Settler {
    pub(super) fn start(store: MongoStore) -> Self {
        let task = tokio::spawn(async move {
            loop {
                match store.settle_queued().await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "settling queued notifications failed; trying again"),
                }
                tokio::time::sleep(SETTLER_PAUSE).await;
            }
        });
        Settler(Mutex::new(Some(task)))
    }

    pub(super) fn stop(&self) {
        if let Some(task) = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
            task.abort();
        }
    }
}

impl Drop for Settler {
    fn drop(&mut self) {
        self.stop();
    }
}
