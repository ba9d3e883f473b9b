//! Builders for likes, comments, tweets, subscriptions and playlists.

use bson::oid::ObjectId;
use bson::{DateTime, Document, doc};

use super::super::{coll, oid};
use super::{count_lookup, like_facts, newest_first, owner_lookup, skip, visible_to};
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

pub fn likes_on(target: LikeTarget) -> Document {
    let (field, id) = like_target(target);
    doc! { field: id }
}

/// A stored record with its timestamps: `fields` plus `_id`, `createdAt`, `updatedAt`.
pub fn record(id: ObjectId, fields: Document, now: DateTime) -> Document {
    let mut document = doc! { "_id": id };
    document.extend(fields);
    document.insert("createdAt", now);
    document.insert("updatedAt", now);
    document
}

/// The user's video likes, newest first, joined to the videos the user may see.
pub fn liked_videos(user: ObjectId) -> Vec<Document> {
    let mut video = vec![doc! { "$match": visible_to(Place::ByLink, Some(user)) }];
    video.extend(owner_lookup("owner"));
    vec![
        doc! { "$match": { "likedBy": user, "video": { "$ne": null } } },
        newest_first(),
        doc! { "$lookup": {
            "from": coll::VIDEOS, "localField": "video", "foreignField": "_id", "pipeline": video, "as": "video",
        } },
        doc! { "$unwind": "$video" },
    ]
}

/// Comments or tweets matching `filter`, with author and like facts for `viewer`. `target` is the
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

pub fn content_update(content: &str, now: DateTime) -> Document {
    doc! { "$set": { "content": content, "updatedAt": now } }
}

pub fn subscription_of(subscriber: ObjectId, channel: ObjectId) -> Document {
    doc! { "subscriber": subscriber, "channel": channel }
}

/// The user on one side of a subscription (`side` = `subscriber` or `channel`) as a card with
/// their own subscriber count; channels also get their newest public video.
fn user_card(side: &str, with_latest_video: bool) -> Vec<Document> {
    let mut card = vec![doc! { "$project": { "username": 1, "fullName": 1, "avatar": 1 } }];
    card.extend(count_lookup(coll::SUBSCRIPTIONS, "channel", "subscribersCount"));
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

pub fn playlists(filter: Document) -> Vec<Document> {
    let mut pipeline = vec![doc! { "$match": filter }, newest_first()];
    pipeline.extend(owner_lookup("owner"));
    pipeline
}

pub fn playlist_update(name: Option<&str>, description: Option<&str>, now: DateTime) -> Document {
    let mut set = doc! { "updatedAt": now };
    if let Some(name) = name {
        set.insert("name", name);
    }
    if let Some(description) = description {
        set.insert("description", description);
    }
    doc! { "$set": set }
}

/// Appends the video only when absent: the filter makes the push idempotent and race-free.
pub fn add_to_playlist(playlist: ObjectId, video: ObjectId, now: DateTime) -> (Document, Document) {
    (
        doc! { "_id": playlist, "videos": { "$ne": video } },
        doc! { "$push": { "videos": video }, "$set": { "updatedAt": now } },
    )
}

pub fn remove_from_playlist(playlist: ObjectId, video: ObjectId, now: DateTime) -> (Document, Document) {
    (doc! { "_id": playlist, "videos": video }, doc! { "$pull": { "videos": video }, "$set": { "updatedAt": now } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Id;

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes([n; 12])
    }

    #[test]
    fn likes_name_exactly_one_target() {
        let target = Id::from_bytes([2; 12]);
        assert_eq!(like_of(id(1), LikeTarget::Comment(target)), doc! { "likedBy": id(1), "comment": id(2) });
        assert_eq!(likes_on(LikeTarget::Tweet(target)), doc! { "tweet": id(2) });
        assert_eq!(likes_on(LikeTarget::Video(target)), doc! { "video": id(2) });
        let at = DateTime::from_millis(1);
        assert_eq!(
            record(id(3), like_of(id(1), LikeTarget::Video(target)), at),
            doc! { "_id": id(3), "likedBy": id(1), "video": id(2), "createdAt": at, "updatedAt": at }
        );
    }

    #[test]
    fn liked_videos_keep_only_visible_videos() {
        let pipeline = liked_videos(id(1));
        assert_eq!(pipeline[0], doc! { "$match": { "likedBy": id(1), "video": { "$ne": null } } });
        let lookup = pipeline[2].get_document("$lookup").unwrap();
        assert_eq!(
            lookup.get_array("pipeline").unwrap()[0].as_document().unwrap(),
            &doc! { "$match": visible_to(Place::ByLink, Some(id(1))) }
        );
        assert_eq!(pipeline[3], doc! { "$unwind": "$video" });
    }

    #[test]
    fn a_comment_page_sorts_then_pages_then_joins() {
        let pipeline = posts(doc! { "video": id(4) }, "comment", Some(id(1)), Some((10, 5)));
        assert_eq!(pipeline[0], doc! { "$match": { "video": id(4) } });
        assert_eq!(pipeline[1], doc! { "$sort": { "createdAt": -1, "_id": -1 } });
        assert_eq!(pipeline[2], doc! { "$skip": 10i64 });
        assert_eq!(pipeline[3], doc! { "$limit": 5i64 });
        assert_eq!(pipeline.len(), 9, "owner lookup (2) and like facts (3) follow");
        assert_eq!(posts(doc! { "owner": id(1) }, "tweet", None, None).len(), 7);
    }

    #[test]
    fn subscription_lists_join_the_other_side() {
        let pipeline = subscribers(id(9));
        assert_eq!(pipeline[0], doc! { "$match": { "channel": id(9) } });
        let lookup = pipeline[2].get_document("$lookup").unwrap();
        assert_eq!(lookup.get_str("localField").unwrap(), "subscriber");
        assert_eq!(lookup.get_array("pipeline").unwrap().len(), 3, "no latest video for subscribers");
        let channels = subscribed_channels(id(9));
        assert_eq!(channels[0], doc! { "$match": { "subscriber": id(9) } });
        let inner = channels[2].get_document("$lookup").unwrap().get_array("pipeline").unwrap();
        assert_eq!(inner.len(), 5);
        assert_eq!(inner[4].as_document().unwrap(), &doc! { "$set": { "latestVideo": { "$first": "$latestVideo" } } });
    }

    #[test]
    fn playlist_edits_are_idempotent_by_filter() {
        let at = DateTime::from_millis(2);
        assert_eq!(
            add_to_playlist(id(1), id(2), at),
            (
                doc! { "_id": id(1), "videos": { "$ne": id(2) } },
                doc! { "$push": { "videos": id(2) }, "$set": { "updatedAt": at } }
            )
        );
        assert_eq!(remove_from_playlist(id(1), id(2), at).0, doc! { "_id": id(1), "videos": id(2) });
        assert_eq!(playlist_update(Some("n"), None, at), doc! { "$set": { "updatedAt": at, "name": "n" } });
        assert_eq!(content_update("c", at), doc! { "$set": { "content": "c", "updatedAt": at } });
        assert_eq!(subscription_of(id(1), id(2)), doc! { "subscriber": id(1), "channel": id(2) });
    }
}
