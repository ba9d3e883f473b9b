//! `AppError`: the one error type at the HTTP edge, rendered as the JSON error envelope of
//! docs/api.md §1.4. Services answer `ServiceError`; `From<ServiceError>` gives each variant its
//! status here, so handlers convert with `?`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::envelope::{INTERNAL_MESSAGE, json_response};
use crate::error::{BoxError, Chain};
use crate::services::{FieldError, ServiceError};

/// The message of a 503: the store is down, unreachable or cannot write (docs/api.md §1.4).
pub const UNAVAILABLE_MESSAGE: &str = "Service temporarily unavailable";
/// The `Retry-After` of a 503, in seconds.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;
/// The message of a 507: the disk filled up during an upload (docs/api.md §1.11).
pub const INSUFFICIENT_STORAGE_MESSAGE: &str = "Not enough storage";

/// An error a client sees: status, message and per-field details. Internal causes are logged, never sent.
#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub message: String,
    pub errors: Vec<FieldError>,
    /// Seconds until the client should try again: sent as `Retry-After` (429 and 503).
    pub retry_after: Option<u64>,
}

impl AppError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        AppError { status, message: message.into(), errors: Vec::new(), retry_after: None }
    }

    /// 429 with `Retry-After` (docs/api.md §1.14): a request budget is spent for `seconds` more.
    pub fn too_many_requests(seconds: u64) -> Self {
        let message = format!("Too many requests, please retry after {seconds} seconds");
        AppError { retry_after: Some(seconds), ..Self::new(StatusCode::TOO_MANY_REQUESTS, message) }
    }

    /// 503 with `Retry-After` (docs/api.md §1.4): the store cannot serve now; the cause is logged.
    pub fn unavailable(cause: BoxError) -> Self {
        tracing::error!(error = %Chain(cause.as_ref()), "store unavailable");
        let status = StatusCode::SERVICE_UNAVAILABLE;
        AppError { retry_after: Some(UNAVAILABLE_RETRY_AFTER_SECS), ..Self::new(status, UNAVAILABLE_MESSAGE) }
    }

    /// 507 (docs/api.md §1.11): a disk filled up while an upload was written; the cause is logged.
    pub fn insufficient_storage(cause: BoxError) -> Self {
        tracing::error!(error = %Chain(cause.as_ref()), "disk full");
        Self::new(StatusCode::INSUFFICIENT_STORAGE, INSUFFICIENT_STORAGE_MESSAGE)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// A 500 whose cause (with every cause under it) is logged here, once; the client sees only the
    /// generic message of docs/api.md §1.4.
    pub fn internal(cause: impl Into<BoxError>) -> Self {
        let cause = cause.into();
        tracing::error!(error = %Chain(cause.as_ref()), "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL_MESSAGE)
    }

    /// A validation failure: the message plus one entry per offending field.
    pub fn invalid(status: StatusCode, message: impl Into<String>, errors: Vec<FieldError>) -> Self {
        AppError { status, message: message.into(), errors, retry_after: None }
    }

    /// A single-field failure whose message is also the field's message.
    pub fn field(status: StatusCode, field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::invalid(status, message.clone(), vec![FieldError::new(field, message)])
    }

    fn one_field(status: StatusCode, field: FieldError) -> Self {
        AppError { status, message: field.message.clone(), errors: vec![field], retry_after: None }
    }
}

impl From<ServiceError> for AppError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Invalid { message, errors } => Self::invalid(StatusCode::BAD_REQUEST, message, errors),
            ServiceError::Unauthorized(message) => Self::new(StatusCode::UNAUTHORIZED, message),
            ServiceError::Forbidden(message) => Self::new(StatusCode::FORBIDDEN, message),
            ServiceError::NotFound(message) => Self::new(StatusCode::NOT_FOUND, message),
            ServiceError::Conflict(message) => Self::new(StatusCode::CONFLICT, message),
            ServiceError::TooManyRequests { retry_after_secs } => Self::too_many_requests(retry_after_secs),
            ServiceError::TooLarge(field) => Self::one_field(StatusCode::PAYLOAD_TOO_LARGE, field),
            ServiceError::UnsupportedMediaType(field) => Self::one_field(StatusCode::UNSUPPORTED_MEDIA_TYPE, field),
            // A route-specific upload message (docs/api.md §1.11), with the media failure logged.
            ServiceError::UploadFailed { message, source } => {
                tracing::error!(error = %Chain(&source), "{message}");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
            }
            ServiceError::Unavailable(cause) => Self::unavailable(cause),
            ServiceError::InsufficientStorage(cause) => Self::insufficient_storage(cause),
            ServiceError::Internal(cause) => Self::internal(cause),
        }
    }
}

/// The error envelope of docs/api.md §1.4 as written on the wire (and documented).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorEnvelope {
    #[schema(example = 400)]
    pub status_code: u16,
    #[schema(schema_with = null_schema)]
    pub data: Option<()>,
    #[schema(example = "All fields are required")]
    pub message: String,
    #[schema(example = false)]
    pub success: bool,
    pub errors: Vec<FieldError>,
}

fn null_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::Null).into()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status;
        let body = ErrorEnvelope {
            status_code: status.as_u16(),
            data: None,
            message: self.message,
            success: false,
            errors: self.errors,
        };
        let mut response = json_response(status, &body);
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::envelope::INTERNAL_BODY;
    use crate::store::StoreError;

    #[test]
    fn the_fallback_body_is_the_generic_500_envelope() {
        let body = ErrorEnvelope {
            status_code: 500,
            data: None,
            message: INTERNAL_MESSAGE.to_owned(),
            success: false,
            errors: Vec::new(),
        };
        assert_eq!(serde_json::to_string(&body).unwrap(), INTERNAL_BODY);
    }

    #[test]
    fn service_errors_get_their_status_and_fields() {
        let cases = [
            (ServiceError::invalid_field("title", "title is required"), 400, 1),
            (ServiceError::unauthorized("Unauthorized request"), 401, 0),
            (ServiceError::forbidden("You are not the owner of this video"), 403, 0),
            (ServiceError::not_found("Video not found"), 404, 0),
            (ServiceError::conflict("User with email or username already exists"), 409, 0),
            (ServiceError::TooLarge(FieldError::new("avatar", "avatar exceeds the maximum size of 5 MB")), 413, 1),
            (ServiceError::UnsupportedMediaType(FieldError::new("avatar", "avatar must be an image")), 415, 1),
            (ServiceError::internal("disk on fire"), 500, 0),
            (ServiceError::internal(StoreError::Unavailable("connection refused".into())), 503, 0),
            (ServiceError::internal(std::io::Error::from(std::io::ErrorKind::StorageFull)), 507, 0),
        ];
        for (service_error, status, fields) in cases {
            let expected = match status {
                500 => INTERNAL_MESSAGE.to_owned(),
                503 => UNAVAILABLE_MESSAGE.to_owned(),
                507 => INSUFFICIENT_STORAGE_MESSAGE.to_owned(),
                _ => service_error.to_string(),
            };
            let error = AppError::from(service_error);
            assert_eq!((error.status.as_u16(), error.message, error.errors.len()), (status, expected, fields));
        }
    }
}
