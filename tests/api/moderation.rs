//! Moderation (docs/api.md §3.15): roles and the CLI that gives the first one, on the store the
//! suite runs on.

use reqwest::Method;
use serde_json::json;

use super::helpers::{Session, TestApp};

const INVALID_ROLE: &str = "role must be one of user, moderator, admin";

async fn set_role(
    app: &TestApp,
    caller: Option<&Session>,
    user_id: &str,
    body: serde_json::Value,
) -> super::helpers::Resp {
    app.json(Method::PATCH, &format!("/admin/users/{user_id}/role"), caller, body).await
}

async fn role_of(app: &TestApp, session: &Session) -> String {
    let resp = app.get("/users/current-user", Some(session)).await;
    resp.ok(200, "User fetched successfully")["role"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_first_admin_is_made_on_the_server_machine() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    assert_eq!(role_of(&app, &alice).await, "user", "every account starts as a user");

    let output = app.admin_command(&["grant", "Alice", "admin"]).await;
    assert!(output.status.success(), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), format!("{} admin", alice.id));
    assert_eq!(role_of(&app, &alice).await, "admin", "the running server sees the new role at once");

    let output = app.admin_command(&["grant", "nobody", "moderator"]).await;
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("User not found"));

    let output = app.admin_command(&["grant", "alice", "boss"]).await;
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains(INVALID_ROLE));

    let output = app.admin_command(&["grant", "alice", "user"]).await;
    assert!(!output.status.success(), "the last admin stays");
    assert!(String::from_utf8_lossy(&output.stderr).contains("At least one admin must remain"));
    assert_eq!(role_of(&app, &alice).await, "admin");
}

#[tokio::test]
async fn only_an_admin_gives_roles_with_errors_in_order() {
    let app = TestApp::spawn().await;
    let (alice, bob, carol) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);
    app.grant("alice", "admin").await;
    app.grant("carol", "moderator").await;

    set_role(&app, None, &bob.id, json!({"role": "moderator"})).await.err(401, "Unauthorized request");
    for caller in [&bob, &carol] {
        // The role is checked before anything the route reads.
        set_role(&app, Some(caller), "nope", json!({"role": "boss"})).await.err(403, "Admin role required");
        set_role(&app, Some(caller), &bob.id, json!({"role": "admin"})).await.err(403, "Admin role required");
    }
    set_role(&app, Some(&alice), "nope", json!({"role": "boss"})).await.err(400, "Invalid userId");
    for body in [json!({"role": "boss"}), json!({"role": "Admin"}), json!({}), json!({"role": ""})] {
        set_role(&app, Some(&alice), &bob.id, body).await.err(400, INVALID_ROLE);
    }
    set_role(&app, Some(&alice), "0123456789abcdef01234567", json!({"role": "boss"})).await.err(400, INVALID_ROLE);
    set_role(&app, Some(&alice), "0123456789abcdef01234567", json!({"role": "moderator"}))
        .await
        .err(404, "User not found");

    let resp = set_role(&app, Some(&alice), &bob.id, json!({"role": "moderator"})).await;
    let data = resp.ok(200, "Role updated successfully");
    assert_eq!(data, &json!({"_id": bob.id, "username": "bob", "role": "moderator"}));
    assert_eq!(role_of(&app, &bob).await, "moderator", "the same token carries the new role");

    set_role(&app, Some(&alice), &alice.id, json!({"role": "moderator"}))
        .await
        .err(409, "At least one admin must remain");
    set_role(&app, Some(&alice), &bob.id, json!({"role": "admin"})).await.ok(200, "Role updated successfully");
    set_role(&app, Some(&alice), &alice.id, json!({"role": "user"})).await.ok(200, "Role updated successfully");
    set_role(&app, Some(&alice), &carol.id, json!({"role": "user"})).await.err(403, "Admin role required");
    set_role(&app, Some(&bob), &carol.id, json!({"role": "user"})).await.ok(200, "Role updated successfully");
    assert_eq!(role_of(&app, &carol).await, "user");
}

#[tokio::test]
async fn the_role_shows_on_the_callers_own_record_only() {
    let app = TestApp::spawn().await;
    let registered = app.register("dana").await;
    assert_eq!(registered["role"], "user");
    app.grant("dana", "moderator").await;
    let login = app.login("dana", "pass-word").await;
    assert_eq!(login.ok(200, "User logged In Successfully")["user"]["role"], "moderator");
    let viewer = app.user("erin").await;
    let profile = app.get("/users/c/dana", Some(&viewer)).await;
    let profile = profile.ok(200, "User channel fetched successfully");
    assert!(profile.get("role").is_none(), "a channel profile never shows a role: {profile}");
}

#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_one() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    for _ in 0..5 {
        app.grant("alice", "admin").await;
        app.grant("bob", "admin").await;
        let (a, b) = tokio::join!(
            set_role(&app, Some(&alice), &bob.id, json!({"role": "user"})),
            set_role(&app, Some(&bob), &alice.id, json!({"role": "user"})),
        );
        let statuses = [a.status.as_u16(), b.status.as_u16()];
        assert!(statuses.iter().all(|s| [200, 403, 409].contains(s)), "{statuses:?}");
        let admins = [role_of(&app, &alice).await, role_of(&app, &bob).await];
        let left = admins.iter().filter(|r| *r == "admin").count();
        let demoted = statuses.iter().filter(|s| **s == 200).count();
        assert_eq!(left, 2 - demoted, "each 200 demoted one: statuses {statuses:?}, roles {admins:?}");
        assert!(left >= 1, "an admin remains: statuses {statuses:?}");
    }
}

async fn report(app: &TestApp, caller: Option<&Session>, body: serde_json::Value) -> super::helpers::Resp {
    app.json(Method::POST, "/reports", caller, body).await
}

const INVALID_TARGET_TYPE: &str = "targetType must be one of video, comment, tweet, user";
const INVALID_REASON: &str =
    "reason must be one of spam, harassment, hate, violence, sexual, copyright, misinformation, other";

/// Ben's public video, his private one, his comment on the public one and his tweet.
struct Content {
    video: String,
    private_video: String,
    comment: String,
    tweet: String,
}

