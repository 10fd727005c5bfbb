//! A 1 GB video through a real `postgate serve` process: received, stored, probed and
//! published to the emulated YouTube in chunks, with the process's peak memory within
//! 100 MB of what it used idle — a video is streamed at every step, never held whole.

use crate::support::process::ServerProcess;
use crate::support::sandbox::Consent;
use crate::support::wait::until;
use crate::support::{TEST_LINK_SIGNING_KEY, TestApp, send, video};
use futures::StreamExt;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::AsyncReadExt;

crate::cases![a_gigabyte_video_is_published_in_flat_memory];

const GIGABYTE: usize = 1_000_000_000;
/// What the server may use above idle while it takes the video.
const HEADROOM: u64 = 100 * 1024 * 1024;

async fn a_gigabyte_video_is_published_in_flat_memory(app: &TestApp) {
    let link = app.profile_with_link("olivia", json!({})).await;
    app.connect_on_page(&link, "youtube", Consent::Allow { person: 0 })
        .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tour.mp4");
    let file = std::fs::File::create(&path).unwrap();
    tokio::task::spawn_blocking(move || video::write_mp4(file, 60_000, 1920, 1080, GIGABYTE))
        .await
        .unwrap();
    let size = std::fs::metadata(&path).unwrap().len();

    let mut cmd = app.cli();
    cmd.env("POSTGATE_SANDBOX", "true")
        .env("POSTGATE_LINK_SIGNING_KEY", TEST_LINK_SIGNING_KEY)
        .env("POSTGATE_PLANS__DEFAULT__MONTHLY_POSTS", "unlimited")
        .env("POSTGATE_PUBLISHING_POLL_MS", "50")
        .env("POSTGATE_PUBLISHING_PROCESSING_POLL_MAX_SECONDS", "1");
    let server = tokio::task::spawn_blocking(move || ServerProcess::start(cmd))
        .await
        .unwrap();
    app.sandbox_control(json!({"platform": "youtube", "processing_ms": 500}))
        .await;
    let client = reqwest::Client::new();
    let health = client
        .get(format!("{}/healthz", server.address))
        .send()
        .await
        .unwrap();
    assert!(health.status().is_success());
    let (idle, _) = server.memory();

    // The body is read from the file as it is sent: the test holds no gigabyte either.
    let reader = tokio::fs::File::open(&path).await.unwrap();
    let chunks = futures::stream::unfold(reader, |mut f| async move {
        let mut buf = vec![0u8; 1 << 20];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buf)), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    })
    .boxed();
    let part =
        reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(chunks), size)
            .file_name("tour.mp4")
            .mime_str("video/mp4")
            .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("user", "olivia")
        .text("platform[]", "youtube")
        .text("title", "A long tour")
        .text("async_upload", "true")
        .part("video", part);
    let resp = client
        .post(format!("{}/api/upload", server.address))
        .header("Authorization", format!("Apikey {}", app.api_key))
        .multipart(form)
        .timeout(Duration::from_secs(300))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let accepted: Value = resp.json().await.unwrap();
    assert!(status.is_success(), "{status}: {accepted}");
    let request_id = accepted["request_id"].as_str().unwrap().to_owned();

    let status_path = format!("/status?request_id={request_id}");
    until(
        Duration::from_secs(300),
        "the video to be published",
        async || {
            let (_, body) = send(app.get(&status_path)).await;
            matches!(body["status"].as_str(), Some("completed" | "failed"))
        },
    )
    .await;
    let (_, done) = send(app.get(&status_path)).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["results"][0]["success"], true, "{done}");
    let (_, peak) = server.memory();
    assert!(
        peak.saturating_sub(idle) < HEADROOM,
        "idle {} MB, peak {} MB",
        idle >> 20,
        peak >> 20
    );
}
