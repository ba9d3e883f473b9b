//! `/videos` routes: publishing with measured durations, the feed, views, history, edits, deletes, streaming.

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::fixtures;
use crate::helpers::{MediaBackend, PROCESSING_OFF, Resp, ServerProcess, Session, TestApp};

async fn publish_form(app: &TestApp, s: &Session, form: Form) -> Resp {
    app.send(app.request(Method::POST, "/videos").bearer_auth(&s.access).multipart(form)).await
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|v| v["_id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn publishes_mp4_and_webm_with_measured_durations() {
    let app = TestApp::spawn().await;
    let s = app.user("asha").await;
    let form = TestApp::video_form("Tide pools", fixtures::mp4(25), "clip.mp4")
        .text("duration", "999")
        .text("views", "50")
        .text("isPublished", "false")
        .text("owner", "6650a1b2c3d4e5f601234567");
    let video = publish_form(&app, &s, form).await.ok(201, "Video uploaded successfully").clone();
    assert_eq!(video["duration"], app.expected_duration(1.0));
    assert_eq!(video["views"], 0);
    assert_eq!(video["isPublished"], true);
    assert_eq!(video["title"], "Tide pools");
    assert_eq!(
        video["owner"],
        json!({"_id": s.id, "username": "asha", "fullName": "asha Full", "avatar": video["owner"]["avatar"]})
    );
    assert_eq!(video["owner"], video["ownerDetails"]);
    assert!(video["videoFile"].as_str().unwrap().ends_with(".mp4"));
    assert!(video["thumbnail"].as_str().unwrap().ends_with(".jpg"));

    let webm = publish_form(&app, &s, TestApp::video_form("Rock pools", fixtures::webm(12_500.0), "clip.webm")).await;
    let webm = webm.ok(201, "Video uploaded successfully");
    assert_eq!(webm["duration"], app.expected_duration(12.5));
    assert!(webm["videoFile"].as_str().unwrap().ends_with(".webm"));
    assert!(app.temp_files().is_empty());
}

#[tokio::test]
async fn publish_errors_in_contract_order() {
    let app = TestApp::builder().env("MAX_TITLE_CHARS", "10").spawn().await;
    let s = app.user("asha").await;
    app.send(app.request(Method::POST, "/videos").multipart(Form::new())).await.err(401, "Unauthorized request");
    let errors =
        publish_form(&app, &s, Form::new().text("title", "t")).await.err(400, "All fields are required").clone();
    assert_eq!(errors, json!([{"field": "description", "message": "description is required"}]));
    let long = Form::new().text("title", "x".repeat(11)).text("description", "d");
    publish_form(&app, &s, long).await.err(400, "title must be at most 10 characters");
    let no_video = Form::new().text("title", "t").text("description", "d");
    publish_form(&app, &s, no_video).await.err(400, "Video file is required");
    let no_thumb = Form::new()
        .text("title", "t")
        .text("description", "d")
        .part("videoFile", Part::bytes(fixtures::mp4(5)).file_name("v.mp4"));
    publish_form(&app, &s, no_thumb).await.err(400, "Thumbnail is required");
    let image_as_video = TestApp::video_form("t", fixtures::png(), "v.mp4");
    publish_form(&app, &s, image_as_video)
        .await
        .err(415, "videoFile must be a video (mp4, webm, quicktime or matroska)");
    assert!(app.temp_files().is_empty());
    assert!(app.stored("videos") == 0);
}

#[tokio::test]
async fn video_detail_counts_views_once_per_viewer() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    let ben = app.user("ben").await;
    let id = app.publish(&asha, "Tide").await["_id"].as_str().unwrap().to_owned();
    let path = format!("/videos/{id}");

    let first = app.get(&path, Some(&ben)).await;
    let detail = first.ok(200, "Video fetched successfully").clone();
    assert_eq!(detail["views"], 1);
    assert_eq!(detail["likesCount"], 0);
    assert_eq!(detail["isLiked"], false);
    assert_eq!(detail["owner"]["subscribersCount"], 0);
    assert_eq!(detail["owner"]["isSubscribed"], false);
    assert_eq!(detail["owner"], detail["ownerDetails"]);
    assert_eq!(app.get(&path, Some(&ben)).await.data()["views"], 1, "same viewer within the window");
    assert_eq!(app.get(&path, Some(&asha)).await.data()["views"], 2, "owner views count like anyone's");
    assert_eq!(app.get(&path, None).await.data()["views"], 3, "anonymous viewer by IP");
    assert_eq!(app.get(&path, None).await.data()["views"], 3);
    assert_eq!(
        app.get(&path.to_uppercase().replace("/VIDEOS/", "/videos/"), None).await.data()["views"],
        3,
        "ids accept either case"
    );

    // `trending` is a route of its own, not a malformed video id.
    let trending = app.get("/videos/trending", None).await;
    assert_eq!(trending.ok(200, "Trending videos fetched successfully")["docs"][0]["recentViews"], 3);
    app.get("/videos/6650a1b2c3d4e5f601234567", None).await.err(404, "Video not found");
}

