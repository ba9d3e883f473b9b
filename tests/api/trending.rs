//! `GET /videos/trending` (docs/api.md §3.4.7): public videos ranked by the views counted in the
//! window, ties by views, `createdAt` and `_id`; the `hours` rule; unlisted and private videos never
//! listed. Windows reaching into the past are covered by the store story (views at chosen times).

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp};

const INVALID_HOURS: &str = "hours must be a whole number from 1 to 720";

fn id_of(value: &Value) -> String {
    value["_id"].as_str().unwrap().to_owned()
}

async fn trending(app: &TestApp, query: &str) -> Value {
    let resp = app.get(&format!("/videos/trending{query}"), None).await;
    resp.ok(200, "Trending videos fetched successfully").clone()
}

/// `(id, recentViews)` of each entry, in order.
fn ranking(page: &Value) -> Vec<(String, i64)> {
    page["docs"].as_array().unwrap().iter().map(|v| (id_of(v), v["recentViews"].as_i64().unwrap())).collect()
}

/// `n` counted views by `n` different people (one view each per window).
async fn watch(app: &TestApp, video: &str, viewers: &[&Session]) {
    for viewer in viewers {
        app.get(&format!("/videos/{video}"), Some(viewer)).await.ok(200, "Video fetched successfully");
    }
}

#[tokio::test]
async fn public_videos_rank_by_recent_views_then_views_then_newest() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    let (ben, chen, dina) = (app.user("ben").await, app.user("chen").await, app.user("dina").await);
    let viewers = [&ben, &chen, &dina];
    let empty = trending(&app, "").await;
    assert_eq!((empty["docs"].clone(), empty["totalDocs"].clone()), (json!([]), json!(0)), "no views, no trend");

    let mut ids = Vec::new();
    for title in ["one", "two", "three", "four", "unwatched"] {
        ids.push(id_of(&app.publish(&asha, title).await));
    }
    watch(&app, &ids[0], &viewers[..1]).await;
    watch(&app, &ids[1], &viewers[..3]).await;
    watch(&app, &ids[2], &viewers[..1]).await;
    watch(&app, &ids[3], &viewers[..2]).await;
    // A repeated view within the view window is not counted, so it does not trend either.
    watch(&app, &ids[1], &viewers[..1]).await;

    let page = trending(&app, "").await;
    let expected = vec![
        (ids[1].clone(), 3),
        (ids[3].clone(), 2),
        (ids[2].clone(), 1), // ties on recent views and views: the newer first
        (ids[0].clone(), 1),
    ];
    assert_eq!(ranking(&page), expected, "the unwatched video is not listed");
    assert_eq!((page["totalDocs"].clone(), page["totalPages"].clone()), (json!(4), json!(1)));
    let first = &page["docs"][0];
    assert_eq!((first["views"].clone(), first["visibility"].clone()), (json!(3), json!("public")));
    assert_eq!(first["owner"]["username"], "asha");
    assert_eq!(first["owner"], first["ownerDetails"]);

    let second_page = trending(&app, "?limit=2&page=2").await;
    assert_eq!(ranking(&second_page), expected[2..].to_vec());
    assert_eq!((second_page["totalDocs"].clone(), second_page["page"].clone()), (json!(4), json!(2)));
    assert_eq!(ranking(&trending(&app, "?hours=1").await), expected, "views of this hour are in every window");
    assert_eq!(ranking(&trending(&app, "?hours=720").await), expected);

    // A logged-in caller sees the same ranking; a bad token is refused as on every optional route.
    let as_ben = app.get("/videos/trending", Some(&ben)).await;
    assert_eq!(ranking(as_ben.ok(200, "Trending videos fetched successfully")), expected);
    let forged = app.request(Method::GET, "/videos/trending").bearer_auth("not-a-token");
    app.send(forged).await.err(401, "jwt malformed");
}

#[tokio::test]
async fn unlisted_and_private_videos_never_trend() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    let ben = app.user("ben").await;
    let public = id_of(&app.publish(&asha, "public").await);
    let unlisted = id_of(&app.publish(&asha, "unlisted").await);
    let private = id_of(&app.publish(&asha, "private").await);
    for (video, level) in [(&unlisted, "unlisted"), (&private, "private")] {
        let body = json!({"visibility": level});
        app.json(Method::PATCH, &format!("/videos/{video}"), Some(&asha), body)
            .await
            .ok(200, "Video updated successfully");
    }
    watch(&app, &public, &[&ben]).await;
    watch(&app, &unlisted, &[&ben, &asha]).await;
    watch(&app, &private, &[&asha]).await;
    for viewer in [None, Some(&asha), Some(&ben)] {
        let page = app.get("/videos/trending", viewer).await;
        let page = page.ok(200, "Trending videos fetched successfully");
        assert_eq!((ranking(page), page["totalDocs"].clone()), (vec![(public.clone(), 1)], json!(1)));
    }
    // Their counted views were recorded: made public, the unlisted video trends with them.
    let body = json!({"visibility": "public"});
    app.json(Method::PATCH, &format!("/videos/{unlisted}"), Some(&asha), body)
        .await
        .ok(200, "Video updated successfully");
    assert_eq!(ranking(&trending(&app, "").await), vec![(unlisted.clone(), 2), (public.clone(), 1)]);
    // A deleted video leaves the ranking with its records.
    app.call(Method::DELETE, &format!("/videos/{unlisted}"), &asha).await.ok(200, "Video deleted successfully");
    assert_eq!(ranking(&trending(&app, "").await), vec![(public, 1)]);
}

#[tokio::test]
async fn hours_is_a_whole_number_from_1_to_720() {
    let app = TestApp::spawn().await;
    for bad in ["0", "721", "-1", "1.5", "abc", "", "%20", "1e2", "99999999999999999999999"] {
        let resp = app.get(&format!("/videos/trending?hours={bad}"), None).await;
        resp.err(400, INVALID_HOURS);
    }
    for good in ["1", "48", "720", "%2024%20", "0072"] {
        trending(&app, &format!("?hours={good}")).await;
    }
}

#[tokio::test]
async fn concurrent_first_views_of_an_hour_are_all_counted() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    let video = id_of(&app.publish(&asha, "Tide").await);
    let mut viewers = Vec::new();
    for n in 0..12 {
        viewers.push(app.user(&format!("viewer{n}")).await);
    }
    let path = format!("/videos/{video}");
    let views = futures_util::future::join_all(viewers.iter().map(|v| app.get(&path, Some(v)))).await;
    assert!(views.iter().all(|r| r.status == 200), "{views:?}");
    let page = trending(&app, "").await;
    assert_eq!(page["docs"][0]["views"], 12, "twelve viewers, one counted view each");
    assert_eq!(ranking(&page), vec![(video, 12)], "each recorded in the hour's one record");
}
