//! Builders for store-to-store copies: the id-ordered export filter and the upsert of each record.

use bson::oid::ObjectId;
use bson::{Bson, Document, doc};

use super::super::{Home, date, home, oid};
use crate::domain::Id;
use crate::domain::choice::Choice;
use crate::store::records::RecordKind;
use crate::store::transfer::{Kind, Record};

/// The collection holding a copied kind (watch histories live inside the users).
pub fn collection(kind: Kind) -> &'static str {
    super::super::collection(kind.record())
}

/// Documents of `kind` after the cursor; for a kind kept inside other documents (histories), only
/// the documents holding some.
pub fn export_filter(kind: Kind, after: Option<Id>) -> Document {
    let mut filter = Document::new();
    if let Some(after) = after {
        filter.insert("_id", doc! { "$gt": oid(after) });
    }
    if let Home::Within { field, .. } = home(kind.record()) {
        filter.insert(format!("{field}.0"), doc! { "$exists": true });
    }
    // A settings document made only to keep notification counts (`counters::Count::kept_in`) holds
    // no settings of the user's.
    if kind.record() == RecordKind::NotificationSettings {
        filter.insert("updatedAt", doc! { "$exists": true });
    }
    filter
}

fn ids(ids: &[Id]) -> Vec<ObjectId> {
    ids.iter().copied().map(oid).collect()
}

/// `(filter, update, upsert)` writing the record under its own id.
pub fn upsert(record: &Record) -> (Document, Document, bool) {
    let (id, set, on_insert) = match record {
        Record::User(u) => {
            let sessions: Vec<Document> = u
                .sessions
                .iter()
                .map(|s| {
                    doc! { "_id": oid(s.id), "jti": &s.jti, "tokenHash": &s.token_hash, "userAgent": &s.user_agent,
                    "expiresAt": date(s.expires_at), "createdAt": date(s.created_at),
                    "lastUsedAt": date(s.last_used_at) }
                })
                .collect();
            let set = doc! {
                "username": &u.username, "email": &u.email, "fullName": &u.full_name, "avatar": &u.avatar,
                "avatarKey": &u.avatar_key, "coverImage": &u.cover_image,
                "coverImageKey": u.cover_image_key.as_deref().map_or(Bson::Null, |k| Bson::String(k.to_owned())),
                "password": &u.password_hash, "refreshSessions": sessions, "historyPaused": u.history_paused,
                "role": u.role.as_str(),
                "suspendedReason": u.suspended_reason.as_deref().map_or(Bson::Null, |r| Bson::String(r.to_owned())),
                "createdAt": date(u.created_at), "updatedAt": date(u.updated_at),
            };
            (u.id, set, Some(doc! { "watchHistory": [], "watchHistoryAt": [] }))
        }
        Record::Video(v) => {
            let mut set = doc! {
                "videoFile": &v.video_file, "videoKey": &v.video_key, "thumbnail": &v.thumbnail,
                "thumbnailKey": &v.thumbnail_key, "title": &v.title, "description": &v.description,
                "duration": v.duration, "views": v.views, "owner": oid(v.owner),
                "createdAt": date(v.created_at), "updatedAt": date(v.updated_at),
                "processingStatus": v.processing.status.as_str(), "processingProgress": v.processing.progress,
                "processingError": v.processing.error.as_deref().map_or(Bson::Null, |e| Bson::String(e.to_owned())),
                "width": v.processing.width, "height": v.processing.height,
                "hlsUrl": v.processing.hls_url.as_deref().map_or(Bson::Null, |u| Bson::String(u.to_owned())),
                "hlsKey": &v.processing.hls_key, "leaseHolder": Bson::Null, "leaseUntil": Bson::Null,
                "removedReason": v.removed_reason.as_deref().map_or(Bson::Null, |r| Bson::String(r.to_owned())),
                "heldVisibility": v.held_visibility.map_or(Bson::Null, |level| Bson::String(level.as_str().to_owned())),
                "tags": &v.tags,
            };
            set.extend(super::videos::visibility_fields(v.visibility));
            (v.id, set, None)
        }
        Record::Comment(p) | Record::Tweet(p) => {
            let mut set = doc! {
                "content": &p.content, "owner": oid(p.owner),
                "removedReason": p.removed_reason.as_deref().map_or(Bson::Null, |r| Bson::String(r.to_owned())),
                "hidden": p.hidden,
            };
            if let Some(video) = p.video {
                set.insert("video", oid(video));
            }
            if let Record::Comment(_) = record {
                let or_null = |id: Option<Id>| id.map_or(Bson::Null, |id| Bson::ObjectId(oid(id)));
                set.insert("parent", or_null(p.thread.parent));
                set.insert("replyTo", or_null(p.thread.reply_to));
                set.insert("hearted", p.thread.hearted);
            }
            set.insert("createdAt", date(p.created_at));
            set.insert("updatedAt", date(p.updated_at));
            (p.id, set, None)
        }
        Record::Like(l) => {
            let mut set = super::likes::like_of(oid(l.liked_by), l.target);
            set.insert("createdAt", date(l.created_at));
            set.insert("updatedAt", date(l.updated_at));
            (l.id, set, None)
        }
        Record::Subscription(s) => {
            let mut set = super::subscriptions::subscription_of(oid(s.subscriber), oid(s.channel));
            set.insert("createdAt", date(s.created_at));
            set.insert("updatedAt", date(s.updated_at));
            (s.id, set, None)
        }
        Record::Playlist(p) => {
            let set = doc! {
                "name": &p.name, "description": &p.description, "videos": ids(&p.videos), "owner": oid(p.owner),
                "createdAt": date(p.created_at), "updatedAt": date(p.updated_at),
            };
            (p.id, set, None)
        }
        Record::History(h) => {
            let videos: Vec<ObjectId> = h.entries.iter().map(|(video, _)| oid(*video)).collect();
            let times: Vec<Bson> =
                h.entries.iter().map(|(_, at)| at.map_or(Bson::Null, |at| date(at).into())).collect();
            let set = doc! { "$set": { "watchHistory": videos, "watchHistoryAt": times } };
            return (doc! { "_id": oid(h.user) }, set, false);
        }
        Record::Report(r) => {
            let mut set =
                super::reports::report_fields(oid(r.reporter), r.target, r.reason, r.details.as_deref(), r.status);
            set.insert("createdAt", date(r.created_at));
            set.insert("updatedAt", date(r.updated_at));
            let mut update = doc! {};
            if !set.contains_key("openBy") {
                // A copy over an open report that is now closed frees its key.
                update.insert("$unset", doc! { "openBy": "" });
            }
            update.insert("$set", set);
            return (doc! { "_id": oid(r.id) }, update, true);
        }
        Record::Action(a) => {
            // The log is append-only: a copied action is written once.
            let fields =
                super::moderation::action_fields(oid(a.moderator), a.target, a.action, &a.reason, date(a.created_at));
            return (doc! { "_id": oid(a.id) }, doc! { "$setOnInsert": fields }, true);
        }
        Record::Block(b) => {
            let fields = super::blocks::block_fields(oid(b.blocker), oid(b.blocked), date(b.created_at));
            return (doc! { "_id": oid(b.id) }, doc! { "$setOnInsert": fields }, true);
        }
        Record::NotificationSettings(s) => {
            let set = super::notifications::settings_fields(s.settings, date(s.updated_at));
            (s.user, set, None)
        }
        Record::Notification(n) => {
            let fields = super::notifications::notification_fields(
                oid(n.recipient),
                n.kind,
                oid(n.actor),
                n.video.map(oid),
                n.comment.map(oid),
                n.read,
                date(n.created_at),
            );
            (n.id, fields, None)
        }
    };
    let mut update = doc! { "$set": set };
    if let Some(on_insert) = on_insert {
        update.insert("$setOnInsert", on_insert);
    }
    (doc! { "_id": oid(id) }, update, true)
}

