//! SQLite persistence of notifications and their settings. Whether a notification is shown is
//! decided from its targets as they are (D25): lists join them when read (`SHOWN`); each row also
//! keeps it as `shown`, set by triggers when a target changes, and the counts of migration 0019
//! follow `shown`, so totals are one lookup.
//!
//! The triggers that set `shown` are made here, from the visibility rule, when the store opens
//! ([`keep_shown_in_step`]). A change settles at once the first `WINDOW` notifications it touches;
//! a change touching more (a popular video made private, a suspended channel) is queued in
//! `notification_refresh` and settled in the background, `WINDOW` per write ([`settle_shown`]):
//! its lists are right at once, its totals within moments.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use rusqlite::OptionalExtension;

use super::access::{Reads, Writes};
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

/// The actor `a`, video `v` and comment `c` of the notification `n`, joined after `n`.
macro_rules! targets {
    () => {
        " JOIN users a ON a.id = n.actor_id LEFT JOIN videos v ON v.id = n.video_id \
         LEFT JOIN comments c ON c.id = n.comment_id"
    };
}

/// Notifications `n` with their actor `a`, video `v` and comment `c`, as `NotificationRow` reads them.
const SELECT: &str = concat!(
    "SELECT n.id, n.type, n.read, n.created_at, a.id, a.username, a.full_name, a.avatar, \
     v.id, v.title, v.thumbnail, c.id, c.content, n.recipient_id FROM notifications n",
    targets!()
);

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

/// The recipient `?1`'s shown notifications and shown unread ones (migration 0019's counts).
const TOTALS: &str = "SELECT shown, unread FROM notification_counts WHERE recipient_id = ?1";

/// Adds a new notification to its recipient's counts, in the trigger that follows its creation.
const COUNT_CREATED: &str = "INSERT INTO notification_counts (recipient_id, shown, unread) \
     VALUES (NEW.recipient_id, NEW.shown, NEW.shown AND NOT NEW.read) ON CONFLICT (recipient_id) \
     DO UPDATE SET shown = shown + excluded.shown, unread = unread + excluded.unread; ";

/// `SHOWN` as 1 or 0, for the row `n` and its targets.
static SHOWN_VALUE: LazyLock<String> = LazyLock::new(|| format!("CASE WHEN {} THEN 1 ELSE 0 END", *SHOWN));

/// How many notifications a change settles in one write.
const WINDOW: u32 = 500;

/// A change that can show or hide notifications: the trigger that follows it (`None`: no
/// trigger, only queued; its `WHEN` skips writes that leave what `SHOWN` reads as it was), the notifications it touches (`{a}`, `{b}`: the changed row's keys) and
/// those keys in the trigger. Its `name` is the `target` of its queued refreshes.
struct ShownTarget {
    name: &'static str,
    event: Option<&'static str>,
    scope: &'static str,
    keys: [&'static str; 2],
}

/// Every change that decides whether a notification is shown (what `SHOWN` reads), once.
const SHOWN_TARGETS: [ShownTarget; 7] = [
    ShownTarget {
        name: "created",
        event: Some("AFTER INSERT ON notifications"),
        scope: "rowid = {a}",
        keys: ["NEW.rowid", "NULL"],
    },
    ShownTarget {
        name: "actor",
        event: Some(
            "AFTER UPDATE OF suspended_reason ON users \
             WHEN (OLD.suspended_reason IS NULL) <> (NEW.suspended_reason IS NULL)",
        ),
        scope: "actor_id = {a}",
        keys: ["NEW.id", "NULL"],
    },
    ShownTarget {
        name: "blocked",
        event: Some("AFTER INSERT ON blocks"),
        scope: "actor_id = {b} AND recipient_id = {a}",
        keys: ["NEW.blocker_id", "NEW.blocked_id"],
    },
    ShownTarget {
        name: "unblocked",
        event: Some("AFTER DELETE ON blocks"),
        scope: "actor_id = {b} AND recipient_id = {a}",
        keys: ["OLD.blocker_id", "OLD.blocked_id"],
    },
    ShownTarget {
        name: "comment",
        event: Some("AFTER UPDATE OF hidden ON comments WHEN OLD.hidden <> NEW.hidden"),
        scope: "comment_id = {a}",
        keys: ["NEW.id", "NULL"],
    },
    ShownTarget {
        name: "video",
        event: Some("AFTER UPDATE OF visibility ON videos WHEN OLD.visibility IS NOT NEW.visibility"),
        scope: "video_id = {a}",
        keys: ["NEW.id", "NULL"],
    },
    // Every notification: queued when the triggers are (re)made, as the rule may have changed.
    ShownTarget { name: "all", event: None, scope: "1", keys: ["''", "NULL"] },
];

impl ShownTarget {
    fn named(name: &str) -> Option<&'static ShownTarget> {
        SHOWN_TARGETS.iter().find(|t| t.name == name)
    }

