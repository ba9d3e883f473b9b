//! Builders for the watch history, kept inside the user document as the original API kept it.

use bson::oid::ObjectId;
use bson::{DateTime, Document, doc};

use super::super::coll;
use super::Change;
use crate::domain::visibility::Place;

/// The history as stored: `watchHistory` (video ids, newest first, as the original API kept it) and,
/// aligned with it, `watchHistoryAt` (each entry's latest watch; shorter or absent in documents written
/// before times were kept).
const HISTORY: &str = "$watchHistory";
const HISTORY_AT: &str = "$watchHistoryAt";

/// The entry at index `$$this` of a stored array, or `null` past its end.
fn entry_of(array: &str) -> Document {
    doc! { "$ifNull": [{ "$arrayElemAt": [{ "$ifNull": [array, []] }, "$$this"] }, null] }
}

/// Both history arrays restricted to the entries whose video `keep` accepts (an expression over the
/// entry's video id), as two expressions computed from the same document.
fn kept_history(keep: impl Fn(Document) -> Document) -> (Document, Document) {
    let indexes = doc! { "$filter": {
        "input": { "$range": [0, { "$size": { "$ifNull": [HISTORY, []] } }] },
        "cond": keep(entry_of(HISTORY)),
    } };
    (
        doc! { "$map": { "input": indexes.clone(), "in": entry_of(HISTORY) } },
        doc! { "$map": { "input": indexes, "in": entry_of(HISTORY_AT) } },
    )
}

/// Moves `video` to the front of the history, watched `now`, without duplicates, capped at `max`
/// (one atomic update).
pub fn record_watch(video: ObjectId, now: DateTime, max: u32) -> Vec<Document> {
    let (ids, times) = kept_history(|entry| doc! { "$ne": [entry, video] });
    let max = i64::from(max);
    vec![doc! { "$set": {
        "watchHistory": { "$slice": [{ "$concatArrays": [[video], ids] }, max] },
        "watchHistoryAt": { "$slice": [{ "$concatArrays": [[now], times] }, max] },
    } }]
}

/// Removes `videos` from a history, times included (one atomic update per user).
pub fn forget_watches(videos: &[ObjectId]) -> Vec<Document> {
    let (ids, times) = kept_history(|entry| doc! { "$not": [{ "$in": [entry, videos] }] });
    vec![doc! { "$set": { "watchHistory": ids, "watchHistoryAt": times } }]
}

/// Takes `videos` out of every history holding them (a deletion of those videos).
pub fn without_videos(videos: &[ObjectId]) -> Change {
    Change::Pipeline(forget_watches(videos))
}

pub fn clear_history() -> Document {
    doc! { "$set": { "watchHistory": [], "watchHistoryAt": [] } }
}

pub fn history_paused(paused: bool, now: DateTime) -> Document {
    doc! { "$set": { "historyPaused": paused, "updatedAt": now } }
}

/// Where [`watch_history`] puts the owners of the history's videos, each once.
pub const OWNERS: &str = "owners";

/// The user's history (ids and times) and standing (the fields `UserRepo::identity` reads) with the
/// videos they can still see and their owners (each once, in [`OWNERS`]: one join for the page, not
/// one per video, about a tenth less database work on DocumentDB), in one round trip; the caller pairs
/// videos with owners (a video whose owner is gone drops out) and restores the history order.
pub fn watch_history(user: ObjectId) -> Vec<Document> {
    let videos = vec![doc! { "$match": super::visible_to(Place::ByLink, Some(user)) }];
    let mut fields = doc! { "watchHistory": 1, "watchHistoryAt": 1 };
    fields.extend(super::users::standing_fields());
    vec![
        doc! { "$match": { "_id": user } },
        doc! { "$project": fields },
        doc! { "$lookup": {
            "from": coll::VIDEOS,
            "localField": "watchHistory",
            "foreignField": "_id",
            "pipeline": videos,
            "as": "videos",
        } },
        super::owner_join("videos.owner", OWNERS),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::Bson;

    fn at(ms: i64) -> DateTime {
        DateTime::from_millis(ms)
    }

    #[test]
    fn the_history_keeps_its_watch_times_beside_the_ids() {
        let video = ObjectId::from_bytes([3; 12]);
        let [update] = &record_watch(video, at(7), 50)[..] else { panic!("one stage") };
        let set = update.get_document("$set").unwrap();
        let ids = set.get_document("watchHistory").unwrap().get_array("$slice").unwrap();
        let times = set.get_document("watchHistoryAt").unwrap().get_array("$slice").unwrap();
        assert_eq!(
            ids[0].as_document().unwrap().get_array("$concatArrays").unwrap()[0],
            Bson::Array(vec![video.into()])
        );
        assert_eq!(
            times[0].as_document().unwrap().get_array("$concatArrays").unwrap()[0],
            Bson::Array(vec![at(7).into()])
        );
        assert_eq!((&ids[1], &times[1]), (&Bson::Int64(50), &Bson::Int64(50)), "both capped alike");
        let kept = |array: &Bson| array.as_document().unwrap().get_array("$concatArrays").unwrap()[1].clone();
        let input = |map: Bson| map.as_document().unwrap().get_document("$map").unwrap().get("input").cloned();
        assert_eq!(input(kept(&ids[0])), input(kept(&times[0])), "the same entries survive in both arrays");
        assert_eq!(clear_history(), doc! { "$set": { "watchHistory": [], "watchHistoryAt": [] } });
    }

    #[test]
    fn watch_history_joins_visible_videos_in_one_pipeline() {
        let user = ObjectId::from_bytes([4; 12]);
        let pipeline = watch_history(user);
        assert_eq!(pipeline[0], doc! { "$match": { "_id": user } });
        let lookup = pipeline[2].get_document("$lookup").unwrap();
        assert_eq!(lookup.get_str("localField").unwrap(), "watchHistory");
        let inner = lookup.get_array("pipeline").unwrap();
        assert_eq!(inner[0], Bson::Document(doc! { "$match": super::super::visible_to(Place::ByLink, Some(user)) }));
        assert_eq!(inner.len(), 1, "visibility only: the owners are joined once, after");
        let owners = pipeline[3].get_document("$lookup").unwrap();
        assert_eq!((owners.get_str("from").unwrap(), owners.get_str("localField").unwrap()), ("users", "videos.owner"));
        assert_eq!(owners.get_str("as").unwrap(), OWNERS);
        let projection = doc! { "$project": { "username": 1, "fullName": 1, "avatar": 1 } };
        assert_eq!(owners.get_array("pipeline").unwrap(), &vec![Bson::Document(projection)], "the public summary only");
        let standing = pipeline[1].get_document("$project").unwrap();
        assert!(
            ["historyPaused", "role", "suspendedReason"].iter().all(|f| standing.contains_key(f)),
            "the standing too"
        );
    }
}
