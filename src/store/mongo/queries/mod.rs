//! Pure builders of every MongoDB filter, update and pipeline the store runs: no I/O, unit-tested
//! against the documents they must produce.

pub mod blocks;
pub mod cascade;
pub mod comments;
pub mod counters;
pub mod dashboard;
pub mod ephemeral;
pub mod history;
pub mod likes;
pub mod moderation;
pub mod notifications;
pub mod playlists;
pub mod processing;
pub mod reports;
pub mod search;
pub mod sessions;
pub mod subscriptions;
pub mod transfer;
pub mod tweets;
pub mod uploads;
pub mod users;
pub mod videos;

#[cfg(test)]
mod vocabulary;

use bson::oid::ObjectId;
use bson::{Bson, DateTime, Document, doc};

use super::coll;
use crate::domain::visibility::{ALL_LEVELS, Place, Visibility};
use mongodb::options::UpdateModifications;

/// The indexes the lists name in their `hint`: the default names of definitions in `indexes.rs` (a
/// unit test there keeps each defined). Left to choose, DocumentDB takes any index holding a
/// filtered field and intersects several: a channel's public videos read every public video's key
/// of an `isPublished` index beside the channel's own. MongoDB would choose these same indexes, which
/// end with the list's sort (docs/decisions.md D26).
pub mod index {
    /// The primary key: the site's feed by date walks it.
    pub const ID: &str = "_id_";
    /// A channel's videos (its listing in every sort, the subscription feed).
    pub const VIDEOS_OF_OWNER: &str = "owner_1_createdAt_-1__id_-1";
    pub const VIDEOS_BY_VIEWS: &str = "isPublished_1_views_-1__id_-1";
    pub const VIDEOS_BY_DURATION: &str = "isPublished_1_duration_-1__id_-1";
    pub const VIDEOS_BY_TITLE: &str = "isPublished_1_title_1__id_1";
    /// A video's top-level comments, newest first.
    pub const TOP_LEVEL_COMMENTS: &str = "video_1_parent_1_createdAt_-1__id_-1";
    /// A thread's replies, oldest first.
    pub const REPLIES: &str = "parent_1_createdAt_1__id_1";
    /// A user's likes, newest first.
    pub const LIKES_OF_USER: &str = "likedBy_1_createdAt_-1__id_-1";
    /// Video search: the videos holding a word (whether listed is checked on those, D22).
    pub const VIDEO_WORDS: &str = "searchWords_1";
    /// Suggestions and related videos: the videos whose title or tags hold a word.
    pub const SUGGEST_WORDS: &str = "suggestWords_1";

    /// Each hinted index with its collection.
    pub const HINTED: [(&str, &str); 9] = [
        ("videos", VIDEOS_OF_OWNER),
        ("videos", VIDEOS_BY_VIEWS),
        ("videos", VIDEOS_BY_DURATION),
        ("videos", VIDEOS_BY_TITLE),
        ("comments", TOP_LEVEL_COMMENTS),
        ("comments", REPLIES),
        ("likes", LIKES_OF_USER),
        ("videos", VIDEO_WORDS),
        ("videos", SUGGEST_WORDS),
    ];
}

/// A list's pipeline and the index it reads (sent as the aggregate's `hint`; one of `index`).
#[derive(Clone, Debug, PartialEq)]
pub struct Hinted {
    pub pipeline: Vec<Document>,
    pub index: &'static str,
}

/// How a page of a list ordered by creation is read (docs/decisions.md D26). Both give the same
/// page: the list's order is `createdAt` then `_id`, and a record's `_id` is an ObjectId made with it
/// at creation (by this server, `migrate` copying one, or Mongoose), so `_id` order is that order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// Walk the collection's `_id_` index in order, passing over the records of other lists: on
    /// DocumentDB 0.108 the only scan it returns in order (with `enableIndexOrderbyPushdown`). A page
    /// examines about (skip + limit) × total / matches documents.
    Walk,
    /// Read the list's own index and sort its matches (what DocumentDB does with any other index;
    /// MongoDB walks it in order): a page examines every match.
    Sort,
}

/// How many times fewer documents the walk must be expected to examine than the sort before it is
/// chosen: the estimate assumes the list's records spread evenly over the collection's ids, and a
/// list whose records are all old walks past every newer record of the others.
pub const WALK_MARGIN: u64 = 4;

