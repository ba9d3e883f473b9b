//! Answers given before the request body was read reach the client (docs/api.md §1.4), checked with
//! Node's own HTTP client (`tests/node/early_refusal.mjs`), which axios and newman use and which
//! loses an answer when the server closes the connection while it is still sending: 50 refusals
//! per upload route with bodies of 2 to 20 MB, a drained keep-alive connection reused, and a body
//! beyond `MAX_DRAIN_BYTES` answered before its connection is closed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp};

/// Node, when installed (`.ci/run` installs it; elsewhere these tests say they were skipped).
fn node() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join("node")).find(|p| p.is_file())
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node/early_refusal.mjs")
}

/// Runs the Node client on `cases` against `app`; returns its report per case (awaited: the server
/// runs on this thread).
async fn run_node(node: &Path, app: &TestApp, cases: Value) -> Value {
    let plan = json!({"base": app.base, "concurrency": 4, "timeoutMs": 120_000, "cases": cases});
    let mut command = tokio::process::Command::new(node);
    command.arg(script()).arg(plan.to_string()).kill_on_drop(true);
    // A bound on a hung client only, far above what the runs take.
    let output = tokio::time::timeout(Duration::from_secs(600), command.output())
        .await
        .expect("the Node client finished")
        .unwrap();
    assert!(output.status.success(), "node failed: {}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    for (case, result) in report["cases"].as_object().unwrap() {
        let (answered, sent) = (&result["answered"], &result["sent"]);
        eprintln!("{case}: {answered}/{sent} answered, lost to {}, statuses {}", result["errors"], result["statuses"]);
    }
    report["cases"].clone()
}

/// `n` body sizes spread evenly from 2 MB to 20 MB.
fn sizes(n: u64) -> Vec<u64> {
    (0..n).map(|i| 2_000_000 + i * 18_000_000 / (n - 1)).collect()
}

fn multipart(field: &str, filename: &str) -> Value {
    json!({"kind": "multipart", "field": field, "filename": filename})
}

fn bearer(session: &Session) -> String {
    format!("Bearer {}", session.access)
}

/// A tus upload of `session`'s for a video; returns its id.
async fn tus_upload(app: &TestApp, session: &Session) -> String {
    let request = app
        .request(Method::POST, "/uploads/tus")
        .bearer_auth(&session.access)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "100000000")
        .header("Upload-Metadata", "field dmlkZW9GaWxl");
    let resp = app.send(request).await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    let location = resp.headers["location"].to_str().unwrap();
    location.rsplit('/').next().unwrap().to_owned()
}

fn tus_patch(name: &str, id: &str, headers: Value, sizes: &[u64]) -> Value {
    let mut headers = headers;
    headers["tus-resumable"] = json!("1.0.0");
    headers["content-type"] = json!("application/offset+octet-stream");
    json!({"name": name, "method": "PATCH", "path": format!("/api/v1/uploads/tus/{id}"), "headers": headers,
           "body": {"kind": "raw"}, "sizes": sizes})
}

/// Asserts that every request of `case` got the error answer `status`.
fn assert_all_answered(report: &Value, case: &str, status: u16) {
    let result = &report[case];
    let sent = result["sent"].as_u64().unwrap();
    assert_eq!(result["answered"], sent, "{case}: answers lost: {result}");
    assert_eq!(result["statuses"], json!({status.to_string(): sent}), "{case}: {result}");
}

#[tokio::test]
async fn every_upload_route_answers_a_node_client_that_is_still_sending() {
    let Some(node) = node() else {
        eprintln!("SKIPPED: node is not installed (.ci/run installs it)");
        return;
    };
    let app = TestApp::spawn().await;
    let owner = app.user("asha").await;
    let other = app.user("ben").await;
    let video = app.publish(&owner, "Mine").await["_id"].as_str().unwrap().to_owned();
    let upload = tus_upload(&app, &owner).await;
    let sizes = sizes(50);
    let cases = json!([
        {"name": "publish, logged out", "method": "POST", "path": "/api/v1/videos",
         "body": multipart("videoFile", "v.mp4"), "sizes": sizes},
        {"name": "update with files, not the owner", "method": "PATCH", "path": format!("/api/v1/videos/{video}"),
         "headers": {"authorization": bearer(&other)}, "body": multipart("thumbnail", "t.jpg"), "sizes": sizes},
        {"name": "avatar, logged out", "method": "PATCH", "path": "/api/v1/users/avatar",
         "body": multipart("avatar", "a.png"), "sizes": sizes},
        {"name": "avatar, not an image", "method": "PATCH", "path": "/api/v1/users/avatar",
         "headers": {"authorization": bearer(&owner)}, "body": multipart("avatar", "a.png"), "sizes": sizes},
        {"name": "cover image, logged out", "method": "PATCH", "path": "/api/v1/users/cover-image",
         "body": multipart("coverImage", "c.png"), "sizes": sizes},
        {"name": "direct upload signature, too large", "method": "POST", "path": "/api/v1/uploads/signature",
         "headers": {"content-type": "application/json"}, "body": {"kind": "raw"}, "sizes": sizes},
        {"name": "tus creation with upload, logged out", "method": "POST", "path": "/api/v1/uploads/tus",
         "headers": {"tus-resumable": "1.0.0", "upload-length": "100000000",
                     "content-type": "application/offset+octet-stream"},
         "body": {"kind": "raw"}, "sizes": sizes},
        tus_patch("tus PATCH, logged out", &upload, json!({"upload-offset": "0"}), &sizes),
        tus_patch("tus PATCH, wrong offset", &upload, json!({"upload-offset": "7", "authorization": bearer(&owner)}), &sizes),
    ]);
    let report = run_node(&node, &app, cases).await;
    assert_all_answered(&report, "publish, logged out", 401);
    assert_all_answered(&report, "update with files, not the owner", 403);
    assert_all_answered(&report, "avatar, logged out", 401);
    assert_all_answered(&report, "avatar, not an image", 415);
    assert_all_answered(&report, "cover image, logged out", 401);
    assert_all_answered(&report, "direct upload signature, too large", 413);
    assert_all_answered(&report, "tus creation with upload, logged out", 401);
    assert_all_answered(&report, "tus PATCH, logged out", 401);
    assert_all_answered(&report, "tus PATCH, wrong offset", 409);
}

