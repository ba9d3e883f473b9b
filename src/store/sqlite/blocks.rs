//! SQLite persistence of creator blocks.

use async_trait::async_trait;

use super::rows::OwnerRow;
use super::{SqliteStore, now};
use crate::domain::Id;
use crate::domain::user::OwnerSummary;
use crate::store::{BlockRepo, StoreResult};

const BLOCK: [&str; 3] = [
    "INSERT INTO blocks (id, blocker_id, blocked_id, created_at) VALUES (?3, ?1, ?2, ?4) \
     ON CONFLICT (blocker_id, blocked_id) DO NOTHING",
    "DELETE FROM subscriptions WHERE subscriber_id = ?2 AND channel_id = ?1",
    "UPDATE comments SET hidden = 1 WHERE owner_id = ?2 AND hidden = 0 \
     AND video_id IN (SELECT id FROM videos WHERE owner_id = ?1)",
];

/// `?3` = whether the blocked user's suspension still hides their comments.
const UNBLOCK: [&str; 2] = [
    "DELETE FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2",
    "UPDATE comments SET hidden = 0 WHERE owner_id = ?2 AND hidden = 1 AND removed_reason IS NULL AND NOT ?3 \
     AND video_id IN (SELECT id FROM videos WHERE owner_id = ?1)",
];

const IS_BLOCKED: &str = "SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2)";

const BLOCKED_BY: &str = "SELECT u.id, u.username, u.full_name, u.avatar FROM blocks b \
     JOIN users u ON u.id = b.blocked_id WHERE b.blocker_id = ?1 ORDER BY b.created_at DESC, b.id DESC";

#[async_trait]
impl BlockRepo for SqliteStore {
    async fn block(&self, blocker: Id, blocked: Id) -> StoreResult<()> {
        let (blocker, blocked, id) = (blocker.to_hex(), blocked.to_hex(), Id::generate().to_hex());
        self.writes
            .transaction(move |tx| {
                tx.prepare_cached(BLOCK[0])?.execute((&blocker, &blocked, &id, now()))?;
                for statement in &BLOCK[1..] {
                    tx.prepare_cached(statement)?.execute((&blocker, &blocked))?;
                }
                Ok(())
            })
            .await
    }

    async fn unblock(&self, blocker: Id, blocked: Id, blocked_suspended: bool) -> StoreResult<()> {
        let (blocker, blocked) = (blocker.to_hex(), blocked.to_hex());
        self.writes
            .transaction(move |tx| {
                tx.prepare_cached(UNBLOCK[0])?.execute((&blocker, &blocked))?;
                tx.prepare_cached(UNBLOCK[1])?.execute((&blocker, &blocked, blocked_suspended))?;
                Ok(())
            })
            .await
    }

    async fn is_blocked(&self, blocker: Id, blocked: Id) -> StoreResult<bool> {
        let pair = (blocker.to_hex(), blocked.to_hex());
        self.reads.read(|db| db.prepare_cached(IS_BLOCKED)?.query_row(pair, |row| row.get(0)))
    }

    async fn blocked_by(&self, blocker: Id) -> StoreResult<Vec<OwnerSummary>> {
        let rows = self.reads.read(|db| {
            db.prepare_cached(BLOCKED_BY)?
                .query_map([blocker.to_hex()], |row| OwnerRow::read(row, 0))?
                .collect::<rusqlite::Result<Vec<_>>>()
        })?;
        rows.into_iter().map(OwnerRow::into_summary).collect()
    }
}
