//! Abuse limits, security headers, cross-site protection and crash safety.

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::fixtures;
use crate::helpers::{MediaBackend, PROCESSING_OFF, Resp, ServerProcess, TestApp};

#[tokio::test]
async fn login_budget_answers_429_with_retry_after() {
    let app = TestApp::builder().env("RATE_LIMIT_ENABLED", "true").env("RATE_LIMIT_AUTH", "3/1m").spawn().await;
    app.register("asha").await;
    for _ in 0..2 {
        app.login("asha", "wrong").await.err(401, "Invalid user credentials");
    }
    let limited = app.login("asha", "pass-word").await;
    let retry_after: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    limited.err(429, &format!("Too many requests, please retry after {retry_after} seconds"));
    app.get("/videos", None).await.ok(200, "Videos fetched successfully");
    app.get("/healthcheck", None).await.ok(200, "OK");
}

#[tokio::test]
async fn general_budget_is_per_client_address_behind_a_trusted_proxy() {
    let app = TestApp::builder()
        .env("RATE_LIMIT_ENABLED", "true")
        .env("RATE_LIMIT_API", "2/1h")
        .env("TRUST_PROXY", "true")
        .spawn()
        .await;
    let from =
        |ip: &'static str| app.request(Method::GET, "/videos").header("X-Forwarded-For", format!("{ip}, 10.0.0.1"));
    assert_eq!(app.send(from("203.0.113.7")).await.status, 200);
    assert_eq!(app.send(from("203.0.113.7")).await.status, 200);
    app.send(from("203.0.113.7")).await.err(429, &format!("Too many requests, please retry after {} seconds", 3600));
    assert_eq!(app.send(from("198.51.100.2")).await.status, 200, "another client has its own budget");
}

#[tokio::test]
async fn responses_carry_security_headers() {
    // Local media is served by the app itself; this checks that serving.
    let app = TestApp::builder().media(MediaBackend::Local).spawn().await;
    let s = app.user("asha").await;
    let avatar = app.get("/users/current-user", Some(&s)).await.data()["avatar"].as_str().unwrap().to_owned();
    let json_resp = app.client.get(app.url("/videos")).send().await.unwrap();
    let media_resp = app.client.get(&avatar).send().await.unwrap();
    let missing = app.client.get(app.url("/nope")).send().await.unwrap();
    for resp in [&json_resp, &media_resp, &missing] {
        let h = resp.headers();
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["content-security-policy"], "default-src 'none'; frame-ancestors 'none'; sandbox");
    }
    let login = app.login("asha", "pass-word").await;
    assert_eq!(login.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn cookie_authenticated_mutations_from_other_sites_are_refused() {
    let app = TestApp::builder().env("CORS_ORIGIN", "http://app.test").spawn().await;
    let s = app.user("asha").await;
    let cookie = format!("accessToken={}", s.access);
    let create = |origin: &str| {
        app.request(Method::POST, "/tweets")
            .header("Cookie", cookie.clone())
            .header("Origin", origin.to_owned())
            .json(&json!({"content": "hi"}))
    };
    app.send(create("http://evil.test")).await.err(403, "Cross-site request refused");
    app.send(create("http://app.test")).await.ok(201, "Tweet created successfully");
    let with_bearer = app
        .request(Method::POST, "/tweets")
        .bearer_auth(&s.access)
        .header("Origin", "http://evil.test")
        .json(&json!({"content": "hi"}));
    app.send(with_bearer).await.ok(201, "Tweet created successfully");
    let cross_site = app
        .request(Method::POST, "/tweets")
        .header("Cookie", cookie.clone())
        .header("Sec-Fetch-Site", "cross-site")
        .json(&json!({"content": "hi"}));
    app.send(cross_site).await.err(403, "Cross-site request refused");
    let read =
        app.request(Method::GET, "/users/current-user").header("Cookie", cookie).header("Origin", "http://evil.test");
    app.send(read).await.ok(200, "User fetched successfully");
}

/// A body that sends `head` and then never finishes, like a client stuck mid-upload.
fn stalled_body(head: Vec<u8>) -> reqwest::Body {
    let first = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(head))]);
    let rest = futures_util::stream::pending::<Result<bytes::Bytes, std::io::Error>>();
    reqwest::Body::wrap_stream(futures_util::StreamExt::chain(first, rest))
}

#[tokio::test]
async fn killing_the_server_mid_upload_loses_nothing_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let vars =
        [("BCRYPT_COST", "4"), ("RATE_LIMIT_ENABLED", "false"), ("MEDIA_ORPHAN_GRACE_SECS", "0"), PROCESSING_OFF];
    let mut server = ServerProcess::start(dir.path(), &vars).await.expect("server starts");
    let client = crate::helpers::http_client();
    let api = |base: &str, path: &str| format!("{base}/api/v1{path}");
    let register = client.post(api(&server.base, "/users/register")).multipart(TestApp::registration_form("asha"));
    assert_eq!(register.send().await.unwrap().status(), 201);
    let login =
        client.post(api(&server.base, "/users/login")).json(&json!({"username": "asha", "password": "pass-word"}));
    let login = Resp::from(login.send().await.unwrap()).await;
    let token = login.data()["accessToken"].as_str().unwrap().to_owned();

    let mut head = fixtures::mp4(5);
    head.resize(256 * 1024, 0);
    let form = Form::new()
        .text("title", "t")
        .text("description", "d")
        .part("videoFile", Part::stream_with_length(stalled_body(head), 10 << 20).file_name("v.mp4"));
    let upload = client.post(api(&server.base, "/videos")).bearer_auth(&token).multipart(form).send();
    let upload = tokio::spawn(upload);
    let temp = dir.path().join("data/tmp");
    let mut saw_temp_file = false;
    for _ in 0..200 {
        if std::fs::read_dir(&temp).unwrap().count() > 0 {
            saw_temp_file = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(saw_temp_file, "the upload was in flight");
    // An object stored just before a crash, never committed to a record:
    let orphan = dir.path().join("data/media/videos/0123456789abcdef0123456789abcdef.mp4");
    std::fs::write(&orphan, fixtures::mp4(5)).unwrap();
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    upload.abort();

    let server = ServerProcess::start(dir.path(), &vars).await.expect("server restarts");
    assert_eq!(std::fs::read_dir(&temp).unwrap().count(), 0, "leftover temp files removed at start");
    let mut orphan_gone = false;
    for _ in 0..200 {
        if !orphan.exists() {
            orphan_gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(orphan_gone, "unreferenced media removed at start");
    let login =
        client.post(api(&server.base, "/users/login")).json(&json!({"username": "asha", "password": "pass-word"}));
    let login = Resp::from(login.send().await.unwrap()).await;
    let avatar = login.ok(200, "User logged In Successfully")["user"]["avatar"].as_str().unwrap().to_owned();
    let avatar_name = avatar.rsplit('/').next().unwrap();
    assert!(dir.path().join("data/media/images").join(avatar_name).exists(), "referenced media kept");
    let videos = Resp::from(client.get(api(&server.base, "/videos")).send().await.unwrap()).await;
    assert_eq!(videos.data()["totalDocs"], 0, "the interrupted upload left no record");
}
