//! Local media as players fetch it from `/media`: whole files, ranges across the server's reads,
//! conditional requests, and nothing outside the media directory.

use reqwest::StatusCode;

use crate::helpers::{MediaBackend, TestApp};

/// A stored video several of the server's 1 MiB reads long, made of word counters so that a
/// misplaced piece shows.
fn place_video(app: &TestApp) -> (String, Vec<u8>) {
    let bytes: Vec<u8> = (0u32..700_000).flat_map(u32::to_le_bytes).collect();
    let name = "00112233445566778899aabbccddeeff.mp4";
    std::fs::write(app.data_dir.path().join("media/videos").join(name), &bytes).unwrap();
    (format!("{}/media/videos/{name}", app.base), bytes)
}

#[tokio::test]
async fn a_large_file_is_served_whole_and_in_any_range() {
    let app = TestApp::builder().media(MediaBackend::Local).spawn().await;
    let (url, bytes) = place_video(&app);
    let len = bytes.len();

    let whole = app.client.get(&url).send().await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.headers()["content-type"], "video/mp4");
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.headers()["content-length"], len.to_string().as_str());
    assert!(whole.bytes().await.unwrap() == bytes, "whole file");

    // Across the 1 MiB read boundaries, open-ended, and from the end.
    for (range, start, end) in [
        ("bytes=1048000-2200000", 1_048_000, 2_200_000),
        ("bytes=2000000-", 2_000_000, len - 1),
        ("bytes=-100", len - 100, len - 1),
        ("bytes=0-0", 0, 0),
    ] {
        let partial = app.client.get(&url).header("Range", range).send().await.unwrap();
        assert_eq!(partial.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(partial.headers()["content-range"], format!("bytes {start}-{end}/{len}").as_str(), "{range}");
        assert!(partial.bytes().await.unwrap() == bytes[start..=end], "{range}: bytes");
    }

    let beyond = app.client.get(&url).header("Range", format!("bytes={len}-")).send().await.unwrap();
    assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(beyond.headers()["content-range"], format!("bytes */{len}").as_str());
    for unserved in ["bytes=0-9,20-29", "bytes=9-0", "lines=0-9"] {
        let refused = app.client.get(&url).header("Range", unserved).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::RANGE_NOT_SATISFIABLE, "{unserved}");
    }

    let head = app.client.head(&url).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["content-length"], len.to_string().as_str());
    assert!(head.bytes().await.unwrap().is_empty(), "HEAD has no body");
}

#[tokio::test]
async fn conditional_requests_follow_the_files_etag_and_date() {
    let app = TestApp::builder().media(MediaBackend::Local).spawn().await;
    let (url, _) = place_video(&app);
    let first = app.client.get(&url).send().await.unwrap();
    let etag = first.headers()["etag"].clone();
    let last_modified = first.headers()["last-modified"].clone();
    let again = app.client.get(&url).header("If-None-Match", etag).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.bytes().await.unwrap().is_empty());
    let since = app.client.get(&url).header("If-Modified-Since", &last_modified).send().await.unwrap();
    assert_eq!(since.status(), StatusCode::NOT_MODIFIED);
    let changed = app.client.get(&url).header("If-Match", "\"another\"").send().await.unwrap();
    assert_eq!(changed.status(), StatusCode::PRECONDITION_FAILED);
    let unmodified = app.client.get(&url).header("If-Unmodified-Since", &last_modified).send().await.unwrap();
    assert_eq!(unmodified.status(), StatusCode::OK);
}

#[tokio::test]
async fn nothing_outside_the_media_directory_is_served() {
    let app = TestApp::builder().media(MediaBackend::Local).spawn().await;
    std::fs::write(app.data_dir.path().join("secret.txt"), "not media").unwrap();
    for path in
        ["/media/../secret.txt", "/media/%2e%2e/secret.txt", "/media/videos/..%2f..%2fsecret.txt", "/media/videos/"]
    {
        let resp = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(!resp.text().await.unwrap().contains("not media"), "{path}");
    }
}
