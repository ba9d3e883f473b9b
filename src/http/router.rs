//! The route table of docs/api.md §2 and the middleware stack around it.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use super::AppState;
use super::drain::{DrainLimit, drain_unread_body};
use super::media_files::ReadAheadFiles;
use super::middleware::{
    RandomRequestId, cors, cross_site_guard, normalize_path, not_found, panic_response, run_to_completion,
    security_headers, streaming_types, tus_headers,
};
use super::openapi::{self, ApiDoc};
use super::rate_limit::{self, RateLimiter};
use super::routes::uploads::{direct, tus};
use super::routes::{
    SHAPE_RULES, blocks, comments, dashboard, health, history, likes, moderation, notifications, playlists, processing,
    reports, roles, search, sessions, subscriptions, tweets, users, videos,
};

/// Every API route, registered exactly once: the `#[utoipa::path]` attribute of its handler gives
/// the method and path (docs/api.md §2) to both the router and the OpenAPI document, so the two
/// cannot disagree. Handlers sharing a path share one `routes!`.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthcheck))
        .routes(routes!(users::register))
        .routes(routes!(sessions::login))
        .routes(routes!(sessions::logout))
        .routes(routes!(sessions::refresh_token))
        .routes(routes!(users::change_password))
        .routes(routes!(users::current_user))
        .routes(routes!(users::update_account))
        .routes(routes!(users::update_avatar))
        .routes(routes!(users::update_cover_image))
        .routes(routes!(users::channel_profile))
        .routes(routes!(history::watch_history, history::clear_history))
        .routes(routes!(history::forget_watch))
        .routes(routes!(history::pause_history))
        .routes(routes!(history::resume_history))
        .routes(routes!(users::delete_account))
        .routes(routes!(users::delete_account_alias))
        .routes(routes!(sessions::sessions))
        .routes(routes!(sessions::revoke_session))
        .routes(routes!(videos::list, videos::publish))
        .routes(routes!(videos::trending))
        .routes(routes!(videos::get, videos::update, videos::delete))
        .routes(routes!(videos::toggle_publish))
        .routes(routes!(search::related))
        .routes(routes!(search::videos))
        .routes(routes!(search::channels))
        .routes(routes!(search::suggest))
        .routes(routes!(processing::processing))
        .routes(routes!(comments::list_comments, comments::add_comment))
        .routes(routes!(comments::update_comment, comments::delete_comment))
        .routes(routes!(comments::list_replies))
        .routes(routes!(comments::pin_comment, comments::unpin_comment))
        .routes(routes!(comments::heart_comment))
        .routes(routes!(likes::like_video))
        .routes(routes!(likes::like_comment))
        .routes(routes!(likes::like_tweet))
        .routes(routes!(likes::liked_videos))
        .routes(routes!(tweets::create_tweet))
        .routes(routes!(tweets::user_tweets))
        .routes(routes!(tweets::update_tweet, tweets::delete_tweet))
        .routes(routes!(subscriptions::channel_subscribers, subscriptions::toggle_subscription))
        .routes(routes!(subscriptions::subscribed_channels))
        .routes(routes!(subscriptions::subscription_feed))
        .routes(routes!(subscriptions::subscription_feed_alias))
        .routes(routes!(playlists::create_playlist))
        .routes(routes!(playlists::get_playlist, playlists::update_playlist, playlists::delete_playlist))
        .routes(routes!(playlists::add_video))
        .routes(routes!(playlists::remove_video))
        .routes(routes!(playlists::user_playlists))
        .routes(routes!(dashboard::stats))
        .routes(routes!(dashboard::dashboard_videos))
        .routes(routes!(direct::sign))
        .routes(routes!(tus::capabilities, tus::create))
        .routes(routes!(tus::status, tus::append, tus::terminate))
        .routes(routes!(reports::report))
        .routes(routes!(moderation::report_queue))
        .routes(routes!(moderation::act))
        .routes(routes!(moderation::moderation_log))
        .routes(routes!(roles::set_role))
        .routes(routes!(blocks::blocked_users))
        .routes(routes!(blocks::block, blocks::unblock))
        .routes(routes!(notifications::list))
        .routes(routes!(notifications::unread_count))
        .routes(routes!(notifications::mark_read))
        .routes(routes!(notifications::read_all))
        .routes(routes!(notifications::stream))
        .routes(routes!(notifications::settings, notifications::update_settings))
}

/// The API router (paths already under `/api/v1`) and the OpenAPI document collected from the same
/// registrations, completed with the rules the annotations cannot state.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, document) = api_routes().split_for_parts();
    (
        router,
        openapi::complete(
            document,
            &SHAPE_RULES,
            &[&tus::TusRules, &reports::ReportRules, &moderation::ActionRules, &search::SearchRules],
        ),
    )
}

/// The OpenAPI document as served at `/api/v1/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    api().1
}

/// The whole application: API under /api/v1, local media under /media, JSON 404s elsewhere.
pub fn build(state: AppState, media_root: Option<PathBuf>) -> Router {
    let config = state.services.config().clone();
    let cors_origins = Arc::new(config.cors_origins.clone());
    let limiter = Arc::new(RateLimiter::new(config.rate_limits.clone(), config.trust_proxy, state.services.clone()));
    let (api, document) = api();
    let docs = SwaggerUi::new("/api/v1/docs").url("/api/v1/openapi.json", document);
    let mut routes = Router::new().merge(api).merge(docs).fallback(not_found).method_not_allowed_fallback(not_found);
    if let Some(root) = media_root {
        // 1 MiB reads instead of the default 64 KiB: fewer syscalls and frames per streamed video.
        let media = ServeDir::with_backend(root, ReadAheadFiles)
            .append_index_html_on_directories(false)
            .with_buf_chunk_size(1 << 20);
        let media = Router::new().fallback_service(media).layer(axum::middleware::from_fn(streaming_types));
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
        .layer(axum::middleware::from_fn(tus_headers))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(RandomRequestId));
    // Path normalisation and CORS must run before routing, so they wrap the routed app. The drain
    // wraps everything, so that every answer given before the body was read reaches the client.
    Router::new()
        .fallback_service(routes)
        .layer(axum::middleware::from_fn(normalize_path))
        .layer(axum::middleware::from_fn_with_state(cors_origins, cors))
        .layer(axum::middleware::from_fn_with_state(DrainLimit(config.max_drain_bytes), drain_unread_body))
}
