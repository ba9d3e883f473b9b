//! SQLite persistence of accounts: registration, profiles, channel counts, account deletion.

use async_trait::async_trait;
use rusqlite::OptionalExtension;

use super::{SqliteStore, now, parse_id};
use crate::domain::choice::Choice;
use crate::domain::user::{ChannelCounts, Identity, Role, RoleChange, RoleGrant, Standing, User, UserAccount};
use crate::domain::{Id, Timestamp};
use crate::store::{NewUser, ProfileUpdate, StoreError, StoreResult, UserRepo};

/// The account with its history ids, as `UserRow` reads it (`USER_COLUMN_NAMES`).
macro_rules! user_select {
    ($column:literal) => {
        concat!(
            "SELECT id, username, email, full_name, avatar, avatar_key, cover_image, cover_image_key, password_hash, \
             history_paused, created_at, updated_at, \
             (SELECT group_concat(h.video_id, ',' ORDER BY h.seq DESC) FROM watch_history h \
              WHERE h.user_id = users.id) AS history, role, suspended_reason \
             FROM users WHERE ",
            $column,
            " = ?1"
        )
    };
}

const USER_BY_ID: &str = user_select!("id");
const USER_BY_USERNAME: &str = user_select!("username");
const USER_BY_EMAIL: &str = user_select!("email");

#[cfg(test)]
const USER_COLUMN_NAMES: [&str; 15] = [
    "id",
    "username",
    "email",
    "full_name",
    "avatar",
    "avatar_key",
    "cover_image",
    "cover_image_key",
    "password_hash",
    "history_paused",
    "created_at",
    "updated_at",
    "history",
    "role",
    "suspended_reason",
];

/// A channel's counts as lookups in `subscription_counts` (kept by triggers), and whether the
/// viewer (`?2`) follows it: constant cost however many subscribers the channel has.
const CHANNEL_COUNTS: &str = "SELECT \
     COALESCE((SELECT subscribers FROM subscription_counts WHERE user_id = ?1), 0) AS subscribers, \
     COALESCE((SELECT subscribed_to FROM subscription_counts WHERE user_id = ?1), 0) AS subscribed_to, \
     EXISTS (SELECT 1 FROM subscriptions WHERE channel_id = ?1 AND subscriber_id = ?2) AS viewer_subscribed";

/// The media keys an account's deletion frees: its images and its videos' files.
const ACCOUNT_KEYS: &str = "SELECT avatar_key FROM users WHERE id = ?1 \
     UNION ALL SELECT cover_image_key FROM users WHERE id = ?1 \
     UNION ALL SELECT video_key FROM videos WHERE owner_id = ?1 \
     UNION ALL SELECT thumbnail_key FROM videos WHERE owner_id = ?1 \
     UNION ALL SELECT hls_key FROM videos WHERE owner_id = ?1";

/// Everything an account owns that references it, children first; `videos` cascades to their likes,
/// comments, playlist entries and history entries, `users` to the user's own history.
pub(super) const ACCOUNT_DELETIONS: [&str; 10] = [
    "DELETE FROM likes WHERE liked_by = ?1",
    "DELETE FROM comments WHERE owner_id = ?1",
    "DELETE FROM tweets WHERE owner_id = ?1",
    "DELETE FROM playlists WHERE owner_id = ?1",
    "DELETE FROM subscriptions WHERE subscriber_id = ?1 OR channel_id = ?1",
    "DELETE FROM videos WHERE owner_id = ?1",
    "DELETE FROM refresh_sessions WHERE user_id = ?1",
    "DELETE FROM users WHERE id = ?1",
    "DELETE FROM subscription_counts WHERE user_id = ?1",
    "DELETE FROM notification_counts WHERE recipient_id = ?1",
];

