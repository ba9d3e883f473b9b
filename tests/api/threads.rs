//! Comment threads (X8, docs/api.md §3.5): replies, the `top` sort, pins, hearts, and what
//! deletions, visibility and moderation do to threads.

use reqwest::Method;
use serde_json::{Value, json};

use super::helpers::{Resp, Session, TestApp};

const UNKNOWN: &str = "6650a1b2c3d4e5f601234567";

async fn comment(app: &TestApp, who: &Session, video: &str, body: Value) -> Resp {
    app.json(Method::POST, &format!("/comments/{video}"), Some(who), body).await
}

/// Posts a comment (a reply when `parent` is given) and returns it.
async fn post(app: &TestApp, who: &Session, video: &str, content: &str, parent: Option<&str>) -> Value {
    let body = match parent {
        Some(parent) => json!({"content": content, "parentId": parent}),
        None => json!({"content": content}),
    };
    comment(app, who, video, body).await.ok(201, "Comment added successfully").clone()
}

fn id(value: &Value) -> String {
    value["_id"].as_str().unwrap().to_owned()
}

fn ids(page: &Value) -> Vec<String> {
    page["docs"].as_array().unwrap().iter().map(id).collect()
}

async fn list(app: &TestApp, video: &str, query: &str, who: Option<&Session>) -> Value {
    app.get(&format!("/comments/{video}{query}"), who).await.ok(200, "Comments fetched successfully").clone()
}

async fn replies(app: &TestApp, thread: &str, query: &str, who: Option<&Session>) -> Value {
    let path = format!("/comments/c/{thread}/replies{query}");
    app.get(&path, who).await.ok(200, "Replies fetched successfully").clone()
}

async fn like(app: &TestApp, who: &Session, comment: &str) {
    app.call(Method::POST, &format!("/likes/toggle/c/{comment}"), who).await.ok(200, "Like added successfully");
}

async fn publish(app: &TestApp, who: &Session, title: &str) -> String {
    id(&app.publish(who, title).await)
}

#[tokio::test]
async fn replies_join_the_thread_of_the_comment_they_answer() {
    let app = TestApp::spawn().await;
    let (asha, ben, cleo) = (app.user("asha").await, app.user("ben").await, app.user("cleo").await);
    let video = publish(&app, &asha, "Clip").await;

    let top = post(&app, &ben, &video, "First!", None).await;
    for field in ["parent", "replyTo"] {
        assert_eq!(top[field], Value::Null, "{field}");
    }
    assert_eq!((top["repliesCount"].as_i64(), top["pinned"].as_bool()), (Some(0), Some(false)));
    assert_eq!(top["heartedByCreator"], false);
    let top = id(&top);

    // A reply to the top-level comment, then one to that reply: both in the same thread, each
    // answering the author of the comment it names.
    let first = post(&app, &cleo, &video, "Agreed", Some(&top)).await;
    assert_eq!(first["parent"], top.as_str());
    assert_eq!(first["replyTo"]["_id"], ben.id.as_str());
    assert_eq!(first["replyTo"]["username"], "ben");
    assert_eq!(first["repliesCount"], 0);
    let second = post(&app, &asha, &video, "Thanks both", Some(&id(&first))).await;
    assert_eq!(second["parent"], top.as_str(), "a reply to a reply joins the reply's thread");
    assert_eq!(second["replyTo"]["_id"], cleo.id.as_str());
    assert_eq!(second["owner"]["_id"], asha.id.as_str());
    // An empty parentId is a top-level comment.
    let other = post(&app, &cleo, &video, "Another", Some("  ")).await;
    assert_eq!(other["parent"], Value::Null);

    // The video's list holds top-level comments only, newest first; totalDocs counts them.
    let page = list(&app, &video, "", None).await;
    assert_eq!(ids(&page), [id(&other), top.clone()]);
    assert_eq!(page["totalDocs"], 2);
    assert_eq!(page["docs"][1]["repliesCount"], 2);

    // The thread's replies, oldest first, paginated.
    let thread = replies(&app, &top, "", Some(&ben)).await;
    assert_eq!(ids(&thread), [id(&first), id(&second)]);
    assert_eq!(
        (thread["totalDocs"].as_u64(), thread["page"].as_u64(), thread["limit"].as_u64()),
        (Some(2), Some(1), Some(10))
    );
    let second_page = replies(&app, &top, "?page=2&limit=1", None).await;
    assert_eq!(ids(&second_page), [id(&second)]);
    assert_eq!((second_page["totalPages"].as_u64(), second_page["hasPrevPage"].as_bool()), (Some(2), Some(true)));
    assert_eq!(second_page["hasNextPage"], false);

    // The replies route: 400 for a malformed id, 404 for an unknown one and for a reply.
    app.get("/comments/c/nope/replies", None).await.err(400, "Invalid commentId");
    app.get(&format!("/comments/c/{UNKNOWN}/replies"), None).await.err(404, "Comment not found");
    app.get(&format!("/comments/c/{}/replies", id(&first)), None).await.err(404, "Comment not found");
}

