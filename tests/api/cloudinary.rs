//! The Cloudinary backend against the fake: what is sent (parts, ranges, signatures, resource types),
//! retries, clean failures, destroy on replace/delete/rollback, and direct browser uploads.

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::fake_cloudinary::{self, FakeCloudinary};
use crate::fixtures;
use crate::helpers::{MediaBackend, Resp, Session, StoreBackend, TestApp, TestAppBuilder};

fn cloudinary_builder() -> TestAppBuilder {
    TestApp::builder().media(MediaBackend::Cloudinary).env("CLOUDINARY_CHUNK_SIZE", "65536")
}

async fn cloudinary_app_from(builder: TestAppBuilder) -> (TestApp, FakeCloudinary) {
    let app = builder.spawn().await;
    let fake = app.cloudinary.clone().expect("fake cloudinary running");
    (app, fake)
}

async fn cloudinary_app() -> (TestApp, FakeCloudinary) {
    cloudinary_app_from(cloudinary_builder()).await
}

/// A video of `size` bytes with an MP4 signature.
fn big_video(size: usize) -> Vec<u8> {
    let mut bytes = fixtures::mp4(5);
    bytes.resize(size, 7);
    bytes
}

async fn publish_bytes(app: &TestApp, s: &Session, video: Vec<u8>) -> Resp {
    let form = TestApp::video_form("Big", video, "big.mp4");
    app.send(app.request(Method::POST, "/videos").bearer_auth(&s.access).multipart(form)).await
}

#[tokio::test]
async fn small_images_go_up_in_one_signed_request() {
    let (app, fake) = cloudinary_app().await;
    let user = app.register("asha").await;
    let uploads: Vec<_> = fake.requests().into_iter().filter(|r| r.action == "upload").collect();
    assert_eq!(uploads.len(), 1);
    let upload = &uploads[0];
    assert_eq!((upload.resource_type.as_str(), upload.status), ("image", 200));
    assert_eq!(upload.fields["folder"], "videotube/images");
    assert_eq!(upload.fields["api_key"], fake_cloudinary::API_KEY);
    assert!(upload.upload_id.is_none() && upload.content_range.is_none());
    assert_eq!(upload.file_len, fixtures::png().len());
    assert_eq!(user["avatar"], fake.assets()[0].secure_url.as_str());
    assert!(user["avatar"].as_str().unwrap().starts_with("https://"));
}

#[tokio::test]
async fn large_videos_go_up_in_ordered_parts_of_one_upload() {
    let (app, fake) = cloudinary_app().await;
    let s = app.user("asha").await;
    let size = 65536 * 3 + 1000;
    let video = publish_bytes(&app, &s, big_video(size)).await.ok(201, "Video uploaded successfully").clone();
    let parts: Vec<_> = fake.requests().into_iter().filter(|r| r.resource_type == "video").collect();
    let ranges: Vec<String> = parts.iter().map(|p| p.content_range.clone().unwrap()).collect();
    assert_eq!(
        ranges,
        vec![
            format!("bytes 0-65535/{size}"),
            format!("bytes 65536-131071/{size}"),
            format!("bytes 131072-196607/{size}"),
            format!("bytes 196608-{}/{size}", size - 1),
        ]
    );
    assert!(parts.iter().all(|p| p.upload_id == parts[0].upload_id && p.status == 200));
    assert_eq!(parts.iter().map(|p| p.file_len).sum::<usize>(), size);
    assert_eq!(video["duration"], 12.5, "duration comes from Cloudinary's result");
    let asset = fake.assets().into_iter().find(|a| a.resource_type == "video").unwrap();
    assert_eq!((asset.bytes, video["videoFile"].as_str().unwrap()), (size as u64, asset.secure_url.as_str()));
    assert!(app.temp_files().is_empty());
}

#[tokio::test]
async fn a_failed_part_is_retried_with_the_same_range() {
    let (app, fake) = cloudinary_app().await;
    let s = app.user("asha").await;
    fake.fail_next("upload", 500, 1);
    publish_bytes(&app, &s, big_video(100_000)).await.ok(201, "Video uploaded successfully");
    let parts: Vec<_> = fake.requests().into_iter().filter(|r| r.resource_type == "video").collect();
    assert_eq!(parts.iter().map(|p| p.status).collect::<Vec<_>>(), vec![500, 200, 200]);
    assert_eq!(parts[0].content_range, parts[1].content_range, "the failed part is sent again");
}

