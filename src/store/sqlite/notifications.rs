//! SQLite persistence of notifications and their settings. Whether a notification is shown is
//! decided when it is read, from its targets as they are then (D25): the joins below.

use std::sync::LazyLock;

use async_trait::async_trait;
use rusqlite::OptionalExtension;

use super::rows::OwnerRow;
use super::sql::{page_clause, visible_sql};
use super::{SqliteStore, now, parse_id};
use crate::domain::choice::Choice;
use crate::domain::notification::{
    NewNotification, Notification, NotificationSettings, NotificationType, NotifiedComment, NotifiedVideo,
};
use crate::domain::visibility::Place;
use crate::domain::{Id, Timestamp};
use crate::store::{FanoutCursor, NotificationRepo, StoreError, StoreResult};

/// Notifications `n` with their actor `a`, video `v` and comment `c`, as `NotificationRow` reads them.
const SELECT: &str = "SELECT n.id, n.type, n.read, n.created_at, a.id, a.username, a.full_name, a.avatar, \
     v.id, v.title, v.thumbnail, c.id, c.content, n.recipient_id \
     FROM notifications n JOIN users a ON a.id = n.actor_id \
     LEFT JOIN videos v ON v.id = n.video_id LEFT JOIN comments c ON c.id = n.comment_id";

/// The notifications their recipient is shown: the actor not suspended nor blocked by the
/// recipient, the comment not hidden, the video one the recipient sees (a `new_video` one still
/// listed: public).
static SHOWN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "a.suspended_reason IS NULL \
         AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = n.recipient_id AND b.blocked_id = n.actor_id) \
         AND (n.comment_id IS NULL OR c.hidden = 0) \
         AND (n.video_id IS NULL OR (n.type = 'new_video' AND {listed}) OR (n.type <> 'new_video' AND {by_link}))",
        listed = visible_sql("v", Place::Listing, None),
        by_link = visible_sql("v", Place::ByLink, Some("n.recipient_id")),
    )
});

/// A page of the recipient `?1`'s notifications (`?2`: unread only), newest first (limit `?3`,
/// offset `?4`), through `notifications_recipient_created` or `_unread`.
static PAGE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{SELECT} WHERE n.recipient_id = ?1 AND (?2 = 0 OR n.read = 0) AND {} \
         ORDER BY n.created_at DESC, n.id DESC {}",
        *SHOWN,
        page_clause("?3", "?4")
    )
});

static TOTAL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT COUNT(*) FROM notifications n JOIN users a ON a.id = n.actor_id \
         LEFT JOIN videos v ON v.id = n.video_id LEFT JOIN comments c ON c.id = n.comment_id \
         WHERE n.recipient_id = ?1 AND (?2 = 0 OR n.read = 0) AND {}",
        *SHOWN
    )
});

/// The recipient `?1`'s shown notifications after the id `?2`, oldest first (limit `?3`).
static AFTER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{SELECT} WHERE n.recipient_id = ?1 \
         AND (n.created_at, n.id) > ((SELECT created_at FROM notifications WHERE id = ?2), ?2) AND {} ORDER BY n.created_at, n.id LIMIT (?3 + 0)",
        *SHOWN
    )
});

/// The shown notifications of the recipients `?3` (a JSON array) created at `?1` or later, oldest
/// first (limit `?2`), through an index of the notifications (per recipient, or by creation).
static SINCE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{SELECT} WHERE n.created_at >= ?1 AND n.recipient_id IN (SELECT value FROM json_each(?3)) AND {} \
         ORDER BY n.created_at, n.id LIMIT (?2 + 0)",
        *SHOWN
    )
});

/// Stores `?1` unless the recipient `?2` switched the type `?3` off (`?8` is its settings column)
/// or blocks the actor `?4`.
const NOTIFY: &str = "INSERT INTO notifications (id, recipient_id, type, actor_id, video_id, comment_id, read, \
     created_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6, 0, ?7 \
     WHERE NOT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ?2 AND blocked_id = ?4) \
     AND COALESCE((SELECT CASE ?3 WHEN 'new_video' THEN new_video WHEN 'comment' THEN comment \
     WHEN 'reply' THEN reply ELSE subscriber END FROM notification_settings WHERE user_id = ?2), 1) = 1";

const CLAIM: &str = "UPDATE videos SET announced = 1 WHERE id = ?1 AND announced = 0";

/// The next subscribers of the channel `?1` after the subscription (`?2` created, `?3` id), in
/// subscription order, limit `?4`, with whether each is to be told (type on, channel not blocked).
const SUBSCRIBERS: &str = "SELECT s.subscriber_id, s.created_at, s.id, \
     COALESCE((SELECT new_video FROM notification_settings WHERE user_id = s.subscriber_id), 1) = 1 \
     AND NOT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = s.subscriber_id AND blocked_id = ?1) \
     FROM subscriptions s WHERE s.channel_id = ?1 AND (s.created_at, s.id) > (?2, ?3) \
     ORDER BY s.created_at, s.id LIMIT (?4 + 0)";

