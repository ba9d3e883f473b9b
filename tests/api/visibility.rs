//! Visibility levels (docs/api.md §1.12): for each of public, unlisted and private, the owner,
//! another user and an anonymous caller against every route that shows a video (opened by id,
//! listed, counted); the inputs that set a level, and the publish toggle.

use reqwest::Method;
use reqwest::multipart::Form;
use serde_json::{Value, json};

use crate::fixtures;
use crate::helpers::{Resp, Session, TestApp};

const INVALID: &str = "visibility must be one of public, unlisted, private";

fn id_of(value: &Value) -> String {
    value["_id"].as_str().unwrap().to_owned()
}

/// The ids of a list of videos, after checking that each carries both keys and that they agree.
fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|video| {
            level(video);
            id_of(video)
        })
        .collect()
}

/// A Video's `visibility`, checked against its `isPublished`.
fn level(video: &Value) -> &str {
    let level = video["visibility"].as_str().unwrap_or_else(|| panic!("no visibility in {video}"));
    assert_eq!(video["isPublished"], json!(level == "public"), "isPublished is visibility == public: {video}");
    level
}

async fn publish_at(app: &TestApp, s: &Session, title: &str, visibility: Option<&str>) -> Resp {
    let mut form = TestApp::video_form(title, fixtures::mp4(25), "clip.mp4");
    if let Some(visibility) = visibility {
        form = form.text("visibility", visibility.to_owned());
    }
    app.send(app.request(Method::POST, "/videos").bearer_auth(&s.access).multipart(form)).await
}

async fn set_level(app: &TestApp, s: &Session, video: &str, visibility: &str) -> Value {
    let path = format!("/videos/{video}");
    let resp = app.json(Method::PATCH, &path, Some(s), json!({ "visibility": visibility })).await;
    resp.ok(200, "Video updated successfully").clone()
}

async fn toggle(app: &TestApp, s: &Session, video: &str) -> String {
    let resp = app.call(Method::PATCH, &format!("/videos/toggle/publish/{video}"), s).await;
    level(resp.ok(200, "Publish status toggled successfully")).to_owned()
}

async fn new_playlist(app: &TestApp, s: &Session, name: &str) -> String {
    let body = json!({"name": name, "description": "d"});
    id_of(app.json(Method::POST, "/playlist", Some(s), body).await.ok(201, "Playlist created successfully"))
}

/// One viewer of the matrix: who, and whether they own the videos.
struct Viewer<'a> {
    name: &'static str,
    session: Option<&'a Session>,
    owns: bool,
}

impl Viewer<'_> {
    /// Opened by id, and in lists built from ids: everything but someone else's private video.
    fn opens(&self, level: &str) -> bool {
        level != "private" || self.owns
    }
}

