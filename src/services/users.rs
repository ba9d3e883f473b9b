//! Accounts: registration, login, refresh-session rotation, logout, password and profile changes,
//! devices (sessions), account deletion, channel profiles and watch history (docs/api.md §3.3, §1.7, §1.8).

use sha2::{Digest, Sha256};

use super::Incoming;
use super::direct::scope_of;
use super::validate::{non_empty_if_present, password_length, require_all};
use super::{ServiceError, Services};
use crate::auth::TokenKind;
use crate::domain::Id;
use crate::domain::user::{ChannelProfile, Identity, Session, User, UserAccount};
use crate::domain::video::WatchedVideo;
use crate::media;
use crate::store::{MediaRef, NewSession, NewUser, ProfileUpdate, RefreshGrant, StoreError};

const AVATAR_FAILED: &str = "Error while uploading on avatar";
const COVER_FAILED: &str = "Error while uploading on cover image";

pub struct Registration {
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub avatar: Option<Incoming>,
    pub cover_image: Option<Incoming>,
}

pub struct Credentials {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
}

/// The longest `User-Agent` a session keeps, in characters.
const USER_AGENT_MAX_CHARS: usize = 200;

pub struct AccountUpdate {
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub avatar: Option<Incoming>,
    pub cover_image: Option<Incoming>,
}

/// A fresh pair of tokens for one refresh session.
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn normalise(value: &str) -> String {
    value.trim().to_lowercase()
}

fn email_conflict(e: StoreError, message: &'static str) -> ServiceError {
    match e {
        StoreError::Conflict { .. } => ServiceError::conflict(message),
        other => other.into(),
    }
}

impl Services {
    /// The caller an access token identifies (docs/api.md §1.7): `Unauthorized request` without
    /// a token, the failed verification step's message, or `Invalid Access Token` when the token's
    /// user no longer exists.
    pub async fn caller(&self, access_token: Option<&str>) -> Result<Identity, ServiceError> {
        Ok(self.caller_session(access_token).await?.0)
    }

    /// [`Self::caller`] with the session its access token was issued for (`None` for tokens issued
    /// before sessions had ids).
    pub async fn caller_session(&self, access_token: Option<&str>) -> Result<(Identity, Option<Id>), ServiceError> {
        let token = access_token.ok_or_else(|| ServiceError::unauthorized("Unauthorized request"))?;
        let verified = self.tokens.verify(token, TokenKind::Access).map_err(|e| ServiceError::unauthorized(e.0))?;
        let account = self.store.users.identity(verified.user_id).await?;
        let account = account.ok_or_else(|| ServiceError::unauthorized("Invalid Access Token"))?;
        Ok((account, verified.session))
    }

    /// `GET /users/current-user`: the caller's `User` with its history ids.
    pub async fn current_user(&self, caller: &Identity) -> Result<User, ServiceError> {
        Ok(self.account(caller).await?.user)
    }

    /// The caller's whole account; `Invalid Access Token` when it was deleted meanwhile.
    async fn account(&self, caller: &Identity) -> Result<UserAccount, ServiceError> {
        let account = self.store.users.by_id(caller.id).await?;
        account.ok_or_else(|| ServiceError::unauthorized("Invalid Access Token"))
    }

    /// An optional caller: anonymous without a token when PUBLIC_READS is on, else as [`Self::caller`].
    pub async fn viewer(&self, access_token: Option<&str>) -> Result<Option<Identity>, ServiceError> {
        match access_token {
            None if self.config.public_reads => Ok(None),
            token => self.caller(token).await.map(Some),
        }
    }

