//! Cross-cutting HTTP behaviour: trailing-slash tolerance, CORS (docs/api.md §1.10), JSON 404s,
//! panics as 500 envelopes, and request ids.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::request_id::{MakeRequestId, RequestId};
use tracing::Instrument;

use super::extract::authenticated_by_cookie;
use crate::config::CorsOrigins;
use crate::http::error::AppError;
use crate::services::uploads::tus::TUS_VERSION;

const DOCS_PREFIX: &str = "/api/v1/docs";
/// Where the resumable-upload (tus) routes live (docs/api.md §3.13).
const TUS_PATH: &str = "/api/v1/uploads/tus";
/// The tus headers a browser client must be able to read (docs/api.md §1.10).
const TUS_EXPOSED: &str = "Location, Upload-Offset, Upload-Length, Upload-Expires, Tus-Resumable, Tus-Version, \
                           Tus-Extension, Tus-Max-Size";
/// The tus request headers a preflight allows when it names none.
const TUS_ALLOWED: &str = "Authorization, Content-Type, Tus-Resumable, Upload-Length, Upload-Offset, Upload-Metadata";

fn is_tus(path: &str) -> bool {
    path.strip_prefix(TUS_PATH).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The request path as the client sent it, before trailing-slash normalisation.
#[derive(Clone)]
pub struct OriginalPath(pub String);

/// Strips one trailing slash so `/videos/` and `/videos` are the same route (no redirect).
pub async fn normalize_path(mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    req.extensions_mut().insert(OriginalPath(path.clone()));
    // Swagger UI lives under /api/v1/docs/ and redirects to that slash itself.
    if path.len() > 1 && path.ends_with('/') && !path.starts_with(DOCS_PREFIX) {
        let trimmed = path.trim_end_matches('/');
        let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
        let rebuilt = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_owned(),
        };
        if let Ok(uri) = rebuilt.parse::<Uri>() {
            *req.uri_mut() = uri;
        }
    }
    next.run(req).await
}

/// Reflects allowed origins with credentials; answers every preflight with 204. A plain `OPTIONS`
/// of the tus endpoint (no `Access-Control-Request-Method`) is tus discovery and goes to its route.
pub async fn cors(State(origins): State<Arc<CorsOrigins>>, req: Request, next: Next) -> Response {
    let tus = is_tus(req.uri().path());
    let asks_for_cors = req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let preflight = req.method() == Method::OPTIONS && (asks_for_cors || !tus);
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .filter(|o| origins.allows(o))
        .and_then(|o| HeaderValue::from_str(o).ok());
    let mut response = if preflight {
        let mut preflight = StatusCode::NO_CONTENT.into_response();
        if origin.is_some() {
            let headers = preflight.headers_mut();
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET,HEAD,PUT,PATCH,POST,DELETE"),
            );
            if let Some(requested) = req.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
                headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
            } else if tus {
                headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(TUS_ALLOWED));
            }
        }
        preflight
    } else {
        next.run(req).await
    };
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        if tus {
            headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(TUS_EXPOSED));
        }
    }
    response
}

/// Every answer under the tus endpoint carries `Tus-Resumable: 1.0.0`, and a 412 also the version
/// the server speaks (`Tus-Version`), as tus 1.0.0 requires.
pub async fn tus_headers(req: Request, next: Next) -> Response {
    if !is_tus(req.uri().path()) {
        return next.run(req).await;
    }
    let mut response = next.run(req).await;
    let version = HeaderValue::from_static(TUS_VERSION);
    if response.status() == StatusCode::PRECONDITION_FAILED {
        response.headers_mut().insert("tus-version", version.clone());
    }
    response.headers_mut().insert("tus-resumable", version);
    response
}