async fn content_of(app: &TestApp, ben: &Session) -> Content {
    let video = app.publish(ben, "Loud").await["_id"].as_str().unwrap().to_owned();
    let private_video = app.publish(ben, "Mine").await["_id"].as_str().unwrap().to_owned();
    let private = json!({"visibility": "private"});
    app.json(Method::PATCH, &format!("/videos/{private_video}"), Some(ben), private)
        .await
        .ok(200, "Video updated successfully");
    let comment = app.json(Method::POST, &format!("/comments/{video}"), Some(ben), json!({"content": "first"})).await;
    let comment = comment.ok(201, "Comment added successfully")["_id"].as_str().unwrap().to_owned();
    let tweet = app.json(Method::POST, "/tweets", Some(ben), json!({"content": "hello"})).await;
    let tweet = tweet.ok(201, "Tweet created successfully")["_id"].as_str().unwrap().to_owned();
    Content { video, private_video, comment, tweet }
}

#[tokio::test]
async fn a_report_checks_its_input_then_its_target_in_order() {
    let app = TestApp::spawn().await;
    let (asha, ben) = (app.user("asha").await, app.user("ben").await);
    let c = content_of(&app, &ben).await;
    let video = |id: &str| json!({"targetType": "video", "targetId": id, "reason": "spam"});

    report(&app, None, video(&c.video)).await.err(401, "Unauthorized request");
    for body in [json!({}), json!({"targetType": "Video", "targetId": "x"}), json!({"targetType": "clip"})] {
        report(&app, Some(&asha), body).await.err(400, INVALID_TARGET_TYPE);
    }
    for id in [json!("nope"), json!(""), json!(null), json!("6650a1b2c3d4e5f60123456")] {
        let body = json!({"targetType": "video", "targetId": id, "reason": "boring"});
        report(&app, Some(&asha), body).await.err(400, "Invalid targetId");
    }
    for reason in [json!(null), json!("boring"), json!("SPAM")] {
        let body = json!({"targetType": "video", "targetId": UNKNOWN, "reason": reason, "details": "x".repeat(2000)});
        report(&app, Some(&asha), body).await.err(400, INVALID_REASON);
    }
    for details in [json!(null), json!("   ")] {
        let body = json!({"targetType": "video", "targetId": UNKNOWN, "reason": "other", "details": details});
        report(&app, Some(&asha), body).await.err(400, "Details are required when the reason is other");
    }
    let body = json!({"targetType": "video", "targetId": UNKNOWN, "reason": "hate", "details": "é".repeat(1001)});
    report(&app, Some(&asha), body).await.err(400, "Details must be at most 1000 characters");

    for (kind, message) in [
        ("video", "Video not found"),
        ("comment", "Comment not found"),
        ("tweet", "Tweet not found"),
        ("user", "User not found"),
    ] {
        let body = json!({"targetType": kind, "targetId": UNKNOWN, "reason": "spam"});
        report(&app, Some(&asha), body).await.err(404, message);
    }
    report(&app, Some(&asha), video(&c.private_video)).await.err(404, "Video not found");

    for (kind, id) in [("video", &c.video), ("comment", &c.comment), ("tweet", &c.tweet), ("user", &ben.id)] {
        let body = json!({"targetType": kind, "targetId": id, "reason": "spam"});
        report(&app, Some(&ben), body).await.err(400, "You cannot report your own content");
    }
    // Private, yet the owner sees it: still their own.
    report(&app, Some(&ben), video(&c.private_video)).await.err(400, "You cannot report your own content");
}

#[tokio::test]
async fn a_report_is_filed_once_while_open_and_hides_nothing() {
    let app = TestApp::spawn().await;
    let (asha, ben, cleo) = (app.user("asha").await, app.user("ben").await, app.user("cleo").await);
    let c = content_of(&app, &ben).await;

    let body =
        json!({"targetType": "video", "targetId": c.video.to_uppercase(), "reason": "other", "details": "  stolen  "});
    let resp = report(&app, Some(&asha), body.clone()).await;
    let filed = resp.ok(201, "Report submitted successfully");
    assert_eq!(filed.as_object().unwrap().len(), 7, "{filed}");
    assert_eq!(filed["_id"].as_str().unwrap().len(), 24);
    assert_eq!(filed["targetType"], "video");
    assert_eq!(filed["targetId"], c.video.as_str());
    assert_eq!(filed["reason"], "other");
    assert_eq!(filed["details"], "stolen");
    assert_eq!(filed["status"], "open");
    assert!(filed["createdAt"].as_str().unwrap().ends_with('Z'));

    report(&app, Some(&asha), body.clone()).await.err(409, "You have already reported this");
    let spam = json!({"targetType": "video", "targetId": c.video, "reason": "spam"});
    report(&app, Some(&asha), spam.clone()).await.err(409, "You have already reported this");
    report(&app, Some(&cleo), spam).await.ok(201, "Report submitted successfully");

    for (kind, id) in [("comment", &c.comment), ("tweet", &c.tweet), ("user", &ben.id)] {
        let resp = report(&app, Some(&asha), json!({"targetType": kind, "targetId": id, "reason": "harassment"})).await;
        let filed = resp.ok(201, "Report submitted successfully");
        assert_eq!((filed["targetType"].as_str().unwrap(), filed["details"].clone()), (kind, serde_json::Value::Null));
    }

    // Reporting hides nothing by itself.
    app.get(&format!("/videos/{}", c.video), None).await.ok(200, "Video fetched successfully");
    let comments = app.get(&format!("/comments/{}", c.video), None).await;
    assert_eq!(comments.ok(200, "Comments fetched successfully")["totalDocs"], 1);
    let tweets = app.get(&format!("/tweets/user/{}", ben.id), None).await;
    assert_eq!(tweets.ok(200, "Tweets fetched successfully").as_array().unwrap().len(), 1);
    app.get("/users/c/ben", None).await.ok(200, "User channel fetched successfully");
}

#[tokio::test]
async fn reports_sent_at_the_same_moment_file_one() {
    let app = TestApp::spawn().await;
    let (asha, ben) = (app.user("asha").await, app.user("ben").await);
    let video = app.publish(&ben, "Loud").await["_id"].as_str().unwrap().to_owned();
    let body = json!({"targetType": "video", "targetId": video, "reason": "spam"});
    let attempts = (0..8).map(|_| report(&app, Some(&asha), body.clone()));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts).await.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 7, "{statuses:?}");
}

