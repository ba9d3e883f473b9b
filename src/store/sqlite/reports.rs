//! SQLite persistence of reports.

use async_trait::async_trait;

use super::{SqliteStore, now};
use crate::domain::choice::Choice;
use crate::domain::moderation::{Report, ReportStatus, Target};
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
        Ok(Report {
            id,
            target_type: target.kind,
            target_id: target.id,
            reason: grounds.reason,
            details: grounds.details,
            status: ReportStatus::Open,
            created_at: Timestamp(created_at),
        })
    }
}
