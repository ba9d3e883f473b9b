//! Builders for moderation: the log, the report queue, and a video's removal.

use bson::oid::ObjectId;
use bson::{Bson, DateTime, Document, doc};

use super::super::{coll, oid};
use crate::domain::choice::Choice;
use crate::domain::moderation::{self, Action, ReportStatus, Target, TargetType};
use crate::store::LogFilter;

/// An action's fields as stored, for a new action and for a copied one.
pub fn action_fields(moderator: ObjectId, target: Target, action: Action, reason: &str, at: DateTime) -> Document {
    doc! {
        "moderator": moderator,
        "targetType": target.kind.as_str(),
        "target": oid(target.id),
        "action": action.as_str(),
        "reason": reason,
        "createdAt": at,
    }
}

pub fn log_filter(filter: LogFilter) -> Document {
    let mut matched = doc! {};
    if let Some(kind) = filter.kind {
        matched.insert("targetType", kind.as_str());
    }
    if let Some(id) = filter.id {
        matched.insert("target", oid(id));
    }
    matched
}

/// One page of the log, newest first, each with its moderator's summary (`null` once the
/// moderator's account is gone: the log keeps the action).
pub fn log_page(filter: LogFilter, offset: u64, limit: u32) -> Vec<Document> {
    vec![
        doc! { "$match": log_filter(filter) },
        doc! { "$sort": { "createdAt": -1, "_id": -1 } },
        doc! { "$skip": offset as i64 },
        doc! { "$limit": i64::from(limit) },
        doc! { "$lookup": {
            "from": coll::USERS,
            "localField": "moderator",
            "foreignField": "_id",
            "pipeline": [{ "$project": { "username": 1, "fullName": 1, "avatar": 1 } }],
            "as": "moderator",
        } },
        doc! { "$unwind": { "path": "$moderator", "preserveNullAndEmptyArrays": true } },
    ]
}

fn queue_filter(status: ReportStatus, kind: Option<TargetType>) -> Document {
    let mut matched = doc! { "status": status.as_str() };
    if let Some(kind) = kind {
        matched.insert("targetType", kind.as_str());
    }
    matched
}

/// The reports of one status grouped by target, most reported first, then the latest report.
pub fn queue_page(status: ReportStatus, kind: Option<TargetType>, offset: u64, limit: u32) -> Vec<Document> {
    vec![
        doc! { "$match": queue_filter(status, kind) },
        doc! { "$group": {
            "_id": { "targetType": "$targetType", "target": "$target" },
            "count": { "$sum": 1 },
            "reasons": { "$push": "$reason" },
            "first": { "$min": "$createdAt" },
            "last": { "$max": "$createdAt" },
        } },
        doc! { "$sort": { "count": -1, "last": -1, "_id.target": -1 } },
        doc! { "$skip": offset as i64 },
        doc! { "$limit": i64::from(limit) },
    ]
}

/// How many targets `queue_page` pages through.
pub fn queue_total(status: ReportStatus, kind: Option<TargetType>) -> Vec<Document> {
    vec![
        doc! { "$match": queue_filter(status, kind) },
        doc! { "$group": { "_id": { "targetType": "$targetType", "target": "$target" } } },
        doc! { "$count": "n" },
    ]
}

/// The open reports on `target`.
pub fn open_on(target: Target) -> Document {
    doc! { "targetType": target.kind.as_str(), "target": oid(target.id), "status": ReportStatus::Open.as_str() }
}

/// Closes reports as `status`, freeing their place in the unique index of open reports.
pub fn close(status: ReportStatus, now: DateTime) -> Document {
    doc! { "$set": { "status": status.as_str(), "updatedAt": now }, "$unset": { "openBy": "" } }
}

/// The video's own level from its stored fields (`Visibility::from_stored`), as an expression.
fn own_level() -> Bson {
    Bson::Document(doc! { "$ifNull": ["$heldVisibility", { "$cond": [
        "$isPublished",
        "public",
        { "$cond": [{ "$eq": ["$visibility", "unlisted"] }, "unlisted", "private"] },
    ] }] })
}

