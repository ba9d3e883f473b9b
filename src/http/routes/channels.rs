//! Subscriptions, playlists and dashboard handlers (docs/api.md §2 rows 17–19 and 34–42).

use axum::extract::State;
use serde::Serialize;

use crate::domain::page::Page;
use crate::domain::social::{ChannelStats, Playlist, SubscribedChannelItem, SubscriberItem};
use crate::domain::video::Video;
use crate::http::AppState;
use crate::http::envelope::{ApiResponse, Empty};
use crate::http::error::AppError;
use crate::http::extract::{AuthUser, MaybeAuthUser, PathParams};
use crate::http::input::{LazyBody, QueryParams};
use crate::http::requests::{
    ChannelPath, PageQuery, PlaylistBody, PlaylistPatchBody, PlaylistPath, PlaylistVideoPath, SubscriberPath, UserPath,
};

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionState {
    subscribed: bool,
    is_subscribed: bool,
}

#[utoipa::path(
    post,
    path = "/api/v1/subscriptions/c/{channelId}",
    tag = "subscriptions",
    params(crate::http::requests::ChannelPath),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<super::channels::SubscriptionState>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::NotFoundErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn toggle_subscription(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(ChannelPath { channel_id }): PathParams<ChannelPath>,
) -> Result<ApiResponse<SubscriptionState>, AppError> {
    let subscribed = state.services.toggle_subscription(&caller.0, channel_id).await?;
    let message = if subscribed { "subscribed successfully" } else { "unsubscribed successfully" };
    Ok(ApiResponse::ok(message, SubscriptionState { subscribed, is_subscribed: subscribed }))
}

#[utoipa::path(
    get,
    path = "/api/v1/subscriptions/c/{channelId}",
    tag = "subscriptions",
    params(crate::http::requests::ChannelPath),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<Vec<crate::domain::social::SubscriberItem>>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::NotFoundErrors
    ),
    security((), ("bearer" = []), ("cookie" = []))
)]
pub async fn channel_subscribers(
    State(state): State<AppState>,
    _viewer: MaybeAuthUser,
    PathParams(ChannelPath { channel_id }): PathParams<ChannelPath>,
) -> Result<ApiResponse<Vec<SubscriberItem>>, AppError> {
    let items = state.services.channel_subscribers(channel_id).await?;
    Ok(ApiResponse::ok("Subscribers fetched successfully", items))
}

#[utoipa::path(
    get,
    path = "/api/v1/subscriptions/u/{subscriberId}",
    tag = "subscriptions",
    params(crate::http::requests::SubscriberPath),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<Vec<crate::domain::social::SubscribedChannelItem>>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::NotFoundErrors
    ),
    security((), ("bearer" = []), ("cookie" = []))
)]
pub async fn subscribed_channels(
    State(state): State<AppState>,
    _viewer: MaybeAuthUser,
    PathParams(SubscriberPath { subscriber_id }): PathParams<SubscriberPath>,
) -> Result<ApiResponse<Vec<SubscribedChannelItem>>, AppError> {
    let items = state.services.subscribed_channels(subscriber_id).await?;
    Ok(ApiResponse::ok("Subscribed channels fetched successfully", items))
}

#[utoipa::path(
    post,
    path = "/api/v1/playlist",
    tag = "playlists",
    request_body(content((crate::http::requests::PlaylistBody = "application/json"))),
    responses(
        (status = 201, description = "Success", body = crate::http::envelope::Envelope<crate::domain::social::Playlist>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::BodyErrors
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

#[utoipa::path(
    get,
    path = "/api/v1/playlist/{playlistId}",
    tag = "playlists",
    params(crate::http::requests::PlaylistPath),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::social::Playlist>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::NotFoundErrors
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
    params(crate::http::requests::UserPath),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<Vec<crate::domain::social::Playlist>>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::NotFoundErrors
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

#[utoipa::path(
    patch,
    path = "/api/v1/playlist/{playlistId}",
    tag = "playlists",
    params(crate::http::requests::PlaylistPath),
    request_body(content((crate::http::requests::PlaylistPatchBody = "application/json"))),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::social::Playlist>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::NotFoundErrors,
        crate::http::openapi::BodyErrors
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
    params(crate::http::requests::PlaylistPath),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::http::envelope::Empty>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::NotFoundErrors
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

#[utoipa::path(
    patch,
    path = "/api/v1/playlist/add/{videoId}/{playlistId}",
    tag = "playlists",
    params(crate::http::requests::PlaylistVideoPath),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::social::Playlist>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::NotFoundErrors
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
    params(crate::http::requests::PlaylistVideoPath),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::social::Playlist>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::NotFoundErrors
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

#[utoipa::path(
    get,
    path = "/api/v1/dashboard/stats",
    tag = "dashboard",
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::social::ChannelStats>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn stats(State(state): State<AppState>, caller: AuthUser) -> Result<ApiResponse<ChannelStats>, AppError> {
    let stats = state.services.channel_stats(&caller.0).await?;
    Ok(ApiResponse::ok("channel stats fetched successfully", stats))
}

#[utoipa::path(
    get,
    path = "/api/v1/dashboard/videos",
    tag = "dashboard",
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<Vec<crate::domain::video::Video>>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn dashboard_videos(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<ApiResponse<Vec<Video>>, AppError> {
    let videos = state.services.dashboard_videos(&caller.0).await?;
    Ok(ApiResponse::ok("Channel videos fetched successfully", videos))
}

/// `GET /subscriptions/feed` and its alias: the query string's `page` and `limit`.
async fn subscription_feed_page(
    state: &AppState,
    caller: &AuthUser,
    query: PageQuery,
) -> Result<ApiResponse<Page<Video>>, AppError> {
    let page = state.services.subscription_feed(&caller.0, query.page.as_deref(), query.limit.as_deref()).await?;
    Ok(ApiResponse::ok("Subscription feed fetched successfully", page))
}

#[utoipa::path(
    get,
    path = "/api/v1/subscriptions/feed",
    tag = "subscriptions",
    description = "Public videos of every channel the caller subscribes to, newest first (docs/api.md §3.12).",
    params(crate::http::requests::PageQuery),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::page::Page<crate::domain::video::Video>>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn subscription_feed(
    State(state): State<AppState>,
    caller: AuthUser,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<ApiResponse<Page<Video>>, AppError> {
    subscription_feed_page(&state, &caller, query).await
}

#[utoipa::path(
    get,
    path = "/api/v1/users/subscriptions/videos",
    tag = "subscriptions",
    description = "The subscription feed under the path some clients of the original API call.",
    params(crate::http::requests::PageQuery),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::page::Page<crate::domain::video::Video>>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn subscription_feed_alias(
    State(state): State<AppState>,
    caller: AuthUser,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<ApiResponse<Page<Video>>, AppError> {
    subscription_feed_page(&state, &caller, query).await
}
