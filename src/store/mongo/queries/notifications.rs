//! Builders for notifications and their settings. Whether a notification is shown is decided when
//! it is read (D25): the lookups of `shown` drop those whose actor is suspended or blocked by the
//! recipient, whose comment is hidden, or whose video the recipient no longer sees. The same rule,
//! applied to targets read beforehand (`is_shown`), keeps each notification's stored `shown`, which
//! the recipient's totals count (`queries::counters`).

use std::collections::{HashMap, HashSet};

use bson::oid::ObjectId;
use bson::{Bson, DateTime, Document, doc};

use super::super::{coll, id_of};
use super::counters::{SHOWN, level_of};
use super::{newest_first, skip, visible_to};
use crate::domain::choice::Choice;
use crate::domain::notification::{NotificationSettings, NotificationType};
use crate::domain::visibility::{Place, Visibility, may_see};

/// A notification's fields as stored, for a new one and a copied one.
pub fn notification_fields(
    recipient: ObjectId,
    kind: NotificationType,
    actor: ObjectId,
    video: Option<ObjectId>,
    comment: Option<ObjectId>,
    read: bool,
    at: DateTime,
) -> Document {
    let id = |id: Option<ObjectId>| id.map_or(Bson::Null, Bson::ObjectId);
    doc! {
        "recipient": recipient, "type": kind.as_str(), "actor": actor, "video": id(video), "comment": id(comment),
        "read": read, "createdAt": at,
    }
}

/// Settings' fields as stored (under the account's id).
pub fn settings_fields(settings: NotificationSettings, at: DateTime) -> Document {
    doc! {
        "newVideo": settings.new_video, "comment": settings.comment, "reply": settings.reply,
        "subscriber": settings.subscriber, "updatedAt": at,
    }
}

/// The settings field of a type.
pub fn setting(kind: NotificationType) -> &'static str {
    kind.setting()
}

/// The recipient's notifications, unread ones only with `unread_only`.
pub fn of(recipient: ObjectId, unread_only: bool) -> Document {
    let mut filter = doc! { "recipient": recipient };
    if unread_only {
        filter.insert("read", false);
    }
    filter
}

/// The stages keeping the notifications (of one `recipient`) that the recipient is shown, with
/// their actor (`actor`), video (`video`) and comment (`comment`) in the shapes of the API.
pub fn shown(recipient: ObjectId) -> Vec<Document> {
    let mut by_link = visible_to(Place::ByLink, Some(recipient));
    by_link.insert("_id", doc! { "$exists": true });
    vec![
        // The recipient's blocks of the actor. No `$project` in this sub-pipeline: DocumentDB joins
        // on `foreignField` after running it, so projecting `blocked` away matches nothing
        // (verified against DocumentDB, CI's server).
        doc! { "$lookup": {
            "from": coll::BLOCKS,
            "localField": "actor",
            "foreignField": "blocked",
            "pipeline": [{ "$match": { "blocker": recipient } }],
            "as": "blocks",
        } },
        doc! { "$match": { "blocks": { "$size": 0 } } },
        doc! { "$lookup": {
            "from": coll::USERS,
            "localField": "actor",
            "foreignField": "_id",
            "pipeline": [
                { "$match": { "suspendedReason": Bson::Null } },
                { "$project": { "username": 1, "fullName": 1, "avatar": 1 } },
            ],
            "as": "actor",
        } },
        doc! { "$unwind": "$actor" },
        doc! { "$lookup": {
            "from": coll::VIDEOS,
            "localField": "video",
            "foreignField": "_id",
            "pipeline": [
                { "$match": by_link },
                { "$project": { "title": 1, "thumbnail": 1, "isPublished": 1 } },
            ],
            "as": "videos",
        } },
        doc! { "$lookup": {
            "from": coll::COMMENTS,
            "localField": "comment",
            "foreignField": "_id",
            "pipeline": [{ "$match": { "hidden": { "$ne": true } } }, { "$project": { "content": 1 } }],
            "as": "comments",
        } },
        doc! { "$match": { "$and": [
            { "$or": [{ "video": Bson::Null }, { "type": { "$ne": "new_video" }, "videos.0": { "$exists": true } },
                      { "type": "new_video", "videos.isPublished": true }] },
            { "$or": [{ "comment": Bson::Null }, { "comments.0": { "$exists": true } }] },
        ] } },
        doc! { "$set": {
            "video": { "$first": "$videos" },
            "comment": { "$first": "$comments" },
        } },
        doc! { "$project": { "blocks": 0, "videos": 0, "comments": 0, "video.isPublished": 0 } },
    ]
}

