//! Resumable uploads, tus 1.0.0 (docs/api.md §3.13): `OPTIONS`/`POST /api/v1/uploads/tus` and
//! `HEAD`/`PATCH`/`DELETE /api/v1/uploads/tus/:uploadId`. The tus headers are read and written
//! here; the rules live in `services::tus`. `Tus-Resumable` on every answer (and `Tus-Version` on a
//! 412) is added by `middleware::tus_headers`.

use std::collections::HashMap;
use std::time::{Duration, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;

use crate::domain::Timestamp;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::extract::{AuthUser, PathParams};
use crate::http::requests::UploadPath;
use crate::services::tus::{Chunk, NewUpload, UploadState};

/// The one protocol version spoken (docs/api.md §3.13).
pub const TUS_VERSION: &str = "1.0.0";
/// The extensions offered in `Tus-Extension`.
const TUS_EXTENSIONS: &str = "creation,creation-with-upload,termination,expiration";
/// The content type of upload bytes.
const OFFSET_STREAM: &str = "application/offset+octet-stream";

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

/// 412 unless the request speaks tus 1.0.0.
fn require_version(headers: &HeaderMap) -> Result<(), AppError> {
    match text(headers, "tus-resumable") {
        Some(TUS_VERSION) => Ok(()),
        _ => Err(AppError::new(StatusCode::PRECONDITION_FAILED, "Tus-Resumable must be 1.0.0")),
    }
}

/// A header holding a byte count: digits only (400 otherwise).
fn count(headers: &HeaderMap, name: &str) -> Result<u64, AppError> {
    text(headers, name)
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| AppError::field(StatusCode::BAD_REQUEST, name, format!("{name} must be a non-negative integer")))
}

/// `Upload-Metadata`: comma-separated `key base64value` pairs (the value may be left out).
fn metadata(headers: &HeaderMap) -> Result<HashMap<String, String>, AppError> {
    let invalid = || {
        AppError::field(
            StatusCode::BAD_REQUEST,
            "Upload-Metadata",
            "Upload-Metadata must be comma-separated pairs of a key and a base64 value",
        )
    };
    let mut pairs = HashMap::new();
    let Some(raw) = headers.get("upload-metadata") else { return Ok(pairs) };
    for pair in raw.to_str().map_err(|_| invalid())?.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once(' ').unwrap_or((pair, ""));
        let decoded = base64::engine::general_purpose::STANDARD.decode(value.trim()).map_err(|_| invalid())?;
        // Values are informational text (a file name) or compared exactly (`field`): bytes that
        // are not UTF-8 cannot match a field name, and a file name is kept as far as it reads.
        pairs.insert(key.to_owned(), String::from_utf8_lossy(&decoded).into_owned());
    }
    Ok(pairs)
}

/// The bytes of a request carrying upload data; 415 for another content type. `None` when the
/// request names no content type (a creation without data).
fn chunk(headers: &HeaderMap, body: Body) -> Result<Option<Chunk<axum::body::BodyDataStream>>, AppError> {
    let Some(content_type) = headers.get(header::CONTENT_TYPE) else { return Ok(None) };
    let essence = content_type.to_str().unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence != OFFSET_STREAM {
        return Err(AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/offset+octet-stream",
        ));
    }
    let declared = text(headers, "content-length").and_then(|v| v.parse().ok());
    Ok(Some(Chunk { declared, body: body.into_data_stream() }))
}

/// A bodiless tus answer with these headers.
fn answer(status: StatusCode, headers: Vec<(&'static str, String)>) -> Response {
    let mut response = status.into_response();
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

fn expires(at: Timestamp) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_millis(at.millis().max(0) as u64))
}

/// The headers that say where an upload stands.
fn progress(upload: &UploadState) -> Vec<(&'static str, String)> {
    vec![("upload-offset", upload.offset.to_string()), ("upload-expires", expires(upload.expires))]
}

/// The server's tus capabilities. No login needed.
#[utoipa::path(
    options,
    path = "/api/v1/uploads/tus",
    tag = "uploads",
    responses(
        (status = 204, description = "The tus capabilities", headers(
            ("Tus-Resumable" = String, description = "1.0.0"),
            ("Tus-Version" = String, description = "1.0.0"),
            ("Tus-Extension" = String, description = "creation,creation-with-upload,termination,expiration"),
            ("Tus-Max-Size" = u64, description = "The largest upload accepted (MAX_VIDEO_BYTES)")
        ))
    ),
    security(())
)]
pub async fn capabilities(State(state): State<AppState>) -> Response {
    answer(
        StatusCode::NO_CONTENT,
        vec![
            ("tus-version", TUS_VERSION.to_owned()),
            ("tus-extension", TUS_EXTENSIONS.to_owned()),
            ("tus-max-size", state.services.tus_max_size().to_string()),
        ],
    )
}

