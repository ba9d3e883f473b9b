//! Builders for the `users` collection: accounts, refresh sessions (kept inside the user, docs/api.md §4.1),
//! watch history and channel counts.

use bson::oid::ObjectId;
use bson::{Bson, DateTime, Document, doc};

use super::super::{coll, date, oid};
use super::owner_lookup;
use crate::domain::visibility::Place;
use crate::store::{NewSession, NewUser, ProfileUpdate, RefreshGrant};

/// A new user document; `coverImage` is `""` without a cover, as the original stored it.
pub fn new_user(id: ObjectId, user: &NewUser, now: DateTime) -> Document {
    let mut document = doc! {
        "_id": id,
        "username": &user.username,
        "email": &user.email,
        "fullName": &user.full_name,
        "avatar": &user.avatar.url,
        "avatarKey": &user.avatar.key,
        "coverImage": user.cover_image.as_ref().map_or("", |c| c.url.as_str()),
        "watchHistory": [],
        "watchHistoryAt": [],
        "historyPaused": false,
        "password": &user.password_hash,
        "refreshSessions": [],
        "createdAt": now,
        "updatedAt": now,
    };
    if let Some(cover) = &user.cover_image {
        document.insert("coverImageKey", &cover.key);
    }
    document
}

/// Either identity already in use.
pub fn username_or_email(username: &str, email: &str) -> Document {
    doc! { "$or": [{ "username": username }, { "email": email }] }
}

/// `$set` of the fields present in the update, plus `updatedAt`.
pub fn profile_update(update: &ProfileUpdate, now: DateTime) -> Document {
    let mut set = doc! { "updatedAt": now };
    if let Some(full_name) = &update.full_name {
        set.insert("fullName", full_name);
    }
    if let Some(email) = &update.email {
        set.insert("email", email);
    }
    if let Some(avatar) = &update.avatar {
        set.insert("avatar", &avatar.url);
        set.insert("avatarKey", &avatar.key);
    }
    if let Some(cover) = &update.cover_image {
        set.insert("coverImage", &cover.url);
        set.insert("coverImageKey", &cover.key);
    }
    doc! { "$set": set }
}

pub fn password_update(hash: &str, now: DateTime) -> Document {
    doc! { "$set": { "password": hash, "updatedAt": now } }
}

/// The three subscription counts of a channel as filters, each served by an index alone: who follows
/// it (`channel_…` index), whom it follows (`subscriber_…`), and whether `viewer` follows it (the
/// unique pair). Counted apart and concurrently: on DocumentDB a `$lookup` that counts fetches every
/// subscription (20k subscribers: 59 ms in one pipeline, 21 ms as counts one after another).
pub fn channel_count_filters(channel: ObjectId, viewer: Option<ObjectId>) -> (Document, Document, Option<Document>) {
    (
        doc! { "channel": channel },
        doc! { "subscriber": channel },
        viewer.map(|viewer| doc! { "subscriber": viewer, "channel": channel }),
    )
}

/// The account named `username`, without its refresh sessions.
pub fn channel_owner(username: &str) -> (Document, Document) {
    (doc! { "username": username }, doc! { "refreshSessions": 0 })
}

/// A stored refresh session (one device's login); `$literal` keeps any `$` in its values from being
/// read as a field path.
pub fn session(session: &NewSession, now: DateTime) -> Bson {
    Bson::Document(doc! { "$literal": {
        "_id": oid(session.id),
        "jti": &session.grant.jti,
        "tokenHash": &session.grant.token_hash,
        "userAgent": &session.user_agent,
        "expiresAt": date(session.grant.expires_at),
        "createdAt": now,
        "lastUsedAt": now,
    } })
}

/// Appends a session after dropping expired ones, keeping the newest `max` (one atomic update).
pub fn add_session(session: Bson, max: u32, now: DateTime) -> Vec<Document> {
    let live = doc! { "$filter": {
        "input": { "$ifNull": ["$refreshSessions", []] },
        "cond": { "$gt": ["$$this.expiresAt", now] },
    } };
    vec![doc! { "$set": { "refreshSessions": {
        "$slice": [{ "$concatArrays": [live, [session]] }, -i64::from(max.max(1))],
    } } }]
}

/// The user holding this live grant; it matches once, so of concurrent rotations exactly one wins.
pub fn live_session(user: ObjectId, jti: &str, token_hash: &str, now: DateTime) -> Document {
    doc! { "_id": user, "refreshSessions": { "$elemMatch": {
        "jti": jti, "tokenHash": token_hash, "expiresAt": { "$gt": now },
    } } }
}

/// Gives the session matched by [`live_session`] its next grant, in place: its `_id`, `createdAt`
/// and `userAgent` stay.
pub fn next_grant(next: &RefreshGrant, now: DateTime) -> Document {
    doc! { "$set": {
        "refreshSessions.$.jti": &next.jti,
        "refreshSessions.$.tokenHash": &next.token_hash,
        "refreshSessions.$.expiresAt": date(next.expires_at),
        "refreshSessions.$.lastUsedAt": now,
    } }
}

