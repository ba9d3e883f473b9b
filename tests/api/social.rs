//! Comments, likes, tweets, subscriptions, playlists and the dashboard, including the two-user
//! authorization matrix, concurrency of toggles and cascades.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Resp, Session, TestApp};

fn id_of(value: &Value) -> String {
    value["_id"].as_str().unwrap().to_owned()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(id_of).collect()
}

async fn comment(app: &TestApp, s: &Session, video: &str, content: &str) -> Value {
    let resp = app.json(Method::POST, &format!("/comments/{video}"), Some(s), json!({"content": content})).await;
    resp.ok(201, "Comment added successfully").clone()
}

async fn tweet(app: &TestApp, s: &Session, content: &str) -> Value {
    app.json(Method::POST, "/tweets", Some(s), json!({"content": content}))
        .await
        .ok(201, "Tweet created successfully")
        .clone()
}

async fn playlist(app: &TestApp, s: &Session, name: &str) -> Value {
    let body = json!({"name": name, "description": "desc"});
    app.json(Method::POST, "/playlist", Some(s), body).await.ok(201, "Playlist created successfully").clone()
}

async fn unpublish(app: &TestApp, s: &Session, video: &str) {
    let resp = app.call(Method::PATCH, &format!("/videos/toggle/publish/{video}"), s).await;
    assert_eq!(resp.ok(200, "Publish status toggled successfully")["isPublished"], false);
}

#[tokio::test]
async fn comments_lifecycle() {
    let app = TestApp::builder().env("MAX_CONTENT_CHARS", "20").spawn().await;
    let asha = app.user("asha").await;
    let ben = app.user("ben").await;
    let video = id_of(&app.publish(&asha, "Tide").await);
    let first = comment(&app, &ben, &video, " Lovely colours. ").await;
    assert_eq!(first["content"], "Lovely colours.");
    assert_eq!(first["video"], video.as_str());
    assert_eq!((first["likesCount"].clone(), first["isLiked"].clone()), (json!(0), json!(false)));
    assert_eq!(first["owner"]["username"], "ben");
    assert_eq!(first["owner"], first["ownerDetails"]);
    let second = comment(&app, &asha, &video, "Thanks!").await;

    let path = format!("/comments/{video}");
    app.json(Method::POST, &path, Some(&ben), json!({})).await.err(400, "Content is required");
    app.json(Method::POST, &path, Some(&ben), json!({"content": " "})).await.err(400, "Content is required");
    app.json(Method::POST, &path, Some(&ben), json!({"content": "x".repeat(21)}))
        .await
        .err(400, "content must be at most 20 characters");
    app.json(Method::POST, "/comments/123", Some(&ben), json!({"content": "x"})).await.err(400, "Invalid videoId");
    app.json(Method::POST, "/comments/6650a1b2c3d4e5f601234567", Some(&ben), json!({"content": "x"}))
        .await
        .err(404, "Video not found");

    app.call(Method::POST, &format!("/likes/toggle/c/{}", id_of(&first)), &asha)
        .await
        .ok(200, "Like added successfully");
    let page = app.get(&format!("{path}?limit=1"), Some(&asha)).await;
    let data = page.ok(200, "Comments fetched successfully");
    assert_eq!((data["totalDocs"].clone(), data["totalPages"].clone()), (json!(2), json!(2)));
    assert_eq!(ids(&data["docs"]), vec![id_of(&second)], "newest first");
    let page = app.get(&format!("{path}?page=2&limit=1"), Some(&asha)).await;
    let liked = &page.data()["docs"][0];
    assert_eq!((liked["likesCount"].clone(), liked["isLiked"].clone()), (json!(1), json!(true)));
    assert_eq!(app.get(&format!("{path}?page=2&limit=1"), None).await.data()["docs"][0]["isLiked"], false);

    let c = format!("/comments/c/{}", id_of(&first));
    app.json(Method::PATCH, &c, Some(&asha), json!({"content": "mine now"}))
        .await
        .err(403, "You are not the owner of this comment");
    app.json(Method::PATCH, &c, Some(&ben), json!({"content": ""})).await.err(400, "Content is required");
    let edited = app.json(Method::PATCH, &c, Some(&ben), json!({"content": "Edited"})).await;
    assert_eq!(edited.ok(200, "Comment updated successfully")["content"], "Edited");
    app.call(Method::DELETE, &c, &asha).await.err(403, "You are not the owner of this comment");
    let deleted = app.call(Method::DELETE, &c, &ben).await;
    assert_eq!(deleted.ok(200, "Comment deleted successfully"), &json!({"commentId": id_of(&first)}));
    app.call(Method::DELETE, &c, &ben).await.err(404, "Comment not found");
    app.call(Method::POST, &format!("/likes/toggle/c/{}", id_of(&first)), &asha).await.err(404, "Comment not found");
    app.call(Method::DELETE, "/comments/c/nope", &ben).await.err(400, "Invalid commentId");
    assert_eq!(app.get(&path, None).await.data()["totalDocs"], 1);
}