/// What suspending the account `?1` does beside marking it: its videos are listed as private with
/// their own level held aside, its comments and tweets hidden, its sessions ended.
const SUSPENSION: [&str; 4] = [
    "UPDATE videos SET held_visibility = COALESCE(held_visibility, visibility), visibility = 'private' \
     WHERE owner_id = ?1",
    "UPDATE comments SET hidden = 1 WHERE owner_id = ?1 AND hidden = 0",
    "UPDATE tweets SET hidden = 1 WHERE owner_id = ?1 AND hidden = 0",
    "DELETE FROM refresh_sessions WHERE user_id = ?1",
];

/// What lifting a suspension shows again: everything no removal of its own (nor, for a comment,
/// a block by the video's owner) hides. Ended sessions stay ended.
const SUSPENSION_LIFTED: [&str; 3] = [
    "UPDATE videos SET visibility = held_visibility, held_visibility = NULL \
     WHERE owner_id = ?1 AND removed_reason IS NULL AND held_visibility IS NOT NULL",
    "UPDATE comments SET hidden = 0 WHERE owner_id = ?1 AND removed_reason IS NULL AND hidden = 1 \
     AND NOT EXISTS (SELECT 1 FROM blocks b JOIN videos v ON v.owner_id = b.blocker_id \
     WHERE v.id = comments.video_id AND b.blocked_id = comments.owner_id)",
    "UPDATE tweets SET hidden = 0 WHERE owner_id = ?1 AND removed_reason IS NULL AND hidden = 1",
];

/// An account with its history ids: the columns of `user_select!`.
struct UserRow {
    id: String,
    username: String,
    email: String,
    full_name: String,
    avatar: String,
    avatar_key: String,
    cover_image: String,
    cover_image_key: Option<String>,
    password_hash: String,
    history_paused: bool,
    created_at: i64,
    updated_at: i64,
    /// The history's video ids, newest first, comma-separated; `None` without history.
    history: Option<String>,
    role: String,
    suspended_reason: Option<String>,
}

impl UserRow {
    fn read(row: &rusqlite::Row) -> rusqlite::Result<Self> {
        Ok(UserRow {
            id: row.get(0)?,
            username: row.get(1)?,
            email: row.get(2)?,
            full_name: row.get(3)?,
            avatar: row.get(4)?,
            avatar_key: row.get(5)?,
            cover_image: row.get(6)?,
            cover_image_key: row.get(7)?,
            password_hash: row.get(8)?,
            history_paused: row.get(9)?,
            created_at: row.get(10)?,
            updated_at: row.get(11)?,
            history: row.get(12)?,
            role: row.get(13)?,
            suspended_reason: row.get(14)?,
        })
    }

    fn into_account(self) -> StoreResult<UserAccount> {
        let history = self.history.as_deref().unwrap_or_default();
        let watch_history = history.split(',').filter(|id| !id.is_empty()).map(parse_id).collect::<StoreResult<_>>()?;
        Ok(UserAccount {
            user: User {
                id: parse_id(&self.id)?,
                username: self.username,
                email: self.email,
                full_name: self.full_name,
                avatar: self.avatar,
                cover_image: self.cover_image,
                watch_history,
                history_paused: self.history_paused,
                role: Role::from_stored(Some(&self.role)),
                created_at: Timestamp(self.created_at),
                updated_at: Timestamp(self.updated_at),
            },
            password_hash: self.password_hash,
            avatar_key: self.avatar_key,
            cover_image_key: self.cover_image_key,
            suspended_reason: self.suspended_reason,
        })
    }
}

impl SqliteStore {
    /// The account `select` finds by `value`, with its history ids, in one statement on the
    /// caller's thread: every authenticated request reads its caller here.
    fn user_where(&self, select: &'static str, value: &str) -> StoreResult<Option<UserAccount>> {
        let row = self.reads.read(|db| db.prepare_cached(select)?.query_row([value], UserRow::read).optional())?;
        row.map(UserRow::into_account).transpose()
    }
}