#[tokio::test]
async fn view_window_zero_counts_every_request() {
    let app = TestApp::builder().env("VIEW_WINDOW_SECS", "0").spawn().await;
    let s = app.user("asha").await;
    let id = app.publish(&s, "Tide").await["_id"].as_str().unwrap().to_owned();
    app.get(&format!("/videos/{id}"), Some(&s)).await;
    assert_eq!(app.get(&format!("/videos/{id}"), Some(&s)).await.data()["views"], 2);
    // At once, by the same viewer (on MongoDB these once shared a millisecond and counted as one).
    let path = format!("/videos/{id}");
    let watches = (0..12).map(|_| app.get(&path, Some(&s)));
    let answered = futures_util::future::join_all(watches).await;
    let mut counts: Vec<i64> = answered.iter().map(|r| r.data()["views"].as_i64().unwrap()).collect();
    counts.sort_unstable();
    assert_eq!(counts, (3..=14).collect::<Vec<_>>(), "each request counted, each saw its own count");
    let (detail, owner) = (app.get(&path, None).await, app.get(&path, Some(&s)).await);
    assert_eq!((detail.data()["views"].as_i64(), owner.data()["views"].as_i64()), (Some(15), Some(16)));
}

#[tokio::test]
async fn watch_history_is_newest_first_deduplicated_and_capped() {
    let app = TestApp::builder().env("HISTORY_MAX", "3").spawn().await;
    let s = app.user("asha").await;
    let mut videos = Vec::new();
    for title in ["A", "B", "C", "D"] {
        videos.push(app.publish(&s, title).await["_id"].as_str().unwrap().to_owned());
    }
    let watch = async |i: usize| app.get(&format!("/videos/{}", videos[i]), Some(&s)).await;
    watch(0).await;
    watch(1).await;
    watch(0).await;
    let history = app.get("/users/history", Some(&s)).await;
    assert_eq!(ids(history.ok(200, "Watch history fetched successfully")), vec![videos[0].clone(), videos[1].clone()]);
    let me = app.get("/users/current-user", Some(&s)).await;
    assert_eq!(me.data()["watchHistory"], json!([videos[0], videos[1]]));
    watch(2).await;
    watch(3).await;
    let history = app.get("/users/history", Some(&s)).await;
    assert_eq!(ids(history.data()), vec![videos[3].clone(), videos[2].clone(), videos[0].clone()]);
    app.get("/users/history", None).await.err(401, "Unauthorized request");
}

#[tokio::test]
async fn pagination_follows_the_contract_rules() {
    let app = TestApp::spawn().await;
    let s = app.user("asha").await;
    for title in ["one", "two", "three"] {
        app.publish(&s, title).await;
    }
    let page = app.get("/videos?page=5&limit=10", None).await;
    assert_eq!(
        page.ok(200, "Videos fetched successfully"),
        &json!({"docs": [], "totalDocs": 3, "limit": 10, "page": 5,
        "totalPages": 1, "pagingCounter": 41, "hasPrevPage": true, "hasNextPage": false, "prevPage": 4, "nextPage": null})
    );
    let page = app.get("/videos?limit=1000000", None).await;
    assert_eq!(page.data()["limit"], 100);
    let page = app.get("/videos?limit=2abc&page=-2", None).await;
    let data = page.data();
    assert_eq!(
        (data["limit"].clone(), data["page"].clone(), data["pagingCounter"].clone()),
        (json!(2), json!(2), json!(3))
    );
    assert_eq!(data["docs"].as_array().unwrap().len(), 1);
    assert_eq!(data["hasNextPage"], false);
    let page = app.get("/videos?limit=abc&page=0", None).await;
    assert_eq!((page.data()["limit"].clone(), page.data()["page"].clone()), (json!(10), json!(1)));
    let page = app.get("/videos?limit=1", None).await;
    assert_eq!((page.data()["totalPages"].clone(), page.data()["nextPage"].clone()), (json!(3), json!(2)));
}

