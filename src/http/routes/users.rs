//! The caller's account and public channel profiles (docs/api.md §3.3): registration, profile and
//! images, password, account deletion.

use axum::extract::State;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::openapi::schema::{KnownFormat, Object, ObjectBuilder, SchemaFormat, Type};
use utoipa::{IntoParams, ToSchema};

use super::shared::media;
use crate::domain::user::{ChannelProfile, User};
use crate::http::AppState;
use crate::http::cookies;
use crate::http::envelope::{ApiResponse, Empty, Envelope};
use crate::http::error::AppError;
use crate::http::extract::{AuthAccount, AuthUser, MaybeAuthUser, PathParams};
use crate::http::input::{LazyBody, Shape, file_part, trimmed};
use crate::http::openapi::Given::{File, Text};
use crate::http::openapi::{
    AuthErrors, BaseErrors, BodyErrors, ConflictErrors, IMAGE_TYPES, NotFoundErrors, OwnerErrors, ShapeRule,
    UploadErrors, UsernameParam, image, optional_image, password, required_upload_result, text, upload_result,
};
use crate::media::MediaKind;
use crate::services::Incoming;
use crate::services::users::{AccountUpdate, Registration};

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct RegisterForm {
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = required_text, required = true)]
    pub full_name: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = required_text, required = true)]
    pub email: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = required_text, required = true)]
    pub username: Option<String>,
    #[schema(schema_with = new_password, required = true)]
    pub password: Option<String>,
    /// Required unless `avatarUpload` is given.
    #[serde(deserialize_with = "file_part")]
    #[schema(schema_with = image)]
    pub avatar: Option<Incoming>,
    #[serde(deserialize_with = "file_part")]
    #[schema(schema_with = optional_image)]
    pub cover_image: Option<Incoming>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_result)]
    pub avatar_upload: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_result)]
    pub cover_image_upload: Option<String>,
}

impl Shape for RegisterForm {
    const FILES: &'static [(&'static str, MediaKind)] =
        &[("avatar", MediaKind::Image), ("coverImage", MediaKind::Image)];
}

impl From<RegisterForm> for Registration {
    fn from(f: RegisterForm) -> Self {
        Registration {
            full_name: f.full_name,
            email: f.email,
            username: f.username,
            password: f.password,
            avatar: media(f.avatar, f.avatar_upload, "avatar"),
            cover_image: media(f.cover_image, f.cover_image_upload, "coverImage"),
        }
    }
}

/// Registration without file parts: the avatar comes from a direct upload result.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct RegisterJson {
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = required_text, required = true)]
    pub full_name: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = required_text, required = true)]
    pub email: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = required_text, required = true)]
    pub username: Option<String>,
    #[schema(schema_with = new_password, required = true)]
    pub password: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = required_upload_result, required = true)]
    pub avatar_upload: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_result)]
    pub cover_image_upload: Option<String>,
}

impl Shape for RegisterJson {}

impl From<RegisterJson> for Registration {
    fn from(j: RegisterJson) -> Self {
        Registration {
            full_name: j.full_name,
            email: j.email,
            username: j.username,
            password: j.password,
            avatar: media(None, j.avatar_upload, "avatar"),
            cover_image: media(None, j.cover_image_upload, "coverImage"),
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/users/register",
    tag = "users",
    request_body(content((RegisterForm = "multipart/form-data", encoding(("avatar" = (content_type = IMAGE_TYPES)), ("coverImage" = (content_type = IMAGE_TYPES)))), (RegisterJson = "application/json"))),
    responses(
        (status = 201, description = "Success", body = Envelope<User>),
        BaseErrors, ConflictErrors, BodyErrors, UploadErrors
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

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ChangePasswordBody {
    #[schema(schema_with = password, required = true)]
    pub old_password: Option<String>,
    #[schema(schema_with = new_password, required = true)]
    pub new_password: Option<String>,
}

impl Shape for ChangePasswordBody {}

#[utoipa::path(
    post,
    path = "/api/v1/users/change-password",
    tag = "users",
    request_body(content((ChangePasswordBody = "application/json"))),
    responses(
        (status = 200, description = "Success", body = Envelope<Empty>),
        BaseErrors, AuthErrors, OwnerErrors, BodyErrors
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
        (status = 200, description = "Success", body = Envelope<User>),
        BaseErrors, AuthErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn current_user(caller: AuthAccount) -> Result<ApiResponse<User>, AppError> {
    Ok(ApiResponse::ok("User fetched successfully", caller.0.user))
}

/// At least one field; `email` must not belong to another user (409).
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct AccountBody {
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = optional_text)]
    pub full_name: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = optional_text)]
    pub email: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_result)]
    pub avatar_upload: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_result)]
    pub cover_image_upload: Option<String>,
}

impl Shape for AccountBody {}

impl From<AccountBody> for AccountUpdate {
    fn from(b: AccountBody) -> Self {
        AccountUpdate {
            full_name: b.full_name,
            email: b.email,
            avatar: media(None, b.avatar_upload, "avatar"),
            cover_image: media(None, b.cover_image_upload, "coverImage"),
        }
    }
}

/// At least one field or file; `email` must not belong to another user (409).
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct AccountForm {
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = optional_text)]
    pub full_name: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = optional_text)]
    pub email: Option<String>,
    #[serde(deserialize_with = "file_part")]
    #[schema(schema_with = optional_image)]
    pub avatar: Option<Incoming>,
    #[serde(deserialize_with = "file_part")]
    #[schema(schema_with = optional_image)]
    pub cover_image: Option<Incoming>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_result)]
    pub avatar_upload: Option<String>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_result)]
    pub cover_image_upload: Option<String>,
}