#[tokio::test]
async fn a_drained_connection_is_reused_and_connection_close_is_honoured() {
    let Some(node) = node() else {
        eprintln!("SKIPPED: node is not installed (.ci/run installs it)");
        return;
    };
    let app = TestApp::spawn().await;
    let owner = app.user("asha").await;
    let upload = tus_upload(&app, &owner).await;
    // Within the default bound of 8 MiB: drained to their end.
    let within = [2_000_000u64, 5_000_000, 8_000_000];
    let mut keep_alive_tus = tus_patch("tus PATCH, keep-alive", &upload, json!({"upload-offset": "0"}), &within);
    keep_alive_tus["keepAlive"] = json!(true);
    keep_alive_tus["followUp"] = json!("/api/v1/healthcheck");
    let cases = json!([
        {"name": "publish, keep-alive", "method": "POST", "path": "/api/v1/videos", "body": multipart("videoFile", "v.mp4"),
         "sizes": within, "keepAlive": true, "followUp": "/api/v1/healthcheck"},
        keep_alive_tus,
        {"name": "publish, Connection: close", "method": "POST", "path": "/api/v1/videos", "headers": {"connection": "close"},
         "body": multipart("videoFile", "v.mp4"), "sizes": sizes(20)},
    ]);
    let report = run_node(&node, &app, cases).await;
    for case in ["publish, keep-alive", "tus PATCH, keep-alive"] {
        assert_all_answered(&report, case, 401);
        assert_eq!(report[case]["closing"], 0, "{case}: {}", report[case]);
        let follow_ups = report[case]["followUps"].as_array().unwrap();
        assert_eq!(follow_ups.len(), within.len());
        for next in follow_ups {
            assert_eq!(next, &json!({"status": 200, "sameConnection": true}), "{case}: {}", report[case]);
        }
    }
    assert_all_answered(&report, "publish, Connection: close", 401);
}

#[tokio::test]
async fn a_body_beyond_the_drain_bound_is_answered_before_its_connection_closes() {
    let Some(node) = node() else {
        eprintln!("SKIPPED: node is not installed (.ci/run installs it)");
        return;
    };
    let app = TestApp::builder().env("MAX_DRAIN_BYTES", "1048576").spawn().await;
    let owner = app.user("asha").await;
    let upload = tus_upload(&app, &owner).await;
    let beyond = [20_000_000u64, 4_000_000, 20_000_000];
    let mut tus = tus_patch("tus PATCH", &upload, json!({"upload-offset": "0"}), &beyond);
    tus["keepAlive"] = json!(true);
    tus["followUp"] = json!("/api/v1/healthcheck");
    let cases = json!([
        {"name": "publish", "method": "POST", "path": "/api/v1/videos", "body": multipart("videoFile", "v.mp4"),
         "sizes": beyond, "keepAlive": true, "followUp": "/api/v1/healthcheck"},
        tus,
        // Of a chunked body the server cannot tell in advance how much is coming.
        {"name": "publish, chunked", "method": "POST", "path": "/api/v1/videos", "body": multipart("videoFile", "v.mp4"),
         "sizes": [20_000_000, 500_000], "chunked": true, "keepAlive": true, "followUp": "/api/v1/healthcheck"},
    ]);
    let report = run_node(&node, &app, cases).await;
    for case in ["publish", "tus PATCH", "publish, chunked"] {
        assert_all_answered(&report, case, 401);
        let result = &report[case];
        assert_eq!(result["closing"], result["sent"], "{case}: each answer said Connection: close: {result}");
        for next in result["followUps"].as_array().unwrap() {
            assert_eq!(next["status"], 200, "{case}: {result}");
            assert_eq!(next["sameConnection"], false, "{case}: the next request had a new connection: {result}");
        }
    }
}
