//! Subscriptions (docs/api.md §3.8, §3.12): toggles, subscribers, subscribed channels and the
//! subscription feed.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::shared::PageQuery;
use crate::domain::Id;
use crate::domain::page::Page;
use crate::domain::social::{SubscribedChannelItem, SubscriberItem};
use crate::domain::video::Video;
use crate::http::AppState;
use crate::http::envelope::{ApiResponse, Envelope};
use crate::http::error::AppError;
use crate::http::extract::{AuthUser, MaybeAuthUser, PathParams};
use crate::http::input::QueryParams;
use crate::http::openapi::{AuthErrors, BaseErrors, NotFoundErrors, OwnerErrors, PathId};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[serde(rename_all = "camelCase")]
pub struct ChannelPath {
    /// 24-hex ObjectId
    #[param(value_type = PathId)]
    pub channel_id: Id,
}

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
    params(ChannelPath),
    responses(
        (status = 200, description = "Success", body = Envelope<SubscriptionState>),
        BaseErrors, AuthErrors, OwnerErrors, NotFoundErrors
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
    params(ChannelPath),
    responses(
        (status = 200, description = "Success", body = Envelope<Vec<SubscriberItem>>),
        BaseErrors, AuthErrors, NotFoundErrors
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[serde(rename_all = "camelCase")]
pub struct SubscriberPath {
    /// 24-hex ObjectId
    #[param(value_type = PathId)]
    pub subscriber_id: Id,
}

#[utoipa::path(
    get,
    path = "/api/v1/subscriptions/u/{subscriberId}",
    tag = "subscriptions",
    params(SubscriberPath),
    responses(
        (status = 200, description = "Success", body = Envelope<Vec<SubscribedChannelItem>>),
        BaseErrors, AuthErrors, NotFoundErrors
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

/// `GET /subscriptions/feed` and its alias: the query string's `page` and `limit`.
async fn subscription_feed_page(
    state: &AppState,
    caller: &AuthUser,
    query: PageQuery,
) -> Result<ApiResponse<Page<Video>>, AppError> {
    let page = query.page_request(state.services.config().limits.page_limit_max);
    let page = state.services.subscription_feed(&caller.0, page).await?;
    Ok(ApiResponse::ok("Subscription feed fetched successfully", page))
}

#[utoipa::path(
    get,
    path = "/api/v1/subscriptions/feed",
    tag = "subscriptions",
    description = "Public videos of every channel the caller subscribes to, newest first (docs/api.md §3.12).",
    params(PageQuery),
    responses(
        (status = 200, description = "Success", body = Envelope<Page<Video>>),
        BaseErrors, AuthErrors
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
    params(PageQuery),
    responses(
        (status = 200, description = "Success", body = Envelope<Page<Video>>),
        BaseErrors, AuthErrors
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
