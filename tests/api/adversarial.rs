//! The negative set for every route, generated from one table: 401 without, with a malformed and
//! with an expired token; 400 for each malformed path id; 404 for well-formed unknown ids.
//! (403 as another user is covered route by route in `social::authorization_matrix_for_another_user`.)

use jsonwebtoken::{EncodingKey, Header};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{Session, TestApp};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Auth {
    None,
    Optional,
    Required,
}

/// Method, path template, auth mode, and the 404 message when every path id is unknown.
pub const ROUTES: &[(&str, &str, Auth, Option<&str>)] = &[
    ("GET", "/healthcheck", Auth::None, None),
    ("POST", "/users/register", Auth::None, None),
    ("POST", "/users/login", Auth::None, None),
    ("POST", "/users/logout", Auth::Required, None),
    ("POST", "/users/refresh-token", Auth::None, None),
    ("POST", "/users/change-password", Auth::Required, None),
    ("GET", "/users/current-user", Auth::Required, None),
    ("PATCH", "/users/update-account", Auth::Required, None),
    ("PATCH", "/users/avatar", Auth::Required, None),
    ("PATCH", "/users/cover-image", Auth::Required, None),
    ("GET", "/users/c/nobody", Auth::Optional, Some("channel does not exists")),
    ("GET", "/users/history", Auth::Required, None),
    ("POST", "/tweets", Auth::Required, None),
    ("GET", "/tweets/user/{userId}", Auth::Optional, Some("User not found")),
    ("PATCH", "/tweets/{tweetId}", Auth::Required, Some("Tweet not found")),
    ("DELETE", "/tweets/{tweetId}", Auth::Required, Some("Tweet not found")),
    ("GET", "/subscriptions/c/{channelId}", Auth::Optional, Some("Channel not found")),
    ("POST", "/subscriptions/c/{channelId}", Auth::Required, Some("Channel not found")),
    ("GET", "/subscriptions/u/{subscriberId}", Auth::Optional, Some("User not found")),
    ("GET", "/videos", Auth::Optional, None),
    ("POST", "/videos", Auth::Required, None),
    ("GET", "/videos/{videoId}", Auth::Optional, Some("Video not found")),
    ("PATCH", "/videos/{videoId}", Auth::Required, Some("Video not found")),
    ("DELETE", "/videos/{videoId}", Auth::Required, Some("Video not found")),
    ("PATCH", "/videos/toggle/publish/{videoId}", Auth::Required, Some("Video not found")),
    ("GET", "/comments/{videoId}", Auth::Optional, Some("Video not found")),
    ("POST", "/comments/{videoId}", Auth::Required, Some("Video not found")),
    ("DELETE", "/comments/c/{commentId}", Auth::Required, Some("Comment not found")),
    ("PATCH", "/comments/c/{commentId}", Auth::Required, Some("Comment not found")),
    ("POST", "/likes/toggle/v/{videoId}", Auth::Required, Some("Video not found")),
    ("POST", "/likes/toggle/c/{commentId}", Auth::Required, Some("Comment not found")),
    ("POST", "/likes/toggle/t/{tweetId}", Auth::Required, Some("Tweet not found")),
    ("GET", "/likes/videos", Auth::Required, None),
    ("POST", "/playlist", Auth::Required, None),
    ("GET", "/playlist/{playlistId}", Auth::Optional, Some("Playlist not found")),
    ("PATCH", "/playlist/{playlistId}", Auth::Required, Some("Playlist not found")),
    ("DELETE", "/playlist/{playlistId}", Auth::Required, Some("Playlist not found")),
    ("PATCH", "/playlist/add/{videoId}/{playlistId}", Auth::Required, Some("Playlist not found")),
    ("PATCH", "/playlist/remove/{videoId}/{playlistId}", Auth::Required, Some("Playlist not found")),
    ("GET", "/playlist/user/{userId}", Auth::Optional, Some("User not found")),
    ("GET", "/dashboard/stats", Auth::Required, None),
    ("GET", "/dashboard/videos", Auth::Required, None),
];

pub const UNKNOWN_ID: &str = "6650a1b2c3d4e5f601234567";

/// The `{name}` placeholders of a template, in path order.
fn params(template: &str) -> Vec<&str> {
    template.split('/').filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}')).collect()
}

