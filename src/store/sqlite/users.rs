//! SQLite persistence of users, refresh sessions and channel counts.

use async_trait::async_trait;
use rusqlite::OptionalExtension;
use sqlx::Row;

use super::{SqliteStore, backend, map_err, now, parse_id};
use crate::domain::user::{ChannelCounts, Identity, Session, User, UserAccount};
use crate::domain::{Id, Timestamp};
use crate::store::{NewSession, NewUser, ProfileUpdate, RefreshGrant, SessionRepo, StoreResult, UserRepo};

const USER_COLUMNS: &str = "id, username, email, full_name, avatar, avatar_key, cover_image, cover_image_key, \
                            password_hash, history_paused, created_at, updated_at";

/// A channel's counts as lookups in `subscription_counts` (kept by triggers), and whether the
/// viewer (`?2`) follows it: constant cost however many subscribers the channel has.
const CHANNEL_COUNTS_SQL: &str = "SELECT COALESCE((SELECT subscribers FROM subscription_counts WHERE user_id = ?1), 0) AS subscribers, \
            COALESCE((SELECT subscribed_to FROM subscription_counts WHERE user_id = ?1), 0) AS subscribed_to, \
            EXISTS (SELECT 1 FROM subscriptions WHERE channel_id = ?1 AND subscriber_id = ?2) AS viewer";

/// Everything an account owns that references it, children first; `videos` cascades to their likes,
/// comments, playlist entries and history entries, `users` to the user's own history.
const ACCOUNT_DELETIONS: [&str; 9] = [
    "DELETE FROM likes WHERE liked_by = ?1",
    "DELETE FROM comments WHERE owner_id = ?1",
    "DELETE FROM tweets WHERE owner_id = ?1",
    "DELETE FROM playlists WHERE owner_id = ?1",
    "DELETE FROM subscriptions WHERE subscriber_id = ?1 OR channel_id = ?1",
    "DELETE FROM videos WHERE owner_id = ?1",
    "DELETE FROM refresh_sessions WHERE user_id = ?1",
    "DELETE FROM users WHERE id = ?1",
    "DELETE FROM subscription_counts WHERE user_id = ?1",
];

/// An account row with its history ids, as read through `direct`.
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
}

impl SqliteStore {
    /// The account whose `column` holds `value`, with its history ids when `history`, in one
    /// statement read on the caller's thread (`direct`): every authenticated request reads its
    /// caller here.
    async fn user_where(&self, column: &'static str, value: String) -> StoreResult<Option<UserAccount>> {
        let sql = user_select(column);
        let row =
            self.direct.read(|db| db.prepare_cached(&sql)?.query_row([&value], UserRow::from_direct).optional())?;
        row.map(account).transpose()
    }
}

/// The account whose `column` equals the one parameter: the columns of `USER_COLUMNS`, then
/// `history` (the history's video ids, newest first).
fn user_select(column: &str) -> String {
    let history =
        "(SELECT group_concat(h.video_id, ',' ORDER BY h.seq DESC) FROM watch_history h WHERE h.user_id = users.id)";
    format!("SELECT {USER_COLUMNS}, {history} AS history FROM users WHERE {column} = ?")
}

impl UserRow {
    /// Reads by position (the order of `USER_COLUMNS`, then `history`; a test checks it): looking
    /// columns up by name scanned every column name for every field.
    fn from_direct(row: &rusqlite::Row) -> rusqlite::Result<Self> {
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
        })
    }
}

