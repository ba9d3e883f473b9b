//! Video processing (docs/api.md §3.14) on real media that ffmpeg makes in the test itself: a
//! transcode of a QuickTime clip, a playable WebM with an extracted thumbnail, a portrait clip, the
//! HLS ladder checked with ffprobe, a corrupt file, deletion and a crash in the middle of a job.
//! Where ffmpeg is not installed, each test asserts the behaviour with processing off instead.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::fixtures::jpeg as fixtures_jpeg;
use crate::helpers::{MediaBackend, ServerProcess, Session, StoreBackend, TestApp, http_client};

/// How long a job on a tiny clip may take, even on a busy machine (ffmpeg runs at idle priority).
const READY_WITHIN: Duration = Duration::from_secs(180);

/// The installed ffmpeg and ffprobe, when both answer.
pub(crate) fn tools() -> Option<(PathBuf, PathBuf)> {
    let find = |name: &str| {
        let path = std::env::var_os("PATH")?;
        let found = std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())?;
        Command::new(&found).arg("-version").output().ok()?.status.success().then_some(found)
    };
    Some((find("ffmpeg")?, find("ffprobe")?))
}

/// A clip made by ffmpeg from its test sources: `inputs` then `codec` arguments, into `name`.
pub(crate) fn clip(dir: &Path, name: &str, size: &str, seconds: u32, codec: &[&str]) -> Vec<u8> {
    let (ffmpeg, _) = tools().unwrap();
    let out = dir.join(name);
    let video = format!("testsrc=size={size}:rate=15:duration={seconds}");
    let audio = format!("sine=frequency=440:duration={seconds}");
    let status = Command::new(ffmpeg)
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", &video, "-f", "lavfi", "-i", &audio])
        .args(codec)
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg could not make {name}");
    std::fs::read(out).unwrap()
}

/// ffprobe's JSON view of a file or URL (awaited: the server it reads from runs on this thread).
async fn probe(input: &str) -> Value {
    let (_, ffprobe) = tools().unwrap();
    let output = tokio::process::Command::new(ffprobe)
        .args(["-v", "error", "-print_format", "json", "-show_format", "-show_streams", input])
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "ffprobe {input}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn stream<'a>(probed: &'a Value, kind: &str) -> Option<&'a Value> {
    probed["streams"].as_array().unwrap().iter().find(|s| s["codec_type"] == kind)
}

async fn processing_app(extra: &[(&str, &str)]) -> TestApp {
    let mut builder = TestApp::builder().media(MediaBackend::Local).env("PROCESSING_ENABLED", "true");
    for (k, v) in extra {
        builder = builder.env(k, v);
    }
    builder.spawn().await
}

/// The app of a machine without ffmpeg, where processing-dependent tests check the off behaviour.
async fn without_tools_app() -> TestApp {
    TestApp::builder().media(MediaBackend::Local).env("PROCESSING_ENABLED", "auto").spawn().await
}

/// Publishes `video` with or without the fixture thumbnail; the created Video.
async fn publish(app: &TestApp, session: &Session, name: &str, video: Vec<u8>, thumbnail: bool) -> Value {
    let mut form = Form::new()
        .text("title", format!("Clip {name}"))
        .text("description", "Made by ffmpeg")
        .part("videoFile", Part::bytes(video).file_name(name.to_owned()));
    if thumbnail {
        form = form.part("thumbnail", Part::bytes(fixtures_jpeg()).file_name("thumb.jpg"));
    }
    let resp = app.send(app.request(Method::POST, "/videos").bearer_auth(&session.access).multipart(form)).await;
    resp.ok(201, "Video uploaded successfully").clone()
}

