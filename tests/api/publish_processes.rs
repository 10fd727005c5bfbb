//! Publishing by real `postgate serve` processes: one killed (SIGKILL) under a stream of
//! uploads with a platform call in flight, then another taking over; and two processes
//! publishing from one PostgreSQL database. Nothing accepted is lost, nothing goes out twice.

use crate::support::process::ServerProcess;
use crate::support::sandbox::Consent;
use crate::support::wait::until;
use crate::support::{Backend, TEST_LINK_SIGNING_KEY, TestApp, send, video};
use postgate::domain::{Platform, time};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

/// Runs on both backends.
pub mod both {
    use super::*;
    crate::cases![
        killed_while_publishing_then_restarted_publishes_everything_once,
        stopped_while_publishing_finishes_the_current_post_first,
        killed_while_the_platform_processes_then_restarted_uploads_nothing_again
    ];
}

/// Runs on PostgreSQL only: several processes on one SQLite file is not a supported setup.
pub mod postgres_only {
    use super::*;
    crate::cases![
        two_processes_publish_each_post_once,
        two_processes_share_one_allowance
    ];
}

const LEASE_SECONDS: &str = "3";

/// An in-process app that serves the API and the emulator but publishes nothing itself,
/// with an account allowed any number of posts.
async fn api_only(app: &TestApp) -> TestApp {
    let api = TestApp::spawn_with(app.test_db.backend, |raw| {
        raw.publishing_worker = false;
        if let Some(plan) = raw.plans.get_mut("default") {
            plan.monthly_posts = postgate::domain::Limit::Unlimited;
        }
    })
    .await;
    let link = api.profile_with_link("olivia", json!({})).await;
    api.connect_on_page(&link, "x", Consent::Allow { person: 0 })
        .await;
    api.connect_on_page(&link, "bluesky", Consent::Allow { person: 0 })
        .await;
    api
}

/// `postgate serve` on the test's database, with the emulator on and short leases.
fn server(api: &TestApp) -> Command {
    let mut cmd = api.cli();
    cmd.env("POSTGATE_SANDBOX", "true")
        .env("POSTGATE_LINK_SIGNING_KEY", TEST_LINK_SIGNING_KEY)
        .env("POSTGATE_PLANS__DEFAULT__MONTHLY_POSTS", "unlimited")
        .env("POSTGATE_OAUTH_TIMEOUT_SECONDS", "2")
        .env("POSTGATE_PUBLISHING_LEASE_SECONDS", LEASE_SECONDS)
        .env("POSTGATE_PUBLISHING_RETRY_BASE_MS", "100")
        .env("POSTGATE_PUBLISHING_POLL_MS", "50");
    cmd
}

async fn start(cmd: Command) -> ServerProcess {
    tokio::task::spawn_blocking(move || ServerProcess::start(cmd))
        .await
        .unwrap()
}

/// Uploads `text` to X and Bluesky through `address`; the request id when it was accepted.
async fn upload(
    client: &reqwest::Client,
    address: &str,
    key: &str,
    text: &str,
    extra: &[(&str, &str)],
) -> Option<String> {
    let mut form = vec![
        ("user", "olivia"),
        ("platform[]", "x"),
        ("platform[]", "bluesky"),
        ("title", text),
    ];
    form.extend_from_slice(extra);
    let resp = client
        .post(format!("{address}/api/upload_text"))
        .header("Authorization", format!("Apikey {key}"))
        .form(&form)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .ok()?;
    let status = resp.status();
    let body: Value = resp.json().await.ok()?;
    assert!(status.is_success(), "{status}: {body}");
    Some(body["request_id"].as_str()?.to_owned())
}

/// How often each text was posted, per platform, as the emulator keeps them.
async fn posted(api: &TestApp) -> HashMap<(String, String), usize> {
    api.with_db(|conn| {
        let mut counts = HashMap::new();
        for platform in [Platform::X, Platform::Bluesky] {
            let since = time::now() - chrono::Duration::hours(1);
            for post in postgate::db::sandbox::posts_since(conn, platform, 0, since, 10_000)
                .expect("sandbox posts")
            {
                *counts
                    .entry((platform.key().to_owned(), post.text))
                    .or_default() += 1;
            }
        }
        counts
    })
    .await
}