#[tokio::test]
async fn a_reply_is_checked_after_the_content_and_must_name_a_visible_comment_of_the_video() {
    let app = TestApp::spawn().await;
    let (asha, ben) = (app.user("asha").await, app.user("ben").await);
    let video = publish(&app, &asha, "Clip").await;
    let elsewhere = publish(&app, &asha, "Elsewhere").await;
    let top = id(&post(&app, &ben, &video, "Hi", None).await);
    let on_other_video = id(&post(&app, &ben, &elsewhere, "Hi there", None).await);

    let send = |body: Value| comment(&app, &ben, &video, body);
    send(json!({"content": "", "parentId": "nope"})).await.err(400, "Content is required");
    send(json!({"content": "Yes", "parentId": "nope"})).await.err(400, "Invalid parentId");
    send(json!({"content": "Yes", "parentId": 5})).await.err(400, "parentId must be a string");
    send(json!({"content": "Yes", "parentId": UNKNOWN})).await.err(404, "Comment not found");
    send(json!({"content": "Yes", "parentId": on_other_video})).await.err(404, "Comment not found");
    // The video comes first (404 before the body), and a missing token before that.
    comment(&app, &ben, UNKNOWN, json!({"content": "Yes", "parentId": "nope"})).await.err(404, "Video not found");
    let path = format!("/comments/{video}");
    let anonymous = app.json(Method::POST, &path, None, json!({"content": "Yes", "parentId": top})).await;
    anonymous.err(401, "Unauthorized request");

    // A removed comment is no one's to answer but its author's.
    app.grant("asha", "moderator").await;
    let removal = json!({"targetType": "comment", "targetId": top, "action": "remove", "reason": "Spam"});
    app.json(Method::POST, "/moderation/actions", Some(&asha), removal).await.ok(200, "Moderation action recorded");
    comment(&app, &asha, &video, json!({"content": "No", "parentId": top})).await.err(404, "Comment not found");
    app.get(&format!("/comments/c/{top}/replies"), Some(&asha)).await.err(404, "Comment not found");
    let own = post(&app, &ben, &video, "Still mine", Some(&top)).await;
    assert_eq!(own["parent"], top.as_str());
    let thread = replies(&app, &top, "", Some(&ben)).await;
    assert_eq!(ids(&thread), [id(&own)]);
}