#[tokio::test]
async fn search_is_literal_and_case_insensitive() {
    let app = TestApp::spawn().await;
    let s = app.user("asha").await;
    for title in ["100% Rust", "snake_case tips", "Regex .* tricks", "Plain Title", "Été à Paris", "Field $title paths"]
    {
        app.publish(&s, title).await;
    }
    let titles = |resp: &Resp| -> Vec<String> {
        resp.data()["docs"].as_array().unwrap().iter().map(|v| v["title"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(titles(&app.get("/videos?query=%25", None).await), vec!["100% Rust"]);
    assert_eq!(titles(&app.get("/videos?query=_", None).await), vec!["snake_case tips"]);
    assert_eq!(titles(&app.get("/videos?query=.*", None).await), vec!["Regex .* tricks"]);
    assert_eq!(titles(&app.get("/videos?query=pLAIN", None).await), vec!["Plain Title"]);
    assert_eq!(app.get("/videos?query=about%20plain", None).await.data()["totalDocs"], 1, "description matches too");
    assert_eq!(titles(&app.get("/videos?query=%C3%89t%C3%A9%20%C3%A0%20PARIS", None).await), vec!["Été à Paris"]);
    // On MongoDB a needle starting with `$` would be a field path (or `$$` a variable) if it were not
    // passed as a literal: it must match itself only, and never fail.
    assert_eq!(titles(&app.get("/videos?query=%24title", None).await), vec!["Field $title paths"]);
    assert_eq!(titles(&app.get("/videos?query=%24TITLE%20p", None).await), vec!["Field $title paths"]);
    for (needle, expected) in [("%24", vec!["Field $title paths"]), ("%24description", vec![]), ("%24%24ROOT", vec![])]
    {
        let resp = app.get(&format!("/videos?query={needle}"), None).await;
        assert_eq!(resp.status, 200, "{needle}: {}", resp.body);
        assert_eq!(titles(&resp), expected, "{needle}");
    }
    assert_eq!(app.get("/videos?query=%20%20", None).await.data()["totalDocs"], 6, "blank query filters nothing");
    app.get(&format!("/videos?query={}", "q".repeat(201)), None).await.err(400, "query must be at most 200 characters");
}

#[tokio::test]
async fn sorting_and_validation_of_list_parameters() {
    let app = TestApp::spawn().await;
    let s = app.user("asha").await;
    let b = app.publish(&s, "b").await["_id"].as_str().unwrap().to_owned();
    let a = app.publish(&s, "a").await["_id"].as_str().unwrap().to_owned();
    let c = app.publish(&s, "C").await["_id"].as_str().unwrap().to_owned();
    app.get(&format!("/videos/{a}"), Some(&s)).await;
    let list = async |q: &str| app.get(&format!("/videos?{q}"), None).await;
    assert_eq!(ids(&list("").await.data()["docs"]), vec![c.clone(), a.clone(), b.clone()], "newest first");
    assert_eq!(
        ids(&list("sortBy=title&sortType=ASC").await.data()["docs"]),
        vec![c.clone(), a.clone(), b.clone()],
        "code point order"
    );
    assert_eq!(ids(&list("sortBy=views").await.data()["docs"])[0], a);
    assert_eq!(ids(&list("sortBy=createdAt&sortType=asc").await.data()["docs"]), vec![b, a, c]);
    list("sortBy=owner").await.err(400, "Invalid sortBy");
    list("sortType=up").await.err(400, "Invalid sortType");
    list("userId=xyz").await.err(400, "Invalid userId");
    assert_eq!(list("userId=6650a1b2c3d4e5f601234567").await.data()["totalDocs"], 0);
    assert_eq!(list(&format!("userId={}", s.id)).await.data()["totalDocs"], 3);
}

#[tokio::test]
async fn unpublished_videos_are_visible_to_their_owner_only() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    let ben = app.user("ben").await;
    let id = app.publish(&asha, "Secret").await["_id"].as_str().unwrap().to_owned();
    let toggled = app.call(Method::PATCH, &format!("/videos/toggle/publish/{id}"), &asha).await;
    assert_eq!(toggled.ok(200, "Publish status toggled successfully")["isPublished"], false);
    let path = format!("/videos/{id}");
    app.get(&path, Some(&ben)).await.err(404, "Video not found");
    app.get(&path, None).await.err(404, "Video not found");
    app.get(&path, Some(&asha)).await.ok(200, "Video fetched successfully");
    app.json(Method::PATCH, &path, Some(&ben), json!({"title": "x"})).await.err(404, "Video not found");
    app.call(Method::DELETE, &path, &ben).await.err(404, "Video not found");
    app.call(Method::PATCH, &format!("/videos/toggle/publish/{id}"), &ben).await.err(404, "Video not found");
    assert_eq!(app.get("/videos", None).await.data()["totalDocs"], 0);
    assert_eq!(app.get(&format!("/videos?userId={}", asha.id), Some(&ben)).await.data()["totalDocs"], 0);
    assert_eq!(app.get(&format!("/videos?userId={}", asha.id), Some(&asha)).await.data()["totalDocs"], 1);
    assert_eq!(app.get("/videos", Some(&asha)).await.data()["totalDocs"], 0, "only with userId=<self>");
    // History entries of a video that became unpublished are hidden from other viewers, not deleted.
    app.call(Method::PATCH, &format!("/videos/toggle/publish/{id}"), &asha).await;
    app.get(&path, Some(&ben)).await.ok(200, "Video fetched successfully");
    app.call(Method::PATCH, &format!("/videos/toggle/publish/{id}"), &asha).await;
    assert_eq!(app.get("/users/history", Some(&ben)).await.data(), &json!([]));
    assert_eq!(app.get("/users/current-user", Some(&ben)).await.data()["watchHistory"], json!([id]));
}

#[tokio::test]
async fn updates_are_owner_only_and_replace_the_thumbnail() {
    let app = TestApp::builder().env("MAX_DESCRIPTION_CHARS", "20").spawn().await;
    let asha = app.user("asha").await;
    let ben = app.user("ben").await;
    let video = app.publish(&asha, "Tide").await;
    let id = video["_id"].as_str().unwrap();
    let path = format!("/videos/{id}");
    app.json(Method::PATCH, &path, Some(&ben), json!({"title": "x"}))
        .await
        .err(403, "You are not the owner of this video");
    app.json(Method::PATCH, "/videos/zzz", Some(&asha), json!({})).await.err(400, "Invalid videoId");
    app.json(Method::PATCH, &path, Some(&asha), json!({}))
        .await
        .err(400, "At least one of title, description or thumbnail is required");
    app.json(Method::PATCH, &path, Some(&asha), json!({"title": "  "})).await.err(400, "title cannot be empty");
    app.json(Method::PATCH, &path, Some(&asha), json!({"description": "d".repeat(21)}))
        .await
        .err(400, "description must be at most 20 characters");
    let updated = app.json(Method::PATCH, &path, Some(&asha), json!({"title": " New ", "views": 99})).await;
    let updated = updated.ok(200, "Video updated successfully").clone();
    assert_eq!((updated["title"].clone(), updated["views"].clone()), (json!("New"), json!(0)));

    let bad_part = Form::new().part("videoFile", Part::bytes(fixtures::mp4(5)).file_name("v.mp4"));
    let req = app.request(Method::PATCH, &path).bearer_auth(&asha.access).multipart(bad_part);
    app.send(req).await.err(400, "Unexpected field: videoFile");

    let old_thumbnail = video["thumbnail"].as_str().unwrap().to_owned();
    let form = Form::new().part("thumbnail", Part::bytes(fixtures::png()).file_name("t.png"));
    let req = app.request(Method::PATCH, &path).bearer_auth(&asha.access).multipart(form);
    let updated = app.send(req).await.ok(200, "Video updated successfully").clone();
    assert!(updated["thumbnail"].as_str().unwrap().ends_with(".png"));
    assert_eq!(updated["title"], "New");
    assert!(!app.media_exists(&old_thumbnail).await, "old thumbnail deleted");
    assert!(app.media_exists(updated["thumbnail"].as_str().unwrap()).await);
}

#[tokio::test]
async fn delete_removes_the_video_its_media_and_history() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    let ben = app.user("ben").await;
    let video = app.publish(&asha, "Tide").await;
    let id = video["_id"].as_str().unwrap();
    let path = format!("/videos/{id}");
    app.get(&path, Some(&ben)).await;
    app.call(Method::DELETE, &path, &ben).await.err(403, "You are not the owner of this video");
    assert_eq!(app.call(Method::DELETE, &path, &asha).await.ok(200, "Video deleted successfully"), &json!({}));
    app.get(&path, Some(&asha)).await.err(404, "Video not found");
    app.call(Method::DELETE, &path, &asha).await.err(404, "Video not found");
    assert_eq!(app.get("/videos", None).await.data()["totalDocs"], 0, "feed totals follow deletes");
    assert_eq!(app.get(&format!("/videos?userId={}", asha.id), Some(&asha)).await.data()["totalDocs"], 0);
    assert_eq!(app.get("/users/current-user", Some(&ben)).await.data()["watchHistory"], json!([]));
    assert!(app.stored("videos") == 0);
    assert_eq!(app.stored("images"), 2, "only the two avatars remain");
    for url in [&video["videoFile"], &video["thumbnail"]] {
        assert!(!app.media_exists(url.as_str().unwrap()).await);
    }
}

#[tokio::test]
async fn video_files_stream_with_range_support() {
    // Local media is served by the app itself; this checks that serving.
    let app = TestApp::builder().media(MediaBackend::Local).spawn().await;
    let s = app.user("asha").await;
    let video = app.publish(&s, "Tide").await;
    let url = video["videoFile"].as_str().unwrap();
    let bytes = fixtures::mp4(25);
    let full = app.client.get(url).send().await.unwrap();
    assert_eq!(full.headers()["content-type"], "video/mp4");
    assert_eq!(full.headers()["accept-ranges"], "bytes");
    assert_eq!(full.bytes().await.unwrap().len(), bytes.len());
    let partial = app.client.get(url).header("Range", "bytes=100-199").send().await.unwrap();
    assert_eq!(partial.status(), 206);
    assert_eq!(partial.headers()["content-range"], format!("bytes 100-199/{}", bytes.len()));
    assert_eq!(partial.bytes().await.unwrap().to_vec(), bytes[100..200].to_vec());
    let tail = app.client.get(url).header("Range", "bytes=-10").send().await.unwrap();
    assert_eq!(tail.bytes().await.unwrap().to_vec(), bytes[bytes.len() - 10..].to_vec());
}

/// An MP4-signed body of `total` bytes produced chunk by chunk, never held whole in memory.
fn streamed_mp4(total: u64) -> reqwest::Body {
    const CHUNK: usize = 1 << 20;
    let mut header = vec![0, 0, 0, 0x18, b'f', b't', b'y', b'p', b'i', b's', b'o', b'm', 0, 0, 2, 0];
    header.extend(b"isommp41");
    let mdat_len = (total - header.len() as u64) as u32;
    header.extend(mdat_len.to_be_bytes());
    header.extend(b"mdat");
    let first = bytes::Bytes::from(header);
    let mut remaining = total - first.len() as u64;
    let rest = std::iter::from_fn(move || {
        (remaining > 0).then(|| {
            let n = remaining.min(CHUNK as u64) as usize;
            remaining -= n as u64;
            bytes::Bytes::from(vec![0u8; n])
        })
    });
    let chunks = std::iter::once(first).chain(rest).map(Ok::<_, std::io::Error>);
    reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))
}

