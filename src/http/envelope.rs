//! The success envelope of docs/api.md §1.3 and the JSON response writer shared with errors
//! (`http::error` renders the error envelope through it; nothing here depends on that module).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

pub const JSON_UTF8: &str = "application/json; charset=utf-8";

/// The message of every 500 without a route-specific one (docs/api.md §1.4).
pub const INTERNAL_MESSAGE: &str = "Something went wrong";

/// The generic 500 error envelope, written as is when a body cannot be serialised (checked against
/// `ErrorEnvelope` by a test in `http::error`).
pub const INTERNAL_BODY: &str =
    r#"{"statusCode":500,"data":null,"message":"Something went wrong","success":false,"errors":[]}"#;

/// Serialises `body` with the content type of docs/api.md §1.3; a body that cannot be serialised
/// is logged and answered with the generic 500 envelope.
pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    let (status, bytes) = match serde_json::to_vec(body) {
        Ok(bytes) => (status, bytes),
        Err(e) => {
            tracing::error!(error = %e, "internal error");
            (StatusCode::INTERNAL_SERVER_ERROR, INTERNAL_BODY.as_bytes().to_vec())
        }
    };
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    response
}

/// A success answer: status, message and data, written as an `Envelope`.
pub struct ApiResponse<T> {
    status: StatusCode,
    message: &'static str,
    data: T,
}

impl<T: Serialize> ApiResponse<T> {
    pub fn ok(message: &'static str, data: T) -> Self {
        ApiResponse { status: StatusCode::OK, message, data }
    }

    pub fn created(message: &'static str, data: T) -> Self {
        ApiResponse { status: StatusCode::CREATED, message, data }
    }
}

/// The success envelope as written on the wire (and documented).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Envelope<T> {
    #[schema(example = 200)]
    pub status_code: u16,
    pub data: T,
    pub message: String,
    #[schema(example = true)]
    pub success: bool,
}

impl<T: Serialize> IntoResponse for ApiResponse<T> {
    fn into_response(self) -> Response {
        let status = self.status;
        let body =
            Envelope { status_code: status.as_u16(), data: self.data, message: self.message.to_owned(), success: true };
        json_response(status, &body)
    }
}

/// The empty object used as `data` by routes that return nothing.
#[derive(Serialize, ToSchema)]
pub struct Empty {}
