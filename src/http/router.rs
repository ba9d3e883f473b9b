//! The route table of contract §2 and the middleware stack around it.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use axum::routing::{get, patch, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::AppState;
use super::middleware::{RandomRequestId, cors, normalize_path, not_found, panic_response};
use super::routes::{health, users, videos};

fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/healthcheck", get(health::healthcheck))
        .route("/users/register", post(users::register))
        .route("/users/login", post(users::login))
        .route("/users/logout", post(users::logout))
        .route("/users/refresh-token", post(users::refresh_token))
        .route("/users/change-password", post(users::change_password))
        .route("/users/current-user", get(users::current_user))
        .route("/users/update-account", patch(users::update_account))
        .route("/users/avatar", patch(users::update_avatar))
        .route("/users/cover-image", patch(users::update_cover_image))
        .route("/users/c/{username}", get(users::channel_profile))
        .route("/users/history", get(users::watch_history))
        .route("/videos", get(videos::list).post(videos::publish))
        .route("/videos/{videoId}", get(videos::get).patch(videos::update).delete(videos::delete))
        .route("/videos/toggle/publish/{videoId}", patch(videos::toggle_publish))
}

/// The whole application: API under /api/v1, local media under /media, JSON 404s elsewhere.
pub fn build(state: AppState, media_root: Option<PathBuf>) -> Router {
    let cors_origins = Arc::new(state.services.config.cors_origins.clone());
    let mut routes =
        Router::new().nest("/api/v1", api_routes()).fallback(not_found).method_not_allowed_fallback(not_found);
    if let Some(root) = media_root {
        routes = routes.nest_service("/media", ServeDir::new(root).append_index_html_on_directories(false));
    }
    let routes = routes
        .with_state(state)
        .layer(DefaultBodyLimit::disable())
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(RandomRequestId));
    // Path normalisation and CORS must run before routing, so they wrap the routed app.
    Router::new()
        .fallback_service(routes)
        .layer(axum::middleware::from_fn(normalize_path))
        .layer(axum::middleware::from_fn_with_state(cors_origins, cors))
}
