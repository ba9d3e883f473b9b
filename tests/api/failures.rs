//! Failure paths: store failures answer the generic 500, a failed database write deletes the media
//! it had stored, an aborted upload leaves no temp file, and SIGTERM shuts the server down cleanly.

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::fixtures;
use crate::helpers::{ServerProcess, StoreBackend, TestApp};

/// Makes every insert into `table` fail inside the database, as a broken disk or constraint would.
async fn break_inserts(app: &TestApp, table: &str) {
    let db = rusqlite::Connection::open(app.data_dir.path().join("videotube.db")).unwrap();
    let trigger =
        format!("CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");
    db.execute(&trigger, []).unwrap();
}

#[tokio::test]
async fn store_failures_answer_500_without_internals_and_discard_new_media() {
    // Failures are injected with SQLite triggers, so this test is pinned to the embedded store.
    let app = TestApp::builder().store(StoreBackend::Sqlite).spawn().await;
    let s = app.user("asha").await;
    break_inserts(&app, "videos").await;
    let resp = app
        .send(app.request(Method::POST, "/videos").bearer_auth(&s.access).multipart(TestApp::video_form(
            "Doomed",
            fixtures::mp4(5),
            "v.mp4",
        )))
        .await;
    assert_eq!(resp.err(500, "Something went wrong"), &json!([]));
    assert!(!resp.body.to_string().contains("disk on fire"));
    assert!(app.stored("videos") == 0, "the stored video file was deleted again");
    assert_eq!(app.stored("images"), 1, "only the avatar remains; the thumbnail was deleted");
    assert!(app.temp_files().is_empty());

    break_inserts(&app, "users").await;
    let form = TestApp::registration_form("ben");
    let resp = app.send(app.request(Method::POST, "/users/register").multipart(form)).await;
    resp.err(500, "Something went wrong");
    assert_eq!(app.stored("images"), 1, "the new avatar was deleted after the failed insert");
}

#[tokio::test]
async fn an_aborted_upload_leaves_no_temp_file() {
    let app = TestApp::spawn().await;
    let s = app.user("asha").await;
    let mut head = fixtures::mp4(5);
    head.resize(1 << 20, 0);
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> =
        vec![Ok(bytes::Bytes::from(head)), Err(std::io::Error::other("client went away"))];
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let form = Form::new()
        .text("title", "t")
        .text("description", "d")
        .part("videoFile", Part::stream_with_length(body, 50 << 20).file_name("v.mp4"));
    let result = app.request(Method::POST, "/videos").bearer_auth(&s.access).multipart(form).send().await;
    assert!(result.is_err(), "the client aborted the request");
    let mut leftovers = app.temp_files();
    for _ in 0..100 {
        if leftovers.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        leftovers = app.temp_files();
    }
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    assert!(app.stored("videos") == 0);
}

#[tokio::test]
async fn sigterm_shuts_down_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(dir.path(), &[]).await.expect("server starts");
    let pid = server.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let mut status = None;
    for _ in 0..200 {
        status = server.child.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(status.expect("server exited after SIGTERM").success());
}
