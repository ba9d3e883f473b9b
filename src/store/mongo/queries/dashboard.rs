//! Builders for a channel owner's dashboard: their videos with their stored like counts, and the
//! channel's totals.

use bson::oid::ObjectId;
use bson::{Bson, Document, doc};

use super::{newest_first, owner_lookup};

/// All of the owner's videos, newest first, each with its like count.
pub fn dashboard_videos(owner: ObjectId) -> Vec<Document> {
    let mut pipeline = vec![doc! { "$match": { "owner": owner } }, newest_first()];
    pipeline.extend(owner_lookup("owner"));
    pipeline.push(doc! { "$set": { "likesCount": { "$ifNull": ["$likes", 0] } } });
    pipeline
}

/// Video count, total views and likes on the owner's videos, in one pass over the owner's videos.
pub fn channel_totals(owner: ObjectId) -> Vec<Document> {
    vec![
        doc! { "$match": { "owner": owner } },
        doc! { "$group": {
            "_id": Bson::Null,
            "totalVideos": { "$sum": 1 },
            "totalViews": { "$sum": "$views" },
            "totalLikes": { "$sum": { "$ifNull": ["$likes", 0] } },
        } },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashboard_and_totals_count_likes_per_video() {
        let owner = ObjectId::from_bytes([5; 12]);
        let totals = channel_totals(owner);
        assert_eq!(totals[0], doc! { "$match": { "owner": owner } });
        assert_eq!(
            totals[1],
            doc! { "$group": { "_id": null, "totalVideos": { "$sum": 1 }, "totalViews": { "$sum": "$views" },
            "totalLikes": { "$sum": { "$ifNull": ["$likes", 0] } } } }
        );
        let dashboard = dashboard_videos(owner);
        assert_eq!(dashboard[1], doc! { "$sort": { "createdAt": -1, "_id": -1 } });
        assert_eq!(dashboard.len(), 5);
    }
}
