//! Search and discovery (docs/api.md §3.17): tags, `/search/videos`, `/search/channels`,
//! `/search/suggest` and `/videos/:videoId/related`, on the store the suite runs on.

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use super::fixtures;
use super::helpers::{Resp, Session, TestApp};

const INVALID_TAGS: &str = "tags must be at most 15, each 1 to 30 characters";
const QUERY_REQUIRED: &str = "Search query is required";

/// Publishes a short MP4 with this title, description and (when given) tags.
async fn publish(app: &TestApp, session: &Session, title: &str, description: &str, tags: Option<&str>) -> Value {
    let resp = try_publish(app, session, title, description, tags).await;
    resp.ok(201, "Video uploaded successfully").clone()
}

async fn try_publish(app: &TestApp, session: &Session, title: &str, description: &str, tags: Option<&str>) -> Resp {
    let mut form = Form::new()
        .text("title", title.to_owned())
        .text("description", description.to_owned())
        .part("videoFile", Part::bytes(fixtures::mp4(25)).file_name("clip.mp4"))
        .part("thumbnail", Part::bytes(fixtures::jpeg()).file_name("thumb.jpg"));
    if let Some(tags) = tags {
        form = form.text("tags", tags.to_owned());
    }
    app.send(app.request(Method::POST, "/videos").bearer_auth(&session.access).multipart(form)).await
}

fn id(value: &Value) -> String {
    value["_id"].as_str().unwrap().to_owned()
}

fn encode(q: &str) -> String {
    form_urlencoded::byte_serialize(q.as_bytes()).collect()
}

async fn search(app: &TestApp, query: &str) -> Value {
    let resp = app.get(&format!("/search/videos?{query}"), None).await;
    resp.ok(200, "Search results fetched successfully").clone()
}