    /// The scope over the keys `a` and `b` (SQL expressions).
    fn scope(&self, a: &str, b: &str) -> String {
        self.scope.replace("{a}", a).replace("{b}", b)
    }

    /// The trigger, when the target has one: it settles the first `WINDOW` notifications the
    /// change touches and queues the change when it touches more. A new notification is first
    /// added to the counts as it was written (shown): settling it then moves them like any change,
    /// whichever of the table's triggers runs first.
    fn trigger(&self) -> Option<String> {
        let event = self.event?;
        let [a, b] = self.keys;
        let scope = self.scope(a, b);
        let counted = if self.name == "created" { COUNT_CREATED } else { "" };
        Some(format!(
            "CREATE TRIGGER notifications_shown_{name} {event} BEGIN {counted}\
             UPDATE notifications SET shown = 1 - shown WHERE rowid IN (SELECT w.r FROM ({window}) w {joined} WHERE {differs}); \
             INSERT INTO notification_refresh (target, a, b) SELECT '{name}', {a}, {b} \
             WHERE EXISTS (SELECT 1 FROM notifications WHERE {scope} LIMIT 1 OFFSET {WINDOW}); END",
            name = self.name,
            window = window(&scope, "0"),
            joined = joined(),
            differs = differs(),
        ))
    }
}

/// The next `WINDOW` notifications of `scope` after the rowid `after`, as `w.r`.
fn window(scope: &str, after: &str) -> String {
    format!("SELECT rowid AS r FROM notifications WHERE {scope} AND rowid > {after} ORDER BY rowid LIMIT {WINDOW}")
}

/// Joins the window `w` to its notifications `n` and their targets.
fn joined() -> String {
    format!("JOIN notifications n ON n.rowid = w.r{}", targets!())
}

/// Whether the `shown` of `n` is not what `SHOWN` gives.
fn differs() -> String {
    format!("n.shown <> {}", *SHOWN_VALUE)
}

/// Makes the triggers of `SHOWN_TARGETS` as this build has them, when the database has other ones
/// (or none: just migrated; or one this build no longer makes), and then queues every
/// notification to be settled. Run at open.
pub(super) fn keep_shown_in_step(db: &mut rusqlite::Connection) -> rusqlite::Result<()> {
    let wanted: Vec<(String, String)> = SHOWN_TARGETS
        .iter()
        .filter_map(|t| t.trigger().map(|sql| (format!("notifications_shown_{}", t.name), sql)))
        .collect();
    let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let made: Vec<(String, String)> = tx
        .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND name LIKE 'notifications\\_shown\\_%' ESCAPE '\\' ORDER BY name")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut sorted = wanted.clone();
    sorted.sort();
    if made == sorted {
        return Ok(());
    }
    for (name, _) in &made {
        tx.execute_batch(&format!("DROP TRIGGER {name};"))?;
    }
    for (_, sql) in &wanted {
        tx.execute_batch(&format!("{sql};"))?;
    }
    tx.execute("INSERT INTO notification_refresh (target, a) VALUES ('all', '')", [])?;
    tx.commit()
}

/// How often the queue of refreshes is looked at while it is empty.
const SETTLE_PERIOD: std::time::Duration = std::time::Duration::from_millis(250);
/// The pause after a failed settling write (a full disk, say), so that it is not retried in a loop.
const SETTLE_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

/// Keeps the queued refreshes of `shown` being settled in the background, until [`Self::stop`] or
/// until this is dropped.
pub(super) struct ShownSettler {
    stopped: Arc<AtomicBool>,
}

