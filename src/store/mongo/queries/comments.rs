//! Builders for comments: a video's top-level comments page by page, a thread's replies, one
//! comment, each with its author, like facts and place in its thread; pins and hearts.

use bson::oid::ObjectId;
use bson::{Bson, Document, doc};

use super::super::coll;
use super::counters::COUNTED_VISIBLE;
use super::{Hinted, by_id, index, like_facts, owner_lookup, seen_posts, skip};
use crate::domain::social::CommentSort;
use crate::store::records::RecordKind;

/// The like field naming a comment.
const LIKED_AS: &str = "comment";

/// A new comment's fields: a reply also names its thread (`parent`) and the author it answers.
pub fn new_comment(video: ObjectId, owner: ObjectId, content: &str, reply: Option<(ObjectId, ObjectId)>) -> Document {
    let mut fields = doc! { "content": content, "video": video, "owner": owner };
    if let Some((thread, reply_to)) = reply {
        fields.insert("parent", thread);
        fields.insert("replyTo", reply_to);
    }
    fields.extend(super::counters::zeroes(RecordKind::Comments));
    fields.insert(COUNTED_VISIBLE, true);
    fields
}

/// The top-level comments on a video (a comment stored before threads has no `parent`: null matches it).
pub fn top_level_on(video: ObjectId) -> Document {
    doc! { "video": video, "parent": Bson::Null }
}

/// The replies in a thread.
pub fn replies_in(thread: ObjectId) -> Document {
    doc! { "parent": thread }
}

/// The top-level comments on a video that `viewer` sees, but `skip` (the pinned one, shown apart).
fn seen_top_level(video: ObjectId, viewer: Option<ObjectId>, skip: Option<ObjectId>) -> Document {
    let mut filter = top_level_on(video);
    if let Some(skip) = skip {
        filter.insert("_id", doc! { "$ne": skip });
    }
    seen_posts(filter, viewer)
}

/// `repliesCount`: the replies everyone sees (not hidden), the comment's kept count
/// (`queries::counters`); 0 for a reply.
fn replies_count() -> [Document; 1] {
    [doc! { "$set": { "repliesCount": { "$ifNull": ["$repliesCount", 0] } } }]
}

/// Adds a comment's author, the author it answered (`replyTo`, absent for a top-level comment or a
/// deleted account: a left join into a top-level field, then its first element) and `pinned` (the
/// video's `pinnedComment` is this comment).
fn people_and_pin() -> Vec<Document> {
    let mut stages = owner_lookup("owner").to_vec();
    stages.extend([
        doc! { "$lookup": {
            "from": coll::USERS,
            "localField": "replyTo",
            "foreignField": "_id",
            "pipeline": [{ "$project": { "username": 1, "fullName": 1, "avatar": 1 } }],
            "as": "replyTo",
        } },
        doc! { "$set": { "replyTo": { "$first": "$replyTo" } } },
        doc! { "$lookup": {
            "from": coll::VIDEOS,
            "localField": "video",
            "foreignField": "_id",
            "pipeline": [{ "$project": { "pinnedComment": 1 } }],
            "as": "pin",
        } },
        doc! { "$set": { "pinned": { "$eq": [{ "$first": "$pin.pinnedComment" }, "$_id"] } } },
        doc! { "$unset": "pin" },
    ]);
    stages
}

/// Comments matching `filter` in `order`, one page (`offset`, `limit`) with everything a Comment
/// shows. `Top` orders by counts, so they are added before the sort; otherwise after the page.
fn comment_pipeline(
    filter: Document,
    order: Document,
    counted_first: bool,
    viewer: Option<ObjectId>,
    page: Option<(u64, u32)>,
) -> Vec<Document> {
    let mut pipeline = vec![doc! { "$match": filter }];
    let mut counts = like_facts(LIKED_AS, viewer);
    counts.extend(replies_count());
    if counted_first {
        pipeline.append(&mut counts);
    }
    pipeline.push(doc! { "$sort": order });
    if let Some((offset, limit)) = page {
        pipeline.push(skip(offset));
        pipeline.push(doc! { "$limit": i64::from(limit) });
    }
    pipeline.append(&mut counts);
    pipeline.extend(people_and_pin());
    pipeline
}

/// One page of the top-level comments on a video that `viewer` sees, in `sort` order, without `skip`,
/// read through the video's top-level comments index.
pub fn comment_page(
    video: ObjectId,
    viewer: Option<ObjectId>,
    sort: CommentSort,
    skip: Option<ObjectId>,
    offset: u64,
    limit: u32,
) -> Hinted {
    let filter = seen_top_level(video, viewer, skip);
    let page = Some((offset, limit));
    let pipeline = match sort {
        CommentSort::Newest => comment_pipeline(filter, doc! { "createdAt": -1, "_id": -1 }, false, viewer, page),
        CommentSort::Top => {
            let order = doc! { "likesCount": -1, "repliesCount": -1, "createdAt": -1, "_id": -1 };
            comment_pipeline(filter, order, true, viewer, page)
        }
    };
    Hinted { pipeline, index: index::TOP_LEVEL_COMMENTS }
}

/// The viewer's own hidden top-level comments on a video, which the viewer sees besides those
/// everyone sees (the video's kept `commentsCount`).
pub fn own_hidden_on_video(video: ObjectId, viewer: ObjectId) -> Document {
    doc! { "owner": viewer, "video": video, "parent": Bson::Null, "hidden": true }
}