/// The cheaper way to read `wanted` (skip + limit) records of a list of `matches` records, ordered
/// by creation, in a collection of `total` records: walk `_id` when it is expected to examine at
/// least `WALK_MARGIN` times fewer documents than the sort, (wanted × total / matches) ×
/// `WALK_MARGIN` < matches; else sort. The counts are the kept ones (`counters`), read before the
/// page; a count off by a little only moves the choice, never the page.
pub fn read_for(wanted: u64, matches: u64, total: u64) -> Read {
    let walked = (u128::from(wanted) * u128::from(total.max(matches))).saturating_mul(u128::from(WALK_MARGIN));
    if matches > 0 && walked < u128::from(matches) * u128::from(matches) { Read::Walk } else { Read::Sort }
}

/// A change a step makes to the documents its filter matches.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Delete,
    /// An update with operators (`$pull`).
    Update(Document),
    /// A pipeline update (a history entry leaves with its time).
    Pipeline(Vec<Document>),
}

impl Change {
    /// The update to send, `None` for a deletion.
    pub fn update(&self) -> Option<UpdateModifications> {
        match self {
            Change::Delete => None,
            Change::Update(update) => Some(UpdateModifications::Document(update.clone())),
            Change::Pipeline(pipeline) => Some(UpdateModifications::Pipeline(pipeline.clone())),
        }
    }
}

/// Joins the `owner` id to the author's public summary (`_id`, `username`, `fullName`, `avatar`).
/// Records whose owner no longer exists drop out, as with an inner join.
pub fn owner_lookup(field: &str) -> [Document; 2] {
    [owner_join(field, field), doc! { "$unwind": format!("${field}") }]
}

/// A `$lookup` of the users `local_field` names, each as its public summary (`OwnerSummary`), into `into`.
pub fn owner_join(local_field: &str, into: &str) -> Document {
    doc! { "$lookup": {
        "from": coll::USERS,
        "localField": local_field,
        "foreignField": "_id",
        "pipeline": [{ "$project": { "username": 1, "fullName": 1, "avatar": 1 } }],
        "as": into,
    } }
}

/// The documents at one level. Every document has `isPublished` (the original API's field, true
/// exactly when public) and, when written by this API, `visibility`, which tells unlisted from
/// private; a document without it is public or private (`Visibility::from_stored`).
fn level_filter(level: Visibility) -> Document {
    match level {
        Visibility::Public => doc! { "isPublished": true },
        Visibility::Unlisted => doc! { "isPublished": false, "visibility": "unlisted" },
        Visibility::Private => doc! { "isPublished": false, "visibility": { "$ne": "unlisted" } },
    }
}

/// `levels` as a filter on videos; `None` when every level passes. Public videos are matched
/// through `isPublished`, which the listing indexes lead with.
pub fn levels_filter(levels: &[Visibility]) -> Option<Document> {
    if ALL_LEVELS.iter().all(|level| levels.contains(level)) {
        return None;
    }
    let mut alternatives: Vec<Document> = levels.iter().map(|level| level_filter(*level)).collect();
    Some(if alternatives.len() == 1 {
        alternatives.remove(0)
    } else {
        doc! { "$or": alternatives }
    })
}

/// The visibility rule (`domain::visibility::may_see`) for `place` as a filter on videos, for
/// `viewer` (`None` = anonymous). Every query that shows videos of more than one owner uses it.
pub fn visible_to(place: Place, viewer: Option<ObjectId>) -> Document {
    let (anyone, owner) = (place.levels(false), place.levels(true));
    let for_anyone = levels_filter(anyone).unwrap_or_default();
    match viewer {
        Some(viewer) if owner != anyone => {
            let mut own = doc! { "owner": viewer };
            own.extend(levels_filter(owner).unwrap_or_default());
            let mut alternatives: Vec<Bson> = match for_anyone.get_array("$or") {
                Ok(alternatives) if for_anyone.len() == 1 => alternatives.clone(),
                _ => vec![for_anyone.into()],
            };
            alternatives.push(own.into());
            doc! { "$or": alternatives }
        }
        _ => for_anyone,
    }
}

/// Adds `likesCount` (the record's count, `queries::counters`) and `isLiked` (for `viewer`: whether a
/// like of theirs has this record as its `target` field, `video`, `comment` or `tweet`; looked up
/// through the unique (likedBy, target) index).
pub fn like_facts(target: &str, viewer: Option<ObjectId>) -> Vec<Document> {
    let count = doc! { "$ifNull": ["$likes", 0] };
    match viewer {
        None => vec![doc! { "$set": { "likesCount": count, "isLiked": false } }],
        Some(viewer) => vec![
            doc! { "$lookup": {
                "from": coll::LIKES,
                "localField": "_id",
                "foreignField": target,
                "pipeline": [{ "$match": { "likedBy": viewer } }, { "$limit": 1 }, { "$project": { "_id": 1 } }],
                "as": "viewerLike",
            } },
            doc! { "$set": { "likesCount": count, "isLiked": { "$gt": [{ "$size": "$viewerLike" }, 0] } } },
            doc! { "$unset": "viewerLike" },
        ],
    }
}