#[tokio::test]
async fn each_user_has_a_report_budget() {
    let app = TestApp::builder().env("RATE_LIMIT_ENABLED", "true").env("RATE_LIMIT_REPORTS", "2/1h").spawn().await;
    let (asha, ben, cleo) = (app.user("asha").await, app.user("ben").await, app.user("cleo").await);
    let user = |id: &str| json!({"targetType": "user", "targetId": id, "reason": "spam"});
    // Refused reports spend nothing.
    report(&app, Some(&asha), json!({"targetType": "user"})).await.err(400, "Invalid targetId");
    report(&app, Some(&asha), user(&asha.id)).await.err(400, "You cannot report your own content");
    report(&app, Some(&asha), user(&ben.id)).await.ok(201, "Report submitted successfully");
    report(&app, Some(&asha), user(&cleo.id)).await.ok(201, "Report submitted successfully");
    report(&app, Some(&asha), user(&ben.id)).await.err(409, "You have already reported this");
    let video = app.publish(&ben, "Loud").await["_id"].as_str().unwrap().to_owned();
    let resp = report(&app, Some(&asha), json!({"targetType": "video", "targetId": video, "reason": "spam"})).await;
    let retry_after: u64 = resp.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    resp.err(429, &format!("Too many requests, please retry after {retry_after} seconds"));
    // The budget is the reporter's, not the address's.
    report(&app, Some(&cleo), user(&ben.id)).await.ok(201, "Report submitted successfully");
}

const UNKNOWN: &str = "6650a1b2c3d4e5f601234567";

async fn act(app: &TestApp, caller: Option<&Session>, body: serde_json::Value) -> super::helpers::Resp {
    app.json(Method::POST, "/moderation/actions", caller, body).await
}

fn action(kind: &str, id: &str, action: &str, reason: &str) -> serde_json::Value {
    json!({"targetType": kind, "targetId": id, "action": action, "reason": reason})
}

#[tokio::test]
async fn the_queue_groups_reports_by_target_most_reported_first() {
    let app = TestApp::spawn().await;
    let (asha, ben, cleo, mod_) =
        (app.user("asha").await, app.user("ben").await, app.user("cleo").await, app.user("mo").await);
    app.grant("mo", "moderator").await;
    let c = content_of(&app, &ben).await;
    let file = async |who: &Session, kind: &str, id: &str, reason: &str| {
        let body = json!({"targetType": kind, "targetId": id, "reason": reason, "details": "see"});
        report(&app, Some(who), body).await.ok(201, "Report submitted successfully");
    };
    file(&asha, "video", &c.video, "spam").await;
    file(&cleo, "video", &c.video, "hate").await;
    file(&mod_, "video", &c.video, "spam").await;
    file(&asha, "tweet", &c.tweet, "harassment").await;
    file(&asha, "user", &ben.id, "other").await;
    file(&cleo, "comment", &c.comment, "spam").await;

    for (caller, status) in [(None, 401), (Some(&asha), 403)] {
        let resp = app.get("/moderation/reports", caller).await;
        assert_eq!(resp.status.as_u16(), status, "{}", resp.body);
    }
    app.get("/moderation/reports", Some(&asha)).await.err(403, "Moderator role required");
    app.get("/moderation/reports?status=closed", Some(&mod_))
        .await
        .err(400, "status must be one of open, resolved, dismissed");
    app.get("/moderation/reports?targetType=post", Some(&mod_)).await.err(400, INVALID_TARGET_TYPE);

    // A deleted target stays in the queue as `null`.
    app.call(Method::DELETE, &format!("/comments/c/{}", c.comment), &ben).await.ok(200, "Comment deleted successfully");
    let queue = app.get("/moderation/reports?limit=3", Some(&mod_)).await;
    let queue = queue.ok(200, "Reports fetched successfully");
    assert_eq!(queue["totalDocs"], 4);
    assert_eq!(queue["totalPages"], 2);
    let groups = queue["docs"].as_array().unwrap();
    assert_eq!(groups[0]["targetId"], c.video.as_str());
    assert_eq!(groups[0]["reportsCount"], 3);
    assert_eq!(groups[0]["reasons"], json!({"spam": 2, "hate": 1}));
    assert_eq!(groups[0]["status"], "open");
    assert_eq!(groups[0]["target"]["title"], "Loud");
    assert_eq!(groups[0]["target"]["owner"]["username"], "ben");
    assert_eq!(groups[0]["target"]["visibility"], "public");
    assert!(groups[0]["firstReportedAt"].as_str().unwrap() <= groups[0]["lastReportedAt"].as_str().unwrap());
    // Then one report each, the latest first.
    let rest: Vec<&str> = groups[1..].iter().map(|g| g["targetType"].as_str().unwrap()).collect();
    assert_eq!(rest, ["comment", "user"]);
    assert_eq!(groups[1]["target"], serde_json::Value::Null, "the comment was deleted");
    assert_eq!(
        groups[2]["target"],
        json!({"_id": ben.id, "username": "ben", "fullName": "ben Full", "avatar": groups[2]["target"]["avatar"]})
    );
    let second = app.get("/moderation/reports?limit=3&page=2", Some(&mod_)).await;
    let second = second.ok(200, "Reports fetched successfully");
    assert_eq!(second["docs"][0]["target"]["content"], "hello");
    let tweets = app.get("/moderation/reports?targetType=tweet", Some(&mod_)).await;
    assert_eq!(tweets.ok(200, "Reports fetched successfully")["totalDocs"], 1);
    let resolved = app.get("/moderation/reports?status=resolved", Some(&mod_)).await;
    assert_eq!(resolved.ok(200, "Reports fetched successfully")["totalDocs"], 0);
}