#[tokio::test]
async fn a_large_upload_streams_to_disk_with_bounded_memory() {
    const SIZE: u64 = 96 * 1024 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let vars = [("BCRYPT_COST", "4"), ("RATE_LIMIT_ENABLED", "false"), ("RUST_LOG", "warn"), PROCESSING_OFF];
    let server = ServerProcess::start(dir.path(), &vars).await.expect("server starts");
    let client = crate::helpers::http_client();
    let api = format!("{}/api/v1", server.base);
    let form = TestApp::registration_form("big");
    assert_eq!(client.post(format!("{api}/users/register")).multipart(form).send().await.unwrap().status(), 201);
    let login: Value = client
        .post(format!("{api}/users/login"))
        .json(&json!({"username": "big", "password": "pass-word"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["data"]["accessToken"].as_str().unwrap();

    let baseline_kib = server.memory_kib("VmRSS");
    let form = Form::new()
        .text("title", "Big")
        .text("description", "A large upload")
        .part("videoFile", Part::stream_with_length(streamed_mp4(SIZE), SIZE).file_name("big.mp4"))
        .part("thumbnail", Part::bytes(fixtures::jpeg()).file_name("t.jpg"));
    let resp =
        Resp::from(client.post(format!("{api}/videos")).bearer_auth(token).multipart(form).send().await.unwrap()).await;
    let video = resp.ok(201, "Video uploaded successfully");
    let peak_kib = server.memory_kib("VmHWM");

    let stored = std::fs::read_dir(dir.path().join("data/media/videos")).unwrap().next().unwrap().unwrap();
    assert_eq!(stored.metadata().unwrap().len(), SIZE, "every byte stored");
    assert_eq!(video["duration"], 0.0, "no moov box: no duration");
    let growth_mib = peak_kib.saturating_sub(baseline_kib) / 1024;
    eprintln!("upload of {} MiB: peak RSS {} MiB above the baseline", SIZE >> 20, growth_mib);
    // Half the upload: a body held in memory fails it. Below that the figure varies with how many
    // blocking-pool threads the file writes started on a busy machine (22-35 MiB seen in full runs).
    assert!(growth_mib < (SIZE >> 21), "peak RSS grew by {growth_mib} MiB for a {} MiB upload", SIZE >> 20);
    assert_eq!(std::fs::read_dir(dir.path().join("data/tmp")).unwrap().count(), 0);
}

#[tokio::test]
async fn the_feed_reflects_every_completed_write() {
    for cache in ["true", "false"] {
        feed_freshness(TestApp::builder().env("FEED_CACHE_ENABLED", cache).spawn().await).await;
    }
}

async fn feed_freshness(app: TestApp) {
    let s = app.user("asha").await;
    let ben = app.user("ben").await;
    let id = app.publish(&s, "Tide").await["_id"].as_str().unwrap().to_owned();
    let feed = async || app.get("/videos", None).await.data().clone();
    assert_eq!(feed().await["docs"][0]["views"], 0);
    app.get(&format!("/videos/{id}"), Some(&ben)).await;
    assert_eq!(feed().await["docs"][0]["views"], 1, "a view shows at once");
    app.json(Method::PATCH, "/users/update-account", Some(&s), json!({"fullName": "Asha Renamed"})).await;
    assert_eq!(feed().await["docs"][0]["owner"]["fullName"], "Asha Renamed", "owner changes show at once");
    app.json(Method::PATCH, &format!("/videos/{id}"), Some(&s), json!({"title": "Retitled"})).await;
    assert_eq!(feed().await["docs"][0]["title"], "Retitled");
    app.publish(&s, "Second").await;
    assert_eq!(feed().await["totalDocs"], 2);
    app.call(Method::PATCH, &format!("/videos/toggle/publish/{id}"), &s).await;
    assert_eq!(feed().await["totalDocs"], 1);
    app.call(Method::PATCH, &format!("/videos/toggle/publish/{id}"), &s).await;
    app.call(Method::DELETE, &format!("/videos/{id}"), &s).await;
    let after = feed().await;
    assert_eq!((after["totalDocs"].clone(), after["docs"][0]["title"].clone()), (json!(1), json!("Second")));
}
