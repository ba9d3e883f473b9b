//! `/users` routes: every success and documented error, cookies, sessions and media side effects.

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::fixtures;
use crate::helpers::{MediaBackend, Session, TestApp, assert_no_secrets};

async fn register_form(app: &TestApp, form: Form) -> crate::helpers::Resp {
    app.send(app.request(Method::POST, "/users/register").multipart(form)).await
}

#[tokio::test]
async fn register_returns_the_user_without_secrets() {
    let app = TestApp::spawn().await;
    let form = Form::new()
        .text("fullName", "  Asha Rao ")
        .text("email", " Asha@Example.com")
        .text("username", "Asha")
        .text("password", " secret ")
        .part("avatar", Part::bytes(fixtures::png()).file_name("a.png"))
        .part("coverImage", Part::bytes(fixtures::jpeg()).file_name("c.jpg"));
    let resp = register_form(&app, form).await;
    assert!(resp.set_cookies().is_empty(), "register issues no cookies");
    let user = resp.ok(201, "User registered Successfully");
    assert_eq!(user["username"], "asha");
    assert_eq!(user["email"], "asha@example.com");
    assert_eq!(user["fullName"], "Asha Rao");
    assert_eq!(user["watchHistory"], json!([]));
    assert_eq!(user["_id"].as_str().unwrap().len(), 24);
    assert!(user["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(user["avatar"].as_str().unwrap().starts_with(&app.media_url_prefix()));
    assert!(user["coverImage"].as_str().unwrap().ends_with(".jpg"));
    assert_no_secrets(user);
    let keys: Vec<&String> = user.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 11, "{keys:?}");
    assert_eq!(user["historyPaused"], false);
    assert_eq!(user["role"], "user", "every account starts as a user (docs/api.md §3.15.1)");
    // The untrimmed password is the password.
    app.login("asha", " secret ").await.ok(200, "User logged In Successfully");
    assert!(app.temp_files().is_empty());
}

#[tokio::test]
async fn register_validation_errors_in_contract_order() {
    let app = TestApp::spawn().await;
    let resp = register_form(&app, Form::new().text("fullName", "A").text("email", "  ")).await;
    let errors = resp.err(400, "All fields are required");
    assert_eq!(
        errors,
        &json!([
            {"field": "email", "message": "email cannot be empty"},
            {"field": "username", "message": "username is required"},
            {"field": "password", "message": "password is required"},
        ])
    );
    let long =
        Form::new().text("fullName", "A").text("email", "a@x").text("username", "a").text("password", "p".repeat(73));
    register_form(&app, long).await.err(400, "password must be at most 72 bytes");
    let no_avatar = Form::new().text("fullName", "A").text("email", "a@x").text("username", "a").text("password", "p");
    register_form(&app, no_avatar).await.err(400, "Avatar file is required");
    let json_body = json!({"fullName": "A", "email": "a@x", "username": "a", "password": "p"});
    app.json(Method::POST, "/users/register", None, json_body).await.err(400, "Avatar file is required");
}

#[tokio::test]
async fn duplicate_registration_is_409_and_stores_nothing() {
    let app = TestApp::spawn().await;
    app.register("asha").await;
    let images_before = app.stored("images");
    let form = TestApp::registration_form("ASHA");
    register_form(&app, form).await.err(409, "User with email or username already exists");
    let same_email = TestApp::registration_form("other").text("email", "ignored");
    let form = same_email;
    // First value wins, so the email above is other@example.com: a different account.
    register_form(&app, form).await.ok(201, "User registered Successfully");
    let dup_email = Form::new()
        .text("fullName", "X")
        .text("email", "ASHA@example.com")
        .text("username", "newname")
        .text("password", "p")
        .part("avatar", Part::bytes(fixtures::png()).file_name("a.png"));
    register_form(&app, dup_email).await.err(409, "User with email or username already exists");
    assert_eq!(app.stored("images"), images_before + 1, "only the successful registration stored media");
    assert!(app.temp_files().is_empty());
}

#[tokio::test]
async fn bad_uploads_are_refused_and_leave_nothing_behind() {
    let app = TestApp::builder().env("MAX_IMAGE_BYTES", "1024").spawn().await;
    let base = || Form::new().text("fullName", "A").text("email", "a@x").text("username", "a").text("password", "p");

    let not_image = base()
        .part("avatar", Part::bytes(b"GIF? no, just text".to_vec()).file_name("a.png").mime_str("image/png").unwrap());
    let errors =
        register_form(&app, not_image).await.err(415, "avatar must be an image (jpeg, png, webp or gif)").clone();
    assert_eq!(errors, json!([{"field": "avatar", "message": "avatar must be an image (jpeg, png, webp or gif)"}]));

    let mut big = fixtures::png();
    big.resize(4096, 0);
    let oversize = base().part("avatar", Part::bytes(big).file_name("a.png"));
    register_form(&app, oversize).await.err(413, "avatar exceeds the maximum size of 1 KB");

    let unexpected = base().part("resume", Part::bytes(fixtures::png()).file_name("r.png"));
    register_form(&app, unexpected).await.err(400, "Unexpected field: resume");

    let twice = base()
        .part("avatar", Part::bytes(fixtures::png()).file_name("a.png"))
        .part("avatar", Part::bytes(fixtures::png()).file_name("b.png"));
    register_form(&app, twice).await.err(400, "Unexpected field: avatar");

    let mut many = base();
    for i in 0..20 {
        many = many.text(format!("extra{i}"), "x");
    }
    register_form(&app, many).await.err(400, "Too many form fields");

    let long_text = base().text("bio", "x".repeat(17 * 1024));
    register_form(&app, long_text).await.err(413, "bio exceeds the maximum size of 16 KB");

    assert!(app.temp_files().is_empty(), "temp dir must be empty: {:?}", app.temp_files());
    assert!(app.stored("images") == 0, "nothing stored");
    app.login("a", "p").await.err(404, "User does not exist");
}

#[tokio::test]
async fn login_errors_and_lookup_rules() {
    let app = TestApp::spawn().await;
    app.register("asha").await;
    let login = |body: Value| app.json(Method::POST, "/users/login", None, body);
    login(json!({"password": "x"})).await.err(400, "username or email is required");
    login(json!({"username": "", "email": " ", "password": "x"})).await.err(400, "username or email is required");
    login(json!({"username": "asha"})).await.err(400, "Password is required");
    login(json!({"username": "nobody", "password": "x"})).await.err(404, "User does not exist");
    login(json!({"username": "asha", "password": "wrong"})).await.err(401, "Invalid user credentials");
    login(json!({"email": " ASHA@Example.COM ", "password": "pass-word"})).await.ok(200, "User logged In Successfully");
    // With both, a username match wins; else the email match is used.
    login(json!({"username": "nobody", "email": "asha@example.com", "password": "pass-word"}))
        .await
        .ok(200, "User logged In Successfully");
    let form = app.request(Method::POST, "/users/login").form(&[("username", "asha"), ("password", "pass-word")]);
    let resp = app.send(form).await;
    let data = resp.ok(200, "User logged In Successfully");
    assert_eq!(data["user"], data["loggedInUser"]);
    assert_no_secrets(&data["user"]);
    assert_eq!(resp.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn login_cookies_follow_the_configuration() {
    let app = TestApp::spawn().await;
    app.register("asha").await;
    let resp = app.login("asha", "pass-word").await;
    let data = resp.ok(200, "User logged In Successfully").clone();
    assert_eq!(
        resp.set_cookies(),
        vec![
            format!("accessToken={}; Path=/; HttpOnly; Secure", data["accessToken"].as_str().unwrap()),
            format!("refreshToken={}; Path=/; HttpOnly; Secure", data["refreshToken"].as_str().unwrap()),
        ]
    );

    let app = TestApp::builder().env("COOKIE_SECURE", "false").env("COOKIE_SAMESITE", "Strict").spawn().await;
    app.register("asha").await;
    let resp = app.login("asha", "pass-word").await;
    for cookie in resp.set_cookies() {
        assert!(cookie.ends_with("; Path=/; HttpOnly; SameSite=Strict"), "{cookie}");
    }
    let session = app.user("ben").await;
    let resp = app.call(Method::POST, "/users/logout", &session).await;
    resp.ok(200, "User logged Out");
    assert_eq!(
        resp.set_cookies(),
        vec![
            "accessToken=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Strict".to_string(),
            "refreshToken=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Strict".to_string(),
        ]
    );
}

async fn refresh_with(app: &TestApp, token: &str) -> crate::helpers::Resp {
    app.json(Method::POST, "/users/refresh-token", None, json!({"refreshToken": token})).await
}

#[tokio::test]
async fn refresh_rotates_and_rejects_reuse() {
    let app = TestApp::spawn().await;
    let session = app.user("asha").await;
    let r1 = session.refresh.clone();
    let resp = refresh_with(&app, &r1).await;
    let data = resp.ok(200, "Access token refreshed").clone();
    assert_eq!(resp.set_cookies().len(), 2);
    assert_eq!(resp.headers["cache-control"], "no-store");
    let r2 = data["refreshToken"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2);
    let new_access = Session { access: data["accessToken"].as_str().unwrap().to_owned(), ..session.clone() };
    app.get("/users/current-user", Some(&new_access)).await.ok(200, "User fetched successfully");

    // Refreshing from the cookie works too, and the cookie wins over the body.
    let via_cookie = app
        .request(Method::POST, "/users/refresh-token")
        .header("Cookie", format!("refreshToken={r2}"))
        .json(&json!({"refreshToken": "ignored"}));
    let r3 = app.send(via_cookie).await.ok(200, "Access token refreshed")["refreshToken"].as_str().unwrap().to_owned();
    refresh_with(&app, &r3).await.ok(200, "Access token refreshed");
    refresh_with(&app, &r1).await.err(401, "Refresh token is expired or used");
    refresh_with(&app, &r2).await.err(401, "Refresh token is expired or used");
}

#[tokio::test]
async fn refresh_errors_have_their_messages() {
    let app = TestApp::spawn().await;
    let session = app.user("asha").await;
    app.send(app.request(Method::POST, "/users/refresh-token")).await.err(401, "unauthorized request");
    refresh_with(&app, "abc").await.err(401, "jwt malformed");
    refresh_with(&app, &session.access).await.err(401, "invalid signature");
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_let_exactly_one_win() {
    let app = TestApp::spawn().await;
    let session = app.user("asha").await;
    let attempts = (0..8).map(|_| refresh_with(&app, &session.refresh));
    let results = futures_util::future::join_all(attempts).await;
    let wins = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(wins, 1, "{results:?}");
    for loser in results.iter().filter(|r| r.status != 200) {
        loser.err(401, "Refresh token is expired or used");
    }
}

#[tokio::test]
async fn logout_ends_the_presented_session_only() {
    let app = TestApp::spawn().await;
    let phone = app.user("asha").await;
    let laptop_resp = app.login("asha", "pass-word").await;
    let laptop_refresh = laptop_resp.data()["refreshToken"].as_str().unwrap().to_owned();
    let logout = app
        .request(Method::POST, "/users/logout")
        .bearer_auth(&phone.access)
        .json(&json!({"refreshToken": phone.refresh}));
    app.send(logout).await.ok(200, "User logged Out");
    refresh_with(&app, &phone.refresh).await.err(401, "Refresh token is expired or used");
    refresh_with(&app, &laptop_refresh).await.ok(200, "Access token refreshed");
    // Without a refresh token, logout ends every session of the caller.
    let all = app.login("asha", "pass-word").await.data()["refreshToken"].as_str().unwrap().to_owned();
    app.call(Method::POST, "/users/logout", &phone).await.ok(200, "User logged Out");
    refresh_with(&app, &all).await.err(401, "Refresh token is expired or used");
    app.send(app.request(Method::POST, "/users/logout")).await.err(401, "Unauthorized request");
}

#[tokio::test]
async fn sessions_are_capped_per_user() {
    let app = TestApp::builder().env("REFRESH_SESSIONS_MAX", "2").spawn().await;
    let first = app.user("asha").await;
    app.login("asha", "pass-word").await;
    app.login("asha", "pass-word").await;
    refresh_with(&app, &first.refresh).await.err(401, "Refresh token is expired or used");
}

#[tokio::test]
async fn access_token_checks_and_header_before_cookie() {
    let app = TestApp::spawn().await;
    let session = app.user("asha").await;
    app.get("/users/current-user", None).await.err(401, "Unauthorized request");
    let bad = Session { access: "not.a.jwt.at.all".into(), ..session.clone() };
    app.get("/users/current-user", Some(&bad)).await.err(401, "jwt malformed");
    let by_cookie =
        app.request(Method::GET, "/users/current-user").header("Cookie", format!("accessToken={}", session.access));
    let user = app.send(by_cookie).await.ok(200, "User fetched successfully").clone();
    assert_eq!(user["username"], "asha");
    assert_no_secrets(&user);
    // A stale cookie does not shadow a valid header; a bad header is not rescued by a good cookie.
    let header_wins = app
        .request(Method::GET, "/users/current-user")
        .bearer_auth(&session.access)
        .header("Cookie", "accessToken=garbage");
    app.send(header_wins).await.ok(200, "User fetched successfully");
    let bad_header = app
        .request(Method::GET, "/users/current-user")
        .header("Authorization", "bearer x.y")
        .header("Cookie", format!("accessToken={}", session.access));
    app.send(bad_header).await.err(401, "jwt malformed");
}

#[tokio::test]
async fn change_password_rules() {
    let app = TestApp::spawn().await;
    let s = app.user("asha").await;
    let change = |body: Value| app.json(Method::POST, "/users/change-password", Some(&s), body);
    let errors = change(json!({"oldPassword": "pass-word", "newPassword": ""}))
        .await
        .err(400, "All fields are required")
        .clone();
    assert_eq!(errors, json!([{"field": "newPassword", "message": "newPassword cannot be empty"}]));
    change(json!({"oldPassword": "pass-word", "newPassword": "n".repeat(73)}))
        .await
        .err(400, "newPassword must be at most 72 bytes");
    change(json!({"oldPassword": "nope", "newPassword": "fresh"})).await.err(400, "Invalid old password");
    assert_eq!(
        change(json!({"oldPassword": "pass-word", "newPassword": "fresh"}))
            .await
            .ok(200, "Password changed successfully"),
        &json!({})
    );
    app.login("asha", "pass-word").await.err(401, "Invalid user credentials");
    app.login("asha", "fresh").await.ok(200, "User logged In Successfully");
    app.get("/users/current-user", Some(&s)).await.ok(200, "User fetched successfully");
}

#[tokio::test]
async fn update_account_is_partial_and_checks_email() {
    let app = TestApp::spawn().await;
    let s = app.user("asha").await;
    app.user("ben").await;
    let update = |body: Value| app.json(Method::PATCH, "/users/update-account", Some(&s), body);
    update(json!({})).await.err(400, "All fields are required");
    let errors = update(json!({"fullName": " "})).await.err(400, "All fields are required").clone();
    assert_eq!(errors, json!([{"field": "fullName", "message": "fullName cannot be empty"}]));
    update(json!({"email": "BEN@example.com"})).await.err(409, "User with this email already exists");
    update(json!({"email": "asha@example.com"})).await.ok(200, "Account details updated successfully");
    let user = update(json!({"fullName": "Asha R", "username": "hacker", "password": "x", "_id": "x"}))
        .await
        .ok(200, "Account details updated successfully")
        .clone();
    assert_eq!(user["fullName"], "Asha R");
    assert_eq!(user["username"], "asha");
    assert_eq!(user["email"], "asha@example.com");
    assert_no_secrets(&user);
    app.login("asha", "pass-word").await.ok(200, "User logged In Successfully");
    let user =
        update(json!({"email": " New@Example.com "})).await.ok(200, "Account details updated successfully").clone();
    assert_eq!(user["email"], "new@example.com");
}

#[tokio::test]
async fn images_are_replaced_and_old_files_deleted() {
    let app = TestApp::spawn().await;
    let s = app.user("asha").await;
    let old_avatar = app.get("/users/current-user", Some(&s)).await.data()["avatar"].as_str().unwrap().to_owned();
    assert_eq!(app.stored("images"), 1);

    let missing =
        app.request(Method::PATCH, "/users/avatar").bearer_auth(&s.access).multipart(Form::new().text("x", "y"));
    app.send(missing).await.err(400, "Avatar file is missing");
    let missing = app.request(Method::PATCH, "/users/cover-image").bearer_auth(&s.access).multipart(Form::new());
    app.send(missing).await.err(400, "Cover image file is missing");

    let form = Form::new().part("avatar", Part::bytes(fixtures::jpeg()).file_name("new.jpg"));
    let req = app.request(Method::PATCH, "/users/avatar").bearer_auth(&s.access).multipart(form);
    let user = app.send(req).await.ok(200, "Avatar image updated successfully").clone();
    assert_ne!(user["avatar"], old_avatar.as_str());
    assert!(!app.media_exists(&old_avatar).await, "old avatar deleted");
    assert_eq!(app.stored("images"), 1);

    let form = Form::new().part("coverImage", Part::bytes(fixtures::png()).file_name("c.png"));
    let req = app.request(Method::PATCH, "/users/cover-image").bearer_auth(&s.access).multipart(form);
    let user = app.send(req).await.ok(200, "Cover image updated successfully").clone();
    assert!(user["coverImage"].as_str().unwrap().ends_with(".png"));

    let form = Form::new()
        .text("fullName", "Multi Part")
        .part("coverImage", Part::bytes(fixtures::jpeg()).file_name("c2.jpg"));
    let req = app.request(Method::PATCH, "/users/update-account").bearer_auth(&s.access).multipart(form);
    let user = app.send(req).await.ok(200, "Account details updated successfully").clone();
    assert_eq!(user["fullName"], "Multi Part");
    assert!(user["coverImage"].as_str().unwrap().ends_with(".jpg"));
    assert_eq!(app.stored("images"), 2, "one avatar and one cover remain");
    assert!(app.temp_files().is_empty());
}

#[tokio::test]
async fn stored_media_is_served_with_ranges() {
    // Local media is served by the app itself; this checks that serving.
    let app = TestApp::builder().media(MediaBackend::Local).spawn().await;
    let s = app.user("asha").await;
    let avatar = app.get("/users/current-user", Some(&s)).await.data()["avatar"].as_str().unwrap().to_owned();
    let full = app.client.get(&avatar).send().await.unwrap();
    assert_eq!(full.status(), 200);
    assert_eq!(full.headers()["content-type"], "image/png");
    assert_eq!(full.bytes().await.unwrap().to_vec(), fixtures::png());
    let partial = app.client.get(&avatar).header("Range", "bytes=0-7").send().await.unwrap();
    assert_eq!(partial.status(), 206);
    assert_eq!(partial.headers()["content-range"], format!("bytes 0-7/{}", fixtures::png().len()));
    assert_eq!(partial.bytes().await.unwrap().to_vec(), fixtures::png()[..8].to_vec());
}

#[tokio::test]
async fn channel_profile_hides_email_from_anonymous_callers() {
    let app = TestApp::spawn().await;
    let s = app.user("asha").await;
    let anonymous = app.get("/users/c/ASHA", None).await;
    let profile = anonymous.ok(200, "User channel fetched successfully");
    assert_eq!(
        profile,
        &json!({"_id": s.id, "fullName": "asha Full", "username": "asha", "subscribersCount": 0,
        "channelsSubscribedToCount": 0, "isSubscribed": false, "avatar": profile["avatar"], "coverImage": ""})
    );
    let authed = app.get("/users/c/asha", Some(&s)).await;
    assert_eq!(authed.ok(200, "User channel fetched successfully")["email"], "asha@example.com");
    app.get("/users/c/%20", None).await.err(400, "username is missing");
    app.get("/users/c/nobody", None).await.err(404, "channel does not exists");
}

#[tokio::test]
async fn private_reads_require_login_when_public_reads_is_off() {
    let app = TestApp::builder().env("PUBLIC_READS", "false").spawn().await;
    let s = app.user("asha").await;
    app.get("/users/c/asha", None).await.err(401, "Unauthorized request");
    app.get("/users/c/asha", Some(&s)).await.ok(200, "User channel fetched successfully");
    app.get("/healthcheck", None).await.ok(200, "OK");
}