/// The one document with this id.
pub fn by_id(id: ObjectId) -> Document {
    doc! { "_id": id }
}

/// Newest first, ties broken by id in the same direction, as every list of the API is ordered.
pub fn newest_first() -> Document {
    doc! { "$sort": { "createdAt": -1, "_id": -1 } }
}

/// Matches documents where any of `fields` holds one of `keys`.
pub fn keys_in(fields: &[&str], keys: &[String]) -> Document {
    let alternatives: Vec<Document> = fields.iter().map(|f| doc! { *f: { "$in": keys } }).collect();
    doc! { "$or": alternatives }
}

/// A projection of just these fields.
pub fn project(fields: &[&str]) -> Document {
    fields.iter().map(|f| ((*f).to_owned(), Bson::Int32(1))).collect()
}

/// A stored record with its timestamps: `fields` plus `_id`, `createdAt`, `updatedAt`.
pub fn record(id: ObjectId, fields: Document, now: DateTime) -> Document {
    let mut document = doc! { "_id": id };
    document.extend(fields);
    document.insert("createdAt", now);
    document.insert("updatedAt", now);
    document
}

/// Posts (comments or tweets) matching `filter`, with author and like facts for `viewer`. `target` is the
/// like field pointing at them (`comment` or `tweet`); `page` is `(offset, limit)` after sorting.
pub fn posts(filter: Document, target: &str, viewer: Option<ObjectId>, page: Option<(u64, u32)>) -> Vec<Document> {
    let mut pipeline = vec![doc! { "$match": filter }, newest_first()];
    if let Some((offset, limit)) = page {
        pipeline.push(skip(offset));
        pipeline.push(doc! { "$limit": i64::from(limit) });
    }
    pipeline.extend(owner_lookup("owner"));
    pipeline.extend(like_facts(target, viewer));
    pipeline
}

/// The comments or tweets `viewer` sees among those `filter` matches: a hidden one only its author
/// (`moderation::post_visible_to`).
pub fn seen_posts(mut filter: Document, viewer: Option<ObjectId>) -> Document {
    let shown = doc! { "hidden": { "$ne": true } };
    match viewer {
        Some(viewer) => filter.insert("$or", vec![shown, doc! { "owner": viewer }]),
        None => filter.insert("hidden", doc! { "$ne": true }),
    };
    filter
}

/// Removes a comment or tweet with this reason, or restores it (`None`): hidden while removed or
/// while its author is suspended (`moderation::hidden`).
pub fn post_removal(reason: Option<&str>, owner_suspended: bool) -> Document {
    match reason {
        Some(reason) => doc! { "$set": { "removedReason": reason, "hidden": true } },
        None => doc! { "$set": { "hidden": owner_suspended }, "$unset": { "removedReason": "" } },
    }
}

pub fn content_update(content: &str, now: DateTime) -> Document {
    doc! { "$set": { "content": content, "updatedAt": now } }
}

/// `$skip` takes a 64-bit integer; offsets beyond it are clamped (they return an empty page anyway).
pub fn skip(offset: u64) -> Document {
    doc! { "$skip": i64::try_from(offset).unwrap_or(i64::MAX) }
}