/// The titles a search for `q` finds, in order.
async fn titles(app: &TestApp, q: &str) -> Vec<String> {
    let page = search(app, &format!("q={}", encode(q))).await;
    page["docs"].as_array().unwrap().iter().map(|v| v["title"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn tags_are_normalised_checked_and_shown_in_every_video_shape() {
    let app = TestApp::spawn().await;
    let ana = app.user("ana").await;
    let video =
        publish(&app, &ana, "Knife skills", "Dicing onions", Some(" #Cooking , knives,cooking, Low Tide ")).await;
    assert_eq!(video["tags"], json!(["cooking", "knives", "low tide"]));
    let plain = publish(&app, &ana, "No tags", "none", None).await;
    assert_eq!(plain["tags"], json!([]));

    let watched = app.get(&format!("/videos/{}", id(&video)), None).await;
    assert_eq!(watched.ok(200, "Video fetched successfully")["tags"], json!(["cooking", "knives", "low tide"]));
    let feed = app.get(&format!("/videos?userId={}", ana.id), None).await;
    let docs = feed.ok(200, "Videos fetched successfully")["docs"].as_array().unwrap().clone();
    assert!(docs.iter().all(|v| v["tags"].is_array()), "{docs:?}");

    let sixteen: Vec<String> = (0..16).map(|i| format!("t{i}")).collect();
    for bad in [sixteen.join(","), "a,,b".to_owned(), "x".repeat(31), "#".to_owned()] {
        try_publish(&app, &ana, "Bad", "tags", Some(&bad)).await.err(400, INVALID_TAGS);
    }

    let path = format!("/videos/{}", id(&video));
    let resp = app.json(Method::PATCH, &path, Some(&ana), json!({ "tags": "#Sharp, Steel" })).await;
    assert_eq!(resp.ok(200, "Video updated successfully")["tags"], json!(["sharp", "steel"]));
    let resp = app.json(Method::PATCH, &path, Some(&ana), json!({ "tags": "a," })).await;
    resp.err(400, INVALID_TAGS);
    let resp = app.json(Method::PATCH, &path, Some(&ana), json!({ "tags": "" })).await;
    assert_eq!(resp.ok(200, "Video updated successfully")["tags"], json!([]));
    let kept = app.get(&path, None).await;
    assert_eq!(kept.ok(200, "Video fetched successfully")["tags"], json!([]), "the cleared tags persisted");
}

#[tokio::test]
async fn search_matches_every_word_in_any_order_with_prefixes_and_accents() {
    let app = TestApp::spawn().await;
    let ana = app.user("ana").await;
    publish(&app, &ana, "Tide pools at dawn", "Rocks and water", None).await;
    publish(&app, &ana, "Pools at low tide", "Crabs", None).await;
    publish(&app, &ana, "Café tour of Lisbon", "Coffee, pastries!", Some("travel")).await;
    publish(&app, &ana, "Swimming pools", "Indoor", None).await;

    let mut found = titles(&app, "tide pools").await;
    found.sort();
    assert_eq!(found, ["Pools at low tide", "Tide pools at dawn"], "every word, any order");
    assert_eq!(titles(&app, "tide po").await.len(), 2, "the last word is a prefix");
    assert_eq!(titles(&app, "po tide").await.len(), 0, "only the last word is a prefix");
    assert_eq!(titles(&app, "cafe").await, ["Café tour of Lisbon"], "accents are ignored");
    assert_eq!(titles(&app, "CAFÉ, LISBON!!").await, ["Café tour of Lisbon"], "case and punctuation are ignored");
    assert_eq!(titles(&app, "pastries").await, ["Café tour of Lisbon"], "the description is searched");
    assert_eq!(titles(&app, "travel").await, ["Café tour of Lisbon"], "tags are searched");
    assert_eq!(titles(&app, "ana").await.len(), 4, "the owner's username is searched");
    assert_eq!(titles(&app, "ana full").await.len(), 4, "and the owner's full name");
    assert!(titles(&app, "tide whale").await.is_empty(), "every word must match");

    // Nothing typed is read as syntax of any query language.
    for q in ["title:tide", "tide OR whale", "\"tide\"", "tide*", "^tide", ".*", "$where", "(tide", "{\"$gt\":\"\"}"] {
        let page = search(&app, &format!("q={}", encode(q))).await;
        assert!(page["docs"].is_array(), "{q}");
    }
    assert!(titles(&app, "tide OR whale").await.is_empty(), "OR is a word");
    assert!(titles(&app, ".*").await.is_empty(), "punctuation alone finds nothing");
    assert_eq!(titles(&app, "(tide").await.len(), 2);
}

#[tokio::test]
async fn relevance_ranks_title_over_tags_over_description_then_views() {
    let app = TestApp::spawn().await;
    let ana = app.user("ana").await;
    let in_description = publish(&app, &ana, "Morning", "a walk by the kelp", None).await;
    let in_tags = publish(&app, &ana, "Evening", "quiet", Some("kelp")).await;
    let in_title = publish(&app, &ana, "Kelp forest", "green", None).await;
    let in_title_viewed = publish(&app, &ana, "Kelp at night", "dark", None).await;
    app.get(&format!("/videos/{}", id(&in_title_viewed)), None).await.ok(200, "Video fetched successfully");

    let page = search(&app, "q=kelp").await;
    let docs = page["docs"].as_array().unwrap();
    let order: Vec<String> = docs.iter().map(id).collect();
    assert_eq!(order, [id(&in_title_viewed), id(&in_title), id(&in_tags), id(&in_description)]);
    let scores: Vec<f64> = docs.iter().map(|v| v["score"].as_f64().unwrap()).collect();
    assert!(scores[0] == scores[1] && scores[1] > scores[2] && scores[2] > scores[3], "{scores:?}");
    assert_eq!(page["totalDocs"], 4);
    assert_eq!(docs[0]["owner"]["username"], "ana", "results are Video shapes with their owner");

    let newest = search(&app, "q=kelp&sort=newest").await;
    let order: Vec<String> = newest["docs"].as_array().unwrap().iter().map(id).collect();
    assert_eq!(order, [id(&in_title_viewed), id(&in_title), id(&in_tags), id(&in_description)]);
    assert!(newest["docs"][0]["score"].is_number(), "every sort has scores");
    let viewed = search(&app, "q=kelp&sort=views&limit=1").await;
    assert_eq!(id(&viewed["docs"][0]), id(&in_title_viewed));
    assert_eq!((viewed["totalDocs"].as_u64(), viewed["totalPages"].as_u64()), (Some(4), Some(4)));
    let second = search(&app, "q=kelp&sort=newest&limit=3&page=2").await;
    assert_eq!(second["docs"].as_array().unwrap().iter().map(id).collect::<Vec<_>>(), [id(&in_description)]);
}

#[tokio::test]
async fn search_parameters_are_checked_in_order() {
    let app = TestApp::spawn().await;
    for query in ["", "q=", "q=%20%20", "sort=bogus"] {
        app.get(&format!("/search/videos?{query}"), None).await.err(400, QUERY_REQUIRED);
    }
    let long = "a".repeat(201);
    app.get(&format!("/search/videos?q={long}"), None).await.err(400, "q must be at most 200 characters");
    let bad = [
        ("sort=best&duration=huge", "sort must be one of relevance, newest, views"),
        ("sort=RELEVANCE", "sort must be one of relevance, newest, views"),
        ("duration=huge&uploaded=ever", "duration must be one of short, medium, long"),
        ("uploaded=ever", "uploaded must be one of hour, day, week, month, year"),
    ];
    for (query, message) in bad {
        app.get(&format!("/search/videos?q=x&{query}"), None).await.err(400, message);
    }
    let page = search(&app, "q=x&sort=&duration=&uploaded=").await;
    assert_eq!(page["totalDocs"], 0, "empty values are the defaults");
    app.get("/search/channels", None).await.err(400, QUERY_REQUIRED);
    app.get("/search/suggest?q=", None).await.err(400, QUERY_REQUIRED);
    app.get(&format!("/search/suggest?q={}", "a".repeat(101)), None).await.err(400, QUERY_REQUIRED);
    let resp = app.send(app.request(Method::GET, "/search/videos?q=x").bearer_auth("not-a-token")).await;
    resp.err(401, "jwt malformed");
}

#[tokio::test]
async fn filters_keep_durations_and_upload_times() {
    let app = TestApp::spawn().await;
    let ana = app.user("ana").await;
    publish(&app, &ana, "Reef clip", "short", None).await;
    for (filter, expected) in [
        ("duration=short", 1),
        ("duration=medium", 0),
        ("duration=long", 0),
        ("uploaded=hour", 1),
        ("uploaded=year", 1),
        ("duration=short&uploaded=day", 1),
    ] {
        let page = search(&app, &format!("q=reef&{filter}")).await;
        assert_eq!(page["totalDocs"], expected, "{filter}");
    }
}

#[tokio::test]
async fn only_videos_listed_to_everyone_are_found() {
    let app = TestApp::spawn().await;
    let ana = app.user("ana").await;
    let public = publish(&app, &ana, "Otter public", "x", None).await;
    let hidden = publish(&app, &ana, "Otter later", "x", None).await;
    let path = format!("/videos/{}", id(&hidden));
    app.json(Method::PATCH, &path, Some(&ana), json!({ "visibility": "unlisted" }))
        .await
        .ok(200, "Video updated successfully");
    assert_eq!(titles(&app, "otter").await, ["Otter public"]);
    let own = app.get("/search/videos?q=otter", Some(&ana)).await;
    assert_eq!(own.ok(200, "Search results fetched successfully")["totalDocs"], 1, "not even its owner finds it");

    app.json(Method::PATCH, &path, Some(&ana), json!({ "visibility": "public", "title": "Otter pup" }))
        .await
        .ok(200, "Video updated successfully");
    assert_eq!(titles(&app, "otter pup").await, ["Otter pup"], "the index follows edits");
    assert!(titles(&app, "later").await.is_empty(), "the old title is gone from the index");

    let mod_user = app.user("mo").await;
    app.grant("mo", "moderator").await;
    let action = json!({ "targetType": "video", "targetId": id(&public), "action": "remove", "reason": "spam" });
    app.json(Method::POST, "/moderation/actions", Some(&mod_user), action).await.ok(200, "Moderation action recorded");
    assert_eq!(titles(&app, "otter").await, ["Otter pup"], "a removed video is not found");

    app.json(Method::PATCH, "/users/update-account", Some(&ana), json!({ "fullName": "Zelda Quux" }))
        .await
        .ok(200, "Account details updated successfully");
    assert_eq!(titles(&app, "zelda").await, ["Otter pup"], "the owner's new name is searched");
    assert!(titles(&app, "full").await.is_empty(), "and the old one no more");

    let action = json!({ "targetType": "user", "targetId": ana.id, "action": "suspend", "reason": "spam" });
    app.json(Method::POST, "/moderation/actions", Some(&mod_user), action).await.ok(200, "Moderation action recorded");
    assert!(titles(&app, "otter").await.is_empty(), "a suspended owner's videos are not found");
    let channels = app.get("/search/channels?q=zelda", None).await;
    assert_eq!(channels.ok(200, "Channels fetched successfully")["totalDocs"], 0, "nor is the channel");
}

/// With the page cache on (the default) and off, a search answered after a write shows it: a
/// counted view, a new video, a deletion.
#[tokio::test]
async fn searches_show_every_completed_write_at_once() {
    for cache in ["true", "false"] {
        let app = TestApp::builder().env("FEED_CACHE_ENABLED", cache).spawn().await;
        let ana = app.user("ana").await;
        let ben = app.user("ben").await;
        let tide = publish(&app, &ana, "Tide pools", "x", None).await;
        let found = search(&app, "q=tide").await;
        assert_eq!((found["totalDocs"].clone(), found["docs"][0]["views"].clone()), (json!(1), json!(0)));
        app.get(&format!("/videos/{}", id(&tide)), Some(&ben)).await.ok(200, "Video fetched successfully");
        assert_eq!(search(&app, "q=tide").await["docs"][0]["views"], 1, "a view shows at once (cache {cache})");
        publish(&app, &ana, "Tide charts", "x", None).await;
        assert_eq!(titles(&app, "tide").await, ["Tide pools", "Tide charts"], "cache {cache}");
        app.call(Method::DELETE, &format!("/videos/{}", id(&tide)), &ana).await.ok(200, "Video deleted successfully");
        assert_eq!(titles(&app, "tide").await, ["Tide charts"], "cache {cache}");
    }
}

#[tokio::test]
async fn channels_are_found_by_name_and_ranked_by_relevance_then_subscribers() {
    let app = TestApp::spawn().await;
    let river = app.user("river").await;
    let _rivera = app.user("rivera").await;
    let ocean = app.user("ocean").await;
    app.json(Method::PATCH, "/users/update-account", Some(&ocean), json!({ "fullName": "River Song" }))
        .await
        .ok(200, "Account details updated successfully");
    publish(&app, &river, "Rapids", "x", None).await;
    app.call(Method::POST, &format!("/subscriptions/c/{}", river.id), &ocean).await;

    let resp = app.get("/search/channels?q=river", None).await;
    let page = resp.ok(200, "Channels fetched successfully");
    let names: Vec<&str> = page["docs"].as_array().unwrap().iter().map(|c| c["username"].as_str().unwrap()).collect();
    // Usernames before full names; among equals, more subscribers first ("river" is a prefix of "rivera").
    assert_eq!(names, ["river", "rivera", "ocean"]);
    let first = &page["docs"][0];
    assert_eq!(first["latestVideo"]["title"], "Rapids");
    assert_eq!(first["subscribersCount"], 1);
    assert_eq!(page["docs"][1]["latestVideo"], Value::Null);
    assert!(page["docs"][1]["score"].as_f64().unwrap() > page["docs"][2]["score"].as_f64().unwrap());
    for key in ["_id", "username", "fullName", "avatar", "subscribersCount", "latestVideo"] {
        assert!(first.get(key).is_some(), "ChannelCard has {key}");
    }
    let prefix = app.get("/search/channels?q=rive", None).await;
    assert_eq!(prefix.ok(200, "Channels fetched successfully")["totalDocs"], 3, "rive finds river, rivera, River Song");
}

#[tokio::test]
async fn suggestions_complete_titles_and_tags_most_viewed_first() {
    let app = TestApp::spawn().await;
    let ana = app.user("ana").await;
    publish(&app, &ana, "Tide pools at dawn", "x", Some("ocean")).await;
    let viewed = publish(&app, &ana, "Pools at low tide", "x", Some("tidal")).await;
    publish(&app, &ana, "Café tour", "tide in the description only", None).await;
    for _ in 0..2 {
        app.get(&format!("/videos/{}", id(&viewed)), None).await;
    }
    let unlisted = publish(&app, &ana, "Tidings", "x", None).await;
    app.json(Method::PATCH, &format!("/videos/{}", id(&unlisted)), Some(&ana), json!({ "visibility": "private" }))
        .await
        .ok(200, "Video updated successfully");

    let resp = app.get("/search/suggest?q=Tid", None).await;
    let data = resp.ok(200, "Suggestions fetched successfully");
    assert_eq!(data, &json!(["pools at low tide", "tidal", "tide pools at dawn"]));
    let resp = app.get("/search/suggest?q=caf", None).await;
    assert_eq!(resp.ok(200, "Suggestions fetched successfully"), &json!(["café tour"]));
    let resp = app.get(&format!("/search/suggest?q={}", encode("low ti")), None).await;
    assert_eq!(resp.ok(200, "Suggestions fetched successfully"), &json!(["pools at low tide"]));
    let resp = app.get("/search/suggest?q=zzz", None).await;
    assert_eq!(resp.ok(200, "Suggestions fetched successfully"), &json!([]));
}

#[tokio::test]
async fn related_videos_share_tags_or_title_words_then_the_channel_newest() {
    let app = TestApp::spawn().await;
    let ana = app.user("ana").await;
    let ben = app.user("ben").await;
    let base = publish(&app, &ana, "Sourdough starter guide", "x", Some("baking, bread")).await;
    let both_tags = publish(&app, &ben, "Rye loaf", "x", Some("bread, baking")).await;
    let one_word = publish(&app, &ben, "My starter failed", "x", None).await;
    let _unrelated = publish(&app, &ben, "Skateboarding", "x", None).await;
    let own_newest = publish(&app, &ana, "Vlog", "x", None).await;
    let private = publish(&app, &ben, "Bread secrets", "x", Some("bread")).await;
    app.json(Method::PATCH, &format!("/videos/{}", id(&private)), Some(&ben), json!({ "visibility": "private" }))
        .await
        .ok(200, "Video updated successfully");

    let resp = app.get(&format!("/videos/{}/related", id(&base)), None).await;
    let data = resp.ok(200, "Related videos fetched successfully").as_array().unwrap().clone();
    let order: Vec<String> = data.iter().map(id).collect();
    assert_eq!(order, [id(&both_tags), id(&one_word), id(&own_newest)]);
    assert!(data.iter().all(|v| v["tags"].is_array() && v["owner"]["username"].is_string()));

    let resp = app.get(&format!("/videos/{}/related?limit=1", id(&base)), None).await;
    assert_eq!(resp.ok(200, "Related videos fetched successfully").as_array().unwrap().len(), 1);

    app.get(&format!("/videos/{}/related", id(&private)), None).await.err(404, "Video not found");
    let resp = app.get(&format!("/videos/{}/related", id(&private)), Some(&ben)).await;
    resp.ok(200, "Related videos fetched successfully");
    app.get("/videos/123/related", None).await.err(400, "Invalid videoId");
}
