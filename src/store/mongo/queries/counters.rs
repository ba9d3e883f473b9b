//! Builders for the counts MongoDB keeps beside the records they count (docs/decisions.md D26): a
//! target's likes, a user's subscribers, subscriptions and videos per level, the site's videos per
//! level, and a user's shown and shown unread notifications (D25). Every total the API shows is read from them instead of counted over the records.
//!
//! Which kind adds to which count is listed once, in `counts`; the writes of a kind (a flip, an
//! insert, a cascade's deletions, a change of level) and the repair pass all follow from it.

use std::collections::HashMap;

use bson::oid::ObjectId;
use bson::{Bson, Document, doc};

use super::super::collection;
use crate::domain::visibility::{ALL_LEVELS, Visibility};
use crate::store::records::RecordKind;

/// The collection of site-wide counts (one document, `SITE`).
pub const COUNTERS: &str = "counters";

/// The `_id` of the document holding the site's counts.
pub const SITE: &str = "site";

/// The field of a video holding the level it is counted at, so that a change of level moves it
/// from one count to the other exactly once (`settle`).
pub const COUNTED_LEVEL: &str = "countedLevel";

/// Where a count is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    /// In the record of `kind` that the counted record names in its field `by`.
    Record { kind: RecordKind, by: &'static str },
    /// In the site's document of `COUNTERS`.
    Site,
}

/// Which records of its kind a count counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Every,
    /// Notifications stored as shown (`shown`, kept by `MongoStore::settle_notifications`).
    Shown,
    /// Notifications stored as shown and not read.
    ShownUnread,
    /// Comments counted as seen by everyone (`COUNTED_VISIBLE`).
    Visible,
    /// Top-level comments counted as seen by everyone.
    VisibleTopLevel,
}

impl Which {
    /// The filter of the records counted.
    pub fn filter(self) -> Document {
        match self {
            Which::Every => Document::new(),
            Which::Shown => doc! { SHOWN: true },
            Which::ShownUnread => doc! { SHOWN: true, "read": false },
            Which::Visible => doc! { COUNTED_VISIBLE: true },
            Which::VisibleTopLevel => doc! { COUNTED_VISIBLE: true, "parent": null },
        }
    }

    /// Whether `record` (read with `counted_fields`) is counted.
    pub fn holds(self, record: &Document) -> bool {
        let shown = record.get_bool(SHOWN).unwrap_or(false);
        match self {
            Which::Every => true,
            Which::Shown => shown,
            Which::ShownUnread => shown && !record.get_bool("read").unwrap_or(false),
            Which::Visible => record.get_bool(COUNTED_VISIBLE).unwrap_or(false),
            Which::VisibleTopLevel => {
                record.get_bool(COUNTED_VISIBLE).unwrap_or(false) && record.get_object_id("parent").is_err()
            }
        }
    }

    /// The fields `holds` reads.
    fn fields(self) -> &'static [&'static str] {
        match self {
            Which::Every => &[],
            Which::Shown => &[SHOWN],
            Which::ShownUnread => &[SHOWN, "read"],
            Which::Visible => &[COUNTED_VISIBLE],
            Which::VisibleTopLevel => &[COUNTED_VISIBLE, "parent"],
        }
    }
}

/// The field of a comment telling whether it is counted as seen by everyone (not hidden), so that
/// hiding or showing it moves it between counts exactly once (`settle_comments`).
pub const COUNTED_VISIBLE: &str = "countedVisible";

/// The field of a notification telling whether it is shown, as its targets stood when it was
/// last settled (docs/decisions.md D25).
pub const SHOWN: &str = "shown";

/// A count of the records of one kind (those `which` selects), kept in `field` of its holder: one
/// number, or one per level (`field.public`, …) of the counted video.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Count {
    pub counted: RecordKind,
    pub holder: Holder,
    pub field: &'static str,
    pub per_level: bool,
    pub which: Which,
    /// Kept not in the holder's document but in the document of this kind under the holder's id,
    /// made by the first bump: a small document is cheap to update many at a time, where a user's
    /// (with its indexes) is not (a fan-out bumps 500 recipients per batch).
    pub kept_in: Option<RecordKind>,
}

