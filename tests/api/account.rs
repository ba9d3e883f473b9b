//! The caller's account beyond its profile (docs/api.md §3.3.9–§3.3.12): devices (sessions),
//! watch-history controls and account deletion, on whichever store the suite runs.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Resp, Session, TestApp, assert_no_secrets};

async fn login_as(app: &TestApp, username: &str, user_agent: &str) -> Session {
    let request = app
        .request(Method::POST, "/users/login")
        .header("User-Agent", user_agent)
        .json(&json!({"username": username, "password": "pass-word"}));
    let resp = app.send(request).await;
    let data = resp.ok(200, "User logged In Successfully");
    Session {
        id: data["user"]["_id"].as_str().unwrap().to_owned(),
        access: data["accessToken"].as_str().unwrap().to_owned(),
        refresh: data["refreshToken"].as_str().unwrap().to_owned(),
    }
}

async fn sessions(app: &TestApp, session: &Session) -> Vec<Value> {
    let resp = app.get("/users/sessions", Some(session)).await;
    resp.ok(200, "Sessions fetched successfully").as_array().unwrap().clone()
}

async fn refresh(app: &TestApp, token: &str) -> Resp {
    app.json(Method::POST, "/users/refresh-token", None, json!({"refreshToken": token})).await
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_else(|| panic!("{key} missing in {value}"))
}

#[tokio::test]
async fn devices_are_listed_kept_across_refreshes_and_revoked() {
    let app = TestApp::spawn().await;
    app.register("asha").await;
    let phone = login_as(&app, "asha", "Phone A").await;
    let long_agent = format!("Laptop {}", "é".repeat(250));
    let laptop = login_as(&app, "asha", &long_agent).await;

    let listed = sessions(&app, &laptop).await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    for item in &listed {
        let mut keys: Vec<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["_id", "createdAt", "current", "expiresAt", "lastUsedAt", "userAgent"]);
        assert_eq!(text(item, "_id").len(), 24);
    }
    assert_no_secrets(&Value::Array(listed.clone()));
    let (newest, oldest) = (&listed[0], &listed[1]);
    let expected_agent: String = long_agent.chars().take(200).collect();
    assert_eq!(text(newest, "userAgent"), expected_agent, "the newest first, cut to 200 characters");
    assert_eq!((newest["current"].clone(), oldest["current"].clone()), (json!(true), json!(false)));
    assert_eq!(text(oldest, "userAgent"), "Phone A");
    let phone_view = sessions(&app, &phone).await;
    assert_eq!(phone_view[1]["current"], true, "the phone's token names the phone's session");

    // A refresh keeps the session: same _id, createdAt and userAgent; lastUsedAt moves on.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let resp = refresh(&app, &phone.refresh).await;
    let data = resp.ok(200, "Access token refreshed");
    let phone = Session {
        access: text(data, "accessToken").to_owned(),
        refresh: text(data, "refreshToken").to_owned(),
        ..phone
    };
    let after = sessions(&app, &phone).await;
    assert_eq!(after.len(), 2);
    let refreshed = after.iter().find(|s| s["_id"] == oldest["_id"]).expect("the phone's session is still there");
    assert_eq!((&refreshed["createdAt"], &refreshed["userAgent"]), (&oldest["createdAt"], &oldest["userAgent"]));
    assert!(text(refreshed, "lastUsedAt") > text(oldest, "lastUsedAt"), "{refreshed} vs {oldest}");
    assert_eq!(refreshed["current"], true, "the refreshed access token names the same session");

    // Revoking the phone from the laptop: its refresh token stops working, its access token runs on.
    let phone_path = format!("/users/sessions/{}", text(oldest, "_id"));
    app.call(Method::DELETE, &phone_path, &laptop).await.ok(200, "Session revoked successfully");
    refresh(&app, &phone.refresh).await.err(401, "Refresh token is expired or used");
    app.get("/users/current-user", Some(&phone)).await.ok(200, "User fetched successfully");
    let left = sessions(&app, &laptop).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["_id"], newest["_id"]);
    app.call(Method::DELETE, &phone_path, &laptop).await.err(404, "Session not found");

    // Another user's session is not found; malformed ids and anonymous callers are refused.
    let ben = app.user("ben").await;
    let laptop_path = format!("/users/sessions/{}", text(newest, "_id"));
    app.call(Method::DELETE, &laptop_path, &ben).await.err(404, "Session not found");
    assert_eq!(sessions(&app, &laptop).await.len(), 1, "ben revoked nothing");
    app.call(Method::DELETE, "/users/sessions/not-an-id", &laptop).await.err(400, "Invalid sessionId");
    app.get("/users/sessions", None).await.err(401, "Unauthorized request");
    app.send(app.request(Method::DELETE, &laptop_path)).await.err(401, "Unauthorized request");
}

