//! `AppError`: the one error type at the HTTP edge, rendered as the JSON error envelope of docs/api.md §1.4.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::envelope::json_response;
use crate::media::MediaError;
use crate::store::StoreError;

/// One offending field of a validation failure.
#[derive(Serialize, ToSchema, Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into() }
    }
}

/// An error a client sees: status, message and per-field details. Internal causes are logged, never sent.
#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub message: String,
    pub errors: Vec<FieldError>,
}

impl AppError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        AppError { status, message: message.into(), errors: Vec::new() }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// A 500 whose cause is logged here, once; the client sees only the generic message of docs/api.md §1.4.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong")
    }

    /// A 500 with a route-specific upload message (docs/api.md §1.11), cause logged.
    pub fn upload_failed(message: &str, cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "{message}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// A validation failure: the message plus one entry per offending field.
    pub fn invalid(status: StatusCode, message: impl Into<String>, errors: Vec<FieldError>) -> Self {
        AppError { status, message: message.into(), errors }
    }

    /// A single-field failure whose message is also the field's message.
    pub fn field(status: StatusCode, field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::invalid(status, message.clone(), vec![FieldError::new(field, message)])
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        AppError::internal(err)
    }
}

impl From<MediaError> for AppError {
    fn from(err: MediaError) -> Self {
        AppError::internal(err)
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
        json_response(status, &body)
    }
}
