//! Comments, likes and tweets handlers (docs/api.md §2 rows 13–16 and 26–33).

use axum::extract::State;
use axum::http::Uri;
use serde::Serialize;

use crate::domain::Id;
use crate::domain::page::Page;
use crate::domain::social::{Comment, LikeState, LikeTarget, LikedVideoItem, Tweet};
use crate::http::AppState;
use crate::http::envelope::ApiResponse;
use crate::http::error::AppError;
use crate::http::extract::{AuthUser, MaybeAuthUser, Params};
use crate::http::input::{Fields, LazyBody};

/// The `content` field of a comment or tweet body.
async fn content(state: &AppState, body: LazyBody) -> Result<Option<String>, AppError> {
    let fields = body.fields(state.services.config().limits.json_body_bytes).await?;
    fields.require_strings(&["content"])?;
    Ok(fields.text("content"))
}

#[utoipa::path(
    get,
    path = "/api/v1/comments/{videoId}",
    tag = "comments",
    params(("videoId" = crate::http::openapi::PathId, Path, description = "24-hex ObjectId"), crate::http::openapi::PageQuery),
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
    params: Params,
    uri: Uri,
) -> Result<ApiResponse<Page<Comment>>, AppError> {
    let video = params.id(0, "videoId")?;
    let query = Fields::from_urlencoded(uri.query().unwrap_or("").as_bytes());
    let page = state
        .services
        .list_comments(video, viewer.id(), query.raw("page").as_deref(), query.raw("limit").as_deref())
        .await?;
    Ok(ApiResponse::ok("Comments fetched successfully", page))
}

#[utoipa::path(
    post,
    path = "/api/v1/comments/{videoId}",
    tag = "comments",
    params(("videoId" = crate::http::openapi::PathId, Path, description = "24-hex ObjectId")),
    request_body(content((crate::http::openapi::ContentBody = "application/json"))),
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
    params: Params,
    body: LazyBody,
) -> Result<ApiResponse<Comment>, AppError> {
    // Existence and visibility (404) come before body validation (docs/api.md §1.4).
    let video = state.services.visible_video(params.id(0, "videoId")?, Some(caller.id())).await?;
    let content = content(&state, body).await?;
    let comment = state.services.add_comment(&caller.0, &video, content.as_deref()).await?;
    Ok(ApiResponse::created("Comment added successfully", comment))
}

#[utoipa::path(
    patch,
    path = "/api/v1/comments/c/{commentId}",
    tag = "comments",
    params(("commentId" = crate::http::openapi::PathId, Path, description = "24-hex ObjectId")),
    request_body(content((crate::http::openapi::ContentBody = "application/json"))),
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
    params: Params,
    body: LazyBody,
) -> Result<ApiResponse<Comment>, AppError> {
    let comment = state.services.owned_comment(&caller.0, params.id(0, "commentId")?).await?;
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
    params(("commentId" = crate::http::openapi::PathId, Path, description = "24-hex ObjectId")),
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
    params: Params,
) -> Result<ApiResponse<DeletedComment>, AppError> {
    let comment = state.services.owned_comment(&caller.0, params.id(0, "commentId")?).await?;
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
    params(("videoId" = crate::http::openapi::PathId, Path, description = "24-hex ObjectId")),
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
    params: Params,
) -> Result<ApiResponse<LikeState>, AppError> {
    let target = LikeTarget::Video(params.id(0, "videoId")?);
    toggle(&state, &caller, target).await
}

#[utoipa::path(
    post,
    path = "/api/v1/likes/toggle/c/{commentId}",
    tag = "likes",
    params(("commentId" = crate::http::openapi::PathId, Path, description = "24-hex ObjectId")),
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
    params: Params,
) -> Result<ApiResponse<LikeState>, AppError> {
    let target = LikeTarget::Comment(params.id(0, "commentId")?);
    toggle(&state, &caller, target).await
}

#[utoipa::path(
    post,
    path = "/api/v1/likes/toggle/t/{tweetId}",
    tag = "likes",
    params(("tweetId" = crate::http::openapi::PathId, Path, description = "24-hex ObjectId")),
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
    params: Params,
) -> Result<ApiResponse<LikeState>, AppError> {
    let target = LikeTarget::Tweet(params.id(0, "tweetId")?);
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
    request_body(content((crate::http::openapi::ContentBody = "application/json"))),
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
    params(("userId" = crate::http::openapi::PathId, Path, description = "24-hex ObjectId")),
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
    params: Params,
) -> Result<ApiResponse<Vec<Tweet>>, AppError> {
    let tweets = state.services.user_tweets(params.id(0, "userId")?, viewer.id()).await?;
    Ok(ApiResponse::ok("Tweets fetched successfully", tweets))
}

#[utoipa::path(
    patch,
    path = "/api/v1/tweets/{tweetId}",
    tag = "tweets",
    params(("tweetId" = crate::http::openapi::PathId, Path, description = "24-hex ObjectId")),
    request_body(content((crate::http::openapi::ContentBody = "application/json"))),
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
    params: Params,
    body: LazyBody,
) -> Result<ApiResponse<Tweet>, AppError> {
    let owned = state.services.owned_tweet(&caller.0, params.id(0, "tweetId")?).await?;
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
    params(("tweetId" = crate::http::openapi::PathId, Path, description = "24-hex ObjectId")),
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
    params: Params,
) -> Result<ApiResponse<DeletedTweet>, AppError> {
    let tweet = state.services.owned_tweet(&caller.0, params.id(0, "tweetId")?).await?;
    let tweet_id = tweet.id;
    state.services.delete_tweet(tweet).await?;
    Ok(ApiResponse::ok("Tweet deleted successfully", DeletedTweet { tweet_id }))
}