#[async_trait]
impl UserRepo for SqliteStore {
    async fn create(&self, user: NewUser) -> StoreResult<UserAccount> {
        let id = Id::generate();
        let now = now();
        let (cover_url, cover_key) = match user.cover_image {
            Some(c) => (c.url, Some(c.key)),
            None => (String::new(), None),
        };
        self.writes
            .write(move |db| {
                db.prepare_cached(
                    "INSERT INTO users (id, username, email, full_name, avatar, avatar_key, cover_image, \
                     cover_image_key, password_hash, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
                )?
                .execute(rusqlite::params![
                    id.to_hex(),
                    user.username,
                    user.email,
                    user.full_name,
                    user.avatar.url,
                    user.avatar.key,
                    cover_url,
                    cover_key,
                    user.password_hash,
                    now,
                ])
            })
            .await?;
        self.user_where(USER_BY_ID, &id.to_hex())?.ok_or_else(|| StoreError::backend("user vanished after insert"))
    }

    async fn by_id(&self, id: Id) -> StoreResult<Option<UserAccount>> {
        self.user_where(USER_BY_ID, &id.to_hex())
    }

    async fn identity(&self, id: Id) -> StoreResult<Option<Standing>> {
        let hex = id.to_hex();
        let sql = "SELECT history_paused, role, suspended_reason FROM users WHERE id = ?1";
        let read = |row: &rusqlite::Row| Ok((row.get(0)?, row.get::<_, String>(1)?, row.get(2)?));
        let found = self.reads.read(|db| db.prepare_cached(sql)?.query_row([&hex], read).optional())?;
        Ok(found.map(|(history_paused, role, suspended_reason)| Standing {
            identity: Identity { id, history_paused, role: Role::from_stored(Some(&role)) },
            suspended_reason,
        }))
    }

    async fn set_suspension(&self, id: Id, reason: Option<String>) -> StoreResult<bool> {
        let statements: &[&str] = if reason.is_some() { &SUSPENSION } else { &SUSPENSION_LIFTED };
        self.writes
            .transaction(move |tx| {
                let id = id.to_hex();
                let found = tx
                    .prepare_cached("UPDATE users SET suspended_reason = ?2 WHERE id = ?1")?
                    .execute((&id, reason))?;
                for statement in statements {
                    tx.prepare_cached(statement)?.execute([&id])?;
                }
                Ok(found > 0)
            })
            .await
    }

    async fn by_username(&self, username: &str) -> StoreResult<Option<UserAccount>> {
        self.user_where(USER_BY_USERNAME, username)
    }

    async fn by_email(&self, email: &str) -> StoreResult<Option<UserAccount>> {
        self.user_where(USER_BY_EMAIL, email)
    }

    async fn username_or_email_taken(&self, username: &str, email: &str) -> StoreResult<bool> {
        let sql = "SELECT EXISTS (SELECT 1 FROM users WHERE username = ?1 OR email = ?2)";
        self.reads.read(|db| db.prepare_cached(sql)?.query_row([username, email], |row| row.get(0)))
    }

    async fn update_profile(&self, id: Id, update: ProfileUpdate) -> StoreResult<Option<(UserAccount, UserAccount)>> {
        let Some(before) = self.by_id(id).await? else {
            return Ok(None);
        };
        let (avatar, avatar_key) = update.avatar.map(|m| (m.url, m.key)).unzip();
        let (cover, cover_key) = update.cover_image.map(|m| (m.url, m.key)).unzip();
        let changed = self
            .writes
            .write(move |db| {
                db.prepare_cached(
                    "UPDATE users SET full_name = COALESCE(?1, full_name), email = COALESCE(?2, email), \
                     avatar = COALESCE(?3, avatar), avatar_key = COALESCE(?4, avatar_key), \
                     cover_image = COALESCE(?5, cover_image), cover_image_key = COALESCE(?6, cover_image_key), \
                     updated_at = ?7 WHERE id = ?8",
                )?
                .execute(rusqlite::params![
                    update.full_name,
                    update.email,
                    avatar,
                    avatar_key,
                    cover,
                    cover_key,
                    now(),
                    id.to_hex(),
                ])
            })
            .await?;
        if changed == 0 {
            return Ok(None);
        }
        Ok(self.by_id(id).await?.map(|after| (before, after)))
    }

