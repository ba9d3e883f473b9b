//! A disk that fills up during an upload (local media, docs/api.md §1.11): the upload answers 507
//! `"Not enough storage"`, what it had written (the temp file, the resumable upload) is removed,
//! and the server goes on serving; once space returns the same upload succeeds. DATA_DIR is a
//! small tmpfs (`SmallDisk`, mounted as root, unmounted on drop whatever happens).

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::fixtures;
use crate::helpers::{MediaBackend, Resp, Session, SmallDisk, TestApp};

/// An MP4 padded to `size` bytes.
fn video_of(size: usize) -> Vec<u8> {
    let mut video = fixtures::mp4(5);
    video.resize(size, 0);
    video
}

/// A local-media app with its DATA_DIR on a fresh `size` tmpfs, and a user; `None` when this
/// process may not mount.
async fn app_on_small_disk(size: &str) -> Option<(TestApp, SmallDisk, Session)> {
    let mut disk = SmallDisk::mount(size)?;
    let app = TestApp::builder().media(MediaBackend::Local).data_dir(disk.dir.take().unwrap()).spawn().await;
    let asha = app.user("asha").await;
    Some((app, disk, asha))
}

fn assert_not_enough_storage(resp: &Resp) {
    assert_eq!(resp.err(507, "Not enough storage"), &json!([]));
}

/// The server still answers reads and the healthcheck.
async fn still_serving(app: &TestApp) {
    app.get("/videos?limit=5", None).await.ok(200, "Videos fetched successfully");
    app.get("/healthcheck", None).await.ok(200, "OK");
}

#[tokio::test]
async fn a_multipart_upload_on_a_full_disk_answers_507_and_leaves_nothing() {
    let Some((app, disk, asha)) = app_on_small_disk("8m").await else { return };
    let filler = disk.fill(1 << 20);
    eprintln!("{} bytes free before the upload", disk.free());
    let form = TestApp::video_form("Too big for the disk", video_of(3 << 20), "clip.mp4");
    let resp = app.send(app.request(Method::POST, "/videos").bearer_auth(&asha.access).multipart(form)).await;
    assert_not_enough_storage(&resp);
    assert!(app.temp_files().is_empty(), "temp files left: {:?}", app.temp_files());
    assert_eq!(app.stored("videos"), 0);
    assert_eq!(app.stored("images"), 1, "only the avatar: no thumbnail was kept");
    still_serving(&app).await;

    // Space returns: the same upload goes through.
    std::fs::remove_file(filler).unwrap();
    let form = TestApp::video_form("Fits now", video_of(3 << 20), "clip.mp4");
    let resp = app.send(app.request(Method::POST, "/videos").bearer_auth(&asha.access).multipart(form)).await;
    resp.ok(201, "Video uploaded successfully");
    assert_eq!(app.stored("videos"), 1);
}

#[tokio::test]
async fn a_resumable_upload_on_a_full_disk_answers_507_and_is_removed() {
    let Some((app, disk, asha)) = app_on_small_disk("8m").await else { return };
    if app.mongodb.is_some() {
        eprintln!("SKIPPED: on MongoDB resumable uploads live in the database, not on DATA_DIR's disk");
        return;
    }
    let tus_dir = app.data_dir.path().join("tus");
    let filler = disk.fill(1 << 20);
    let video = video_of(3 << 20);
    let request = |method: Method, rest: &str| {
        app.request(method, &format!("/uploads/tus{rest}")).bearer_auth(&asha.access).header("Tus-Resumable", "1.0.0")
    };
    use base64::Engine;
    let metadata = format!("field {}", base64::engine::general_purpose::STANDARD.encode("videoFile"));
    let create = request(Method::POST, "")
        .header("Upload-Length", video.len().to_string())
        .header("Upload-Metadata", metadata.clone());
    let created = app.send(create).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let location = created.headers["location"].to_str().unwrap().to_owned();
    let id = location.rsplit('/').next().unwrap().to_owned();
    let patch = request(Method::PATCH, &format!("/{id}"))
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .body(video.clone());
    let resp = app.send(patch).await;
    assert_not_enough_storage(&resp);
    let head = app.send(request(Method::HEAD, &format!("/{id}"))).await;
    assert_eq!(head.status, 404, "the upload ended with the full disk");
    let left: Vec<_> = std::fs::read_dir(&tus_dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(left.is_empty(), "files left in the tus area: {left:?}");
    still_serving(&app).await;

    // Space returns: a new upload, with its first bytes in the creation request, goes through.
    std::fs::remove_file(filler).unwrap();
    let create = request(Method::POST, "")
        .header("Upload-Length", video.len().to_string())
        .header("Upload-Metadata", metadata)
        .header("Content-Type", "application/offset+octet-stream")
        .body(video.clone());
    let created = app.send(create).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.headers["upload-offset"].to_str().unwrap(), video.len().to_string());
}

/// Creation-with-upload on a full disk: the same 507, and no upload is left behind.
#[tokio::test]
async fn a_resumable_upload_created_with_its_bytes_on_a_full_disk_answers_507() {
    let Some((app, disk, asha)) = app_on_small_disk("8m").await else { return };
    let _filler = disk.fill(1 << 20);
    let video = video_of(3 << 20);
    use base64::Engine;
    let metadata = format!("field {}", base64::engine::general_purpose::STANDARD.encode("videoFile"));
    let create = app
        .request(Method::POST, "/uploads/tus")
        .bearer_auth(&asha.access)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", video.len().to_string())
        .header("Upload-Metadata", metadata)
        .header("Content-Type", "application/offset+octet-stream")
        .body(video);
    // On MongoDB resumable uploads live in the database, not on DATA_DIR's disk.
    if app.mongodb.is_none() {
        assert_not_enough_storage(&app.send(create).await);
        let left: Vec<_> = std::fs::read_dir(app.data_dir.path().join("tus")).unwrap().collect();
        assert!(left.is_empty(), "files left in the tus area: {left:?}");
    }
    // An image upload to another route meets the same full disk.
    let mut png = fixtures::png();
    png.resize(2 << 20, 0);
    let form = Form::new().part("avatar", Part::bytes(png).file_name("a.png"));
    let resp = app.send(app.request(Method::PATCH, "/users/avatar").bearer_auth(&asha.access).multipart(form)).await;
    assert_not_enough_storage(&resp);
    assert!(app.temp_files().is_empty(), "temp files left: {:?}", app.temp_files());
    still_serving(&app).await;
}