/// A value inside an aggregation expression taken as itself: a plain string starting with `$` would
/// be read as a field path (`$$` as a variable). Every input that reaches an expression goes through it.
pub fn literal(value: impl Into<Bson>) -> Document {
    doc! { "$literal": value.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_walks_ids_only_when_it_holds_enough_of_the_collection() {
        // The subscription feed of BENCHMARKS' growth run: 50,000 of 100,000 videos, page 1.
        assert_eq!(read_for(20, 50_000, 100_000), Read::Walk, "about 40 examined instead of 50,000");
        // A channel's 500 videos of 100,000: the walk would pass about 4,000 to find 20.
        assert_eq!(read_for(20, 500, 100_000), Read::Sort);
        // At the margin: 20 of 895 in 10,000 walk (an estimate of 223.5 examined, × 4 = 894 < 895);
        // 20 of 894 sort (223.7 × 4 = 894.9 ≥ 894).
        assert_eq!(read_for(20, 895, 10_000), Read::Walk);
        assert_eq!(read_for(20, 894, 10_000), Read::Sort);
        // Deep pages sort: the walk would examine past the list's own records.
        assert_eq!(read_for(20_000, 50_000, 100_000), Read::Sort);
        assert_eq!(read_for(60_000, 50_000, 100_000), Read::Sort, "past the end");
        // Nothing matches: the sort examines nothing.
        assert_eq!(read_for(20, 0, 100_000), Read::Sort);
        // A whole collection of one list walks; counts that lag (total below matches) stay sane.
        assert_eq!(read_for(20, 1_000, 1_000), Read::Walk);
        assert_eq!(read_for(20, 1_000, 0), Read::Walk);
        assert_eq!(read_for(u64::MAX, u64::MAX, u64::MAX), Read::Sort, "no overflow");
    }

    #[test]
    fn owner_lookup_joins_the_public_summary_and_drops_orphans() {
        assert_eq!(
            owner_lookup("owner"),
            [
                doc! { "$lookup": { "from": "users", "localField": "owner", "foreignField": "_id",
                "pipeline": [{ "$project": { "username": 1, "fullName": 1, "avatar": 1 } }], "as": "owner" } },
                doc! { "$unwind": "$owner" },
            ]
        );
    }

    #[test]
    fn each_level_is_told_by_the_published_flag_then_the_stored_level() {
        let public = doc! { "isPublished": true };
        let unlisted = doc! { "isPublished": false, "visibility": "unlisted" };
        let private = doc! { "isPublished": false, "visibility": { "$ne": "unlisted" } };
        assert_eq!(levels_filter(&[Visibility::Public]), Some(public.clone()));
        assert_eq!(levels_filter(&[Visibility::Private]), Some(private));
        assert_eq!(levels_filter(ALL_LEVELS), None);
        let viewer = ObjectId::from_bytes([1; 12]);
        assert_eq!(visible_to(Place::Listing, None), public);
        assert_eq!(visible_to(Place::Listing, Some(viewer)), public, "site listings are the same for everyone");
        assert_eq!(visible_to(Place::ByLink, None), doc! { "$or": [public.clone(), unlisted.clone()] });
        assert_eq!(
            visible_to(Place::ByLink, Some(viewer)),
            doc! { "$or": [public.clone(), unlisted, { "owner": viewer }] },
            "by link: public and unlisted videos, and the viewer's own"
        );
        assert_eq!(visible_to(Place::Channel, Some(viewer)), doc! { "$or": [public, { "owner": viewer }] });
    }

    #[test]
    fn like_facts_read_the_count_and_look_up_the_viewer_s_like() {
        let viewer = ObjectId::from_bytes([2; 12]);
        let stages = like_facts("comment", Some(viewer));
        assert_eq!(
            stages[0],
            doc! { "$lookup": { "from": "likes", "localField": "_id", "foreignField": "comment",
            "pipeline": [{ "$match": { "likedBy": viewer } }, { "$limit": 1 }, { "$project": { "_id": 1 } }],
            "as": "viewerLike" } }
        );
        assert_eq!(stages[2], doc! { "$unset": "viewerLike" });
        assert_eq!(
            like_facts("tweet", None),
            [doc! { "$set": { "likesCount": { "$ifNull": ["$likes", 0] }, "isLiked": false } }],
            "nobody is liked by an anonymous viewer"
        );
    }

    #[test]
    fn key_filters_and_projections() {
        let keys = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(
            keys_in(&["videoKey", "thumbnailKey"], &keys),
            doc! { "$or": [{ "videoKey": { "$in": ["a", "b"] } }, { "thumbnailKey": { "$in": ["a", "b"] } }] }
        );
        assert_eq!(project(&["avatarKey"]), doc! { "avatarKey": 1 });
        assert_eq!(skip(u64::MAX), doc! { "$skip": i64::MAX });
    }

    #[test]
    fn posts_are_edited_by_content_and_stamped_on_insert() {
        let at = DateTime::from_millis(1);
        assert_eq!(content_update("c", at), doc! { "$set": { "content": "c", "updatedAt": at } });
        let id = ObjectId::from_bytes([3; 12]);
        assert_eq!(
            record(id, doc! { "content": "c" }, at),
            doc! { "_id": id, "content": "c", "createdAt": at, "updatedAt": at }
        );
    }

    #[test]
    fn literals_keep_dollar_strings_from_being_field_paths() {
        assert_eq!(literal("$title"), doc! { "$literal": "$title" });
    }
}