#[tokio::test]
async fn comments_of_hidden_videos_are_not_found() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    let ben = app.user("ben").await;
    let video = id_of(&app.publish(&asha, "Tide").await);
    let c = comment(&app, &ben, &video, "hi").await;
    unpublish(&app, &asha, &video).await;
    app.get(&format!("/comments/{video}"), Some(&ben)).await.err(404, "Video not found");
    app.json(Method::POST, &format!("/comments/{video}"), Some(&ben), json!({"content": "x"}))
        .await
        .err(404, "Video not found");
    let path = format!("/comments/c/{}", id_of(&c));
    app.json(Method::PATCH, &path, Some(&ben), json!({"content": "x"})).await.err(404, "Comment not found");
    app.call(Method::POST, &format!("/likes/toggle/c/{}", id_of(&c)), &ben).await.err(404, "Comment not found");
    app.get(&format!("/comments/{video}"), Some(&asha)).await.ok(200, "Comments fetched successfully");
}

#[tokio::test]
async fn likes_toggle_and_list() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    let ben = app.user("ben").await;
    let video = id_of(&app.publish(&asha, "Tide").await);
    let path = format!("/likes/toggle/v/{video}");
    let on = app.call(Method::POST, &path, &ben).await;
    assert_eq!(on.ok(200, "Like added successfully"), &json!({"isLiked": true, "likesCount": 1}));
    app.call(Method::POST, &path, &asha).await.ok(200, "Like added successfully");
    let detail = app.get(&format!("/videos/{video}"), Some(&ben)).await;
    assert_eq!((detail.data()["likesCount"].clone(), detail.data()["isLiked"].clone()), (json!(2), json!(true)));
    let liked = app.get("/likes/videos", Some(&ben)).await;
    let items = liked.ok(200, "Liked videos fetched successfully").as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["likedBy"], ben.id.as_str());
    assert_eq!(id_of(&items[0]["video"]), video);
    assert_eq!(items[0]["video"], items[0]["likedVideo"]);
    let off = app.call(Method::POST, &path, &ben).await;
    assert_eq!(off.ok(200, "Like removed successfully"), &json!({"isLiked": false, "likesCount": 1}));
    assert_eq!(app.get("/likes/videos", Some(&ben)).await.data(), &json!([]));
    app.call(Method::POST, "/likes/toggle/v/xyz", &ben).await.err(400, "Invalid videoId");
    app.call(Method::POST, "/likes/toggle/v/6650a1b2c3d4e5f601234567", &ben).await.err(404, "Video not found");
    app.call(Method::POST, "/likes/toggle/t/6650a1b2c3d4e5f601234567", &ben).await.err(404, "Tweet not found");
    app.call(Method::POST, "/likes/toggle/c/zz", &ben).await.err(400, "Invalid commentId");
    app.send(app.request(Method::POST, &path)).await.err(401, "Unauthorized request");
}

