//! Access-token placeholders (docs/api.md §1.7): `Authorization` values that carry no token of the
//! client's own count as absent, the `accessToken` cookie is read, and such a request is
//! cookie-authenticated for the cross-site guard (§1.15).

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Session, TestApp};

/// Every `Authorization` value that counts as absent, including the non-Bearer scheme.
const ABSENT: [&str; 10] = [
    "",
    "Bearer",
    "Bearer ",
    "Bearer null",
    "Bearer undefined",
    "bearer NULL",
    "BEARER Undefined",
    "  Bearer     null  ",
    "Basic eHl6OnBhc3M=",
    "null",
];

fn cookie(s: &Session) -> String {
    format!("accessToken={}", s.access)
}

fn tweet(app: &TestApp, authorization: &str, cookie: Option<&str>) -> reqwest::RequestBuilder {
    let mut request =
        app.request(Method::POST, "/tweets").header("Authorization", authorization).json(&json!({"content": "hi"}));
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie.to_owned());
    }
    request
}

async fn tweet_count(app: &TestApp, s: &Session) -> usize {
    let list = app.get(&format!("/tweets/user/{}", s.id), None).await;
    list.ok(200, "Tweets fetched successfully").as_array().unwrap().len()
}

#[tokio::test]
async fn placeholder_headers_fall_back_to_the_cookie() {
    let app = TestApp::spawn().await;
    let s = app.user("asha").await;
    for value in ABSENT {
        let resp = app.send(tweet(&app, value, Some(&cookie(&s)))).await;
        assert_eq!(resp.status, 201, "Authorization: {value:?} + cookie: {}", resp.body);
        resp.ok(201, "Tweet created successfully");
    }
    assert_eq!(tweet_count(&app, &s).await, ABSENT.len());
}

#[tokio::test]
async fn a_real_header_value_still_beats_the_cookie() {
    let app = TestApp::spawn().await;
    let s = app.user("asha").await;
    for value in ["Bearer abc", "bearer   abc", "Bearer nullx", "Bearer null.undefined"] {
        app.send(tweet(&app, value, Some(&cookie(&s)))).await.err(401, "jwt malformed");
    }
    // A value that is not text is still a Bearer token, and not a valid one.
    let latin1 = reqwest::header::HeaderValue::from_bytes(b"Bearer \xe9").unwrap();
    let request = app.request(Method::POST, "/tweets").header("Authorization", latin1).header("Cookie", cookie(&s));
    app.send(request.json(&json!({"content": "hi"}))).await.err(401, "jwt malformed");
    // The header's token is used as is: a valid one wins over a stale cookie.
    let header_wins = tweet(&app, &format!("Bearer   {}", s.access), Some("accessToken=garbage"));
    app.send(header_wins).await.ok(201, "Tweet created successfully");
    assert_eq!(tweet_count(&app, &s).await, 1);
}

#[tokio::test]
async fn placeholders_without_a_cookie_are_anonymous() {
    let app = TestApp::spawn().await;
    let s = app.user("asha").await;
    for value in ["Bearer null", "Bearer undefined", "", "Basic eHl6OnBhc3M="] {
        app.send(tweet(&app, value, None)).await.err(401, "Unauthorized request");
        let profile = app.request(Method::GET, "/users/c/asha").header("Authorization", value);
        let data = app.send(profile).await.ok(200, "User channel fetched successfully").clone();
        assert!(data.get("email").is_none(), "anonymous with {value:?}: {data}");
        let with_cookie =
            app.request(Method::GET, "/users/c/asha").header("Authorization", value).header("Cookie", cookie(&s));
        let data = app.send(with_cookie).await.ok(200, "User channel fetched successfully").clone();
        assert_eq!(data["email"], "asha@example.com", "the cookie's user with {value:?}");
    }
    assert_eq!(tweet_count(&app, &s).await, 0);

    let private = TestApp::builder().env("PUBLIC_READS", "false").spawn().await;
    private.user("asha").await;
    let profile = private.request(Method::GET, "/users/c/asha").header("Authorization", "Bearer null");
    private.send(profile).await.err(401, "Unauthorized request");
}