#[tokio::test]
async fn the_video_list_sorts_newest_or_top_and_refuses_other_sorts() {
    let app = TestApp::spawn().await;
    let (asha, ben, cleo) = (app.user("asha").await, app.user("ben").await, app.user("cleo").await);
    let video = publish(&app, &asha, "Clip").await;
    let c: Vec<String> = {
        let mut c = Vec::new();
        for n in 0..5 {
            c.push(id(&post(&app, &ben, &video, &format!("c{n}"), None).await));
        }
        c
    };
    // c1 and c2: one like each, c2 also a reply; c4: two likes; c0 and c3: nothing.
    like(&app, &asha, &c[1]).await;
    like(&app, &asha, &c[2]).await;
    post(&app, &cleo, &video, "reply", Some(&c[2])).await;
    like(&app, &asha, &c[4]).await;
    like(&app, &cleo, &c[4]).await;

    let newest = list(&app, &video, "", None).await;
    assert_eq!(ids(&newest), [c[4].as_str(), c[3].as_str(), c[2].as_str(), c[1].as_str(), c[0].as_str()]);
    assert_eq!(ids(&list(&app, &video, "?sort=newest", None).await), ids(&newest));
    assert_eq!(ids(&list(&app, &video, "?sort=", None).await), ids(&newest), "empty is the default");
    // Likes, then replies, then newest: ties on both counts go to the newer comment.
    let top = list(&app, &video, "?sort=top", Some(&ben)).await;
    assert_eq!(ids(&top), [c[4].as_str(), c[2].as_str(), c[1].as_str(), c[3].as_str(), c[0].as_str()]);
    assert_eq!(top["docs"][0]["likesCount"], 2);
    assert_eq!(top["docs"][1]["repliesCount"], 1);
    assert_eq!(top["totalDocs"], 5);
    let second = list(&app, &video, "?sort=top&page=2&limit=2", None).await;
    assert_eq!(ids(&second), [c[1].as_str(), c[3].as_str()]);

    for bad in ["Top", "oldest", "likes"] {
        app.get(&format!("/comments/{video}?sort={bad}"), None).await.err(400, "sort must be one of newest, top");
    }
    app.get(&format!("/comments/{UNKNOWN}?sort=bad"), None).await.err(404, "Video not found");
    app.get("/comments/nope?sort=bad", None).await.err(400, "Invalid videoId");
}

#[tokio::test]
async fn the_owner_pins_one_top_level_comment_first_on_page_one_only() {
    let app = TestApp::spawn().await;
    let (asha, ben) = (app.user("asha").await, app.user("ben").await);
    let video = publish(&app, &asha, "Clip").await;
    let mut c = Vec::new();
    for n in 0..5 {
        c.push(id(&post(&app, &ben, &video, &format!("c{n}"), None).await));
    }
    let reply = id(&post(&app, &asha, &video, "reply", Some(&c[0])).await);
    let pin =
        async |comment: &str, who: &Session| app.call(Method::POST, &format!("/comments/c/{comment}/pin"), who).await;
    let unpin =
        async |comment: &str, who: &Session| app.call(Method::DELETE, &format!("/comments/c/{comment}/pin"), who).await;

    pin(&c[1], &ben).await.err(403, "Only the video owner can pin comments");
    unpin(&c[1], &ben).await.err(403, "Only the video owner can pin comments");
    pin(&reply, &asha).await.err(400, "Only top-level comments can be pinned");
    pin("nope", &asha).await.err(400, "Invalid commentId");
    pin(UNKNOWN, &asha).await.err(404, "Comment not found");
    app.send(app.request(Method::POST, &format!("/comments/c/{}/pin", c[1]))).await.err(401, "Unauthorized request");

    assert_eq!(pin(&c[1], &asha).await.ok(200, "Comment pinned"), &json!({"pinned": true}));
    // Page 1 opens with the pin, the rest follow in order; it is not repeated on later pages.
    let page = |query: &'static str| list(&app, &video, query, None);
    let first = page("?limit=2").await;
    assert_eq!(ids(&first), [c[1].as_str(), c[4].as_str()]);
    assert_eq!(first["docs"][0]["pinned"], true);
    assert_eq!(first["docs"][1]["pinned"], false);
    assert_eq!(first["totalDocs"], 5);
    assert_eq!(ids(&page("?limit=2&page=2").await), [c[3].as_str(), c[2].as_str()]);
    assert_eq!(ids(&page("?limit=2&page=3").await), [c[0].as_str()]);
    assert_eq!(ids(&page("?limit=1").await), [c[1].as_str()]);
    assert_eq!(ids(&page("?limit=1&page=2").await), [c[4].as_str()]);
    // In the top sort too.
    like(&app, &ben, &c[3]).await;
    assert_eq!(ids(&page("?sort=top&limit=3").await), [c[1].as_str(), c[3].as_str(), c[0].as_str()]);
    assert_eq!(ids(&page("?sort=top&limit=3&page=2").await), [c[4].as_str(), c[2].as_str()]);

    // Pinning another ends the first pin.
    pin(&c[2], &asha).await.ok(200, "Comment pinned");
    let all = page("").await;
    assert_eq!(ids(&all), [c[2].as_str(), c[4].as_str(), c[3].as_str(), c[1].as_str(), c[0].as_str()]);
    let pinned: Vec<bool> = all["docs"].as_array().unwrap().iter().map(|d| d["pinned"].as_bool().unwrap()).collect();
    assert_eq!(pinned, [true, false, false, false, false]);
    // Unpinning another comment changes nothing; unpinning the pinned one ends it.
    assert_eq!(unpin(&c[1], &asha).await.ok(200, "Comment unpinned"), &json!({"pinned": false}));
    assert_eq!(ids(&page("?limit=1").await), [c[2].as_str()]);
    unpin(&c[2], &asha).await.ok(200, "Comment unpinned");
    assert_eq!(ids(&page("").await), [c[4].as_str(), c[3].as_str(), c[2].as_str(), c[1].as_str(), c[0].as_str()]);

    // A pinned comment the viewer does not see is not shown first (nor at all).
    pin(&c[0], &asha).await.ok(200, "Comment pinned");
    app.call(Method::POST, &format!("/users/blocks/{}", ben.id), &asha).await.ok(200, "User blocked");
    assert_eq!(page("").await["docs"], json!([]));
    let own = list(&app, &video, "?limit=2", Some(&ben)).await;
    assert_eq!(ids(&own), [c[0].as_str(), c[4].as_str()], "ben still sees his hidden comments, the pinned one first");
    assert_eq!(own["totalDocs"], 5);
    // A deleted pinned comment leaves no pin behind.
    app.call(Method::DELETE, &format!("/users/blocks/{}", ben.id), &asha).await.ok(200, "User unblocked");
    app.call(Method::DELETE, &format!("/comments/c/{}", c[0]), &ben).await.ok(200, "Comment deleted successfully");
    assert_eq!(ids(&page("").await), [c[4].as_str(), c[3].as_str(), c[2].as_str(), c[1].as_str()]);
}