#[tokio::test]
async fn concurrent_like_toggles_flip_exactly_once_each() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    let video = id_of(&app.publish(&asha, "Tide").await);
    let path = format!("/likes/toggle/v/{video}");
    for (round, n) in [5usize, 4].into_iter().enumerate() {
        let before = app.get(&format!("/videos/{video}"), Some(&asha)).await.data()["isLiked"].as_bool().unwrap();
        let results = futures_util::future::join_all((0..n).map(|_| app.call(Method::POST, &path, &asha))).await;
        assert!(results.iter().all(|r| r.status == 200), "round {round}: {results:?}");
        let added = results.iter().filter(|r| r.data()["isLiked"] == true).count();
        let removed = n - added;
        assert!(added.abs_diff(removed) <= 1, "flips alternate: {added} added, {removed} removed");
        let detail = app.get(&format!("/videos/{video}"), Some(&asha)).await;
        let expected = before ^ (n % 2 == 1);
        assert_eq!(detail.data()["isLiked"], expected, "round {round}");
        assert_eq!(detail.data()["likesCount"], i32::from(expected));
    }
}

#[tokio::test]
async fn tweets_lifecycle() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    let ben = app.user("ben").await;
    let first = tweet(&app, &asha, "first").await;
    assert_eq!((first["likesCount"].clone(), first["isLiked"].clone()), (json!(0), json!(false)));
    assert_eq!(first["owner"], first["ownerDetails"]);
    let second = tweet(&app, &asha, "second").await;
    app.json(Method::POST, "/tweets", Some(&asha), json!({"content": 7})).await.err(400, "content must be a string");
    app.json(Method::POST, "/tweets/", Some(&asha), json!({})).await.err(400, "Content is required");
    app.call(Method::POST, &format!("/likes/toggle/t/{}", id_of(&first)), &ben)
        .await
        .ok(200, "Like added successfully");

    let list = app.get(&format!("/tweets/user/{}", asha.id), Some(&ben)).await;
    let list = list.ok(200, "Tweets fetched successfully").clone();
    assert_eq!(ids(&list), vec![id_of(&second), id_of(&first)]);
    assert_eq!((list[1]["likesCount"].clone(), list[1]["isLiked"].clone()), (json!(1), json!(true)));
    app.get("/tweets/user/bad", None).await.err(400, "Invalid userId");
    app.get("/tweets/user/6650a1b2c3d4e5f601234567", None).await.err(404, "User not found");

    let path = format!("/tweets/{}", id_of(&first));
    app.json(Method::PATCH, &path, Some(&ben), json!({"content": "x"}))
        .await
        .err(403, "You are not the owner of this tweet");
    app.json(Method::PATCH, &path, Some(&asha), json!({})).await.err(400, "Content is required");
    let updated = app.json(Method::PATCH, &path, Some(&asha), json!({"content": "edited"})).await;
    let updated = updated.ok(200, "Tweet updated successfully");
    assert_eq!((updated["content"].clone(), updated["likesCount"].clone()), (json!("edited"), json!(1)));
    app.call(Method::DELETE, &path, &ben).await.err(403, "You are not the owner of this tweet");
    let deleted = app.call(Method::DELETE, &path, &asha).await;
    assert_eq!(deleted.ok(200, "Tweet deleted successfully"), &json!({"tweetId": id_of(&first)}));
    app.call(Method::DELETE, &path, &asha).await.err(404, "Tweet not found");
    app.call(Method::POST, &format!("/likes/toggle/t/{}", id_of(&first)), &ben).await.err(404, "Tweet not found");
    app.call(Method::DELETE, "/tweets/12", &asha).await.err(400, "Invalid tweetId");
}

