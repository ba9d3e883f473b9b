//! Playlists (docs/api.md §3.9): owner-only edits; videos shown as the viewer may see them.

use super::validate::{max_chars, non_empty_if_present, require_all};
use super::{ServiceError, Services};
use crate::domain::Id;
use crate::domain::ownership::Owned;
use crate::domain::social::{Playlist, PlaylistRecord};
use crate::domain::user::Identity;

impl Services {
    fn check_playlist_lengths(&self, name: Option<&str>, description: Option<&str>) -> Result<(), ServiceError> {
        max_chars("name", name, self.config.limits.playlist_name_chars)?;
        max_chars("description", description, self.config.limits.description_chars)
    }

    pub async fn create_playlist(
        &self,
        caller: &Identity,
        name: Option<&str>,
        description: Option<&str>,
    ) -> Result<Playlist, ServiceError> {
        require_all(&[("name", name), ("description", description)], "All fields are required")?;
        self.check_playlist_lengths(name, description)?;
        let id =
            self.store.playlists.insert(caller.id, name.unwrap_or_default(), description.unwrap_or_default()).await?;
        self.playlist(id, Some(caller.id)).await
    }

    /// A playlist as `viewer` sees it: only visible videos, totals over those.
    pub async fn playlist(&self, id: Id, viewer: Option<Id>) -> Result<Playlist, ServiceError> {
        let record =
            self.store.playlists.get(id).await?.ok_or_else(|| ServiceError::not_found("Playlist not found"))?;
        self.resolve_playlist(record, viewer).await
    }

    async fn resolve_playlist(&self, record: PlaylistRecord, viewer: Option<Id>) -> Result<Playlist, ServiceError> {
        let videos = self.store.videos.visible_by_ids(&record.video_ids, viewer).await?;
        Ok(Playlist::from_record(record, videos))
    }

    pub async fn user_playlists(&self, user: Id, viewer: Option<Id>) -> Result<Vec<Playlist>, ServiceError> {
        self.existing_user(user, "User not found").await?;
        let mut playlists = Vec::new();
        for record in self.store.playlists.by_owner(user).await? {
            playlists.push(self.resolve_playlist(record, viewer).await?);
        }
        Ok(playlists)
    }

    /// The caller's own playlist: `NotFound` when missing, `Forbidden` for another owner.
    pub async fn owned_playlist(&self, caller: &Identity, id: Id) -> Result<Owned<PlaylistRecord>, ServiceError> {
        let record =
            self.store.playlists.get(id).await?.ok_or_else(|| ServiceError::not_found("Playlist not found"))?;
        Owned::check(record, caller.id).ok_or_else(|| ServiceError::forbidden("You are not the owner of this playlist"))
    }

    pub async fn update_playlist(
        &self,
        caller: &Identity,
        playlist: Owned<PlaylistRecord>,
        name: Option<&str>,
        description: Option<&str>,
    ) -> Result<Playlist, ServiceError> {
        let id = playlist.id;
        if name.is_none() && description.is_none() {
            return Err(ServiceError::invalid("At least one of name or description is required"));
        }
        non_empty_if_present(&[("name", name), ("description", description)], None)?;
        self.check_playlist_lengths(name, description)?;
        self.store.playlists.update(id, name, description).await?;
        self.playlist(id, Some(caller.id)).await
    }

    pub async fn delete_playlist(&self, playlist: Owned<PlaylistRecord>) -> Result<(), ServiceError> {
        self.store.playlists.delete(playlist.id).await?;
        Ok(())
    }

    /// Adds a video the caller can see; idempotent.
    pub async fn add_to_playlist(
        &self,
        caller: &Identity,
        playlist: Owned<PlaylistRecord>,
        video: Id,
    ) -> Result<Playlist, ServiceError> {
        let playlist = playlist.id;
        self.visible_video(video, Some(caller.id)).await?;
        self.store.playlists.add_video(playlist, video).await?;
        self.playlist(playlist, Some(caller.id)).await
    }

    /// Removes a video that exists (visible or not, so owners can prune ones made private); idempotent.
    pub async fn remove_from_playlist(
        &self,
        caller: &Identity,
        playlist: Owned<PlaylistRecord>,
        video: Id,
    ) -> Result<Playlist, ServiceError> {
        let playlist = playlist.id;
        self.store.videos.get(video).await?.ok_or_else(|| ServiceError::not_found("Video not found"))?;
        self.store.playlists.remove_video(playlist, video).await?;
        self.playlist(playlist, Some(caller.id)).await
    }
}