async fn history(app: &TestApp, session: &Session) -> Vec<Value> {
    let resp = app.get("/users/history", Some(session)).await;
    resp.ok(200, "Watch history fetched successfully").as_array().unwrap().clone()
}

fn ids(items: &[Value]) -> Vec<&str> {
    items.iter().map(|v| text(v, "_id")).collect()
}

#[tokio::test]
async fn the_history_can_be_edited_cleared_and_paused() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    let ben = app.user("ben").await;
    let first = app.publish(&asha, "First").await;
    let second = app.publish(&asha, "Second").await;
    let (first, second) = (text(&first, "_id").to_owned(), text(&second, "_id").to_owned());
    for video in [&first, &second] {
        app.get(&format!("/videos/{video}"), Some(&ben)).await.ok(200, "Video fetched successfully");
    }
    let watched = history(&app, &ben).await;
    assert_eq!(ids(&watched), [second.as_str(), first.as_str()], "newest first");
    for item in &watched {
        let at = text(item, "watchedAt");
        assert!(at.ends_with('Z') && at.len() == 24, "an ISO date: {at}");
        assert!(item["title"].is_string(), "a full Video");
    }
    assert!(text(&watched[0], "watchedAt") >= text(&watched[1], "watchedAt"));

    // Removing one entry; again, an id never watched and one that does not exist are fine too.
    let remove_first = format!("/users/history/{first}");
    app.call(Method::DELETE, &remove_first, &ben).await.ok(200, "Video removed from watch history");
    assert_eq!(ids(&history(&app, &ben).await), [second.as_str()]);
    app.call(Method::DELETE, &remove_first, &ben).await.ok(200, "Video removed from watch history");
    let nowhere = "/users/history/0123456789abcdef01234567";
    app.call(Method::DELETE, nowhere, &ben).await.ok(200, "Video removed from watch history");
    app.call(Method::DELETE, "/users/history/xyz", &ben).await.err(400, "Invalid videoId");
    let current = app.get("/users/current-user", Some(&ben)).await;
    assert_eq!(current.ok(200, "User fetched successfully")["watchHistory"], json!([second]));

    // Paused: views still count, the history stays as it was; both calls are idempotent.
    for _ in 0..2 {
        let resp = app.call(Method::POST, "/users/history/pause", &ben).await;
        assert_eq!(resp.ok(200, "Watch history paused"), &json!({"historyPaused": true}));
    }
    let current = app.get("/users/current-user", Some(&ben)).await;
    assert_eq!(current.ok(200, "User fetched successfully")["historyPaused"], true);
    let third = app.publish(&asha, "Third").await;
    let third = text(&third, "_id").to_owned();
    let watched = app.get(&format!("/videos/{third}"), Some(&ben)).await;
    assert_eq!(watched.ok(200, "Video fetched successfully")["views"], 1, "ben's first view of it counts");
    assert_eq!(ids(&history(&app, &ben).await), [second.as_str()], "nothing recorded while paused");

    for _ in 0..2 {
        let resp = app.call(Method::POST, "/users/history/resume", &ben).await;
        assert_eq!(resp.ok(200, "Watch history resumed"), &json!({"historyPaused": false}));
    }
    app.get(&format!("/videos/{first}"), Some(&ben)).await.ok(200, "Video fetched successfully");
    assert_eq!(ids(&history(&app, &ben).await), [first.as_str(), second.as_str()]);

    app.call(Method::DELETE, "/users/history", &ben).await.ok(200, "Watch history cleared");
    assert!(history(&app, &ben).await.is_empty());
    let current = app.get("/users/current-user", Some(&ben)).await;
    assert_eq!(current.ok(200, "User fetched successfully")["watchHistory"], json!([]));
    assert_eq!(ids(&history(&app, &asha).await), Vec::<&str>::new(), "asha's own history was never touched");
    app.send(app.request(Method::DELETE, "/users/history")).await.err(401, "Unauthorized request");
    app.send(app.request(Method::POST, "/users/history/pause")).await.err(401, "Unauthorized request");
}