#[tokio::test]
async fn the_owner_hearts_comments_and_replies() {
    let app = TestApp::spawn().await;
    let (asha, ben) = (app.user("asha").await, app.user("ben").await);
    let video = publish(&app, &asha, "Clip").await;
    let top = id(&post(&app, &ben, &video, "Hi", None).await);
    let reply = id(&post(&app, &ben, &video, "Me again", Some(&top)).await);
    let heart =
        async |comment: &str, who: &Session| app.call(Method::POST, &format!("/comments/c/{comment}/heart"), who).await;

    heart(&top, &ben).await.err(403, "Only the video owner can heart comments");
    heart("nope", &asha).await.err(400, "Invalid commentId");
    heart(UNKNOWN, &asha).await.err(404, "Comment not found");
    assert_eq!(heart(&top, &asha).await.ok(200, "Heart added"), &json!({"heartedByCreator": true}));
    assert_eq!(heart(&reply, &asha).await.ok(200, "Heart added"), &json!({"heartedByCreator": true}));
    assert_eq!(list(&app, &video, "", None).await["docs"][0]["heartedByCreator"], true);
    assert_eq!(replies(&app, &top, "", None).await["docs"][0]["heartedByCreator"], true);
    assert_eq!(heart(&top, &asha).await.ok(200, "Heart removed"), &json!({"heartedByCreator": false}));
    assert_eq!(list(&app, &video, "", None).await["docs"][0]["heartedByCreator"], false);
    // An edit keeps it.
    let edited =
        app.json(Method::PATCH, &format!("/comments/c/{reply}"), Some(&ben), json!({"content": "Edited"})).await;
    assert_eq!(edited.ok(200, "Comment updated successfully")["heartedByCreator"], true);
}

