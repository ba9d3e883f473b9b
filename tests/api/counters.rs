//! The totals the API shows (likes, subscribers, subscriptions, feed and channel totals, the
//! dashboard) stay exact while many clients change what they count at once, on whichever store the
//! suite runs; on MongoDB, where they are stored apart from the records (docs/decisions.md D26), a
//! count found wrong is repaired and an original API's database gets its counts at startup.

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Session, StoreBackend, TestApp};

fn id_of(value: &Value) -> String {
    value["_id"].as_str().unwrap().to_owned()
}

async fn users(app: &TestApp, prefix: &str, n: usize) -> Vec<Session> {
    join_all((0..n).map(|i| {
        let name = format!("{prefix}{i}");
        async move { app.user(&name).await }
    }))
    .await
}

/// `(likesCount, subscribersCount)` of the video and its channel as a viewer sees them.
async fn video_counts(app: &TestApp, video: &str) -> (Value, Value) {
    let resp = app.get(&format!("/videos/{video}"), None).await;
    let data = resp.ok(200, "Video fetched successfully");
    (data["likesCount"].clone(), data["owner"]["subscribersCount"].clone())
}

async fn channel(app: &TestApp, username: &str) -> Value {
    app.get(&format!("/users/c/{username}"), None).await.ok(200, "User channel fetched successfully").clone()
}

async fn total(app: &TestApp, path: &str, session: Option<&Session>) -> Value {
    app.get(path, session).await.data()["totalDocs"].clone()
}

#[tokio::test]
async fn totals_stay_exact_under_concurrent_writes() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    let fans = users(&app, "fan", 10).await;
    let video = id_of(&app.publish(&asha, "Tide").await);

    // Ten likes and ten subscriptions at once, then four of each taken back at once.
    let like = format!("/likes/toggle/v/{video}");
    let subscribe = format!("/subscriptions/c/{}", asha.id);
    let answers = join_all(
        fans.iter().flat_map(|fan| [app.call(Method::POST, &like, fan), app.call(Method::POST, &subscribe, fan)]),
    )
    .await;
    assert!(answers.iter().all(|r| r.status == 200), "{answers:?}");
    let answers = join_all(
        fans[..4].iter().flat_map(|fan| [app.call(Method::POST, &like, fan), app.call(Method::POST, &subscribe, fan)]),
    )
    .await;
    assert!(answers.iter().all(|r| r.status == 200), "{answers:?}");
    assert_eq!(video_counts(&app, &video).await, (json!(6), json!(6)));
    let profile = channel(&app, "asha").await;
    assert_eq!(
        (profile["subscribersCount"].clone(), profile["channelsSubscribedToCount"].clone()),
        (json!(6), json!(0))
    );
    assert_eq!(channel(&app, "fan9").await["channelsSubscribedToCount"], 1);
    assert_eq!(channel(&app, "fan0").await["channelsSubscribedToCount"], 0);

    // Six more videos at once, then three of them made private and one unlisted at once.
    let more = join_all((0..6).map(|i| {
        let (app, asha, title) = (&app, &asha, format!("Clip {i}"));
        async move { app.publish(asha, &title).await }
    }))
    .await;
    let more: Vec<String> = more.iter().map(id_of).collect();
    assert_eq!(total(&app, "/videos", None).await, 7);
    let levels = ["private", "private", "private", "unlisted"];
    let changes = join_all(more.iter().zip(levels).map(|(id, level)| {
        let (app, asha, path) = (&app, &asha, format!("/videos/{id}"));
        async move { app.json(Method::PATCH, &path, Some(asha), json!({ "visibility": level })).await }
    }))
    .await;
    assert!(changes.iter().all(|r| r.status == 200), "{changes:?}");
    assert_eq!(total(&app, "/videos", None).await, 3, "public only, for anyone");
    assert_eq!(total(&app, &format!("/videos?userId={}", asha.id), None).await, 3);
    assert_eq!(total(&app, &format!("/videos?userId={}", asha.id), Some(&asha)).await, 7, "the owner sees all");
    assert_eq!(total(&app, "/subscriptions/feed", Some(&fans[9])).await, 3, "a subscriber's feed: listed only");

    // Two deleted at once (one public, one private), and a fan's account with its like and subscription.
    let gone = join_all([&more[0], &more[5]].map(|id| {
        let (app, asha, path) = (&app, &asha, format!("/videos/{id}"));
        async move { app.call(Method::DELETE, &path, asha).await }
    }))
    .await;
    assert!(gone.iter().all(|r| r.status == 200), "{gone:?}");
    app.json(Method::DELETE, "/users/account", Some(&fans[9]), json!({"password": "pass-word"}))
        .await
        .ok(200, "Account deleted successfully");
    assert_eq!(video_counts(&app, &video).await, (json!(5), json!(5)));
    assert_eq!(total(&app, "/videos", None).await, 2);
    assert_eq!(total(&app, &format!("/videos?userId={}", asha.id), Some(&asha)).await, 5);
    let stats = app.get("/dashboard/stats", Some(&asha)).await;
    let stats = stats.ok(200, "channel stats fetched successfully");
    assert_eq!(
        (stats["totalVideos"].clone(), stats["totalSubscribers"].clone(), stats["totalLikes"].clone()),
        (json!(5), json!(5), json!(5))
    );

    // The owner's account goes: the site's total loses every one of its videos at once.
    let ben = app.user("ben").await;
    app.publish(&ben, "Ben's clip").await;
    assert_eq!(total(&app, "/videos", None).await, 3);
    app.json(Method::DELETE, "/users/account", Some(&asha), json!({"password": "pass-word"}))
        .await
        .ok(200, "Account deleted successfully");
    assert_eq!(total(&app, "/videos", None).await, 1);
    assert_eq!(channel(&app, "fan8").await["channelsSubscribedToCount"], 0, "asha's subscribers follow nobody now");
}

