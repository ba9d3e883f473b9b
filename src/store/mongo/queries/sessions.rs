//! Builders for refresh sessions, kept inside the user document (`refreshSessions`, docs/api.md §4.1):
//! every login, rotation, logout and revocation is one atomic update of that document.

use bson::oid::ObjectId;
use bson::{Bson, DateTime, Document, doc};

use super::super::{date, oid};
use crate::store::{NewSession, RefreshGrant};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Id, Timestamp};

    fn at(ms: i64) -> DateTime {
        DateTime::from_millis(ms)
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
}