/// Waits until every upload is final, and checks each went out once to both platforms.
async fn assert_published_once(api: &TestApp, accepted: &[(String, String)]) {
    until(
        Duration::from_secs(90),
        "every accepted upload to finish",
        async || {
            for (request_id, _) in accepted {
                let (_, body) = send(api.get(&format!("/status?request_id={request_id}"))).await;
                if !matches!(body["status"].as_str(), Some("completed" | "failed")) {
                    return false;
                }
            }
            true
        },
    )
    .await;
    for (request_id, _) in accepted {
        let (status, body) = send(api.get(&format!("/status?request_id={request_id}"))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "completed", "{body}");
        for r in body["results"].as_array().unwrap() {
            assert_eq!(r["success"], true, "{body}");
        }
    }
    let counts = posted(api).await;
    for ((platform, text), n) in &counts {
        assert_eq!(*n, 1, "{platform} got {text:?} {n} times");
    }
    for (_, text) in accepted {
        for platform in ["x", "bluesky"] {
            assert_eq!(
                counts.get(&(platform.to_owned(), text.clone())),
                Some(&1),
                "{text:?} on {platform}"
            );
        }
    }
}

async fn killed_while_publishing_then_restarted_publishes_everything_once(app: &TestApp) {
    let api = api_only(app).await;
    // The first post to X hangs at the emulator: it is on the wire when the process dies.
    api.sandbox_control(json!({"platform": "x", "endpoint": "tweets", "faults": ["slow"]}))
        .await;
    let mut first = start(server(&api)).await;
    let client = reqwest::Client::new();
    let mut accepted = Vec::new();
    let mut sent = 0;
    while accepted.len() < 12 {
        let text = format!("stream post {sent}");
        sent += 1;
        if let Some(id) = upload(
            &client,
            &first.address,
            &api.api_key,
            &text,
            &[("async_upload", "true")],
        )
        .await
        {
            accepted.push((id, text));
        }
    }
    // More requests on their way while it dies: whatever it accepted must go out.
    let address = first.address.clone();
    let key = api.api_key.clone();
    let late = tokio::spawn(async move {
        let client = reqwest::Client::new();
        let mut got = Vec::new();
        for i in 0..8 {
            let text = format!("late post {i}");
            if let Some(id) =
                upload(&client, &address, &key, &text, &[("async_upload", "true")]).await
            {
                got.push((id, text));
            }
        }
        got
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    first.kill();
    accepted.extend(late.await.unwrap());
    let _second = start(server(&api)).await;
    assert_published_once(&api, &accepted).await;
    api.stop().await;
}

async fn stopped_while_publishing_finishes_the_current_post_first(app: &TestApp) {
    let api = api_only(app).await;
    // The post to X takes two seconds at the emulator: it is on the wire at the SIGTERM.
    api.sandbox_control(json!({"platform": "x", "endpoint": "tweets", "faults": ["delayed"]}))
        .await;
    let mut cmd = server(&api);
    cmd.env("POSTGATE_OAUTH_TIMEOUT_SECONDS", "10")
        .env("POSTGATE_SHUTDOWN_TIMEOUT_SECONDS", "10");
    let mut first = start(cmd).await;
    let client = reqwest::Client::new();
    let text = "finished before the stop";
    let request_id = upload(
        &client,
        &first.address,
        &api.api_key,
        text,
        &[("async_upload", "true")],
    )
    .await
    .expect("accepted");
    until(
        Duration::from_secs(10),
        "the post to X on the wire",
        async || {
            api.sandbox_calls()
                .await
                .iter()
                .any(|(p, e, _)| p == "x" && e == "tweets")
        },
    )
    .await;
    let stopping = std::time::Instant::now();
    let exit = tokio::task::spawn_blocking(move || first.terminate())
        .await
        .unwrap();
    assert!(exit.success(), "{exit:?}");
    let took = stopping.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "bounded by the timeout: {took:?}"
    );
    // Before any other process runs: the post to X finished and was recorded.
    let (_, body) = send(api.get(&format!("/status?request_id={request_id}"))).await;
    let x = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["platform"] == "x")
        .cloned()
        .unwrap_or_default();
    assert_eq!(x["success"], true, "X finished during the stop: {body}");
    // Whatever had not started yet is published by the next process, once.
    let _second = start(server(&api)).await;
    assert_published_once(&api, &[(request_id, text.to_owned())]).await;
    api.stop().await;
}