impl Shape for AccountForm {
    const FILES: &'static [(&'static str, MediaKind)] =
        &[("avatar", MediaKind::Image), ("coverImage", MediaKind::Image)];
}

impl From<AccountForm> for AccountUpdate {
    fn from(f: AccountForm) -> Self {
        AccountUpdate {
            full_name: f.full_name,
            email: f.email,
            avatar: media(f.avatar, f.avatar_upload, "avatar"),
            cover_image: media(f.cover_image, f.cover_image_upload, "coverImage"),
        }
    }
}

#[utoipa::path(
    patch,
    path = "/api/v1/users/update-account",
    tag = "users",
    request_body(content((AccountBody = "application/json"), (AccountForm = "multipart/form-data", encoding(("avatar" = (content_type = IMAGE_TYPES)), ("coverImage" = (content_type = IMAGE_TYPES)))))),
    responses(
        (status = 200, description = "Success", body = Envelope<User>),
        BaseErrors, AuthErrors, OwnerErrors, ConflictErrors, BodyErrors, UploadErrors
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

/// `avatar` or `avatarUpload`.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct AvatarForm {
    #[serde(deserialize_with = "file_part")]
    #[schema(schema_with = image)]
    pub avatar: Option<Incoming>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_result)]
    pub avatar_upload: Option<String>,
}

impl Shape for AvatarForm {
    const FILES: &'static [(&'static str, MediaKind)] = &[("avatar", MediaKind::Image)];
}

impl AvatarForm {
    pub fn media(self) -> Option<Incoming> {
        media(self.avatar, self.avatar_upload, "avatar")
    }
}

#[utoipa::path(
    patch,
    path = "/api/v1/users/avatar",
    tag = "users",
    request_body(content((AvatarForm = "multipart/form-data", encoding(("avatar" = (content_type = IMAGE_TYPES)))))),
    responses(
        (status = 200, description = "Success", body = Envelope<User>),
        BaseErrors, AuthErrors, OwnerErrors, BodyErrors, UploadErrors
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

/// `coverImage` or `coverImageUpload`.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CoverForm {
    #[serde(deserialize_with = "file_part")]
    #[schema(schema_with = image)]
    pub cover_image: Option<Incoming>,
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_result)]
    pub cover_image_upload: Option<String>,
}

impl Shape for CoverForm {
    const FILES: &'static [(&'static str, MediaKind)] = &[("coverImage", MediaKind::Image)];
}

impl CoverForm {
    pub fn media(self) -> Option<Incoming> {
        media(self.cover_image, self.cover_image_upload, "coverImage")
    }
}

#[utoipa::path(
    patch,
    path = "/api/v1/users/cover-image",
    tag = "users",
    request_body(content((CoverForm = "multipart/form-data", encoding(("coverImage" = (content_type = IMAGE_TYPES)))))),
    responses(
        (status = 200, description = "Success", body = Envelope<User>),
        BaseErrors, AuthErrors, OwnerErrors, BodyErrors, UploadErrors
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UsernamePath {
    /// Channel username
    #[param(value_type = UsernameParam)]
    pub username: String,
}

#[utoipa::path(
    get,
    path = "/api/v1/users/c/{username}",
    tag = "users",
    params(UsernamePath),
    responses(
        (status = 200, description = "Success", body = Envelope<ChannelProfile>),
        BaseErrors, AuthErrors, NotFoundErrors
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

/// The caller's current password, confirming an account deletion.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct DeleteAccountBody {
    #[schema(schema_with = password, required = true)]
    pub password: Option<String>,
}

impl Shape for DeleteAccountBody {}

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
    request_body(content((DeleteAccountBody = "application/json"), (DeleteAccountBody = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "Success", body = Envelope<Empty>),
        BaseErrors, AuthErrors, BodyErrors
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
    request_body(content((DeleteAccountBody = "application/json"), (DeleteAccountBody = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "Success", body = Envelope<Empty>),
        BaseErrors, AuthErrors, BodyErrors
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

// ---- Schema rules of the shapes above ----

/// A required trimmed text field (`fullName`, `email`, `username`): no format rule beyond non-empty.
fn required_text() -> Object {
    text(false, None)
}

/// An optional trimmed text field that must not be empty when given.
fn optional_text() -> Object {
    text(true, None)
}

/// A password that is stored: used exactly as sent, non-empty, at most 72 bytes (bcrypt).
fn new_password() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password)))
        .min_length(Some(1))
        .max_length(Some(72))
        .description(Some("Used exactly as sent (not trimmed); not empty; at most 72 bytes in UTF-8."))
        .build()
}

/// What the derives cannot state of the shapes above (`openapi::complete`).
pub const SHAPE_RULES: &[ShapeRule] = &[
    ShapeRule::body(
        "AccountBody",
        &[("fullName", Text), ("email", Text), ("avatarUpload", Text), ("coverImageUpload", Text)],
    ),
    ShapeRule::form(
        "AccountForm",
        &[
            ("fullName", Text),
            ("email", Text),
            ("avatar", File),
            ("coverImage", File),
            ("avatarUpload", Text),
            ("coverImageUpload", Text),
        ],
    ),
    ShapeRule::form("RegisterForm", &[("avatar", File), ("avatarUpload", Text)]),
    ShapeRule::form("AvatarForm", &[("avatar", File), ("avatarUpload", Text)]),
    ShapeRule::form("CoverForm", &[("coverImage", File), ("coverImageUpload", Text)]),
];