const fn count(counted: RecordKind, kind: RecordKind, by: &'static str, field: &'static str) -> Count {
    Count { counted, holder: Holder::Record { kind, by }, field, per_level: false, which: Which::Every, kept_in: None }
}

impl Count {
    /// The collection holding the count: the holder's, or the one it is kept in.
    pub fn collection(&self) -> &'static str {
        match (self.kept_in, self.holder) {
            (Some(kind), _) => collection(kind),
            (None, Holder::Record { kind, .. }) => collection(kind),
            (None, Holder::Site) => COUNTERS,
        }
    }

    /// Whether a bump makes the document holding the count when it is missing.
    pub fn upserts(&self) -> bool {
        self.kept_in.is_some() || self.holder == Holder::Site
    }
}

const LIKE_COUNTS: [Count; 3] = [
    count(RecordKind::Likes, RecordKind::Videos, "video", "likes"),
    count(RecordKind::Likes, RecordKind::Comments, "comment", "likes"),
    count(RecordKind::Likes, RecordKind::Tweets, "tweet", "likes"),
];

const SUBSCRIPTION_COUNTS: [Count; 2] = [
    count(RecordKind::Subscriptions, RecordKind::Users, "channel", "subscribersCount"),
    count(RecordKind::Subscriptions, RecordKind::Users, "subscriber", "subscribedToCount"),
];

const VIDEO_COUNTS: [Count; 2] = [
    Count {
        counted: RecordKind::Videos,
        holder: Holder::Record { kind: RecordKind::Users, by: "owner" },
        field: "videoCounts",
        per_level: true,
        which: Which::Every,
        kept_in: None,
    },
    Count {
        counted: RecordKind::Videos,
        holder: Holder::Site,
        field: "videos",
        per_level: true,
        which: Which::Every,
        kept_in: None,
    },
];

/// A video's top-level comments and a thread's replies that everyone sees (a viewer's own hidden
/// ones are added when read).
const COMMENT_COUNTS: [Count; 2] = [
    Count {
        which: Which::VisibleTopLevel,
        ..count(RecordKind::Comments, RecordKind::Videos, "video", "commentsCount")
    },
    Count { which: Which::Visible, ..count(RecordKind::Comments, RecordKind::Comments, "parent", "repliesCount") },
];

/// A recipient's shown notifications and shown unread ones (`totalDocs` and the unread count),
/// kept in the recipient's notification settings document.
const NOTIFICATION_COUNTS: [Count; 2] = [
    Count {
        which: Which::Shown,
        kept_in: Some(RecordKind::NotificationSettings),
        ..count(RecordKind::Notifications, RecordKind::Users, "recipient", "notificationsShown")
    },
    Count {
        which: Which::ShownUnread,
        kept_in: Some(RecordKind::NotificationSettings),
        ..count(RecordKind::Notifications, RecordKind::Users, "recipient", "notificationsUnread")
    },
];

/// The counts the records of `kind` add to.
pub const fn counts(kind: RecordKind) -> &'static [Count] {
    use RecordKind::*;
    match kind {
        Likes => &LIKE_COUNTS,
        Subscriptions => &SUBSCRIPTION_COUNTS,
        Videos => &VIDEO_COUNTS,
        Notifications => &NOTIFICATION_COUNTS,
        Comments => &COMMENT_COUNTS,
        // Counted where they are read, within one record's bounds (a user's playlists), or not
        // shown as totals.
        Users | Sessions | ViewHours | Tweets | Playlists | PlaylistEntries | WatchHistory | Reports
        | ModerationActions | Blocks | NotificationSettings | ViewMarks | RequestBudgets => &[],
    }
}

