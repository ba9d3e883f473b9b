//! Builders for reports. While a report is open, `openBy` holds its reporter: the unique index on
//! `(openBy, targetType, target)` (only where `openBy` is set) allows one open report per reporter
//! and target, and a resolved report leaves it (`$unset`).

use bson::oid::ObjectId;
use bson::{Bson, DateTime, Document, doc};

use crate::domain::choice::Choice;
use crate::domain::moderation::{ReportReason, ReportStatus, Target};

/// A report's fields as stored, for a new report and for a copied one.
pub fn report_fields(
    reporter: ObjectId,
    target: Target,
    reason: ReportReason,
    details: Option<&str>,
    status: ReportStatus,
) -> Document {
    let mut fields = doc! {
        "reporter": reporter,
        "targetType": target.kind.as_str(),
        "target": super::super::oid(target.id),
        "reason": reason.as_str(),
        "details": details.map_or(Bson::Null, |d| Bson::String(d.to_owned())),
        "status": status.as_str(),
    };
    if status == ReportStatus::Open {
        fields.insert("openBy", reporter);
    }
    fields
}

/// The reporter's open report on `target`, found through the unique index.
pub fn open_report(reporter: ObjectId, target: Target) -> Document {
    doc! { "openBy": reporter, "targetType": target.kind.as_str(), "target": super::super::oid(target.id) }
}

/// A new open report.
pub fn new_report(
    id: ObjectId,
    reporter: ObjectId,
    target: Target,
    reason: ReportReason,
    details: Option<&str>,
    now: DateTime,
) -> Document {
    let mut report = doc! { "_id": id };
    report.extend(report_fields(reporter, target, reason, details, ReportStatus::Open));
    report.insert("createdAt", now);
    report.insert("updatedAt", now);
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Id;
    use crate::domain::moderation::TargetType;

    #[test]
    fn only_an_open_report_holds_its_reporter_in_the_unique_key() {
        let reporter = ObjectId::from_bytes([1; 12]);
        let target = Target { kind: TargetType::Video, id: Id::from_bytes([2; 12]) };
        let open = report_fields(reporter, target, ReportReason::Spam, None, ReportStatus::Open);
        assert_eq!(open.get_object_id("openBy").unwrap(), reporter);
        assert_eq!(open.get("details"), Some(&Bson::Null));
        let closed = report_fields(reporter, target, ReportReason::Other, Some("x"), ReportStatus::Dismissed);
        assert!(!closed.contains_key("openBy"));
        assert_eq!(closed.get_str("status").unwrap(), "dismissed");
        assert_eq!(
            open_report(reporter, target),
            doc! { "openBy": reporter, "targetType": "video", "target": ObjectId::from_bytes([2; 12]) }
        );
        let new = new_report(reporter, reporter, target, ReportReason::Spam, None, DateTime::from_millis(5));
        assert_eq!(new.get_datetime("createdAt").unwrap(), new.get_datetime("updatedAt").unwrap());
    }
}