    pub async fn register(&self, input: Registration) -> Result<User, ServiceError> {
        require_all(
            &[
                ("fullName", input.full_name.as_deref()),
                ("email", input.email.as_deref()),
                ("username", input.username.as_deref()),
                ("password", input.password.as_deref()),
            ],
            "All fields are required",
        )?;
        let password = input.password.unwrap_or_default();
        password_length("password", &password)?;
        let username = normalise(&input.username.unwrap_or_default());
        let email = normalise(&input.email.unwrap_or_default());
        const TAKEN: &str = "User with email or username already exists";
        if self.store.users.username_or_email_taken(&username, &email).await? {
            return Err(ServiceError::conflict(TAKEN));
        }
        let avatar = input.avatar.ok_or_else(|| ServiceError::invalid("Avatar file is required"))?;
        let avatar = self.store_image(avatar, AVATAR_FAILED, "register").await?;
        let cover_image = match input.cover_image {
            None => None,
            Some(cover) => match self.store_image(cover, COVER_FAILED, "register").await {
                Ok(stored) => Some(stored),
                Err(e) => {
                    self.discard([avatar]).await;
                    return Err(e);
                }
            },
        };
        let stored: Vec<MediaRef> = std::iter::once(avatar.clone()).chain(cover_image.clone()).collect();
        let create = async {
            let password_hash = self.hasher.hash(password).await.map_err(ServiceError::internal)?;
            let user = NewUser {
                username,
                email,
                full_name: input.full_name.unwrap_or_default(),
                avatar,
                cover_image,
                password_hash,
            };
            self.store.users.create(user).await.map_err(|e| email_conflict(e, TAKEN))
        };
        Ok(self.commit_or_discard(stored, create).await?.user)
    }

    /// Logs in and opens a session for the device named by `user_agent`.
    pub async fn login(&self, input: Credentials, user_agent: &str) -> Result<(User, TokenPair), ServiceError> {
        let username = input.username.filter(|u| !u.is_empty()).map(|u| normalise(&u));
        let email = input.email.filter(|e| !e.is_empty()).map(|e| normalise(&e));
        if username.is_none() && email.is_none() {
            return Err(ServiceError::invalid("username or email is required"));
        }
        let password =
            input.password.filter(|p| !p.is_empty()).ok_or_else(|| ServiceError::invalid("Password is required"))?;
        let mut account = None;
        if let Some(username) = &username {
            account = self.store.users.by_username(username).await?;
        }
        if account.is_none()
            && let Some(email) = &email
        {
            account = self.store.users.by_email(email).await?;
        }
        let account = account.ok_or_else(|| ServiceError::not_found("User does not exist"))?;
        if !self.hasher.verify(password, account.password_hash.clone()).await.map_err(ServiceError::internal)? {
            return Err(ServiceError::unauthorized("Invalid user credentials"));
        }
        let tokens = self.open_session(&account.user, user_agent).await?;
        Ok((account.user, tokens))
    }

    async fn open_session(&self, user: &User, user_agent: &str) -> Result<TokenPair, ServiceError> {
        let (refresh_token, grant) = self.new_grant(user.id)?;
        let session = NewSession {
            id: Id::generate(),
            user_id: user.id,
            user_agent: user_agent.chars().take(USER_AGENT_MAX_CHARS).collect(),
            grant,
        };
        let id = session.id;
        self.store.sessions.create(session, self.config.refresh_sessions_max).await?;
        let access_token = self.tokens.issue_access(user, id).map_err(ServiceError::internal)?;
        Ok(TokenPair { access_token, refresh_token })
    }

    /// A new refresh token for `user` and the grant that stores it (only its hash is kept).
    fn new_grant(&self, user: Id) -> Result<(String, RefreshGrant), ServiceError> {
        let jti = hex::encode(rand::random::<[u8; 16]>());
        let (refresh_token, expires_at) = self.tokens.issue_refresh(user, &jti).map_err(ServiceError::internal)?;
        let grant = RefreshGrant { jti, token_hash: hash_token(&refresh_token), expires_at };
        Ok((refresh_token, grant))
    }

    /// Rotates the refresh session: the presented token is consumed and a new pair issued.
    pub async fn refresh(&self, token: Option<String>) -> Result<TokenPair, ServiceError> {
        let token =
            token.filter(|t| !t.is_empty()).ok_or_else(|| ServiceError::unauthorized("unauthorized request"))?;
        let verified = self.tokens.verify(&token, TokenKind::Refresh).map_err(|e| ServiceError::unauthorized(e.0))?;
        let account = self.store.users.by_id(verified.user_id).await?;
        let account = account.ok_or_else(|| ServiceError::unauthorized("Invalid refresh token"))?;
        let (refresh_token, next) = self.new_grant(account.user.id)?;
        let old_jti = verified.jti.unwrap_or_default();
        let session = self.store.sessions.rotate(account.user.id, &old_jti, &hash_token(&token), next).await?;
        let session = session.ok_or_else(|| ServiceError::unauthorized("Refresh token is expired or used"))?;
        let access_token = self.tokens.issue_access(&account.user, session).map_err(ServiceError::internal)?;
        Ok(TokenPair { access_token, refresh_token })
    }