#[tokio::test]
async fn each_level_is_shown_exactly_where_the_rule_says() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    let ben = app.user("ben").await;

    // The public video is the oldest: a listing showing only it skips the channel's newest two.
    let public = publish_at(&app, &asha, "Tide one", None).await;
    assert_eq!(level(public.ok(201, "Video uploaded successfully")), "public", "the default");
    let public = id_of(public.data());
    let unlisted = publish_at(&app, &asha, "Tide two", Some("unlisted")).await;
    assert_eq!(level(unlisted.ok(201, "Video uploaded successfully")), "unlisted");
    let unlisted = id_of(unlisted.data());
    // Public while Ben watches, likes, comments and collects it; private afterwards.
    let private = id_of(publish_at(&app, &asha, "Tide three", Some("public")).await.data());
    let videos = [("public", public.clone()), ("unlisted", unlisted.clone()), ("private", private.clone())];

    app.call(Method::POST, &format!("/subscriptions/c/{}", asha.id), &ben).await.ok(200, "subscribed successfully");
    let bens_list = new_playlist(&app, &ben, "Ben's").await;
    let ashas_list = new_playlist(&app, &asha, "Asha's").await;
    let mut bens_comments = Vec::new();
    for (_, video) in &videos {
        for watcher in [Some(&ben), Some(&asha), None] {
            app.get(&format!("/videos/{video}"), watcher).await.ok(200, "Video fetched successfully");
        }
        for fan in [&ben, &asha] {
            app.call(Method::POST, &format!("/likes/toggle/v/{video}"), fan).await.ok(200, "Like added successfully");
        }
        let body = json!({"content": "Lovely"});
        let comment = app.json(Method::POST, &format!("/comments/{video}"), Some(&ben), body).await;
        bens_comments.push(id_of(comment.ok(201, "Comment added successfully")));
        for (owner, list) in [(&ben, &bens_list), (&asha, &ashas_list)] {
            let add = format!("/playlist/add/{video}/{list}");
            app.call(Method::PATCH, &add, owner).await.ok(200, "Video added to playlist successfully");
        }
    }
    let hidden = set_level(&app, &asha, &private, "private").await;
    assert_eq!((level(&hidden), hidden["title"].clone()), ("private", json!("Tide three")), "only the level changed");

    // The owner's dashboard counts and lists every level; its figures are the expected totals.
    let dashboard = app.get("/dashboard/videos", Some(&asha)).await;
    let dashboard = dashboard.ok(200, "Channel videos fetched successfully").clone();
    assert_eq!(ids(&dashboard), vec![private.clone(), unlisted.clone(), public.clone()]);
    let views = |id: &str| dashboard.as_array().unwrap().iter().find(|v| id_of(v) == id).unwrap()["views"].as_i64();
    let views: Vec<i64> = videos.iter().map(|(_, id)| views(id).unwrap()).collect();
    assert_eq!(views, vec![3, 3, 3], "three viewers each");
    let stats = app.get("/dashboard/stats", Some(&asha)).await;
    let stats = stats.ok(200, "channel stats fetched successfully");
    assert_eq!((stats["totalVideos"].clone(), stats["totalViews"].clone()), (json!(3), json!(9)));
    assert_eq!(stats["totalLikes"], 6);

    let viewers = [
        Viewer { name: "owner", session: Some(&asha), owns: true },
        Viewer { name: "other user", session: Some(&ben), owns: false },
        Viewer { name: "anonymous", session: None, owns: false },
    ];
    for viewer in &viewers {
        let who = viewer.name;
        let s = viewer.session;
        // Opened by id: the video, its comments.
        for (level_name, video) in &videos {
            let opened = app.get(&format!("/videos/{video}"), s).await;
            let comments = app.get(&format!("/comments/{video}"), s).await;
            if viewer.opens(level_name) {
                assert_eq!(level(opened.ok(200, "Video fetched successfully")), *level_name, "{who}");
                assert_eq!(comments.ok(200, "Comments fetched successfully")["totalDocs"], 1, "{who}");
            } else {
                opened.err(404, "Video not found");
                comments.err(404, "Video not found");
            }
        }
        // Listed: the feed and search show public videos only, to everyone, the owner included.
        for query in ["", "?query=tide", "?sortBy=views&sortType=asc", "?sortBy=title"] {
            let feed = app.get(&format!("/videos{query}"), s).await;
            let feed = feed.ok(200, "Videos fetched successfully");
            assert_eq!((ids(&feed["docs"]), feed["totalDocs"].clone()), (vec![public.clone()], json!(1)), "{who}");
        }
        // A channel's listing: all of it for its owner, its public videos for everyone else.
        for query in ["", "&query=tide", "&sortBy=duration"] {
            let channel = app.get(&format!("/videos?userId={}{query}", asha.id), s).await;
            let channel = channel.ok(200, "Videos fetched successfully");
            // Equal durations tie, and ties go by id in the same direction: newest first again.
            let expected = match viewer.owns {
                false => vec![public.clone()],
                true => vec![private.clone(), unlisted.clone(), public.clone()],
            };
            assert_eq!(ids(&channel["docs"]), expected, "{who} {query}");
            assert_eq!(channel["totalDocs"], expected.len(), "{who} {query}");
            assert_eq!(channel["docs"].as_array().unwrap().len(), expected.len(), "{who} {query}");
        }
        // Channel cards: the newest public video, however new the others are.
        let cards = app.get(&format!("/subscriptions/u/{}", ben.id), s).await;
        let cards = cards.ok(200, "Subscribed channels fetched successfully");
        assert_eq!(id_of(&cards[0]["channel"]["latestVideo"]), public, "{who}");
        // Playlists (built from ids): unlisted videos are shown and counted; private ones to their owner.
        let shown: Vec<String> = videos.iter().filter(|(l, _)| viewer.opens(l)).map(|(_, id)| id.clone()).collect();
        for list in [&bens_list, &ashas_list] {
            let playlist = app.get(&format!("/playlist/{list}"), s).await;
            let playlist = playlist.ok(200, "Playlist fetched successfully");
            assert_eq!(ids(&playlist["videos"]), shown, "{who}");
            assert_eq!(playlist["totalVideos"], shown.len(), "{who}");
            assert_eq!(playlist["totalViews"], 3 * shown.len(), "{who}");
        }
        let lists = app.get(&format!("/playlist/user/{}", ben.id), s).await;
        let lists = lists.ok(200, "User playlists fetched successfully");
        assert_eq!((ids(&lists[0]["videos"]), lists[0]["totalVideos"].clone()), (shown.clone(), json!(shown.len())));
    }

    // The caller's own lists built from ids: history and liked videos.
    for viewer in &viewers[..2] {
        let s = viewer.session.unwrap();
        let mut shown: Vec<String> = videos.iter().filter(|(l, _)| viewer.opens(l)).map(|(_, id)| id.clone()).collect();
        shown.reverse();
        let history = app.get("/users/history", Some(s)).await;
        assert_eq!(ids(history.ok(200, "Watch history fetched successfully")), shown, "{}", viewer.name);
        let liked = app.get("/likes/videos", Some(s)).await;
        let liked = liked.ok(200, "Liked videos fetched successfully");
        let liked: Vec<Value> = liked.as_array().unwrap().iter().map(|item| item["video"].clone()).collect();
        let liked = ids(&Value::Array(liked));
        assert_eq!(liked, shown, "{}", viewer.name);
    }

    // The subscription feed lists public videos only.
    let feed = app.get("/subscriptions/feed", Some(&ben)).await;
    let feed = feed.ok(200, "Subscription feed fetched successfully");
    assert_eq!((ids(&feed["docs"]), feed["totalDocs"].clone()), (vec![public.clone()], json!(1)));

    // What another user may do with a video they can open: like, comment, collect; never a private one.
    let fresh_list = new_playlist(&app, &ben, "Later").await;
    for ((level_name, video), comment) in videos.iter().zip(&bens_comments) {
        let like = format!("/likes/toggle/v/{video}");
        let like_comment = format!("/likes/toggle/c/{comment}");
        let toggle = format!("/videos/toggle/publish/{video}");
        let add = format!("/playlist/add/{video}/{fresh_list}");
        let edit = json!({"content": "Edited"});
        let edited = app.json(Method::PATCH, &format!("/comments/c/{comment}"), Some(&ben), edit).await;
        let commented =
            app.json(Method::POST, &format!("/comments/{video}"), Some(&ben), json!({"content": "x"})).await;
        if *level_name == "private" {
            app.call(Method::POST, &like, &ben).await.err(404, "Video not found");
            app.call(Method::PATCH, &add, &ben).await.err(404, "Video not found");
            edited.err(404, "Comment not found");
            commented.err(404, "Video not found");
            app.call(Method::POST, &like_comment, &ben).await.err(404, "Comment not found");
            let edit = json!({"title": "Mine now"});
            app.json(Method::PATCH, &format!("/videos/{video}"), Some(&ben), edit).await.err(404, "Video not found");
            app.call(Method::PATCH, &toggle, &ben).await.err(404, "Video not found");
            app.call(Method::DELETE, &format!("/videos/{video}"), &ben).await.err(404, "Video not found");
            let delete = format!("/comments/c/{comment}");
            app.call(Method::DELETE, &delete, &ben).await.err(404, "Comment not found");
        } else {
            app.call(Method::POST, &like, &ben).await.ok(200, "Like removed successfully");
            app.call(Method::POST, &like, &ben).await.ok(200, "Like added successfully");
            app.call(Method::PATCH, &add, &ben).await.ok(200, "Video added to playlist successfully");
            edited.ok(200, "Comment updated successfully");
            commented.ok(201, "Comment added successfully");
            app.call(Method::POST, &like_comment, &ben).await.ok(200, "Like added successfully");
            let edit = json!({"visibility": "public"});
            app.json(Method::PATCH, &format!("/videos/{video}"), Some(&ben), edit)
                .await
                .err(403, "You are not the owner of this video");
            app.call(Method::PATCH, &toggle, &ben).await.err(403, "You are not the owner of this video");
        }
    }
    let later = app.get(&format!("/playlist/{fresh_list}"), None).await;
    assert_eq!(ids(&later.ok(200, "Playlist fetched successfully")["videos"]), vec![public.clone(), unlisted.clone()]);
}

