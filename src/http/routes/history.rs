//! The caller's watch history (docs/api.md §3.3.9, §3.3.12).

use axum::extract::State;

use super::shared::VideoPath;
use crate::domain::video::WatchedVideo;
use crate::http::AppState;
use crate::http::envelope::{ApiResponse, Empty, Envelope};
use crate::http::error::AppError;
use crate::http::extract::{AccessToken, AuthUser, PathParams};
use crate::http::openapi::{AuthErrors, BaseErrors};

#[utoipa::path(
    get,
    path = "/api/v1/users/history",
    tag = "users",
    responses(
        (status = 200, description = "Success", body = Envelope<Vec<WatchedVideo>>),
        BaseErrors, AuthErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn watch_history(
    State(state): State<AppState>,
    token: AccessToken,
) -> Result<ApiResponse<Vec<WatchedVideo>>, AppError> {
    let videos = state.services.caller_watch_history(token.0.as_deref()).await?;
    Ok(ApiResponse::ok("Watch history fetched successfully", videos))
}

#[utoipa::path(
    delete,
    path = "/api/v1/users/history",
    tag = "users",
    description = "Empties the caller's watch history (docs/api.md §3.3.12).",
    responses(
        (status = 200, description = "Success", body = Envelope<Empty>),
        BaseErrors, AuthErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn clear_history(State(state): State<AppState>, caller: AuthUser) -> Result<ApiResponse<Empty>, AppError> {
    state.services.clear_history(&caller.0).await?;
    Ok(ApiResponse::ok("Watch history cleared", Empty {}))
}

#[utoipa::path(
    delete,
    path = "/api/v1/users/history/{videoId}",
    tag = "users",
    description = "Removes one video from the caller's watch history; also 200 when it is not there.",
    params(VideoPath),
    responses(
        (status = 200, description = "Success", body = Envelope<Empty>),
        BaseErrors, AuthErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn forget_watch(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(VideoPath { video_id }): PathParams<VideoPath>,
) -> Result<ApiResponse<Empty>, AppError> {
    state.services.forget_watch(&caller.0, video_id).await?;
    Ok(ApiResponse::ok("Video removed from watch history", Empty {}))
}

/// `{historyPaused}`: whether watching records history now.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryState {
    history_paused: bool,
}

#[utoipa::path(
    post,
    path = "/api/v1/users/history/pause",
    tag = "users",
    description = "Stops recording watched videos in the history (views still count); idempotent.",
    responses(
        (status = 200, description = "Success", body = Envelope<HistoryState>),
        BaseErrors, AuthErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn pause_history(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<ApiResponse<HistoryState>, AppError> {
    let history_paused = state.services.pause_history(&caller.0, true).await?;
    Ok(ApiResponse::ok("Watch history paused", HistoryState { history_paused }))
}

#[utoipa::path(
    post,
    path = "/api/v1/users/history/resume",
    tag = "users",
    description = "Records watched videos in the history again; idempotent.",
    responses(
        (status = 200, description = "Success", body = Envelope<HistoryState>),
        BaseErrors, AuthErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn resume_history(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<ApiResponse<HistoryState>, AppError> {
    let history_paused = state.services.pause_history(&caller.0, false).await?;
    Ok(ApiResponse::ok("Watch history resumed", HistoryState { history_paused }))
}
