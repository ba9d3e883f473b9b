//! The OpenAPI document cannot drift: it is collected from the same registrations as the router
//! and lists exactly the routes of docs/api.md §2, every real response of a scripted scenario
//! validates against its documented schema, and a committed snapshot makes every change to the
//! document visible in review.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};
use videotube::http::router;

use crate::adversarial::{Auth, UNKNOWN_ID, route_table};
use crate::fixtures;
use crate::helpers::{Resp, TestApp};

fn document() -> Value {
    serde_json::to_value(router::document()).unwrap()
}

/// `(METHOD, /path/{param})` of every documented operation, without the `/api/v1` prefix.
fn documented_operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            ops.insert((method.to_uppercase(), path.trim_start_matches("/api/v1").to_owned()));
        }
    }
    ops
}

#[test]
fn the_committed_snapshot_is_current() {
    let current = format!("{}\n", serde_json::to_string_pretty(&document()).unwrap());
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json");
    if std::env::var("UPDATE_OPENAPI_SNAPSHOT").is_ok() {
        std::fs::write(&path, &current).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == current,
        "docs/openapi.json is stale: run `UPDATE_OPENAPI_SNAPSHOT=1 cargo test --test api docs::` and review the diff"
    );
}

/// `(METHOD, /path/{param}, auth)` of every route of the route table of docs/api.md §2, the
/// contract; a row naming an alias path (a second path in backticks) counts for both paths. A role
/// (`mod`, `admin`, §3.15) is a login the route then checks: here it counts as `req`, as in the
/// OpenAPI document.
pub fn contract_routes() -> BTreeSet<(String, String, String)> {
    contract_rows()
        .into_iter()
        .map(|(method, path, auth)| {
            let auth = if matches!(auth.as_str(), "mod" | "admin") { "req".to_owned() } else { auth };
            (method, path, auth)
        })
        .collect()
}

/// The role a route of docs/api.md §2 requires (`mod` or `admin`), if any.
pub fn contract_role(method: &str, template: &str) -> Option<String> {
    contract_rows()
        .into_iter()
        .find(|(m, path, auth)| m == method && path == template && matches!(auth.as_str(), "mod" | "admin"))
        .map(|(_, _, auth)| auth)
}

/// The rows of the route table as written: `(METHOD, /path/{param}, auth)`.
fn contract_rows() -> BTreeSet<(String, String, String)> {
    let api = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/api.md")).unwrap();
    let table = api.split("\n## 2. Route table").nth(1).unwrap().split("\n## 3.").next().unwrap();
    let mut routes = BTreeSet::new();
    for line in table.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 5 || cells[1].parse::<u32>().is_err() {
            continue;
        }
        for path in cells[3].split('`').skip(1).step_by(2) {
            let path = path.split('/').map(|seg| match seg.strip_prefix(':') {
                Some(name) => format!("{{{name}}}"),
                None => seg.to_owned(),
            });
            routes.insert((cells[2].to_owned(), path.collect::<Vec<_>>().join("/"), cells[4].to_owned()));
        }
    }
    routes
}