impl ShownSettler {
    pub(super) fn start(reads: Arc<Reads>, writes: Writes) -> Self {
        let stopped = Arc::new(AtomicBool::new(false));
        let flag = stopped.clone();
        tokio::spawn(async move {
            const QUEUED: &str = "SELECT EXISTS (SELECT 1 FROM notification_refresh)";
            while !flag.load(Ordering::Relaxed) {
                // Looked at through the read path, so that an empty queue costs no write turn.
                let queued = reads.read(|db| db.prepare_cached(QUEUED)?.query_row([], |row| row.get::<_, bool>(0)));
                let pause = match queued {
                    Ok(false) => SETTLE_PERIOD,
                    Ok(true) => {
                        // Checked again in the write's turn: once stopped, nothing more is written.
                        let flag = flag.clone();
                        let settle = move |tx: &rusqlite::Transaction| {
                            if flag.load(Ordering::Relaxed) { Ok(false) } else { settle_shown(tx) }
                        };
                        match writes.transaction(settle).await {
                            Ok(_) => continue,
                            Err(error) => {
                                tracing::warn!(error = %crate::error::Chain(&error), "settling notifications failed");
                                SETTLE_RETRY
                            }
                        }
                    }
                    Err(_) => SETTLE_RETRY,
                };
                tokio::time::sleep(pause).await;
            }
        });
        ShownSettler { stopped }
    }

    /// No settling write starts after this (the store is closing); the queue waits for the next start.
    pub(super) fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
    }
}

impl Drop for ShownSettler {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Settles the next window of the oldest queued change; `false` when none is queued.
pub(super) fn settle_shown(tx: &rusqlite::Transaction) -> rusqlite::Result<bool> {
    let queued = tx
        .query_row("SELECT id, target, a, b, after FROM notification_refresh ORDER BY id LIMIT 1", [], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, i64>(4)?,
            ))
        })
        .optional()?;
    let Some((id, target, a, b, after)) = queued else { return Ok(false) };
    let Some(target) = ShownTarget::named(&target) else {
        tracing::warn!(target, "dropping a queued notification refresh of an unknown kind");
        tx.execute("DELETE FROM notification_refresh WHERE id = ?1", [id])?;
        return Ok(true);
    };
    // The window alone decides where the walk goes on, whatever the join below keeps.
    let window = window(&target.scope("?1", "?2"), "?3");
    let walked = tx
        .prepare_cached(&format!("SELECT COUNT(*), MAX(w.r) FROM ({window}) w"))?
        .query_row((&a, &b, after), |row| Ok((row.get::<_, i64>(0)?, row.get::<_, Option<i64>>(1)?)))?;
    let differing = format!("SELECT w.r FROM ({window}) w {} WHERE {}", joined(), differs());
    let flips = tx
        .prepare_cached(&differing)?
        .query_map((&a, &b, after), |row| row.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut flip = tx.prepare_cached("UPDATE notifications SET shown = 1 - shown WHERE rowid = ?1")?;
    for rowid in flips {
        flip.execute([rowid])?;
    }
    match walked {
        (count, Some(last)) if count == i64::from(WINDOW) => {
            tx.execute("UPDATE notification_refresh SET after = ?2 WHERE id = ?1", (id, last))?;
        }
        _ => {
            tx.execute("DELETE FROM notification_refresh WHERE id = ?1", [id])?;
        }
    }
    Ok(true)
}

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

