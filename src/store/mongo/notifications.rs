//! MongoDB persistence of notifications and their settings (`queries::notifications`).

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{Document, doc};
use futures_util::TryStreamExt;

use super::docs::{SettingsDoc, ShownNotificationDoc, time};
use super::queries::notifications as q;
use super::{MongoStore, backend, coll, conflict_on, date, decode, id_of, is_conflict, now, oid};
use crate::domain::notification::{NewNotification, Notification, NotificationSettings, NotificationType};
use crate::domain::{Id, Timestamp};
use crate::store::{FanoutCursor, NotificationRepo, StoreResult};

impl MongoStore {
    async fn shown_notifications(&self, pipeline: Vec<Document>) -> StoreResult<Vec<(ObjectId, Notification)>> {
        let docs: Vec<ShownNotificationDoc> = self.aggregate_as(coll::NOTIFICATIONS, pipeline).await?;
        Ok(docs.into_iter().filter_map(ShownNotificationDoc::into_notification).collect())
    }

    async fn shown_total(&self, recipient: ObjectId, unread_only: bool) -> StoreResult<u64> {
        let counted = self.aggregate(coll::NOTIFICATIONS, q::total(recipient, unread_only)).await?;
        Ok(counted.first().and_then(|d| d.get_i32("n").ok()).map_or(0, |n| n as u64))
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
        self.collection(coll::NOTIFICATIONS).insert_one(notification).await.map_err(backend)?;
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
                n
            })
            .collect();
        if !notifications.is_empty() {
            self.collection(coll::NOTIFICATIONS).insert_many(notifications).await.map_err(backend)?;
        }
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
        let (page, total) = tokio::try_join!(
            self.shown_notifications(q::page(recipient, unread_only, offset, limit)),
            self.shown_total(recipient, unread_only)
        )?;
        Ok((page.into_iter().map(|(_, n)| n).collect(), total))
    }

    async fn unread(&self, recipient: Id) -> StoreResult<u64> {
        self.shown_total(oid(recipient), true).await
    }

    async fn mark_read(&self, recipient: Id, id: Id) -> StoreResult<bool> {
        let filter = doc! { "_id": oid(id), "recipient": oid(recipient) };
        let marked = self
            .collection(coll::NOTIFICATIONS)
            .update_one(filter, doc! { "$set": { "read": true } })
            .await
            .map_err(backend)?;
        Ok(marked.matched_count == 1)
    }

    async fn mark_all_read(&self, recipient: Id) -> StoreResult<()> {
        self.collection(coll::NOTIFICATIONS)
            .update_many(q::of(oid(recipient), true), doc! { "$set": { "read": true } })
            .await
            .map_err(backend)?;
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
        self.collection(coll::NOTIFICATIONS)
            .delete_many(q::subscriber_of(oid(channel), oid(subscriber)))
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn prune(&self, before: Timestamp) -> StoreResult<u64> {
        let pruned = self
            .collection(coll::NOTIFICATIONS)
            .delete_many(doc! { "createdAt": { "$lt": date(before) } })
            .await
            .map_err(backend)?;
        Ok(pruned.deleted_count)
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