#[tokio::test]
async fn a_permanently_failing_upload_leaves_nothing_behind() {
    let (app, fake) = cloudinary_app().await;
    let s = app.user("asha").await;
    fake.fail_next("upload", 503, 3);
    let resp = publish_bytes(&app, &s, big_video(100_000)).await;
    assert_eq!(resp.err(500, "Error while uploading video file"), &json!([]));
    let attempts: Vec<u16> = fake.requests().iter().filter(|r| r.resource_type == "video").map(|r| r.status).collect();
    assert_eq!(attempts, vec![503, 503, 503], "the first part was tried three times, then the upload gave up");
    assert_eq!(app.get("/videos", None).await.data()["totalDocs"], 0);
    assert!(app.temp_files().is_empty());
    assert_eq!(fake.assets().len(), 1, "only the avatar exists on Cloudinary");

    // The thumbnail failing for good after the video went up: the video asset is destroyed again.
    fake.fail_next("image/upload", 500, 3);
    let form = TestApp::video_form("Clip", fixtures::mp4(5), "v.mp4");
    let resp = app.send(app.request(Method::POST, "/videos").bearer_auth(&s.access).multipart(form)).await;
    resp.err(500, "Error while uploading thumbnail");
    assert_eq!(fake.assets().len(), 1, "the uploaded video was destroyed");
    assert!(fake.requests().iter().any(|r| r.action == "destroy" && r.resource_type == "video"));
    assert_eq!(app.get("/videos", None).await.data()["totalDocs"], 0);
    assert!(app.temp_files().is_empty());
}

#[tokio::test]
async fn replaced_and_deleted_media_is_destroyed_with_the_right_resource_type() {
    let (app, fake) = cloudinary_app().await;
    let s = app.user("asha").await;
    let old_avatar = app.get("/users/current-user", Some(&s)).await.data()["avatar"].as_str().unwrap().to_owned();
    let form = Form::new().part("avatar", Part::bytes(fixtures::jpeg()).file_name("a.jpg"));
    app.send(app.request(Method::PATCH, "/users/avatar").bearer_auth(&s.access).multipart(form))
        .await
        .ok(200, "Avatar image updated successfully");
    assert!(!app.media_exists(&old_avatar).await);

    let video = app.publish(&s, "Doomed").await;
    let id = video["_id"].as_str().unwrap();
    app.call(Method::DELETE, &format!("/videos/{id}"), &s).await.ok(200, "Video deleted successfully");
    let destroys: Vec<(String, String)> = fake
        .requests()
        .into_iter()
        .filter(|r| r.action == "destroy")
        .map(|r| (r.resource_type, r.fields["public_id"].clone()))
        .collect();
    assert_eq!(destroys.len(), 3, "{destroys:?}");
    assert_eq!(destroys[0].0, "image", "old avatar");
    assert!(destroys.contains(&("video".to_owned(), destroys[1..].iter().find(|d| d.0 == "video").unwrap().1.clone())));
    assert_eq!(destroys.iter().filter(|d| d.0 == "image").count(), 2, "avatar and thumbnail as images");
    assert_eq!(fake.assets().len(), 1, "only the new avatar remains");
}

#[tokio::test]
async fn a_database_failure_after_upload_destroys_the_assets() {
    // The failure is injected with an SQLite trigger, so this test is pinned to the embedded store.
    let (app, fake) = cloudinary_app_from(cloudinary_builder().store(StoreBackend::Sqlite)).await;
    let s = app.user("asha").await;
    let db = rusqlite::Connection::open(app.data_dir.path().join("videotube.db")).unwrap();
    db.execute("CREATE TRIGGER no_videos BEFORE INSERT ON videos BEGIN SELECT RAISE(ABORT, 'nope'); END", []).unwrap();
    let resp = publish_bytes(&app, &s, big_video(1000)).await;
    resp.err(500, "Something went wrong");
    assert_eq!(fake.assets().len(), 1, "video and thumbnail destroyed; the avatar remains");
    let destroyed: Vec<String> =
        fake.requests().into_iter().filter(|r| r.action == "destroy").map(|r| r.resource_type).collect();
    assert_eq!(destroyed, vec!["video", "image"]);
}

