//! Roles (docs/api.md §3.15.1): an admin gives a user a role.

use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::Object;

use super::shared::UserPath;
use crate::domain::choice::Choice;
use crate::domain::user::{Role, RoleGrant};
use crate::http::AppState;
use crate::http::envelope::{ApiResponse, Envelope};
use crate::http::error::AppError;
use crate::http::extract::{AdminUser, PathParams};
use crate::http::input::{LazyBody, Shape};
use crate::http::openapi::{AuthErrors, BaseErrors, BodyErrors, ConflictErrors, NotFoundErrors, RoleErrors, choice};
use crate::services::ServiceError;

#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct RoleBody {
    #[schema(schema_with = role, required = true)]
    pub role: Option<String>,
}

impl Shape for RoleBody {}

fn role() -> Object {
    choice::<Role>()
}

#[utoipa::path(
    patch,
    path = "/api/v1/admin/users/{userId}/role",
    tag = "moderation",
    params(UserPath),
    request_body(content((RoleBody = "application/json"))),
    responses(
        (status = 200, description = "Success", body = Envelope<RoleGrant>),
        BaseErrors, AuthErrors, RoleErrors, NotFoundErrors, ConflictErrors, BodyErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn set_role(
    State(state): State<AppState>,
    admin: AdminUser,
    PathParams(UserPath { user_id }): PathParams<UserPath>,
    body: LazyBody,
) -> Result<ApiResponse<RoleGrant>, AppError> {
    let RoleBody { role } = body.read(&state).await?;
    let role = role.as_deref().and_then(Role::parse).ok_or_else(|| ServiceError::invalid(Role::invalid()))?;
    let grant = state.services.grant_role(&admin.0, user_id, role).await?;
    Ok(ApiResponse::ok("Role updated successfully", grant))
}
