//! `videotube migrate`: a scripted site is copied store to store by the binary, and the copy answers
//! every read exactly as the original did (same ids, timestamps, counts), accepts the same passwords
//! and refresh tokens, and survives being copied again or resumed after losing rows.
//! Hops: the suite's store → SQLite; with `TEST_MONGODB_URI` also SQLite → MongoDB → SQLite.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Session, StoreBackend, TestApp, drop_mongodb_database, fresh_mongodb_database};

const SECRETS: [(&str, &str); 2] = [
    ("ACCESS_TOKEN_SECRET", "access-secret-for-the-migration-test-0123456789"),
    ("REFRESH_TOKEN_SECRET", "refresh-secret-for-the-migration-test-0123456789"),
];

fn with_secrets(builder: crate::helpers::TestAppBuilder) -> crate::helpers::TestAppBuilder {
    SECRETS.iter().fold(builder, |b, (k, v)| b.env(k, v))
}

struct Site {
    asha: Session,
    ben: Session,
    video: String,
    comment: String,
}

/// Two users (one an admin), a public (tagged), a private and an unlisted video, a view (with its
/// hourly record), a comment with a reply (pinned and hearted), likes on all three kinds of target, a
/// tweet, a subscription, a playlist, a report, a moderator's removal of the unlisted video, the
/// notifications all this caused (one read), notification settings and a block.
async fn build_site(app: &TestApp) -> Site {
    let asha = app.user("asha").await;
    let ben = app.user("ben").await;
    // A role is part of the account: the copy's current-user read shows it.
    app.grant("asha", "admin").await;
    let video = app.publish(&asha, "First").await["_id"].as_str().unwrap().to_owned();
    let tags = json!({"tags": "Intro, #First steps"});
    let tagged = app.json(Method::PATCH, &format!("/videos/{video}"), Some(&asha), tags).await;
    assert_eq!(tagged.ok(200, "Video updated successfully")["tags"], json!(["intro", "first steps"]));
    let hidden = app.publish(&asha, "Hidden").await["_id"].as_str().unwrap().to_owned();
    app.call(Method::PATCH, &format!("/videos/toggle/publish/{hidden}"), &asha)
        .await
        .ok(200, "Publish status toggled successfully");
    let unlisted = app.publish(&asha, "By link").await["_id"].as_str().unwrap().to_owned();
    let level = json!({"visibility": "unlisted"});
    let level = app.json(Method::PATCH, &format!("/videos/{unlisted}"), Some(&asha), level).await;
    assert_eq!(level.ok(200, "Video updated successfully")["visibility"], "unlisted");
    app.get(&format!("/videos/{video}"), Some(&ben)).await.ok(200, "Video fetched successfully");
    let comment = app.json(Method::POST, &format!("/comments/{video}"), Some(&ben), json!({"content": "Nice"})).await;
    let comment = comment.ok(201, "Comment added successfully")["_id"].as_str().unwrap().to_owned();
    // A thread: asha's reply to ben's comment, which she pins and hearts (X8).
    let reply = json!({"content": "Thanks", "parentId": comment});
    let reply = app.json(Method::POST, &format!("/comments/{video}"), Some(&asha), reply).await;
    assert_eq!(reply.ok(201, "Comment added successfully")["parent"], comment.as_str());
    app.call(Method::POST, &format!("/comments/c/{comment}/pin"), &asha).await.ok(200, "Comment pinned");
    app.call(Method::POST, &format!("/comments/c/{comment}/heart"), &asha).await.ok(200, "Heart added");
    let tweet = app.json(Method::POST, "/tweets", Some(&asha), json!({"content": "Hello"})).await;
    let tweet = tweet.ok(201, "Tweet created successfully")["_id"].as_str().unwrap().to_owned();
    for (path, who) in [
        (format!("/likes/toggle/v/{video}"), &ben),
        (format!("/likes/toggle/c/{comment}"), &asha),
        (format!("/likes/toggle/t/{tweet}"), &ben),
        (format!("/subscriptions/c/{}", asha.id), &ben),
    ] {
        assert_eq!(app.call(Method::POST, &path, who).await.status, 200, "{path}");
    }
    let playlist = app.json(Method::POST, "/playlist", Some(&ben), json!({"name": "Mix", "description": "Best"})).await;
    let playlist = playlist.ok(201, "Playlist created successfully")["_id"].as_str().unwrap().to_owned();
    app.call(Method::PATCH, &format!("/playlist/add/{video}/{playlist}"), &ben)
        .await
        .ok(200, "Video added to playlist successfully");
    let report = json!({"targetType": "tweet", "targetId": tweet, "reason": "other", "details": "Off topic"});
    app.json(Method::POST, "/reports", Some(&ben), report).await.ok(201, "Report submitted successfully");
    // A removal: the copy keeps the video hidden, its own level aside, and the log entry.
    let removal = json!({"targetType": "video", "targetId": unlisted, "action": "remove", "reason": "Test"});
    app.json(Method::POST, "/moderation/actions", Some(&asha), removal).await.ok(200, "Moderation action recorded");
    // Notifications (ben's subscription and comment tell asha, her reply tells ben), one read, and
    // ben's settings.
    let notifications = app.get("/notifications", Some(&asha)).await;
    let newest =
        notifications.ok(200, "Notifications fetched successfully")["docs"][0]["_id"].as_str().unwrap().to_owned();
    app.call(Method::PATCH, &format!("/notifications/{newest}/read"), &asha)
        .await
        .ok(200, "Notification marked as read");
    let settings = json!({"newVideo": false});
    app.json(Method::PATCH, "/notifications/settings", Some(&ben), settings)
        .await
        .ok(200, "Notification settings updated");
    app.call(Method::POST, &format!("/users/blocks/{}", asha.id), &ben).await.ok(200, "User blocked");
    Site { asha, ben, video, comment }
}