pub fn user_session(user: ObjectId, jti: &str, token_hash: &str) -> Document {
    doc! { "_id": user, "refreshSessions": { "$elemMatch": { "jti": jti, "tokenHash": token_hash } } }
}

pub fn remove_session(jti: &str) -> Document {
    doc! { "$pull": { "refreshSessions": { "jti": jti } } }
}

/// The user holding session `session`, and the update that ends it.
pub fn revoke_session(user: ObjectId, session: ObjectId) -> (Document, Document) {
    (doc! { "_id": user, "refreshSessions._id": session }, doc! { "$pull": { "refreshSessions": { "_id": session } } })
}

pub fn remove_all_sessions() -> Document {
    doc! { "$set": { "refreshSessions": [] } }
}

/// Users with sessions stored before sessions had ids (and their projection).
pub fn sessions_without_id() -> (Document, Document) {
    (doc! { "refreshSessions": { "$elemMatch": { "_id": { "$exists": false } } } }, doc! { "refreshSessions": 1 })
}

/// Names one such session, matched by its grant, once.
pub fn name_session(user: ObjectId, jti: &str, id: ObjectId, created_at: DateTime) -> (Document, Document) {
    (
        doc! { "_id": user, "refreshSessions": { "$elemMatch": { "jti": jti, "_id": { "$exists": false } } } },
        doc! { "$set": {
            "refreshSessions.$._id": id, "refreshSessions.$.lastUsedAt": created_at, "refreshSessions.$.userAgent": "",
        } },
    )
}

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

pub fn clear_history() -> Document {
    doc! { "$set": { "watchHistory": [], "watchHistoryAt": [] } }
}

pub fn history_paused(paused: bool, now: DateTime) -> Document {
    doc! { "$set": { "historyPaused": paused, "updatedAt": now } }
}

/// The user's history (ids and times) with the videos they can still see, owners joined, in one
/// round trip; the caller restores the history order.
pub fn watch_history(user: ObjectId) -> Vec<Document> {
    let mut videos = vec![doc! { "$match": super::visible_to(Place::ByLink, Some(user)) }];
    videos.extend(owner_lookup("owner"));
    vec![
        doc! { "$match": { "_id": user } },
        doc! { "$project": { "watchHistory": 1, "watchHistoryAt": 1 } },
        doc! { "$lookup": {
            "from": coll::VIDEOS,
            "localField": "watchHistory",
            "foreignField": "_id",
            "pipeline": videos,
            "as": "videos",
        } },
    ]
}

/// What deleting an account removes once its videos are gone, as `(collection, filter)` deletions in
/// an order a retry can repeat: likes on the user's comments and tweets, those comments and tweets,
/// the user's playlists, likes given, subscriptions both ways, and last the user.
pub fn account_cascade(user: ObjectId, comments: &[ObjectId], tweets: &[ObjectId]) -> Vec<(&'static str, Document)> {
    vec![
        (coll::LIKES, doc! { "comment": { "$in": comments } }),
        (coll::LIKES, doc! { "tweet": { "$in": tweets } }),
        (coll::COMMENTS, doc! { "owner": user }),
        (coll::TWEETS, doc! { "owner": user }),
        (coll::PLAYLISTS, doc! { "owner": user }),
        (coll::LIKES, doc! { "likedBy": user }),
        (coll::SUBSCRIPTIONS, doc! { "$or": [{ "subscriber": user }, { "channel": user }] }),
        (coll::USERS, doc! { "_id": user }),
    ]
}

/// Users whose stored email is not lowercase (written by the original API before it normalised).
pub fn mixed_case_emails() -> Document {
    doc! { "$expr": { "$ne": ["$email", { "$toLower": "$email" }] } }
}

/// Another account already holding `email`.
pub fn email_of_another(id: ObjectId, email: &str) -> Document {
    doc! { "_id": { "$ne": id }, "email": email }
}

