//! MongoDB persistence of user accounts: registration, lookups, profile and password, the channel
//! profile's counts, and account deletion.

use async_trait::async_trait;
use bson::{Document, doc};
use futures_util::TryStreamExt;
use mongodb::options::ReturnDocument;

use super::docs::UserDoc;
use super::queries::by_id;
use super::queries::moderation as mq;
use super::queries::notifications::Touched;
use super::queries::users as q;
use super::{MongoStore, backend, coll, conflict_on, decode, is_conflict, now, oid, retry_transient};
use crate::domain::Id;
use crate::domain::user::{ChannelCounts, Identity, Role, RoleChange, RoleGrant, Standing, UserAccount};
use crate::store::records::RecordKind;
use crate::store::{NewUser, ProfileUpdate, StoreError, StoreResult, UserRepo};

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

    async fn identity(&self, id: Id) -> StoreResult<Option<Standing>> {
        let users = self.collection(coll::USERS);
        let found = users.find_one(by_id(oid(id))).projection(q::standing_fields()).await.map_err(backend)?;
        Ok(found.map(|user| standing_of(id, &user)))
    }

    async fn set_suspension(&self, id: Id, reason: Option<String>) -> StoreResult<bool> {
        // The account first, so its refusals start at once; then what it made, each step
        // idempotent, so a retry after a failure part-way finishes the job.
        let owner = oid(id);
        let marked = self
            .collection(coll::USERS)
            .update_one(by_id(owner), q::suspension(reason.as_deref()))
            .await
            .map_err(backend)?;
        if marked.matched_count == 0 {
            return Ok(false);
        }
        let unsuspended = reason.is_none();
        let (videos, posts) = match reason {
            Some(_) => (mq::suspended_videos(owner), mq::suspended_posts(owner)),
            None => (mq::unsuspended_videos(owner), mq::unsuspended_posts(owner)),
        };
        let (filter, update) = videos;
        self.collection(coll::VIDEOS).update_many(filter, update).await.map_err(backend)?;
        self.settle_videos(doc! { "owner": owner }).await?;
        for collection in [coll::COMMENTS, coll::TWEETS] {
            let (filter, update) = posts.clone();
            self.collection(collection).update_many(filter, update).await.map_err(backend)?;
        }
        if unsuspended {
            // Comments on the videos of those who block the user stay hidden.
            let cursor = self.collection(coll::BLOCKS).find(doc! { "blocked": owner }).await.map_err(backend)?;
            let blocks: Vec<Document> = cursor.try_collect().await.map_err(backend)?;
            for blocker in blocks.iter().filter_map(|b| b.get_object_id("blocker").ok()) {
                self.set_comments_hidden(blocker, owner, false).await?;
            }
        }
        self.settle_comments(doc! { "owner": owner }).await?;
        self.refresh_notifications(Touched::Actor(owner)).await?;
        Ok(true)
    }

    async fn set_role(&self, id: Id, role: Role) -> StoreResult<Option<RoleChange>> {
        let users = self.collection(coll::USERS);
        let before = users
            .find_one_and_update(by_id(oid(id)), q::role_update(role, now()))
            .projection(doc! { "username": 1, "role": 1 })
            .return_document(ReturnDocument::Before)
            .await
            .map_err(backend)?;
        let Some(before) = before else {
            return Ok(None);
        };
        let demoted = Role::from_stored(before.get_str("role").ok()) == Role::Admin && role != Role::Admin;
        if demoted && self.count(coll::USERS, q::admins()).await? == 0 {
            // Without a transaction, the change is made and then undone if it left no admin: two
            // admins demoting each other at once both see none left, and both are undone.
            users.update_one(q::with_role(oid(id), role), q::role_update(Role::Admin, now())).await.map_err(backend)?;
            return Ok(Some(RoleChange::LastAdmin));
        }
        let username = before.get_str("username").map_err(StoreError::backend)?.to_owned();
        Ok(Some(RoleChange::Granted(RoleGrant { id, username, role })))
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
        let Some(after) = self.by_id(id).await? else { return Ok(None) };
        let user = &after.user;
        if (&user.username, &user.full_name) != (&before.user.username, &before.user.full_name) {
            self.reindex_user(oid(id), &user.username, &user.full_name).await?;
        }
        Ok(Some((before, after)))
    }

    async fn set_password_hash(&self, id: Id, hash: &str) -> StoreResult<()> {
        self.collection(coll::USERS)
            .update_one(by_id(oid(id)), q::password_update(hash, now()))
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn channel(&self, username: &str, viewer: Option<Id>) -> StoreResult<Option<(UserAccount, ChannelCounts)>> {
        // One round trip either way: the account alone, or with the viewer's subscription joined.
        let found = match viewer {
            None => {
                let (filter, projection) = q::channel_owner(username);
                self.collection(coll::USERS).find_one(filter).projection(projection).await.map_err(backend)?
            }
            Some(viewer) => self.aggregate(coll::USERS, q::channel_profile(username, oid(viewer))).await?.pop(),
        };
        let Some(found) = found else {
            return Ok(None);
        };
        let (subscribers, subscribed_to) = subscription_counts(&found);
        let viewer_subscribed = found.get_array(q::VIEWER_SUBSCRIPTION).is_ok_and(|joined| !joined.is_empty());
        let account = decode::<UserDoc>(found)?.into_account();
        Ok(Some((account, ChannelCounts { subscribers, subscribed_to, viewer_subscribed })))
    }

    async fn channel_counts(&self, channel: Id, viewer: Option<Id>) -> StoreResult<ChannelCounts> {
        let counts = async {
            self.collection(coll::USERS)
                .find_one(by_id(oid(channel)))
                .projection(q::channel_count_fields())
                .await
                .map_err(backend)
        };
        let (found, viewer_subscribed) = tokio::try_join!(counts, self.viewer_subscribed(channel, viewer))?;
        let (subscribers, subscribed_to) = found.as_ref().map_or((0, 0), subscription_counts);
        Ok(ChannelCounts { subscribers, subscribed_to, viewer_subscribed })
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
        // The videos first, each with what a deleted video takes: from here on nothing of the account
        // is reachable through a video. Then the rest the registry removes with an account, the user
        // document last: until then the account can log in and retry, and every step repeats harmlessly.
        let video_ids = videos.iter().filter_map(|v| v.get_object_id("_id").ok()).collect();
        self.delete_cascade(RecordKind::Videos, video_ids).await?;
        self.delete_cascade(RecordKind::Users, vec![user]).await?;
        keys.retain(|key| !key.is_empty());
        Ok(keys)
    }
}

impl MongoStore {
    /// Whether `viewer` subscribes to `channel` (false for an anonymous viewer).
    async fn viewer_subscribed(&self, channel: Id, viewer: Option<Id>) -> StoreResult<bool> {
        match q::viewer_subscription(oid(channel), viewer.map(oid)) {
            Some(filter) => Ok(self.count(coll::SUBSCRIPTIONS, filter).await? > 0),
            None => Ok(false),
        }
    }
}

/// The standing of user `id` from its document's [`q::standing_fields`].
pub(super) fn standing_of(id: Id, user: &Document) -> Standing {
    Standing {
        identity: Identity {
            id,
            history_paused: user.get_bool("historyPaused").unwrap_or(false),
            role: Role::from_stored(user.get_str("role").ok()),
        },
        suspended_reason: user.get_str("suspendedReason").ok().map(str::to_owned),
    }
}

/// A user document's stored subscriber and subscription counts.
fn subscription_counts(user: &Document) -> (i64, i64) {
    let count = |field: &str| user.get_i64(field).or_else(|_| user.get_i32(field).map(i64::from)).unwrap_or(0).max(0);
    (count("subscribersCount"), count("subscribedToCount"))
}