    async fn set_password_hash(&self, id: Id, hash: &str) -> StoreResult<()> {
        let hash = hash.to_owned();
        self.writes
            .write(move |db| {
                db.prepare_cached("UPDATE users SET password_hash = ?1, updated_at = ?2 WHERE id = ?3")?.execute((
                    hash,
                    now(),
                    id.to_hex(),
                ))
            })
            .await?;
        Ok(())
    }

    async fn set_role(&self, id: Id, role: Role) -> StoreResult<Option<RoleChange>> {
        // One statement on the one write connection: no other write runs between the count of
        // admins and the change, so two admins demoting each other cannot leave none.
        let sql = "UPDATE users SET role = ?2, updated_at = ?3 WHERE id = ?1 \
             AND (?2 = 'admin' OR role != 'admin' OR (SELECT COUNT(*) FROM users WHERE role = 'admin') > 1) \
             RETURNING username";
        let hex = id.to_hex();
        let changed = self
            .writes
            .write(move |db| {
                let username = db.prepare_cached(sql)?.query_row((&hex, role.as_str(), now()), |row| row.get(0));
                username.optional()
            })
            .await?;
        Ok(match changed {
            Some(username) => Some(RoleChange::Granted(RoleGrant { id, username, role })),
            None => self.by_id(id).await?.map(|_| RoleChange::LastAdmin),
        })
    }

    async fn channel_counts(&self, channel: Id, viewer: Option<Id>) -> StoreResult<ChannelCounts> {
        self.reads.read(|db| {
            db.prepare_cached(CHANNEL_COUNTS)?.query_row((channel.to_hex(), viewer.map(Id::to_hex)), |row| {
                Ok(ChannelCounts {
                    subscribers: row.get(0)?,
                    subscribed_to: row.get(1)?,
                    viewer_subscribed: row.get(2)?,
                })
            })
        })
    }

    async fn channel(&self, username: &str, viewer: Option<Id>) -> StoreResult<Option<(UserAccount, ChannelCounts)>> {
        let Some(account) = self.by_username(username).await? else {
            return Ok(None);
        };
        let counts = self.channel_counts(account.user.id, viewer).await?;
        Ok(Some((account, counts)))
    }

    async fn delete_account(&self, id: Id) -> StoreResult<Vec<String>> {
        let id = id.to_hex();
        let keys = self
            .writes
            .transaction(move |tx| {
                let keys = tx
                    .prepare_cached(ACCOUNT_KEYS)?
                    .query_map([&id], |row| row.get::<_, Option<String>>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                for statement in ACCOUNT_DELETIONS {
                    tx.prepare_cached(statement)?.execute([&id])?;
                }
                Ok(keys)
            })
            .await?;
        Ok(keys.into_iter().flatten().filter(|key| !key.is_empty()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::{column_names, query_plan, test_store};

    #[tokio::test]
    async fn user_rows_read_the_columns_the_selects_yield() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        for select in [USER_BY_ID, USER_BY_USERNAME, USER_BY_EMAIL] {
            assert_eq!(column_names(&store, select), USER_COLUMN_NAMES);
        }
        let counts = ["subscribers", "subscribed_to", "viewer_subscribed"];
        assert_eq!(column_names(&store, CHANNEL_COUNTS), counts, "the order `channel_counts` reads");
    }

    #[tokio::test]
    async fn channel_counts_are_lookups_not_counts() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        let plan = query_plan(&store, CHANNEL_COUNTS, &["a", "b"]);
        assert!(
            plan.iter().all(|d| d.starts_with("SEARCH") || d.contains("SUBQUERY") || d == "SCAN CONSTANT ROW"),
            "{plan:?}"
        );
        let on_subscriptions: Vec<&String> = plan.iter().filter(|d| d.contains("subscriptions")).collect();
        assert_eq!(on_subscriptions.len(), 1, "only the viewer's own pair is looked up: {plan:?}");
        assert!(on_subscriptions[0].contains("subscriber_id=? AND channel_id=?"), "{plan:?}");
    }
}