#[tokio::test]
async fn moderation_moves_videos_between_the_totals() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    let mo = app.user("mo").await;
    app.grant("mo", "moderator").await;
    let videos: Vec<String> = join_all((0..3).map(|i| {
        let (app, asha, title) = (&app, &asha, format!("Clip {i}"));
        async move { app.publish(asha, &title).await }
    }))
    .await
    .iter()
    .map(id_of)
    .collect();
    let act = |kind: &str, id: &str, action: &str| {
        let body = json!({"targetType": kind, "targetId": id, "action": action, "reason": "spam"});
        app.json(Method::POST, "/moderation/actions", Some(&mo), body)
    };
    assert_eq!(act("video", &videos[0], "remove").await.status, 200);
    assert_eq!(total(&app, "/videos", None).await, 2);
    assert_eq!(act("user", &asha.id, "suspend").await.status, 200);
    assert_eq!(total(&app, "/videos", None).await, 0);
    assert_eq!(act("user", &asha.id, "unsuspend").await.status, 200);
    assert_eq!(total(&app, "/videos", None).await, 2, "the removed one stays hidden");
    assert_eq!(act("video", &videos[0], "restore").await.status, 200);
    assert_eq!(total(&app, "/videos", None).await, 3);
}

/// On MongoDB: a count corrupted behind the server's back is corrected by the maintenance task,
/// and one missing (a database the original API wrote) is built before the server answers.
#[tokio::test]
async fn mongodb_repairs_a_wrong_count_and_builds_missing_ones() {
    // The feed cache would answer the feed's total from before the count was corrupted.
    let app =
        TestApp::builder().env("MEDIA_RECONCILE_INTERVAL_SECS", "1").env("FEED_CACHE_ENABLED", "false").spawn().await;
    let Some(uri) = app.mongodb.clone() else { return };
    let asha = app.user("asha").await;
    let ben = app.user("ben").await;
    let video = id_of(&app.publish(&asha, "Tide").await);
    app.call(Method::POST, &format!("/likes/toggle/v/{video}"), &ben).await.ok(200, "Like added successfully");
    app.call(Method::POST, &format!("/subscriptions/c/{}", asha.id), &ben).await.ok(200, "subscribed successfully");

    let options = mongodb::options::ClientOptions::parse(&uri).await.unwrap();
    let name = videotube::store::mongo::database_name(&options);
    let db = mongodb::Client::with_options(options).unwrap().database(&name);
    let users = db.collection::<bson::Document>("users");
    let asha_id = bson::oid::ObjectId::parse_str(&asha.id).unwrap();
    users.update_one(bson::doc! { "_id": asha_id }, bson::doc! { "$set": { "subscribersCount": 40 } }).await.unwrap();
    db.collection::<bson::Document>("counters")
        .update_one(bson::doc! { "_id": "site" }, bson::doc! { "$inc": { "videos.public": 5 } })
        .await
        .unwrap();
    assert_eq!(video_counts(&app, &video).await.1, 40, "the corrupted count is what the API reads");
    assert_eq!(total(&app, "/videos", None).await, 6);
    let mut repaired = false;
    for _ in 0..100 {
        if video_counts(&app, &video).await.1 == 1 && total(&app, "/videos", None).await == 1 {
            repaired = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(repaired, "the maintenance task corrects both within 10 s");

    // Counts removed as an original API's database lacks them, and the counts marked never built.
    let videos = db.collection::<bson::Document>("videos");
    users
        .update_many(bson::doc! {}, bson::doc! { "$unset": { "subscribersCount": "", "videoCounts": "" } })
        .await
        .unwrap();
    videos.update_many(bson::doc! {}, bson::doc! { "$unset": { "likes": "", "countedLevel": "" } }).await.unwrap();
    db.collection::<bson::Document>("counters").delete_many(bson::doc! {}).await.unwrap();
    let second = TestApp::builder().store(StoreBackend::Sqlite).env("MONGODB_URI", &uri).spawn().await;
    assert_eq!(video_counts(&second, &video).await, (json!(1), json!(1)));
    assert_eq!(total(&second, "/videos", None).await, 1);
    assert_eq!(total(&second, &format!("/videos?userId={}", asha.id), None).await, 1);
}
