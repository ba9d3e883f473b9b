//! Notifications (docs/api.md §3.17): the caller's list, unread count, marking read, settings, and
//! the live stream (Server-Sent Events).

use std::collections::HashSet;
use std::convert::Infallible;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::shared::PageQuery;
use crate::domain::Id;
use crate::domain::choice::Choice;
use crate::domain::notification::{Notification, NotificationSettings, NotificationType};
use crate::domain::page::Page;
use crate::http::AppState;
use crate::http::envelope::{ApiResponse, Envelope};
use crate::http::error::AppError;
use crate::http::extract::{AuthUser, PathParams};
use crate::http::input::{LazyBody, QueryParams, Shape};
use crate::http::openapi::{AuthErrors, BaseErrors, BodyErrors, NotFoundErrors, PathId};
use crate::services::ServiceError;
use crate::services::notifications::StreamSubscription;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[serde(rename_all = "camelCase")]
pub struct NotificationPath {
    /// 24-hex ObjectId
    #[param(value_type = PathId)]
    pub notification_id: Id,
}

/// `page`, `limit` and `unread` (`true`: unread notifications only).
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct NotificationQuery {
    pub page: Option<String>,
    pub limit: Option<String>,
    /// `true`: unread notifications only
    pub unread: Option<String>,
}

impl Shape for NotificationQuery {}

/// The caller's unread notifications.
#[derive(Serialize, ToSchema)]
pub struct UnreadCount {
    unread: u64,
}

/// Any subset of the four types, each `true` or `false`.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct SettingsBody {
    pub new_video: Option<bool>,
    pub comment: Option<bool>,
    pub reply: Option<bool>,
    pub subscriber: Option<bool>,
}

#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    tag = "notifications",
    params(NotificationQuery),
    responses(
        (status = 200, description = "Success", body = Envelope<Page<Notification>>),
        BaseErrors, AuthErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: AuthUser,
    QueryParams(query): QueryParams<NotificationQuery>,
) -> Result<ApiResponse<Page<Notification>>, AppError> {
    let page = PageQuery { page: query.page, limit: query.limit };
    let page = page.page_request(state.services.config().limits.page_limit_max);
    let unread_only = query.unread.as_deref() == Some("true");
    let page = state.services.notifications(&caller.0, unread_only, page).await?;
    Ok(ApiResponse::ok("Notifications fetched successfully", page))
}

