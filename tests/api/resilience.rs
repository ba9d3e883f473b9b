//! Behaviour under abuse of the connection: clients that vanish mid-request, and races that make a
//! store's write lose to another. Runs on whichever store the suite uses.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, http_client};

/// Sends GET requests one after another on one keep-alive connection until the task is dropped.
async fn hammer(address: String, path: String) {
    let Ok(mut stream) = TcpStream::connect(&address).await else { return };
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\n\r\n");
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        if stream.write_all(request.as_bytes()).await.is_err() {
            return;
        }
        // Read one whole response: headers, then as many body bytes as Content-Length says.
        let mut read = 0;
        let (header_end, body_length) = loop {
            match stream.read(&mut buffer[read..]).await {
                Ok(0) | Err(_) => return,
                Ok(n) => read += n,
            }
            let text = String::from_utf8_lossy(&buffer[..read]);
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                break (end + 4, length);
            }
        };
        while read < header_end + body_length {
            match stream.read(&mut buffer[read..]).await {
                Ok(0) | Err(_) => return,
                Ok(n) => read += n,
            }
        }
    }
}

/// A burst of clients that give up mid-request (a load test ending, a crowd closing tabs) must not
/// leave work queued behind them: the next request is answered as if nothing had happened. On
/// MongoDB, handlers cancelled mid-query used to leave their connection checkouts queued in the
/// driver's pool, and the next request waited 15-50 s before its query was even sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_disconnect_mid_request_leave_nothing_queued() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    for i in 0..12 {
        app.publish(&asha, &format!("Clip {i}")).await;
    }
    let address = app.base.trim_start_matches("http://").to_owned();
    for round in 0..3 {
        // 64 connections hammer the feed, then all vanish at once mid-request, as when a load test ends.
        let clients: Vec<_> = (0..64)
            .map(|i| {
                tokio::spawn(hammer(address.clone(), format!("/api/v1/videos?query=clip%20{}&sortBy=views", i % 12)))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        for client in &clients {
            client.abort();
        }
        let abandoned = futures_util::future::join_all(clients).await.into_iter().filter(|r| r.is_err()).count();
        assert_eq!(abandoned, 64, "round {round}: every client was still busy when it vanished");
        let started = std::time::Instant::now();
        // The bound is a hang detector, not a speed target: the stall this guards against took 15 s or more.
        let next = tokio::time::timeout(Duration::from_secs(5), http_client().get(app.url("/videos?limit=5")).send())
            .await
            .unwrap_or_else(|_| panic!("round {round}: the request after the burst hung"))
            .unwrap();
        assert_eq!(next.status(), 200);
        eprintln!("round {round}: next answered in {:?}", started.elapsed());
        let login = tokio::time::timeout(Duration::from_secs(5), app.login("asha", "pass-word")).await;
        login.expect("a login after the burst answers").ok(200, "User logged In Successfully");
    }
    let resp = app.request(Method::GET, "/videos?limit=20").send().await.unwrap();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["data"]["totalDocs"], 12, "nothing was lost or duplicated");
}

/// Concurrent toggles of one like or subscription race on a unique key; a write that loses (MongoDB's
/// WriteConflict, DocumentDB's deadlock, both code 112) wrote nothing and is sent again, so every
/// request answers 200 and the final state is the parity of the number of toggles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_toggles_all_succeed_and_leave_the_parity() {
    let app = TestApp::spawn().await;
    let asha = app.user("asha").await;
    let ben = app.user("ben").await;
    let video = app.publish(&asha, "Raced").await["_id"].as_str().unwrap().to_owned();
    for (round, toggles) in [12, 13, 16, 9].into_iter().enumerate() {
        let like = format!("/likes/toggle/v/{video}");
        let subscribe = format!("/subscriptions/c/{}", asha.id);
        let racers = (0..toggles).flat_map(|_| [like.clone(), subscribe.clone()]).map(|path| {
            let request = app.request(Method::POST, &path).bearer_auth(&ben.access);
            tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
        });
        let statuses: Vec<u16> = futures_util::future::join_all(racers).await.into_iter().map(Result::unwrap).collect();
        assert!(statuses.iter().all(|s| *s == 200), "round {round}: {statuses:?}");
        let liked = toggles % 2 == 1;
        let detail = app.get(&format!("/videos/{video}"), Some(&ben)).await;
        let detail = detail.ok(200, "Video fetched successfully");
        assert_eq!((detail["isLiked"].clone(), detail["likesCount"].clone()), (json!(liked), json!(i64::from(liked))));
        assert_eq!(detail["owner"]["isSubscribed"], json!(liked), "round {round}: subscription parity");
        if liked {
            app.call(Method::POST, &like, &ben).await.ok(200, "Like removed successfully");
            app.call(Method::POST, &subscribe, &ben).await.ok(200, "unsubscribed successfully");
        }
    }
}
