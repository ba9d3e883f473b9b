//! MongoDB persistence of reports.

use async_trait::async_trait;

use super::docs::time;
use super::queries::reports as q;
use super::{MongoStore, coll, conflict_on, now, oid};
use crate::domain::Id;
use crate::domain::moderation::{Report, ReportStatus, Target};
use crate::store::{NewReport, ReportRepo, StoreResult};

#[async_trait]
impl ReportRepo for MongoStore {
    async fn has_open(&self, reporter: Id, target: Target) -> StoreResult<bool> {
        Ok(self.count(coll::REPORTS, q::open_report(oid(reporter), target)).await? > 0)
    }

    async fn file(&self, report: NewReport) -> StoreResult<Report> {
        let id = Id::generate();
        let at = now();
        let NewReport { reporter, target, grounds } = report;
        let document = q::new_report(oid(id), oid(reporter), target, grounds.reason, grounds.details.as_deref(), at);
        self.collection(coll::REPORTS).insert_one(document).await.map_err(conflict_on("report"))?;
        Ok(Report {
            id,
            target_type: target.kind,
            target_id: target.id,
            reason: grounds.reason,
            details: grounds.details,
            status: ReportStatus::Open,
            created_at: time(at),
        })
    }
}