async fn delete_account(app: &TestApp, path: &str, session: &Session, body: Value) -> Resp {
    app.json(Method::DELETE, path, Some(session), body).await
}

#[tokio::test]
async fn deleting_an_account_removes_everything_it_owns_and_nothing_else() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    let ben = app.user("ben").await;
    let asha_video = app.publish(&asha, "Asha's clip").await;
    let ben_video = app.publish(&ben, "Ben's clip").await;
    let (asha_video_id, ben_video_id) = (text(&asha_video, "_id"), text(&ben_video, "_id"));
    let asha_avatar = app.get("/users/current-user", Some(&asha)).await;
    let asha_avatar = text(asha_avatar.ok(200, "User fetched successfully"), "avatar").to_owned();

    // Asha's traces everywhere: on ben's video, ben's channel, ben's playlist, and ben's on hers.
    let comment_path = format!("/comments/{ben_video_id}");
    let asha_comment = app.json(Method::POST, &comment_path, Some(&asha), json!({"content": "nice"})).await;
    let asha_comment_id = text(asha_comment.ok(201, "Comment added successfully"), "_id").to_owned();
    let ben_comment = app.json(Method::POST, &comment_path, Some(&ben), json!({"content": "thanks"})).await;
    let ben_comment_id = text(ben_comment.ok(201, "Comment added successfully"), "_id").to_owned();
    app.call(Method::POST, &format!("/likes/toggle/v/{ben_video_id}"), &asha).await.ok(200, "Like added successfully");
    app.call(Method::POST, &format!("/likes/toggle/c/{ben_comment_id}"), &asha)
        .await
        .ok(200, "Like added successfully");
    app.call(Method::POST, &format!("/likes/toggle/c/{asha_comment_id}"), &ben)
        .await
        .ok(200, "Like added successfully");
    let tweet = app.json(Method::POST, "/tweets", Some(&asha), json!({"content": "hello"})).await;
    let tweet_id = text(tweet.ok(201, "Tweet created successfully"), "_id").to_owned();
    app.call(Method::POST, &format!("/likes/toggle/t/{tweet_id}"), &ben).await.ok(200, "Like added successfully");
    app.call(Method::POST, &format!("/subscriptions/c/{}", ben.id), &asha).await.ok(200, "subscribed successfully");
    app.call(Method::POST, &format!("/subscriptions/c/{}", asha.id), &ben).await.ok(200, "subscribed successfully");
    let playlist = app.json(Method::POST, "/playlist", Some(&ben), json!({"name": "mix", "description": "d"})).await;
    let playlist_id = text(playlist.ok(201, "Playlist created successfully"), "_id").to_owned();
    for video in [asha_video_id, ben_video_id] {
        let add = format!("/playlist/add/{video}/{playlist_id}");
        app.call(Method::PATCH, &add, &ben).await.ok(200, "Video added to playlist successfully");
    }
    app.json(Method::POST, "/playlist", Some(&asha), json!({"name": "mine", "description": "d"}))
        .await
        .ok(201, "Playlist created successfully");
    app.get(&format!("/videos/{asha_video_id}"), Some(&ben)).await.ok(200, "Video fetched successfully");

    // The password is checked first, and a refusal changes nothing.
    delete_account(&app, "/users/account", &asha, json!({})).await.err(400, "Password is required");
    delete_account(&app, "/users/account", &asha, json!({"password": ""})).await.err(400, "Password is required");
    delete_account(&app, "/users/account", &asha, json!({"password": "wrong"})).await.err(400, "Invalid password");
    app.get("/users/current-user", Some(&asha)).await.ok(200, "User fetched successfully");
    app.get(&format!("/videos/{asha_video_id}"), None).await.ok(200, "Video fetched successfully");

    // The Vue client's alias, urlencoded: success clears both cookies.
    let request =
        app.request(Method::DELETE, "/users/del-acc").bearer_auth(&asha.access).form(&[("password", "pass-word")]);
    let resp = app.send(request).await;
    assert_eq!(resp.ok(200, "Account deleted successfully"), &json!({}));
    let cleared = resp.set_cookies();
    assert_eq!(cleared.len(), 2, "{cleared:?}");
    assert!(cleared.iter().all(|c| c.contains("=; Path=/; Expires=Thu, 01 Jan 1970")), "{cleared:?}");

    // The account is gone: its tokens, its channel, its video, its media.
    app.get("/users/current-user", Some(&asha)).await.err(401, "Invalid Access Token");
    refresh(&app, &asha.refresh).await.err(401, "Invalid refresh token");
    app.get("/users/c/asha", Some(&ben)).await.err(404, "channel does not exists");
    app.get(&format!("/videos/{asha_video_id}"), Some(&ben)).await.err(404, "Video not found");
    app.get(&format!("/tweets/user/{}", asha.id), Some(&ben)).await.err(404, "User not found");
    app.get(&format!("/playlist/user/{}", asha.id), Some(&ben)).await.err(404, "User not found");
    for url in [asha_avatar.as_str(), text(&asha_video, "videoFile"), text(&asha_video, "thumbnail")] {
        assert!(!app.media_exists(url).await, "{url} should be deleted");
    }

    // Nothing of asha is counted anywhere ben looks; ben's own things are intact.
    let channel = app.get("/users/c/ben", Some(&ben)).await;
    let channel = channel.ok(200, "User channel fetched successfully");
    assert_eq!(
        (channel["subscribersCount"].clone(), channel["channelsSubscribedToCount"].clone()),
        (json!(0), json!(0))
    );
    let video = app.get(&format!("/videos/{ben_video_id}"), Some(&ben)).await;
    assert_eq!(video.ok(200, "Video fetched successfully")["likesCount"], 0);
    let comments = app.get(&comment_path, Some(&ben)).await;
    let comments = comments.ok(200, "Comments fetched successfully");
    assert_eq!(comments["totalDocs"], 1);
    assert_eq!(comments["docs"][0]["_id"], ben_comment_id.as_str());
    assert_eq!(comments["docs"][0]["likesCount"], 0, "asha's like on ben's comment is gone");
    let playlist = app.get(&format!("/playlist/{playlist_id}"), Some(&ben)).await;
    let playlist = playlist.ok(200, "Playlist fetched successfully");
    assert_eq!(ids(playlist["videos"].as_array().unwrap()), [ben_video_id]);
    assert_eq!(playlist["totalVideos"], 1);
    // Ben watched asha's video, then (above) his own: only his own is left.
    assert_eq!(ids(&history(&app, &ben).await), [ben_video_id], "asha's video left ben's history");
    let current = app.get("/users/current-user", Some(&ben)).await;
    assert_eq!(current.ok(200, "User fetched successfully")["watchHistory"], json!([ben_video_id]));
    let subscribers = app.get(&format!("/subscriptions/c/{}", ben.id), Some(&ben)).await;
    assert!(subscribers.ok(200, "Subscribers fetched successfully").as_array().unwrap().is_empty());
    let feed = app.get("/videos", None).await;
    assert_eq!(ids(feed.ok(200, "Videos fetched successfully")["docs"].as_array().unwrap()), [ben_video_id]);

    // The username and email are free again.
    let again = app.register("asha").await;
    assert_ne!(text(&again, "_id"), asha.id);
    login_as(&app, "asha", "new device").await;
}

#[tokio::test]
async fn deleting_an_account_needs_a_login() {
    let app = TestApp::spawn().await;
    for path in ["/users/account", "/users/del-acc"] {
        let request = app.request(Method::DELETE, path).json(&json!({"password": "pass-word"}));
        app.send(request).await.err(401, "Unauthorized request");
    }
}

#[tokio::test]
async fn an_access_token_from_before_sessions_had_ids_still_works_and_names_no_device() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    // Signed as the server signs, without the `sid` claim tokens carried before this version.
    let secret = std::fs::read(app.data_dir.path().join("secrets/access_token_secret")).unwrap();
    let claims = json!({"_id": asha.id, "email": "asha@example.com", "username": "asha", "fullName": "asha Full",
        "iat": 1_700_000_000u64, "exp": 4_000_000_000u64});
    let key = jsonwebtoken::EncodingKey::from_secret(&secret);
    let old = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap();
    let old = Session { access: old, ..asha.clone() };
    app.get("/users/current-user", Some(&old)).await.ok(200, "User fetched successfully");
    let listed = sessions(&app, &old).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["current"], false, "a token without sid names no session");
    assert_eq!(sessions(&app, &asha).await[0]["current"], true);
}