#[tokio::test]
async fn subscriptions_have_the_corrected_meaning() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    let ben = app.user("ben").await;
    let cleo = app.user("cleo").await;
    let old = id_of(&app.publish(&asha, "Old").await);
    let newest_hidden = id_of(&app.publish(&asha, "Hidden").await);
    unpublish(&app, &asha, &newest_hidden).await;

    let path = format!("/subscriptions/c/{}", asha.id);
    let on = app.call(Method::POST, &path, &ben).await;
    assert_eq!(on.ok(200, "subscribed successfully"), &json!({"subscribed": true, "isSubscribed": true}));
    app.call(Method::POST, &path, &cleo).await.ok(200, "subscribed successfully");
    app.call(Method::POST, &format!("/subscriptions/c/{}", cleo.id), &ben).await.ok(200, "subscribed successfully");
    app.call(Method::POST, &format!("/subscriptions/c/{}", asha.id), &asha)
        .await
        .err(400, "You cannot subscribe to yourself");
    app.call(Method::POST, "/subscriptions/c/6650a1b2c3d4e5f601234567", &ben).await.err(404, "Channel not found");
    app.call(Method::POST, "/subscriptions/c/x", &ben).await.err(400, "Invalid channelId");

    let subscribers = app.get(&path, None).await;
    let subscribers = subscribers.ok(200, "Subscribers fetched successfully").as_array().unwrap().clone();
    assert_eq!(subscribers.len(), 2);
    assert_eq!(subscribers[0]["subscriber"]["_id"], cleo.id.as_str(), "newest subscription first");
    assert_eq!(subscribers[1]["subscriber"]["subscribersCount"], 0);
    assert_eq!(subscribers[0]["subscriber"]["subscribersCount"], 1, "cleo has ben");
    assert_eq!(subscribers[0]["channel"], asha.id.as_str());

    let channels = app.get(&format!("/subscriptions/u/{}", ben.id), None).await;
    let channels = channels.ok(200, "Subscribed channels fetched successfully").as_array().unwrap().clone();
    assert_eq!(channels.len(), 2);
    let asha_card = &channels[1]["channel"];
    assert_eq!(channels[1]["channel"], channels[1]["subscribedChannel"]);
    assert_eq!(channels[1]["subscriber"], ben.id.as_str());
    assert_eq!((asha_card["username"].clone(), asha_card["subscribersCount"].clone()), (json!("asha"), json!(2)));
    assert_eq!(id_of(&asha_card["latestVideo"]), old, "the unpublished newer video is not shown");
    assert_eq!(channels[0]["channel"]["latestVideo"], Value::Null);
    app.get("/subscriptions/u/6650a1b2c3d4e5f601234567", None).await.err(404, "User not found");
    app.get("/subscriptions/c/6650a1b2c3d4e5f601234567", None).await.err(404, "Channel not found");

    let profile = app.get("/users/c/asha", Some(&ben)).await;
    let profile = profile.data();
    assert_eq!((profile["subscribersCount"].clone(), profile["isSubscribed"].clone()), (json!(2), json!(true)));
    assert_eq!(app.get("/users/c/ben", None).await.data()["channelsSubscribedToCount"], 2);
    let detail = app.get(&format!("/videos/{old}"), Some(&ben)).await;
    assert_eq!(detail.data()["owner"]["subscribersCount"], 2);
    assert_eq!(detail.data()["owner"]["isSubscribed"], true);

    let off = app.call(Method::POST, &path, &ben).await;
    assert_eq!(off.ok(200, "unsubscribed successfully"), &json!({"subscribed": false, "isSubscribed": false}));
    assert_eq!(app.get("/users/c/asha", None).await.data()["subscribersCount"], 1);
}

#[tokio::test]
async fn concurrent_subscription_toggles_stay_consistent() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    let ben = app.user("ben").await;
    let path = format!("/subscriptions/c/{}", asha.id);
    let results = futures_util::future::join_all((0..7).map(|_| app.call(Method::POST, &path, &ben))).await;
    assert!(results.iter().all(|r| r.status == 200));
    let profile = app.get("/users/c/asha", Some(&ben)).await;
    assert_eq!(
        (profile.data()["subscribersCount"].clone(), profile.data()["isSubscribed"].clone()),
        (json!(1), json!(true))
    );
}