#[test]
fn the_document_lists_exactly_the_contract_routes_and_the_extension() {
    let documented: BTreeSet<(String, String, String)> = route_table(&document())
        .into_iter()
        .map(|route| {
            let auth = match route.auth {
                Auth::None => "none",
                Auth::Optional => "opt",
                Auth::Required => "req",
            };
            (route.method.to_string(), route.template, auth.to_owned())
        })
        .collect();
    let contract = contract_routes();
    assert!(contract.len() >= 43, "docs/api.md §2: the 42 original routes and POST /uploads/signature");
    assert!(contract.contains(&("POST".into(), "/uploads/signature".into(), "opt".into())));
    assert_eq!(documented, contract);
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let app = TestApp::spawn().await;
    let served = app.get("/openapi.json", None).await;
    assert_eq!(served.body, document(), "the served document is the generated one");
    for (method, path) in documented_operations(&document()) {
        let concrete = path.replace("{username}", "nobody");
        let concrete = concrete
            .split('/')
            .map(|seg| if seg.starts_with('{') { UNKNOWN_ID } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        let resp = app.send(app.request(method.parse().unwrap(), &concrete).json(&json!({}))).await;
        assert!(!resp.message().starts_with("Cannot "), "{method} {path} is documented but not routed");
    }
}

/// Validates responses against the schema documented for their operation and status.
struct Checker {
    doc: Value,
    checked: usize,
}

impl Checker {
    fn violations(&self, method: &str, template: &str, status: &str, body: &Value) -> Vec<String> {
        let operation = &self.doc["paths"][format!("/api/v1{template}")][method];
        assert!(operation.is_object(), "{method} {template} is not documented");
        let documented = &operation["responses"][status];
        assert!(documented.is_object(), "{method} {template} answered {status}, which is not documented");
        let mut schema = documented["content"]["application/json"]["schema"].clone();
        schema["components"] = self.doc["components"].clone();
        let validator = jsonschema::validator_for(&schema).unwrap();
        validator.iter_errors(body).map(|e| format!("{e} at {}", e.instance_path())).collect()
    }

    fn check(&mut self, method: &str, template: &str, resp: &Resp) {
        let errors = self.violations(method, template, resp.status.as_str(), &resp.body);
        assert!(errors.is_empty(), "{method} {template} {}: {errors:?}\nbody: {}", resp.status, resp.body);
        self.checked += 1;
    }
}

#[tokio::test]
async fn real_responses_match_the_documented_schemas() {
    let app = TestApp::spawn().await;
    let mut c = Checker { doc: document(), checked: 0 };
    c.check("get", "/healthcheck", &app.get("/healthcheck", None).await);
    let form = TestApp::registration_form("asha")
        .part("coverImage", reqwest::multipart::Part::bytes(fixtures::jpeg()).file_name("c.jpg"));
    c.check("post", "/users/register", &app.send(app.request(Method::POST, "/users/register").multipart(form)).await);
    let dup =
        app.send(app.request(Method::POST, "/users/register").multipart(TestApp::registration_form("asha"))).await;
    c.check("post", "/users/register", &dup);
    let login = app.login("asha", "pass-word").await;
    c.check("post", "/users/login", &login);
    c.check("post", "/users/login", &app.login("asha", "nope").await);
    let s = app.user("ben").await;
    let asha = crate::helpers::Session {
        id: login.data()["user"]["_id"].as_str().unwrap().into(),
        access: login.data()["accessToken"].as_str().unwrap().into(),
        refresh: login.data()["refreshToken"].as_str().unwrap().into(),
    };
    c.check("get", "/users/current-user", &app.get("/users/current-user", Some(&s)).await);
    c.check("get", "/users/current-user", &app.get("/users/current-user", None).await);
    let refreshed = app.json(Method::POST, "/users/refresh-token", None, json!({"refreshToken": s.refresh})).await;
    c.check("post", "/users/refresh-token", &refreshed);
    let body = json!({"oldPassword": "pass-word", "newPassword": "pass-word"});
    c.check("post", "/users/change-password", &app.json(Method::POST, "/users/change-password", Some(&s), body).await);
    let update = app.json(Method::PATCH, "/users/update-account", Some(&s), json!({"fullName": "Ben B"})).await;
    c.check("patch", "/users/update-account", &update);
    let avatar_form = reqwest::multipart::Form::new()
        .part("avatar", reqwest::multipart::Part::bytes(b"nope".to_vec()).file_name("a.png"));
    let wrong_type =
        app.send(app.request(Method::PATCH, "/users/avatar").bearer_auth(&s.access).multipart(avatar_form)).await;
    c.check("patch", "/users/avatar", &wrong_type);
    c.check("get", "/users/c/{username}", &app.get("/users/c/asha", None).await);
    c.check("get", "/users/c/{username}", &app.get("/users/c/asha", Some(&s)).await);

    let video = app.publish(&asha, "Tide").await;
    let vid = video["_id"].as_str().unwrap();
    // The validation has teeth: a video without its title, or with a numeric id, is refused.
    let mut broken = json!({"statusCode": 200, "data": video.clone(), "message": "m", "success": true});
    broken["data"].as_object_mut().unwrap().remove("title");
    assert!(!c.violations("get", "/videos/{videoId}", "200", &broken).is_empty());
    broken["data"]["title"] = json!("t");
    broken["data"]["_id"] = json!(7);
    assert!(!c.violations("get", "/videos/{videoId}", "200", &broken).is_empty());
    c.check("get", "/videos", &app.get("/videos?limit=1&query=tide", None).await);
    c.check("get", "/videos", &app.get("/videos?sortBy=nope", None).await);
    c.check("get", "/videos/{videoId}", &app.get(&format!("/videos/{vid}"), Some(&s)).await);
    c.check("get", "/videos/{videoId}", &app.get("/videos/bad", None).await);
    c.check(
        "patch",
        "/videos/{videoId}",
        &app.json(Method::PATCH, &format!("/videos/{vid}"), Some(&asha), json!({"title": "T"})).await,
    );
    c.check(
        "patch",
        "/videos/{videoId}",
        &app.json(Method::PATCH, &format!("/videos/{vid}"), Some(&s), json!({"title": "T"})).await,
    );
    let comment = app.json(Method::POST, &format!("/comments/{vid}"), Some(&s), json!({"content": "nice"})).await;
    c.check("post", "/comments/{videoId}", &comment);
    let cid = comment.data()["_id"].as_str().unwrap().to_owned();
    c.check("get", "/comments/{videoId}", &app.get(&format!("/comments/{vid}"), Some(&s)).await);
    c.check(
        "patch",
        "/comments/c/{commentId}",
        &app.json(Method::PATCH, &format!("/comments/c/{cid}"), Some(&s), json!({"content": "x"})).await,
    );
    c.check(
        "post",
        "/likes/toggle/c/{commentId}",
        &app.call(Method::POST, &format!("/likes/toggle/c/{cid}"), &asha).await,
    );
    c.check("post", "/likes/toggle/v/{videoId}", &app.call(Method::POST, &format!("/likes/toggle/v/{vid}"), &s).await);
    c.check("get", "/likes/videos", &app.get("/likes/videos", Some(&s)).await);
    let tweet = app.json(Method::POST, "/tweets", Some(&asha), json!({"content": "hello"})).await;
    c.check("post", "/tweets", &tweet);
    let tid = tweet.data()["_id"].as_str().unwrap().to_owned();
    c.check("post", "/likes/toggle/t/{tweetId}", &app.call(Method::POST, &format!("/likes/toggle/t/{tid}"), &s).await);
    c.check("get", "/tweets/user/{userId}", &app.get(&format!("/tweets/user/{}", asha.id), Some(&s)).await);
    c.check(
        "patch",
        "/tweets/{tweetId}",
        &app.json(Method::PATCH, &format!("/tweets/{tid}"), Some(&asha), json!({"content": "hi"})).await,
    );
    c.check(
        "post",
        "/subscriptions/c/{channelId}",
        &app.call(Method::POST, &format!("/subscriptions/c/{}", asha.id), &s).await,
    );
    c.check("get", "/subscriptions/c/{channelId}", &app.get(&format!("/subscriptions/c/{}", asha.id), None).await);
    c.check("get", "/subscriptions/u/{subscriberId}", &app.get(&format!("/subscriptions/u/{}", s.id), None).await);
    let playlist = app.json(Method::POST, "/playlist", Some(&s), json!({"name": "n", "description": "d"})).await;
    c.check("post", "/playlist", &playlist);
    let pid = playlist.data()["_id"].as_str().unwrap().to_owned();
    c.check(
        "patch",
        "/playlist/add/{videoId}/{playlistId}",
        &app.call(Method::PATCH, &format!("/playlist/add/{vid}/{pid}"), &s).await,
    );
    c.check("get", "/playlist/{playlistId}", &app.get(&format!("/playlist/{pid}"), None).await);
    c.check(
        "patch",
        "/playlist/{playlistId}",
        &app.json(Method::PATCH, &format!("/playlist/{pid}"), Some(&s), json!({"name": "m"})).await,
    );
    c.check("get", "/playlist/user/{userId}", &app.get(&format!("/playlist/user/{}", s.id), None).await);
    c.check(
        "patch",
        "/playlist/remove/{videoId}/{playlistId}",
        &app.call(Method::PATCH, &format!("/playlist/remove/{vid}/{pid}"), &s).await,
    );
    c.check("get", "/users/history", &app.get("/users/history", Some(&s)).await);
    c.check("get", "/dashboard/stats", &app.get("/dashboard/stats", Some(&asha)).await);
    c.check("get", "/dashboard/videos", &app.get("/dashboard/videos", Some(&asha)).await);
    c.check(
        "post",
        "/uploads/signature",
        &app.json(Method::POST, "/uploads/signature", Some(&s), json!({"field": "avatar"})).await,
    );
    c.check("delete", "/comments/c/{commentId}", &app.call(Method::DELETE, &format!("/comments/c/{cid}"), &s).await);
    c.check("delete", "/tweets/{tweetId}", &app.call(Method::DELETE, &format!("/tweets/{tid}"), &asha).await);
    c.check("delete", "/playlist/{playlistId}", &app.call(Method::DELETE, &format!("/playlist/{pid}"), &s).await);
    c.check(
        "patch",
        "/videos/toggle/publish/{videoId}",
        &app.call(Method::PATCH, &format!("/videos/toggle/publish/{vid}"), &asha).await,
    );
    c.check("delete", "/videos/{videoId}", &app.call(Method::DELETE, &format!("/videos/{vid}"), &asha).await);
    c.check("post", "/users/logout", &app.call(Method::POST, "/users/logout", &s).await);
    assert!(c.checked >= 45, "{} responses checked", c.checked);
}
