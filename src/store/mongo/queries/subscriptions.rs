//! Builders for subscriptions: the pair a toggle flips, both sides' lists, and the subscription feed.

use bson::oid::ObjectId;
use bson::{Document, doc};

use super::super::coll;
use super::{Hinted, Read, index, newest_first, owner_lookup, skip, visible_to};
use crate::domain::visibility::Place;

pub fn subscription_of(subscriber: ObjectId, channel: ObjectId) -> Document {
    doc! { "subscriber": subscriber, "channel": channel }
}

/// A user as a card with their own subscriber count, and their newest public video when
/// `with_latest_video`; the fields `keep` are kept beside.
pub fn channel_card(with_latest_video: bool, keep: &[&str]) -> Vec<Document> {
    let mut projection = doc! {
        "username": 1, "fullName": 1, "avatar": 1,
        "subscribersCount": { "$ifNull": ["$subscribersCount", 0] },
    };
    for field in keep {
        projection.insert(*field, 1);
    }
    let mut card = vec![doc! { "$project": projection }];
    if with_latest_video {
        card.push(doc! { "$lookup": {
            "from": coll::VIDEOS,
            "localField": "_id",
            "foreignField": "owner",
            "pipeline": [
                { "$match": visible_to(Place::Listing, None) },
                { "$sort": { "createdAt": -1, "_id": -1 } },
                { "$limit": 1 },
                { "$project": { "title": 1, "thumbnail": 1, "duration": 1, "views": 1, "createdAt": 1 } },
            ],
            "as": "latestVideo",
        } });
        card.push(doc! { "$set": { "latestVideo": { "$first": "$latestVideo" } } });
    }
    card
}

/// The user on one side of a subscription (`side` = `subscriber` or `channel`) as a card; channels
/// also get their newest public video.
fn user_card(side: &str, with_latest_video: bool) -> Vec<Document> {
    let card = channel_card(with_latest_video, &[]);
    vec![
        doc! { "$lookup": { "from": coll::USERS, "localField": side, "foreignField": "_id", "pipeline": card, "as": "user" } },
        doc! { "$unwind": "$user" },
    ]
}

/// A channel's subscribers, newest first.
pub fn subscribers(channel: ObjectId) -> Vec<Document> {
    let mut pipeline = vec![doc! { "$match": { "channel": channel } }, newest_first()];
    pipeline.extend(user_card("subscriber", false));
    pipeline
}

/// The channels a user follows, newest subscription first, each with its latest public video.
pub fn subscribed_channels(subscriber: ObjectId) -> Vec<Document> {
    let mut pipeline = vec![doc! { "$match": { "subscriber": subscriber } }, newest_first()];
    pipeline.extend(user_card("channel", true));
    pipeline
}

/// The subscription feed's filter: public videos of the followed `channels` (the owner index serves it).
pub fn subscription_feed_filter(channels: Vec<ObjectId>) -> Document {
    let mut filter = doc! { "owner": { "$in": channels } };
    filter.extend(visible_to(Place::Listing, None));
    filter
}

/// One page of the subscription feed, newest first, owners joined: read through the channels' index
/// and sorted, or by walking `_id` (the same order: `queries::Read`), as `read` says
/// (`queries::read_for` of the channels' and the site's kept counts).
pub fn subscription_feed_page(channels: Vec<ObjectId>, offset: u64, limit: u32, read: Read) -> Hinted {
    let (order, index) = match read {
        Read::Walk => (doc! { "$sort": { "_id": -1 } }, index::ID),
        Read::Sort => (newest_first(), index::VIDEOS_OF_OWNER),
    };
    let mut pipeline = vec![
        doc! { "$match": subscription_feed_filter(channels) },
        order,
        skip(offset),
        doc! { "$limit": i64::from(limit) },
    ];
    pipeline.extend(owner_lookup("owner"));
    Hinted { pipeline, index }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes([n; 12])
    }

    #[test]
    fn a_subscription_is_one_pair() {
        assert_eq!(subscription_of(id(1), id(2)), doc! { "subscriber": id(1), "channel": id(2) });
    }

    #[test]
    fn subscription_lists_join_the_other_side() {
        let pipeline = subscribers(id(9));
        assert_eq!(pipeline[0], doc! { "$match": { "channel": id(9) } });
        let lookup = pipeline[2].get_document("$lookup").unwrap();
        assert_eq!(lookup.get_str("localField").unwrap(), "subscriber");
        assert_eq!(lookup.get_array("pipeline").unwrap().len(), 1, "no latest video for subscribers");
        let channels = subscribed_channels(id(9));
        assert_eq!(channels[0], doc! { "$match": { "subscriber": id(9) } });
        let inner = channels[2].get_document("$lookup").unwrap().get_array("pipeline").unwrap();
        assert_eq!(inner.len(), 3);
        assert_eq!(inner[2].as_document().unwrap(), &doc! { "$set": { "latestVideo": { "$first": "$latestVideo" } } });
    }

    #[test]
    fn the_subscription_feed_lists_public_videos_of_followed_channels_newest_first() {
        let (a, b) = (ObjectId::from_bytes([1; 12]), ObjectId::from_bytes([2; 12]));
        let filter = doc! { "owner": { "$in": [a, b] }, "isPublished": true };
        assert_eq!(subscription_feed_filter(vec![a, b]), filter);
        let walk = subscription_feed_page(vec![a, b], 20, 10, Read::Walk);
        assert_eq!(walk.index, "_id_");
        assert_eq!(walk.pipeline[1], doc! { "$sort": { "_id": -1 } });
        let Hinted { pipeline: page, index } = subscription_feed_page(vec![a, b], 20, 10, Read::Sort);
        assert_eq!((&page[..1], &page[2..]), (&walk.pipeline[..1], &walk.pipeline[2..]), "only the sort differs");
        assert_eq!(index, "owner_1_createdAt_-1__id_-1");
        assert_eq!(
            page[..4],
            [
                doc! { "$match": filter },
                doc! { "$sort": { "createdAt": -1, "_id": -1 } },
                doc! { "$skip": 20_i64 },
                doc! { "$limit": 10_i64 }
            ]
        );
    }
}
