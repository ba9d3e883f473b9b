//! Several server processes on one MongoDB database behave as one: a view is counted once per
//! viewer and window whichever instance serves it, a client's request budget is spent once across
//! instances, and of concurrent refreshes of one token exactly one wins. These need a shared
//! database, so they run when the suite has one (`TEST_MONGODB_URI`, as in CI); one SQLite file is
//! served by one process, which the rest of the suite covers.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::helpers::{Resp, ServerProcess, TestApp, drop_mongodb_database, fresh_mongodb_database, http_client};

/// Two server processes sharing one fresh MongoDB database (dropped afterwards) and one set of
/// token secrets, each with its own DATA_DIR.
struct Instances {
    servers: [ServerProcess; 2],
    _dirs: [TempDir; 2],
    uri: String,
}

impl Drop for Instances {
    fn drop(&mut self) {
        drop_mongodb_database(&self.uri);
    }
}

impl Instances {
    async fn start(extra: &[(&str, &str)]) -> Option<Self> {
        let Some(uri) = fresh_mongodb_database() else {
            eprintln!("two-instance tests need TEST_MONGODB_URI (CI sets it); nothing to run on SQLite");
            return None;
        };
        let (access, refresh) = ("a".repeat(64), "r".repeat(64));
        let mut vars = vec![
            ("MONGODB_URI", uri.as_str()),
            ("DATA_DIR", "data"),
            ("BCRYPT_COST", "4"),
            ("ACCESS_TOKEN_SECRET", access.as_str()),
            ("REFRESH_TOKEN_SECRET", refresh.as_str()),
            ("RATE_LIMIT_ENABLED", "false"),
        ];
        for (key, value) in extra {
            vars.retain(|(k, _)| k != key);
            vars.push((key, value));
        }
        let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
        let first = ServerProcess::start(dirs[0].path(), &vars).await.expect("first instance starts");
        let second = ServerProcess::start(dirs[1].path(), &vars).await.expect("second instance starts");
        Some(Instances { servers: [first, second], _dirs: dirs, uri })
    }

    fn url(&self, instance: usize, path: &str) -> String {
        format!("{}/api/v1{path}", self.servers[instance % 2].base)
    }

    async fn register(&self, instance: usize, username: &str) {
        let form = TestApp::registration_form(username);
        let resp = http_client().post(self.url(instance, "/users/register")).multipart(form).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
    }

    async fn login(&self, instance: usize, username: &str, password: &str) -> Resp {
        let body = json!({ "username": username, "password": password });
        Resp::from(http_client().post(self.url(instance, "/users/login")).json(&body).send().await.unwrap()).await
    }

    /// Registers on one instance and logs in on the other; returns (user id, access, refresh token).
    async fn user(&self, username: &str) -> (String, String, String) {
        self.register(0, username).await;
        let login = self.login(1, username, "pass-word").await;
        let data = login.ok(200, "User logged In Successfully");
        let field = |v: &Value| v.as_str().unwrap().to_owned();
        (field(&data["user"]["_id"]), field(&data["accessToken"]), field(&data["refreshToken"]))
    }

    async fn watch(&self, instance: usize, video: &str, token: Option<&str>) -> i64 {
        let mut request = http_client().get(self.url(instance, &format!("/videos/{video}")));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let resp = Resp::from(request.send().await.unwrap()).await;
        resp.ok(200, "Video fetched successfully")["views"].as_i64().unwrap()
    }
}

#[tokio::test]
async fn a_viewer_alternating_between_instances_is_counted_once() {
    let Some(instances) = Instances::start(&[]).await else { return };
    let (_, asha, _) = instances.user("asha").await;
    let form = TestApp::video_form("Shared", crate::fixtures::mp4(25), "clip.mp4");
    let published = http_client().post(instances.url(0, "/videos")).bearer_auth(&asha).multipart(form).send().await;
    let published = Resp::from(published.unwrap()).await;
    let video = published.ok(201, "Video uploaded successfully")["_id"].as_str().unwrap().to_owned();
    let (_, ben, _) = instances.user("ben").await;

    let seen: Vec<i64> = futures_util::future::join_all((0..6).map(|i| instances.watch(i, &video, Some(&ben)))).await;
    assert_eq!(seen.iter().max(), Some(&1), "ben's six views on two instances count once: {seen:?}");
    for i in 0..4 {
        instances.watch(i, &video, None).await;
    }
    assert_eq!(instances.watch(1, &video, Some(&ben)).await, 2, "one more for the anonymous address, once");
    let history = http_client().get(instances.url(0, "/users/history")).bearer_auth(&ben).send().await.unwrap();
    let history = Resp::from(history).await;
    assert_eq!(history.ok(200, "Watch history fetched successfully").as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_client_spends_its_budget_once_across_instances() {
    let Some(instances) = Instances::start(&[("RATE_LIMIT_ENABLED", "true"), ("RATE_LIMIT_AUTH", "4/5m")]).await else {
        return;
    };
    let mut statuses = Vec::new();
    for attempt in 0..6 {
        let resp = instances.login(attempt, "nobody", "wrong").await;
        statuses.push(resp.status.as_u16());
        if resp.status == StatusCode::TOO_MANY_REQUESTS {
            let retry_after: u64 = resp.headers["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=300).contains(&retry_after), "{retry_after}");
            resp.err(429, &format!("Too many requests, please retry after {retry_after} seconds"));
        }
    }
    assert_eq!(statuses, [404, 404, 404, 404, 429, 429], "four logins in all, alternating instances");
}

#[tokio::test]
async fn concurrent_refreshes_on_two_instances_have_exactly_one_winner() {
    let Some(instances) = Instances::start(&[]).await else { return };
    let (_, _, refresh) = instances.user("asha").await;
    let racers = (0..8).map(|i| {
        let request =
            http_client().post(instances.url(i, "/users/refresh-token")).json(&json!({ "refreshToken": refresh }));
        async move { Resp::from(request.send().await.unwrap()).await }
    });
    let answers = futures_util::future::join_all(racers).await;
    let winners: Vec<&Resp> = answers.iter().filter(|r| r.status == StatusCode::OK).collect();
    assert_eq!(winners.len(), 1, "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    winners[0].ok(200, "Access token refreshed");
    for loser in answers.iter().filter(|r| r.status != StatusCode::OK) {
        loser.err(401, "Refresh token is expired or used");
    }
    let next = winners[0].data()["refreshToken"].as_str().unwrap();
    let again = http_client().post(instances.url(1, "/users/refresh-token")).json(&json!({ "refreshToken": next }));
    Resp::from(again.send().await.unwrap()).await.ok(200, "Access token refreshed");
}
