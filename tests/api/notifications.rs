//! Notifications (X9, docs/api.md §3.17): the four types and who is (not) told, settings, what
//! removal and visibility do to lists and counts, read state, retention, and the live stream:
//! events, keep-alive, replay with `Last-Event-ID`, two server processes on one database, and a
//! published SSE client (httpx-sse, `tests/python/sse_client.py`).

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tempfile::TempDir;

use super::helpers::{
    PROCESSING_OFF, ServerProcess, Session, StoreBackend, TestApp, drop_mongodb_database, fresh_mongodb_database,
    http_client,
};

const UNKNOWN: &str = "6650a1b2c3d4e5f601234567";
/// How long a test waits for something that happens in the background (a fan-out, a poll).
const DEADLINE: Duration = Duration::from_secs(20);

fn id(value: &Value) -> String {
    value["_id"].as_str().unwrap().to_owned()
}

async fn list(app: &TestApp, who: &Session, query: &str) -> Value {
    app.get(&format!("/notifications{query}"), Some(who)).await.ok(200, "Notifications fetched successfully").clone()
}

/// `(type, actor username)` of the listed notifications, newest first.
async fn kinds(app: &TestApp, who: &Session) -> Vec<(String, String)> {
    let page = list(app, who, "?limit=50").await;
    page["docs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["type"].as_str().unwrap().to_owned(), n["actor"]["username"].as_str().unwrap().to_owned()))
        .collect()
}

async fn unread(app: &TestApp, who: &Session) -> i64 {
    let resp = app.get("/notifications/unread-count", Some(who)).await;
    resp.ok(200, "Unread count fetched successfully")["unread"].as_i64().unwrap()
}

/// Waits (bounded) until the list of `who` holds `n` notifications; returns the list.
async fn until_listed(app: &TestApp, who: &Session, n: usize) -> Vec<(String, String)> {
    let start = tokio::time::Instant::now();
    loop {
        let found = kinds(app, who).await;
        if found.len() >= n || start.elapsed() > DEADLINE {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn subscribe(app: &TestApp, who: &Session, channel: &Session) {
    app.call(Method::POST, &format!("/subscriptions/c/{}", channel.id), who).await.ok(200, "subscribed successfully");
}

async fn comment(app: &TestApp, who: &Session, video: &str, content: &str, parent: Option<&str>) -> String {
    let body = match parent {
        Some(parent) => json!({"content": content, "parentId": parent}),
        None => json!({"content": content}),
    };
    let resp = app.json(Method::POST, &format!("/comments/{video}"), Some(who), body).await;
    id(resp.ok(201, "Comment added successfully"))
}

fn pair(kind: &str, actor: &str) -> (String, String) {
    (kind.to_owned(), actor.to_owned())
}

/// Publishes a private video and makes it public later (a fan-out the test waits for).
async fn private_video(app: &TestApp, who: &Session, title: &str) -> String {
    let video = id(&app.publish(who, title).await);
    let body = json!({"visibility": "private"});
    app.json(Method::PATCH, &format!("/videos/{video}"), Some(who), body).await.ok(200, "Video updated successfully");
    video
}

#[tokio::test]
async fn routes_answer_their_statuses_and_messages() {
    let app = TestApp::spawn().await;
    let (asha, ben) = (app.user("asha").await, app.user("ben").await);
    for path in ["/notifications", "/notifications/unread-count", "/notifications/settings", "/notifications/stream"] {
        app.get(path, None).await.err(401, "Unauthorized request");
    }
    let page = list(&app, &asha, "").await;
    assert_eq!((page["docs"].clone(), page["totalDocs"].clone()), (json!([]), json!(0)));
    assert_eq!(unread(&app, &asha).await, 0);

    let settings = app.get("/notifications/settings", Some(&asha)).await;
    let all_on = json!({"newVideo": true, "comment": true, "reply": true, "subscriber": true});
    assert_eq!(settings.ok(200, "Notification settings fetched successfully"), &all_on);
    for (key, value) in
        [("newVideo", json!("yes")), ("comment", json!(1)), ("reply", json!([])), ("subscriber", json!({}))]
    {
        let resp = app.json(Method::PATCH, "/notifications/settings", Some(&asha), json!({ key: value })).await;
        resp.err(400, &format!("{key} must be true or false"));
    }
    let resp = app.json(Method::PATCH, "/notifications/settings", Some(&asha), json!({"reply": false})).await;
    let expected = json!({"newVideo": true, "comment": true, "reply": false, "subscriber": true});
    assert_eq!(resp.ok(200, "Notification settings updated"), &expected);
    let resp = app.json(Method::PATCH, "/notifications/settings", Some(&asha), json!({"reply": true})).await;
    assert_eq!(resp.ok(200, "Notification settings updated"), &all_on);
    let form =
        app.request(Method::PATCH, "/notifications/settings").bearer_auth(&asha.access).form(&[("comment", "false")]);
    assert_eq!(app.send(form).await.ok(200, "Notification settings updated")["comment"], false);

    app.call(Method::PATCH, "/notifications/x/read", &asha).await.err(400, "Invalid notificationId");
    app.call(Method::PATCH, &format!("/notifications/{UNKNOWN}/read"), &asha).await.err(404, "Notification not found");
    subscribe(&app, &ben, &asha).await;
    let theirs = id(&list(&app, &asha, "").await["docs"][0]);
    let path = format!("/notifications/{theirs}/read");
    app.call(Method::PATCH, &path, &ben).await.err(404, "Notification not found");
    assert_eq!(
        app.call(Method::PATCH, &path, &asha).await.ok(200, "Notification marked as read"),
        &json!({"unread": 0})
    );
    let all = app.call(Method::POST, "/notifications/read-all", &asha).await;
    assert_eq!(all.ok(200, "All notifications marked as read"), &json!({"unread": 0}));
}

#[tokio::test]
async fn each_type_is_told_to_its_recipient_and_never_of_ones_own_actions() {
    let app = TestApp::spawn().await;
    let (asha, ben) = (app.user("asha").await, app.user("ben").await);
    subscribe(&app, &ben, &asha).await;
    assert_eq!(kinds(&app, &asha).await, [pair("subscriber", "ben")]);

    let video = id(&app.publish(&asha, "Tide pools").await);
    assert_eq!(until_listed(&app, &ben, 1).await, [pair("new_video", "asha")]);
    let top = comment(&app, &ben, &video, "Lovely", None).await;
    let reply = comment(&app, &asha, &video, "Thanks!", Some(&top)).await;
    // Her own comment and her reply to herself tell nobody.
    let own = comment(&app, &asha, &video, "Pinned note", None).await;
    comment(&app, &asha, &video, "And more", Some(&own)).await;

    let page = list(&app, &asha, "").await;
    assert_eq!(page["totalDocs"], 2);
    let newest = &page["docs"][0];
    assert_eq!(newest["type"], "comment");
    assert_eq!(newest["actor"]["username"], "ben");
    assert_eq!(
        newest["video"],
        json!({"_id": video, "title": "Tide pools", "thumbnail": newest["video"]["thumbnail"]})
    );
    assert_eq!(newest["comment"], json!({"_id": top, "content": "Lovely"}));
    assert_eq!(newest["read"], false);
    assert!(newest["createdAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(page["docs"][1]["video"], Value::Null);
    assert_eq!(page["docs"][1]["comment"], Value::Null);

    let ben_page = list(&app, &ben, "").await;
    assert_eq!(ben_page["docs"][0]["type"], "reply");
    assert_eq!(ben_page["docs"][0]["comment"], json!({"_id": reply, "content": "Thanks!"}));
    assert_eq!(ben_page["docs"][1]["type"], "new_video");
    assert_eq!(ben_page["docs"][1]["video"]["_id"], video.as_str());
    assert_eq!(ben_page["docs"][1]["comment"], Value::Null);

    // A video made public later is told once, on its first change to public.
    let later = private_video(&app, &asha, "Later").await;
    assert_eq!(kinds(&app, &ben).await.len(), 2, "a private video tells nobody");
    let toggle = format!("/videos/toggle/publish/{later}");
    app.call(Method::PATCH, &toggle, &asha).await.ok(200, "Publish status toggled successfully");
    assert_eq!(until_listed(&app, &ben, 3).await[0], pair("new_video", "asha"));
    app.call(Method::PATCH, &toggle, &asha).await.ok(200, "Publish status toggled successfully");
    app.call(Method::PATCH, &toggle, &asha).await.ok(200, "Publish status toggled successfully");
    // Published again: nothing new (checked after a fan-out that does tell, below).
    let cleo = app.user("cleo").await;
    subscribe(&app, &cleo, &asha).await;
    app.publish(&asha, "Third").await;
    assert_eq!(until_listed(&app, &cleo, 1).await, [pair("new_video", "asha")], "only the new one");
    assert_eq!(kinds(&app, &ben).await.len(), 4);
}

#[tokio::test]
async fn blocks_and_settings_keep_notifications_from_being_created() {
    let app = TestApp::spawn().await;
    let (asha, ben, cleo) = (app.user("asha").await, app.user("ben").await, app.user("cleo").await);
    // Ben turns new videos off, Cleo blocks Asha: neither is told of Asha's new video.
    subscribe(&app, &ben, &asha).await;
    subscribe(&app, &cleo, &asha).await;
    let dan = app.user("dan").await;
    subscribe(&app, &dan, &asha).await;
    let off = json!({"newVideo": false});
    app.json(Method::PATCH, "/notifications/settings", Some(&ben), off).await.ok(200, "Notification settings updated");
    app.call(Method::POST, &format!("/users/blocks/{}", asha.id), &cleo).await.ok(200, "User blocked");
    let video = id(&app.publish(&asha, "Clip").await);
    // Dan, who is told, is the witness that the fan-out is over.
    assert_eq!(until_listed(&app, &dan, 1).await, [pair("new_video", "asha")]);
    assert_eq!(kinds(&app, &ben).await, []);
    assert_eq!(kinds(&app, &cleo).await, []);

    // Asha blocks Cleo: Cleo's actions no longer tell Asha (her reply to Asha's comment on Dan's
    // video), and what Cleo caused before leaves Asha's list (her subscription, which the block ended).
    app.call(Method::POST, &format!("/users/blocks/{}", cleo.id), &asha).await.ok(200, "User blocked");
    let dans = id(&app.publish(&dan, "Dan's").await);
    let ashas = comment(&app, &asha, &dans, "Nice", None).await;
    comment(&app, &cleo, &dans, "Agreed", Some(&ashas)).await;
    // Comments switched off: Ben's comment on Asha's video is not told either.
    let off = json!({"comment": false});
    app.json(Method::PATCH, "/notifications/settings", Some(&asha), off).await.ok(200, "Notification settings updated");
    comment(&app, &ben, &video, "Hi", None).await;
    assert_eq!(kinds(&app, &asha).await, [pair("subscriber", "dan"), pair("subscriber", "ben")]);
    // Switched back on, the next one is told.
    let on = json!({"comment": true});
    app.json(Method::PATCH, "/notifications/settings", Some(&asha), on).await.ok(200, "Notification settings updated");
    comment(&app, &ben, &video, "Hello again", None).await;
    assert_eq!(kinds(&app, &asha).await[0], pair("comment", "ben"));
}

#[tokio::test]
async fn notifications_leave_lists_and_counts_with_what_they_point_to() {
    let app = TestApp::spawn().await;
    let (asha, ben, cleo) = (app.user("asha").await, app.user("ben").await, app.user("cleo").await);
    subscribe(&app, &ben, &asha).await;
    subscribe(&app, &cleo, &asha).await;
    let kept = id(&app.publish(&asha, "Kept").await);
    let hidden = id(&app.publish(&asha, "Hidden").await);
    let deleted = id(&app.publish(&asha, "Deleted").await);
    assert_eq!(until_listed(&app, &ben, 3).await.len(), 3);
    let first = comment(&app, &ben, &kept, "One", None).await;
    comment(&app, &ben, &kept, "Two", None).await;
    comment(&app, &cleo, &kept, "Three", None).await;
    assert_eq!(unread(&app, &asha).await, 5, "two subscribers, three comments");

    // Deleted comment, unsubscription, a video made private and one deleted.
    app.call(Method::DELETE, &format!("/comments/c/{first}"), &ben).await.ok(200, "Comment deleted successfully");
    let path = format!("/subscriptions/c/{}", asha.id);
    app.call(Method::POST, &path, &cleo).await.ok(200, "unsubscribed successfully");
    assert_eq!(unread(&app, &asha).await, 3);
    let private = json!({"visibility": "private"});
    app.json(Method::PATCH, &format!("/videos/{hidden}"), Some(&asha), private)
        .await
        .ok(200, "Video updated successfully");
    app.call(Method::DELETE, &format!("/videos/{deleted}"), &asha).await.ok(200, "Video deleted successfully");
    let titles: Vec<Value> =
        list(&app, &ben, "").await["docs"].as_array().unwrap().iter().map(|n| n["video"]["title"].clone()).collect();
    assert_eq!(titles, [json!("Kept")]);
    assert_eq!(unread(&app, &ben).await, 1);
    // Visible again, it is listed again.
    let public = json!({"visibility": "public"});
    app.json(Method::PATCH, &format!("/videos/{hidden}"), Some(&asha), public)
        .await
        .ok(200, "Video updated successfully");
    assert_eq!(unread(&app, &ben).await, 2);

    // A suspended actor's notifications go from lists and counts while the suspension stands.
    app.grant("asha", "admin").await;
    let suspend = json!({"targetType": "user", "targetId": cleo.id, "action": "suspend", "reason": "Spam"});
    app.json(Method::POST, "/moderation/actions", Some(&asha), suspend).await.ok(200, "Moderation action recorded");
    assert_eq!(kinds(&app, &asha).await, [pair("comment", "ben"), pair("subscriber", "ben")]);
    assert_eq!((unread(&app, &asha).await, list(&app, &asha, "").await["totalDocs"].clone()), (2, json!(2)));
    let lift = json!({"targetType": "user", "targetId": cleo.id, "action": "unsuspend", "reason": "Appeal"});
    app.json(Method::POST, "/moderation/actions", Some(&asha), lift).await.ok(200, "Moderation action recorded");
    assert_eq!(kinds(&app, &asha).await[0], pair("comment", "cleo"));
    assert_eq!(unread(&app, &asha).await, 3);

    // A blocked actor's notifications go from the blocker's lists and counts, and come back.
    let block = format!("/users/blocks/{}", cleo.id);
    app.call(Method::POST, &block, &asha).await.ok(200, "User blocked");
    assert_eq!((unread(&app, &asha).await, list(&app, &asha, "").await["totalDocs"].clone()), (2, json!(2)));
    app.call(Method::DELETE, &block, &asha).await.ok(200, "User unblocked");
    assert_eq!((unread(&app, &asha).await, list(&app, &asha, "").await["totalDocs"].clone()), (3, json!(3)));

    // Deleting an account takes its notifications and those it caused.
    app.json(Method::DELETE, "/users/account", Some(&ben), json!({"password": "pass-word"}))
        .await
        .ok(200, "Account deleted successfully");
    assert_eq!(kinds(&app, &asha).await, [pair("comment", "cleo")]);
}

/// Whether the kept totals of `who` equal what the lists show: `totalDocs` the listed
/// notifications, the unread count and the unread list's total the listed unread ones.
async fn totals_match_lists(app: &TestApp, who: &Session, when: &str) {
    let page = list(app, who, "?limit=100").await;
    let docs = page["docs"].as_array().unwrap();
    let unread_listed = docs.iter().filter(|n| n["read"] == false).count() as i64;
    assert_eq!(page["totalDocs"], json!(docs.len()), "{} after {when}", who.id);
    assert_eq!(unread(app, who).await, unread_listed, "{} after {when}", who.id);
    assert_eq!(list(app, who, "?unread=true").await["totalDocs"], json!(unread_listed), "{} after {when}", who.id);
}

/// A small deterministic generator (xorshift), so a failure names a step that repeats.
struct Steps(u64);

impl Steps {
    fn pick(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The totals kept apart from the lists (a stored `shown` per notification and counts per
/// recipient on both stores, D25) equal the lists, decided when read, through changes of
/// everything that decides them: a video's level, a suspension, a block, a comment removed, read
/// marks, new comments and deletions, made one by one and then at once.
#[tokio::test]
async fn kept_totals_equal_the_lists_through_changes_of_their_targets() {
    let app = TestApp::spawn().await;
    let (asha, ben, cleo, dan) =
        (app.user("asha").await, app.user("ben").await, app.user("cleo").await, app.user("dan").await);
    let mona = app.user("mona").await;
    app.grant("mona", "admin").await;
    for who in [&ben, &cleo, &dan] {
        subscribe(&app, who, &asha).await;
    }
    subscribe(&app, &asha, &ben).await;
    let videos = [
        (id(&app.publish(&asha, "A one").await), &asha),
        (id(&app.publish(&asha, "A two").await), &asha),
        (id(&app.publish(&ben, "B one").await), &ben),
    ];
    until_listed(&app, &ben, 4).await;
    until_listed(&app, &asha, 4).await;
    let mut comments = Vec::new();
    for (video, _) in &videos[..2] {
        for who in [&ben, &cleo, &dan] {
            let top = comment(&app, who, video, "Nice", None).await;
            comments.push(comment(&app, &asha, video, "Thanks", Some(&top)).await);
            comments.push(top);
        }
    }
    comments.push(comment(&app, &cleo, &videos[2].0, "Mine", None).await);
    comments.push(comment(&app, &dan, &videos[2].0, "Reply", Some(&comments[comments.len() - 1])).await);
    let first_of_ben = comments[1].clone();
    comments.push(comment(&app, &cleo, &videos[0].0, "Also", Some(&first_of_ben)).await);
    // Eve only comments, replies and subscribes, then deletes her account at the end.
    let eve = app.user("eve").await;
    subscribe(&app, &eve, &asha).await;
    subscribe(&app, &eve, &ben).await;
    comment(&app, &eve, &videos[1].0, "Hello", None).await;
    comment(&app, &eve, &videos[0].0, "Agreed", Some(&first_of_ben)).await;
    let (watched, suspendable) = ([&asha, &ben], [&cleo, &dan]);
    for who in watched {
        totals_match_lists(&app, who, "setup").await;
    }

    let levels = ["public", "unlisted", "private"];
    let action = |step: usize, choice: usize, extra: usize| {
        let (app, videos, comments, mona) = (&app, &videos, &comments, &mona);
        let (watched, suspendable) = (watched, suspendable);
        async move {
            match step {
                0 => {
                    let (video, owner) = &videos[choice % videos.len()];
                    let body = json!({"visibility": levels[extra % 3]});
                    app.json(Method::PATCH, &format!("/videos/{video}"), Some(owner), body).await;
                }
                1 => {
                    let who = suspendable[choice % 2];
                    let action = if extra.is_multiple_of(2) { "suspend" } else { "unsuspend" };
                    let body = json!({"targetType": "user", "targetId": who.id, "action": action, "reason": "Test"});
                    app.json(Method::POST, "/moderation/actions", Some(mona), body).await;
                }
                2 => {
                    let blocker = watched[choice % 2];
                    let blocked = suspendable[extra % 2];
                    let method = if (choice / 2).is_multiple_of(2) { Method::POST } else { Method::DELETE };
                    app.call(method, &format!("/users/blocks/{}", blocked.id), blocker).await;
                }
                3 => {
                    let target = &comments[choice % comments.len()];
                    let action = if extra.is_multiple_of(2) { "remove" } else { "restore" };
                    let body = json!({"targetType": "comment", "targetId": target, "action": action, "reason": "Test"});
                    app.json(Method::POST, "/moderation/actions", Some(mona), body).await;
                }
                4 => {
                    let who = watched[choice % 2];
                    let page = list(app, who, "?limit=100").await;
                    if let Some(n) = page["docs"].as_array().unwrap().get(extra % 7) {
                        app.call(Method::PATCH, &format!("/notifications/{}/read", id(n)), who).await;
                    }
                }
                5 => {
                    app.call(Method::POST, "/notifications/read-all", watched[choice % 2]).await;
                }
                _ => {
                    // A comment or a reply by anyone (refused while suspended or the video is
                    // private: the refusal changes nothing).
                    let who = [watched[0], watched[1], suspendable[0], suspendable[1]][choice % 4];
                    let (video, _) = &videos[extra % videos.len()];
                    let body = match extra % 3 {
                        0 => json!({"content": "Later", "parentId": comments[choice % comments.len()]}),
                        _ => json!({"content": "Later"}),
                    };
                    app.json(Method::POST, &format!("/comments/{video}"), Some(who), body).await;
                }
            }
        }
    };
    let mut steps = Steps(0x5eed_cafe_d00d_f00d);
    for n in 0..40 {
        let (step, choice, extra) = (steps.pick(7), steps.pick(64), steps.pick(64));
        action(step, choice, extra).await;
        for who in watched {
            totals_match_lists(&app, who, &format!("step {n}: {step}/{choice}/{extra}")).await;
        }
    }
    let at_once: Vec<(usize, usize, usize)> =
        (0..16).map(|_| (steps.pick(7), steps.pick(64), steps.pick(64))).collect();
    futures_util::future::join_all(at_once.into_iter().map(|(step, choice, extra)| action(step, choice, extra))).await;
    for who in watched {
        totals_match_lists(&app, who, "changes at once").await;
    }

    // Deleting a comment and a video takes their notifications from lists and totals alike.
    app.call(Method::DELETE, &format!("/comments/c/{first_of_ben}"), &ben).await;
    app.call(Method::DELETE, &format!("/videos/{}", videos[0].0), &asha).await;
    app.json(Method::DELETE, "/users/account", Some(&eve), json!({"password": "pass-word"}))
        .await
        .ok(200, "Account deleted successfully");
    for who in watched {
        totals_match_lists(&app, who, "deletions").await;
    }
}

/// Waits (bounded) until the unread count of `who` is `n`.
async fn until_unread(app: &TestApp, who: &Session, n: i64) -> i64 {
    let start = tokio::time::Instant::now();
    loop {
        let found = unread(app, who).await;
        if found == n || start.elapsed() > DEADLINE {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// On MongoDB, a change touching more notifications than a request settles itself is settled in
/// the background (lists are right at once, totals follow); a wrong count is repaired by the
/// maintenance task; a database whose notifications were never settled (written before, or by
/// `migrate`) gets them settled and counted at startup.
#[tokio::test]
async fn mongodb_settles_large_changes_in_the_background_and_repairs_counts() {
    let app = TestApp::builder().env("MEDIA_RECONCILE_INTERVAL_SECS", "1").spawn().await;
    let Some(uri) = app.mongodb.clone() else { return };
    let (asha, ben) = (app.user("asha").await, app.user("ben").await);
    let video = id(&app.publish(&asha, "Popular").await);
    let options = mongodb::options::ClientOptions::parse(&uri).await.unwrap();
    let name = videotube::store::mongo::database_name(&options);
    let db = mongodb::Client::with_options(options).unwrap().database(&name);
    // The recipient's totals are kept in their notification settings document.
    let (notifications, settings) =
        (db.collection::<bson::Document>("notifications"), db.collection::<bson::Document>("notificationSettings"));
    let oid = |id: &str| bson::oid::ObjectId::parse_str(id).unwrap();
    // 600 announcements of the video to ben, stored and counted as the server stores them.
    let many = 600;
    let at = bson::DateTime::now();
    let stored: Vec<bson::Document> = (0..many)
        .map(|_| {
            bson::doc! {
                "recipient": oid(&ben.id), "type": "new_video", "actor": oid(&asha.id), "video": oid(&video),
                "comment": null, "read": false, "createdAt": at, "shown": true, "shownAt": at,
            }
        })
        .collect();
    notifications.insert_many(stored).await.unwrap();
    let counts = bson::doc! { "$inc": { "notificationsShown": many, "notificationsUnread": many } };
    settings.update_one(bson::doc! { "_id": oid(&ben.id) }, counts).upsert(true).await.unwrap();
    assert_eq!(unread(&app, &ben).await, many);

    let private = json!({"visibility": "private"});
    app.json(Method::PATCH, &format!("/videos/{video}"), Some(&asha), private)
        .await
        .ok(200, "Video updated successfully");
    assert_eq!(list(&app, &ben, "").await["docs"], json!([]), "lists decide when read");
    assert_eq!(until_unread(&app, &ben, 0).await, 0, "the queued change is settled in the background");
    assert_eq!(list(&app, &ben, "").await["totalDocs"], 0);
    let public = json!({"visibility": "public"});
    app.json(Method::PATCH, &format!("/videos/{video}"), Some(&asha), public)
        .await
        .ok(200, "Video updated successfully");
    assert_eq!(until_unread(&app, &ben, many).await, many);
    let queue = db.collection::<bson::Document>("notificationRefreshes");
    let start = tokio::time::Instant::now();
    while queue.count_documents(bson::doc! {}).await.unwrap() > 0 {
        assert!(start.elapsed() < DEADLINE, "the settled changes leave the queue");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A count a crash left wrong is corrected by the maintenance task.
    settings
        .update_one(bson::doc! { "_id": oid(&ben.id) }, bson::doc! { "$set": { "notificationsUnread": 7 } })
        .await
        .unwrap();
    assert_eq!(unread(&app, &ben).await, 7, "the corrupted count is what the API reads");
    assert_eq!(until_unread(&app, &ben, many).await, many, "the maintenance task corrects it");

    // Notifications never settled and counts never built (a database from before they were kept).
    notifications.update_many(bson::doc! {}, bson::doc! { "$unset": { "shown": "", "shownAt": "" } }).await.unwrap();
    let unset = bson::doc! { "$unset": { "notificationsShown": "", "notificationsUnread": "" } };
    settings.update_many(bson::doc! {}, unset).await.unwrap();
    let built = bson::doc! { "$set": { "built": true } };
    db.collection::<bson::Document>("counters").update_one(bson::doc! { "_id": "site" }, built).await.unwrap();
    let second = TestApp::builder().store(StoreBackend::Sqlite).env("MONGODB_URI", &uri).spawn().await;
    let data = second.login("ben", "pass-word").await.ok(200, "User logged In Successfully").clone();
    let ben = Session { access: data["accessToken"].as_str().unwrap().to_owned(), ..ben };
    assert_eq!(unread(&second, &ben).await, many);
    assert_eq!(list(&second, &ben, "?limit=1").await["totalDocs"], many);
}

#[tokio::test]
async fn unread_counts_follow_marking_read() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    for name in ["ben", "cleo", "dan"] {
        let who = app.user(name).await;
        subscribe(&app, &who, &asha).await;
    }
    assert_eq!(unread(&app, &asha).await, 3);
    let page = list(&app, &asha, "?limit=2").await;
    assert_eq!((page["totalDocs"].clone(), page["docs"].as_array().unwrap().len()), (json!(3), 2));
    let newest = id(&page["docs"][0]);
    let marked = app.call(Method::PATCH, &format!("/notifications/{newest}/read"), &asha).await;
    assert_eq!(marked.ok(200, "Notification marked as read"), &json!({"unread": 2}));
    let unread_page = list(&app, &asha, "?unread=true").await;
    assert_eq!(unread_page["totalDocs"], 2);
    assert!(unread_page["docs"].as_array().unwrap().iter().all(|n| n["read"] == false && id(n) != newest));
    assert_eq!(list(&app, &asha, "").await["docs"][0]["read"], true);
    let all = app.call(Method::POST, "/notifications/read-all", &asha).await;
    assert_eq!(all.ok(200, "All notifications marked as read"), &json!({"unread": 0}));
    assert_eq!(list(&app, &asha, "?unread=true").await["totalDocs"], 0);
    assert_eq!(list(&app, &asha, "").await["totalDocs"], 3);
}

#[tokio::test]
async fn the_maintenance_sweep_deletes_notifications_past_their_retention() {
    // A retention of 0 days: whatever the sweep finds is past it.
    let app = TestApp::builder()
        .env("NOTIFICATION_RETENTION_DAYS", "0")
        .env("MEDIA_RECONCILE_INTERVAL_SECS", "1")
        .spawn()
        .await;
    let (asha, ben) = (app.user("asha").await, app.user("ben").await);
    subscribe(&app, &ben, &asha).await;
    let start = tokio::time::Instant::now();
    while !kinds(&app, &asha).await.is_empty() && start.elapsed() < DEADLINE {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(kinds(&app, &asha).await, [], "swept");
    assert_eq!(unread(&app, &asha).await, 0);
}

/// An open event stream, read line by line.
struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

/// One block of an event stream: its comment lines and fields.
#[derive(Debug, Default)]
struct Block {
    comments: Vec<String>,
    id: Option<String>,
    event: Option<String>,
    data: Option<Value>,
}

impl EventStream {
    async fn open(base: &str, token: &str, last_event: Option<&str>) -> Self {
        let mut request = http_client().get(format!("{base}/api/v1/notifications/stream")).bearer_auth(token);
        if let Some(last) = last_event {
            request = request.header("Last-Event-ID", last);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let mut stream = EventStream { response, buffer: String::new() };
        assert_eq!(stream.next().await.comments, ["connected"], "the first block says the stream is open");
        stream
    }

    /// The next block, within the deadline.
    async fn next(&mut self) -> Block {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let text: String = self.buffer.drain(..end + 2).collect();
                let mut block = Block::default();
                for line in text.lines() {
                    match line.split_once(':') {
                        Some(("", comment)) => block.comments.push(comment.trim().to_owned()),
                        Some(("id", v)) => block.id = Some(v.trim().to_owned()),
                        Some(("event", v)) => block.event = Some(v.trim().to_owned()),
                        Some(("data", v)) => block.data = Some(serde_json::from_str(v.trim()).unwrap()),
                        _ => {}
                    }
                }
                return block;
            }
            let chunk =
                tokio::time::timeout(DEADLINE, self.response.chunk()).await.expect("an event within the deadline");
            let chunk = chunk.unwrap().expect("the stream stays open");
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next notification event, skipping keep-alive comments.
    async fn notification(&mut self) -> Block {
        loop {
            let block = self.next().await;
            if block.event.is_some() {
                assert_eq!(block.event.as_deref(), Some("notification"));
                assert_eq!(block.id.as_deref(), block.data.as_ref().unwrap()["_id"].as_str());
                return block;
            }
        }
    }
}

#[tokio::test]
async fn the_stream_sends_each_new_notification_and_keeps_alive() {
    let app = TestApp::builder().env("NOTIFICATION_KEEPALIVE_SECS", "1").spawn().await;
    let (asha, ben) = (app.user("asha").await, app.user("ben").await);
    let base = app.url("").trim_end_matches("/api/v1").to_owned();
    let mut stream = EventStream::open(&base, &asha.access, None).await;
    // Ben's own stream sees none of Asha's notifications.
    let mut bens = EventStream::open(&base, &ben.access, None).await;

    subscribe(&app, &ben, &asha).await;
    let event = stream.notification().await;
    let data = event.data.unwrap();
    assert_eq!((data["type"].clone(), data["actor"]["username"].clone()), (json!("subscriber"), json!("ben")));
    assert_eq!(data, list(&app, &asha, "").await["docs"][0]);

    let video = id(&app.publish(&asha, "Clip").await);
    let top = comment(&app, &ben, &video, "Hello", None).await;
    let data = stream.notification().await.data.unwrap();
    assert_eq!((data["type"].clone(), data["comment"]["_id"].clone()), (json!("comment"), json!(top)));
    let reply = comment(&app, &asha, &video, "Hi!", Some(&top)).await;
    let data = bens.notification().await.data.unwrap();
    // Ben's first is the new video (fanned out in the background), then the reply.
    let data = if data["type"] == "new_video" { bens.notification().await.data.unwrap() } else { data };
    assert_eq!((data["type"].clone(), data["comment"]["_id"].clone()), (json!("reply"), json!(reply)));

    // Idle, the stream gets comment lines.
    let idle = stream.next().await;
    assert_eq!((idle.comments, idle.event), (vec!["keep-alive".to_owned()], None));
}

#[tokio::test]
async fn a_reconnect_replays_the_notifications_after_last_event_id() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    for name in ["ben", "cleo", "dan"] {
        let who = app.user(name).await;
        subscribe(&app, &who, &asha).await;
    }
    let page = list(&app, &asha, "").await;
    let ids: Vec<String> = page["docs"].as_array().unwrap().iter().map(id).collect();
    let base = app.url("").trim_end_matches("/api/v1").to_owned();
    let mut stream = EventStream::open(&base, &asha.access, Some(&ids[2])).await;
    let replayed = [stream.notification().await.id.unwrap(), stream.notification().await.id.unwrap()];
    assert_eq!(replayed, [ids[1].clone(), ids[0].clone()], "oldest first, after the last one received");
    // Then live ones.
    let eve = app.user("eve").await;
    subscribe(&app, &eve, &asha).await;
    assert_eq!(stream.notification().await.data.unwrap()["actor"]["username"], "eve");
    // An id that is not a notification of the caller's replays nothing.
    let mut fresh = EventStream::open(&base, &asha.access, Some(UNKNOWN)).await;
    let frank = app.user("frank").await;
    subscribe(&app, &frank, &asha).await;
    assert_eq!(fresh.notification().await.data.unwrap()["actor"]["username"], "frank");
}

/// Two server processes on one database, sharing token secrets: on MongoDB (`TEST_MONGODB_URI`)
/// one fresh database; on SQLite one DATA_DIR (WAL lets two processes share the file).
struct Instances {
    servers: [ServerProcess; 2],
    _dirs: Vec<TempDir>,
    uri: Option<String>,
}

impl Drop for Instances {
    fn drop(&mut self) {
        if let Some(uri) = &self.uri {
            drop_mongodb_database(uri);
        }
    }
}

impl Instances {
    async fn start() -> Self {
        let (access, refresh) = ("a".repeat(64), "r".repeat(64));
        let uri = fresh_mongodb_database();
        let shared = tempfile::tempdir().unwrap();
        let data = shared.path().join("data");
        let data = data.to_str().unwrap().to_owned();
        let mut vars = vec![
            ("BCRYPT_COST", "4"),
            ("ACCESS_TOKEN_SECRET", access.as_str()),
            ("REFRESH_TOKEN_SECRET", refresh.as_str()),
            ("RATE_LIMIT_ENABLED", "false"),
            PROCESSING_OFF,
        ];
        let dirs = vec![tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), shared];
        match &uri {
            Some(uri) => vars.extend([("MONGODB_URI", uri.as_str()), ("DATA_DIR", "data")]),
            None => vars.push(("DATA_DIR", data.as_str())),
        }
        let first = ServerProcess::start(dirs[0].path(), &vars).await.expect("first instance starts");
        let second = ServerProcess::start(dirs[1].path(), &vars).await.expect("second instance starts");
        Instances { servers: [first, second], _dirs: dirs, uri }
    }

    fn url(&self, instance: usize, path: &str) -> String {
        format!("{}/api/v1{path}", self.servers[instance].base)
    }

    /// Registers on one instance and logs in on the other; (id, access token).
    async fn user(&self, username: &str) -> (String, String) {
        let client = http_client();
        let form = TestApp::registration_form(username);
        let resp = client.post(self.url(0, "/users/register")).multipart(form).send().await.unwrap();
        assert_eq!(resp.status(), 201);
        let body = json!({"username": username, "password": "pass-word"});
        let login: Value =
            client.post(self.url(1, "/users/login")).json(&body).send().await.unwrap().json().await.unwrap();
        let field = |v: &Value| v.as_str().unwrap().to_owned();
        (field(&login["data"]["user"]["_id"]), field(&login["data"]["accessToken"]))
    }

    async fn send(&self, instance: usize, method: Method, path: &str, token: &str, body: Option<Value>) -> Value {
        let mut request = http_client().request(method, self.url(instance, path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let resp = request.send().await.unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap()
    }

    async fn publish(&self, instance: usize, token: &str) -> String {
        let form = TestApp::video_form("Clip", super::fixtures::mp4(25), "clip.mp4");
        let resp = http_client().post(self.url(instance, "/videos")).bearer_auth(token).multipart(form).send().await;
        let body: Value = resp.unwrap().json().await.unwrap();
        id(&body["data"])
    }
}

#[tokio::test]
async fn a_notification_reaches_a_stream_on_another_instance() {
    let instances = Instances::start().await;
    let (_, asha) = instances.user("asha").await;
    let (_, ben) = instances.user("ben").await;
    let video = instances.publish(0, &asha).await;
    let top =
        instances.send(0, Method::POST, &format!("/comments/{video}"), &ben, Some(json!({"content": "Hi"}))).await;
    let top = id(&top["data"]);

    // Ben listens on instance 0; Asha's reply is handled by instance 1.
    let mut stream = EventStream::open(&instances.servers[0].base, &ben, None).await;
    let body = json!({"content": "Hello Ben", "parentId": top});
    let reply = instances.send(1, Method::POST, &format!("/comments/{video}"), &asha, Some(body)).await;
    let event = stream.notification().await;
    let data = event.data.unwrap();
    assert_eq!((data["type"].clone(), data["comment"]["_id"].clone()), (json!("reply"), reply["data"]["_id"].clone()));
    assert_eq!(data["actor"]["username"], "asha");
}

/// Python with httpx-sse, when installed (`.ci/run` installs `.ci/requirements.txt`; elsewhere the
/// test says it was skipped).
async fn python_with_httpx_sse() -> bool {
    let probe = tokio::process::Command::new("python3").args(["-c", "import httpx_sse"]).output().await;
    probe.is_ok_and(|out| out.status.success())
}

#[tokio::test]
async fn a_published_sse_client_sees_a_reply_arrive() {
    if !python_with_httpx_sse().await {
        eprintln!("SKIPPED: python3 with httpx-sse is not installed (.ci/run installs .ci/requirements.txt)");
        return;
    }
    let app = TestApp::spawn().await;
    let (asha, ben) = (app.user("asha").await, app.user("ben").await);
    let video = id(&app.publish(&asha, "Clip").await);
    let top = comment(&app, &ben, &video, "First", None).await;

    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/sse_client.py");
    let mut client = tokio::process::Command::new("python3")
        .arg(script)
        .args([app.url("/notifications/stream").as_str(), ben.access.as_str(), "20"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(client.stdout.take().unwrap()));
    let ready: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    assert_eq!(ready, json!({"ready": true, "contentType": "text/event-stream"}));

    let reply = comment(&app, &asha, &video, "Thanks Ben", Some(&top)).await;
    let line = tokio::time::timeout(DEADLINE, lines.next_line()).await.expect("the client prints the event");
    let event: Value = serde_json::from_str(&line.unwrap().unwrap()).unwrap();
    assert_eq!(event["event"], "notification");
    assert_eq!(event["data"]["type"], "reply");
    assert_eq!(event["data"]["comment"], json!({"_id": reply, "content": "Thanks Ben"}));
    assert_eq!(event["id"], event["data"]["_id"]);
    assert!(client.wait().await.unwrap().success());
}