fn fill(template: &str, value_of: impl Fn(usize, &str) -> String) -> String {
    let mut index = 0;
    let segments: Vec<String> = template
        .split('/')
        .map(|seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                let value = value_of(index, name);
                index += 1;
                value
            }
            None => seg.to_owned(),
        })
        .collect();
    segments.join("/")
}

fn expired_token(app: &TestApp, user_id: &str) -> String {
    let secret = std::fs::read(app.data_dir.path().join("secrets/access_token_secret")).unwrap();
    let claims = json!({"_id": user_id, "email": "x", "username": "x", "fullName": "x", "iat": 1_000, "exp": 2_000});
    jsonwebtoken::encode(&Header::default(), &claims, &EncodingKey::from_secret(&secret)).unwrap()
}

#[tokio::test]
async fn every_route_rejects_bad_tokens_malformed_ids_and_unknown_ids() {
    let app = TestApp::spawn().await;
    let s = app.user("asha").await;
    let bad_tokens = [
        ("not-a-jwt".to_owned(), "jwt malformed"),
        (expired_token(&app, &s.id), "jwt expired"),
        (format!("{}x", s.access), "invalid signature"),
    ];
    let mut cases = 0;
    for &(method, template, auth, not_found) in ROUTES {
        let method: Method = method.parse().unwrap();
        let unknown = fill(template, |_, _| UNKNOWN_ID.to_owned());
        let send = async |path: &str, token: Option<&str>| {
            let mut request = app.request(method.clone(), path).json(&json!({}));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            app.send(request).await
        };
        if auth == Auth::Required {
            send(&unknown, None).await.err(401, "Unauthorized request");
            cases += 1;
        }
        if auth != Auth::None {
            for (token, message) in &bad_tokens {
                send(&unknown, Some(token)).await.err(401, message);
                cases += 1;
            }
        }
        for (position, name) in params(template).into_iter().enumerate() {
            let path = fill(template, |i, _| if i == position { "not-an-id".into() } else { UNKNOWN_ID.into() });
            send(&path, Some(&s.access)).await.err(400, &format!("Invalid {name}"));
            cases += 1;
        }
        if let Some(message) = not_found {
            send(&unknown, Some(&s.access)).await.err(404, message);
            cases += 1;
        }
    }
    eprintln!("{} routes, {cases} negative cases", ROUTES.len());
    assert_eq!(ROUTES.len(), 42, "the contract's complete inventory");
    assert!(cases > 150, "{cases} negative cases ran");
}

#[tokio::test]
async fn server_owned_fields_are_ignored_on_writes() {
    let app = TestApp::spawn().await;
    let s: Session = app.user("asha").await;
    let extra = json!({"_id": UNKNOWN_ID, "owner": UNKNOWN_ID, "views": 99, "isPublished": false,
        "createdAt": "2000-01-01T00:00:00.000Z", "password": "x", "refreshToken": "x", "watchHistory": [UNKNOWN_ID]});
    let mut tweet_body = extra.clone();
    tweet_body["content"] = json!("hello");
    let tweet = app.json(Method::POST, "/tweets", Some(&s), tweet_body).await;
    let tweet = tweet.ok(201, "Tweet created successfully");
    assert_ne!(tweet["_id"], UNKNOWN_ID);
    assert_eq!(tweet["owner"]["_id"], s.id.as_str());
    assert_ne!(tweet["createdAt"], "2000-01-01T00:00:00.000Z");
    let mut playlist_body = extra.clone();
    playlist_body["name"] = json!("n");
    playlist_body["description"] = json!("d");
    let playlist = app.json(Method::POST, "/playlist", Some(&s), playlist_body).await;
    assert_eq!(playlist.ok(201, "Playlist created successfully")["owner"]["_id"], s.id.as_str());
    let video = app.publish(&s, "v").await;
    let mut patch = extra;
    patch["title"] = json!("renamed");
    let updated =
        app.json(Method::PATCH, &format!("/videos/{}", video["_id"].as_str().unwrap()), Some(&s), patch).await;
    let updated = updated.ok(200, "Video updated successfully");
    assert_eq!((updated["views"].clone(), updated["isPublished"].clone()), (json!(0), json!(true)));
    app.login("asha", "pass-word").await.ok(200, "User logged In Successfully");
}