/// The media types of HLS files, which the file server's table gets wrong (`audio/x-mpegurl` for
/// playlists, a DLNA type for segments); players and browsers expect these.
fn streaming_type(path: &str) -> Option<&'static str> {
    if path.ends_with(".m3u8") {
        Some("application/vnd.apple.mpegurl")
    } else if path.ends_with(".ts") {
        Some("video/mp2t")
    } else {
        None
    }
}

/// Corrects the content type of served HLS playlists and segments (`streaming_type`).
pub async fn streaming_types(req: Request, next: Next) -> Response {
    let content_type = streaming_type(req.uri().path());
    let mut response = next.run(req).await;
    if let Some(content_type) = content_type
        && response.status().is_success()
    {
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    response
}

/// Headers every response carries: no sniffing, no referrer, and a CSP that lets nothing run,
/// which suits both JSON and the media files served from /media.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let docs = req.uri().path().starts_with(DOCS_PREFIX);
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // The docs page is the one HTML page served: it needs its own scripts, styles and images.
    let policy = if docs {
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
    } else {
        "default-src 'none'; frame-ancestors 'none'; sandbox"
    };
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    response
}

/// Refuses cookie-authenticated mutations from other sites (CSRF). Who is authenticated by a
/// cookie is decided by [`authenticated_by_cookie`], the rule the token extraction follows: an
/// `Authorization` header that carries no Bearer token of its own (empty, a placeholder such as
/// `Bearer null`, another scheme) exempts nothing, since browsers add some of those themselves.
pub async fn cross_site_guard(State(origins): State<Arc<CorsOrigins>>, req: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let headers = req.headers();
    if unsafe_method && authenticated_by_cookie(req.uri().path(), headers) {
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let cross_site = headers.get("sec-fetch-site").is_some_and(|v| v == "cross-site");
        let refused = match (origins.as_ref(), origin) {
            (CorsOrigins::List(list), Some(origin)) => !list.iter().any(|o| o == origin),
            _ => cross_site,
        };
        if refused {
            return AppError::forbidden("Cross-site request refused").into_response();
        }
    }
    next.run(req).await
}

/// 404 `Cannot <METHOD> <path>` for unknown paths and unlisted methods (there is no 405).
/// Runs the rest of the request in a task of its own, so a client that disconnects mid-request does
/// not cancel it half-way: a cancelled handler would leave a multi-step write half done, and on
/// MongoDB its abandoned connection checkout stays queued in the driver's pool and delays every
/// request after it. A panic in the task is resumed here, for the panic layer outside to answer.
///
/// Multipart uploads stay in the connection's task: their body chunks would otherwise be allocated
/// on one thread and freed on another, which the allocator pays for in resident memory (a 96 MiB
/// upload grew the peak by 45 MiB instead of 15). A cancelled upload already cleans up after itself:
/// its temp file is deleted on drop and stored media nobody references is reconciled away.
pub async fn run_to_completion(req: Request, next: Next) -> Response {
    let streams_a_file = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/"));
    if streams_a_file {
        return next.run(req).await;
    }
    match tokio::spawn(next.run(req).in_current_span()).await {
        Ok(response) => response,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only a runtime shutting down cancels the task; nobody is left to answer.
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

pub async fn not_found(req: Request<Body>) -> AppError {
    let path = req.extensions().get::<OriginalPath>().map_or_else(|| req.uri().path().to_owned(), |p| p.0.clone());
    AppError::not_found(format!("Cannot {} {}", req.method(), path))
}

/// A panic becomes the generic 500 envelope; the panic message goes to the log only.
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    AppError::internal(format!("handler panicked: {detail}")).into_response()
}

/// Random 16-hex-digit request ids for `x-request-id`.
#[derive(Clone, Default)]
pub struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&hex::encode(rand::random::<[u8; 8]>())).ok().map(RequestId::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_becomes_the_generic_500_envelope() {
        let response = panic_response(Box::new("secret detail at src/x.rs:1".to_string()));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"statusCode": 500, "data": null, "message": "Something went wrong", "success": false, "errors": []})
        );
    }
}
