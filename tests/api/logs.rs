//! The log of a real `postgate serve` process, at debug level, while requests take their
//! error paths: no request writes more than a few KiB whatever it sends, no credential
//! (API key, link token, OAuth code or state, password, media signature) reaches it, and a
//! value from a request cannot start a log line of its own.

use crate::cases;
use crate::support::TestApp;
use crate::support::process::ServerProcess;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;

cases![logs_are_bounded_secret_free_and_one_line_per_event];

/// Most log bytes one request may cause.
const MAX_LOG_BYTES_PER_REQUEST: usize = 4 * 1024;

async fn logs_are_bounded_secret_free_and_one_line_per_event(app: &TestApp) {
    let mut cli = app.cli();
    cli.env("POSTGATE_LOG", "debug");
    let mut server = tokio::task::spawn_blocking(move || ServerProcess::start(cli))
        .await
        .unwrap();
    let base = server.address.clone();
    let client = reqwest::Client::new();
    let key = format!("Apikey {}", app.api_key);
    let api = |path: &str| format!("{base}/api/uploadposts{path}");

    // A link whose page settings are as large as they may be.
    let labels: serde_json::Map<String, Value> = (0..100)
        .map(|i| (format!("label.{i}"), json!("L".repeat(300))))
        .collect();
    let created = client
        .post(api("/users"))
        .header("Authorization", &key)
        .json(&json!({"username": "olivia"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let link: Value = client
        .post(api("/users/generate-jwt"))
        .header("Authorization", &key)
        .json(&json!({"username": "olivia", "ui_labels": labels,
            "connect_description": "D".repeat(1000)}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = link["access_url"]
        .as_str()
        .and_then(|u| u.split_once("token="))
        .expect("token")
        .1
        .to_owned();

    let secrets = [
        app.api_key.clone(),
        token.clone(),
        "pgk_GUESSEDKEYGUESSEDKEY".to_owned(),
        "OAUTHCODE123456".to_owned(),
        "OAUTHSTATE123456".to_owned(),
        "hunter2-app-password".to_owned(),
        "MEDIASIGNATURE99".to_owned(),
    ];
    let big = "B".repeat(60_000);
    let requests: Vec<(&str, reqwest::RequestBuilder)> = vec![
        ("page", client.get(format!("{base}/connect?token={token}"))),
        (
            "page-bad-form",
            client.post(format!("{base}/connect/start")).form(&[
                ("token", token.as_str()),
                ("csrf", "forged"),
                ("platform", "x"),
            ]),
        ),
        (
            "page-unknown-tab",
            client.get(format!("{base}/connect?token={token}&tab=nope")),
        ),
        (
            "calendar-bad-month",
            client.get(format!(
                "{base}/connect/calendar?token={token}&month=1999-99"
            )),
        ),
        (
            "signin",
            client.post(format!("{base}/connect/signin")).form(&[
                ("token", token.as_str()),
                ("csrf", "forged"),
                ("platform", "bluesky"),
                ("identifier", "olivia.bsky.social"),
                ("password", "hunter2-app-password"),
            ]),
        ),
        (
            "callback",
            client.get(api(
                "/oauth/callback/x?code=OAUTHCODE123456&state=OAUTHSTATE123456",
            )),
        ),
        (
            "bearer",
            client
                .post(api("/oauth/x/start"))
                .bearer_auth(&token)
                .json(&json!({"redirect_url": "javascript:alert(1)"})),
        ),
        (
            "bad-key",
            client
                .get(api("/users"))
                .header("Authorization", "Apikey pgk_GUESSEDKEYGUESSEDKEY"),
        ),
        (
            "media-signature",
            client.get(format!("{base}/media/abc?exp=1&sig=MEDIASIGNATURE99")),
        ),
        (
            "newline-in-path",
            client
                .get(api("/users/a%0A%7B%22forged%22%3Atrue%7D"))
                .header("Authorization", &key),
        ),
        (
            "long-path",
            client
                .get(api(&format!("/users/{}", "P".repeat(6000))))
                .header("Authorization", &key),
        ),
        (
            "big-body",
            client
                .post(api("/users"))
                .header("Authorization", &key)
                .json(&json!({"username": "u2", "name": big})),
        ),
        (
            "bad-json",
            client
                .post(api("/users/generate-jwt"))
                .header("Authorization", &key)
                .header("Content-Type", "application/json")
                .body(format!("{{\"username\": \"{big}\n")),
        ),
    ];
    let mut ids = Vec::new();
    for (name, req) in requests {
        let id = format!("logtest-{name}");
        let resp = req.header("X-Request-Id", &id).send().await.unwrap();
        let _ = resp.bytes().await;
        ids.push(id);
    }

    let lines = tokio::task::spawn_blocking(move || {
        let lines = server.drain_output();
        server.kill();
        lines
    })
    .await
    .unwrap();
    let mut per_request: HashMap<&str, usize> = HashMap::new();
    for line in &lines {
        let parsed: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("a log line that is not one JSON event ({e}): {line}"));
        assert!(parsed.is_object(), "{line}");
        for secret in &secrets {
            assert!(
                !line.contains(secret.as_str()),
                "a secret in the log: {line}"
            );
        }
        for id in &ids {
            if line.contains(id.as_str()) {
                *per_request.entry(id.as_str()).or_default() += line.len() + 1;
            }
        }
    }
    for id in &ids {
        let bytes = per_request.get(id.as_str()).copied().unwrap_or(0);
        assert!(
            bytes <= MAX_LOG_BYTES_PER_REQUEST,
            "{id} logged {bytes} bytes:\n{}",
            lines
                .iter()
                .filter(|l| l.contains(id.as_str()))
                .map(|l| &l[..l.len().min(600)])
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    // The debug log did record the requests (the test reads a live log, not an empty one).
    assert!(
        per_request.len() >= ids.len() / 2,
        "requests appear in the log: {per_request:?}"
    );
}