    /// Ends the session of the presented refresh token, or every session of the caller without one.
    pub async fn logout(&self, caller: &Identity, token: Option<String>) -> Result<(), ServiceError> {
        let own_session = token.as_deref().and_then(|t| {
            let verified = self.tokens.verify(t, TokenKind::Refresh).ok()?;
            (verified.user_id == caller.id).then(|| (verified.jti.unwrap_or_default(), hash_token(t)))
        });
        if let Some((jti, hash)) = own_session
            && self.store.sessions.delete(caller.id, &jti, &hash).await?
        {
            return Ok(());
        }
        self.store.sessions.delete_all(caller.id).await?;
        Ok(())
    }

    pub async fn change_password(
        &self,
        caller: &Identity,
        old_password: Option<String>,
        new_password: Option<String>,
    ) -> Result<(), ServiceError> {
        require_all(
            &[("oldPassword", old_password.as_deref()), ("newPassword", new_password.as_deref())],
            "All fields are required",
        )?;
        let new_password = new_password.unwrap_or_default();
        password_length("newPassword", &new_password)?;
        let old_ok = self
            .hasher
            .verify(old_password.unwrap_or_default(), self.account(caller).await?.password_hash)
            .await
            .map_err(ServiceError::internal)?;
        if !old_ok {
            return Err(ServiceError::invalid("Invalid old password"));
        }
        let hash = self.hasher.hash(new_password).await.map_err(ServiceError::internal)?;
        self.store.users.set_password_hash(caller.id, &hash).await?;
        Ok(())
    }

    /// Partial update of name, email and images; new media first, then the record, then old media deleted.
    pub async fn update_account(&self, caller: &Identity, input: AccountUpdate) -> Result<User, ServiceError> {
        if input.full_name.is_none() && input.email.is_none() && input.avatar.is_none() && input.cover_image.is_none() {
            return Err(ServiceError::invalid("All fields are required"));
        }
        non_empty_if_present(
            &[("fullName", input.full_name.as_deref()), ("email", input.email.as_deref())],
            Some("All fields are required"),
        )?;
        let email = input.email.map(|e| normalise(&e));
        if let Some(email) = &email
            && let Some(other) = self.store.users.by_email(email).await?
            && other.user.id != caller.id
        {
            return Err(ServiceError::conflict("User with this email already exists"));
        }
        let mut update = ProfileUpdate { full_name: input.full_name, email, ..ProfileUpdate::default() };
        let mut stored = Vec::new();
        let scope = scope_of(Some(caller.id));
        if let Some(avatar) = input.avatar {
            let media = self.store_image(avatar, AVATAR_FAILED, &scope).await?;
            stored.push(media.clone());
            update.avatar = Some(media);
        }
        if let Some(cover) = input.cover_image {
            match self.store_image(cover, COVER_FAILED, &scope).await {
                Ok(media) => {
                    stored.push(media.clone());
                    update.cover_image = Some(media);
                }
                Err(e) => {
                    self.discard(stored).await;
                    return Err(e);
                }
            }
        }
        self.apply_profile_update(caller, update, stored).await
    }

    /// Replaces the avatar (`cover == false`) or the cover image.
    pub async fn replace_image(
        &self,
        caller: &Identity,
        file: Option<Incoming>,
        cover: bool,
    ) -> Result<User, ServiceError> {
        let (missing, failed) = if cover {
            ("Cover image file is missing", COVER_FAILED)
        } else {
            ("Avatar file is missing", AVATAR_FAILED)
        };
        let file = file.ok_or_else(|| ServiceError::invalid(missing))?;
        let media = self.store_image(file, failed, &scope_of(Some(caller.id))).await?;
        let update = if cover {
            ProfileUpdate { cover_image: Some(media.clone()), ..ProfileUpdate::default() }
        } else {
            ProfileUpdate { avatar: Some(media.clone()), ..ProfileUpdate::default() }
        };
        self.apply_profile_update(caller, update, vec![media]).await
    }

