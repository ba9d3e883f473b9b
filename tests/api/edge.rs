//! The HTTP edge: routing, 404s, envelopes, input typing, body limits, CORS, startup checks.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{ServerProcess, TestApp};

/// Processing is off in `TestApp` unless a test turns it on (tests/api/processing.rs covers it on).
#[tokio::test]
async fn healthcheck_reports_both_backends() {
    let app = TestApp::spawn().await;
    let resp = app.get("/healthcheck", None).await;
    let data = resp.ok(200, "OK");
    assert_eq!(
        data,
        &json!({"status": "OK", "store": {"backend": app.store_backend(), "reachable": true},
        "media": {"backend": app.media_backend(), "reachable": true},
        "processing": {"enabled": false, "ffmpeg": null}})
    );
    assert_eq!(app.get("/healthcheck/", None).await.status, 200, "trailing slash is the same route");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json_404() {
    let app = TestApp::spawn().await;
    let resp = app.send(app.request(Method::DELETE, "/users/no-such-route")).await;
    assert_eq!(resp.err(404, "Cannot DELETE /api/v1/users/no-such-route"), &json!([]));
    let resp = app.send(app.request(Method::DELETE, "/users/current-user")).await;
    resp.err(404, "Cannot DELETE /api/v1/users/current-user");
    let resp = app.send(app.request(Method::PUT, "/healthcheck")).await;
    resp.err(404, "Cannot PUT /api/v1/healthcheck");
    let resp = app.send(app.client.get(format!("{}/api/v1/Videos", app.base))).await;
    resp.err(404, "Cannot GET /api/v1/Videos");
    let resp = app.send(app.client.get(format!("{}/temp/upload-x", app.base))).await;
    resp.err(404, "Cannot GET /temp/upload-x");
    // The subscription feed's alias is a route now (docs/api.md §3.12); its neighbours are not.
    let resp = app.get("/users/subscriptions/channels", None).await;
    resp.err(404, "Cannot GET /api/v1/users/subscriptions/channels");
}

#[tokio::test]
async fn head_answers_like_get_without_a_body() {
    let app = TestApp::spawn().await;
    let resp = app.client.head(app.url("/healthcheck")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "");
}

#[tokio::test]
async fn json_bodies_are_typed_objects_within_the_size_limit() {
    let app = TestApp::spawn().await;
    let resp = app.json(Method::POST, "/users/login", None, json!({"username": 5, "password": ["x"]})).await;
    let errors = resp.err(400, "username must be a string");
    assert_eq!(
        errors,
        &json!([{"field": "username", "message": "username must be a string"},
        {"field": "password", "message": "password must be a string"}])
    );
    let resp = app.json(Method::POST, "/users/login", None, json!({"username": {"$ne": null}, "password": "x"})).await;
    resp.err(400, "username must be a string");
    let resp = app.json(Method::POST, "/users/login", None, json!(["a"])).await;
    resp.err(400, "Request body must be a JSON object");
    let raw = app.request(Method::POST, "/users/login").header("content-type", "application/json").body("{nope");
    app.send(raw).await.err(400, "Invalid JSON body");
    let big = json!({"username": "a".repeat(17_000), "password": "x"});
    app.json(Method::POST, "/users/login", None, big).await.err(413, "Request body exceeds the maximum size of 16 KB");
}

#[tokio::test]
async fn cors_reflects_allowed_origins_with_credentials() {
    let app = TestApp::builder().env("CORS_ORIGIN", "http://app.test").spawn().await;
    let allowed = app.client.get(app.url("/healthcheck")).header("Origin", "http://app.test").send().await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "http://app.test");
    assert_eq!(allowed.headers()["access-control-allow-credentials"], "true");
    assert!(allowed.headers().get_all("vary").iter().any(|v| v == "Origin"));
    let other = app.client.get(app.url("/healthcheck")).header("Origin", "http://evil.test").send().await.unwrap();
    assert_eq!(other.status(), 200, "processed without CORS headers");
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url("/videos"))
        .header("Origin", "http://app.test")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "authorization,content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(preflight.headers()["access-control-allow-methods"], "GET,HEAD,PUT,PATCH,POST,DELETE");
    assert_eq!(preflight.headers()["access-control-allow-headers"], "authorization,content-type");
}

#[tokio::test]
async fn any_origin_is_reflected_never_star() {
    let app = TestApp::spawn().await;
    let resp = app.client.get(app.url("/healthcheck")).header("Origin", "http://x.test").send().await.unwrap();
    assert_eq!(resp.headers()["access-control-allow-origin"], "http://x.test");
}

#[tokio::test]
async fn binary_starts_with_an_empty_environment_and_refuses_short_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), &[]).await;
    assert!(server.is_some(), "server answered the healthcheck with no configuration");
    drop(server);
    assert!(dir.path().join("data/videotube.db").exists(), "default DATA_DIR is ./data");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_videotube"))
        .env_clear()
        .env("PORT", "0")
        .env("ACCESS_TOKEN_SECRET", "0123456789")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ACCESS_TOKEN_SECRET"), "stderr: {stderr}");
}

#[tokio::test]
async fn an_unreachable_mongodb_stops_startup_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_videotube"))
        .env_clear()
        .env("PORT", "0")
        .env("MONGODB_URI", "mongodb://127.0.0.1:9/tube?serverSelectionTimeoutMS=300&connectTimeoutMS=300")
        .current_dir(dir.path())
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot reach MongoDB at 127.0.0.1:9 (database `tube`)"), "stderr: {stderr}");
    assert!(!dir.path().join("data/videotube.db").exists(), "no SQLite file is created when MongoDB is chosen");
}
