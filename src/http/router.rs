//! The route table of docs/api.md §2 and the middleware stack around it.

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
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use super::AppState;
use super::middleware::{
    RandomRequestId, cors, cross_site_guard, normalize_path, not_found, panic_response, run_to_completion,
    security_headers,
};
use super::openapi::ApiDoc;
use super::rate_limit::{self, RateLimiter};
use super::routes::{channels, health, social, uploads, users, videos};

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
        .route("/comments/{videoId}", get(social::list_comments).post(social::add_comment))
        .route("/comments/c/{commentId}", patch(social::update_comment).delete(social::delete_comment))
        .route("/likes/toggle/v/{videoId}", post(social::like_video))
        .route("/likes/toggle/c/{commentId}", post(social::like_comment))
        .route("/likes/toggle/t/{tweetId}", post(social::like_tweet))
        .route("/likes/videos", get(social::liked_videos))
        .route("/tweets", post(social::create_tweet))
        .route("/tweets/user/{userId}", get(social::user_tweets))
        .route("/tweets/{tweetId}", patch(social::update_tweet).delete(social::delete_tweet))
        .route("/subscriptions/c/{channelId}", get(channels::channel_subscribers).post(channels::toggle_subscription))
        .route("/subscriptions/u/{subscriberId}", get(channels::subscribed_channels))
        .route("/playlist", post(channels::create_playlist))
        .route(
            "/playlist/{playlistId}",
            get(channels::get_playlist).patch(channels::update_playlist).delete(channels::delete_playlist),
        )
        .route("/playlist/add/{videoId}/{playlistId}", patch(channels::add_video))
        .route("/playlist/remove/{videoId}/{playlistId}", patch(channels::remove_video))
        .route("/playlist/user/{userId}", get(channels::user_playlists))
        .route("/dashboard/stats", get(channels::stats))
        .route("/dashboard/videos", get(channels::dashboard_videos))
        .route("/uploads/signature", post(uploads::sign))
}

/// The whole application: API under /api/v1, local media under /media, JSON 404s elsewhere.
pub fn build(state: AppState, media_root: Option<PathBuf>) -> Router {
    let config = state.services.config().clone();
    let cors_origins = Arc::new(config.cors_origins.clone());
    let limiter = Arc::new(RateLimiter::new(config.rate_limits.clone(), config.trust_proxy, state.services.clone()));
    let docs = SwaggerUi::new("/api/v1/docs").url("/api/v1/openapi.json", ApiDoc::openapi());
    let mut routes = Router::new()
        .nest("/api/v1", api_routes())
        .merge(docs)
        .fallback(not_found)
        .method_not_allowed_fallback(not_found);
    if let Some(root) = media_root {
        // 1 MiB reads instead of the default 64 KiB: fewer syscalls and frames per streamed video.
        let media = ServeDir::new(root).append_index_html_on_directories(false).with_buf_chunk_size(1 << 20);
        routes = routes.nest_service("/media", media);
    }
    let routes = routes
        .with_state(state)
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(cors_origins.clone(), cross_site_guard))
        .layer(axum::middleware::from_fn_with_state(limiter, rate_limit::enforce))
        .layer(axum::middleware::from_fn(run_to_completion))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(axum::middleware::from_fn(security_headers))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(RandomRequestId));
    // Path normalisation and CORS must run before routing, so they wrap the routed app.
    Router::new()
        .fallback_service(routes)
        .layer(axum::middleware::from_fn(normalize_path))
        .layer(axum::middleware::from_fn_with_state(cors_origins, cors))
}
