//! `/users` handlers (docs/api.md §2 rows 2–12).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::domain::user::{ChannelProfile, User};
use crate::domain::video::WatchedVideo;
use crate::domain::{LoginUserKeys, Twin};
use crate::http::AppState;
use crate::http::cookies::{self, REFRESH_COOKIE};
use crate::http::envelope::{ApiResponse, Empty};
use crate::http::error::AppError;
use crate::http::extract::{AuthUser, MaybeAuthUser, PathParams};
use crate::http::input::LazyBody;
use crate::http::requests::{
    AccountBody, AccountForm, AvatarForm, ChangePasswordBody, CoverForm, LoginBody, RefreshBody, RegisterForm,
    RegisterJson, UsernamePath,
};
use crate::services::users::{AccountUpdate, Registration};

#[utoipa::path(
    post,
    path = "/api/v1/users/register",
    tag = "users",
    request_body(content((crate::http::requests::RegisterForm = "multipart/form-data", encoding(("avatar" = (content_type = crate::http::openapi::IMAGE_TYPES)), ("coverImage" = (content_type = crate::http::openapi::IMAGE_TYPES)))), (crate::http::requests::RegisterJson = "application/json"))),
    responses(
        (status = 201, description = "Success", body = crate::http::envelope::Envelope<crate::domain::user::User>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::ConflictErrors,
        crate::http::openapi::BodyErrors,
        crate::http::openapi::UploadErrors
    ),
    security(())
)]
pub async fn register(State(state): State<AppState>, body: LazyBody) -> Result<ApiResponse<User>, AppError> {
    let input: Registration = if body.is_multipart() {
        body.read::<RegisterForm>(&state).await?.into()
    } else {
        body.read::<RegisterJson>(&state).await?.into()
    };
    let user = state.services.register(input).await?;
    Ok(ApiResponse::created("User registered Successfully", user))
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
    request_body(content((crate::http::requests::LoginBody = "application/json"), (crate::http::requests::LoginBody = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<super::users::LoginData>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::NotFoundErrors,
        crate::http::openapi::BodyErrors
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
    request_body(content((Option<crate::http::requests::RefreshBody> = "application/json"))),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::http::envelope::Empty>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::BodyErrors
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
    request_body(content((Option<crate::http::requests::RefreshBody> = "application/json"))),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<super::users::TokenData>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::BodyErrors
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
    post,
    path = "/api/v1/users/change-password",
    tag = "users",
    request_body(content((crate::http::requests::ChangePasswordBody = "application/json"))),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::http::envelope::Empty>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::BodyErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn change_password(
    State(state): State<AppState>,
    caller: AuthUser,
    body: LazyBody,
) -> Result<ApiResponse<Empty>, AppError> {
    let passwords = body.read::<ChangePasswordBody>(&state).await?;
    state.services.change_password(&caller.0, passwords.old_password, passwords.new_password).await?;
    Ok(ApiResponse::ok("Password changed successfully", Empty {}))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/current-user",
    tag = "users",
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::user::User>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn current_user(State(state): State<AppState>, caller: AuthUser) -> Result<ApiResponse<User>, AppError> {
    Ok(ApiResponse::ok("User fetched successfully", state.services.current_user(&caller.0).await?))
}

#[utoipa::path(
    patch,
    path = "/api/v1/users/update-account",
    tag = "users",
    request_body(content((crate::http::requests::AccountBody = "application/json"), (crate::http::requests::AccountForm = "multipart/form-data", encoding(("avatar" = (content_type = crate::http::openapi::IMAGE_TYPES)), ("coverImage" = (content_type = crate::http::openapi::IMAGE_TYPES)))))),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::user::User>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::ConflictErrors,
        crate::http::openapi::BodyErrors,
        crate::http::openapi::UploadErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn update_account(
    State(state): State<AppState>,
    caller: AuthUser,
    body: LazyBody,
) -> Result<ApiResponse<User>, AppError> {
    let input: AccountUpdate = if body.is_multipart() {
        body.read::<AccountForm>(&state).await?.into()
    } else {
        body.read::<AccountBody>(&state).await?.into()
    };
    let user = state.services.update_account(&caller.0, input).await?;
    Ok(ApiResponse::ok("Account details updated successfully", user))
}

#[utoipa::path(
    patch,
    path = "/api/v1/users/avatar",
    tag = "users",
    request_body(content((crate::http::requests::AvatarForm = "multipart/form-data", encoding(("avatar" = (content_type = crate::http::openapi::IMAGE_TYPES)))))),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::user::User>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::BodyErrors,
        crate::http::openapi::UploadErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn update_avatar(
    State(state): State<AppState>,
    caller: AuthUser,
    body: LazyBody,
) -> Result<ApiResponse<User>, AppError> {
    let avatar = body.read::<AvatarForm>(&state).await?.media();
    let user = state.services.replace_image(&caller.0, avatar, false).await?;
    Ok(ApiResponse::ok("Avatar image updated successfully", user))
}

#[utoipa::path(
    patch,
    path = "/api/v1/users/cover-image",
    tag = "users",
    request_body(content((crate::http::requests::CoverForm = "multipart/form-data", encoding(("coverImage" = (content_type = crate::http::openapi::IMAGE_TYPES)))))),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::user::User>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::OwnerErrors,
        crate::http::openapi::BodyErrors,
        crate::http::openapi::UploadErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn update_cover_image(
    State(state): State<AppState>,
    caller: AuthUser,
    body: LazyBody,
) -> Result<ApiResponse<User>, AppError> {
    let cover = body.read::<CoverForm>(&state).await?.media();
    let user = state.services.replace_image(&caller.0, cover, true).await?;
    Ok(ApiResponse::ok("Cover image updated successfully", user))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/c/{username}",
    tag = "users",
    params(crate::http::requests::UsernamePath),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::domain::user::ChannelProfile>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::NotFoundErrors
    ),
    security((), ("bearer" = []), ("cookie" = []))
)]
pub async fn channel_profile(
    State(state): State<AppState>,
    viewer: MaybeAuthUser,
    PathParams(UsernamePath { username }): PathParams<UsernamePath>,
) -> Result<ApiResponse<ChannelProfile>, AppError> {
    let profile = state.services.channel_profile(&username, viewer.0.as_ref()).await?;
    Ok(ApiResponse::ok("User channel fetched successfully", profile))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/history",
    tag = "users",
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<Vec<crate::domain::video::WatchedVideo>>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn watch_history(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<ApiResponse<Vec<WatchedVideo>>, AppError> {
    let videos = state.services.watch_history(&caller.0).await?;
    Ok(ApiResponse::ok("Watch history fetched successfully", videos))
}
