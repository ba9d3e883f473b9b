//! Direct-upload signing (an extension, docs/api.md §3.11): `POST /api/v1/uploads/signature`.

use axum::extract::State;

use crate::http::AppState;
use crate::http::envelope::ApiResponse;
use crate::http::error::AppError;
use crate::http::extract::MaybeAuthUser;
use crate::http::input::LazyBody;
use crate::http::requests::SignBody;
use crate::media::cloudinary::DirectUploadParams;

/// Signed parameters for uploading `field` straight to Cloudinary. Anonymous callers may sign only
/// registration images (`avatar`, `coverImage`).
#[utoipa::path(
    post,
    path = "/api/v1/uploads/signature",
    tag = "uploads",
    request_body(content((crate::http::requests::SignBody = "application/json"))),
    responses(
        (status = 200, description = "Success", body = crate::http::envelope::Envelope<crate::media::cloudinary::DirectUploadParams>),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::BodyErrors
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
