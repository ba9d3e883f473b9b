//! `ServiceError`: what the rules decided went wrong, in their own terms. Services know nothing of
//! HTTP; the edge (`http::error`) gives each variant its status and envelope (docs/api.md §1.4).

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::BoxError;
use crate::media::{MediaError, UploadError};
use crate::store::StoreError;

// Written as is in the error envelope's `errors` (docs/api.md §1.4); the doc line below is the
// schema's description in docs/openapi.json.
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

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input breaks a rule: the client-facing message plus one entry per offending field
    /// (none when the message says it all).
    #[error("{message}")]
    Invalid { message: String, errors: Vec<FieldError> },
    /// No caller, or a credential that identifies none.
    #[error("{0}")]
    Unauthorized(String),
    /// The caller may not do this (someone else's record).
    #[error("{0}")]
    Forbidden(String),
    /// Missing, or not visible to the caller.
    #[error("{0}")]
    NotFound(String),
    /// A unique name or address is already taken.
    #[error("{0}")]
    Conflict(String),
    /// The caller's budget for this action is spent for `retry_after_secs` more.
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// An uploaded item is larger than its field allows (direct uploads, checked here).
    #[error("{}", .0.message)]
    TooLarge(FieldError),
    /// An uploaded item is not of a type its field accepts (direct uploads, checked here).
    #[error("{}", .0.message)]
    UnsupportedMediaType(FieldError),
    /// The media backend could not store an upload; `message` is the route's (docs/api.md §1.11).
    #[error("{message}")]
    UploadFailed {
        message: &'static str,
        #[source]
        source: MediaError,
    },
    /// The store cannot serve now (down, unreachable, a full disk or read-only file under SQLite)
    /// but may soon: the client is told to come back; the cause is kept for the log.
    #[error("store unavailable")]
    Unavailable(#[source] BoxError),
    /// A disk filled up while an upload was written; what was written of it has been removed.
    #[error("not enough storage")]
    InsufficientStorage(#[source] BoxError),
    /// Something below the rules failed (store, media, hashing, token signing); the client is told
    /// nothing more, the cause is kept for the log.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl ServiceError {
    /// Invalid input described by its message alone.
    pub fn invalid(message: impl Into<String>) -> Self {
        ServiceError::Invalid { message: message.into(), errors: Vec::new() }
    }

    /// Invalid input: the message plus one entry per offending field.
    pub fn invalid_fields(message: impl Into<String>, errors: Vec<FieldError>) -> Self {
        ServiceError::Invalid { message: message.into(), errors }
    }

    /// One invalid field whose message is also the error's message.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ServiceError::Invalid { errors: vec![FieldError::new(field, message.clone())], message }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        ServiceError::Unauthorized(message.into())
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ServiceError::Forbidden(message.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ServiceError::NotFound(message.into())
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        ServiceError::Conflict(message.into())
    }

    /// A failure below the rules caused by `cause`, kept as the source: `Unavailable` when an
    /// unavailable store caused it, `InsufficientStorage` when a full disk did, else `Internal`.
    pub fn internal(cause: impl Into<BoxError>) -> Self {
        let cause = cause.into();
        match below(cause.as_ref()) {
            Below::StoreUnavailable => ServiceError::Unavailable(cause),
            Below::DiskFull => ServiceError::InsufficientStorage(cause),
            Below::Other => ServiceError::Internal(cause),
        }
    }

    /// The media backend could not store an upload: `InsufficientStorage` on a full disk, else
    /// `UploadFailed` with the route's `message`.
    pub fn upload_failed(message: &'static str, source: MediaError) -> Self {
        match below(&source) {
            Below::DiskFull => ServiceError::InsufficientStorage(source.into()),
            _ => ServiceError::UploadFailed { message, source },
        }
    }
}

/// What a failure below the rules comes down to, read from its chain of causes.
enum Below {
    StoreUnavailable,
    DiskFull,
    Other,
}

fn below(error: &(dyn std::error::Error + 'static)) -> Below {
    let mut next = Some(error);
    while let Some(cause) = next {
        if cause.downcast_ref::<StoreError>().is_some_and(StoreError::is_unavailable) {
            return Below::StoreUnavailable;
        }
        if cause.downcast_ref::<std::io::Error>().is_some_and(is_disk_full) {
            return Below::DiskFull;
        }
        next = cause.source();
    }
    Below::Other
}

/// No space left on the device, or the user's quota spent (`ENOSPC`, `EDQUOT`).
fn is_disk_full(error: &std::io::Error) -> bool {
    matches!(error.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded)
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        ServiceError::internal(err)
    }
}

impl From<MediaError> for ServiceError {
    fn from(err: MediaError) -> Self {
        ServiceError::internal(err)
    }
}

/// A file refused by the upload checks (docs/api.md §1.11): 413 or 415 naming the field.
impl From<UploadError> for ServiceError {
    fn from(err: UploadError) -> Self {
        match &err {
            UploadError::TooLarge { field, .. } => ServiceError::TooLarge(FieldError::new(field, err.to_string())),
            UploadError::WrongType { field, .. } => {
                ServiceError::UnsupportedMediaType(FieldError::new(field, err.to_string()))
            }
            UploadError::Io(_) => ServiceError::internal(err),
        }
    }
}