/// Polls the processing status until it is `ready` or `failed` (bounded); every progress seen.
async fn settle(app: &TestApp, id: &str) -> (Value, Vec<u64>) {
    let started = Instant::now();
    let mut seen = Vec::new();
    loop {
        let resp = app.get(&format!("/videos/{id}/processing"), None).await;
        let data = resp.ok(200, "Processing status fetched successfully").clone();
        seen.push(data["progress"].as_u64().unwrap());
        if data["status"] == "ready" || data["status"] == "failed" {
            return (data, seen);
        }
        assert!(started.elapsed() < READY_WITHIN, "still {data} after {READY_WITHIN:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls until the job is claimed (status `processing`).
async fn until_processing(app: &TestApp, id: &str) {
    let started = Instant::now();
    loop {
        let data = app.get(&format!("/videos/{id}/processing"), None).await.data().clone();
        if data["status"] == "processing" {
            return;
        }
        assert_eq!(data["status"], "queued", "{data}");
        assert!(started.elapsed() < READY_WITHIN, "never claimed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn video(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/videos/{id}"), None).await.ok(200, "Video fetched successfully").clone()
}

/// An ffmpeg that waits before working: jobs stay in the middle long enough to interrupt them.
/// (Only the tests use a script; the server runs whatever FFMPEG_PATH names, without a shell.)
fn slow_ffmpeg(dir: &Path, seconds: u32) -> PathBuf {
    let (ffmpeg, _) = tools().unwrap();
    let script = dir.join("slow-ffmpeg");
    let body = format!(
        "#!/bin/sh\ncase \"$1\" in -version) ;; *) sleep {seconds} ;; esac\nexec {} \"$@\"\n",
        ffmpeg.display()
    );
    executable(&script, &body);
    script
}

/// Writes an executable script.
fn executable(path: &Path, body: &str) {
    std::fs::write(path, body).unwrap();
    let mut permissions = std::fs::metadata(path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(path, permissions).unwrap();
}

/// Files left under a directory of DATA_DIR (`tmp`, `media/videos`, …).
fn files_in(app: &TestApp, dir: &str) -> Vec<PathBuf> {
    std::fs::read_dir(app.data_dir.path().join(dir)).map_or(Vec::new(), |d| d.map(|e| e.unwrap().path()).collect())
}

/// With processing off a video is served as uploaded: `off`, no streams, no dimensions, and a
/// thumbnail is required (docs/api.md §3.14). Also what the tests below check where ffmpeg is missing.
async fn assert_processing_off(app: &TestApp) {
    let health = app.get("/healthcheck", None).await;
    let processing = &health.ok(200, "OK")["processing"];
    assert_eq!(processing["enabled"], false);
    let s = app.user("offline").await;
    let form = Form::new()
        .text("title", "No thumb")
        .text("description", "d")
        .part("videoFile", Part::bytes(crate::fixtures::mp4(25)).file_name("a.mp4"));
    let resp = app.send(app.request(Method::POST, "/videos").bearer_auth(&s.access).multipart(form)).await;
    resp.err(400, "Thumbnail is required");
    let published = app.publish(&s, "As uploaded").await;
    assert_eq!(published["processing"], serde_json::json!({"status": "off", "progress": 0}));
    assert_eq!(published["streams"], serde_json::json!({"hls": null}));
    assert_eq!((published["width"].as_i64(), published["height"].as_i64()), (Some(0), Some(0)));
    let id = published["_id"].as_str().unwrap();
    let report = app.get(&format!("/videos/{id}/processing"), None).await;
    let data = report.ok(200, "Processing status fetched successfully");
    assert_eq!(data, &serde_json::json!({"status": "off", "progress": 0, "error": null}));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(video(app, id).await["processing"]["status"], "off", "no job ever runs");
}

#[tokio::test]
async fn without_ffmpeg_the_server_behaves_as_v1_and_says_processing_is_off() {
    let app = TestApp::builder()
        .media(MediaBackend::Local)
        .env("PROCESSING_ENABLED", "auto")
        .env("FFMPEG_PATH", "/nonexistent/ffmpeg")
        .env("FFPROBE_PATH", "/nonexistent/ffprobe")
        .spawn()
        .await;
    let health = app.get("/healthcheck", None).await;
    assert_eq!(health.ok(200, "OK")["processing"], serde_json::json!({"enabled": false, "ffmpeg": null}));
    assert_processing_off(&app).await;

    // Demanding processing without the tools stops startup, naming the setting.
    let dir = tempfile::tempdir().unwrap();
    let vars = [
        ("DATA_DIR", dir.path().to_str().unwrap()),
        ("PROCESSING_ENABLED", "true"),
        ("FFMPEG_PATH", "/nonexistent/ffmpeg"),
    ];
    let config =
        videotube::config::Config::from_vars(&vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
            .unwrap();
    let error = videotube::app::build(config).await.err().expect("startup refused").to_string();
    assert!(error.starts_with("PROCESSING_ENABLED=true but ffmpeg (/nonexistent/ffmpeg)"), "{error}");
}

#[tokio::test]
async fn a_quicktime_clip_is_transcoded_to_a_faststart_h264_mp4_with_an_hls_ladder() {
    if tools().is_none() {
        return assert_processing_off(&without_tools_app().await).await;
    }
    let app = processing_app(&[]).await;
    let health = app.get("/healthcheck", None).await;
    let processing = health.ok(200, "OK")["processing"].clone();
    assert_eq!(processing["enabled"], true);
    assert!(processing["ffmpeg"].as_str().is_some_and(|v| !v.is_empty()), "{processing}");

    let s = app.user("maker").await;
    let work = tempfile::tempdir().unwrap();
    let mov = clip(work.path(), "clip.mov", "160x120", 2, &["-c:v", "mpeg4", "-c:a", "aac", "-f", "mov"]);
    let published = publish(&app, &s, "clip.mov", mov, true).await;
    assert_eq!(published["processing"], serde_json::json!({"status": "queued", "progress": 0}));
    assert_eq!(published["streams"]["hls"], Value::Null);
    let id = published["_id"].as_str().unwrap();
    let original = published["videoFile"].as_str().unwrap().to_owned();
    assert!(original.ends_with(".mov"), "{original}");

    let (report, seen) = settle(&app, id).await;
    assert_eq!(report, serde_json::json!({"status": "ready", "progress": 100, "error": null}));
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "progress went back: {seen:?}");

    let ready = video(&app, id).await;
    assert_eq!(ready["processing"], serde_json::json!({"status": "ready", "progress": 100}));
    assert_eq!((ready["width"].as_i64(), ready["height"].as_i64()), (Some(160), Some(120)));
    assert!((ready["duration"].as_f64().unwrap() - 2.0).abs() < 0.2, "{}", ready["duration"]);
    assert_eq!(ready["thumbnail"], published["thumbnail"], "the uploaded thumbnail is kept");
    let file = ready["videoFile"].as_str().unwrap();
    assert!(file.ends_with(".mp4") && file != original, "{file}");
    assert!(!app.media_exists(&original).await, "the original is deleted once replaced");

    let probed = probe(file).await;
    assert!(probed["format"]["format_name"].as_str().unwrap().contains("mp4"));
    assert_eq!(stream(&probed, "video").unwrap()["codec_name"], "h264");
    assert_eq!(stream(&probed, "audio").unwrap()["codec_name"], "aac");
    let bytes = app.client.get(file).send().await.unwrap().bytes().await.unwrap();
    let at = |atom: &[u8]| bytes.windows(4).position(|w| w == atom).unwrap();
    assert!(at(b"moov") < at(b"mdat"), "faststart puts the index first");

    // The ladder: a 120-line source is shorter than every configured height, so one rendition.
    let hls = ready["streams"]["hls"].as_str().unwrap();
    assert!(hls.starts_with(&format!("{}/media/hls/", app.base)) && hls.ends_with("/master.m3u8"), "{hls}");
    let master = app.client.get(hls).send().await.unwrap();
    assert_eq!(master.headers()["content-type"], "application/vnd.apple.mpegurl");
    let master = master.text().await.unwrap();
    let variants: Vec<&str> = master.lines().filter(|l| l.starts_with("#EXT-X-STREAM-INF:")).collect();
    assert_eq!(variants.len(), 1, "{master}");
    assert!(variants[0].contains("BANDWIDTH=") && variants[0].contains("RESOLUTION=160x120"), "{master}");
    let probed = probe(hls).await;
    let video_stream = stream(&probed, "video").unwrap();
    assert_eq!((video_stream["codec_name"].as_str(), video_stream["height"].as_i64()), (Some("h264"), Some(120)));
    assert_eq!(stream(&probed, "audio").unwrap()["codec_name"], "aac");

    let playlist_url = format!("{}/120p.m3u8", hls.trim_end_matches("/master.m3u8"));
    let playlist = app.client.get(&playlist_url).send().await.unwrap().text().await.unwrap();
    let segment = playlist.lines().find(|l| l.ends_with(".ts")).expect("a segment");
    let segment_url = format!("{}/{segment}", hls.trim_end_matches("/master.m3u8"));
    let ranged = app.client.get(&segment_url).header("range", "bytes=0-187").send().await.unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(ranged.headers()["content-type"], "video/mp2t");
    let ts = ranged.bytes().await.unwrap();
    assert_eq!((ts.len(), ts[0]), (188, 0x47), "one MPEG-TS packet");

    // Deleting the video deletes its renditions and files.
    let resp = app.call(Method::DELETE, &format!("/videos/{id}"), &s).await;
    resp.ok(200, "Video deleted successfully");
    assert!(app.client.get(hls).send().await.unwrap().status() == 404);
    assert!(files_in(&app, "media/hls").is_empty() && files_in(&app, "media/videos").is_empty());
}

#[tokio::test]
async fn a_playable_webm_is_kept_and_gets_an_extracted_thumbnail_and_a_capped_ladder() {
    if tools().is_none() {
        return assert_processing_off(&without_tools_app().await).await;
    }
    let app = processing_app(&[("HLS_RENDITIONS", "120,240,480")]).await;
    let s = app.user("webber").await;
    let work = tempfile::tempdir().unwrap();
    let webm = clip(
        work.path(),
        "clip.webm",
        "320x240",
        2,
        &["-c:v", "libvpx-vp9", "-deadline", "realtime", "-c:a", "libopus"],
    );
    let published = publish(&app, &s, "clip.webm", webm, false).await;
    assert_eq!(published["thumbnail"], "", "no thumbnail yet");
    let id = published["_id"].as_str().unwrap();
    let (report, _) = settle(&app, id).await;
    assert_eq!(report["status"], "ready", "{report}");

    let ready = video(&app, id).await;
    assert_eq!(ready["videoFile"], published["videoFile"], "VP9/Opus in WebM plays in browsers as it is");
    assert_eq!((ready["width"].as_i64(), ready["height"].as_i64()), (Some(320), Some(240)));
    let thumbnail = ready["thumbnail"].as_str().unwrap();
    assert!(thumbnail.starts_with(&format!("{}/media/images/", app.base)), "{thumbnail}");
    let jpeg = app.client.get(thumbnail).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(&jpeg[..3], &[0xFF, 0xD8, 0xFF], "a JPEG");
    let frame = probe(thumbnail).await;
    assert_eq!(stream(&frame, "video").unwrap()["width"], 320);

    // Heights up to the source's 240 lines; 480 is skipped.
    let hls = ready["streams"]["hls"].as_str().unwrap();
    let master = app.client.get(hls).send().await.unwrap().text().await.unwrap();
    let resolutions: Vec<&str> =
        master.lines().filter_map(|l| l.split("RESOLUTION=").nth(1)).map(|r| r.split(',').next().unwrap()).collect();
    assert_eq!(resolutions, ["160x120", "320x240"], "{master}");
    let probed = probe(hls).await;
    let heights: Vec<i64> = probed["streams"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["codec_type"] == "video")
        .map(|s| s["height"].as_i64().unwrap())
        .collect();
    assert!(heights.contains(&120) && heights.contains(&240), "{heights:?}");
}

#[tokio::test]
async fn a_portrait_h264_clip_without_audio_keeps_its_file_and_reports_its_shape() {
    if tools().is_none() {
        return assert_processing_off(&without_tools_app().await).await;
    }
    let app = processing_app(&[]).await;
    let s = app.user("portrait").await;
    let work = tempfile::tempdir().unwrap();
    let mp4 = clip(work.path(), "tall.mp4", "120x160", 2, &["-c:v", "libx264", "-pix_fmt", "yuv420p", "-an"]);
    let published = publish(&app, &s, "tall.mp4", mp4, true).await;
    let id = published["_id"].as_str().unwrap();
    let (report, _) = settle(&app, id).await;
    assert_eq!(report["status"], "ready", "{report}");
    let ready = video(&app, id).await;
    assert_eq!(ready["videoFile"], published["videoFile"], "H.264 in MP4 without audio needs no transcode");
    assert_eq!((ready["width"].as_i64(), ready["height"].as_i64()), (Some(120), Some(160)));
    let master = app.client.get(ready["streams"]["hls"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(master.contains("RESOLUTION=120x160"), "{master}");

    // The feed and the owner's dashboard show the same processing fields.
    let feed = app.get("/videos", None).await;
    let listed = &feed.ok(200, "Videos fetched successfully")["docs"][0];
    assert_eq!(
        (&listed["processing"], &listed["streams"], &listed["height"]),
        (&ready["processing"], &ready["streams"], &ready["height"])
    );
}

#[tokio::test]
async fn a_corrupt_file_fails_cleanly_and_stays_playable_from_its_original() {
    if tools().is_none() {
        return assert_processing_off(&without_tools_app().await).await;
    }
    let app = processing_app(&[]).await;
    let s = app.user("broken").await;
    let mut corrupt = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2".to_vec();
    corrupt.extend(std::iter::repeat_n(0x5Au8, 4096));
    let published = publish(&app, &s, "broken.mp4", corrupt, true).await;
    let id = published["_id"].as_str().unwrap();
    let (report, _) = settle(&app, id).await;
    assert_eq!(report["status"], "failed");
    assert_eq!(report["error"], "The video file could not be read");
    let after = video(&app, id).await;
    assert_eq!(after["videoFile"], published["videoFile"]);
    assert!(app.media_exists(after["videoFile"].as_str().unwrap()).await, "still served from its original");
    assert_eq!(after["streams"]["hls"], Value::Null);
    // Not retried: it stays failed while the runner keeps polling.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let later = app.get(&format!("/videos/{id}/processing"), None).await;
    assert_eq!(later.data()["status"], "failed");
    assert!(files_in(&app, "tmp").is_empty(), "{:?}", files_in(&app, "tmp"));
}

#[tokio::test]
async fn deleting_a_video_mid_job_cancels_it_and_leaves_no_files() {
    if tools().is_none() {
        return assert_processing_off(&without_tools_app().await).await;
    }
    let work = tempfile::tempdir().unwrap();
    let slow = slow_ffmpeg(work.path(), 5);
    let app = processing_app(&[("FFMPEG_PATH", slow.to_str().unwrap())]).await;
    let s = app.user("quitter").await;
    let mov = clip(work.path(), "clip.mov", "160x120", 2, &["-c:v", "mpeg4", "-c:a", "aac", "-f", "mov"]);
    let published = publish(&app, &s, "clip.mov", mov, false).await;
    let id = published["_id"].as_str().unwrap();
    until_processing(&app, id).await;
    app.call(Method::DELETE, &format!("/videos/{id}"), &s).await.ok(200, "Video deleted successfully");
    app.get(&format!("/videos/{id}/processing"), None).await.err(404, "Video not found");

    let started = Instant::now();
    loop {
        let left: Vec<PathBuf> =
            ["tmp", "media/videos", "media/hls"].iter().flat_map(|dir| files_in(&app, dir)).collect();
        if left.is_empty() {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "left behind: {left:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(files_in(&app, "media/images").len(), 1, "only the avatar");
    // Nothing appears later either: the job is gone, not just paused.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let left: Vec<PathBuf> = ["tmp", "media/videos", "media/hls"].iter().flat_map(|dir| files_in(&app, dir)).collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn a_job_interrupted_by_a_crash_is_resumed_by_the_next_instance() {
    let Some((ffmpeg, ffprobe)) = tools() else {
        return assert_processing_off(&without_tools_app().await).await;
    };
    let work = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let slow = slow_ffmpeg(work.path(), 10);
    let mongodb = match StoreBackend::from_env() {
        StoreBackend::Mongo => crate::helpers::fresh_mongodb_database(),
        StoreBackend::Sqlite => None,
    };
    let data_dir = data.path().to_str().unwrap();
    let mut vars = vec![
        ("DATA_DIR", data_dir),
        ("BCRYPT_COST", "4"),
        ("RATE_LIMIT_ENABLED", "false"),
        ("PROCESSING_ENABLED", "true"),
        ("PROCESSING_LEASE_SECS", "2"),
        ("FFMPEG_PATH", slow.to_str().unwrap()),
        ("FFPROBE_PATH", ffprobe.to_str().unwrap()),
    ];
    if let Some(uri) = &mongodb {
        vars.push(("MONGODB_URI", uri.as_str()));
    }
    let mut first = ServerProcess::start(work.path(), &vars).await.expect("first instance starts");
    let crashed = TestApp {
        base: first.base.clone(),
        client: http_client(),
        data_dir: tempfile::tempdir().unwrap(),
        cloudinary: None,
        mongodb: None,
    };
    let s = crashed.user("survivor").await;
    let mov = clip(work.path(), "clip.mov", "160x120", 2, &["-c:v", "mpeg4", "-c:a", "aac", "-f", "mov"]);
    let published = publish(&crashed, &s, "clip.mov", mov, false).await;
    let id = published["_id"].as_str().unwrap().to_owned();
    until_processing(&crashed, &id).await;
    first.child.kill().unwrap();
    first.child.wait().unwrap();

    // The next instance (same data, a working ffmpeg) takes the job over once its lease runs out.
    let mut builder = TestApp::builder().media(MediaBackend::Local).store(StoreBackend::Sqlite);
    for (k, v) in vars.iter().filter(|(k, _)| *k != "FFMPEG_PATH") {
        builder = builder.env(k, v);
    }
    let next = builder.env("FFMPEG_PATH", ffmpeg.to_str().unwrap()).spawn().await;
    let (report, seen) = settle(&next, &id).await;
    assert_eq!(report, serde_json::json!({"status": "ready", "progress": 100, "error": null}));
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "progress went back: {seen:?}");
    let ready = next.get(&format!("/videos/{id}"), Some(&s)).await.ok(200, "Video fetched successfully").clone();
    let thumbnail = ready["thumbnail"].as_str().unwrap();
    assert!(thumbnail.starts_with(&format!("{}/media/images/", next.base)), "extracted by the next instance");
    assert!(ready["videoFile"].as_str().unwrap().ends_with(".mp4"));
    if let Some(uri) = &mongodb {
        crate::helpers::drop_mongodb_database(uri);
    }
}

/// Two instances on one MongoDB database and one media directory (as instances serving local media
/// must share it): every job runs exactly once, on one of them. An `FFMPEG_PATH` script records each
/// ffmpeg run's arguments, so a job run twice would show two transcodes of one original.
#[tokio::test]
async fn with_two_instances_on_one_database_each_job_runs_once() {
    let (Some((ffmpeg, ffprobe)), Some(uri)) = (tools(), crate::helpers::fresh_mongodb_database()) else {
        eprintln!("needs ffmpeg and TEST_MONGODB_URI (CI has both); the store story covers the claims");
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let runs = work.path().join("runs.log");
    let recorder = work.path().join("recording-ffmpeg");
    let script = format!(
        "#!/bin/sh\n[ \"$1\" = -version ] || echo \"$*\" >> {}\nexec {} \"$@\"\n",
        runs.display(),
        ffmpeg.display()
    );
    executable(&recorder, &script);
    let (access, refresh) = ("a".repeat(64), "r".repeat(64));
    let vars = [
        ("MONGODB_URI", uri.as_str()),
        ("DATA_DIR", data.path().to_str().unwrap()),
        ("ACCESS_TOKEN_SECRET", access.as_str()),
        ("REFRESH_TOKEN_SECRET", refresh.as_str()),
        ("PROCESSING_CONCURRENCY", "2"),
        ("FFMPEG_PATH", recorder.to_str().unwrap()),
        ("FFPROBE_PATH", ffprobe.to_str().unwrap()),
    ];
    let mut apps = Vec::new();
    for _ in 0..2 {
        let mut builder =
            TestApp::builder().media(MediaBackend::Local).store(StoreBackend::Sqlite).env("PROCESSING_ENABLED", "true");
        for (k, v) in vars {
            builder = builder.env(k, v);
        }
        apps.push(builder.spawn().await);
    }
    let s = apps[0].user("shared").await;
    let mut ids = Vec::new();
    for n in 0..4 {
        let mov = clip(work.path(), &format!("clip{n}.mov"), "160x120", 2, &["-c:v", "mpeg4", "-an", "-f", "mov"]);
        ids.push(publish(&apps[n % 2], &s, "clip.mov", mov, true).await["_id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        let (report, _) = settle(&apps[0], id).await;
        assert_eq!(report["status"], "ready", "{report}");
    }
    let log = std::fs::read_to_string(&runs).unwrap();
    let transcodes: Vec<&str> = log.lines().filter(|l| l.contains("+faststart")).collect();
    assert_eq!(transcodes.len(), ids.len(), "one transcode per video:\n{log}");
    let mut originals: Vec<&str> =
        transcodes.iter().filter_map(|l| l.split_whitespace().skip_while(|a| *a != "-i").nth(1)).collect();
    originals.sort();
    originals.dedup();
    assert_eq!(originals.len(), ids.len(), "each original transcoded once:\n{log}");
    drop(apps);
    crate::helpers::drop_mongodb_database(&uri);
}

/// The status route shows a video exactly to those who may open it (docs/api.md §3.14).
#[tokio::test]
async fn the_processing_status_follows_the_videos_visibility() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner").await;
    let other = app.user("other").await;
    let id = app.publish(&owner, "Secret").await["_id"].as_str().unwrap().to_owned();
    let level = serde_json::json!({"visibility": "private"});
    app.json(Method::PATCH, &format!("/videos/{id}"), Some(&owner), level).await.ok(200, "Video updated successfully");
    let path = format!("/videos/{id}/processing");
    app.get(&path, None).await.err(404, "Video not found");
    app.get(&path, Some(&other)).await.err(404, "Video not found");
    app.get(&path, Some(&owner)).await.ok(200, "Processing status fetched successfully");
    app.get("/videos/not-an-id/processing", None).await.err(400, "Invalid videoId");
}

/// What a phone uploads: HEVC in QuickTime, filmed upright (a landscape picture turned by a quarter
/// by its display matrix). Browsers cannot play it, so it becomes H.264 MP4, in its upright shape.
#[tokio::test]
async fn a_rotated_hevc_quicktime_clip_becomes_an_upright_h264_mp4() {
    if tools().is_none() {
        return assert_processing_off(&without_tools_app().await).await;
    }
    let app = processing_app(&[]).await;
    let s = app.user("phone").await;
    let work = tempfile::tempdir().unwrap();
    let codec = ["-c:v", "libx265", "-x265-params", "log-level=error", "-tag:v", "hvc1", "-c:a", "aac", "-f", "mov"];
    clip(work.path(), "landscape.mov", "160x120", 2, &codec);
    // ffmpeg 5.1 writes the display matrix only when copying streams.
    let (ffmpeg, _) = tools().unwrap();
    let phone = work.path().join("phone.mov");
    let status = Command::new(ffmpeg)
        .args(["-v", "error", "-y", "-i"])
        .arg(work.path().join("landscape.mov"))
        .args(["-c", "copy", "-metadata:s:v:0", "rotate=90", "-f", "mov"])
        .arg(&phone)
        .status()
        .unwrap();
    assert!(status.success());
    let hevc = std::fs::read(&phone).unwrap();
    let published = publish(&app, &s, "phone.mov", hevc, true).await;
    let id = published["_id"].as_str().unwrap();
    let (report, _) = settle(&app, id).await;
    assert_eq!(report["status"], "ready", "{report}");
    let ready = video(&app, id).await;
    assert_eq!((ready["width"].as_i64(), ready["height"].as_i64()), (Some(120), Some(160)), "upright");
    let file = ready["videoFile"].as_str().unwrap();
    assert!(file.ends_with(".mp4"), "{file}");
    let probed = probe(file).await;
    let picture = stream(&probed, "video").unwrap();
    assert_eq!((picture["codec_name"].as_str(), picture["width"].as_i64()), (Some("h264"), Some(120)));
    let master = app.client.get(ready["streams"]["hls"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(master.contains("RESOLUTION=120x160"), "{master}");
}