/// A video YouTube is still processing when the process dies: the next process resumes
/// looking at it — one upload session, one video — and publishes it.
async fn killed_while_the_platform_processes_then_restarted_uploads_nothing_again(app: &TestApp) {
    let api = api_only(app).await;
    let link = api.profile_with_link("vlogger", json!({})).await;
    api.connect_on_page(&link, "youtube", Consent::Allow { person: 0 })
        .await;
    api.sandbox_control(json!({"platform": "youtube", "processing_ms": 4000}))
        .await;
    let mut first = start(server(&api)).await;
    let clip = video::mp4(8_000, 1280, 720, 3 << 20);
    let form = reqwest::multipart::Form::new()
        .text("user", "vlogger")
        .text("platform[]", "youtube")
        .text("title", "Processing across a crash")
        .text("async_upload", "true")
        .part(
            "video",
            reqwest::multipart::Part::bytes(clip)
                .file_name("clip.mp4")
                .mime_str("video/mp4")
                .unwrap(),
        );
    let resp = reqwest::Client::new()
        .post(format!("{}/api/upload", first.address))
        .header("Authorization", format!("Apikey {}", api.api_key))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let accepted: Value = resp.json().await.unwrap();
    let request_id = accepted["request_id"]
        .as_str()
        .expect("accepted")
        .to_owned();
    until(
        Duration::from_secs(30),
        "YouTube processing the uploaded video",
        async || {
            api.with_db(|conn| {
                use diesel::prelude::*;
                use postgate::db::schema::upload_processing::dsl as p;
                p::upload_processing
                    .select(p::state)
                    .load::<String>(conn)
                    .unwrap()
                    .iter()
                    .any(|state| state.contains("\"processing\""))
            })
            .await
        },
    )
    .await;
    first.kill();
    let _second = start(server(&api)).await;
    let status_path = format!("/status?request_id={request_id}");
    until(
        Duration::from_secs(60),
        "the video to be published",
        async || {
            let (_, body) = send(api.get(&status_path)).await;
            body["status"] == "completed"
        },
    )
    .await;
    let (_, body) = send(api.get(&status_path)).await;
    assert_eq!(body["results"][0]["success"], true, "{body}");
    let sessions = api
        .sandbox_calls()
        .await
        .into_iter()
        .filter(|(p, e, m)| p == "youtube" && e == "videos_upload" && m == "POST")
        .count();
    assert_eq!(sessions, 1, "one upload session, across the crash");
    let videos = api
        .with_db(|conn| {
            let since = time::now() - chrono::Duration::hours(1);
            postgate::db::sandbox::posts_since(conn, Platform::Youtube, 0, since, 100)
                .expect("sandbox posts")
                .len()
        })
        .await;
    assert_eq!(videos, 1, "one video");
    api.stop().await;
}

async fn two_processes_publish_each_post_once(app: &TestApp) {
    assert_eq!(app.test_db.backend, Backend::Postgres);
    let api = api_only(app).await;
    // Due together in a few seconds, so both processes find them at once.
    let at = (chrono::Utc::now() + chrono::Duration::seconds(4))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let mut accepted = Vec::new();
    for i in 0..30 {
        let text = format!("scheduled post {i}");
        let id = upload(
            &api.client,
            &api.address,
            &api.api_key,
            &text,
            &[("scheduled_date", &at)],
        )
        .await
        .expect("accepted");
        accepted.push((id, text));
    }
    let (c1, c2) = (server(&api), server(&api));
    let a = std::thread::spawn(move || ServerProcess::start(c1));
    let _b = start(c2).await;
    let _a = a.join().unwrap();
    assert_published_once(&api, &accepted).await;
    // Each platform of each upload taken by one process, once.
    for (request_id, _) in &accepted {
        let (_, body) = send(api.get(&format!("/status?request_id={request_id}"))).await;
        for r in body["results"].as_array().unwrap() {
            assert_eq!(r["attempts"], 1, "{body}");
        }
    }
    api.stop().await;
}

async fn two_processes_share_one_allowance(app: &TestApp) {
    assert_eq!(app.test_db.backend, Backend::Postgres);
    let api = api_only(app).await;
    let start_limited = || {
        let mut cmd = server(&api);
        cmd.env("POSTGATE_PLANS__DEFAULT__MONTHLY_POSTS", "10");
        start(cmd)
    };
    let (a, b) = (start_limited().await, start_limited().await);
    // Scheduled for later: this is about counting, nothing needs to go out.
    let at = (chrono::Utc::now() + chrono::Duration::hours(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let client = reqwest::Client::new();
    let requests = (0..50).map(|i| {
        let address = if i % 2 == 0 { &a.address } else { &b.address };
        let text = format!("edge post {i}");
        let form = [
            ("user", "olivia"),
            ("platform[]", "x"),
            ("title", text.as_str()),
            ("scheduled_date", at.as_str()),
        ];
        send(
            client
                .post(format!("{address}/api/upload_text"))
                .header("Authorization", format!("Apikey {}", api.api_key))
                .form(&form),
        )
    });
    let answers = futures_util::future::join_all(requests).await;
    let accepted = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::ACCEPTED)
        .count();
    assert_eq!(accepted, 10, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|(s, _)| matches!(*s, StatusCode::ACCEPTED | StatusCode::TOO_MANY_REQUESTS)),
        "{answers:?}"
    );
    let (_, usage) = send(api.get("/usage")).await;
    assert_eq!(usage["posts"]["used"], 10, "{usage}");
    api.stop().await;
}
