//! The success envelope of docs/api.md §1.3 and the JSON response writer shared with errors.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

pub const JSON_UTF8: &str = "application/json; charset=utf-8";

/// Serialises `body` with the content type of docs/api.md §1.3.
pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut response = (status, bytes).into_response();
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
            response
        }
        Err(e) => crate::error::AppError::internal(e).into_response(),
    }
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