const INSERT_NEW_VIDEO: &str = "INSERT INTO notifications (id, recipient_id, type, actor_id, video_id, comment_id, \
     read, created_at) VALUES (?1, ?2, 'new_video', ?3, ?4, NULL, 0, ?5)";

const MARK_READ: &str = "UPDATE notifications SET read = 1 WHERE id = ?2 AND recipient_id = ?1";
const EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM notifications WHERE id = ?2 AND recipient_id = ?1)";
const MARK_ALL_READ: &str = "UPDATE notifications SET read = 1 WHERE recipient_id = ?1 AND read = 0";
const FORGET_SUBSCRIBER: &str =
    "DELETE FROM notifications WHERE actor_id = ?2 AND recipient_id = ?1 AND type = 'subscriber'";
const PRUNE: &str = "DELETE FROM notifications WHERE created_at < ?1";

const SETTINGS: &str = "SELECT new_video, comment, reply, subscriber FROM notification_settings WHERE user_id = ?1";
/// Writes a user's settings (`?1`), the saved ones and the copied ones (`migrate`) alike.
pub(super) const SAVE_SETTINGS: &str = "INSERT INTO notification_settings (user_id, new_video, comment, reply, subscriber, \
     updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (user_id) DO UPDATE SET new_video = excluded.new_video, \
     comment = excluded.comment, reply = excluded.reply, subscriber = excluded.subscriber, \
     updated_at = excluded.updated_at";

/// The columns of `SELECT`.
struct NotificationRow {
    id: String,
    kind: String,
    read: bool,
    created_at: i64,
    actor: OwnerRow,
    video: Option<(String, String, String)>,
    comment: Option<(String, String)>,
    recipient: String,
}

impl NotificationRow {
    fn read(row: &rusqlite::Row) -> rusqlite::Result<Self> {
        let video = match row.get::<_, Option<String>>(8)? {
            Some(id) => Some((id, row.get(9)?, row.get(10)?)),
            None => None,
        };
        let comment = match row.get::<_, Option<String>>(11)? {
            Some(id) => Some((id, row.get(12)?)),
            None => None,
        };
        Ok(NotificationRow {
            id: row.get(0)?,
            kind: row.get(1)?,
            read: row.get(2)?,
            created_at: row.get(3)?,
            actor: OwnerRow::read(row, 4)?,
            video,
            comment,
            recipient: row.get(13)?,
        })
    }

    fn into_notification(self) -> StoreResult<(Id, Notification)> {
        let kind = NotificationType::parse(&self.kind)
            .ok_or_else(|| StoreError::backend(format!("unknown notification type {:?}", self.kind)))?;
        let video = match self.video {
            Some((id, title, thumbnail)) => Some(NotifiedVideo { id: parse_id(&id)?, title, thumbnail }),
            None => None,
        };
        let comment = match self.comment {
            Some((id, content)) => Some(NotifiedComment { id: parse_id(&id)?, content }),
            None => None,
        };
        let notification = Notification {
            id: parse_id(&self.id)?,
            kind,
            actor: self.actor.into_summary()?,
            video,
            comment,
            read: self.read,
            created_at: Timestamp(self.created_at),
        };
        Ok((parse_id(&self.recipient)?, notification))
    }
}

fn shown(rows: Vec<NotificationRow>) -> StoreResult<Vec<Notification>> {
    rows.into_iter().map(|row| row.into_notification().map(|(_, n)| n)).collect()
}

#[async_trait]
impl NotificationRepo for SqliteStore {
    async fn notify(&self, n: NewNotification) -> StoreResult<bool> {
        let row = (
            Id::generate().to_hex(),
            n.recipient.to_hex(),
            n.kind.as_str(),
            n.actor.to_hex(),
            n.video.map(Id::to_hex),
            n.comment.map(Id::to_hex),
            now(),
        );
        Ok(self.writes.write(move |db| db.prepare_cached(NOTIFY)?.execute(row)).await? == 1)
    }

    async fn claim_announcement(&self, video: Id) -> StoreResult<bool> {
        let video = video.to_hex();
        Ok(self.writes.write(move |db| db.prepare_cached(CLAIM)?.execute([video])).await? == 1)
    }