/// Every count, for the repair pass.
pub fn all_counts() -> impl Iterator<Item = &'static Count> {
    RecordKind::ALL.into_iter().flat_map(|kind| counts(kind).iter())
}

/// The counts a new record of `holder`'s kind starts with: zero in each.
pub fn zeroes(holder: RecordKind) -> Document {
    let mut fields = Document::new();
    for count in all_counts() {
        if matches!(count.holder, Holder::Record { kind, .. } if kind == holder) && count.kept_in.is_none() {
            fields.insert(count.field, zero(count));
        }
    }
    fields
}

fn zero(count: &Count) -> Bson {
    if count.per_level {
        Bson::Document(ALL_LEVELS.iter().map(|level| (level.as_str().to_owned(), Bson::Int64(0))).collect())
    } else {
        Bson::Int64(0)
    }
}

/// The path of `count` for a record counted at `level`.
pub fn path(count: &Count, level: Option<Visibility>) -> String {
    match (count.per_level, level) {
        (true, Some(level)) => format!("{}.{}", count.field, level.as_str()),
        _ => count.field.to_owned(),
    }
}

/// The level a video is listed at from its stored fields, as the listings' filters read them
/// (`isPublished`, then `visibility`); the expression of `level_of`.
pub fn stored_level() -> Bson {
    Bson::Document(doc! { "$cond": [
        { "$eq": ["$isPublished", true] },
        "public",
        { "$cond": [{ "$eq": ["$visibility", "unlisted"] }, "unlisted", "private"] },
    ] })
}

/// The level `stored_level` gives a video document.
pub fn level_of(video: &Document) -> Visibility {
    Visibility::from_stored(video.get_bool("isPublished").unwrap_or(false), video.get_str("visibility").ok())
}

/// The level a video document is counted at, if it is counted yet.
pub fn counted_level(video: &Document) -> Option<Visibility> {
    video.get_str(COUNTED_LEVEL).ok().and_then(Visibility::parse)
}

/// Where one change of `count` by `delta` goes: the collection, the holder's filter, the update,
/// and whether to create the holder (the site's document).
pub fn bump(count: &Count, holder: Option<ObjectId>, level: Option<Visibility>, delta: i64) -> Option<Bump> {
    let update = doc! { "$inc": { path(count, level): delta } };
    let filter = match count.holder {
        Holder::Record { .. } => doc! { "_id": holder? },
        Holder::Site => doc! { "_id": SITE },
    };
    Some(Bump { collection: count.collection(), filter, update, upsert: count.upserts() })
}

/// One change of a count.
#[derive(Clone, Debug, PartialEq)]
pub struct Bump {
    pub collection: &'static str,
    pub filter: Document,
    pub update: Document,
    pub upsert: bool,
}

