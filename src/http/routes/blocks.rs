//! Creator blocks (docs/api.md §3.15.4): block, unblock, and the caller's blocked users.

use axum::extract::State;
use serde::Serialize;

use super::shared::UserPath;
use crate::domain::user::OwnerSummary;
use crate::http::AppState;
use crate::http::envelope::{ApiResponse, Envelope};
use crate::http::error::AppError;
use crate::http::extract::{AuthUser, PathParams};
use crate::http::openapi::{AuthErrors, BaseErrors, NotFoundErrors};

/// Whether the user is blocked now.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BlockState {
    blocked: bool,
}

#[utoipa::path(
    get,
    path = "/api/v1/users/blocks",
    tag = "users",
    responses(
        (status = 200, description = "Success", body = Envelope<Vec<OwnerSummary>>),
        BaseErrors, AuthErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn blocked_users(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<ApiResponse<Vec<OwnerSummary>>, AppError> {
    let users = state.services.blocked_users(&caller.0).await?;
    Ok(ApiResponse::ok("Blocked users fetched successfully", users))
}

#[utoipa::path(
    post,
    path = "/api/v1/users/blocks/{userId}",
    tag = "users",
    params(UserPath),
    responses(
        (status = 200, description = "Success", body = Envelope<BlockState>),
        BaseErrors, AuthErrors, NotFoundErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn block(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(UserPath { user_id }): PathParams<UserPath>,
) -> Result<ApiResponse<BlockState>, AppError> {
    let blocked = state.services.set_block(&caller.0, user_id, true).await?;
    Ok(ApiResponse::ok("User blocked", BlockState { blocked }))
}

#[utoipa::path(
    delete,
    path = "/api/v1/users/blocks/{userId}",
    tag = "users",
    params(UserPath),
    responses(
        (status = 200, description = "Success", body = Envelope<BlockState>),
        BaseErrors, AuthErrors, NotFoundErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn unblock(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(UserPath { user_id }): PathParams<UserPath>,
) -> Result<ApiResponse<BlockState>, AppError> {
    let blocked = state.services.set_block(&caller.0, user_id, false).await?;
    Ok(ApiResponse::ok("User unblocked", BlockState { blocked }))
}
