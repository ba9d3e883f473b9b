//! Tweets (docs/api.md §3.7).

use axum::extract::State;
use serde::Serialize;

use super::shared::{ContentBody, TweetPath, UserPath, content};
use crate::domain::Id;
use crate::domain::social::Tweet;
use crate::http::AppState;
use crate::http::envelope::{ApiResponse, Envelope};
use crate::http::error::AppError;
use crate::http::extract::{AuthUser, MaybeAuthUser, PathParams};
use crate::http::input::LazyBody;
use crate::http::openapi::{AuthErrors, BaseErrors, BodyErrors, NotFoundErrors, OwnerErrors};

#[utoipa::path(
    post,
    path = "/api/v1/tweets",
    tag = "tweets",
    request_body(content((ContentBody = "application/json"))),
    responses(
        (status = 201, description = "Success", body = Envelope<Tweet>),
        BaseErrors, AuthErrors, OwnerErrors, BodyErrors
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
    params(UserPath),
    responses(
        (status = 200, description = "Success", body = Envelope<Vec<Tweet>>),
        BaseErrors, AuthErrors, NotFoundErrors
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
    params(TweetPath),
    request_body(content((ContentBody = "application/json"))),
    responses(
        (status = 200, description = "Success", body = Envelope<Tweet>),
        BaseErrors, AuthErrors, OwnerErrors, NotFoundErrors, BodyErrors
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
    params(TweetPath),
    responses(
        (status = 200, description = "Success", body = Envelope<DeletedTweet>),
        BaseErrors, AuthErrors, OwnerErrors, NotFoundErrors
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
