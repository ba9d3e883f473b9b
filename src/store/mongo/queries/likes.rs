//! Builders for likes: the one like a user may hold on a target, the likes on a target, and the
//! user's liked videos.

use bson::oid::ObjectId;
use bson::{Document, doc};

use super::super::{coll, oid};
use super::{Hinted, index, newest_first, owner_lookup, visible_to};
use crate::domain::social::LikeTarget;
use crate::domain::visibility::Place;

/// The like field naming the target (`video`, `comment` or `tweet`) and the target's id.
pub fn like_target(target: LikeTarget) -> (&'static str, ObjectId) {
    match target {
        LikeTarget::Video(id) => ("video", oid(id)),
        LikeTarget::Comment(id) => ("comment", oid(id)),
        LikeTarget::Tweet(id) => ("tweet", oid(id)),
    }
}

/// The one like `user` may hold on `target` (unique partial index per target field).
pub fn like_of(user: ObjectId, target: LikeTarget) -> Document {
    let (field, id) = like_target(target);
    doc! { "likedBy": user, field: id }
}

/// The collection of the target, which keeps its like count (`queries::counters`), and its id.
pub fn counted_in(target: LikeTarget) -> (&'static str, ObjectId) {
    match target {
        LikeTarget::Video(id) => (coll::VIDEOS, oid(id)),
        LikeTarget::Comment(id) => (coll::COMMENTS, oid(id)),
        LikeTarget::Tweet(id) => (coll::TWEETS, oid(id)),
    }
}

/// The user's video likes, newest first, joined to the videos the user may see, read through the
/// user's likes index.
pub fn liked_videos(user: ObjectId) -> Hinted {
    let mut video = vec![doc! { "$match": visible_to(Place::ByLink, Some(user)) }];
    video.extend(owner_lookup("owner"));
    let pipeline = vec![
        doc! { "$match": { "likedBy": user, "video": { "$ne": null } } },
        newest_first(),
        doc! { "$lookup": {
            "from": coll::VIDEOS, "localField": "video", "foreignField": "_id", "pipeline": video, "as": "video",
        } },
        doc! { "$unwind": "$video" },
    ];
    Hinted { pipeline, index: index::LIKES_OF_USER }
}

#[cfg(test)]
mod tests {
    use super::super::record;
    use super::*;
    use crate::domain::Id;
    use bson::DateTime;

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes([n; 12])
    }

    #[test]
    fn likes_name_exactly_one_target() {
        let target = Id::from_bytes([2; 12]);
        assert_eq!(like_of(id(1), LikeTarget::Comment(target)), doc! { "likedBy": id(1), "comment": id(2) });
        assert_eq!(counted_in(LikeTarget::Tweet(target)), ("tweets", id(2)));
        assert_eq!(counted_in(LikeTarget::Video(target)), ("videos", id(2)));
        let at = DateTime::from_millis(1);
        assert_eq!(
            record(id(3), like_of(id(1), LikeTarget::Video(target)), at),
            doc! { "_id": id(3), "likedBy": id(1), "video": id(2), "createdAt": at, "updatedAt": at }
        );
    }

    #[test]
    fn liked_videos_keep_only_visible_videos() {
        let Hinted { pipeline, index } = liked_videos(id(1));
        assert_eq!(index, "likedBy_1_createdAt_-1__id_-1");
        assert_eq!(pipeline[0], doc! { "$match": { "likedBy": id(1), "video": { "$ne": null } } });
        let lookup = pipeline[2].get_document("$lookup").unwrap();
        assert_eq!(
            lookup.get_array("pipeline").unwrap()[0].as_document().unwrap(),
            &doc! { "$match": visible_to(Place::ByLink, Some(id(1))) }
        );
        assert_eq!(pipeline[3], doc! { "$unwind": "$video" });
    }
}