#[tokio::test]
async fn deleting_a_thread_takes_its_replies_and_their_likes() {
    let app = TestApp::spawn().await;
    let (asha, ben, cleo) = (app.user("asha").await, app.user("ben").await, app.user("cleo").await);
    let video = publish(&app, &asha, "Clip").await;
    let top = id(&post(&app, &ben, &video, "Hi", None).await);
    let keep = id(&post(&app, &ben, &video, "Other", None).await);
    let reply = id(&post(&app, &cleo, &video, "Reply", Some(&top)).await);
    let kept_reply = id(&post(&app, &cleo, &video, "Kept", Some(&keep)).await);
    like(&app, &asha, &reply).await;
    like(&app, &asha, &kept_reply).await;

    // Deleting a reply leaves its thread.
    let doomed = id(&post(&app, &asha, &video, "Oops", Some(&top)).await);
    app.call(Method::DELETE, &format!("/comments/c/{doomed}"), &asha).await.ok(200, "Comment deleted successfully");
    assert_eq!(ids(&replies(&app, &top, "", None).await), [reply.as_str()]);

    app.call(Method::DELETE, &format!("/comments/c/{top}"), &ben).await.ok(200, "Comment deleted successfully");
    app.call(Method::POST, &format!("/likes/toggle/c/{reply}"), &asha).await.err(404, "Comment not found");
    app.get(&format!("/comments/c/{top}/replies"), None).await.err(404, "Comment not found");
    let edit = app.json(Method::PATCH, &format!("/comments/c/{reply}"), Some(&cleo), json!({"content": "x"})).await;
    edit.err(404, "Comment not found");
    let page = list(&app, &video, "", None).await;
    assert_eq!((ids(&page), page["totalDocs"].as_u64()), (vec![keep.clone()], Some(1)));
    assert_eq!(page["docs"][0]["repliesCount"], 1);
    let other = replies(&app, &keep, "", None).await;
    assert_eq!(other["docs"][0]["likesCount"], 1, "other threads keep their replies and likes");
}

#[tokio::test]
async fn deleting_a_video_or_an_account_takes_the_threads_and_replies_with_it() {
    let app = TestApp::spawn().await;
    let (asha, ben, cleo) = (app.user("asha").await, app.user("ben").await, app.user("cleo").await);
    let video = publish(&app, &asha, "Clip").await;
    let cleos = publish(&app, &cleo, "Cleo's").await;
    // Ben's thread on cleo's video with cleo's reply; cleo's thread with ben's reply.
    let bens_thread = id(&post(&app, &ben, &cleos, "Ben here", None).await);
    let cleos_reply = id(&post(&app, &cleo, &cleos, "Hi ben", Some(&bens_thread)).await);
    let cleos_thread = id(&post(&app, &cleo, &cleos, "Cleo here", None).await);
    let bens_reply = id(&post(&app, &ben, &cleos, "Hi cleo", Some(&cleos_thread)).await);
    let answer = post(&app, &cleo, &cleos, "@ben", Some(&bens_reply)).await;
    assert_eq!(answer["replyTo"]["_id"], ben.id.as_str());
    like(&app, &asha, &cleos_reply).await;

    // Ben's account goes: his thread with cleo's reply in it, and his reply in cleo's thread.
    let body = json!({"password": "pass-word"});
    app.json(Method::DELETE, "/users/account", Some(&ben), body).await.ok(200, "Account deleted successfully");
    let page = list(&app, &cleos, "", None).await;
    assert_eq!((ids(&page), page["totalDocs"].as_u64()), (vec![cleos_thread.clone()], Some(1)));
    assert_eq!(page["docs"][0]["repliesCount"], 1);
    let thread = replies(&app, &cleos_thread, "", None).await;
    assert_eq!(ids(&thread), [id(&answer)]);
    assert_eq!(thread["docs"][0]["replyTo"], Value::Null, "the answered account is gone");
    app.call(Method::POST, &format!("/likes/toggle/c/{cleos_reply}"), &asha).await.err(404, "Comment not found");

    // A deleted video takes every thread on it.
    let thread = id(&post(&app, &cleo, &video, "On asha's", None).await);
    let reply = id(&post(&app, &asha, &video, "Thanks", Some(&thread)).await);
    like(&app, &cleo, &reply).await;
    app.call(Method::DELETE, &format!("/videos/{video}"), &asha).await.ok(200, "Video deleted successfully");
    for gone in [&thread, &reply] {
        app.call(Method::POST, &format!("/likes/toggle/c/{gone}"), &cleo).await.err(404, "Comment not found");
    }
}

