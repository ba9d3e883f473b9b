//! SQLite persistence of the moderation log.

use async_trait::async_trait;

use super::rows::OwnerRow;
use super::{SqliteStore, now, parse_id};
use crate::domain::choice::Choice;
use crate::domain::moderation::{Action, ModerationAction, TargetType};
use crate::domain::{Id, Timestamp};
use crate::store::{LogFilter, ModerationRepo, NewAction, StoreError, StoreResult};

const RECORD: &str = "INSERT INTO moderation_actions (id, moderator_id, target_type, target_id, action, reason, \
     created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/// `LogRow`'s columns: an action with its moderator when the account still exists.
macro_rules! log_select {
    () => {
        "SELECT a.id, a.target_type, a.target_id, a.action, a.reason, a.created_at, \
         u.id, u.username, u.full_name, u.avatar FROM moderation_actions a LEFT JOIN users u ON u.id = a.moderator_id "
    };
}

/// The actions matching `?1` (kind) and `?2` (target id), each NULL for any, newest first;
/// `?3` = limit, `?4` = offset.
const LOG: &str = concat!(
    log_select!(),
    "WHERE (?1 IS NULL OR a.target_type = ?1) AND (?2 IS NULL OR a.target_id = ?2) \
     ORDER BY a.created_at DESC, a.id DESC LIMIT (?3 + 0) OFFSET (?4 + 0)"
);

const ACTION_BY_ID: &str = concat!(log_select!(), "WHERE a.id = ?1");

const LOG_TOTAL: &str = "SELECT COUNT(*) FROM moderation_actions \
     WHERE (?1 IS NULL OR target_type = ?1) AND (?2 IS NULL OR target_id = ?2)";

/// A row of `LOG`.
struct LogRow {
    id: String,
    target_type: String,
    target_id: String,
    action: String,
    reason: String,
    created_at: i64,
    moderator: Option<OwnerRow>,
}

impl LogRow {
    fn read(row: &rusqlite::Row) -> rusqlite::Result<Self> {
        let moderator = match row.get::<_, Option<String>>(6)? {
            Some(_) => Some(OwnerRow::read(row, 6)?),
            None => None,
        };
        Ok(LogRow {
            id: row.get(0)?,
            target_type: row.get(1)?,
            target_id: row.get(2)?,
            action: row.get(3)?,
            reason: row.get(4)?,
            created_at: row.get(5)?,
            moderator,
        })
    }

    fn into_action(self) -> StoreResult<ModerationAction> {
        let corrupt = |what: &str, raw: &str| StoreError::backend(format!("corrupt {what} in database: {raw:?}"));
        Ok(ModerationAction {
            id: parse_id(&self.id)?,
            target_type: TargetType::parse(&self.target_type)
                .ok_or_else(|| corrupt("target type", &self.target_type))?,
            target_id: parse_id(&self.target_id)?,
            action: Action::parse(&self.action).ok_or_else(|| corrupt("action", &self.action))?,
            reason: self.reason,
            moderator: self.moderator.map(OwnerRow::into_summary).transpose()?,
            created_at: Timestamp(self.created_at),
        })
    }
}

#[async_trait]
impl ModerationRepo for SqliteStore {
    async fn record(&self, action: NewAction) -> StoreResult<ModerationAction> {
        let id = Id::generate();
        let NewAction { moderator, target, action, reason } = action;
        let row =
            (id.to_hex(), moderator.to_hex(), target.kind.as_str(), target.id.to_hex(), action.as_str(), reason, now());
        self.writes.write(move |db| db.prepare_cached(RECORD)?.execute(row)).await?;
        let found = self.reads.read(|db| db.prepare_cached(ACTION_BY_ID)?.query_row([id.to_hex()], LogRow::read))?;
        found.into_action()
    }

    async fn log(&self, filter: LogFilter, offset: u64, limit: u32) -> StoreResult<(Vec<ModerationAction>, u64)> {
        let (kind, target) = (filter.kind.map(TargetType::as_str), filter.id.map(Id::to_hex));
        let (rows, total) = self.reads.read(|db| {
            let rows = db
                .prepare_cached(LOG)?
                .query_map(rusqlite::params![kind, target, limit, offset as i64], LogRow::read)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let total: i64 = db.prepare_cached(LOG_TOTAL)?.query_row((kind, &target), |row| row.get(0))?;
            Ok((rows, total as u64))
        })?;
        Ok((rows.into_iter().map(LogRow::into_action).collect::<StoreResult<_>>()?, total))
    }
}