fn account(row: UserRow) -> StoreResult<UserAccount> {
    let history = row.history.as_deref().unwrap_or_default();
    let watch_history = history.split(',').filter(|id| !id.is_empty()).map(parse_id).collect::<StoreResult<_>>()?;
    Ok(UserAccount {
        user: User {
            id: parse_id(&row.id)?,
            username: row.username,
            email: row.email,
            full_name: row.full_name,
            avatar: row.avatar,
            cover_image: row.cover_image,
            watch_history,
            history_paused: row.history_paused,
            created_at: Timestamp(row.created_at),
            updated_at: Timestamp(row.updated_at),
        },
        password_hash: row.password_hash,
        avatar_key: row.avatar_key,
        cover_image_key: row.cover_image_key,
    })
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
        sqlx::query(
            "INSERT INTO users (id, username, email, full_name, avatar, avatar_key, cover_image, cover_image_key, \
             password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id.to_hex())
        .bind(user.username)
        .bind(user.email)
        .bind(user.full_name)
        .bind(user.avatar.url)
        .bind(user.avatar.key)
        .bind(cover_url)
        .bind(cover_key)
        .bind(user.password_hash)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        self.user_where("id", id.to_hex())
            .await?
            .ok_or_else(|| crate::store::StoreError::backend("user vanished after insert"))
    }

    async fn by_id(&self, id: Id) -> StoreResult<Option<UserAccount>> {
        self.user_where("id", id.to_hex()).await
    }

    async fn identity(&self, id: Id) -> StoreResult<Option<Identity>> {
        let hex = id.to_hex();
        let sql = "SELECT history_paused FROM users WHERE id = ?1";
        let paused = self.direct.read(|db| db.prepare_cached(sql)?.query_row([&hex], |row| row.get(0)).optional())?;
        Ok(paused.map(|history_paused| Identity { id, history_paused }))
    }

    async fn by_username(&self, username: &str) -> StoreResult<Option<UserAccount>> {
        self.user_where("username", username.to_owned()).await
    }

    async fn by_email(&self, email: &str) -> StoreResult<Option<UserAccount>> {
        self.user_where("email", email.to_owned()).await
    }

    async fn username_or_email_taken(&self, username: &str, email: &str) -> StoreResult<bool> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE username = ? OR email = ?)")
            .bind(username)
            .bind(email)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)
    }

    async fn update_profile(&self, id: Id, update: ProfileUpdate) -> StoreResult<Option<(UserAccount, UserAccount)>> {
        let Some(before) = self.by_id(id).await? else {
            return Ok(None);
        };
        let (avatar, avatar_key) = update.avatar.map(|m| (m.url, m.key)).unzip();
        let (cover, cover_key) = update.cover_image.map(|m| (m.url, m.key)).unzip();
        let changed = sqlx::query(
            "UPDATE users SET full_name = COALESCE(?, full_name), email = COALESCE(?, email), \
             avatar = COALESCE(?, avatar), avatar_key = COALESCE(?, avatar_key), \
             cover_image = COALESCE(?, cover_image), cover_image_key = COALESCE(?, cover_image_key), \
             updated_at = ? WHERE id = ?",
        )
        .bind(update.full_name)
        .bind(update.email)
        .bind(avatar)
        .bind(avatar_key)
        .bind(cover)
        .bind(cover_key)
        .bind(now())
        .bind(id.to_hex())
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        if changed.rows_affected() == 0 {
            return Ok(None);
        }
        Ok(self.by_id(id).await?.map(|after| (before, after)))
    }

    async fn set_password_hash(&self, id: Id, hash: &str) -> StoreResult<()> {
        sqlx::query("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?")
            .bind(hash)
            .bind(now())
            .bind(id.to_hex())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn channel_counts(&self, channel: Id, viewer: Option<Id>) -> StoreResult<ChannelCounts> {
        let row = sqlx::query(CHANNEL_COUNTS_SQL)
            .bind(channel.to_hex())
            .bind(viewer.map(Id::to_hex))
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        Ok(ChannelCounts {
            subscribers: row.get("subscribers"),
            subscribed_to: row.get("subscribed_to"),
            viewer_subscribed: row.get("viewer"),
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
        let mut tx = self.write_tx().await?;
        let id = id.to_hex();
        let keys: Vec<Option<String>> = sqlx::query_scalar(
            "SELECT avatar_key FROM users WHERE id = ?1 UNION ALL SELECT cover_image_key FROM users WHERE id = ?1 \
             UNION ALL SELECT video_key FROM videos WHERE owner_id = ?1 \
             UNION ALL SELECT thumbnail_key FROM videos WHERE owner_id = ?1 \
             UNION ALL SELECT hls_key FROM videos WHERE owner_id = ?1",
        )
        .bind(&id)
        .fetch_all(&mut *tx)
        .await
        .map_err(backend)?;
        for statement in ACCOUNT_DELETIONS {
            sqlx::query(statement).bind(&id).execute(&mut *tx).await.map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(keys.into_iter().flatten().filter(|key| !key.is_empty()).collect())
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    user_agent: String,
    expires_at: i64,
    created_at: i64,
    last_used_at: i64,
}

#[async_trait]
impl SessionRepo for SqliteStore {
    async fn create(&self, session: NewSession, max: u32) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let user = session.user_id.to_hex();
        sqlx::query("DELETE FROM refresh_sessions WHERE user_id = ? AND expires_at <= ?")
            .bind(&user)
            .bind(now())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let at = now();
        sqlx::query(
            "INSERT INTO refresh_sessions (id, jti, user_id, token_hash, user_agent, expires_at, created_at, \
             last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(session.id.to_hex())
        .bind(session.grant.jti)
        .bind(&user)
        .bind(session.grant.token_hash)
        .bind(session.user_agent)
        .bind(session.grant.expires_at.millis())
        .bind(at)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        sqlx::query(
            "DELETE FROM refresh_sessions WHERE user_id = ?1 AND id NOT IN \
             (SELECT id FROM refresh_sessions WHERE user_id = ?1 ORDER BY created_at DESC, rowid DESC LIMIT ?2)",
        )
        .bind(&user)
        .bind(i64::from(max))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn rotate(&self, user_id: Id, jti: &str, token_hash: &str, next: RefreshGrant) -> StoreResult<Option<Id>> {
        // One statement: of concurrent refreshes with the same grant, exactly one matches it.
        let id: Option<String> = sqlx::query_scalar(
            "UPDATE refresh_sessions SET jti = ?1, token_hash = ?2, expires_at = ?3, last_used_at = ?4 \
             WHERE user_id = ?5 AND jti = ?6 AND token_hash = ?7 AND expires_at > ?4 RETURNING id",
        )
        .bind(next.jti)
        .bind(next.token_hash)
        .bind(next.expires_at.millis())
        .bind(now())
        .bind(user_id.to_hex())
        .bind(jti)
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        id.as_deref().map(parse_id).transpose()
    }

    async fn delete(&self, user_id: Id, jti: &str, token_hash: &str) -> StoreResult<bool> {
        let deleted = sqlx::query("DELETE FROM refresh_sessions WHERE user_id = ? AND jti = ? AND token_hash = ?")
            .bind(user_id.to_hex())
            .bind(jti)
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(deleted.rows_affected() > 0)
    }

    async fn delete_all(&self, user_id: Id) -> StoreResult<()> {
        sqlx::query("DELETE FROM refresh_sessions WHERE user_id = ?")
            .bind(user_id.to_hex())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn list(&self, user_id: Id) -> StoreResult<Vec<Session>> {
        let rows: Vec<SessionRow> = sqlx::query_as(
            "SELECT id, user_agent, expires_at, created_at, last_used_at FROM refresh_sessions \
             WHERE user_id = ? AND expires_at > ? ORDER BY created_at DESC, rowid DESC",
        )
        .bind(user_id.to_hex())
        .bind(now())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.into_iter()
            .map(|row| {
                Ok(Session {
                    id: parse_id(&row.id)?,
                    created_at: Timestamp(row.created_at),
                    last_used_at: Timestamp(row.last_used_at),
                    expires_at: Timestamp(row.expires_at),
                    user_agent: row.user_agent,
                    current: false,
                })
            })
            .collect()
    }

    async fn revoke(&self, user_id: Id, session: Id) -> StoreResult<bool> {
        let deleted = sqlx::query("DELETE FROM refresh_sessions WHERE user_id = ? AND id = ?")
            .bind(user_id.to_hex())
            .bind(session.to_hex())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(deleted.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn direct_user_rows_read_the_columns_the_select_yields() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("columns.db")).await.unwrap();
        let mut expected: Vec<&str> = USER_COLUMNS.split(',').map(str::trim).collect();
        expected.push("history");
        assert_eq!(super::super::column_names(&store, &user_select("id")), expected);
    }

    #[tokio::test]
    async fn channel_counts_are_lookups_not_counts() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("plan.db")).await.unwrap();
        let plan = super::super::query_plan(&store, CHANNEL_COUNTS_SQL, &["a", "b"]).await;
        assert!(
            plan.iter().all(|d| d.starts_with("SEARCH") || d.contains("SUBQUERY") || d == "SCAN CONSTANT ROW"),
            "{plan:?}"
        );
        let on_subscriptions: Vec<&String> = plan.iter().filter(|d| d.contains("subscriptions")).collect();
        assert_eq!(on_subscriptions.len(), 1, "only the viewer's own pair is looked up: {plan:?}");
        assert!(on_subscriptions[0].contains("subscriber_id=? AND channel_id=?"), "{plan:?}");
    }
}