pub fn email_update(email: &str) -> Document {
    doc! { "$set": { "email": email } }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Id, Timestamp};
    use crate::store::MediaRef;

    fn at(ms: i64) -> DateTime {
        DateTime::from_millis(ms)
    }

    #[test]
    fn a_new_user_uses_the_original_field_names() {
        let id = ObjectId::from_bytes([7; 12]);
        let user = NewUser {
            username: "asha".into(),
            email: "asha@example.com".into(),
            full_name: "Asha K".into(),
            avatar: MediaRef { url: "http://m/a.png".into(), key: "local:a.png".into() },
            cover_image: None,
            password_hash: "$2b$04$hash".into(),
        };
        let expected = doc! {
            "_id": id, "username": "asha", "email": "asha@example.com", "fullName": "Asha K",
            "avatar": "http://m/a.png", "avatarKey": "local:a.png", "coverImage": "", "watchHistory": [],
            "watchHistoryAt": [], "historyPaused": false, "password": "$2b$04$hash", "refreshSessions": [], "createdAt": at(5), "updatedAt": at(5),
        };
        assert_eq!(new_user(id, &user, at(5)), expected);
        let with_cover =
            NewUser { cover_image: Some(MediaRef { url: "http://m/c.png".into(), key: "k".into() }), ..user };
        let document = new_user(id, &with_cover, at(5));
        assert_eq!(document.get_str("coverImage").unwrap(), "http://m/c.png");
        assert_eq!(document.get_str("coverImageKey").unwrap(), "k");
    }

    #[test]
    fn profile_updates_set_only_what_changed() {
        let update = ProfileUpdate { email: Some("n@example.com".into()), ..Default::default() };
        assert_eq!(profile_update(&update, at(9)), doc! { "$set": { "updatedAt": at(9), "email": "n@example.com" } });
        let avatar =
            ProfileUpdate { avatar: Some(MediaRef { url: "u".into(), key: "k".into() }), ..Default::default() };
        assert_eq!(
            profile_update(&avatar, at(9)),
            doc! { "$set": { "updatedAt": at(9), "avatar": "u", "avatarKey": "k" } }
        );
        assert_eq!(password_update("h", at(1)), doc! { "$set": { "password": "h", "updatedAt": at(1) } });
        assert_eq!(username_or_email("a", "b@c.d"), doc! { "$or": [{ "username": "a" }, { "email": "b@c.d" }] });
    }

    #[test]
    fn channel_counts_are_three_index_only_filters() {
        let (channel, viewer) = (ObjectId::from_bytes([1; 12]), ObjectId::from_bytes([2; 12]));
        let (followers, following, viewer_follows) = channel_count_filters(channel, Some(viewer));
        assert_eq!(followers, doc! { "channel": channel });
        assert_eq!(following, doc! { "subscriber": channel });
        assert_eq!(viewer_follows, Some(doc! { "subscriber": viewer, "channel": channel }));
        assert_eq!(channel_count_filters(channel, None).2, None, "nobody is subscribed for an anonymous viewer");
        let (filter, projection) = channel_owner("asha");
        assert_eq!(filter, doc! { "username": "asha" });
        assert_eq!(projection, doc! { "refreshSessions": 0 }, "sessions never leave the database");
    }

    #[test]
    fn sessions_are_capped_rotated_and_removed_in_single_updates() {
        let id = Id::from_bytes([9; 12]);
        let grant = RefreshGrant { jti: "j1".into(), token_hash: "$abc".into(), expires_at: Timestamp(100) };
        let new = NewSession { id, user_id: Id::from_bytes([8; 12]), user_agent: "$ua".into(), grant };
        let s = session(&new, at(1));
        assert_eq!(
            s,
            Bson::Document(doc! { "$literal": {
            "_id": ObjectId::from_bytes([9; 12]), "jti": "j1", "tokenHash": "$abc", "userAgent": "$ua",
            "expiresAt": at(100), "createdAt": at(1), "lastUsedAt": at(1) } })
        );
        assert_eq!(
            add_session(s.clone(), 3, at(50)),
            vec![doc! { "$set": { "refreshSessions": { "$slice": [
                { "$concatArrays": [
                    { "$filter": { "input": { "$ifNull": ["$refreshSessions", []] },
                        "cond": { "$gt": ["$$this.expiresAt", at(50)] } } },
                    [s.clone()],
                ] },
                -3i64,
            ] } } }]
        );
        let user = ObjectId::from_bytes([8; 12]);
        assert_eq!(
            live_session(user, "j1", "h", at(50)),
            doc! { "_id": user, "refreshSessions": { "$elemMatch": {
            "jti": "j1", "tokenHash": "h", "expiresAt": { "$gt": at(50) } } } }
        );
        let next = RefreshGrant { jti: "j2".into(), token_hash: "h2".into(), expires_at: Timestamp(200) };
        assert_eq!(
            next_grant(&next, at(60)),
            doc! { "$set": { "refreshSessions.$.jti": "j2", "refreshSessions.$.tokenHash": "h2",
            "refreshSessions.$.expiresAt": at(200), "refreshSessions.$.lastUsedAt": at(60) } },
            "the session keeps its _id, createdAt and userAgent"
        );
        assert_eq!(remove_session("j1"), doc! { "$pull": { "refreshSessions": { "jti": "j1" } } });
        let sid = ObjectId::from_bytes([9; 12]);
        assert_eq!(
            revoke_session(user, sid),
            (doc! { "_id": user, "refreshSessions._id": sid }, doc! { "$pull": { "refreshSessions": { "_id": sid } } })
        );
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
        assert_eq!(inner.len(), 3, "visibility, owner lookup, unwind");
    }

    #[test]
    fn mixed_case_emails_are_found_by_expression() {
        assert_eq!(mixed_case_emails(), doc! { "$expr": { "$ne": ["$email", { "$toLower": "$email" }] } });
        let id = ObjectId::from_bytes([1; 12]);
        assert_eq!(email_of_another(id, "a@b.c"), doc! { "_id": { "$ne": id }, "email": "a@b.c" });
        assert_eq!(email_update("a@b.c"), doc! { "$set": { "email": "a@b.c" } });
    }
}
