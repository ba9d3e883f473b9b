//! Playlists (docs/api.md §3.9).

use axum::extract::State;
use serde::Deserialize;
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};

use super::shared::UserPath;
use crate::config::Limits;
use crate::domain::Id;
use crate::domain::social::Playlist;
use crate::http::AppState;
use crate::http::envelope::{ApiResponse, Empty, Envelope};
use crate::http::error::AppError;
use crate::http::extract::{AuthUser, MaybeAuthUser, PathParams};
use crate::http::input::{LazyBody, Shape, trimmed};
use crate::http::openapi::Given::Text;
use crate::http::openapi::{
    AuthErrors, BaseErrors, BodyErrors, NotFoundErrors, OwnerErrors, PathId, ShapeRule, description,
    optional_description, text,
};

#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct PlaylistBody {
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = playlist_name, required = true)]
    pub name: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = description, required = true)]
    pub description: Option<String>,
}

impl Shape for PlaylistBody {}

#[utoipa::path(
    post,
    path = "/api/v1/playlist",
    tag = "playlists",
    request_body(content((PlaylistBody = "application/json"))),
    responses(
        (status = 201, description = "Success", body = Envelope<Playlist>),
        BaseErrors, AuthErrors, OwnerErrors, BodyErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn create_playlist(
    State(state): State<AppState>,
    caller: AuthUser,
    body: LazyBody,
) -> Result<ApiResponse<Playlist>, AppError> {
    let PlaylistBody { name, description } = body.read(&state).await?;
    let playlist = state.services.create_playlist(&caller.0, name.as_deref(), description.as_deref()).await?;
    Ok(ApiResponse::created("Playlist created successfully", playlist))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[serde(rename_all = "camelCase")]
pub struct PlaylistPath {
    /// 24-hex ObjectId
    #[param(value_type = PathId)]
    pub playlist_id: Id,
}

#[utoipa::path(
    get,
    path = "/api/v1/playlist/{playlistId}",
    tag = "playlists",
    params(PlaylistPath),
    responses(
        (status = 200, description = "Success", body = Envelope<Playlist>),
        BaseErrors, AuthErrors, NotFoundErrors
    ),
    security((), ("bearer" = []), ("cookie" = []))
)]
pub async fn get_playlist(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    PathParams(PlaylistPath { playlist_id }): PathParams<PlaylistPath>,
) -> Result<ApiResponse<Playlist>, AppError> {
    let playlist = state.services.playlist(playlist_id, viewer.id()).await?;
    Ok(ApiResponse::ok("Playlist fetched successfully", playlist))
}

#[utoipa::path(
    get,
    path = "/api/v1/playlist/user/{userId}",
    tag = "playlists",
    params(UserPath),
    responses(
        (status = 200, description = "Success", body = Envelope<Vec<Playlist>>),
        BaseErrors, AuthErrors, NotFoundErrors
    ),
    security((), ("bearer" = []), ("cookie" = []))
)]
pub async fn user_playlists(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    PathParams(UserPath { user_id }): PathParams<UserPath>,
) -> Result<ApiResponse<Vec<Playlist>>, AppError> {
    let playlists = state.services.user_playlists(user_id, viewer.id()).await?;
    Ok(ApiResponse::ok("User playlists fetched successfully", playlists))
}

/// At least one of `name`, `description`.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct PlaylistPatchBody {
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = optional_playlist_name)]
    pub name: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = optional_description)]
    pub description: Option<String>,
}

impl Shape for PlaylistPatchBody {}

#[utoipa::path(
    patch,
    path = "/api/v1/playlist/{playlistId}",
    tag = "playlists",
    params(PlaylistPath),
    request_body(content((PlaylistPatchBody = "application/json"))),
    responses(
        (status = 200, description = "Success", body = Envelope<Playlist>),
        BaseErrors, AuthErrors, OwnerErrors, NotFoundErrors, BodyErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn update_playlist(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(PlaylistPath { playlist_id }): PathParams<PlaylistPath>,
    body: LazyBody,
) -> Result<ApiResponse<Playlist>, AppError> {
    let owned = state.services.owned_playlist(&caller.0, playlist_id).await?;
    let PlaylistPatchBody { name, description } = body.read(&state).await?;
    let playlist = state.services.update_playlist(&caller.0, owned, name.as_deref(), description.as_deref()).await?;
    Ok(ApiResponse::ok("Playlist updated successfully", playlist))
}

#[utoipa::path(
    delete,
    path = "/api/v1/playlist/{playlistId}",
    tag = "playlists",
    params(PlaylistPath),
    responses(
        (status = 200, description = "Success", body = Envelope<Empty>),
        BaseErrors, AuthErrors, OwnerErrors, NotFoundErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn delete_playlist(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(PlaylistPath { playlist_id }): PathParams<PlaylistPath>,
) -> Result<ApiResponse<Empty>, AppError> {
    let playlist = state.services.owned_playlist(&caller.0, playlist_id).await?;
    state.services.delete_playlist(playlist).await?;
    Ok(ApiResponse::ok("Playlist deleted successfully", Empty {}))
}

/// `/playlist/add|remove/:videoId/:playlistId`: the video id first (docs/api.md §2 #38).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[serde(rename_all = "camelCase")]
pub struct PlaylistVideoPath {
    /// 24-hex ObjectId
    #[param(value_type = PathId)]
    pub video_id: Id,
    /// 24-hex ObjectId
    #[param(value_type = PathId)]
    pub playlist_id: Id,
}

#[utoipa::path(
    patch,
    path = "/api/v1/playlist/add/{videoId}/{playlistId}",
    tag = "playlists",
    params(PlaylistVideoPath),
    responses(
        (status = 200, description = "Success", body = Envelope<Playlist>),
        BaseErrors, AuthErrors, OwnerErrors, NotFoundErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn add_video(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(PlaylistVideoPath { video_id, playlist_id }): PathParams<PlaylistVideoPath>,
) -> Result<ApiResponse<Playlist>, AppError> {
    let playlist = state.services.owned_playlist(&caller.0, playlist_id).await?;
    let playlist = state.services.add_to_playlist(&caller.0, playlist, video_id).await?;
    Ok(ApiResponse::ok("Video added to playlist successfully", playlist))
}

#[utoipa::path(
    patch,
    path = "/api/v1/playlist/remove/{videoId}/{playlistId}",
    tag = "playlists",
    params(PlaylistVideoPath),
    responses(
        (status = 200, description = "Success", body = Envelope<Playlist>),
        BaseErrors, AuthErrors, OwnerErrors, NotFoundErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn remove_video(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(PlaylistVideoPath { video_id, playlist_id }): PathParams<PlaylistVideoPath>,
) -> Result<ApiResponse<Playlist>, AppError> {
    let playlist = state.services.owned_playlist(&caller.0, playlist_id).await?;
    let playlist = state.services.remove_from_playlist(&caller.0, playlist, video_id).await?;
    Ok(ApiResponse::ok("Video removed from playlist successfully", playlist))
}

// ---- Schema rules of the shapes above ----

fn playlist_name() -> Object {
    text(false, Some(Limits::DEFAULT.playlist_name_chars))
}

fn optional_playlist_name() -> Object {
    text(true, Some(Limits::DEFAULT.playlist_name_chars))
}

/// What the derives cannot state of the shapes above (`openapi::complete`).
pub const SHAPE_RULES: &[ShapeRule] = &[ShapeRule::body("PlaylistPatchBody", &[("name", Text), ("description", Text)])];