/// The field of a notification holding when its `shown` was last decided: a settling that read
/// the targets earlier does not overwrite one that read them later.
pub const SHOWN_AT: &str = "shownAt";

/// The targets whose change decides whether notifications are shown, and the field naming them
/// in a notification. A change settles the notifications naming the changed record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Touched {
    /// An account suspended or restored, blocked or unblocked: the notifications it caused (its
    /// comments are hidden or shown with it).
    Actor(ObjectId),
    /// A video whose level changed (an edit, a removal, a suspension of its owner).
    Video(ObjectId),
    /// A comment hidden or shown by moderation.
    Comment(ObjectId),
}

impl Touched {
    fn field(self) -> &'static str {
        match self {
            Touched::Actor(_) => "actor",
            Touched::Video(_) => "video",
            Touched::Comment(_) => "comment",
        }
    }

    fn id(self) -> ObjectId {
        match self {
            Touched::Actor(id) | Touched::Video(id) | Touched::Comment(id) => id,
        }
    }

    /// The notifications the change touches.
    pub fn filter(self) -> Document {
        doc! { self.field(): self.id() }
    }

    /// The change as queued for the settler.
    pub fn queued(self, lease_until: DateTime) -> Document {
        doc! { "_id": ObjectId::new(), "field": self.field(), "id": self.id(), "leaseUntil": lease_until }
    }

    /// A queued change read back.
    pub fn from_queued(entry: &Document) -> Option<Self> {
        let id = entry.get_object_id("id").ok()?;
        match entry.get_str("field").ok()? {
            "actor" => Some(Touched::Actor(id)),
            "video" => Some(Touched::Video(id)),
            "comment" => Some(Touched::Comment(id)),
            _ => None,
        }
    }
}

/// The fields a settling reads of each notification.
pub fn settled_fields() -> Document {
    doc! { "recipient": 1, "actor": 1, "video": 1, "comment": 1, "type": 1, "read": 1, SHOWN: 1 }
}

/// Whether a stored notification is counted as shown.
pub fn stored_shown(notification: &Document) -> bool {
    notification.get_bool(SHOWN).unwrap_or(false)
}

/// The targets of a batch of notifications, as the rule reads them.
#[derive(Debug, Default)]
pub struct Targets {
    /// Actors not suspended.
    pub live_actors: HashSet<ObjectId>,
    /// (blocker, blocked) among the recipients and actors.
    pub blocks: HashSet<(ObjectId, ObjectId)>,
    /// Each video's level and owner.
    pub videos: HashMap<ObjectId, (Visibility, ObjectId)>,
    /// Comments not hidden.
    pub shown_comments: HashSet<ObjectId>,
}

impl Targets {
    /// Reads a video document (`owner`, `isPublished`, `visibility`).
    pub fn add_video(&mut self, video: &Document) {
        if let (Ok(id), Ok(owner)) = (video.get_object_id("_id"), video.get_object_id("owner")) {
            self.videos.insert(id, (level_of(video), owner));
        }
    }
}

/// The rule of `shown` on targets read beforehand: the actor exists and is not suspended, the
/// recipient does not block it, its video (if any) exists and the recipient sees it by link (a
/// `new_video` only while public), its comment (if any) exists and is not hidden.
pub fn is_shown(notification: &Document, targets: &Targets) -> bool {
    let (Ok(recipient), Ok(actor)) = (notification.get_object_id("recipient"), notification.get_object_id("actor"))
    else {
        return false;
    };
    let video = match notification.get_object_id("video").ok() {
        None => true,
        Some(video) => targets.videos.get(&video).is_some_and(|(level, owner)| {
            if notification.get_str("type").ok() == Some(NotificationType::NewVideo.as_str()) {
                *level == Visibility::Public
            } else {
                may_see(*level, id_of(*owner), Some(id_of(recipient)), Place::ByLink)
            }
        }),
    };
    let comment = notification.get_object_id("comment").ok().is_none_or(|c| targets.shown_comments.contains(&c));
    targets.live_actors.contains(&actor) && !targets.blocks.contains(&(recipient, actor)) && video && comment
}