#[tokio::test]
async fn an_action_checks_its_input_then_its_target_in_order() {
    let app = TestApp::spawn().await;
    let (admin, moder, ben) = (app.user("ada").await, app.user("mo").await, app.user("ben").await);
    app.grant("ada", "admin").await;
    app.grant("mo", "moderator").await;
    let c = content_of(&app, &ben).await;
    let admins_video = app.publish(&admin, "Rules").await["_id"].as_str().unwrap().to_owned();

    act(&app, None, action("video", &c.video, "remove", "spam")).await.err(401, "Unauthorized request");
    act(&app, Some(&ben), json!({})).await.err(403, "Moderator role required");
    act(&app, Some(&moder), json!({})).await.err(400, INVALID_TARGET_TYPE);
    act(&app, Some(&moder), json!({"targetType": "video", "targetId": "x"})).await.err(400, "Invalid targetId");
    let invalid_action = "action must be one of remove, restore, suspend, unsuspend, dismiss";
    act(&app, Some(&moder), action("video", UNKNOWN, "delete", "")).await.err(400, invalid_action);
    act(&app, Some(&moder), action("video", UNKNOWN, "remove", "  ")).await.err(400, "Reason is required");
    let long = "r".repeat(501);
    act(&app, Some(&moder), action("video", UNKNOWN, "remove", &long))
        .await
        .err(400, "Reason must be at most 500 characters");
    act(&app, Some(&moder), action("video", UNKNOWN, "suspend", "x"))
        .await
        .err(400, "Action suspend does not apply to a video");
    act(&app, Some(&moder), action("user", UNKNOWN, "remove", "x"))
        .await
        .err(400, "Action remove does not apply to a user");
    for (kind, message) in [
        ("video", "Video not found"),
        ("comment", "Comment not found"),
        ("tweet", "Tweet not found"),
        ("user", "User not found"),
    ] {
        act(&app, Some(&moder), action(kind, UNKNOWN, "dismiss", "x")).await.err(404, message);
    }
    // A private video is found by a moderator.
    act(&app, Some(&moder), action("video", &c.private_video, "dismiss", "fine"))
        .await
        .ok(200, "Moderation action recorded");
    act(&app, Some(&moder), action("video", &admins_video, "remove", "x"))
        .await
        .err(403, "Only an admin can act on a moderator or admin");
    act(&app, Some(&moder), action("user", &admin.id, "suspend", "x"))
        .await
        .err(403, "Only an admin can act on a moderator or admin");
    act(&app, Some(&admin), action("user", &admin.id, "suspend", "x")).await.err(400, "You cannot suspend yourself");
    let log = app.get("/moderation/log", Some(&moder)).await;
    assert_eq!(log.ok(200, "Moderation log fetched successfully")["totalDocs"], 1, "only the dismissal");
}

#[tokio::test]
async fn a_removed_video_is_gone_for_everyone_but_its_owner_until_restored() {
    let app = TestApp::spawn().await;
    let (asha, ben, moder) = (app.user("asha").await, app.user("ben").await, app.user("mo").await);
    app.grant("mo", "moderator").await;
    let c = content_of(&app, &ben).await;
    let other = app.publish(&ben, "Quiet").await["_id"].as_str().unwrap().to_owned();
    let playlist = app.json(Method::POST, "/playlist", Some(&asha), json!({"name": "Mix", "description": "d"})).await;
    let playlist = playlist.ok(201, "Playlist created successfully")["_id"].as_str().unwrap().to_owned();
    app.call(Method::PATCH, &format!("/playlist/add/{}/{playlist}", c.video), &asha)
        .await
        .ok(200, "Video added to playlist successfully");
    app.call(Method::POST, &format!("/likes/toggle/v/{}", c.video), &asha).await.ok(200, "Like added successfully");
    app.get(&format!("/videos/{}", c.video), Some(&asha)).await.ok(200, "Video fetched successfully");
    report(&app, Some(&asha), json!({"targetType": "video", "targetId": c.video, "reason": "spam"}))
        .await
        .ok(201, "Report submitted successfully");

    let removed = act(&app, Some(&moder), action("video", &c.video, "remove", "  Spam links  ")).await;
    let removed = removed.ok(200, "Moderation action recorded");
    assert_eq!(removed["action"], "remove");
    assert_eq!(removed["reason"], "Spam links");
    assert_eq!(removed["targetType"], "video");
    assert_eq!(removed["moderator"]["username"], "mo");
    assert_eq!(removed.as_object().unwrap().len(), 7, "{removed}");

    let seen_by = async |who: Option<&Session>| app.get(&format!("/videos/{}", c.video), who).await;
    seen_by(None).await.err(404, "Video not found");
    seen_by(Some(&asha)).await.err(404, "Video not found");
    let by_moderator = seen_by(Some(&moder)).await;
    let by_moderator = by_moderator.ok(200, "Video fetched successfully");
    assert_eq!(by_moderator["moderation"]["reason"], "Spam links", "a moderator sees what moderation hides");
    app.get(&format!("/videos/{}", c.private_video), Some(&moder)).await.err(404, "Video not found");
    let own = seen_by(Some(&ben)).await;
    let own = own.ok(200, "Video fetched successfully");
    assert_eq!(own["visibility"], "public", "the owner's own level");
    assert_eq!(own["moderation"], json!({"status": "removed", "reason": "Spam links"}));
    let ids = |page: &serde_json::Value| -> Vec<String> {
        page["docs"].as_array().unwrap().iter().map(|v| v["_id"].as_str().unwrap().to_owned()).collect()
    };
    let feed = app.get("/videos", None).await;
    assert_eq!(ids(feed.ok(200, "Videos fetched successfully")), std::slice::from_ref(&other));
    let channel = app.get(&format!("/videos?userId={}", ben.id), Some(&asha)).await;
    let channel = channel.ok(200, "Videos fetched successfully").clone();
    assert_eq!((ids(&channel), channel["totalDocs"].clone()), (vec![other.clone()], json!(1)));
    let own_channel = app.get(&format!("/videos?userId={}", ben.id), Some(&ben)).await;
    assert_eq!(own_channel.ok(200, "Videos fetched successfully")["totalDocs"], 3, "the owner still sees all three");
    let listed = app.get(&format!("/playlist/{playlist}"), Some(&asha)).await;
    assert_eq!(listed.ok(200, "Playlist fetched successfully")["videos"], json!([]));
    let liked = app.get("/likes/videos", Some(&asha)).await;
    assert_eq!(liked.ok(200, "Liked videos fetched successfully"), &json!([]));
    let history = app.get("/users/history", Some(&asha)).await;
    assert_eq!(history.ok(200, "Watch history fetched successfully"), &json!([]));
    app.get(&format!("/comments/{}", c.video), Some(&asha)).await.err(404, "Video not found");

    let visibility = json!({"visibility": "private"});
    app.json(Method::PATCH, &format!("/videos/{}", c.video), Some(&ben), visibility)
        .await
        .err(403, "This video was removed by a moderator");
    app.call(Method::PATCH, &format!("/videos/toggle/publish/{}", c.video), &ben)
        .await
        .err(403, "This video was removed by a moderator");
    let title = json!({"title": "Calm"});
    app.json(Method::PATCH, &format!("/videos/{}", c.video), Some(&ben), title)
        .await
        .ok(200, "Video updated successfully");

    // The report was resolved; the reporter may report again.
    let open = app.get("/moderation/reports", Some(&moder)).await;
    assert_eq!(open.ok(200, "Reports fetched successfully")["totalDocs"], 0);
    let resolved = app.get("/moderation/reports?status=resolved", Some(&moder)).await;
    let resolved = resolved.ok(200, "Reports fetched successfully").clone();
    assert_eq!(resolved["docs"][0]["status"], "resolved");
    assert_eq!(resolved["docs"][0]["target"]["visibility"], "public");

    act(&app, Some(&moder), action("video", &c.video, "restore", "Appeal upheld"))
        .await
        .ok(200, "Moderation action recorded");
    let back = seen_by(Some(&asha)).await;
    let back = back.ok(200, "Video fetched successfully");
    assert_eq!(back["moderation"], serde_json::Value::Null);
    assert_eq!(back["title"], "Calm");
    let feed = app.get("/videos", None).await;
    assert_eq!(ids(feed.ok(200, "Videos fetched successfully")).len(), 2);
    let listed = app.get(&format!("/playlist/{playlist}"), Some(&asha)).await;
    assert_eq!(listed.ok(200, "Playlist fetched successfully")["videos"].as_array().unwrap().len(), 1);

    let log = app.get(&format!("/moderation/log?targetType=video&targetId={}", c.video), Some(&moder)).await;
    let log = log.ok(200, "Moderation log fetched successfully");
    let actions: Vec<&str> = log["docs"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["restore", "remove"], "newest first");
    app.get("/moderation/log?targetId=nope", Some(&moder)).await.err(400, "Invalid targetId");
    app.get("/moderation/log", Some(&asha)).await.err(403, "Moderator role required");
}