    async fn apply_profile_update(
        &self,
        caller: &Identity,
        update: ProfileUpdate,
        stored: Vec<MediaRef>,
    ) -> Result<User, ServiceError> {
        let replaces_avatar = update.avatar.is_some();
        let replaces_cover = update.cover_image.is_some();
        let write = async {
            self.store
                .users
                .update_profile(caller.id, update)
                .await
                .map_err(|e| email_conflict(e, "User with this email already exists"))?
                .ok_or_else(|| ServiceError::unauthorized("Invalid Access Token"))
        };
        let (before, after) = self.commit_or_discard(stored, write).await?;
        let mut replaced = Vec::new();
        if replaces_avatar {
            replaced.push(MediaRef { url: before.user.avatar, key: before.avatar_key });
        }
        if replaces_cover && let Some(key) = before.cover_image_key {
            replaced.push(MediaRef { url: before.user.cover_image, key });
        }
        self.discard(replaced).await;
        Ok(after.user)
    }

    pub async fn channel_profile(
        &self,
        raw_username: &str,
        viewer: Option<&Identity>,
    ) -> Result<ChannelProfile, ServiceError> {
        let username = normalise(raw_username);
        if username.is_empty() {
            return Err(ServiceError::invalid("username is missing"));
        }
        let viewer_id = viewer.map(|v| v.id);
        let found = self.store.users.channel(&username, viewer_id).await?;
        let (channel, counts) = found.ok_or_else(|| ServiceError::not_found("channel does not exists"))?;
        let channel = channel.user;
        Ok(ChannelProfile {
            id: channel.id,
            full_name: channel.full_name,
            username: channel.username,
            subscribers_count: counts.subscribers,
            channels_subscribed_to_count: counts.subscribed_to,
            is_subscribed: counts.viewer_subscribed,
            avatar: channel.avatar,
            cover_image: channel.cover_image,
            email: viewer_id.map(|_| channel.email),
        })
    }

    /// The caller's logged-in devices, newest first; `current` marks the one of `current`.
    pub async fn sessions(&self, caller: &Identity, current: Option<Id>) -> Result<Vec<Session>, ServiceError> {
        let mut sessions = self.store.sessions.list(caller.id).await?;
        for session in &mut sessions {
            session.current = Some(session.id) == current;
        }
        Ok(sessions)
    }

    /// Signs one device out: its refresh token stops working (access tokens already issued run out).
    pub async fn revoke_session(&self, caller: &Identity, session: Id) -> Result<(), ServiceError> {
        if !self.store.sessions.revoke(caller.id, session).await? {
            return Err(ServiceError::not_found("Session not found"));
        }
        Ok(())
    }

    /// Deletes the caller's account and everything it owns, then its media (docs/api.md §3.3.10).
    pub async fn delete_account(&self, caller: &Identity, password: Option<String>) -> Result<(), ServiceError> {
        let password =
            password.filter(|p| !p.is_empty()).ok_or_else(|| ServiceError::invalid("Password is required"))?;
        let hash = self.account(caller).await?.password_hash;
        if !self.hasher.verify(password, hash).await.map_err(ServiceError::internal)? {
            return Err(ServiceError::invalid("Invalid password"));
        }
        let keys = self.store.users.delete_account(caller.id).await?;
        // Media the deletion could not remove is unreferenced now: the reconciler sweeps it later.
        media::delete_quietly(self.media.as_ref(), keys).await;
        Ok(())
    }

    pub async fn watch_history(&self, caller: &Identity) -> Result<Vec<WatchedVideo>, ServiceError> {
        Ok(self.store.history.watch_history(caller.id).await?)
    }

    pub async fn clear_history(&self, caller: &Identity) -> Result<(), ServiceError> {
        Ok(self.store.history.clear_history(caller.id).await?)
    }

    /// Removes one video from the caller's history; also fine when it is not there or does not exist.
    pub async fn forget_watch(&self, caller: &Identity, video: Id) -> Result<(), ServiceError> {
        Ok(self.store.history.forget_watch(caller.id, video).await?)
    }

    /// Pauses (`true`) or resumes history recording; returns the new state.
    pub async fn pause_history(&self, caller: &Identity, paused: bool) -> Result<bool, ServiceError> {
        if !self.store.history.set_history_paused(caller.id, paused).await? {
            return Err(ServiceError::unauthorized("Invalid Access Token"));
        }
        Ok(paused)
    }
}