/// The collection a record is written to.
pub fn target(record: &Record) -> &'static str {
    collection(record.kind())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Timestamp;
    use crate::domain::social::LikeTarget;
    use crate::store::transfer::{HistoryRecord, LikeRecord};

    #[test]
    fn exports_walk_ids_in_order_and_histories_only_where_present() {
        let after = Id::from_bytes([1; 12]);
        assert_eq!(export_filter(Kind::Videos, None), doc! {});
        assert_eq!(export_filter(Kind::Likes, Some(after)), doc! { "_id": { "$gt": oid(after) } });
        assert_eq!(
            export_filter(Kind::WatchHistory, Some(after)),
            doc! { "_id": { "$gt": oid(after) }, "watchHistory.0": { "$exists": true } }
        );
        assert_eq!(collection(Kind::WatchHistory), "users");
    }

    #[test]
    fn records_are_upserted_under_their_own_id_with_their_own_times() {
        let like = Record::Like(LikeRecord {
            id: Id::from_bytes([1; 12]),
            liked_by: Id::from_bytes([2; 12]),
            target: LikeTarget::Tweet(Id::from_bytes([3; 12])),
            created_at: Timestamp(10),
            updated_at: Timestamp(11),
        });
        let (filter, update, upsert_flag) = upsert(&like);
        assert_eq!(filter, doc! { "_id": ObjectId::from_bytes([1; 12]) });
        assert_eq!(
            update,
            doc! { "$set": { "likedBy": ObjectId::from_bytes([2; 12]), "tweet": ObjectId::from_bytes([3; 12]),
            "createdAt": bson::DateTime::from_millis(10), "updatedAt": bson::DateTime::from_millis(11) } }
        );
        assert!(upsert_flag);
        assert_eq!(target(&like), "likes");
    }

    #[test]
    fn a_history_updates_an_existing_user_only() {
        let history = Record::History(HistoryRecord {
            user: Id::from_bytes([4; 12]),
            entries: vec![(Id::from_bytes([5; 12]), Some(Timestamp(7))), (Id::from_bytes([6; 12]), None)],
        });
        let (filter, update, upsert_flag) = upsert(&history);
        assert_eq!(filter, doc! { "_id": ObjectId::from_bytes([4; 12]) });
        assert_eq!(
            update,
            doc! { "$set": { "watchHistory": [ObjectId::from_bytes([5; 12]), ObjectId::from_bytes([6; 12])],
            "watchHistoryAt": [bson::DateTime::from_millis(7), null] } }
        );
        assert!(!upsert_flag, "a history never creates a user");
    }
}