#[tokio::test]
async fn dismissing_closes_the_reports_and_changes_nothing_else() {
    let app = TestApp::spawn().await;
    let (asha, ben, moder) = (app.user("asha").await, app.user("ben").await, app.user("mo").await);
    app.grant("mo", "moderator").await;
    let c = content_of(&app, &ben).await;
    let body = json!({"targetType": "tweet", "targetId": c.tweet, "reason": "spam"});
    report(&app, Some(&asha), body.clone()).await.ok(201, "Report submitted successfully");
    act(&app, Some(&moder), action("tweet", &c.tweet, "dismiss", "Not spam"))
        .await
        .ok(200, "Moderation action recorded");
    let dismissed = app.get("/moderation/reports?status=dismissed", Some(&moder)).await;
    let dismissed = dismissed.ok(200, "Reports fetched successfully");
    assert_eq!(
        (dismissed["totalDocs"].clone(), dismissed["docs"][0]["status"].clone()),
        (json!(1), json!("dismissed"))
    );
    let tweets = app.get(&format!("/tweets/user/{}", ben.id), None).await;
    assert_eq!(tweets.ok(200, "Tweets fetched successfully").as_array().unwrap().len(), 1);
    report(&app, Some(&asha), body).await.ok(201, "Report submitted successfully");
}

#[tokio::test]
async fn a_removed_comment_or_tweet_is_seen_by_its_author_only_until_restored() {
    let app = TestApp::spawn().await;
    let (asha, ben, moder) = (app.user("asha").await, app.user("ben").await, app.user("mo").await);
    app.grant("mo", "moderator").await;
    let c = content_of(&app, &ben).await;
    let comments = async |who: Option<&Session>| {
        let page = app.get(&format!("/comments/{}", c.video), who).await;
        page.ok(200, "Comments fetched successfully").clone()
    };
    let tweets = async |who: Option<&Session>| {
        let list = app.get(&format!("/tweets/user/{}", ben.id), who).await;
        list.ok(200, "Tweets fetched successfully").clone()
    };
    assert_eq!(comments(None).await["docs"][0]["moderation"], serde_json::Value::Null);

    act(&app, Some(&moder), action("comment", &c.comment, "remove", "Insult"))
        .await
        .ok(200, "Moderation action recorded");
    act(&app, Some(&moder), action("tweet", &c.tweet, "remove", "Scam")).await.ok(200, "Moderation action recorded");
    for who in [None, Some(&asha)] {
        let page = comments(who).await;
        assert_eq!((page["totalDocs"].clone(), page["docs"].clone()), (json!(0), json!([])), "{who:?}");
        assert_eq!(tweets(who).await, json!([]), "{who:?}");
    }
    let own = comments(Some(&ben)).await;
    assert_eq!(own["totalDocs"], 1, "the author still counts their own");
    assert_eq!(own["docs"][0]["moderation"], json!({"status": "removed", "reason": "Insult"}));
    assert_eq!(tweets(Some(&ben)).await[0]["moderation"], json!({"status": "removed", "reason": "Scam"}));
    app.call(Method::POST, &format!("/likes/toggle/c/{}", c.comment), &asha).await.err(404, "Comment not found");
    app.call(Method::POST, &format!("/likes/toggle/t/{}", c.tweet), &asha).await.err(404, "Tweet not found");
    let body = json!({"targetType": "tweet", "targetId": c.tweet, "reason": "spam"});
    report(&app, Some(&asha), body).await.err(404, "Tweet not found");
    let edit = json!({"content": "sorry"});
    app.json(Method::PATCH, &format!("/tweets/{}", c.tweet), Some(&asha), edit.clone())
        .await
        .err(404, "Tweet not found");
    app.json(Method::PATCH, &format!("/tweets/{}", c.tweet), Some(&ben), edit)
        .await
        .ok(200, "Tweet updated successfully");
    // Another comment keeps counting for everyone.
    app.json(Method::POST, &format!("/comments/{}", c.video), Some(&asha), json!({"content": "nice"}))
        .await
        .ok(201, "Comment added successfully");
    assert_eq!(comments(None).await["totalDocs"], 1);
    assert_eq!(comments(Some(&ben)).await["totalDocs"], 2);

    act(&app, Some(&moder), action("comment", &c.comment, "restore", "Fine"))
        .await
        .ok(200, "Moderation action recorded");
    act(&app, Some(&moder), action("tweet", &c.tweet, "restore", "Fine")).await.ok(200, "Moderation action recorded");
    let page = comments(Some(&asha)).await;
    assert_eq!(page["totalDocs"], 2);
    assert!(page["docs"].as_array().unwrap().iter().all(|c| c["moderation"].is_null()));
    assert_eq!(tweets(None).await[0]["content"], "sorry");
    app.call(Method::POST, &format!("/likes/toggle/t/{}", c.tweet), &asha).await.ok(200, "Like added successfully");
}

