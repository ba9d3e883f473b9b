//! Like toggles on videos, comments and tweets, and the caller's liked videos (docs/api.md §3.6).

use axum::extract::State;

use super::shared::{CommentPath, TweetPath, VideoPath};
use crate::domain::social::{LikeState, LikeTarget, LikedVideoItem};
use crate::http::AppState;
use crate::http::envelope::{ApiResponse, Envelope};
use crate::http::error::AppError;
use crate::http::extract::{AuthUser, PathParams};
use crate::http::openapi::{AuthErrors, BaseErrors, NotFoundErrors, OwnerErrors};

async fn toggle(state: &AppState, caller: &AuthUser, target: LikeTarget) -> Result<ApiResponse<LikeState>, AppError> {
    let like = state.services.toggle_like(&caller.0, target).await?;
    let message = if like.is_liked { "Like added successfully" } else { "Like removed successfully" };
    Ok(ApiResponse::ok(message, like))
}

#[utoipa::path(
    post,
    path = "/api/v1/likes/toggle/v/{videoId}",
    tag = "likes",
    params(VideoPath),
    responses(
        (status = 200, description = "Success", body = Envelope<LikeState>),
        BaseErrors, AuthErrors, OwnerErrors, NotFoundErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn like_video(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(VideoPath { video_id }): PathParams<VideoPath>,
) -> Result<ApiResponse<LikeState>, AppError> {
    let target = LikeTarget::Video(video_id);
    toggle(&state, &caller, target).await
}

#[utoipa::path(
    post,
    path = "/api/v1/likes/toggle/c/{commentId}",
    tag = "likes",
    params(CommentPath),
    responses(
        (status = 200, description = "Success", body = Envelope<LikeState>),
        BaseErrors, AuthErrors, OwnerErrors, NotFoundErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn like_comment(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(CommentPath { comment_id }): PathParams<CommentPath>,
) -> Result<ApiResponse<LikeState>, AppError> {
    let target = LikeTarget::Comment(comment_id);
    toggle(&state, &caller, target).await
}

#[utoipa::path(
    post,
    path = "/api/v1/likes/toggle/t/{tweetId}",
    tag = "likes",
    params(TweetPath),
    responses(
        (status = 200, description = "Success", body = Envelope<LikeState>),
        BaseErrors, AuthErrors, OwnerErrors, NotFoundErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn like_tweet(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(TweetPath { tweet_id }): PathParams<TweetPath>,
) -> Result<ApiResponse<LikeState>, AppError> {
    let target = LikeTarget::Tweet(tweet_id);
    toggle(&state, &caller, target).await
}

#[utoipa::path(
    get,
    path = "/api/v1/likes/videos",
    tag = "likes",
    responses(
        (status = 200, description = "Success", body = Envelope<Vec<LikedVideoItem>>),
        BaseErrors, AuthErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn liked_videos(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<ApiResponse<Vec<LikedVideoItem>>, AppError> {
    let items = state.services.liked_videos(&caller.0).await?;
    Ok(ApiResponse::ok("Liked videos fetched successfully", items))
}
