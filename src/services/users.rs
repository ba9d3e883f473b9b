//! Accounts: registration, the caller's profile and images, channel profiles, password changes and
//! account deletion (docs/api.md §3.3).

use super::Incoming;
use super::uploads::scope_of;
use super::validate::{non_empty_if_present, password_length, require_all};
use super::{ServiceError, Services};
use crate::domain::Id;
use crate::domain::user::{ChannelProfile, Identity, User, UserAccount};
use crate::media;
use crate::store::{MediaRef, NewUser, ProfileUpdate, StoreError};

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

pub struct AccountUpdate {
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub avatar: Option<Incoming>,
    pub cover_image: Option<Incoming>,
}

/// Usernames and emails as stored and looked up: trimmed and lowercased.
pub(super) fn normalise(value: &str) -> String {
    value.trim().to_lowercase()
}

fn email_conflict(e: StoreError, message: &'static str) -> ServiceError {
    match e {
        StoreError::Conflict { .. } => ServiceError::conflict(message),
        other => other.into(),
    }
}

impl Services {
    /// `GET /users/current-user`: the caller's `User` with its history ids.
    /// The caller's whole account; `Invalid Access Token` when it was deleted meanwhile.
    async fn account(&self, caller: &Identity) -> Result<UserAccount, ServiceError> {
        let account = self.store.users.by_id(caller.id).await?;
        account.ok_or_else(|| ServiceError::unauthorized("Invalid Access Token"))
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
        // A suspended account has no channel for anyone (docs/api.md §3.15.3).
        let (channel, counts) = found
            .filter(|(account, _)| account.suspended_reason.is_none())
            .ok_or_else(|| ServiceError::not_found("channel does not exists"))?;
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

    /// `NotFound` with `message` unless the user exists.
    pub async fn existing_user(&self, id: Id, message: &'static str) -> Result<UserAccount, ServiceError> {
        self.store.users.by_id(id).await?.ok_or_else(|| ServiceError::not_found(message))
    }
}
