//! `videotube backup` and `videotube restore` (README "Backup and restore", decision D21): a backup
//! taken while a client keeps writing restores into an empty DATA_DIR with every write that was
//! acknowledged before the backup began, a sound database, and every media URL serving; sessions
//! survive (the generated secrets come along). On MongoDB both commands refuse, naming the tools.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::fixtures;
use crate::helpers::{MediaBackend, PROCESSING_OFF, ServerProcess, TestApp, http_client};

/// Writes acknowledged before the backup is started: enough that the backup has much to copy.
const WRITES_BEFORE: usize = 16;
/// Bound on the wait for them: a stuck writer fails the test instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(180);

/// A write the server acknowledged.
#[derive(Clone, Debug)]
enum Ack {
    /// A registered account (password `pass-word`) and an access token issued to it.
    User { username: String, access: String },
    /// A published video.
    Video(String),
    /// A comment on a video.
    Comment { video: String, id: String },
    /// A video published and then deleted.
    Deleted(String),
    /// An account's avatar replaced (its old file deleted by the server): the new URL.
    Avatar { username: String, url: String },
}

/// `videotube <args>` with the app's DATA_DIR (and MongoDB, when it runs on it).
async fn videotube(data_dir: &Path, mongodb: Option<&str>, args: &[&str]) -> std::process::Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_videotube"));
    command.env_clear().args(args).env("DATA_DIR", data_dir).current_dir(data_dir.parent().unwrap());
    if let Some(uri) = mongodb {
        command.env("MONGODB_URI", uri);
    }
    command.output().await.unwrap()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// One round of writes by a new account; each recorded once its answer has arrived.
async fn write_round(app: &TestApp, round: usize, acks: &Mutex<Vec<Ack>>) {
    let record = |ack: Ack| acks.lock().unwrap().push(ack);
    let username = format!("writer{round}");
    let session = app.user(&username).await;
    record(Ack::User { username: username.clone(), access: session.access.clone() });
    let video = app.publish(&session, &format!("Clip {round}")).await["_id"].as_str().unwrap().to_owned();
    record(Ack::Video(video.clone()));
    let comment =
        app.json(Method::POST, &format!("/comments/{video}"), Some(&session), json!({"content": "First"})).await;
    let id = comment.ok(201, "Comment added successfully")["_id"].as_str().unwrap().to_owned();
    record(Ack::Comment { video, id });
    if round % 2 == 1 {
        let form = Form::new().part("avatar", Part::bytes(fixtures::jpeg()).file_name("new.jpg"));
        let request = app.request(Method::PATCH, "/users/avatar").bearer_auth(&session.access).multipart(form);
        let user = app.send(request).await.ok(200, "Avatar image updated successfully").clone();
        record(Ack::Avatar { username, url: user["avatar"].as_str().unwrap().to_owned() });
    }
    if round % 3 == 2 {
        let doomed = app.publish(&session, &format!("Doomed {round}")).await["_id"].as_str().unwrap().to_owned();
        app.call(Method::DELETE, &format!("/videos/{doomed}"), &session).await.ok(200, "Video deleted successfully");
        record(Ack::Deleted(doomed));
    }
}