/// Stamps `ids`, stored as `shown` already, as decided at `at`, unless a later settling did.
pub fn stamp(ids: &[ObjectId], shown: bool, at: DateTime) -> (Document, Document) {
    let mut filter = unstamped(ids, at);
    filter.insert(SHOWN, if shown { Bson::Boolean(true) } else { Bson::Document(doc! { "$ne": true }) });
    (filter, doc! { "$set": { SHOWN_AT: at } })
}

/// Of `ids`, those no settling has decided at `at` or later.
pub fn unstamped(ids: &[ObjectId], at: DateTime) -> Document {
    doc! { "_id": { "$in": ids }, SHOWN_AT: { "$not": { "$gte": at } } }
}

/// Sets one notification's `shown` as decided at `at`, unless a later settling did.
pub fn settle_one(id: ObjectId, shown: bool, at: DateTime) -> (Document, Document) {
    (doc! { "_id": id, SHOWN_AT: { "$not": { "$gte": at } } }, doc! { "$set": { SHOWN: shown, SHOWN_AT: at } })
}

/// A new notification counted as shown from its insert (decided at `at`; settled right after).
pub fn counted_as_shown(at: DateTime) -> Document {
    doc! { SHOWN: true, SHOWN_AT: at }
}

/// A page of the recipient's shown notifications, newest first.
pub fn page(recipient: ObjectId, unread_only: bool, offset: u64, limit: u32) -> Vec<Document> {
    let mut pipeline = vec![doc! { "$match": of(recipient, unread_only) }, newest_first()];
    // Shown-ness is decided before the page is cut, so pages hold only shown notifications.
    pipeline.extend(shown(recipient));
    pipeline.push(skip(offset));
    pipeline.push(doc! { "$limit": i64::from(limit) });
    pipeline
}

/// The recipient's shown notifications among `ids` (or created after `after`), oldest first.
pub fn oldest_first(filter: Document, recipient: ObjectId, limit: u32) -> Vec<Document> {
    let mut pipeline = vec![doc! { "$match": filter }, doc! { "$sort": { "createdAt": 1, "_id": 1 } }];
    pipeline.push(doc! { "$limit": i64::from(limit) });
    pipeline.extend(shown(recipient));
    pipeline
}

/// The recipient's notifications created after (`at`, `id`).
pub fn after(recipient: ObjectId, at: DateTime, id: ObjectId) -> Document {
    doc! { "recipient": recipient, "$or": [
        { "createdAt": { "$gt": at } },
        { "createdAt": at, "_id": { "$gt": id } },
    ] }
}

/// The notifications of `recipients` created at `from` or later.
pub fn since(from: DateTime, recipients: &[ObjectId]) -> Document {
    doc! { "createdAt": { "$gte": from }, "recipient": { "$in": recipients } }
}

/// The `subscriber` notification of a subscription.
pub fn subscriber_of(channel: ObjectId, subscriber: ObjectId) -> Document {
    doc! { "actor": subscriber, "recipient": channel, "type": NotificationType::Subscriber.as_str() }
}

/// Marks a video told to its subscribers, the first time only.
pub fn claim(video: ObjectId) -> (Document, Document) {
    (doc! { "_id": video, "announced": { "$ne": true } }, doc! { "$set": { "announced": true } })
}

/// The next subscriptions to a channel after (`at`, `id`), in subscription order.
pub fn subscriptions_after(channel: ObjectId, after: Option<(DateTime, ObjectId)>) -> Document {
    match after {
        None => doc! { "channel": channel },
        Some((at, id)) => doc! { "channel": channel, "$or": [
            { "createdAt": { "$gt": at } },
            { "createdAt": at, "_id": { "$gt": id } },
        ] },
    }
}