/// Uploads bytes straight to the fake with the signed parameters, as a browser would.
async fn browser_upload(app: &TestApp, params: &Value, bytes: Vec<u8>) -> Value {
    let mut form = Form::new();
    for key in ["api_key", "timestamp", "folder", "signature"] {
        let source = match key {
            "api_key" => "apiKey",
            other => other,
        };
        let value = &params[source];
        form = form.text(key, value.as_str().map_or_else(|| value.to_string(), str::to_owned));
    }
    form = form.part("file", Part::bytes(bytes).file_name("direct"));
    let resp = app.client.post(params["uploadUrl"].as_str().unwrap()).multipart(form).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn sign(app: &TestApp, s: Option<&Session>, field: &str) -> Resp {
    app.json(Method::POST, "/uploads/signature", s, json!({"field": field})).await
}

#[tokio::test]
async fn direct_uploads_are_verified_before_they_are_recorded() {
    let (app, fake) = cloudinary_app().await;
    let s = app.user("asha").await;
    let ben = app.user("ben").await;
    let params = sign(&app, Some(&s), "avatar").await.ok(200, "Upload signature created successfully").clone();
    assert_eq!(params["folder"], format!("videotube/direct/{}/avatar", s.id));
    assert_eq!(
        (params["cloudName"].clone(), params["resourceType"].clone()),
        (json!(fake_cloudinary::CLOUD), json!("image"))
    );
    assert!(params.get("apiSecret").is_none() && !params.to_string().contains(fake_cloudinary::API_SECRET));
    let result = browser_upload(&app, &params, fixtures::png()).await;

    let mut tampered = result.clone();
    tampered["public_id"] = json!(format!("videotube/direct/{}/avatar/other", s.id));
    let resp = app.json(Method::PATCH, "/users/avatar", Some(&s), json!({"avatarUpload": tampered.to_string()})).await;
    resp.err(400, "avatarUpload is not a valid upload result");

    let resp = app.json(Method::PATCH, "/users/avatar", Some(&ben), json!({"avatarUpload": result.to_string()})).await;
    resp.err(400, "avatarUpload is not a valid upload result");
    assert!(
        !app.media_exists(result["secure_url"].as_str().unwrap()).await,
        "a genuine upload in the wrong folder is destroyed"
    );
    let rejected_id = result["public_id"].as_str().unwrap();
    assert!(fake.requests().iter().any(|r| r.action == "destroy" && r.fields["public_id"] == rejected_id));

    let result = browser_upload(&app, &params, fixtures::png()).await;
    let user = app.json(Method::PATCH, "/users/avatar", Some(&s), json!({"avatarUpload": result.to_string()})).await;
    assert_eq!(user.ok(200, "Avatar image updated successfully")["avatar"], result["secure_url"]);

    let video_params = sign(&app, Some(&s), "videoFile").await.ok(200, "Upload signature created successfully").clone();
    let thumb_params = sign(&app, Some(&s), "thumbnail").await.ok(200, "Upload signature created successfully").clone();
    let video_result = browser_upload(&app, &video_params, fixtures::mp4(5)).await;
    let thumb_result = browser_upload(&app, &thumb_params, fixtures::jpeg()).await;
    let body = json!({"title": "Direct", "description": "d", "videoFileUpload": video_result.to_string(),
        "thumbnailUpload": thumb_result.to_string()});
    let video = app.json(Method::POST, "/videos", Some(&s), body).await;
    let video = video.ok(201, "Video uploaded successfully");
    assert_eq!(
        (video["videoFile"].clone(), video["duration"].clone()),
        (video_result["secure_url"].clone(), json!(12.5))
    );

    sign(&app, None, "videoFile").await.err(401, "Unauthorized request");
    sign(&app, Some(&s), "resume").await.err(400, "field must be one of avatar, coverImage, thumbnail or videoFile");
    let register_params = sign(&app, None, "avatar").await.ok(200, "Upload signature created successfully").clone();
    assert_eq!(register_params["folder"], "videotube/direct/register/avatar");
    let avatar = browser_upload(&app, &register_params, fixtures::png()).await;
    let body = json!({"fullName": "Cleo", "email": "cleo@example.com", "username": "cleo", "password": "pw",
        "avatarUpload": avatar.to_string()});
    let cleo = app.json(Method::POST, "/users/register", None, body).await;
    assert_eq!(cleo.ok(201, "User registered Successfully")["avatar"], avatar["secure_url"]);
}

#[tokio::test]
async fn direct_uploads_need_cloudinary() {
    let app = TestApp::builder().media(MediaBackend::Local).spawn().await;
    let s = app.user("asha").await;
    sign(&app, Some(&s), "avatar")
        .await
        .err(400, "Direct uploads need the Cloudinary media backend, which is not configured");
}

/// docs/api.md §3.14: Cloudinary transcodes and streams, so a video is ready at once with the
/// `sp_auto` HLS playlist and the size and duration of the upload response; nothing runs locally,
/// even where ffmpeg is installed, and a thumbnail stays required.
#[tokio::test]
async fn videos_stream_from_cloudinary_ready_at_once() {
    let (app, fake) = cloudinary_app_from(cloudinary_builder().env("PROCESSING_ENABLED", "auto")).await;
    let s = app.user("asha").await;
    let video = app.publish(&s, "Streamed").await;
    let asset = fake.assets().into_iter().find(|a| a.resource_type == "video").unwrap();
    let hls =
        format!("https://res.cloudinary.com/{}/video/upload/sp_auto/{}.m3u8", fake_cloudinary::CLOUD, asset.public_id);
    assert_eq!(video["streams"], json!({ "hls": hls }));
    assert_eq!(video["processing"], json!({ "status": "ready", "progress": 100 }));
    assert_eq!(
        (video["width"].as_i64(), video["height"].as_i64(), video["duration"].as_f64()),
        (Some(640), Some(360), Some(12.5))
    );
    let id = video["_id"].as_str().unwrap();
    let report = app.get(&format!("/videos/{id}/processing"), None).await;
    assert_eq!(
        report.ok(200, "Processing status fetched successfully"),
        &json!({"status": "ready", "progress": 100, "error": null})
    );
    assert_eq!(app.get("/healthcheck", None).await.data()["processing"]["enabled"], false);

    let form = Form::new()
        .text("title", "No thumb")
        .text("description", "d")
        .part("videoFile", Part::bytes(fixtures::mp4(5)).file_name("a.mp4"));
    let resp = app.send(app.request(Method::POST, "/videos").bearer_auth(&s.access).multipart(form)).await;
    resp.err(400, "Thumbnail is required");
}