/// The recipient's shown notifications and shown unread ones.
fn totals(db: &rusqlite::Connection, recipient: &str) -> rusqlite::Result<(u64, u64)> {
    let counts = db.prepare_cached(TOTALS)?.query_row([recipient], |row| Ok((row.get(0)?, row.get(1)?))).optional()?;
    let (shown, unread): (i64, i64) = counts.unwrap_or_default();
    Ok((shown as u64, unread as u64))
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
            let (shown, unread) = totals(db, &recipient)?;
            Ok((rows, if unread_only { unread } else { shown }))
        })?;
        Ok((shown(rows)?, total))
    }

    async fn unread(&self, recipient: Id) -> StoreResult<u64> {
        let recipient = recipient.to_hex();
        Ok(self.reads.read(|db| totals(db, &recipient))?.1)
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
        let plan = query_plan(&store, TOTALS, &["a"]).join("\n");
        assert!(plan.contains("SEARCH notification_counts USING PRIMARY KEY"), "{plan}");
        let plan = query_plan(&store, &SINCE, &["0", "100", "[]"]).join("\n");
        assert!(plan.contains("USING INDEX notifications_"), "{plan}");
    }

    /// A change touching more notifications than its trigger settles at once (a video with many
    /// subscribers made private, then public) is queued; the background settling brings every
    /// count to what the lists show.
    #[tokio::test]
    async fn a_change_touching_many_notifications_is_settled_in_the_background() {
        use crate::domain::visibility::Visibility;
        use crate::store::VideoRepo;

        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        let many = 2 * WINDOW as usize + 7;
        let (channel, video) = (Id::generate(), Id::generate());
        let seed = move |tx: &rusqlite::Transaction| {
            let user = "INSERT INTO users (id, username, email, full_name, avatar, avatar_key, password_hash, \
                 created_at, updated_at) VALUES (?1, ?2, ?2 || '@example.com', ?2, 'a', 'a', 'x', 0, 0)";
            tx.execute(user, (channel.to_hex(), "channel"))?;
            tx.execute(
                "INSERT INTO videos (id, owner_id, video_file, video_key, thumbnail, thumbnail_key, title, \
                 description, created_at, updated_at, visibility) VALUES (?1, ?2, 'v', 'v', 't', 't', 'T', 'd', 0, 0, 'public')",
                (video.to_hex(), channel.to_hex()),
            )?;
            for n in 0..many {
                let recipient = Id::generate().to_hex();
                tx.execute(user, (&recipient, format!("viewer{n}")))?;
                tx.execute(
                    INSERT_NEW_VIDEO,
                    (Id::generate().to_hex(), &recipient, channel.to_hex(), video.to_hex(), 1),
                )?;
            }
            Ok(())
        };
        store.writes.transaction(seed).await.unwrap();
        let shown = |store: &SqliteStore| -> i64 {
            let sql = "SELECT SUM(shown) + SUM(unread) FROM notification_counts";
            store.reads.read(|db| db.query_row(sql, [], |row| row.get(0))).unwrap()
        };
        let settled = async |store: &SqliteStore, want: i64| {
            for _ in 0..200 {
                if shown(store) == want {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            panic!("the counts were not settled to {want}: {}", shown(store));
        };
        assert_eq!(shown(&store), 2 * many as i64, "each shown and unread");

        store.set_visibility(video, Visibility::Private).await.unwrap();
        assert!(shown(&store) <= 2 * (many - WINDOW as usize) as i64, "the first window went with the change");
        settled(&store, 0).await;
        store.set_visibility(video, Visibility::Public).await.unwrap();
        settled(&store, 2 * many as i64).await;
        let queued: i64 = store
            .reads
            .read(|db| db.query_row("SELECT COUNT(*) FROM notification_refresh", [], |row| row.get(0)))
            .unwrap();
        assert_eq!(queued, 0);
    }

    /// The triggers are made again, and every notification queued, only when the rule changed.
    #[tokio::test]
    async fn an_unchanged_rule_keeps_its_triggers_and_queues_nothing() {
        let dir = tempfile::tempdir().unwrap();
        drop(test_store(&dir).await);
        let mut db = super::super::access::open_read_write(&dir.path().join("test.db")).unwrap();
        db.execute("DELETE FROM notification_refresh", []).unwrap();
        keep_shown_in_step(&mut db).unwrap();
        let queued = |db: &rusqlite::Connection| -> i64 {
            db.query_row("SELECT COUNT(*) FROM notification_refresh", [], |row| row.get(0)).unwrap()
        };
        assert_eq!(queued(&db), 0);
        db.execute_batch("DROP TRIGGER notifications_shown_video").unwrap();
        keep_shown_in_step(&mut db).unwrap();
        assert_eq!(queued(&db), 1, "every notification, once");
        let made: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'trigger' AND name LIKE 'notifications_shown_%'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(made, 6);
        // One an older build made and this one does not: gone, and every notification queued again.
        db.execute("DELETE FROM notification_refresh", []).unwrap();
        db.execute_batch("CREATE TRIGGER notifications_shown_old AFTER DELETE ON blocks BEGIN SELECT 1; END").unwrap();
        keep_shown_in_step(&mut db).unwrap();
        assert_eq!(queued(&db), 1);
        let stray: i64 = db
            .query_row("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'notifications_shown_old'", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(stray, 0);
    }

    /// The recipients whose kept counts differ from a count of what `SHOWN` shows them now:
    /// (recipient, shown by the rule, unread by the rule, kept shown, kept unread).
    fn drift(db: &rusqlite::Connection) -> Vec<(String, i64, i64, i64, i64)> {
        let sql = format!(
            "WITH live AS (SELECT n.recipient_id r, SUM({v}) s, SUM(({v}) AND n.read = 0) u \
             FROM notifications n{t} GROUP BY 1) \
             SELECT COALESCE(l.r, c.recipient_id), COALESCE(l.s, 0), COALESCE(l.u, 0), COALESCE(c.shown, 0), \
             COALESCE(c.unread, 0) FROM live l FULL JOIN notification_counts c ON c.recipient_id = l.r \
             WHERE COALESCE(l.s, 0) <> COALESCE(c.shown, 0) OR COALESCE(l.u, 0) <> COALESCE(c.unread, 0)",
            v = *SHOWN_VALUE,
            t = targets!()
        );
        let mut statement = db.prepare(&sql).unwrap();
        let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)));
        rows.unwrap().collect::<rusqlite::Result<_>>().unwrap()
    }

    async fn drained(store: &SqliteStore) {
        for _ in 0..400 {
            let sql = "SELECT COUNT(*) FROM notification_refresh";
            let queued: i64 = store.reads.read(|db| db.query_row(sql, [], |r| r.get(0))).unwrap();
            if queued == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the queue of refreshes was not drained");
    }

    /// 400 pseudo-random changes of everything `SHOWN` reads (creations in small and large
    /// batches, suspensions and their lifting, blocks, hidden comments, video levels, reads,
    /// pruning, deletions and cascades): once the queue is drained, the kept counts are the
    /// rule's, every 50 changes and at the end.
    #[tokio::test]
    async fn kept_counts_never_drift_from_the_rule() {
        const USER: &str = "INSERT INTO users (id, username, email, full_name, avatar, avatar_key, password_hash, \
             created_at, updated_at) VALUES (?1, ?1, ?1 || '@example.com', ?1, 'a', 'a', 'x', 0, 0)";
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        let site = |tx: &rusqlite::Transaction| {
            for i in 0..40 {
                tx.execute(USER, [format!("u{i}")])?;
            }
            for v in 0..6 {
                tx.execute(
                    "INSERT INTO videos (id, owner_id, video_file, video_key, thumbnail, thumbnail_key, title, \
                     description, created_at, updated_at, visibility) VALUES (?1, ?2, 'v', 'v', 't', 't', 'T', 'd', 0, 0, 'public')",
                    (format!("v{v}"), format!("u{}", v % 3)),
                )?;
                for c in 0..3 {
                    tx.execute(
                        "INSERT INTO comments (id, video_id, owner_id, content, created_at, updated_at) \
                         VALUES (?1, ?2, ?3, 'c', 0, 0)",
                        (format!("c{v}_{c}"), format!("v{v}"), format!("u{}", 3 + c)),
                    )?;
                }
            }
            Ok(())
        };
        store.writes.transaction(site).await.unwrap();
        // xorshift64: the same changes on every run.
        let mut seed: u64 = 12345;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for step in 0..400u64 {
            let (op, a, b, v, c, bulk) = (next(12), next(40), next(40), next(6), next(3), next(4) == 0);
            let change = move |tx: &rusqlite::Transaction| {
                match op {
                    0..=3 => {
                        for j in 0..if bulk { 700 } else { 3 } {
                            let kind = ["new_video", "comment", "reply", "subscriber"][(j % 4) as usize];
                            let (video, comment) = match kind {
                                "new_video" => (Some(format!("v{v}")), None),
                                "subscriber" => (None, None),
                                _ => (Some(format!("v{v}")), Some(format!("c{v}_{c}"))),
                            };
                            tx.execute(
                                "INSERT INTO notifications (id, recipient_id, type, actor_id, video_id, comment_id, \
                                 read, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                                (
                                    format!("n{step}_{j}"),
                                    format!("u{}", (a + j) % 40),
                                    kind,
                                    format!("u{b}"),
                                    video,
                                    comment,
                                    j % 3 == 0,
                                    (step * 1000 + j) as i64,
                                ),
                            )?;
                        }
                    }
                    4 => {
                        let sql = "UPDATE users SET suspended_reason = CASE WHEN suspended_reason IS NULL THEN 'x' \
                             ELSE NULL END WHERE id = ?1";
                        tx.execute(sql, [format!("u{b}")])?;
                    }
                    // A block between a recipient and an actor of a notification, and a lifted block.
                    5 => {
                        let sql = "INSERT INTO blocks (id, blocker_id, blocked_id, created_at) \
                             SELECT ?1, recipient_id, actor_id, 0 FROM notifications WHERE recipient_id <> actor_id \
                             ORDER BY rowid LIMIT 1 OFFSET ?2 % MAX(1, (SELECT COUNT(*) FROM notifications)) \
                             ON CONFLICT DO NOTHING";
                        tx.execute(sql, (format!("b{step}"), (a * 40 + b) as i64))?;
                    }
                    6 => {
                        let sql = "DELETE FROM blocks WHERE id = (SELECT id FROM blocks ORDER BY id \
                             LIMIT 1 OFFSET ?1 % MAX(1, (SELECT COUNT(*) FROM blocks)))";
                        tx.execute(sql, [a as i64])?;
                    }
                    7 => {
                        _ =
                            tx.execute("UPDATE comments SET hidden = 1 - hidden WHERE id = ?1", [format!("c{v}_{c}")])?
                    }
                    8 => {
                        let level = ["public", "private", "unlisted"][c as usize];
                        tx.execute("UPDATE videos SET visibility = ?2 WHERE id = ?1", (format!("v{v}"), level))?;
                    }
                    9 => {
                        _ =
                            tx.execute("UPDATE notifications SET read = 1 WHERE recipient_id = ?1", [format!("u{a}")])?
                    }
                    10 => {
                        let before = (step.saturating_sub(30) * 1000) as i64;
                        tx.execute("DELETE FROM notifications WHERE created_at < ?1", [before])?;
                    }
                    _ => {
                        let sql = "DELETE FROM notifications WHERE actor_id = ?1 AND recipient_id = ?2";
                        tx.execute(sql, (format!("u{b}"), format!("u{a}")))?;
                    }
                }
                Ok(())
            };
            store.writes.transaction(change).await.unwrap();
            if step % 50 == 49 {
                drained(&store).await;
                let drift = store.reads.read(|db| Ok(drift(db))).unwrap();
                assert!(drift.is_empty(), "after change {step}: {drift:?}");
            }
        }
        let cascades = |tx: &rusqlite::Transaction| {
            tx.execute_batch(
                "DELETE FROM comments WHERE id = 'c1_1'; DELETE FROM videos WHERE id = 'v2'; \
                 DELETE FROM blocks WHERE blocked_id = 'u7'; DELETE FROM comments WHERE owner_id = 'u7'; \
                 DELETE FROM videos WHERE owner_id = 'u7'; DELETE FROM users WHERE id = 'u7';",
            )
        };
        store.writes.transaction(cascades).await.unwrap();
        drained(&store).await;
        let drift = store.reads.read(|db| Ok(drift(db))).unwrap();
        assert!(drift.is_empty(), "after the cascades: {drift:?}");
    }

    /// Each change reaches the notifications it touches through an index, a window at a time,
    /// without sorting them all (a suspended channel may have millions).
    #[tokio::test]
    async fn each_change_reaches_its_notifications_through_an_index_in_rowid_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        for target in SHOWN_TARGETS.iter().filter(|t| t.name != "all") {
            let plan = query_plan(&store, &window(&target.scope("?1", "?2"), "?3"), &["a", "b", "0"]).join("\n");
            let indexed = plan.contains("USING INTEGER PRIMARY KEY") || plan.contains("INDEX notifications_");
            assert!(indexed && !plan.contains("TEMP B-TREE"), "{}: {plan}", target.name);
        }
        let plan = query_plan(&store, FORGET_SUBSCRIBER, &["a", "b"]).join("\n");
        assert!(plan.contains("notifications_actor_recipient"), "{plan}");
    }
}