#[tokio::test]
async fn a_suspended_account_is_stopped_and_hidden_until_unsuspended() {
    let app = TestApp::spawn().await;
    let (admin, asha, ben) = (app.user("ada").await, app.user("asha").await, app.user("ben").await);
    app.grant("ada", "admin").await;
    let c = content_of(&app, &ben).await;
    let removed_too = app.publish(&ben, "Spam").await["_id"].as_str().unwrap().to_owned();
    let ashas = app.publish(&asha, "Garden").await["_id"].as_str().unwrap().to_owned();
    app.json(Method::POST, &format!("/comments/{ashas}"), Some(&ben), json!({"content": "buy now"}))
        .await
        .ok(201, "Comment added successfully");
    report(&app, Some(&asha), json!({"targetType": "user", "targetId": ben.id, "reason": "spam"}))
        .await
        .ok(201, "Report submitted successfully");
    act(&app, Some(&admin), action("video", &removed_too, "remove", "Spam"))
        .await
        .ok(200, "Moderation action recorded");

    act(&app, Some(&admin), action("user", &ben.id, "suspend", "Repeated spam"))
        .await
        .ok(200, "Moderation action recorded");
    let suspended = "Account suspended: Repeated spam";
    app.login("ben", "wrong-pass").await.err(401, "Invalid user credentials");
    app.login("ben", "pass-word").await.err(403, suspended);
    let refresh = app.json(Method::POST, "/users/refresh-token", None, json!({"refreshToken": ben.refresh})).await;
    refresh.err(403, suspended);
    app.get("/users/current-user", Some(&ben)).await.err(403, suspended);
    // An optional login treats the token as anonymous: the owner's private video is not shown.
    let as_ben = app.get(&format!("/videos/{}", c.private_video), Some(&ben)).await;
    as_ben.err(404, "Video not found");

    app.get("/users/c/ben", Some(&asha)).await.err(404, "channel does not exists");
    for who in [None, Some(&asha)] {
        app.get(&format!("/videos/{}", c.video), who).await.err(404, "Video not found");
        let feed = app.get("/videos", who).await;
        assert_eq!(feed.ok(200, "Videos fetched successfully")["totalDocs"], 1, "only asha's video");
        let comments = app.get(&format!("/comments/{ashas}"), who).await;
        assert_eq!(comments.ok(200, "Comments fetched successfully")["totalDocs"], 0);
        let tweets = app.get(&format!("/tweets/user/{}", ben.id), who).await;
        assert_eq!(tweets.ok(200, "Tweets fetched successfully"), &json!([]));
    }
    let resolved = app.get("/moderation/reports?status=resolved&targetType=user", Some(&admin)).await;
    assert_eq!(resolved.ok(200, "Reports fetched successfully")["totalDocs"], 1);

    act(&app, Some(&admin), action("user", &ben.id, "unsuspend", "Appeal")).await.ok(200, "Moderation action recorded");
    // Sessions ended by the suspension stay ended.
    let refresh = app.json(Method::POST, "/users/refresh-token", None, json!({"refreshToken": ben.refresh})).await;
    assert_eq!(refresh.status, 401, "{}", refresh.body);
    let login = app.login("ben", "pass-word").await;
    let token = login.ok(200, "User logged In Successfully")["accessToken"].as_str().unwrap().to_owned();
    let ben = Session { access: token, ..ben };
    app.get("/users/c/ben", Some(&asha)).await.ok(200, "User channel fetched successfully");
    app.get(&format!("/videos/{}", c.video), Some(&asha)).await.ok(200, "Video fetched successfully");
    app.get(&format!("/videos/{}", c.private_video), Some(&asha)).await.err(404, "Video not found");
    app.get(&format!("/videos/{}", removed_too), Some(&asha)).await.err(404, "Video not found");
    let own = app.get(&format!("/videos/{}", c.private_video), Some(&ben)).await;
    assert_eq!(own.ok(200, "Video fetched successfully")["visibility"], "private", "its own level is back");
    let comments = app.get(&format!("/comments/{ashas}"), None).await;
    assert_eq!(comments.ok(200, "Comments fetched successfully")["totalDocs"], 1);
    let tweets = app.get(&format!("/tweets/user/{}", ben.id), None).await;
    assert_eq!(tweets.ok(200, "Tweets fetched successfully").as_array().unwrap().len(), 1);
    let feed = app.get("/videos", None).await;
    assert_eq!(feed.ok(200, "Videos fetched successfully")["totalDocs"], 2, "asha's and ben's public one");
}

