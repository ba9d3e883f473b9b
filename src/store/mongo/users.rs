//! MongoDB persistence of users, their refresh sessions (inside the user document) and channel counts.

use async_trait::async_trait;
use bson::{Document, doc};
use mongodb::options::ReturnDocument;

use super::docs::UserDoc;
use super::queries::by_id;
use super::queries::users as q;
use super::{MongoStore, backend, coll, conflict_on, date, decode, is_conflict, now, oid, retry_transient};
use crate::domain::Id;
use crate::domain::user::{ChannelCounts, UserAccount};
use crate::store::{NewSession, NewUser, ProfileUpdate, SessionRepo, StoreError, StoreResult, UserRepo};

impl MongoStore {
    /// Which identity a refused registration collides on, decided by asking who holds the username
    /// (error texts differ between servers, and some name no index).
    async fn identity_conflict(&self, username: &str) -> StoreError {
        match self.by_username(username).await {
            Ok(holder) => StoreError::Conflict { field: if holder.is_some() { "username" } else { "email" } },
            Err(e) => e,
        }
    }

    async fn user_where(&self, filter: Document) -> StoreResult<Option<UserAccount>> {
        let found = self.collection(coll::USERS).find_one(filter).await.map_err(backend)?;
        found.map(|d| decode::<UserDoc>(d).map(UserDoc::into_account)).transpose()
    }
}

#[async_trait]
impl UserRepo for MongoStore {
    async fn create(&self, user: NewUser) -> StoreResult<UserAccount> {
        let id = Id::generate();
        let document = q::new_user(oid(id), &user, now());
        let users = self.collection(coll::USERS);
        if let Err(e) = retry_transient(|| users.insert_one(document.clone())).await.map_err(conflict_on("username")) {
            return Err(if is_conflict(&e) { self.identity_conflict(&user.username).await } else { e });
        }
        self.by_id(id).await?.ok_or_else(|| StoreError::backend("user vanished after insert"))
    }

    async fn by_id(&self, id: Id) -> StoreResult<Option<UserAccount>> {
        self.user_where(by_id(oid(id))).await
    }

    async fn by_username(&self, username: &str) -> StoreResult<Option<UserAccount>> {
        self.user_where(doc! { "username": username }).await
    }

    async fn by_email(&self, email: &str) -> StoreResult<Option<UserAccount>> {
        self.user_where(doc! { "email": email }).await
    }

    async fn username_or_email_taken(&self, username: &str, email: &str) -> StoreResult<bool> {
        Ok(self.count(coll::USERS, q::username_or_email(username, email)).await? > 0)
    }

    async fn update_profile(&self, id: Id, update: ProfileUpdate) -> StoreResult<Option<(UserAccount, UserAccount)>> {
        let before = self
            .collection(coll::USERS)
            .find_one_and_update(by_id(oid(id)), q::profile_update(&update, now()))
            .return_document(ReturnDocument::Before)
            .await
            .map_err(conflict_on("email"))?;
        let Some(before) = before else {
            return Ok(None);
        };
        let before = decode::<UserDoc>(before)?.into_account();
        Ok(self.by_id(id).await?.map(|after| (before, after)))
    }

    async fn set_password_hash(&self, id: Id, hash: &str) -> StoreResult<()> {
        self.collection(coll::USERS)
            .update_one(by_id(oid(id)), q::password_update(hash, now()))
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn channel(&self, username: &str, viewer: Option<Id>) -> StoreResult<Option<(UserAccount, ChannelCounts)>> {
        let (filter, projection) = q::channel_owner(username);
        let found = self.collection(coll::USERS).find_one(filter).projection(projection).await.map_err(backend)?;
        let Some(found) = found else {
            return Ok(None);
        };
        let account = decode::<UserDoc>(found)?.into_account();
        let counts = self.channel_counts(account.user.id, viewer).await?;
        Ok(Some((account, counts)))
    }

    async fn channel_counts(&self, channel: Id, viewer: Option<Id>) -> StoreResult<ChannelCounts> {
        let (followers, following, viewer_follows) = q::channel_count_filters(oid(channel), viewer.map(oid));
        let viewer_subscribed = async {
            match viewer_follows {
                Some(filter) => Ok(self.count(coll::SUBSCRIPTIONS, filter).await? > 0),
                None => Ok(false),
            }
        };
        let (subscribers, subscribed_to, viewer_subscribed) = tokio::try_join!(
            self.count(coll::SUBSCRIPTIONS, followers),
            self.count(coll::SUBSCRIPTIONS, following),
            viewer_subscribed,
        )?;
        Ok(ChannelCounts {
            subscribers: i64::try_from(subscribers).unwrap_or(i64::MAX),
            subscribed_to: i64::try_from(subscribed_to).unwrap_or(i64::MAX),
            viewer_subscribed,
        })
    }
}

fn stored_session(session: &NewSession) -> bson::Bson {
    q::session(&session.jti, &session.token_hash, date(session.expires_at), now())
}

#[async_trait]
impl SessionRepo for MongoStore {
    async fn create(&self, session: NewSession, max: u32) -> StoreResult<()> {
        let update = q::add_session(stored_session(&session), max, now());
        let users = self.collection(coll::USERS);
        retry_transient(|| users.update_one(by_id(oid(session.user_id)), update.clone())).await.map_err(backend)?;
        Ok(())
    }

    async fn rotate(&self, jti: &str, token_hash: &str, next: NewSession) -> StoreResult<bool> {
        let mut filter = q::live_session(jti, token_hash, now());
        filter.insert("_id", oid(next.user_id));
        let update = q::replace_session(jti, stored_session(&next));
        let users = self.collection(coll::USERS);
        let result = retry_transient(|| users.update_one(filter.clone(), update.clone())).await.map_err(backend)?;
        Ok(result.modified_count == 1)
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
}