#[tokio::test]
async fn a_backup_under_write_load_restores_every_acknowledged_write_and_its_media() {
    let app = TestApp::builder().media(MediaBackend::Local).spawn().await;
    let scratch = tempfile::tempdir().unwrap();
    let backup_dir = scratch.path().join("backup");
    let backup_arg = backup_dir.to_str().unwrap();
    if let Some(uri) = app.mongodb.as_deref() {
        let refused = videotube(app.data_dir.path(), Some(uri), &["backup", backup_arg]).await;
        assert!(!refused.status.success());
        let message = stderr(&refused);
        assert!(message.contains("mongodump") && message.contains("mongorestore"), "{message}");
        let restored = scratch.path().join("data");
        let refused = videotube(&restored, Some(uri), &["restore", backup_arg]).await;
        assert!(!refused.status.success());
        assert!(stderr(&refused).contains("mongorestore"), "{}", stderr(&refused));
        return;
    }

    // A client keeps writing, before, during and after the backup.
    let app = Arc::new(app);
    let acks = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (app, acks, stop) = (app.clone(), acks.clone(), stop.clone());
        tokio::spawn(async move {
            let mut round = 0;
            while !stop.load(Ordering::SeqCst) {
                write_round(&app, round, &acks).await;
                round += 1;
            }
        })
    };
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while acks.lock().unwrap().len() < WRITES_BEFORE {
        assert!(tokio::time::Instant::now() < deadline, "the writer is stuck");
        assert!(!writer.is_finished(), "the writer failed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before: Vec<Ack> = acks.lock().unwrap().clone();
    assert!(
        before.iter().any(|ack| matches!(ack, Ack::Avatar { .. }))
            && before.iter().any(|ack| matches!(ack, Ack::Deleted(_)))
    );
    let output = videotube(app.data_dir.path(), None, &["backup", backup_arg]).await;
    let during = acks.lock().unwrap().len() - before.len();
    assert!(output.status.success(), "backup failed: {}", stderr(&output));
    stop.store(true, Ordering::SeqCst);
    writer.await.expect("the writer's writes all succeed");
    eprintln!("{} writes acknowledged before the backup, {during} while it ran", before.len());
    eprint!("{}", stderr(&output));
    let staging =
        std::fs::read_dir(app.data_dir.path()).unwrap().filter_map(|e| e.unwrap().file_name().into_string().ok());
    assert!(staging.filter(|name| name.starts_with("backup-staging")).count() == 0, "the staging links are removed");

    // Restored into a fresh DATA_DIR, checked by SQLite itself.
    let restored = scratch.path().join("data");
    let output = videotube(&restored, None, &["restore", backup_arg]).await;
    assert!(output.status.success(), "restore failed: {}", stderr(&output));
    {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
        let db = rusqlite::Connection::open_with_flags(restored.join("videotube.db"), flags).unwrap();
        let check: String = db.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
        assert_eq!(check, "ok");
    }

    // A server on it has every acknowledged write, and serves every media URL of its records.
    let data_dir = restored.to_str().unwrap();
    let vars = [("DATA_DIR", data_dir), ("BCRYPT_COST", "4"), ("RATE_LIMIT_ENABLED", "false"), PROCESSING_OFF];
    let server = ServerProcess::start(scratch.path(), &vars).await.expect("the restored server starts");
    let client = http_client();
    let get = |path: String, token: Option<String>| {
        let mut request = client.get(format!("{}/api/v1{path}", server.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.unwrap() }
    };
    // Stored URLs name the original server's PUBLIC_BASE_URL; their paths are asked of the restored one.
    let serves = |url: String| {
        let path = url.strip_prefix(&app.base).unwrap_or_else(|| panic!("{url} is not a local media URL")).to_owned();
        assert!(path.starts_with("/media/"), "{url}");
        let request = client.get(format!("{}{path}", server.base));
        async move { (request.send().await.unwrap().status().as_u16(), url) }
    };
    for ack in &before {
        match ack {
            Ack::User { username, access } => {
                // The token the original server issued still works: the secrets came along.
                let resp = get("/users/current-user".into(), Some(access.clone())).await;
                assert_eq!(resp.status(), 200, "{username}'s session");
                let user: serde_json::Value = resp.json().await.unwrap();
                assert_eq!(user["data"]["username"], username.as_str());
                let (status, url) = serves(user["data"]["avatar"].as_str().unwrap().to_owned()).await;
                assert_eq!(status, 200, "{username}'s avatar {url}");
            }
            Ack::Video(id) => {
                let resp = get(format!("/videos/{id}"), None).await;
                assert_eq!(resp.status(), 200, "video {id}");
                let video: serde_json::Value = resp.json().await.unwrap();
                for field in ["videoFile", "thumbnail"] {
                    let (status, url) = serves(video["data"][field].as_str().unwrap().to_owned()).await;
                    assert_eq!(status, 200, "video {id}'s {field} {url}");
                }
            }
            Ack::Comment { video, id } => {
                let resp = get(format!("/comments/{video}"), None).await;
                let page: serde_json::Value = resp.json().await.unwrap();
                let ids: Vec<&str> =
                    page["data"]["docs"].as_array().unwrap().iter().filter_map(|c| c["_id"].as_str()).collect();
                assert!(ids.contains(&id.as_str()), "comment {id} on {video}: {ids:?}");
            }
            Ack::Deleted(id) => {
                assert_eq!(get(format!("/videos/{id}"), None).await.status(), 404, "deleted video {id}")
            }
            Ack::Avatar { username, url } => {
                let access = before.iter().find_map(|ack| match ack {
                    Ack::User { username: name, access } if name == username => Some(access.clone()),
                    _ => None,
                });
                let profile = get("/users/current-user".into(), access).await;
                assert_eq!(profile.status(), 200, "{username}'s session");
                let profile: serde_json::Value = profile.json().await.unwrap();
                assert_eq!(profile["data"]["avatar"], url.as_str(), "{username}'s new avatar");
            }
        }
    }
    // Every record the backup holds, including those written while it ran, has its media.
    let feed = get("/videos?limit=100".into(), None).await.json::<serde_json::Value>().await.unwrap();
    let videos = feed["data"]["docs"].as_array().unwrap();
    assert!(videos.len() >= before.iter().filter(|ack| matches!(ack, Ack::Video(_))).count());
    for video in videos {
        for field in ["videoFile", "thumbnail"] {
            let (status, url) = serves(video[field].as_str().unwrap().to_owned()).await;
            assert_eq!(status, 200, "{url}");
        }
        let (status, url) = serves(video["owner"]["avatar"].as_str().unwrap().to_owned()).await;
        assert_eq!(status, 200, "{url}");
    }
}

#[tokio::test]
async fn restore_refuses_a_non_empty_data_dir_an_unfinished_backup_and_a_damaged_database() {
    let app = TestApp::builder().media(MediaBackend::Local).spawn().await;
    if app.mongodb.is_some() {
        return; // the refusals on MongoDB are the test above's
    }
    app.user("asha").await;
    let scratch = tempfile::tempdir().unwrap();
    let backup_dir = scratch.path().join("backup");
    let backup_arg = backup_dir.to_str().unwrap();
    let output = videotube(app.data_dir.path(), None, &["backup", backup_arg]).await;
    assert!(output.status.success(), "backup failed: {}", stderr(&output));

    // A backup is not written over anything.
    let again = videotube(app.data_dir.path(), None, &["backup", backup_arg]).await;
    assert!(!again.status.success());
    assert!(stderr(&again).contains("is not empty"), "{}", stderr(&again));

    // A DATA_DIR in use is left alone.
    let refused = videotube(app.data_dir.path(), None, &["restore", backup_arg]).await;
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("is not empty"), "{}", stderr(&refused));

    // A backup that did not finish (no manifest) is refused, and nothing is written.
    let unfinished = scratch.path().join("unfinished");
    std::fs::create_dir(&unfinished).unwrap();
    std::fs::copy(backup_dir.join("videotube.db"), unfinished.join("videotube.db")).unwrap();
    let target = scratch.path().join("data");
    let refused = videotube(&target, None, &["restore", unfinished.to_str().unwrap()]).await;
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("not a complete videotube backup"), "{}", stderr(&refused));
    assert!(!target.exists());

    // A damaged database fails its check, and nothing is written.
    let db = backup_dir.join("videotube.db");
    let mut bytes = std::fs::read(&db).unwrap();
    let page = 4096;
    bytes[page..page * 3].iter_mut().enumerate().for_each(|(i, b)| *b = (i * 7 + 13) as u8);
    std::fs::write(&db, bytes).unwrap();
    let refused = videotube(&target, None, &["restore", backup_arg]).await;
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("failed its check"), "{}", stderr(&refused));
    assert!(!target.exists());
}