#[tokio::test]
async fn a_block_hides_the_blocked_user_from_the_channel() {
    let app = TestApp::spawn().await;
    let (asha, ben, cleo) = (app.user("asha").await, app.user("ben").await, app.user("cleo").await);
    let video = app.publish(&asha, "Garden").await["_id"].as_str().unwrap().to_owned();
    let tweet = app.json(Method::POST, "/tweets", Some(&asha), json!({"content": "new video"})).await;
    let tweet = tweet.ok(201, "Tweet created successfully")["_id"].as_str().unwrap().to_owned();
    for (who, text) in [(&ben, "spam"), (&cleo, "lovely")] {
        app.json(Method::POST, &format!("/comments/{video}"), Some(who), json!({"content": text}))
            .await
            .ok(201, "Comment added successfully");
    }
    app.call(Method::POST, &format!("/subscriptions/c/{}", asha.id), &ben).await.ok(200, "subscribed successfully");
    let comments = async |who: Option<&Session>| {
        let page = app.get(&format!("/comments/{video}"), who).await;
        let page = page.ok(200, "Comments fetched successfully").clone();
        let authors: Vec<String> = page["docs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["owner"]["username"].as_str().unwrap().to_owned())
            .collect();
        (page["totalDocs"].as_u64().unwrap(), authors)
    };

    app.send(app.request(Method::POST, &format!("/users/blocks/{}", ben.id))).await.err(401, "Unauthorized request");
    app.call(Method::POST, "/users/blocks/nope", &asha).await.err(400, "Invalid userId");
    app.call(Method::POST, &format!("/users/blocks/{UNKNOWN}"), &asha).await.err(404, "User not found");
    app.call(Method::POST, &format!("/users/blocks/{}", asha.id), &asha).await.err(400, "You cannot block yourself");
    for _ in 0..2 {
        let blocked = app.call(Method::POST, &format!("/users/blocks/{}", ben.id), &asha).await;
        assert_eq!(blocked.ok(200, "User blocked"), &json!({"blocked": true}));
    }
    let list = app.get("/users/blocks", Some(&asha)).await;
    let list = list.ok(200, "Blocked users fetched successfully");
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["_id"], ben.id.as_str());
    assert_eq!(list[0]["username"], "ben");

    let subscribed = app.get(&format!("/subscriptions/u/{}", ben.id), None).await;
    assert_eq!(subscribed.ok(200, "Subscribed channels fetched successfully"), &json!([]), "the subscription ended");
    app.call(Method::POST, &format!("/subscriptions/c/{}", asha.id), &ben)
        .await
        .err(403, "You cannot subscribe to this channel");
    app.json(Method::POST, &format!("/comments/{video}"), Some(&ben), json!({"content": "again"}))
        .await
        .err(403, "You cannot comment on this channel");
    app.call(Method::POST, &format!("/likes/toggle/t/{tweet}"), &ben)
        .await
        .err(403, "You cannot like this channel's tweets");
    for who in [None, Some(&asha), Some(&cleo)] {
        assert_eq!(comments(who).await, (1, vec!["cleo".to_owned()]), "{who:?}");
    }
    assert_eq!(comments(Some(&ben)).await.0, 2, "the blocked user still sees their comment");
    // Others are not affected.
    app.call(Method::POST, &format!("/likes/toggle/t/{tweet}"), &cleo).await.ok(200, "Like added successfully");

    for _ in 0..2 {
        let unblocked = app.call(Method::DELETE, &format!("/users/blocks/{}", ben.id), &asha).await;
        assert_eq!(unblocked.ok(200, "User unblocked"), &json!({"blocked": false}));
    }
    assert_eq!(comments(None).await.0, 2, "the hidden comment is back");
    let list = app.get("/users/blocks", Some(&asha)).await;
    assert_eq!(list.ok(200, "Blocked users fetched successfully"), &json!([]));
    let subscribed = app.get(&format!("/subscriptions/u/{}", ben.id), None).await;
    assert_eq!(subscribed.ok(200, "Subscribed channels fetched successfully"), &json!([]), "not restored");
    app.call(Method::POST, &format!("/subscriptions/c/{}", asha.id), &ben).await.ok(200, "subscribed successfully");
}

/// Where a viewer finds asha's video (and her tweet and channel) in the moderation matrix.
async fn places_of(
    app: &TestApp,
    viewer: Option<&Session>,
    ctx: &MatrixSite,
) -> std::collections::BTreeMap<&'static str, bool> {
    let v = ctx.video.as_str();
    let has = |list: &serde_json::Value| list.as_array().unwrap().iter().any(|x| x["_id"] == v);
    let mut seen = std::collections::BTreeMap::new();
    seen.insert("watch", app.get(&format!("/videos/{v}"), viewer).await.status == 200);
    seen.insert("comments", app.get(&format!("/comments/{v}"), viewer).await.status == 200);
    let feed = app.get("/videos?sortBy=views", viewer).await;
    seen.insert("feed", has(&feed.ok(200, "Videos fetched successfully")["docs"]));
    let search = app.get("/videos?query=Matrix", viewer).await;
    let search = search.ok(200, "Videos fetched successfully").clone();
    assert_eq!(search["totalDocs"], search["docs"].as_array().unwrap().len(), "search total");
    seen.insert("search", has(&search["docs"]));
    let channel = app.get(&format!("/videos?userId={}", ctx.asha.id), viewer).await;
    let channel = channel.ok(200, "Videos fetched successfully").clone();
    assert_eq!(channel["totalDocs"], channel["docs"].as_array().unwrap().len(), "channel total");
    seen.insert("channel", has(&channel["docs"]));
    let trending = app.get("/videos/trending", viewer).await;
    seen.insert("trending", has(&trending.ok(200, "Trending videos fetched successfully")["docs"]));
    let cards = app.get(&format!("/subscriptions/u/{}", ctx.ben.id), viewer).await;
    let cards = cards.ok(200, "Subscribed channels fetched successfully").clone();
    let card = cards.as_array().unwrap().iter().find(|c| c["channel"]["_id"] == ctx.asha.id.as_str());
    seen.insert("card", card.is_some_and(|c| c["channel"]["latestVideo"]["_id"] == v));
    let playlist = app.get(&format!("/playlist/{}", ctx.playlist), viewer).await;
    let playlist = playlist.ok(200, "Playlist fetched successfully").clone();
    assert_eq!(playlist["totalVideos"], playlist["videos"].as_array().unwrap().len(), "playlist total");
    seen.insert("playlist", has(&playlist["videos"]));
    let tweets = app.get(&format!("/tweets/user/{}", ctx.asha.id), viewer).await;
    seen.insert("tweets", tweets.ok(200, "Tweets fetched successfully").as_array().unwrap().len() == 1);
    seen.insert("profile", app.get("/users/c/asha", viewer).await.status == 200);
    if viewer.is_some_and(|s| s.id == ctx.ben.id) {
        let history = app.get("/users/history", viewer).await;
        seen.insert("history", has(history.ok(200, "Watch history fetched successfully")));
        let liked = app.get("/likes/videos", viewer).await;
        let liked = liked.ok(200, "Liked videos fetched successfully");
        seen.insert("liked", liked.as_array().unwrap().iter().any(|item| item["video"]["_id"] == v));
        let feed = app.get("/subscriptions/feed", viewer).await;
        seen.insert("subscription feed", has(&feed.ok(200, "Subscription feed fetched successfully")["docs"]));
    }
    seen
}

