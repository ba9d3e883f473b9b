//! Direct-upload signing (an extension, docs/api.md §3.11): `POST /api/v1/uploads/signature`.

use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::Schema;

use crate::http::AppState;
use crate::http::envelope::{ApiResponse, Envelope};
use crate::http::error::AppError;
use crate::http::extract::MaybeAuthUser;
use crate::http::input::{LazyBody, Shape, trimmed};
use crate::http::openapi::{AuthErrors, BaseErrors, BodyErrors, lenient_enum};
use crate::media::cloudinary::DirectUploadParams;

#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct SignBody {
    /// The field to sign for; anonymous callers may sign only `avatar` and `coverImage`.
    #[serde(deserialize_with = "trimmed")]
    #[schema(schema_with = upload_field, required = true)]
    pub field: Option<String>,
}

impl Shape for SignBody {}

/// Signed parameters for uploading `field` straight to Cloudinary. Anonymous callers may sign only
/// registration images (`avatar`, `coverImage`).
#[utoipa::path(
    post,
    path = "/api/v1/uploads/signature",
    tag = "uploads",
    request_body(content((SignBody = "application/json"))),
    responses(
        (status = 200, description = "Success", body = Envelope<DirectUploadParams>),
        BaseErrors, AuthErrors, BodyErrors
    ),
    security((), ("bearer" = []), ("cookie" = []))
)]
pub async fn sign(
    State(state): State<AppState>,
    caller: MaybeAuthUser,
    body: LazyBody,
) -> Result<ApiResponse<DirectUploadParams>, AppError> {
    let body = body.read::<SignBody>(&state).await?;
    let params = state.services.sign_direct_upload(body.field.as_deref(), caller.id())?;
    Ok(ApiResponse::ok("Upload signature created successfully", params))
}

// ---- Schema rules of the shape above ----

fn upload_field() -> Schema {
    lenient_enum(&["avatar", "coverImage", "thumbnail", "videoFile"], false, false)
}