#[tokio::test]
async fn visibility_inputs_are_the_three_exact_words() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    for bad in ["", "Public", "PRIVATE", " public", "unlisted ", "hidden"] {
        publish_at(&app, &asha, "Tide", Some(bad)).await.err(400, INVALID);
    }
    let missing_title = Form::new().text("description", "d").text("visibility", "hidden");
    let resp = app.send(app.request(Method::POST, "/videos").bearer_auth(&asha.access).multipart(missing_title)).await;
    resp.err(400, "All fields are required");
    assert!(app.temp_files().is_empty(), "no temp file left behind");
    assert_eq!((app.stored("videos"), app.stored("images")), (0, 1), "only Asha's avatar is stored");
    assert_eq!(app.get(&format!("/videos?userId={}", asha.id), Some(&asha)).await.data()["totalDocs"], 0);

    let video = id_of(&app.publish(&asha, "Tide").await);
    let path = format!("/videos/{video}");
    let patch = |body: Value| app.json(Method::PATCH, &path, Some(&asha), body);
    for bad in [json!(""), json!("Unlisted"), json!("none")] {
        patch(json!({ "visibility": bad })).await.err(400, INVALID);
    }
    patch(json!({"visibility": 1})).await.err(400, "visibility must be a string");
    let none = "At least one of title, description or thumbnail is required";
    patch(json!({})).await.err(400, none);
    patch(json!({"visibility": null})).await.err(400, none);
    patch(json!({"title": "Renamed", "visibility": "secret"})).await.err(400, INVALID);
    let unchanged = app.get(&path, Some(&asha)).await;
    let unchanged = unchanged.ok(200, "Video fetched successfully");
    assert_eq!((unchanged["title"].clone(), level(unchanged)), (json!("Tide"), "public"), "nothing half-written");

    let updated = patch(json!({"visibility": "unlisted"})).await;
    assert_eq!(level(updated.ok(200, "Video updated successfully")), "unlisted", "visibility alone is an update");
    let form = Form::new().text("visibility", "private").text("title", "Renamed");
    let resp = app.send(app.request(Method::PATCH, &path).bearer_auth(&asha.access).multipart(form)).await;
    let updated = resp.ok(200, "Video updated successfully");
    assert_eq!((level(updated), updated["title"].clone()), ("private", json!("Renamed")));
    let unlisted_form = Form::new().text("visibility", "Unlisted");
    let resp = app.send(app.request(Method::PATCH, &path).bearer_auth(&asha.access).multipart(unlisted_form)).await;
    resp.err(400, INVALID);
}

#[tokio::test]
async fn the_publish_toggle_goes_public_to_private_and_back_to_public() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    let video = id_of(&app.publish(&asha, "Tide").await);
    assert_eq!(toggle(&app, &asha, &video).await, "private");
    assert_eq!(app.get("/videos", None).await.data()["totalDocs"], 0);
    assert_eq!(toggle(&app, &asha, &video).await, "public");
    assert_eq!(app.get("/videos", None).await.data()["totalDocs"], 1);
    set_level(&app, &asha, &video, "unlisted").await;
    assert_eq!(app.get("/videos", None).await.data()["totalDocs"], 0, "unlisted is not listed");
    app.get(&format!("/videos/{video}"), None).await.ok(200, "Video fetched successfully");
    assert_eq!(toggle(&app, &asha, &video).await, "public", "unlisted becomes public");
    let feed = app.get("/videos", None).await;
    assert_eq!(ids(&feed.data()["docs"]), vec![video]);
}