/// The bumps with those of one holder merged into one update (their `$inc`s summed).
pub fn merged(bumps: Vec<Bump>) -> Vec<Bump> {
    let mut merged: Vec<Bump> = Vec::with_capacity(bumps.len());
    let mut of_holder: HashMap<(&'static str, String, bool), usize> = HashMap::new();
    for bump in bumps {
        let key = (bump.collection, bump.filter.to_string(), bump.upsert);
        let (Some(&at), Ok(more)) = (of_holder.get(&key), bump.update.get_document("$inc")) else {
            of_holder.insert(key, merged.len());
            merged.push(bump);
            continue;
        };
        if let Ok(inc) = merged[at].update.get_document_mut("$inc") {
            for (path, delta) in more {
                let sum = inc.get(path).and_then(Bson::as_i64).unwrap_or(0) + delta.as_i64().unwrap_or(0);
                inc.insert(path, sum);
            }
        }
    }
    merged
}

/// The holder a counted document names for `count` (none for the site, or when the field is unset).
pub fn holder_of(count: &Count, counted: &Document) -> Option<ObjectId> {
    match count.holder {
        Holder::Record { by, .. } => counted.get_object_id(by).ok(),
        Holder::Site => None,
    }
}

/// The bumps of one record of `kind` (`counted`, read with `counted_fields`) coming (`delta` 1) or
/// going (-1), at `level` for a video: in the counts that count it.
pub fn bumps_of(kind: RecordKind, counted: &Document, level: Option<Visibility>, delta: i64) -> Vec<Bump> {
    counts(kind)
        .iter()
        .filter(|count| count.which.holds(counted))
        .filter_map(|count| {
            let holder = holder_of(count, counted);
            if holder.is_none() && count.holder != Holder::Site {
                return None;
            }
            bump(count, holder, level, delta)
        })
        .collect()
}

/// The bumps moving records of `kind` from the counts they were in before a change to those they
/// are in after it (`(before, after)`, each read with `counted_fields`; not per level): per count
/// and holder, the net change.
pub fn moved(kind: RecordKind, changes: &[(Document, Document)]) -> Vec<Bump> {
    let mut net: HashMap<(usize, ObjectId), i64> = HashMap::new();
    for (before, after) in changes {
        for (index, count) in counts(kind).iter().enumerate() {
            let Some(holder) = holder_of(count, before) else { continue };
            let delta = i64::from(count.which.holds(after)) - i64::from(count.which.holds(before));
            if delta != 0 {
                *net.entry((index, holder)).or_default() += delta;
            }
        }
    }
    net.into_iter()
        .filter(|(_, delta)| *delta != 0)
        .filter_map(|((index, holder), delta)| bump(&counts(kind)[index], Some(holder), None, delta))
        .collect()
}

/// The projection reading what a counted record's counts need: the holders' fields and its level.
pub fn counted_fields(kind: RecordKind) -> Document {
    let mut projection = doc! { "_id": 1 };
    for count in counts(kind) {
        if let Holder::Record { by, .. } = count.holder {
            projection.insert(by, 1);
        }
        if count.per_level {
            projection.insert(COUNTED_LEVEL, 1);
        }
        for field in count.which.fields() {
            projection.insert(*field, 1);
        }
    }
    projection
}

/// Of the documents a cascade step deletes (`filter`, through the field `via` of the removed record
/// they refer to), those that count in a holder that may outlive the deletion: they are deleted one
/// at a time and their counts credited; `None` when no count is held by anything but the removed
/// records (the likes of a deleted video).
pub fn credited(kind: RecordKind, filter: &Document, via: &str) -> Option<Document> {
    let mut elsewhere: Vec<Document> = Vec::new();
    for count in counts(kind) {
        match count.holder {
            Holder::Record { by, .. } if by != via => elsewhere.push(doc! { by: { "$ne": null } }),
            Holder::Record { .. } => {}
            Holder::Site => return Some(filter.clone()),
        }
    }
    if elsewhere.is_empty() {
        return None;
    }
    let mut credited = filter.clone();
    credited.insert("$or", elsewhere);
    Some(credited)
}

/// The documents of a cascade step that count in no holder outliving it (deleted at once).
pub fn uncredited(kind: RecordKind, filter: &Document, via: &str) -> Document {
    let mut rest = filter.clone();
    for count in counts(kind) {
        if let Holder::Record { by, .. } = count.holder
            && by != via
        {
            rest.insert(by, Bson::Null);
        }
    }
    rest
}

/// The video `id` when the level it is counted at is not its stored level; the update counting it
/// at its stored level (the caller reads the document as it was, to move it between counts).
pub fn settle(filter: Document) -> (Document, Vec<Document>) {
    let mut unsettled = filter;
    unsettled.insert("$expr", doc! { "$ne": [format!("${COUNTED_LEVEL}"), stored_level()] });
    (unsettled, vec![doc! { "$set": { COUNTED_LEVEL: stored_level() } }])
}

/// The comments matching `filter` whose counted visibility is not their stored one; the update
/// counting them as they are (the caller reads each as it was, to move it between counts).
pub fn settle_comments(filter: Document) -> (Document, Vec<Document>) {
    let visible = doc! { "$ne": ["$hidden", true] };
    let mut unsettled = filter;
    unsettled.insert("$expr", doc! { "$ne": [format!("${COUNTED_VISIBLE}"), visible.clone()] });
    (unsettled, vec![doc! { "$set": { COUNTED_VISIBLE: visible } }])
}

/// The counted records of `count` per holder among `holders` (`_id`: the holder, or `{h, l}` with
/// the level for a count per level), for the repair pass.
pub fn tally(count: &Count, holders: Option<&[ObjectId]>) -> Vec<Document> {
    let by = match count.holder {
        Holder::Record { by, .. } => Some(by),
        Holder::Site => None,
    };
    let mut matched = count.which.filter();
    if let (Some(by), Some(holders)) = (by, holders) {
        matched.insert(by, doc! { "$in": holders });
    }
    let key = match (by, count.per_level) {
        (Some(by), true) => Bson::Document(doc! { "h": format!("${by}"), "l": format!("${COUNTED_LEVEL}") }),
        (Some(by), false) => Bson::String(format!("${by}")),
        (None, _) => Bson::Document(doc! { "l": format!("${COUNTED_LEVEL}") }),
    };
    vec![doc! { "$match": matched }, doc! { "$group": { "_id": key, "n": { "$sum": 1 } } }]
}

/// Sets a count found wrong, if it still holds the value the repair read (`None`: unset).
pub fn correct(
    count: &Count,
    holder: Bson,
    level: Option<Visibility>,
    was: Option<i64>,
    now: i64,
) -> (Document, Document) {
    let path = path(count, level);
    let filter = match was {
        Some(was) => doc! { "_id": holder, path.clone(): was },
        None => doc! { "_id": holder, path.clone(): { "$exists": false } },
    };
    (filter, doc! { "$set": { path: now } })
}

/// The holder `id` as the site's document or a record's.
pub fn holder_key(count: &Count, id: Option<ObjectId>) -> Bson {
    match (count.holder, id) {
        (Holder::Site, _) | (_, None) => Bson::String(SITE.to_owned()),
        (Holder::Record { .. }, Some(id)) => Bson::ObjectId(id),
    }
}

/// A count as stored in a holder document (`None`: not there yet).
pub fn stored(holder: &Document, count: &Count, level: Option<Visibility>) -> Option<i64> {
    let value = match (count.per_level, level) {
        (true, Some(level)) => holder.get_document(count.field).ok()?.get(level.as_str())?,
        _ => holder.get(count.field)?,
    };
    match value {
        Bson::Int64(n) => Some(*n),
        Bson::Int32(n) => Some(i64::from(*n)),
        Bson::Double(n) => Some(*n as i64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_holder_field_is_one_of_the_kinds_references() {
        for count in all_counts() {
            if let Holder::Record { kind, .. } = count.holder {
                assert!(count.counted.references().contains(&kind), "{count:?}");
            }
        }
    }

    #[test]
    fn a_like_bumps_its_own_target_only() {
        let (user, video) = (ObjectId::from_bytes([1; 12]), ObjectId::from_bytes([2; 12]));
        let like = doc! { "likedBy": user, "video": video };
        let bumps = bumps_of(RecordKind::Likes, &like, None, 1);
        assert_eq!(
            bumps,
            [Bump {
                collection: "videos",
                filter: doc! { "_id": video },
                update: doc! { "$inc": { "likes": 1i64 } },
                upsert: false
            }]
        );
    }

    #[test]
    fn a_notification_counts_for_its_recipient_while_shown_and_while_unread() {
        let recipient = ObjectId::from_bytes([1; 12]);
        let unread = doc! { "recipient": recipient, "shown": true, "read": false };
        let read = doc! { "recipient": recipient, "shown": true, "read": true };
        let hidden = doc! { "recipient": recipient, "shown": false, "read": false };
        let inc = |bumps: Vec<Bump>| bumps.into_iter().map(|b| b.update).collect::<Vec<_>>();
        let both = inc(bumps_of(RecordKind::Notifications, &unread, None, 1));
        assert_eq!(both.len(), 2);
        assert!(both.contains(&doc! { "$inc": { "notificationsShown": 1i64 } }));
        assert!(both.contains(&doc! { "$inc": { "notificationsUnread": 1i64 } }));
        let marked = inc(moved(RecordKind::Notifications, &[(unread.clone(), read.clone())]));
        assert_eq!(marked, [doc! { "$inc": { "notificationsUnread": -1i64 } }]);
        let hiding = moved(RecordKind::Notifications, &[(unread.clone(), hidden.clone()), (read, hidden.clone())]);
        let mut hiding = inc(hiding);
        hiding.sort_by_key(|d| d.to_string());
        assert_eq!(
            hiding,
            [doc! { "$inc": { "notificationsShown": -2i64 } }, doc! { "$inc": { "notificationsUnread": -1i64 } }]
        );
        assert!(bumps_of(RecordKind::Notifications, &hidden, None, -1).is_empty());
        assert_eq!(
            tally(&counts(RecordKind::Notifications)[1], None)[0],
            doc! { "$match": { "shown": true, "read": false } }
        );
    }

    #[test]
    fn bumps_of_one_holder_merge_into_one_update() {
        let (a, b) = (ObjectId::from_bytes([1; 12]), ObjectId::from_bytes([2; 12]));
        let unread = |r| doc! { "recipient": r, "shown": true, "read": false };
        let bumps: Vec<Bump> = [unread(a), unread(b), unread(a)]
            .iter()
            .flat_map(|n| bumps_of(RecordKind::Notifications, n, None, 1))
            .collect();
        let merged = merged(bumps);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].filter, doc! { "_id": a });
        assert_eq!(merged[0].update, doc! { "$inc": { "notificationsShown": 2i64, "notificationsUnread": 2i64 } });
        assert_eq!(merged[1].update, doc! { "$inc": { "notificationsShown": 1i64, "notificationsUnread": 1i64 } });
    }

    #[test]
    fn a_video_counts_for_its_owner_and_the_site_at_its_level() {
        let owner = ObjectId::from_bytes([1; 12]);
        let bumps = bumps_of(RecordKind::Videos, &doc! { "owner": owner }, Some(Visibility::Unlisted), -1);
        assert_eq!(bumps[0].update, doc! { "$inc": { "videoCounts.unlisted": -1i64 } });
        assert_eq!(bumps[1].filter, doc! { "_id": "site" });
        assert!(bumps[1].upsert);
        assert_eq!(zeroes(RecordKind::Users).get_document("videoCounts").unwrap().len(), 3);
    }

    #[test]
    fn cascades_credit_only_holders_that_may_outlive_them() {
        let filter = doc! { "video": { "$in": [ObjectId::from_bytes([1; 12])] } };
        let credited_likes = credited(RecordKind::Likes, &filter, "video").unwrap();
        assert_eq!(credited_likes.get_array("$or").unwrap().len(), 2, "a like has one target: comment or tweet");
        assert_eq!(uncredited(RecordKind::Likes, &filter, "video").get("comment"), Some(&Bson::Null));
        let by_user = doc! { "likedBy": { "$in": [ObjectId::from_bytes([1; 12])] } };
        assert_eq!(credited(RecordKind::Likes, &by_user, "likedBy").unwrap().get_array("$or").unwrap().len(), 3);
        let replies = credited(RecordKind::Comments, &filter, "video").unwrap();
        assert_eq!(replies.get_array("$or").unwrap(), &vec![Bson::from(doc! { "parent": { "$ne": null } })]);
        assert!(credited(RecordKind::Tweets, &filter, "video").is_none());
        assert_eq!(credited(RecordKind::Videos, &filter, "_id"), Some(filter), "the site counts every video");
    }
}