#[tokio::test]
async fn playlists_lifecycle_and_visibility() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    let ben = app.user("ben").await;
    let v1 = app.publish(&asha, "One").await;
    let v2 = app.publish(&ben, "Two").await;
    let hidden = id_of(&app.publish(&asha, "Hidden").await);
    unpublish(&app, &asha, &hidden).await;

    app.json(Method::POST, "/playlist", Some(&asha), json!({"name": "x"})).await.err(400, "All fields are required");
    let long = json!({"name": "n".repeat(101), "description": "d"});
    app.json(Method::POST, "/playlist", Some(&asha), long).await.err(400, "name must be at most 100 characters");
    let created = playlist(&app, &asha, "Rock pools").await;
    assert_eq!(
        (created["videos"].clone(), created["totalVideos"].clone(), created["totalViews"].clone()),
        (json!([]), json!(0), json!(0))
    );
    assert_eq!(created["owner"]["_id"], asha.id.as_str());
    let pid = id_of(&created);

    let add = |video: &str| format!("/playlist/add/{video}/{pid}");
    app.call(Method::PATCH, &add(&id_of(&v2)), &ben).await.err(403, "You are not the owner of this playlist");
    app.call(Method::PATCH, "/playlist/add/bad/bad", &asha).await.err(400, "Invalid videoId");
    app.call(Method::PATCH, &format!("/playlist/add/{}/bad", id_of(&v1)), &asha).await.err(400, "Invalid playlistId");
    let unknown_list = format!("/playlist/add/{}/6650a1b2c3d4e5f601234567", id_of(&v1));
    app.call(Method::PATCH, &unknown_list, &asha).await.err(404, "Playlist not found");
    app.call(Method::PATCH, &add("6650a1b2c3d4e5f601234567"), &asha).await.err(404, "Video not found");
    app.call(Method::PATCH, &add(&id_of(&v2)), &asha).await.ok(200, "Video added to playlist successfully");
    app.call(Method::PATCH, &add(&id_of(&v1)), &asha).await;
    app.call(Method::PATCH, &add(&hidden), &asha).await;
    let again = app.call(Method::PATCH, &add(&id_of(&v2)), &asha).await;
    let again = again.ok(200, "Video added to playlist successfully");
    assert_eq!(ids(&again["videos"]), vec![id_of(&v2), id_of(&v1), hidden.clone()], "insertion order, no duplicates");
    assert_eq!(again["totalVideos"], 3);

    // Ben cannot add Asha's unpublished video to his own playlist, and never sees it in hers.
    let bens = id_of(&playlist(&app, &ben, "Mine").await);
    app.call(Method::PATCH, &format!("/playlist/add/{hidden}/{bens}"), &ben).await.err(404, "Video not found");
    app.get(&format!("/videos/{}", id_of(&v1)), Some(&ben)).await;
    let seen_by_ben = app.get(&format!("/playlist/{pid}"), Some(&ben)).await;
    let seen = seen_by_ben.ok(200, "Playlist fetched successfully");
    assert_eq!(ids(&seen["videos"]), vec![id_of(&v2), id_of(&v1)]);
    assert_eq!((seen["totalVideos"].clone(), seen["totalViews"].clone()), (json!(2), json!(1)));
    assert_eq!(seen["videos"][0]["owner"]["username"], "ben", "full Video objects");

    let lists = app.get(&format!("/playlist/user/{}", asha.id), None).await;
    let lists = lists.ok(200, "User playlists fetched successfully");
    assert_eq!(lists.as_array().unwrap().len(), 1);
    assert_eq!(lists[0]["totalVideos"], 2);
    app.get("/playlist/user/6650a1b2c3d4e5f601234567", None).await.err(404, "User not found");
    app.get("/playlist/6650a1b2c3d4e5f601234567", None).await.err(404, "Playlist not found");

    let remove = format!("/playlist/remove/{hidden}/{pid}");
    let removed = app.call(Method::PATCH, &remove, &asha).await;
    assert_eq!(
        ids(&removed.ok(200, "Video removed from playlist successfully")["videos"]),
        vec![id_of(&v2), id_of(&v1)]
    );
    app.call(Method::PATCH, &remove, &asha).await.ok(200, "Video removed from playlist successfully");
    app.call(Method::PATCH, &remove, &ben).await.err(403, "You are not the owner of this playlist");

    let path = format!("/playlist/{pid}");
    app.json(Method::PATCH, &path, Some(&ben), json!({"name": "x"}))
        .await
        .err(403, "You are not the owner of this playlist");
    app.json(Method::PATCH, &path, Some(&asha), json!({}))
        .await
        .err(400, "At least one of name or description is required");
    app.json(Method::PATCH, &path, Some(&asha), json!({"name": ""})).await.err(400, "name cannot be empty");
    let renamed = app.json(Method::PATCH, &path, Some(&asha), json!({"name": "Tide pools"})).await;
    let renamed = renamed.ok(200, "Playlist updated successfully");
    assert_eq!((renamed["name"].clone(), renamed["description"].clone()), (json!("Tide pools"), json!("desc")));
    app.call(Method::DELETE, &path, &ben).await.err(403, "You are not the owner of this playlist");
    assert_eq!(app.call(Method::DELETE, &path, &asha).await.ok(200, "Playlist deleted successfully"), &json!({}));
    app.get(&path, None).await.err(404, "Playlist not found");
    app.get(&format!("/videos/{}", id_of(&v1)), None).await.ok(200, "Video fetched successfully");
}