/// Creates a resumable upload for one file field, optionally with its first bytes.
#[utoipa::path(
    post,
    path = "/api/v1/uploads/tus",
    tag = "uploads",
    params(
        ("Tus-Resumable" = String, Header, description = "Must be 1.0.0"),
        ("Upload-Length" = String, Header, description = "The size of the whole file, within the field's limit"),
        ("Upload-Metadata" = String, Header, description = "`field` (videoFile, thumbnail, avatar or coverImage) and optional `filename`, each as `key base64value`, comma-separated")
    ),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream", description = "Optional first bytes (creation-with-upload)"),
    responses(
        (status = 201, description = "Created", headers(
            ("Location" = String, description = "Absolute URL of the upload"),
            ("Upload-Expires" = String, description = "When the upload expires unless written to"),
            ("Upload-Offset" = u64, description = "Bytes received so far")
        )),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::BodyErrors,
        crate::http::openapi::TusContentErrors,
        crate::http::openapi::TusErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: AuthUser,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    require_version(&headers)?;
    let length = count(&headers, "Upload-Length")?;
    let mut metadata = metadata(&headers)?;
    let first = chunk(&headers, body)?;
    let new = NewUpload { length, field: metadata.remove("field"), filename: metadata.remove("filename") };
    let upload = state.services.create_upload(caller.id(), new, first).await?;
    let location = format!("{}/api/v1/uploads/tus/{}", state.services.config().public_base_url, upload.id);
    let mut headers = progress(&upload);
    headers.push(("location", location));
    Ok(answer(StatusCode::CREATED, headers))
}

/// Where an upload stands: its offset and length.
#[utoipa::path(
    head,
    path = "/api/v1/uploads/tus/{uploadId}",
    tag = "uploads",
    params(UploadPath, ("Tus-Resumable" = String, Header, description = "Must be 1.0.0")),
    responses(
        (status = 200, description = "The upload's progress", headers(
            ("Upload-Offset" = u64, description = "Bytes received so far"),
            ("Upload-Length" = u64, description = "The size of the whole file"),
            ("Upload-Expires" = String, description = "When the upload expires unless written to"),
            ("Cache-Control" = String, description = "no-store")
        )),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::NotFoundErrors,
        crate::http::openapi::TusErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn status(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(path): PathParams<UploadPath>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let upload = state.services.owned_upload(caller.id(), &path.upload_id).await?;
    require_version(&headers)?;
    let mut headers = progress(&upload);
    headers.push(("upload-length", upload.length.to_string()));
    headers.push(("cache-control", "no-store".to_owned()));
    Ok(answer(StatusCode::OK, headers))
}

/// Appends bytes at the upload's current offset.
#[utoipa::path(
    patch,
    path = "/api/v1/uploads/tus/{uploadId}",
    tag = "uploads",
    params(
        UploadPath,
        ("Tus-Resumable" = String, Header, description = "Must be 1.0.0"),
        ("Upload-Offset" = String, Header, description = "The upload's current offset (HEAD tells it)")
    ),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses(
        (status = 204, description = "Bytes appended", headers(
            ("Upload-Offset" = u64, description = "The new offset"),
            ("Upload-Expires" = String, description = "When the upload expires unless written to")
        )),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::NotFoundErrors,
        crate::http::openapi::BodyErrors,
        crate::http::openapi::TusContentErrors,
        crate::http::openapi::TusConflictErrors,
        crate::http::openapi::TusErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn append(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(path): PathParams<UploadPath>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let upload = state.services.owned_upload(caller.id(), &path.upload_id).await?;
    require_version(&headers)?;
    let chunk = chunk(&headers, body)?.ok_or_else(|| {
        AppError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/offset+octet-stream")
    })?;
    let offset = count(&headers, "Upload-Offset")?;
    let upload = state.services.append_upload(caller.id(), upload.id, offset, chunk).await?;
    Ok(answer(StatusCode::NO_CONTENT, progress(&upload)))
}

/// Deletes an upload and its data (termination).
#[utoipa::path(
    delete,
    path = "/api/v1/uploads/tus/{uploadId}",
    tag = "uploads",
    params(UploadPath, ("Tus-Resumable" = String, Header, description = "Must be 1.0.0")),
    responses(
        (status = 204, description = "Deleted"),
        crate::http::openapi::BaseErrors,
        crate::http::openapi::AuthErrors,
        crate::http::openapi::NotFoundErrors,
        crate::http::openapi::TusConflictErrors,
        crate::http::openapi::TusErrors
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn terminate(
    State(state): State<AppState>,
    caller: AuthUser,
    PathParams(path): PathParams<UploadPath>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    state.services.owned_upload(caller.id(), &path.upload_id).await?;
    require_version(&headers)?;
    state.services.delete_upload(caller.id(), &path.upload_id).await?;
    Ok(answer(StatusCode::NO_CONTENT, Vec::new()))
}
