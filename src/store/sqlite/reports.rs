//! SQLite persistence of reports.

use async_trait::async_trait;

use super::{SqliteStore, now};
use crate::domain::choice::Choice;
use crate::domain::moderation::{Report, ReportReason, ReportStatus, ReportTally, Target, TargetType, tally_reasons};
use crate::domain::{Id, Timestamp};
use crate::store::{NewReport, ReportRepo, StoreResult};

const HAS_OPEN: &str = "SELECT EXISTS (SELECT 1 FROM reports \
     WHERE reporter_id = ?1 AND target_type = ?2 AND target_id = ?3 AND status = 'open')";

/// The partial unique index `reports_open_once` refuses a second open report of the pair.
const FILE: &str = "INSERT INTO reports (id, reporter_id, target_type, target_id, reason, details, status, \
     created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open', ?7, ?7)";

#[async_trait]
impl ReportRepo for SqliteStore {
    async fn has_open(&self, reporter: Id, target: Target) -> StoreResult<bool> {
        let key = (reporter.to_hex(), target.kind.as_str(), target.id.to_hex());
        self.reads.read(|db| db.prepare_cached(HAS_OPEN)?.query_row(key, |row| row.get(0)))
    }

    async fn file(&self, report: NewReport) -> StoreResult<Report> {
        let id = Id::generate();
        let created_at = now();
        let NewReport { reporter, target, grounds } = report;
        let details = grounds.details.clone();
        self.writes
            .write(move |db| {
                db.prepare_cached(FILE)?.execute(rusqlite::params![
                    id.to_hex(),
                    reporter.to_hex(),
                    target.kind.as_str(),
                    target.id.to_hex(),
                    grounds.reason.as_str(),
                    details,
                    created_at,
                ])
            })
            .await?;
        Ok(Report::filed(id, target, grounds, Timestamp(created_at)))
    }

    async fn queue(
        &self,
        status: ReportStatus,
        kind: Option<TargetType>,
        offset: u64,
        limit: u32,
    ) -> StoreResult<(Vec<ReportTally>, u64)> {
        let (status, kind) = (status.as_str(), kind.map(TargetType::as_str));
        self.reads.read(|db| {
            let page = db
                .prepare_cached(QUEUE)?
                .query_map(rusqlite::params![status, kind, limit, offset as i64], tally)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let total: i64 = db.prepare_cached(QUEUE_TOTAL)?.query_row((status, kind), |row| row.get(0))?;
            Ok((page, total as u64))
        })
    }

    async fn close(&self, target: Target, status: ReportStatus) -> StoreResult<u64> {
        let closed = self
            .writes
            .write(move |db| {
                let key = (target.kind.as_str(), target.id.to_hex(), status.as_str(), now());
                db.prepare_cached(CLOSE)?.execute(key)
            })
            .await?;
        Ok(closed as u64)
    }
}

/// The groups of one status's reports (`?1`), of one kind of target when `?2` is not NULL, most
/// reported first; `?3` = limit, `?4` = offset.
const QUEUE: &str = "SELECT target_type, target_id, COUNT(*) AS n, group_concat(reason), MIN(created_at), \
     MAX(created_at) AS last FROM reports WHERE status = ?1 AND (?2 IS NULL OR target_type = ?2) \
     GROUP BY target_type, target_id ORDER BY n DESC, last DESC, target_id DESC LIMIT (?3 + 0) OFFSET (?4 + 0)";

const QUEUE_TOTAL: &str = "SELECT COUNT(*) FROM (SELECT 1 FROM reports WHERE status = ?1 \
     AND (?2 IS NULL OR target_type = ?2) GROUP BY target_type, target_id)";

/// Closing a report frees its place in `reports_open_once`.
const CLOSE: &str = "UPDATE reports SET status = ?3, updated_at = ?4 \
     WHERE target_type = ?1 AND target_id = ?2 AND status = 'open'";

/// A row of `QUEUE`.
fn tally(row: &rusqlite::Row) -> rusqlite::Result<ReportTally> {
    let (kind, id, reasons): (String, String, String) = (row.get(0)?, row.get(1)?, row.get(3)?);
    let corrupt = |what: &str| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, format!("corrupt {what}").into())
    };
    let kind = TargetType::parse(&kind).ok_or_else(|| corrupt("target type"))?;
    let id = Id::parse(&id).ok_or_else(|| corrupt("target id"))?;
    let reasons = reasons.split(',').map(|r| ReportReason::parse(r).ok_or_else(|| corrupt("reason")));
    let counts = tally_reasons(reasons.collect::<rusqlite::Result<Vec<_>>>()?);
    Ok(ReportTally {
        target: Target { kind, id },
        count: row.get(2)?,
        reasons: counts,
        first_reported_at: Timestamp(row.get(4)?),
        last_reported_at: Timestamp(row.get(5)?),
    })
}
