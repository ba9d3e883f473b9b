//! Builders for user accounts: registration, profile and password updates, the channel profile, and
//! the one-time lowercasing of emails stored mixed-case by the original API.

use bson::oid::ObjectId;
use bson::{DateTime, Document, doc};

use crate::domain::choice::Choice;
use crate::domain::user::Role;
use crate::store::records::RecordKind;
use crate::store::{NewUser, ProfileUpdate};

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
    document.extend(super::search::user_fields(&user.username, &user.full_name));
    document.extend(super::counters::zeroes(RecordKind::Users));
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

pub fn role_update(role: Role, now: DateTime) -> Document {
    doc! { "$set": { "role": role.as_str(), "updatedAt": now } }
}

/// Marks the account suspended with this reason, ending its sessions; or lifts the suspension.
pub fn suspension(reason: Option<&str>) -> Document {
    match reason {
        Some(reason) => doc! { "$set": { "suspendedReason": reason, "refreshSessions": [] } },
        None => doc! { "$unset": { "suspendedReason": "" } },
    }
}

/// The admins, counted through the `role` index.
pub fn admins() -> Document {
    doc! { "role": Role::Admin.as_str() }
}

/// The user `id` while it still has `role`.
pub fn with_role(id: ObjectId, role: Role) -> Document {
    doc! { "_id": id, "role": role.as_str() }
}

pub fn password_update(hash: &str, now: DateTime) -> Document {
    doc! { "$set": { "password": hash, "updatedAt": now } }
}

/// Whether `viewer` follows the channel: the one key of the unique pair.
pub fn viewer_subscription(channel: ObjectId, viewer: Option<ObjectId>) -> Option<Document> {
    viewer.map(|viewer| doc! { "subscriber": viewer, "channel": channel })
}

/// A channel's subscription counts as the user document keeps them (`queries::counters`).
pub fn channel_count_fields() -> Document {
    doc! { "subscribersCount": 1, "subscribedToCount": 1 }
}

/// The account named `username`, without its refresh sessions.
/// The fields a caller's standing is read from (`docs::standing_of`): every request needing a login
/// reads them, alone or beside what it shows.
pub fn standing_fields() -> Document {
    doc! { "historyPaused": 1, "role": 1, "suspendedReason": 1 }
}

pub fn channel_owner(username: &str) -> (Document, Document) {
    (doc! { "username": username }, doc! { "refreshSessions": 0 })
}

/// Where [`channel_profile`] puts the viewer's subscription (at most one `{_id}`).
pub const VIEWER_SUBSCRIPTION: &str = "viewerSubscription";

/// The account named `username` (as [`channel_owner`]) with `viewer`'s subscription to it, in one
/// round trip: the join reads the `subscriber_1_channel_1` key of that one pair (the original API
/// joined every subscriber instead).
pub fn channel_profile(username: &str, viewer: ObjectId) -> Vec<Document> {
    let (filter, projection) = channel_owner(username);
    vec![
        doc! { "$match": filter },
        doc! { "$project": projection },
        doc! { "$lookup": {
            "from": super::super::coll::SUBSCRIPTIONS,
            "localField": "_id",
            "foreignField": "channel",
            "pipeline": [{ "$match": { "subscriber": viewer } }, { "$limit": 1 }, { "$project": { "_id": 1 } }],
            "as": VIEWER_SUBSCRIPTION,
        } },
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
            "searchWords": ["asha", "k"], "search": { "username": ["asha"], "fullName": ["asha", "k"] },
            "videoCounts": { "public": 0i64, "unlisted": 0i64, "private": 0i64 },
            "subscribersCount": 0i64, "subscribedToCount": 0i64,
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
    fn channel_counts_are_stored_and_the_viewer_s_subscription_is_one_key() {
        let (channel, viewer) = (ObjectId::from_bytes([1; 12]), ObjectId::from_bytes([2; 12]));
        assert_eq!(viewer_subscription(channel, Some(viewer)), Some(doc! { "subscriber": viewer, "channel": channel }));
        assert_eq!(viewer_subscription(channel, None), None, "nobody is subscribed for an anonymous viewer");
        assert_eq!(channel_count_fields(), doc! { "subscribersCount": 1, "subscribedToCount": 1 });
        let (filter, projection) = channel_owner("asha");
        assert_eq!(filter, doc! { "username": "asha" });
        assert_eq!(projection, doc! { "refreshSessions": 0 }, "sessions never leave the database");
    }

    #[test]
    fn a_logged_in_viewer_s_channel_profile_is_one_pipeline() {
        let viewer = ObjectId::from_bytes([2; 12]);
        let pipeline = channel_profile("asha", viewer);
        assert_eq!(pipeline[0], doc! { "$match": { "username": "asha" } });
        assert_eq!(pipeline[1], doc! { "$project": { "refreshSessions": 0 } });
        let lookup = pipeline[2].get_document("$lookup").unwrap();
        assert_eq!(lookup.get_str("from").unwrap(), "subscriptions");
        assert_eq!(
            (lookup.get_str("localField").unwrap(), lookup.get_str("foreignField").unwrap()),
            ("_id", "channel")
        );
        let inner = lookup.get_array("pipeline").unwrap();
        assert_eq!(inner[0].as_document().unwrap(), &doc! { "$match": { "subscriber": viewer } });
        assert_eq!(inner[1].as_document().unwrap(), &doc! { "$limit": 1 }, "one key at most");
        assert_eq!(lookup.get_str("as").unwrap(), VIEWER_SUBSCRIPTION);
    }

    #[test]
    fn mixed_case_emails_are_found_by_expression() {
        assert_eq!(mixed_case_emails(), doc! { "$expr": { "$ne": ["$email", { "$toLower": "$email" }] } });
        let id = ObjectId::from_bytes([1; 12]);
        assert_eq!(email_of_another(id, "a@b.c"), doc! { "_id": { "$ne": id }, "email": "a@b.c" });
        assert_eq!(email_update("a@b.c"), doc! { "$set": { "email": "a@b.c" } });
    }
}
