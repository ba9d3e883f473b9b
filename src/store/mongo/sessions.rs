//! MongoDB persistence of refresh sessions, kept inside the user document: each login, rotation,
//! logout and revocation is one atomic update of it.

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{Document, doc};
use mongodb::options::ReturnDocument;

use super::docs::SessionDoc;
use super::queries::by_id;
use super::queries::sessions as q;
use super::{MongoStore, backend, coll, decode, now, oid, retry_transient};
use crate::domain::Id;
use crate::domain::user::Session;
use crate::store::{NewSession, RefreshGrant, SessionRepo, StoreResult};

impl MongoStore {
    /// The user's stored sessions.
    async fn sessions_of(&self, user: ObjectId) -> StoreResult<Vec<SessionDoc>> {
        let found = self
            .collection(coll::USERS)
            .find_one(by_id(user))
            .projection(doc! { "refreshSessions": 1 })
            .await
            .map_err(backend)?;
        Ok(found.map(sessions_in).transpose()?.unwrap_or_default())
    }
}

/// The sessions of a user document projected to `refreshSessions`.
fn sessions_in(user: Document) -> StoreResult<Vec<SessionDoc>> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Sessions {
        #[serde(default)]
        refresh_sessions: Vec<SessionDoc>,
    }
    Ok(decode::<Sessions>(user)?.refresh_sessions)
}

#[async_trait]
impl SessionRepo for MongoStore {
    async fn create(&self, session: NewSession, max: u32) -> StoreResult<()> {
        let update = q::add_session(q::session(&session, now()), max, now());
        let users = self.collection(coll::USERS);
        retry_transient(|| users.update_one(by_id(oid(session.user_id)), update.clone())).await.map_err(backend)?;
        Ok(())
    }

    async fn rotate(&self, user_id: Id, jti: &str, token_hash: &str, next: RefreshGrant) -> StoreResult<Option<Id>> {
        let filter = q::live_session(oid(user_id), jti, token_hash, now());
        let update = q::next_grant(&next, now());
        let users = self.collection(coll::USERS);
        let updated = retry_transient(|| {
            users
                .find_one_and_update(filter.clone(), update.clone())
                .projection(doc! { "refreshSessions": 1 })
                .return_document(ReturnDocument::After)
        })
        .await
        .map_err(backend)?;
        let Some(updated) = updated else {
            return Ok(None);
        };
        Ok(sessions_in(updated)?.into_iter().find(|s| s.jti == next.jti).and_then(|s| s.id).map(super::id_of))
    }

    async fn delete(&self, user_id: Id, jti: &str, token_hash: &str) -> StoreResult<bool> {
        let result = self
            .collection(coll::USERS)
            .update_one(q::user_session(oid(user_id), jti, token_hash), q::remove_session(jti))
            .await
            .map_err(backend)?;
        Ok(result.modified_count > 0)
    }

    async fn delete_all(&self, user_id: Id) -> StoreResult<()> {
        self.collection(coll::USERS)
            .update_one(by_id(oid(user_id)), q::remove_all_sessions())
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn list(&self, user_id: Id) -> StoreResult<Vec<Session>> {
        let live_after = now();
        let mut sessions: Vec<Session> = self
            .sessions_of(oid(user_id))
            .await?
            .into_iter()
            .filter(|s| s.expires_at > live_after)
            .filter_map(SessionDoc::into_session)
            .collect();
        sessions.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(sessions)
    }

    async fn revoke(&self, user_id: Id, session: Id) -> StoreResult<bool> {
        let (filter, update) = q::revoke_session(oid(user_id), oid(session));
        let result = self.collection(coll::USERS).update_one(filter, update).await.map_err(backend)?;
        Ok(result.modified_count > 0)
    }
}