#[tokio::test]
async fn threads_follow_the_visibility_of_their_video_and_moderation() {
    let app = TestApp::spawn().await;
    let (asha, ben, cleo) = (app.user("asha").await, app.user("ben").await, app.user("cleo").await);
    let video = publish(&app, &asha, "Clip").await;
    let top = id(&post(&app, &asha, &video, "Welcome", None).await);
    let bens = id(&post(&app, &ben, &video, "Ben's reply", Some(&top)).await);
    post(&app, &cleo, &video, "Cleo's reply", Some(&top)).await;
    let count = async |who: Option<&Session>| list(&app, &video, "", who).await["docs"][0]["repliesCount"].clone();
    assert_eq!(count(None).await, 2);

    // A hidden reply is not counted, for anyone, and only its author still lists it.
    app.call(Method::POST, &format!("/users/blocks/{}", ben.id), &asha).await.ok(200, "User blocked");
    assert_eq!(count(None).await, 1);
    assert_eq!(count(Some(&ben)).await, 1);
    assert_eq!(replies(&app, &top, "", Some(&cleo)).await["totalDocs"], 1);
    let own = replies(&app, &top, "", Some(&ben)).await;
    assert_eq!((own["totalDocs"].as_u64(), own["docs"][0]["_id"].as_str()), (Some(2), Some(bens.as_str())));
    // The block also stops ben answering in asha's threads.
    comment(&app, &ben, &video, json!({"content": "again", "parentId": top}))
        .await
        .err(403, "You cannot comment on this channel");
    app.call(Method::DELETE, &format!("/users/blocks/{}", ben.id), &asha).await.ok(200, "User unblocked");
    assert_eq!(count(None).await, 2);
    app.grant("asha", "moderator").await;
    let removal = json!({"targetType": "comment", "targetId": bens, "action": "remove", "reason": "Spam"});
    app.json(Method::POST, "/moderation/actions", Some(&asha), removal).await.ok(200, "Moderation action recorded");
    assert_eq!(count(None).await, 1);

    // A private video: its threads are nobody's but the owner's.
    let private = json!({"visibility": "private"});
    app.json(Method::PATCH, &format!("/videos/{video}"), Some(&asha), private)
        .await
        .ok(200, "Video updated successfully");
    comment(&app, &cleo, &video, json!({"content": "hi", "parentId": top})).await.err(404, "Video not found");
    app.get(&format!("/comments/c/{top}/replies"), Some(&cleo)).await.err(404, "Comment not found");
    app.get(&format!("/comments/c/{top}/replies"), None).await.err(404, "Comment not found");
    assert_eq!(replies(&app, &top, "", Some(&asha)).await["totalDocs"], 1);
}

#[tokio::test]
async fn replies_count_stays_exact_under_concurrent_replies_and_deletions() {
    let app = TestApp::spawn().await;
    let (asha, ben) = (app.user("asha").await, app.user("ben").await);
    let video = publish(&app, &asha, "Clip").await;
    let top = id(&post(&app, &asha, &video, "Thread", None).await);
    let mut existing = Vec::new();
    for n in 0..10 {
        existing.push(id(&post(&app, &ben, &video, &format!("old {n}"), Some(&top)).await));
    }
    // 20 new replies and 10 deletions at once.
    let adds = (0..20).map(|n| {
        let (app, ben, video, top) = (&app, &ben, &video, &top);
        async move { post(app, ben, video, &format!("new {n}"), Some(top)).await }
    });
    let deletions = existing.iter().map(|reply| {
        let (app, ben) = (&app, &ben);
        async move {
            app.call(Method::DELETE, &format!("/comments/c/{reply}"), ben)
                .await
                .ok(200, "Comment deleted successfully");
        }
    });
    let (added, _) = tokio::join!(futures_util::future::join_all(adds), futures_util::future::join_all(deletions));
    assert_eq!(added.len(), 20);

    let page = list(&app, &video, "", None).await;
    assert_eq!(page["docs"][0]["repliesCount"], 20);
    assert_eq!(list(&app, &video, "?sort=top", None).await["docs"][0]["repliesCount"], 20);
    let thread = replies(&app, &top, "?limit=100", None).await;
    assert_eq!((thread["totalDocs"].as_u64(), thread["docs"].as_array().unwrap().len()), (Some(20), 20));
}