    async fn announce_batch(
        &self,
        channel: Id,
        video: Id,
        after: Option<FanoutCursor>,
        limit: u32,
    ) -> StoreResult<Option<FanoutCursor>> {
        let (channel, video) = (channel.to_hex(), video.to_hex());
        let (created, id) = after.map_or((i64::MIN, String::new()), |c| (c.created_at.millis(), c.id.to_hex()));
        let last = self
            .writes
            .transaction(move |tx| {
                let batch = tx
                    .prepare_cached(SUBSCRIBERS)?
                    .query_map((&channel, created, &id, limit), |row| {
                        Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?, row.get::<_, String>(2)?, row.get(3)?))
                    })?
                    .collect::<rusqlite::Result<Vec<(String, i64, String, bool)>>>()?;
                let at = now();
                let mut insert = tx.prepare_cached(INSERT_NEW_VIDEO)?;
                for (subscriber, _, _, told) in &batch {
                    if *told {
                        insert.execute((Id::generate().to_hex(), subscriber, &channel, &video, at))?;
                    }
                }
                Ok((batch.len() == limit as usize).then(|| batch.last().map(|(_, c, i, _)| (*c, i.clone()))).flatten())
            })
            .await?;
        match last {
            Some((created, id)) => Ok(Some(FanoutCursor { created_at: Timestamp(created), id: parse_id(&id)? })),
            None => Ok(None),
        }
    }

    async fn list(
        &self,
        recipient: Id,
        unread_only: bool,
        offset: u64,
        limit: u32,
    ) -> StoreResult<(Vec<Notification>, u64)> {
        let recipient = recipient.to_hex();
        let (rows, total) = self.reads.read(|db| {
            let rows = db
                .prepare_cached(&PAGE)?
                .query_map((&recipient, unread_only, limit, offset as i64), NotificationRow::read)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let total: i64 = db.prepare_cached(&TOTAL)?.query_row((&recipient, unread_only), |row| row.get(0))?;
            Ok((rows, total as u64))
        })?;
        Ok((shown(rows)?, total))
    }

    async fn unread(&self, recipient: Id) -> StoreResult<u64> {
        let recipient = recipient.to_hex();
        let unread: i64 =
            self.reads.read(|db| db.prepare_cached(&TOTAL)?.query_row((&recipient, true), |row| row.get(0)))?;
        Ok(unread as u64)
    }

    async fn mark_read(&self, recipient: Id, id: Id) -> StoreResult<bool> {
        let pair = (recipient.to_hex(), id.to_hex());
        self.writes
            .write(move |db| {
                db.prepare_cached(MARK_READ)?.execute((&pair.0, &pair.1))?;
                db.prepare_cached(EXISTS)?.query_row((&pair.0, &pair.1), |row| row.get(0))
            })
            .await
    }

    async fn mark_all_read(&self, recipient: Id) -> StoreResult<()> {
        let recipient = recipient.to_hex();
        self.writes.write(move |db| db.prepare_cached(MARK_ALL_READ)?.execute([recipient])).await?;
        Ok(())
    }

    async fn after(&self, recipient: Id, after: Id, limit: u32) -> StoreResult<Vec<Notification>> {
        let binds = (recipient.to_hex(), after.to_hex(), limit);
        let rows = self.reads.read(|db| {
            db.prepare_cached(&AFTER)?.query_map(binds, NotificationRow::read)?.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        shown(rows)
    }

    async fn created_since(
        &self,
        from: Timestamp,
        recipients: &[Id],
        limit: u32,
    ) -> StoreResult<Vec<(Id, Notification)>> {
        let recipients = serde_json::to_string(&recipients.iter().map(|r| r.to_hex()).collect::<Vec<_>>())
            .map_err(StoreError::backend)?;
        let rows = self.reads.read(|db| {
            db.prepare_cached(&SINCE)?
                .query_map((from.millis(), limit, &recipients), NotificationRow::read)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })?;
        rows.into_iter().map(NotificationRow::into_notification).collect()
    }

    async fn forget_subscriber(&self, channel: Id, subscriber: Id) -> StoreResult<()> {
        let pair = (channel.to_hex(), subscriber.to_hex());
        self.writes.write(move |db| db.prepare_cached(FORGET_SUBSCRIBER)?.execute(pair)).await?;
        Ok(())
    }

    async fn prune(&self, before: Timestamp) -> StoreResult<u64> {
        let before = before.millis();
        Ok(self.writes.write(move |db| db.prepare_cached(PRUNE)?.execute([before])).await? as u64)
    }

    async fn settings(&self, user: Id) -> StoreResult<NotificationSettings> {
        let stored = self.reads.read(|db| {
            db.prepare_cached(SETTINGS)?
                .query_row([user.to_hex()], |row| {
                    Ok(NotificationSettings {
                        new_video: row.get(0)?,
                        comment: row.get(1)?,
                        reply: row.get(2)?,
                        subscriber: row.get(3)?,
                    })
                })
                .optional()
        })?;
        Ok(stored.unwrap_or_default())
    }

    async fn save_settings(&self, user: Id, s: NotificationSettings) -> StoreResult<()> {
        let row = (user.to_hex(), s.new_video, s.comment, s.reply, s.subscriber, now());
        self.writes.write(move |db| db.prepare_cached(SAVE_SETTINGS)?.execute(row)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::{query_plan, test_store};

    #[tokio::test]
    async fn pages_and_counts_are_read_through_the_recipient_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        let plan = query_plan(&store, &PAGE, &["a", "0", "20", "0"]).join("\n");
        assert!(plan.contains("notifications_recipient"), "{plan}");
        let plan = query_plan(&store, &TOTAL, &["a", "1"]).join("\n");
        assert!(plan.contains("notifications_recipient"), "{plan}");
        let plan = query_plan(&store, &SINCE, &["0", "100", "[]"]).join("\n");
        assert!(plan.contains("USING INDEX notifications_"), "{plan}");
    }
}
