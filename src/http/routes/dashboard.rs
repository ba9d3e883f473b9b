//! The creator dashboard (docs/api.md §3.10).

use axum::extract::State;

use crate::domain::social::ChannelStats;
use crate::domain::video::Video;
use crate::http::AppState;
use crate::http::envelope::{ApiResponse, Envelope};
use crate::http::error::AppError;
use crate::http::extract::AuthUser;
use crate::http::openapi::{AuthErrors, BaseErrors};

#[utoipa::path(
    get,
    path = "/api/v1/dashboard/stats",
    tag = "dashboard",
    responses(
        (status = 200, description = "Success", body = Envelope<ChannelStats>),
        BaseErrors, AuthErrors
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
        (status = 200, description = "Success", body = Envelope<Vec<Video>>),
        BaseErrors, AuthErrors
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