/// Lists a video as private with its own level held aside (`visibility::listed`); a pipeline
/// update, so the level read and the level written are the same document's.
fn hide() -> Document {
    doc! { "$set": { "heldVisibility": own_level(), "visibility": "private", "isPublished": false } }
}

/// Lists a video at its own level again.
fn show() -> Vec<Document> {
    vec![
        doc! { "$set": { "visibility": own_level(), "isPublished": { "$eq": [own_level(), "public"] } } },
        doc! { "$unset": ["removedReason", "heldVisibility"] },
    ]
}

/// Removes a video (`Some(reason)`): hidden; or restores it (`None`): shown again unless its
/// owner's suspension still hides it (`moderation::hidden`).
pub fn removal(reason: Option<&str>, owner_suspended: bool) -> Vec<Document> {
    match (reason, moderation::hidden(false, owner_suspended)) {
        (Some(reason), _) => vec![doc! { "$set": { "removedReason": reason } }, hide()],
        (None, true) => vec![doc! { "$unset": ["removedReason"] }],
        (None, false) => show(),
    }
}

/// The owner's videos hidden by a suspension.
pub fn suspended_videos(owner: ObjectId) -> (Document, Vec<Document>) {
    (doc! { "owner": owner }, vec![hide()])
}

/// The owner's videos a lifted suspension shows again: those no removal of their own hides.
pub fn unsuspended_videos(owner: ObjectId) -> (Document, Vec<Document>) {
    (doc! { "owner": owner, "removedReason": null, "heldVisibility": { "$type": "string" } }, show())
}

/// The owner's comments or tweets hidden by a suspension.
pub fn suspended_posts(owner: ObjectId) -> (Document, Document) {
    (doc! { "owner": owner }, doc! { "$set": { "hidden": true } })
}

/// The owner's comments or tweets a lifted suspension shows again.
pub fn unsuspended_posts(owner: ObjectId) -> (Document, Document) {
    (doc! { "owner": owner, "removedReason": null }, doc! { "$set": { "hidden": false } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Id;

    #[test]
    fn the_log_keeps_actions_whose_moderator_is_gone() {
        let target = Target { kind: TargetType::Tweet, id: Id::from_bytes([3; 12]) };
        let filter = LogFilter { kind: Some(TargetType::Tweet), id: Some(target.id) };
        let page = log_page(filter, 20, 10);
        assert_eq!(page[0], doc! { "$match": { "targetType": "tweet", "target": oid(target.id) } });
        assert_eq!(page[5], doc! { "$unwind": { "path": "$moderator", "preserveNullAndEmptyArrays": true } });
        assert_eq!(log_filter(LogFilter::default()), doc! {});
    }

    #[test]
    fn the_queue_groups_by_target_and_closing_frees_the_unique_key() {
        let page = queue_page(ReportStatus::Open, None, 0, 5);
        assert_eq!(page[0], doc! { "$match": { "status": "open" } });
        assert_eq!(page[2], doc! { "$sort": { "count": -1, "last": -1, "_id.target": -1 } });
        assert_eq!(queue_total(ReportStatus::Dismissed, Some(TargetType::User)).len(), 3);
        let closed = close(ReportStatus::Resolved, DateTime::from_millis(1));
        assert_eq!(closed.get_document("$unset").unwrap(), &doc! { "openBy": "" });
    }

    #[test]
    fn a_restored_video_is_listed_at_its_own_level() {
        let removed = removal(Some("spam"), false);
        assert_eq!(removed[1].get_document("$set").unwrap().get_str("visibility").unwrap(), "private");
        let restored = removal(None, false);
        assert_eq!(restored[1], doc! { "$unset": ["removedReason", "heldVisibility"] });
        assert_eq!(removal(None, true), [doc! { "$unset": ["removedReason"] }], "the suspension still hides it");
    }
}