/// One page of a thread's replies that `viewer` sees, oldest first, through the thread's index.
pub fn reply_page(thread: ObjectId, viewer: Option<ObjectId>, offset: u64, limit: u32) -> Hinted {
    let filter = seen_posts(replies_in(thread), viewer);
    let pipeline = comment_pipeline(filter, doc! { "createdAt": 1, "_id": 1 }, false, viewer, Some((offset, limit)));
    Hinted { pipeline, index: index::REPLIES }
}

/// The viewer's own hidden replies in a thread (besides the thread's kept `repliesCount`).
pub fn own_hidden_in_thread(thread: ObjectId, viewer: ObjectId) -> Document {
    doc! { "owner": viewer, "parent": thread, "hidden": true }
}

/// One comment.
pub fn comment(id: ObjectId, viewer: Option<ObjectId>) -> Vec<Document> {
    comment_pipeline(by_id(id), doc! { "_id": 1 }, false, viewer, None)
}

/// The pinned comment `id` of `video`, if `viewer` sees it and it is still a top-level comment there.
pub fn pinned(video: ObjectId, id: ObjectId, viewer: Option<ObjectId>) -> Vec<Document> {
    let mut filter = top_level_on(video);
    filter.insert("_id", id);
    comment_pipeline(seen_posts(filter, viewer), doc! { "_id": 1 }, false, viewer, None)
}

/// `(filter, update)` pinning `comment` on its video: one field of the video's document, so pinning
/// another replaces it in one atomic update; or unpinning it, which changes nothing when the video's
/// pin is another comment.
pub fn pin(video: ObjectId, comment: ObjectId, pinned: bool) -> (Document, Document) {
    if pinned {
        (by_id(video), doc! { "$set": { "pinnedComment": comment } })
    } else {
        (doc! { "_id": video, "pinnedComment": comment }, doc! { "$unset": { "pinnedComment": "" } })
    }
}

/// The comment `id` while its heart is `hearted` (a missing field is no heart), and the update
/// flipping it: the conditional update makes each toggle one flip.
pub fn heart_flip(id: ObjectId, hearted: bool) -> (Document, Document) {
    let current = if hearted {
        doc! { "$eq": true }
    } else {
        doc! { "$ne": true }
    };
    (doc! { "_id": id, "hearted": current }, doc! { "$set": { "hearted": !hearted } })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes([n; 12])
    }

    #[test]
    fn a_comment_page_sorts_then_pages_then_joins() {
        let Hinted { pipeline, index } = comment_page(id(4), Some(id(1)), CommentSort::Newest, None, 10, 5);
        assert_eq!(index, "video_1_parent_1_createdAt_-1__id_-1");
        let seen =
            doc! { "video": id(4), "parent": Bson::Null, "$or": [{ "hidden": { "$ne": true } }, { "owner": id(1) }] };
        assert_eq!(pipeline[0], doc! { "$match": seen }, "top-level; a removed comment only for its author");
        assert_eq!(pipeline[1], doc! { "$sort": { "createdAt": -1, "_id": -1 } });
        assert_eq!(pipeline[2], doc! { "$skip": 10i64 });
        assert_eq!(pipeline[3], doc! { "$limit": 5i64 });
        assert_eq!(pipeline.len(), 4 + 3 + 1 + 2 + 5, "like facts (3), replies (1), owner (2), replyTo and pin (5)");
        let lookup = pipeline[4].get_document("$lookup").unwrap();
        assert_eq!(lookup.get_str("foreignField").unwrap(), "comment");
        assert_eq!(
            new_comment(id(4), id(1), "c", None),
            doc! { "content": "c", "video": id(4), "owner": id(1), "likes": 0i64, "repliesCount": 0i64, "countedVisible": true }
        );
        assert_eq!(
            new_comment(id(4), id(1), "c", Some((id(5), id(6)))),
            doc! {
                "content": "c", "video": id(4), "owner": id(1), "parent": id(5), "replyTo": id(6), "likes": 0i64,
                "repliesCount": 0i64, "countedVisible": true,
            }
        );
    }

    #[test]
    fn the_top_sort_counts_before_sorting_and_skips_the_pinned_comment() {
        let Hinted { pipeline, index } = comment_page(id(4), None, CommentSort::Top, Some(id(9)), 0, 5);
        assert_eq!(index, "video_1_parent_1_createdAt_-1__id_-1", "the video's comments, sorted after");
        let filter = pipeline[0].get_document("$match").unwrap();
        assert_eq!(filter.get_document("_id").unwrap(), &doc! { "$ne": id(9) });
        let sort = pipeline.iter().position(|s| s.contains_key("$sort")).unwrap();
        assert_eq!(sort, 3, "like facts (1 for nobody) and replies (1) come first");
        assert_eq!(
            pipeline[sort],
            doc! { "$sort": { "likesCount": -1, "repliesCount": -1, "createdAt": -1, "_id": -1 } }
        );
        let counted = pipeline.iter().filter(|s| s.get_document("$set").is_ok_and(|l| l.contains_key("repliesCount")));
        assert_eq!(counted.count(), 1, "the kept count is read once, before the sort");
    }

    #[test]
    fn replies_come_oldest_first_and_hearts_flip_conditionally() {
        let Hinted { pipeline, index } = reply_page(id(3), None, 0, 20);
        assert_eq!(index, "parent_1_createdAt_1__id_1");
        assert_eq!(pipeline[0], doc! { "$match": { "parent": id(3), "hidden": { "$ne": true } } });
        assert_eq!(pipeline[1], doc! { "$sort": { "createdAt": 1, "_id": 1 } });
        assert_eq!(
            heart_flip(id(3), false),
            (doc! { "_id": id(3), "hearted": { "$ne": true } }, doc! { "$set": { "hearted": true } })
        );
        assert_eq!(heart_flip(id(3), true).1, doc! { "$set": { "hearted": false } });
    }
}