/// A cross-site cookie write with `authorization` is refused and creates nothing, whether the
/// site is told by `Origin` (CORS_ORIGIN a list) or by `Sec-Fetch-Site` (CORS_ORIGIN `*`).
async fn assert_cross_site_refused(authorization: &str) {
    let listed = TestApp::builder().env("CORS_ORIGIN", "https://app.example").spawn().await;
    let s = listed.user("asha").await;
    let from = |origin: &str| tweet(&listed, authorization, Some(&cookie(&s))).header("Origin", origin.to_owned());
    let resp = listed.send(from("https://evil.example")).await;
    assert_eq!(resp.status, 403, "Origin, Authorization: {authorization:?}: {}", resp.body);
    resp.err(403, "Cross-site request refused");
    assert_eq!(tweet_count(&listed, &s).await, 0, "nothing created with {authorization:?}");
    listed.send(from("https://app.example")).await.ok(201, "Tweet created successfully");

    let any = TestApp::spawn().await;
    let s = any.user("asha").await;
    let with_site =
        |site: &str| tweet(&any, authorization, Some(&cookie(&s))).header("Sec-Fetch-Site", site.to_owned());
    let resp = any.send(with_site("cross-site")).await;
    assert_eq!(resp.status, 403, "Sec-Fetch-Site, Authorization: {authorization:?}: {}", resp.body);
    resp.err(403, "Cross-site request refused");
    assert_eq!(tweet_count(&any, &s).await, 0, "nothing created with {authorization:?}");
    any.send(with_site("same-origin")).await.ok(201, "Tweet created successfully");
}

#[tokio::test]
async fn an_empty_authorization_header_does_not_pass_the_cross_site_guard() {
    assert_cross_site_refused("").await;
}

#[tokio::test]
async fn a_non_bearer_scheme_does_not_pass_the_cross_site_guard() {
    assert_cross_site_refused("Basic eHl6OnBhc3M=").await;
}

#[tokio::test]
async fn no_placeholder_passes_the_cross_site_guard() {
    for value in ABSENT {
        assert_cross_site_refused(value).await;
    }
}

#[tokio::test]
async fn a_bearer_header_does_not_let_the_refresh_cookie_through_cross_site() {
    let app = TestApp::builder().env("CORS_ORIGIN", "https://app.example").spawn().await;
    let s = app.user("asha").await;
    let refresh = |origin: &str| {
        app.request(Method::POST, "/users/refresh-token")
            .header("Authorization", "Bearer abc")
            .header("Cookie", format!("refreshToken={}", s.refresh))
            .header("Origin", origin.to_owned())
    };
    app.send(refresh("https://evil.example")).await.err(403, "Cross-site request refused");
    let trailing_slash = app
        .request(Method::POST, "/users/refresh-token/")
        .header("Authorization", "Bearer abc")
        .header("Cookie", format!("refreshToken={}", s.refresh))
        .header("Origin", "https://evil.example");
    app.send(trailing_slash).await.err(403, "Cross-site request refused");
    let any = TestApp::spawn().await;
    let t = any.user("asha").await;
    let cross_site = any
        .request(Method::POST, "/users/refresh-token")
        .header("Authorization", format!("Bearer {}", t.access))
        .header("Cookie", format!("refreshToken={}", t.refresh))
        .header("Sec-Fetch-Site", "cross-site");
    any.send(cross_site).await.err(403, "Cross-site request refused");
    // Not consumed by the refused attempts: the same token still refreshes from the listed origin.
    app.send(refresh("https://app.example")).await.ok(200, "Access token refreshed");
    // A real Bearer token is still enough on other routes, cross-site, with or without cookies.
    let bearer_only = app
        .request(Method::POST, "/tweets")
        .bearer_auth(&s.access)
        .header("Origin", "https://evil.example")
        .header("Cookie", format!("accessToken={}; refreshToken={}", s.access, s.refresh))
        .json(&json!({"content": "hi"}));
    app.send(bearer_only).await.ok(201, "Tweet created successfully");
}
