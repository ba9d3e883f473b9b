//! The caller's account beyond its profile: deletion, devices (sessions) and watch-history controls
//! (docs/api.md §3.3.10–§3.3.12).

use axum::extract::State;
use axum::response::IntoResponse;

use crate::domain::user::Session;
use crate::http::AppState;
use crate::http::cookies;
use crate::http::envelope::{ApiResponse, Empty};
use crate::http::error::AppError;
use crate::http::extract::{AuthSession, AuthUser, PathParams};
use crate::http::input::LazyBody;
use crate::http::requests::{DeleteAccountBody, SessionPath, VideoPath};

/// Deletes the caller's account (either path) and clears the token cookies.
async fn delete_account_with(state: AppState, caller: AuthUser, body: LazyBody) -> Result<impl IntoResponse, AppError> {
    let DeleteAccountBody { password } = body.read::<DeleteAccountBody>(&state).await?;
    state.services.delete_account(&caller.0, password).await?;
    Ok((cookies::clear_tokens(state.services.config()), ApiResponse::ok("Account deleted successfully", Empty {})))
}

#[utoipa::path(
    delete,
    path = "/api/v1/users/account",
    tag = "users",
    description = "Deletes the caller's account and everything it owns, media included (docs/api.md §3.3.10).",
    request_body(content((crate::http::requests::DeleteAccountBody = "application/json"), (crate::http::requests::DeleteAccountBody = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::http::envelope::Empty>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::BodyErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn delete_account(
    State(state): State<AppState>,
    caller: AuthUser,
    body: LazyBody,
) -> Result<impl IntoResponse, AppError> {
    delete_account_with(state, caller, body).await
}

#[utoipa::path(
    delete,
    path = "/api/v1/users/del-acc",
    tag = "users",
    description = "Account deletion under the path the Vue client of the original API calls.",
    request_body(content((crate::http::requests::DeleteAccountBody = "application/json"), (crate::http::requests::DeleteAccountBody = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::http::envelope::Empty>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::BodyErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn delete_account_alias(
    State(state): State<AppState>,
    caller: AuthUser,
    body: LazyBody,
) -> Result<impl IntoResponse, AppError> {
    delete_account_with(state, caller, body).await
}

#[utoipa::path(
    get,
    path = "/api/v1/users/sessions",
    tag = "users",
    description = "The caller's logged-in devices, newest first (docs/api.md §3.3.11).",
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<Vec<crate::domain::user::Session>>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn sessions(
    State(state): State<AppState>,
    AuthSession(caller, current): AuthSession,
) -> Result<ApiResponse<Vec<Session>>, AppError> {
    let sessions = state.services.sessions(&caller, current).await?;
    Ok(ApiResponse::ok("Sessions fetched successfully", sessions))
}

#[utoipa::path(
    delete,
    path = "/api/v1/users/sessions/{sessionId}",
    tag = "users",
    description = "Signs one of the caller's devices out: its refresh token stops working.",
    params(crate::http::requests::SessionPath),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::http::envelope::Empty>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::NotFoundErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn revoke_session(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(SessionPath { session_id }): PathParams<SessionPath>,
) -> Result<ApiResponse<Empty>, AppError> {
    state.services.revoke_session(&caller.0, session_id).await?;
    Ok(ApiResponse::ok("Session revoked successfully", Empty {}))
}

#[utoipa::path(
    delete,
    path = "/api/v1/users/history",
    tag = "users",
    description = "Empties the caller's watch history (docs/api.md §3.3.12).",
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::http::envelope::Empty>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors
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
    params(crate::http::requests::VideoPath),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::http::envelope::Empty>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors
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
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<HistoryState>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors
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
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<HistoryState>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors
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
