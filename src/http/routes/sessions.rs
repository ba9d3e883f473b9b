//! Login, logout, token refresh and the caller's devices (docs/api.md §3.3.2, §3.3.3, §3.3.11,
//! §1.7, §1.8).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::openapi::schema::{Object, ObjectBuilder};
use utoipa::{IntoParams, ToSchema};

use crate::domain::user::{Session, User};
use crate::domain::{Id, LoginUserKeys, Twin};
use crate::http::AppState;
use crate::http::cookies::{self, REFRESH_COOKIE};
use crate::http::envelope::{ApiResponse, Empty, Envelope};
use crate::http::error::AppError;
use crate::http::extract::{AuthSession, AuthUser, PathParams};
use crate::http::input::{LazyBody, Shape, trimmed};
use crate::http::openapi::Given::Text;
use crate::http::openapi::{
    AuthErrors, BaseErrors, BodyErrors, NotFoundErrors, OwnerErrors, PathId, ShapeRule, password, string_type,
};
use crate::services::sessions::Credentials;

/// `username` or `email` (at least one, not empty) and `password`.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct LoginBody {
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = login_name)]
    pub email: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = login_name)]
    pub username: Option<String>,
    #[schema(schema_with = password, required = true)]
    pub password: Option<String>,
}

impl Shape for LoginBody {}

impl From<LoginBody> for Credentials {
    fn from(b: LoginBody) -> Self {
        Credentials { username: b.username, email: b.email, password: b.password }
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginData {
    #[serde(flatten)]
    #[schema(schema_with = crate::domain::twin_schema::<User, LoginUserKeys>)]
    user: Twin<User, LoginUserKeys>,
    access_token: String,
    refresh_token: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/users/login",
    tag = "users",
    request_body(content((LoginBody = "application/json"), (LoginBody = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "Success", body = Envelope<LoginData>),
        BaseErrors, AuthErrors, NotFoundErrors, BodyErrors
    ),
    security(())
)]
pub async fn login(State(state): State<AppState>, body: LazyBody) -> Result<impl IntoResponse, AppError> {
    // The device a session names in the devices list (docs/api.md §3.3.11).
    let user_agent = body.headers().get(header::USER_AGENT).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let credentials = body.read::<LoginBody>(&state).await?;
    let (user, tokens) = state.services.login(credentials.into(), user_agent.as_deref().unwrap_or("")).await?;
    let headers = cookies::set_tokens(state.services.config(), &tokens.access_token, &tokens.refresh_token);
    let data =
        LoginData { user: Twin::new(user), access_token: tokens.access_token, refresh_token: tokens.refresh_token };
    Ok((headers, ApiResponse::ok("User logged In Successfully", data)))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct RefreshBody {
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = refresh_token_schema)]
    pub refresh_token: Option<String>,
}

impl Shape for RefreshBody {}

/// The refresh token from the `refreshToken` cookie, else the body field (never a header).
async fn refresh_token_of(state: &AppState, body: LazyBody) -> Result<Option<String>, AppError> {
    if let Some(token) = cookies::read(body.headers(), REFRESH_COOKIE) {
        return Ok(Some(token));
    }
    Ok(body.read::<RefreshBody>(state).await?.refresh_token)
}

#[utoipa::path(
    post,
    path = "/api/v1/users/logout",
    tag = "users",
    request_body(content((Option<RefreshBody> = "application/json"))),
    responses(
        (status = 200, description = "Success", body = Envelope<Empty>),
        BaseErrors, AuthErrors, OwnerErrors, BodyErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn logout(
    State(state): State<AppState>,
    caller: AuthUser,
    body: LazyBody,
) -> Result<impl IntoResponse, AppError> {
    let token = refresh_token_of(&state, body).await?;
    state.services.logout(&caller.0, token).await?;
    Ok((cookies::clear_tokens(state.services.config()), ApiResponse::ok("User logged Out", Empty {})))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenData {
    access_token: String,
    refresh_token: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/users/refresh-token",
    tag = "users",
    request_body(content((Option<RefreshBody> = "application/json"))),
    responses(
        (status = 200, description = "Success", body = Envelope<TokenData>),
        BaseErrors, AuthErrors, BodyErrors
    ),
    security(())
)]
pub async fn refresh_token(State(state): State<AppState>, body: LazyBody) -> Result<impl IntoResponse, AppError> {
    let token = refresh_token_of(&state, body).await?;
    let tokens = state.services.refresh(token).await?;
    let headers = cookies::set_tokens(state.services.config(), &tokens.access_token, &tokens.refresh_token);
    let data = TokenData { access_token: tokens.access_token, refresh_token: tokens.refresh_token };
    Ok((headers, ApiResponse::ok("Access token refreshed", data)))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/sessions",
    tag = "users",
    description = "The caller's logged-in devices, newest first (docs/api.md §3.3.11).",
    responses(
        (status = 200, description = "Success", body = Envelope<Vec<Session>>),
        BaseErrors, AuthErrors
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[serde(rename_all = "camelCase")]
pub struct SessionPath {
    /// 24-hex id of one of the caller's sessions
    #[param(value_type = PathId)]
    pub session_id: Id,
}

#[utoipa::path(
    delete,
    path = "/api/v1/users/sessions/{sessionId}",
    tag = "users",
    description = "Signs one of the caller's devices out: its refresh token stops working.",
    params(SessionPath),
    responses(
        (status = 200, description = "Success", body = Envelope<Empty>),
        BaseErrors, AuthErrors, NotFoundErrors
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

// ---- Schema rules of the shapes above ----

/// `username` or `email` of login: trimmed and lowercased; one of them must not be empty.
fn login_name() -> Object {
    ObjectBuilder::new()
        .schema_type(string_type(true))
        .description(Some("Trimmed and lowercased; at least one of username and email must not be empty."))
        .build()
}

/// `refreshToken` of logout and refresh: trimmed; read only without a `refreshToken` cookie.
fn refresh_token_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(string_type(true))
        .description(Some("Used when no `refreshToken` cookie is sent."))
        .build()
}

/// What the derives cannot state of the shapes above (`openapi::complete`).
pub const SHAPE_RULES: &[ShapeRule] = &[ShapeRule::body("LoginBody", &[("username", Text), ("email", Text)])];
