//! MongoDB persistence of users, their refresh sessions (inside the user document) and channel counts.

use async_trait::async_trait;
use bson::oid::ObjectId;
use bson::{Document, doc};
use futures_util::TryStreamExt;
use mongodb::options::ReturnDocument;

use super::docs::{SessionDoc, UserDoc};
use super::queries::by_id;
use super::queries::users as q;
use super::{MongoStore, backend, coll, conflict_on, decode, is_conflict, now, oid, retry_transient};
use crate::domain::Id;
use crate::domain::user::{ChannelCounts, Identity, Session, UserAccount};
use crate::store::{NewSession, NewUser, ProfileUpdate, RefreshGrant, SessionRepo, StoreError, StoreResult, UserRepo};

impl MongoStore {
    /// Which identity a refused registration collides on, decided by asking who holds the username
    /// (error texts differ between servers, and some name no index).
    async fn identity_conflict(&self, username: &str) -> StoreError {
        match self.by_username(username).await {
            Ok(holder) => StoreError::Conflict { field: if holder.is_some() { "username" } else { "email" } },
            Err(e) => e,
        }
    }

    /// The `_id`s of the documents of `name` matching `filter`.
    pub(super) async fn ids_where(&self, name: &str, filter: Document) -> StoreResult<Vec<ObjectId>> {
        let found: Vec<Document> = self
            .collection(name)
            .find(filter)
            .projection(doc! { "_id": 1 })
            .await
            .map_err(backend)?
            .try_collect()
            .await
            .map_err(backend)?;
        Ok(found.iter().filter_map(|d| d.get_object_id("_id").ok()).collect())
    }

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

    async fn identity(&self, id: Id) -> StoreResult<Option<Identity>> {
        let users = self.collection(coll::USERS);
        let found = users.find_one(by_id(oid(id))).projection(doc! { "historyPaused": 1 }).await.map_err(backend)?;
        Ok(found.map(|user| Identity { id, history_paused: user.get_bool("historyPaused").unwrap_or(false) }))
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

    async fn delete_account(&self, id: Id) -> StoreResult<Vec<String>> {
        let user = oid(id);
        let Some(account) = self.by_id(id).await? else {
            return Ok(Vec::new());
        };
        let videos: Vec<Document> = self
            .collection(coll::VIDEOS)
            .find(doc! { "owner": user })
            .projection(doc! { "_id": 1, "videoKey": 1, "thumbnailKey": 1, "hlsKey": 1 })
            .await
            .map_err(backend)?
            .try_collect()
            .await
            .map_err(backend)?;
        let mut keys: Vec<String> = std::iter::once(account.avatar_key).chain(account.cover_image_key).collect();
        for video in &videos {
            let stored = ["videoKey", "thumbnailKey", "hlsKey"].iter().filter_map(|k| video.get_str(k).ok());
            keys.extend(stored.filter(|k| !k.is_empty()).map(str::to_owned));
        }
        // Videos first: from here on nothing of the account is reachable through a video, and every
        // later step can be repeated by a retry; the user document goes last.
        let video_ids: Vec<ObjectId> = videos.iter().filter_map(|v| v.get_object_id("_id").ok()).collect();
        self.delete_videos(&video_ids).await?;
        let comments = self.ids_where(coll::COMMENTS, doc! { "owner": user }).await?;
        let tweets = self.ids_where(coll::TWEETS, doc! { "owner": user }).await?;
        for (name, filter) in q::account_cascade(user, &comments, &tweets) {
            self.collection(name).delete_many(filter).await.map_err(backend)?;
        }
        keys.retain(|key| !key.is_empty());
        Ok(keys)
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