struct MatrixSite {
    asha: Session,
    ben: Session,
    video: String,
    playlist: String,
}

fn expect(places: &[(&'static str, bool)]) -> std::collections::BTreeMap<&'static str, bool> {
    places.iter().copied().collect()
}

#[tokio::test]
async fn moderation_hides_a_video_everywhere_the_visibility_rule_applies() {
    let app = TestApp::spawn().await;
    let (asha, ben, admin) = (app.user("asha").await, app.user("ben").await, app.user("ada").await);
    app.grant("ada", "admin").await;
    let video = app.publish(&asha, "Matrix clip").await["_id"].as_str().unwrap().to_owned();
    app.json(Method::POST, "/tweets", Some(&asha), json!({"content": "new clip"}))
        .await
        .ok(201, "Tweet created successfully");
    app.call(Method::POST, &format!("/subscriptions/c/{}", asha.id), &ben).await.ok(200, "subscribed successfully");
    let playlist = app.json(Method::POST, "/playlist", Some(&ben), json!({"name": "Mix", "description": "d"})).await;
    let playlist = playlist.ok(201, "Playlist created successfully")["_id"].as_str().unwrap().to_owned();
    app.call(Method::PATCH, &format!("/playlist/add/{video}/{playlist}"), &ben)
        .await
        .ok(200, "Video added to playlist successfully");
    app.call(Method::POST, &format!("/likes/toggle/v/{video}"), &ben).await.ok(200, "Like added successfully");
    app.get(&format!("/videos/{video}"), Some(&ben)).await.ok(200, "Video fetched successfully");
    let site = MatrixSite { asha, ben, video, playlist };
    let (asha, ben) = (&site.asha, &site.ben);

    let shared =
        ["watch", "comments", "feed", "search", "channel", "trending", "card", "playlist", "tweets", "profile"];
    let everywhere = |extra: bool| -> std::collections::BTreeMap<&'static str, bool> {
        let mut all: Vec<(&'static str, bool)> = shared.iter().map(|p| (*p, true)).collect();
        if extra {
            all.extend([("history", true), ("liked", true), ("subscription feed", true)]);
        }
        expect(&all)
    };
    let viewers: [(&str, Option<&Session>); 4] =
        [("owner", Some(asha)), ("other", Some(ben)), ("anonymous", None), ("moderator", Some(&admin))];
    for (name, viewer) in viewers {
        assert_eq!(places_of(&app, viewer, &site).await, everywhere(name == "other"), "before: {name}");
    }

    // Removed: the owner keeps it where their own videos are shown; a moderator may open it.
    act(&app, Some(&admin), action("video", &site.video, "remove", "Test")).await.ok(200, "Moderation action recorded");
    let hidden_for_others = |extra: bool, watch: bool| {
        let mut places: Vec<(&'static str, bool)> =
            shared.iter().map(|p| (*p, matches!(*p, "tweets" | "profile"))).collect();
        places.retain(|(p, _)| *p != "watch");
        places.push(("watch", watch));
        if extra {
            places.extend([("history", false), ("liked", false), ("subscription feed", false)]);
        }
        expect(&places)
    };
    let owner_sees = expect(&[
        ("watch", true),
        ("comments", true),
        ("feed", false),
        ("search", false),
        ("channel", true),
        ("trending", false),
        ("card", false),
        ("playlist", true),
        ("tweets", true),
        ("profile", true),
    ]);
    assert_eq!(places_of(&app, Some(asha), &site).await, owner_sees, "removed: owner");
    assert_eq!(places_of(&app, Some(ben), &site).await, hidden_for_others(true, false), "removed: other");
    assert_eq!(places_of(&app, None, &site).await, hidden_for_others(false, false), "removed: anonymous");
    assert_eq!(places_of(&app, Some(&admin), &site).await, hidden_for_others(false, true), "removed: moderator");
    act(&app, Some(&admin), action("video", &site.video, "restore", "Test"))
        .await
        .ok(200, "Moderation action recorded");
    for (name, viewer) in viewers {
        assert_eq!(places_of(&app, viewer, &site).await, everywhere(name == "other"), "restored: {name}");
    }

    // Suspended: nothing of the owner shows anywhere; their token counts as anonymous here.
    act(&app, Some(&admin), action("user", &asha.id, "suspend", "Test")).await.ok(200, "Moderation action recorded");
    let gone = |extra: bool, watch: bool| {
        let mut places: Vec<(&'static str, bool)> = shared.iter().map(|p| (*p, *p == "watch" && watch)).collect();
        if extra {
            places.extend([("history", false), ("liked", false), ("subscription feed", false)]);
        }
        expect(&places)
    };
    assert_eq!(places_of(&app, Some(asha), &site).await, gone(false, false), "suspended: owner");
    assert_eq!(places_of(&app, Some(ben), &site).await, gone(true, false), "suspended: other");
    assert_eq!(places_of(&app, None, &site).await, gone(false, false), "suspended: anonymous");
    assert_eq!(places_of(&app, Some(&admin), &site).await, gone(false, true), "suspended: moderator");
    act(&app, Some(&admin), action("user", &asha.id, "unsuspend", "Test")).await.ok(200, "Moderation action recorded");
    for (name, viewer) in [("other", Some(ben)), ("anonymous", None), ("moderator", Some(&admin))] {
        assert_eq!(places_of(&app, viewer, &site).await, everywhere(name == "other"), "unsuspended: {name}");
    }
}
