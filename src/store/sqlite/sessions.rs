//! SQLite persistence of refresh sessions (devices): login, rotation, logout, the device list.

use async_trait::async_trait;
use rusqlite::OptionalExtension;

use super::{SqliteStore, now, parse_id};
use crate::domain::user::Session;
use crate::domain::{Id, Timestamp};
use crate::store::{NewSession, RefreshGrant, SessionRepo, StoreResult};

/// A user's live sessions, newest first, as `SessionRow` reads them (binds: user, now).
const LIVE_SESSIONS: &str = "SELECT id, user_agent, expires_at, created_at, last_used_at FROM refresh_sessions \
     WHERE user_id = ?1 AND expires_at > ?2 ORDER BY created_at DESC, rowid DESC";

/// A session as the device list shows it: the columns of `LIVE_SESSIONS`.
struct SessionRow {
    id: String,
    user_agent: String,
    expires_at: i64,
    created_at: i64,
    last_used_at: i64,
}

impl SessionRow {
    fn read(row: &rusqlite::Row) -> rusqlite::Result<Self> {
        Ok(SessionRow {
            id: row.get(0)?,
            user_agent: row.get(1)?,
            expires_at: row.get(2)?,
            created_at: row.get(3)?,
            last_used_at: row.get(4)?,
        })
    }

    fn into_session(self) -> StoreResult<Session> {
        Ok(Session {
            id: parse_id(&self.id)?,
            created_at: Timestamp(self.created_at),
            last_used_at: Timestamp(self.last_used_at),
            expires_at: Timestamp(self.expires_at),
            user_agent: self.user_agent,
            current: false,
        })
    }
}

#[async_trait]
impl SessionRepo for SqliteStore {
    async fn create(&self, session: NewSession, max: u32) -> StoreResult<()> {
        self.writes
            .transaction(move |tx| {
                let user = session.user_id.to_hex();
                tx.prepare_cached("DELETE FROM refresh_sessions WHERE user_id = ?1 AND expires_at <= ?2")?
                    .execute((&user, now()))?;
                let at = now();
                tx.prepare_cached(
                    "INSERT INTO refresh_sessions (id, jti, user_id, token_hash, user_agent, expires_at, created_at, \
                     last_used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                )?
                .execute((
                    session.id.to_hex(),
                    session.grant.jti,
                    &user,
                    session.grant.token_hash,
                    session.user_agent,
                    session.grant.expires_at.millis(),
                    at,
                ))?;
                tx.prepare_cached(
                    "DELETE FROM refresh_sessions WHERE user_id = ?1 AND id NOT IN \
                     (SELECT id FROM refresh_sessions WHERE user_id = ?1 ORDER BY created_at DESC, rowid DESC \
                      LIMIT ?2)",
                )?
                .execute((&user, i64::from(max)))?;
                Ok(())
            })
            .await
    }

    async fn rotate(&self, user_id: Id, jti: &str, token_hash: &str, next: RefreshGrant) -> StoreResult<Option<Id>> {
        let (jti, token_hash) = (jti.to_owned(), token_hash.to_owned());
        // One statement: of concurrent refreshes with the same grant, exactly one matches it.
        let id: Option<String> = self
            .writes
            .write(move |db| {
                db.prepare_cached(
                    "UPDATE refresh_sessions SET jti = ?1, token_hash = ?2, expires_at = ?3, last_used_at = ?4 \
                     WHERE user_id = ?5 AND jti = ?6 AND token_hash = ?7 AND expires_at > ?4 RETURNING id",
                )?
                .query_row(
                    (next.jti, next.token_hash, next.expires_at.millis(), now(), user_id.to_hex(), jti, token_hash),
                    |row| row.get(0),
                )
                .optional()
            })
            .await?;
        id.as_deref().map(parse_id).transpose()
    }

    async fn delete(&self, user_id: Id, jti: &str, token_hash: &str) -> StoreResult<bool> {
        let (jti, token_hash) = (jti.to_owned(), token_hash.to_owned());
        let deleted = self
            .writes
            .write(move |db| {
                db.prepare_cached("DELETE FROM refresh_sessions WHERE user_id = ?1 AND jti = ?2 AND token_hash = ?3")?
                    .execute((user_id.to_hex(), jti, token_hash))
            })
            .await?;
        Ok(deleted > 0)
    }

    async fn delete_all(&self, user_id: Id) -> StoreResult<()> {
        self.writes
            .write(move |db| {
                db.prepare_cached("DELETE FROM refresh_sessions WHERE user_id = ?1")?.execute([user_id.to_hex()])
            })
            .await?;
        Ok(())
    }

    async fn list(&self, user_id: Id) -> StoreResult<Vec<Session>> {
        // Bounded by the per-user session cap, through the user's index: on the caller's thread.
        let rows: Vec<SessionRow> = self.reads.read(|db| {
            db.prepare_cached(LIVE_SESSIONS)?.query_map((user_id.to_hex(), now()), SessionRow::read)?.collect()
        })?;
        rows.into_iter().map(SessionRow::into_session).collect::<StoreResult<Vec<_>>>()
    }

    async fn revoke(&self, user_id: Id, session: Id) -> StoreResult<bool> {
        let deleted = self
            .writes
            .write(move |db| {
                db.prepare_cached("DELETE FROM refresh_sessions WHERE user_id = ?1 AND id = ?2")?
                    .execute((user_id.to_hex(), session.to_hex()))
            })
            .await?;
        Ok(deleted > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::{column_names, test_store};

    #[tokio::test]
    async fn session_rows_read_the_columns_the_select_yields() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(&dir).await;
        let expected = ["id", "user_agent", "expires_at", "created_at", "last_used_at"];
        assert_eq!(column_names(&store, LIVE_SESSIONS), expected);
    }
}