#[tokio::test]
async fn deleting_a_video_removes_every_trace() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    let ben = app.user("ben").await;
    let video = id_of(&app.publish(&asha, "Doomed").await);
    let keeper = id_of(&app.publish(&asha, "Keeper").await);
    let c = comment(&app, &ben, &video, "nice").await;
    app.call(Method::POST, &format!("/likes/toggle/c/{}", id_of(&c)), &asha).await;
    app.call(Method::POST, &format!("/likes/toggle/v/{video}"), &ben).await;
    app.call(Method::POST, &format!("/likes/toggle/v/{keeper}"), &ben).await;
    let pid = id_of(&playlist(&app, &ben, "Faves").await);
    app.call(Method::PATCH, &format!("/playlist/add/{video}/{pid}"), &ben).await;
    app.get(&format!("/videos/{video}"), Some(&ben)).await;
    assert_eq!(app.get("/dashboard/stats", Some(&asha)).await.data()["totalLikes"], 2);

    app.call(Method::DELETE, &format!("/videos/{video}"), &asha).await.ok(200, "Video deleted successfully");
    let liked = app.get("/likes/videos", Some(&ben)).await;
    assert_eq!(
        liked.data().as_array().unwrap().iter().map(|i| id_of(&i["video"])).collect::<Vec<_>>(),
        vec![keeper.clone()]
    );
    assert_eq!(app.get(&format!("/playlist/{pid}"), Some(&ben)).await.data()["videos"], json!([]));
    assert_eq!(app.get("/users/current-user", Some(&ben)).await.data()["watchHistory"], json!([]));
    app.get(&format!("/comments/{video}"), None).await.err(404, "Video not found");
    app.call(Method::DELETE, &format!("/comments/c/{}", id_of(&c)), &ben).await.err(404, "Comment not found");
    let stats = app.get("/dashboard/stats", Some(&asha)).await;
    assert_eq!(stats.data(), &json!({"totalVideos": 1, "totalViews": 0, "totalSubscribers": 0, "totalLikes": 1}));
}

