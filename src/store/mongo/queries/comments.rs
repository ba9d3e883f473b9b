//! Builders for comments: a video's comments page by page and one comment, each with its author and
//! like facts.

use bson::oid::ObjectId;
use bson::{Document, doc};

use super::{by_id, posts, seen_posts};

/// The like field naming a comment.
const LIKED_AS: &str = "comment";

/// A new comment's fields.
pub fn new_comment(video: ObjectId, owner: ObjectId, content: &str) -> Document {
    doc! { "content": content, "video": video, "owner": owner }
}

/// The comments on a video.
pub fn on_video(video: ObjectId) -> Document {
    doc! { "video": video }
}

/// One page of the comments on a video that `viewer` sees, newest first.
pub fn comment_page(video: ObjectId, viewer: Option<ObjectId>, offset: u64, limit: u32) -> Vec<Document> {
    posts(seen_posts(on_video(video), viewer), LIKED_AS, viewer, Some((offset, limit)))
}

/// How many comments on a video `viewer` sees: those everyone sees, and the viewer's removed ones.
pub fn seen_on_video(video: ObjectId, viewer: Option<ObjectId>) -> Document {
    seen_posts(on_video(video), viewer)
}

pub fn comment(id: ObjectId, viewer: Option<ObjectId>) -> Vec<Document> {
    posts(by_id(id), LIKED_AS, viewer, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes([n; 12])
    }

    #[test]
    fn a_comment_page_sorts_then_pages_then_joins() {
        let pipeline = comment_page(id(4), Some(id(1)), 10, 5);
        let seen = doc! { "video": id(4), "$or": [{ "hidden": { "$ne": true } }, { "owner": id(1) }] };
        assert_eq!(pipeline[0], doc! { "$match": seen }, "a removed comment only for its author");
        assert_eq!(pipeline[1], doc! { "$sort": { "createdAt": -1, "_id": -1 } });
        assert_eq!(pipeline[2], doc! { "$skip": 10i64 });
        assert_eq!(pipeline[3], doc! { "$limit": 5i64 });
        assert_eq!(pipeline.len(), 9, "owner lookup (2) and like facts (3) follow");
        let lookup = pipeline[6].get_document("$lookup").unwrap();
        assert_eq!(lookup.get_str("foreignField").unwrap(), "comment");
        assert_eq!(new_comment(id(4), id(1), "c"), doc! { "content": "c", "video": id(4), "owner": id(1) });
    }
}
