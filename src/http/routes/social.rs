//! Comments, likes and tweets handlers (docs/api.md §2 rows 13–16 and 26–33).

use axum::extract::State;
use serde::Serialize;

use crate::domain::Id;
use crate::domain::page::Page;
use crate::domain::social::{Comment, LikeState, LikeTarget, LikedVideoItem, Tweet};
use crate::http::AppState;
use crate::http::envelope::ApiResponse;
use crate::http::error::AppError;
use crate::http::extract::{AuthUser, MaybeAuthUser, PathParams};
use crate::http::input::{LazyBody, QueryParams};
use crate::http::requests::{CommentPath, ContentBody, PageQuery, TweetPath, UserPath, VideoPath};

/// The `content` field of a comment or tweet body.
async fn content(state: &AppState, body: LazyBody) -> Result<Option<String>, AppError> {
    Ok(body.read::<ContentBody>(state).await?.content)
}

#[utoipa::path(
    get,
    path = "/api/v1/comments/{videoId}",
    tag = "comments",
    params(crate::http::requests::VideoPath, crate::http::requests::PageQuery),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::page::Page<crate::domain::social::Comment>>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::NotFoundErrors
    ),
    security((), ("bearer" = []), ("cookie" = []))
)]
pub async fn list_comments(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    PathParams(VideoPath { video_id }): PathParams<VideoPath>,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<ApiResponse<Page<Comment>>, AppError> {
    let page =
        state.services.list_comments(video_id, viewer.id(), query.page.as_deref(), query.limit.as_deref()).await?;
    Ok(ApiResponse::ok("Comments fetched successfully", page))
}

#[utoipa::path(
    post,
    path = "/api/v1/comments/{videoId}",
    tag = "comments",
    params(crate::http::requests::VideoPath),
    request_body(content((crate::http::requests::ContentBody = "application/json"))),
    responses(
        (status = 201, description = "Success", body = crate::http::envelope::Envelope<crate::domain::social::Comment>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::NotFoundErrors,
        crate::http::openapi::BodyErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn add_comment(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(VideoPath { video_id }): PathParams<VideoPath>,
    body: LazyBody,
) -> Result<ApiResponse<Comment>, AppError> {
    // Existence and visibility (404) come before body validation (docs/api.md §1.4).
    let video = state.services.visible_video(video_id, Some(caller.id())).await?;
    let content = content(&state, body).await?;
    let comment = state.services.add_comment(&caller.0, &video, content.as_deref()).await?;
    Ok(ApiResponse::created("Comment added successfully", comment))
}

#[utoipa::path(
    patch,
    path = "/api/v1/comments/c/{commentId}",
    tag = "comments",
    params(crate::http::requests::CommentPath),
    request_body(content((crate::http::requests::ContentBody = "application/json"))),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::social::Comment>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::NotFoundErrors,
        crate::http::openapi::BodyErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn update_comment(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(CommentPath { comment_id }): PathParams<CommentPath>,
    body: LazyBody,
) -> Result<ApiResponse<Comment>, AppError> {
    let comment = state.services.owned_comment(&caller.0, comment_id).await?;
    let content = content(&state, body).await?;
    let comment = state.services.update_comment(&caller.0, comment, content.as_deref()).await?;
    Ok(ApiResponse::ok("Comment updated successfully", comment))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeletedComment {
    comment_id: Id,
}

#[utoipa::path(
    delete,
    path = "/api/v1/comments/c/{commentId}",
    tag = "comments",
    params(crate::http::requests::CommentPath),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<super::social::DeletedComment>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::NotFoundErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn delete_comment(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(CommentPath { comment_id }): PathParams<CommentPath>,
) -> Result<ApiResponse<DeletedComment>, AppError> {
    let comment = state.services.owned_comment(&caller.0, comment_id).await?;
    let comment_id = comment.id;
    state.services.delete_comment(comment).await?;
    Ok(ApiResponse::ok("Comment deleted successfully", DeletedComment { comment_id }))
}

async fn toggle(state: &AppState, caller: &AuthUser, target: LikeTarget) -> Result<ApiResponse<LikeState>, AppError> {
    let like = state.services.toggle_like(&caller.0, target).await?;
    let message = if like.is_liked { "Like added successfully" } else { "Like removed successfully" };
    Ok(ApiResponse::ok(message, like))
}

#[utoipa::path(
    post,
    path = "/api/v1/likes/toggle/v/{videoId}",
    tag = "likes",
    params(crate::http::requests::VideoPath),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::social::LikeState>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::NotFoundErrors
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
    params(crate::http::requests::CommentPath),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::social::LikeState>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::NotFoundErrors
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
    params(crate::http::requests::TweetPath),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::social::LikeState>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::NotFoundErrors
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
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<Vec<crate::domain::social::LikedVideoItem>>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors
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

#[utoipa::path(
    post,
    path = "/api/v1/tweets",
    tag = "tweets",
    request_body(content((crate::http::requests::ContentBody = "application/json"))),
    responses(
        (status = 201, description = "Success", body = crate::http::envelope::Envelope<crate::domain::social::Tweet>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::BodyErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn create_tweet(
    State(state): State<AppState>,
    caller: AuthUser,
    body: LazyBody,
) -> Result<ApiResponse<Tweet>, AppError> {
    let content = content(&state, body).await?;
    let tweet = state.services.create_tweet(&caller.0, content.as_deref()).await?;
    Ok(ApiResponse::created("Tweet created successfully", tweet))
}

#[utoipa::path(
    get,
    path = "/api/v1/tweets/user/{userId}",
    tag = "tweets",
    params(crate::http::requests::UserPath),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<Vec<crate::domain::social::Tweet>>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::NotFoundErrors
    ),
    security((), ("bearer" = []), ("cookie" = []))
)]
pub async fn user_tweets(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    PathParams(UserPath { user_id }): PathParams<UserPath>,
) -> Result<ApiResponse<Vec<Tweet>>, AppError> {
    let tweets = state.services.user_tweets(user_id, viewer.id()).await?;
    Ok(ApiResponse::ok("Tweets fetched successfully", tweets))
}

#[utoipa::path(
    patch,
    path = "/api/v1/tweets/{tweetId}",
    tag = "tweets",
    params(crate::http::requests::TweetPath),
    request_body(content((crate::http::requests::ContentBody = "application/json"))),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::social::Tweet>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::NotFoundErrors,
        crate::http::openapi::BodyErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn update_tweet(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(TweetPath { tweet_id }): PathParams<TweetPath>,
    body: LazyBody,
) -> Result<ApiResponse<Tweet>, AppError> {
    let owned = state.services.owned_tweet(&caller.0, tweet_id).await?;
    let content = content(&state, body).await?;
    let tweet = state.services.update_tweet(&caller.0, owned, content.as_deref()).await?;
    Ok(ApiResponse::ok("Tweet updated successfully", tweet))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeletedTweet {
    tweet_id: Id,
}

#[utoipa::path(
    delete,
    path = "/api/v1/tweets/{tweetId}",
    tag = "tweets",
    params(crate::http::requests::TweetPath),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<super::social::DeletedTweet>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::NotFoundErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn delete_tweet(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(TweetPath { tweet_id }): PathParams<TweetPath>,
) -> Result<ApiResponse<DeletedTweet>, AppError> {
    let tweet = state.services.owned_tweet(&caller.0, tweet_id).await?;
    let tweet_id = tweet.id;
    state.services.delete_tweet(tweet).await?;
    Ok(ApiResponse::ok("Tweet deleted successfully", DeletedTweet { tweet_id }))
}