/// Every read that shows stored data (none of them writes), as whole response bodies.
async fn reads(app: &TestApp, site: &Site) -> Vec<(String, Value)> {
    let (asha, ben) = (&site.asha, &site.ben);
    let paths = [
        ("/users/current-user".to_owned(), Some(asha)),
        ("/users/current-user".to_owned(), Some(ben)),
        ("/users/c/asha".to_owned(), Some(ben)),
        ("/users/history".to_owned(), Some(ben)),
        (format!("/videos?userId={}", asha.id), Some(asha)),
        ("/videos?sortBy=views&sortType=asc".to_owned(), None),
        ("/videos/trending".to_owned(), None),
        (format!("/comments/{}", site.video), Some(asha)),
        (format!("/comments/{}?sort=top", site.video), None),
        (format!("/comments/c/{}/replies", site.comment), Some(ben)),
        ("/likes/videos".to_owned(), Some(ben)),
        (format!("/tweets/user/{}", asha.id), Some(ben)),
        (format!("/subscriptions/c/{}", asha.id), None),
        (format!("/subscriptions/u/{}", ben.id), None),
        (format!("/playlist/user/{}", ben.id), None),
        ("/dashboard/stats".to_owned(), Some(asha)),
        ("/dashboard/videos".to_owned(), Some(asha)),
        ("/moderation/reports".to_owned(), Some(asha)),
        ("/moderation/log".to_owned(), Some(asha)),
        ("/users/blocks".to_owned(), Some(ben)),
        ("/notifications".to_owned(), Some(asha)),
        ("/notifications?unread=true".to_owned(), Some(asha)),
        ("/notifications".to_owned(), Some(ben)),
        ("/notifications/settings".to_owned(), Some(ben)),
        // The copy's search indexes are built from what was copied.
        ("/search/videos?q=first%20step".to_owned(), None),
        ("/search/channels?q=asha".to_owned(), None),
        ("/search/suggest?q=fi".to_owned(), None),
        (format!("/videos/{}/related", site.video), None),
    ];
    let mut bodies = Vec::new();
    for (path, who) in paths {
        let resp = app.get(&path, who).await;
        assert_eq!(resp.status, 200, "{path}: {}", resp.body);
        bodies.push((path, resp.body));
    }
    bodies
}

async fn migrate(from: &str, to: &str) -> Vec<String> {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_videotube"))
        .args(["migrate", "--from", from, "--to", to, "--batch", "2"])
        .env_clear()
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "migrate failed: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout.lines().skip(1).map(str::to_owned).collect()
}

/// The report of a complete copy of the site (likes span two batches of 2).
const FULL_REPORT: [&str; 14] = [
    "users: 2/2 read, 2 written, 0 skipped",
    "videos: 3/3 read, 3 written, 0 skipped",
    "comments: 2/2 read, 2 written, 0 skipped",
    "tweets: 1/1 read, 1 written, 0 skipped",
    "likes: 3/3 read, 3 written, 0 skipped",
    "subscriptions: 1/1 read, 1 written, 0 skipped",
    "playlists: 1/1 read, 1 written, 0 skipped",
    "watch histories: 1/1 read, 1 written, 0 skipped",
    "reports: 1/1 read, 1 written, 0 skipped",
    "moderation actions: 1/1 read, 1 written, 0 skipped",
    "blocks: 1/1 read, 1 written, 0 skipped",
    "notification settings: 1/1 read, 1 written, 0 skipped",
    "notifications: 3/3 read, 3 written, 0 skipped",
    "done: 21 records written, 0 not copied",
];

