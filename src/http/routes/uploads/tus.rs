//! Resumable uploads, tus 1.0.0 (docs/api.md §3.13): `OPTIONS`/`POST /api/v1/uploads/tus` and
//! `HEAD`/`PATCH`/`DELETE /api/v1/uploads/tus/:uploadId`. The tus headers are read and written
//! here, and documented (`TusRules`); the rules live in `services::uploads::tus`. `Tus-Resumable` on
//! every answer (and `Tus-Version` on a 412) is added by `middleware::tus_headers`.

use std::collections::HashMap;
use std::time::{Duration, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;

use serde::Deserialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::{IntoParams, IntoResponses, Modify};

use crate::domain::Timestamp;
use crate::http::AppState;
use crate::http::error::{AppError, ErrorEnvelope};
use crate::http::extract::{AuthUser, PathParams};
use crate::http::openapi::{AuthErrors, BaseErrors, BodyErrors, NotFoundErrors, StorageErrors};
use crate::services::uploads::tus::{Chunk, NewUpload, TUS_VERSION, UploadState};

/// A resumable upload's id: 24 hex digits, but anything else is an unknown upload (404), not a
/// malformed id (docs/api.md §3.13).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
#[serde(rename_all = "camelCase")]
pub struct UploadPath {
    /// The id at the end of the upload's `Location`
    pub upload_id: String,
}
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
        BaseErrors, AuthErrors, BodyErrors, TusContentErrors, TusErrors, StorageErrors
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
        BaseErrors, AuthErrors, NotFoundErrors, TusErrors
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
        BaseErrors, AuthErrors, NotFoundErrors, BodyErrors, TusContentErrors, TusConflictErrors, TusErrors, StorageErrors
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
        BaseErrors, AuthErrors, NotFoundErrors, TusConflictErrors, TusErrors
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

// ---- What the annotations above cannot state ----

// The tus error answers, for the annotations above: they are written as `AppError`s, never built
// from these types.
#[derive(IntoResponses)]
#[expect(dead_code, reason = "documentation only")]
pub enum TusErrors {
    #[response(status = 412, description = "Tus-Resumable is missing or not 1.0.0 (the answer carries Tus-Version)")]
    PreconditionFailed(ErrorEnvelope),
}

#[derive(IntoResponses)]
#[expect(dead_code, reason = "documentation only")]
pub enum TusContentErrors {
    #[response(status = 415, description = "Content-Type is not application/offset+octet-stream")]
    WrongContentType(ErrorEnvelope),
}

#[derive(IntoResponses)]
#[expect(dead_code, reason = "documentation only")]
pub enum TusConflictErrors {
    #[response(
        status = 409,
        description = "Upload-Offset is not the upload's offset, or another request is writing the upload"
    )]
    Conflict(ErrorEnvelope),
}

/// The tus request headers as the server reads them (docs/api.md §3.13), and upload bytes as
/// binary: header parameters written as tuples in `#[utoipa::path]` cannot carry a pattern.
pub struct TusRules;

/// HTTP strips the spaces and tabs around a header value; the patterns allow them.
fn header_pattern(value: &str) -> Object {
    ObjectBuilder::new().schema_type(Type::String).pattern(Some(format!("^[ \\t]*{value}[ \\t]*$"))).build()
}

/// `Upload-Metadata` carrying the `field` the server accepts (base64 of videoFile, thumbnail,
/// avatar, coverImage), optionally followed by a base64 `filename`.
fn upload_metadata() -> Object {
    header_pattern("field (dmlkZW9GaWxl|dGh1bWJuYWls|YXZhdGFy|Y292ZXJJbWFnZQ==)(,filename ([A-Za-z0-9+/]{4})*)?")
}

/// The schema of a tus request header, by name.
fn tus_header(name: &str) -> Option<Object> {
    match name {
        "Tus-Resumable" => Some(header_pattern("1\\.0\\.0")),
        "Upload-Length" | "Upload-Offset" => Some(header_pattern("[0-9]{1,10}")),
        "Upload-Metadata" => Some(upload_metadata()),
        _ => None,
    }
}

impl Modify for TusRules {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut().filter(|(path, _)| path.starts_with("/api/v1/uploads/tus")) {
            let operations = [&mut item.post, &mut item.head, &mut item.patch, &mut item.delete];
            for operation in operations.into_iter().flatten() {
                for parameter in operation.parameters.iter_mut().flatten() {
                    let RefOr::T(parameter) = parameter else { continue };
                    if let Some(schema) = tus_header(&parameter.name) {
                        parameter.schema = Some(RefOr::T(Schema::Object(schema)));
                    }
                }
                let Some(RefOr::T(body)) = operation.request_body.as_mut() else { continue };
                for content in body.content.values_mut() {
                    let RefOr::T(content) = content else { continue };
                    let bytes = ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)));
                    content.schema = Some(RefOr::T(Schema::Object(bytes.build())));
                }
                // Creation may come without bytes (creation-with-upload is optional).
                if path == "/api/v1/uploads/tus" {
                    body.required = Some(utoipa::openapi::Required::False);
                }
            }
        }
    }
}
