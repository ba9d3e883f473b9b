//! Builders for creator blocks.

use bson::oid::ObjectId;
use bson::{DateTime, Document, doc};

use super::super::coll;

/// A block's fields as stored, for a new block and for a copied one.
pub fn block_fields(blocker: ObjectId, blocked: ObjectId, at: DateTime) -> Document {
    doc! { "blocker": blocker, "blocked": blocked, "createdAt": at }
}

pub fn pair(blocker: ObjectId, blocked: ObjectId) -> Document {
    doc! { "blocker": blocker, "blocked": blocked }
}

/// The blocked user's subscription to the blocker.
pub fn subscription(blocker: ObjectId, blocked: ObjectId) -> Document {
    doc! { "subscriber": blocked, "channel": blocker }
}

/// The blocked user's comments on the blocker's videos (`videos`), to hide or to show again
/// (`removedReason` must be absent to show).
pub fn comments_on(blocked: ObjectId, videos: &[ObjectId], show: bool) -> (Document, Document) {
    let mut filter = doc! { "owner": blocked, "video": { "$in": videos } };
    if show {
        filter.insert("removedReason", bson::Bson::Null);
    }
    (filter, doc! { "$set": { "hidden": !show } })
}

/// The users `blocker` blocks, newest block first, as owner summaries.
pub fn blocked_by(blocker: ObjectId) -> Vec<Document> {
    vec![
        doc! { "$match": { "blocker": blocker } },
        doc! { "$sort": { "createdAt": -1, "_id": -1 } },
        doc! { "$lookup": {
            "from": coll::USERS,
            "localField": "blocked",
            "foreignField": "_id",
            "pipeline": [{ "$project": { "username": 1, "fullName": 1, "avatar": 1 } }],
            "as": "user",
        } },
        doc! { "$unwind": "$user" },
        doc! { "$project": {
            "_id": "$user._id", "username": "$user.username", "fullName": "$user.fullName", "avatar": "$user.avatar",
        } },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn showing_comments_again_leaves_removed_ones_hidden() {
        let (a, b) = (ObjectId::from_bytes([1; 12]), ObjectId::from_bytes([2; 12]));
        let (filter, update) = comments_on(b, &[a], true);
        assert_eq!(filter, doc! { "owner": b, "video": { "$in": [a] }, "removedReason": null });
        assert_eq!(update, doc! { "$set": { "hidden": false } });
        assert_eq!(subscription(a, b), doc! { "subscriber": b, "channel": a });
        assert_eq!(blocked_by(a).len(), 5);
    }
}