#[tokio::test]
async fn migrate_copies_every_record_and_can_be_rerun_or_resumed() {
    let source = with_secrets(TestApp::builder()).spawn().await;
    let site = build_site(&source).await;
    let expected = reads(&source, &site).await;
    let from = match &source.mongodb {
        Some(uri) => uri.clone(),
        None => format!("sqlite:{}", source.data_dir.path().join("videotube.db").display()),
    };

    // The suite's store → SQLite; through MongoDB and back when the suite has one.
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let sqlite = |dir: &tempfile::TempDir| format!("sqlite:{}", dir.path().join("videotube.db").display());
    let mongodb = fresh_mongodb_database();
    let mut hops = vec![from, sqlite(&first)];
    if let Some(uri) = &mongodb {
        hops.extend([uri.clone(), sqlite(&second)]);
    }
    for hop in hops.windows(2) {
        assert_eq!(migrate(&hop[0], &hop[1]).await, FULL_REPORT, "{} → {}", hop[0], hop[1]);
    }
    let (previous, last) = (&hops[hops.len() - 2], &hops[hops.len() - 1]);
    assert_eq!(migrate(previous, last).await, FULL_REPORT, "a second run rewrites the same records");

    // An interrupted copy: rows missing on the destination come back by running the same command.
    let db = rusqlite::Connection::open(last.strip_prefix("sqlite:").unwrap()).unwrap();
    db.execute("DELETE FROM likes", []).unwrap();
    db.execute("DELETE FROM comments", []).unwrap();
    drop(db);
    assert_eq!(migrate(previous, last).await, FULL_REPORT);
    // A destination in a folder that does not exist yet (`sqlite:backup/videotube.db`) is created.
    let backup = tempfile::tempdir().unwrap();
    let nested = backup.path().join("backup").join("videotube.db");
    assert_eq!(migrate(last, &format!("sqlite:{}", nested.display())).await, FULL_REPORT);
    assert!(nested.is_file());
    if let Some(uri) = &mongodb {
        drop_mongodb_database(uri);
    }
    let final_dir = if mongodb.is_some() { second.path() } else { first.path() };

    let copy = with_secrets(TestApp::builder().store(StoreBackend::Sqlite))
        .env("DATA_DIR", final_dir.to_str().unwrap())
        .spawn()
        .await;
    assert_eq!(reads(&copy, &site).await, expected, "the copy answers every read exactly as the original");
    copy.login("asha", "pass-word").await.ok(200, "User logged In Successfully");
    let refreshed =
        copy.json(Method::POST, "/users/refresh-token", None, json!({"refreshToken": site.ben.refresh})).await;
    refreshed.ok(200, "Access token refreshed");
}

#[tokio::test]
async fn migrate_explains_bad_arguments() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_videotube"))
        .args(["migrate", "--from", "sqlite:a.db"])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: the following required arguments were not provided:\n  --to <STORE>"),
        "{stderr}"
    );
    assert!(stderr.contains("Usage: videotube migrate --from <STORE> --to <STORE>"), "{stderr}");
}

#[tokio::test]
async fn records_the_destination_refuses_are_reported_not_lost_silently() {
    let source = with_secrets(TestApp::builder()).spawn().await;
    build_site(&source).await;
    let from = match &source.mongodb {
        Some(uri) => uri.clone(),
        None => format!("sqlite:{}", source.data_dir.path().join("videotube.db").display()),
    };
    // The destination already has another account named asha.
    let dest = tempfile::tempdir().unwrap();
    let path = dest.path().join("videotube.db");
    let existing = videotube::store::sqlite::SqliteStore::open(&path).await.unwrap();
    let other = videotube::store::NewUser {
        username: "asha".into(),
        email: "someone.else@example.com".into(),
        full_name: "Another Asha".into(),
        avatar: videotube::store::MediaRef { url: "http://m/a.png".into(), key: "local:a.png".into() },
        cover_image: None,
        password_hash: "$2b$04$abcdefghijklmnopqrstuv".into(),
    };
    videotube::store::UserRepo::create(&existing, other).await.unwrap();

    let report = migrate(&from, &format!("sqlite:{}", path.display())).await;
    assert_eq!(
        report,
        [
            "users: 2/2 read, 1 written, 1 skipped",
            "videos: 3/3 read, 0 written, 3 skipped",
            "comments: 2/2 read, 0 written, 2 skipped",
            "tweets: 1/1 read, 0 written, 1 skipped",
            "likes: 3/3 read, 0 written, 3 skipped",
            "subscriptions: 1/1 read, 0 written, 1 skipped",
            "playlists: 1/1 read, 1 written, 0 skipped",
            "watch histories: 1/1 read, 0 written, 1 skipped",
            // Ben's report of asha's tweet: a report outlives what it reports.
            "reports: 1/1 read, 1 written, 0 skipped",
            "moderation actions: 1/1 read, 1 written, 0 skipped",
            // Ben's block of asha refers to her.
            "blocks: 1/1 read, 0 written, 1 skipped",
            // Ben's settings are his own; every notification involves asha.
            "notification settings: 1/1 read, 1 written, 0 skipped",
            "notifications: 3/3 read, 0 written, 3 skipped",
            "done: 5 records written, 16 not copied",
        ],
        "asha's clash leaves her records out, everything of ben's that does not depend on them is copied"
    );
}