/// Among `users`, those who switched `kind` off.
pub fn switched_off(users: &[ObjectId], kind: NotificationType) -> Document {
    doc! { "_id": { "$in": users }, setting(kind): false }
}

/// Among `users`, those who block `actor`.
pub fn blocking(users: &[ObjectId], actor: ObjectId) -> Document {
    doc! { "blocker": { "$in": users }, "blocked": actor }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes([n; 12])
    }

    #[test]
    fn a_page_is_cut_after_the_shown_filter() {
        let pipeline = page(id(1), true, 20, 10);
        assert_eq!(pipeline[0], doc! { "$match": { "recipient": id(1), "read": false } });
        assert_eq!(pipeline[pipeline.len() - 2], doc! { "$skip": 20_i64 });
    }

    #[test]
    fn a_notification_is_shown_while_its_actor_video_and_comment_are() {
        let (recipient, actor, video, comment) = (id(1), id(2), id(3), id(4));
        let notification = |kind: &str| {
            doc! { "recipient": recipient, "actor": actor, "type": kind, "video": video, "comment": comment }
        };
        let video_at = |level: &str, owner: ObjectId| {
            let published = level == "public";
            doc! { "_id": video, "owner": owner, "isPublished": published, "visibility": level }
        };
        let mut targets = Targets::default();
        targets.live_actors.insert(actor);
        targets.shown_comments.insert(comment);
        targets.add_video(&video_at("unlisted", actor));
        assert!(is_shown(&notification("comment"), &targets), "an unlisted video is seen by link");
        assert!(!is_shown(&notification("new_video"), &targets), "an announcement only while public");
        targets.add_video(&video_at("private", actor));
        assert!(!is_shown(&notification("comment"), &targets));
        targets.add_video(&video_at("private", recipient));
        assert!(is_shown(&notification("comment"), &targets), "the owner sees their private video");
        targets.blocks.insert((recipient, actor));
        assert!(!is_shown(&notification("comment"), &targets), "blocked by the recipient");
        targets.blocks.clear();
        targets.shown_comments.clear();
        assert!(!is_shown(&notification("comment"), &targets), "a hidden or deleted comment");
        let subscriber =
            doc! { "recipient": recipient, "actor": actor, "type": "subscriber", "video": null, "comment": null };
        assert!(is_shown(&subscriber, &targets));
        targets.live_actors.clear();
        assert!(!is_shown(&subscriber, &targets), "a suspended actor");
    }

    #[test]
    fn a_settling_never_overwrites_a_later_one() {
        let at = DateTime::from_millis(9);
        let (filter, update) = settle_one(id(1), false, at);
        assert_eq!(filter, doc! { "_id": id(1), "shownAt": { "$not": { "$gte": at } } });
        assert_eq!(update, doc! { "$set": { "shown": false, "shownAt": at } });
        assert_eq!(stamp(&[id(1)], false, at).0.get_document("shown").unwrap(), &doc! { "$ne": true });
        for touched in [Touched::Actor(id(1)), Touched::Video(id(2)), Touched::Comment(id(3))] {
            assert_eq!(Touched::from_queued(&touched.queued(at)), Some(touched));
        }
    }

    #[test]
    fn announcements_are_claimed_once_and_fan_out_in_subscription_order() {
        assert_eq!(claim(id(2)).0, doc! { "_id": id(2), "announced": { "$ne": true } });
        let at = DateTime::from_millis(5);
        assert_eq!(subscriptions_after(id(3), None), doc! { "channel": id(3) });
        let next = subscriptions_after(id(3), Some((at, id(4))));
        assert_eq!(next.get_array("$or").unwrap().len(), 2);
        assert_eq!(
            switched_off(&[id(1)], NotificationType::NewVideo),
            doc! { "_id": { "$in": [id(1)] }, "newVideo": false }
        );
        assert_eq!(blocking(&[id(1)], id(2)), doc! { "blocker": { "$in": [id(1)] }, "blocked": id(2) });
        assert_eq!(subscriber_of(id(1), id(2)), doc! { "actor": id(2), "recipient": id(1), "type": "subscriber" });
    }
}