#[utoipa::path(
    get,
    path = "/api/v1/notifications/unread-count",
    tag = "notifications",
    responses((status = 200, description = "Success", body = Envelope<UnreadCount>), BaseErrors, AuthErrors),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn unread_count(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<ApiResponse<UnreadCount>, AppError> {
    let unread = state.services.unread_notifications(&caller.0).await?;
    Ok(ApiResponse::ok("Unread count fetched successfully", UnreadCount { unread }))
}

#[utoipa::path(
    patch,
    path = "/api/v1/notifications/{notificationId}/read",
    tag = "notifications",
    params(NotificationPath),
    responses(
        (status = 200, description = "Success", body = Envelope<UnreadCount>),
        BaseErrors, AuthErrors, NotFoundErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn mark_read(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(NotificationPath { notification_id }): PathParams<NotificationPath>,
) -> Result<ApiResponse<UnreadCount>, AppError> {
    let unread = state.services.mark_notification_read(&caller.0, notification_id).await?;
    Ok(ApiResponse::ok("Notification marked as read", UnreadCount { unread }))
}

#[utoipa::path(
    post,
    path = "/api/v1/notifications/read-all",
    tag = "notifications",
    responses((status = 200, description = "Success", body = Envelope<UnreadCount>), BaseErrors, AuthErrors),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn read_all(State(state): State<AppState>, caller: AuthUser) -> Result<ApiResponse<UnreadCount>, AppError> {
    let unread = state.services.mark_all_notifications_read(&caller.0).await?;
    Ok(ApiResponse::ok("All notifications marked as read", UnreadCount { unread }))
}

#[utoipa::path(
    get,
    path = "/api/v1/notifications/settings",
    tag = "notifications",
    responses(
        (status = 200, description = "Success", body = Envelope<NotificationSettings>),
        BaseErrors, AuthErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn settings(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<ApiResponse<NotificationSettings>, AppError> {
    let settings = state.services.notification_settings(&caller.0).await?;
    Ok(ApiResponse::ok("Notification settings fetched successfully", settings))
}

/// The types a settings body switches, in the order of its keys; 400 for a value that is not a
/// boolean (`"true"`/`"false"` count in urlencoded bodies, whose values are text).
fn settings_change(values: Vec<(String, Value)>) -> Result<Vec<(NotificationType, bool)>, ServiceError> {
    let mut change = Vec::new();
    for kind in NotificationType::ALL {
        let Some((key, value)) = values.iter().find(|(key, _)| key == kind.setting()) else { continue };
        let on = match value {
            Value::Null => continue,
            Value::Bool(on) => *on,
            Value::String(text) if text == "true" || text == "false" => text == "true",
            _ => return Err(ServiceError::invalid(format!("{key} must be true or false"))),
        };
        change.push((*kind, on));
    }
    Ok(change)
}

#[utoipa::path(
    patch,
    path = "/api/v1/notifications/settings",
    tag = "notifications",
    request_body(content((Option<SettingsBody> = "application/json"))),
    responses(
        (status = 200, description = "Success", body = Envelope<NotificationSettings>),
        BaseErrors, AuthErrors, BodyErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn update_settings(
    State(state): State<AppState>,
    caller: AuthUser,
    body: LazyBody,
) -> Result<ApiResponse<NotificationSettings>, AppError> {
    let change = settings_change(body.values(&state).await?)?;
    let settings = state.services.update_notification_settings(&caller.0, change).await?;
    Ok(ApiResponse::ok("Notification settings updated", settings))
}

fn event(notification: &Notification) -> Event {
    let data = serde_json::to_string(notification).unwrap_or_default();
    Event::default().id(notification.id.to_hex()).event("notification").data(data)
}

/// The live notifications of a stream: its own, created since it opened and not replayed, until
/// the process stops.
fn live(subscription: StreamSubscription, replayed: HashSet<Id>) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold((subscription, replayed), |(mut s, replayed)| async move {
        loop {
            if *s.closing.borrow() {
                return None;
            }
            tokio::select! {
                _ = s.closing.changed() => return None,
                received = s.live.recv() => match received {
                    Ok(delivery) => {
                        let (recipient, notification) = &*delivery;
                        if *recipient == s.user
                            && notification.created_at >= s.opened_at
                            && !replayed.contains(&notification.id)
                        {
                            let event = event(notification);
                            return Some((Ok(event), (s, replayed)));
                        }
                    }
                    // Fallen behind the channel: the skipped ones are in the list, and a reconnect replays them.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(skipped)) => {
                        tracing::warn!(skipped, "a notification stream fell behind");
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                },
            }
        }
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/notifications/stream",
    tag = "notifications",
    description = "Server-Sent Events: each new notification of the caller as `id: <_id>`, `event: notification`, \
                   `data: <Notification JSON>`; a comment line when idle (keep-alive). A `Last-Event-ID` header first \
                   replays the caller's notifications newer than that id (docs/api.md §3.17.3).",
    params(("Last-Event-ID" = Option<String>, Header, description = "The id of the last notification received")),
    responses(
        (status = 200, description = "An event stream that stays open", content_type = "text/event-stream", body = String),
        BaseErrors, AuthErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn stream(
    State(state): State<AppState>,
    caller: AuthUser,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let last_event = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| Id::parse(v.trim()));
    let mut subscription = state.services.open_notification_stream(&caller.0, last_event).await?;
    let replay = std::mem::take(&mut subscription.replay);
    let replayed: HashSet<Id> = replay.iter().map(|n| n.id).collect();
    // A first comment tells the client the stream is open (and already receiving).
    let opened = stream::once(async { Ok(Event::default().comment("connected")) });
    let replay = stream::iter(replay.into_iter().map(|n| Ok(event(&n))));
    let events = opened.chain(replay).chain(live(subscription, replayed));
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(state.services.notification_keepalive()).text("keep-alive")))
}
