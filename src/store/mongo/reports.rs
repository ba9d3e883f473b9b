//! MongoDB persistence of reports.

use async_trait::async_trait;

use super::docs::{TallyDoc, time};
use super::queries::moderation as mq;
use super::queries::reports as q;
use super::{MongoStore, backend, coll, conflict_on, now, oid};
use crate::domain::Id;
use crate::domain::moderation::{Report, ReportStatus, ReportTally, Target, TargetType};
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
        Ok(Report::filed(id, target, grounds, time(at)))
    }

    async fn queue(
        &self,
        status: ReportStatus,
        kind: Option<TargetType>,
        offset: u64,
        limit: u32,
    ) -> StoreResult<(Vec<ReportTally>, u64)> {
        let (page, total) = futures_util::try_join!(
            self.aggregate_as::<TallyDoc>(coll::REPORTS, mq::queue_page(status, kind, offset, limit)),
            self.aggregate(coll::REPORTS, mq::queue_total(status, kind)),
        )?;
        let page = page.into_iter().filter_map(TallyDoc::into_tally).collect();
        let total = total.first().and_then(|d| d.get_i32("n").map(i64::from).or_else(|_| d.get_i64("n")).ok());
        Ok((page, total.unwrap_or(0) as u64))
    }

    async fn close(&self, target: Target, status: ReportStatus) -> StoreResult<u64> {
        let closed = self
            .collection(coll::REPORTS)
            .update_many(mq::open_on(target), mq::close(status, now()))
            .await
            .map_err(backend)?;
        Ok(closed.modified_count)
    }
}
