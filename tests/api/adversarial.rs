//! The negative set for every route of the served OpenAPI document: 401 without, with a malformed and
//! with an expired token; 403 for a plain user on a route that needs a role, before its path ids are
//! read; 400 for each malformed path id and 404 for well-formed unknown ids (as an admin).
//! (403 as another user is covered route by route in `social::authorization_matrix_for_another_user`.)

use jsonwebtoken::{EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Auth {
    None,
    Optional,
    Required,
}

/// One operation of the route table (docs/api.md §2), read from the served OpenAPI document.
pub struct Route {
    pub method: Method,
    /// The path template without `/api/v1`, e.g. `/playlist/add/{videoId}/{playlistId}`.
    pub template: String,
    pub auth: Auth,
    /// The path parameters that are ids (a 24-hex `ObjectId` in the document), in path order.
    pub ids: Vec<String>,
}

/// The route table as the server serves it (`GET /api/v1/openapi.json`), so a route registered
/// once (its `#[utoipa::path]`) is covered here without being listed again. The auth mode comes from
/// each operation's `security`: the empty requirement `{}` alone is none, `{}` among the schemes is
/// optional, the schemes alone are required.
pub fn route_table(document: &Value) -> Vec<Route> {
    let mut routes = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let security = operation["security"].as_array().expect("every operation states its security");
            let anonymous = security.iter().any(|s| s.as_object().is_some_and(|o| o.is_empty()));
            let auth = match (anonymous, security.len()) {
                (true, 1) => Auth::None,
                (true, _) => Auth::Optional,
                (false, _) => Auth::Required,
            };
            let is_id = |p: &&Value| p["in"] == "path" && p["schema"]["$ref"] == "#/components/schemas/ObjectIdParam";
            let parameters = operation["parameters"].as_array().map(Vec::as_slice).unwrap_or_default();
            let ids = parameters.iter().filter(is_id).map(|p| p["name"].as_str().unwrap().to_owned()).collect();
            routes.push(Route {
                method: method.to_uppercase().parse().unwrap(),
                template: path.strip_prefix("/api/v1").expect("under /api/v1").to_owned(),
                auth,
                ids,
            });
        }
    }
    routes
}

/// The 404 message of a route whose path ids are all well-formed and unknown, or `None` for a
/// route without path parameters. The resource looked up first is the one the last parameter
/// names: `/playlist/add/{videoId}/{playlistId}` checks the playlist before the video (docs/api.md
/// §2 #38).
fn not_found_message(template: &str) -> Option<&'static str> {
    if template == "/users/history/{videoId}" {
        return None; // idempotent: 200 whether or not the video exists (docs/api.md §3.3.12)
    }
    let message = match *params(template).last()? {
        "sessionId" => "Session not found",
        "videoId" => "Video not found",
        "commentId" => "Comment not found",
        "tweetId" => "Tweet not found",
        "playlistId" => "Playlist not found",
        "userId" | "subscriberId" => "User not found",
        "channelId" => "Channel not found",
        "username" => "channel does not exists",
        "uploadId" => "Upload not found",
        "notificationId" => "Notification not found",
        other => panic!("no 404 message known for a missing {other} (docs/api.md §2)"),
    };
    Some(message)
}

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

/// The error envelope with this status and message; a HEAD answer has no body, so only its status.
fn expect(method: &Method, resp: crate::helpers::Resp, status: u16, message: &str) {
    if method == Method::HEAD {
        assert_eq!(resp.status.as_u16(), status, "HEAD: {message}");
    } else {
        resp.err(status, message);
    }
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
    app.grant("asha", "admin").await;
    let plain = app.user("ben").await;
    let bad_tokens = [
        ("not-a-jwt".to_owned(), "jwt malformed"),
        (expired_token(&app, &s.id), "jwt expired"),
        (format!("{}x", s.access), "invalid signature"),
    ];
    let document = app.get("/openapi.json", None).await.body;
    let routes = route_table(&document);
    let mut cases = 0;
    for Route { method, template, auth, ids } in &routes {
        let (auth, template) = (*auth, template.as_str());
        let unknown = fill(template, |_, _| UNKNOWN_ID.to_owned());
        let send = async |path: &str, token: Option<&str>| {
            // A valid `role`, so the role route (which checks its body before its lookup) reaches its
            // 404; every other route ignores the field.
            let mut request = app.request(method.clone(), path).json(&json!({"role": "user"}));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            app.send(request).await
        };
        if auth == Auth::Required {
            expect(method, send(&unknown, None).await, 401, "Unauthorized request");
            cases += 1;
        }
        if auth != Auth::None {
            for (token, message) in &bad_tokens {
                expect(method, send(&unknown, Some(token)).await, 401, message);
                cases += 1;
            }
        }
        if let Some(role) = crate::docs::contract_role(method.as_str(), template) {
            let message = if role == "admin" { "Admin role required" } else { "Moderator role required" };
            let malformed = fill(template, |_, _| "not-an-id".into());
            expect(method, send(&malformed, Some(&plain.access)).await, 403, message);
            cases += 1;
        }
        for (position, name) in params(template).into_iter().enumerate().filter(|(_, n)| ids.iter().any(|id| id == n)) {
            let path = fill(template, |i, _| if i == position { "not-an-id".into() } else { UNKNOWN_ID.into() });
            expect(method, send(&path, Some(&s.access)).await, 400, &format!("Invalid {name}"));
            cases += 1;
        }
        if let Some(message) = not_found_message(template) {
            expect(method, send(&unknown, Some(&s.access)).await, 404, message);
            cases += 1;
        }
    }
    eprintln!("{} routes, {cases} negative cases", routes.len());
    assert_eq!(
        routes.len(),
        crate::docs::contract_routes().len(),
        "the contract's complete inventory (docs/api.md §2)"
    );
    assert!(routes.len() >= 43, "the original 42 and the signature extension");
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