#[tokio::test]
async fn dashboard_after_a_scripted_scenario() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    let ben = app.user("ben").await;
    let cleo = app.user("cleo").await;
    let empty = app.get("/dashboard/stats", Some(&asha)).await;
    assert_eq!(
        empty.ok(200, "channel stats fetched successfully"),
        &json!({"totalVideos": 0, "totalViews": 0, "totalSubscribers": 0, "totalLikes": 0})
    );
    let a = id_of(&app.publish(&asha, "A").await);
    let b = id_of(&app.publish(&asha, "B").await);
    let hidden = id_of(&app.publish(&asha, "Hidden").await);
    for viewer in [&ben, &cleo] {
        app.get(&format!("/videos/{a}"), Some(viewer)).await;
        app.call(Method::POST, &format!("/likes/toggle/v/{a}"), viewer).await;
        app.call(Method::POST, &format!("/subscriptions/c/{}", asha.id), viewer).await;
    }
    app.get(&format!("/videos/{b}"), Some(&ben)).await;
    app.call(Method::POST, &format!("/likes/toggle/v/{b}"), &ben).await;
    unpublish(&app, &asha, &hidden).await;
    let t = id_of(&tweet(&app, &asha, "tweet likes do not count").await);
    app.call(Method::POST, &format!("/likes/toggle/t/{t}"), &ben).await;

    let stats = app.get("/dashboard/stats", Some(&asha)).await;
    assert_eq!(stats.data(), &json!({"totalVideos": 3, "totalViews": 3, "totalSubscribers": 2, "totalLikes": 3}));
    let videos = app.get("/dashboard/videos", Some(&asha)).await;
    let videos = videos.ok(200, "Channel videos fetched successfully");
    assert_eq!(ids(videos), vec![hidden, b, a]);
    let likes: Vec<&Value> = videos.as_array().unwrap().iter().map(|v| &v["likesCount"]).collect();
    assert_eq!(likes, vec![&json!(0), &json!(1), &json!(2)]);
    assert_eq!(videos[0]["isPublished"], false);
    app.get("/dashboard/stats", None).await.err(401, "Unauthorized request");
}

/// User B on every mutating route of user A's objects: 403 for visible ones, 404 for hidden ones.
#[tokio::test]
async fn authorization_matrix_for_another_user() {
    let app = TestApp::spawn().await;
    let a = app.user("asha").await;
    let b = app.user("ben").await;
    let video = id_of(&app.publish(&a, "Public").await);
    let hidden = id_of(&app.publish(&a, "Hidden").await);
    unpublish(&app, &a, &hidden).await;
    let comment_id = id_of(&comment(&app, &a, &video, "mine").await);
    let hidden_comment = id_of(&comment(&app, &a, &hidden, "mine too").await);
    let tweet_id = id_of(&tweet(&app, &a, "mine").await);
    let pid = id_of(&playlist(&app, &a, "mine").await);

    let cases: Vec<(Method, String, u16, &str)> = vec![
        (Method::PATCH, format!("/videos/{video}"), 403, "You are not the owner of this video"),
        (Method::DELETE, format!("/videos/{video}"), 403, "You are not the owner of this video"),
        (Method::PATCH, format!("/videos/toggle/publish/{video}"), 403, "You are not the owner of this video"),
        (Method::PATCH, format!("/videos/{hidden}"), 404, "Video not found"),
        (Method::DELETE, format!("/videos/{hidden}"), 404, "Video not found"),
        (Method::PATCH, format!("/videos/toggle/publish/{hidden}"), 404, "Video not found"),
        (Method::PATCH, format!("/comments/c/{comment_id}"), 403, "You are not the owner of this comment"),
        (Method::DELETE, format!("/comments/c/{comment_id}"), 403, "You are not the owner of this comment"),
        (Method::PATCH, format!("/comments/c/{hidden_comment}"), 404, "Comment not found"),
        (Method::DELETE, format!("/comments/c/{hidden_comment}"), 404, "Comment not found"),
        (Method::PATCH, format!("/tweets/{tweet_id}"), 403, "You are not the owner of this tweet"),
        (Method::DELETE, format!("/tweets/{tweet_id}"), 403, "You are not the owner of this tweet"),
        (Method::PATCH, format!("/playlist/{pid}"), 403, "You are not the owner of this playlist"),
        (Method::DELETE, format!("/playlist/{pid}"), 403, "You are not the owner of this playlist"),
        (Method::PATCH, format!("/playlist/add/{video}/{pid}"), 403, "You are not the owner of this playlist"),
        (Method::PATCH, format!("/playlist/remove/{video}/{pid}"), 403, "You are not the owner of this playlist"),
        (Method::POST, format!("/likes/toggle/v/{hidden}"), 404, "Video not found"),
        (Method::POST, format!("/likes/toggle/c/{hidden_comment}"), 404, "Comment not found"),
        (Method::GET, format!("/videos/{hidden}"), 404, "Video not found"),
        (Method::GET, format!("/comments/{hidden}"), 404, "Video not found"),
        (Method::POST, format!("/comments/{hidden}"), 404, "Video not found"),
    ];
    for (method, path, status, message) in cases {
        let resp: Resp =
            app.json(method.clone(), &path, Some(&b), json!({"title": "x", "content": "x", "name": "x"})).await;
        assert_eq!((resp.status.as_u16(), resp.message()), (status, message), "{method} {path}");
    }
    // Nothing changed for A.
    let mine = app.get(&format!("/videos/{video}"), Some(&a)).await;
    assert_eq!(mine.data()["title"], "Public");
    assert_eq!(app.get(&format!("/tweets/user/{}", a.id), None).await.data()[0]["content"], "mine");
    // A's unpublished video appears nowhere for B.
    app.call(Method::POST, &format!("/subscriptions/c/{}", a.id), &b).await;
    let feed = app.get(&format!("/videos?userId={}", a.id), Some(&b)).await;
    assert_eq!(ids(&feed.data()["docs"]), vec![video.clone()]);
    let playlist_view = app.get(&format!("/playlist/{pid}"), Some(&b)).await;
    assert_eq!(playlist_view.data()["totalVideos"], 0);
    let channels = app.get(&format!("/subscriptions/u/{}", b.id), Some(&b)).await;
    assert_eq!(id_of(&channels.data()[0]["channel"]["latestVideo"]), video);
    assert_eq!(app.get("/likes/videos", Some(&b)).await.data(), &json!([]));
    assert_eq!(app.get("/users/history", Some(&b)).await.data(), &json!([]));
}

#[tokio::test]
async fn the_subscription_feed_lists_followed_channels_public_videos_newest_first() {
    let app = TestApp::spawn().await;
    let (asha, ben, cy) = (app.user("asha").await, app.user("ben").await, app.user("cy").await);
    let first = id_of(&app.publish(&asha, "Asha one").await);
    let hidden = id_of(&app.publish(&asha, "Asha draft").await);
    app.call(Method::PATCH, &format!("/videos/toggle/publish/{hidden}"), &asha).await;
    app.publish(&ben, "Ben's own").await;
    let newest = id_of(&app.publish(&cy, "Cy one").await);

    let empty = app.get("/subscriptions/feed", Some(&ben)).await;
    let empty = empty.ok(200, "Subscription feed fetched successfully");
    assert_eq!((empty["docs"].clone(), empty["totalDocs"].clone()), (json!([]), json!(0)), "following nobody");

    for channel in [&asha, &cy] {
        app.call(Method::POST, &format!("/subscriptions/c/{}", channel.id), &ben)
            .await
            .ok(200, "subscribed successfully");
    }
    let feed = app.get("/subscriptions/feed", Some(&ben)).await;
    let feed = feed.ok(200, "Subscription feed fetched successfully").clone();
    let ids: Vec<&str> = feed["docs"].as_array().unwrap().iter().map(|v| v["_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [newest.as_str(), first.as_str()], "public videos of followed channels, newest first");
    assert_eq!(feed["totalDocs"], 2);
    assert_eq!(feed["docs"][0]["owner"]["username"], "cy");
    assert_eq!(feed["docs"][0]["isPublished"], true);

    let second = app.get("/subscriptions/feed?page=2&limit=1", Some(&ben)).await;
    let second = second.ok(200, "Subscription feed fetched successfully");
    assert_eq!((second["docs"][0]["_id"].as_str(), second["page"].clone()), (Some(first.as_str()), json!(2)));
    let alias = app.get("/users/subscriptions/videos", Some(&ben)).await;
    assert_eq!(alias.ok(200, "Subscription feed fetched successfully"), &feed, "the alias answers the same");
    app.get("/subscriptions/feed", None).await.err(401, "Unauthorized request");
}
