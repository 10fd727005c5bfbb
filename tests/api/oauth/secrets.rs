//! Tokens never appear in plaintext: not in a real process's log, not in the database files.

use crate::cases;
use crate::support::process::ServerProcess;
use crate::support::sandbox::Consent;
use crate::support::wait::{self, WAIT};
use crate::support::{Backend, TestApp, TestDb};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

cases![tokens_never_appear_in_plaintext];

/// A real `postgate serve` with the sandbox on (by environment): connect, refresh, then look
/// for any token the emulator issued in everything the process logged and, on SQLite, in the
/// database files themselves.
async fn tokens_never_appear_in_plaintext(app: &TestApp) {
    // A database of its own: this test's in-process server would otherwise refresh the
    // process's tokens against its own emulator.
    let fresh = TestDb::new(app.test_db.backend);
    let mut cmd = app.cli();
    cmd.env("POSTGATE_DATABASE_URL", &fresh.url)
        .env("POSTGATE_SANDBOX", "true")
        .env("POSTGATE_OAUTH_REFRESH_INTERVAL_MS", "100")
        .env("POSTGATE_LOG", "debug");
    let mut server = tokio::task::spawn_blocking(move || ServerProcess::start(cmd))
        .await
        .unwrap();
    let curl = server
        .stdout_line("curl -H", Duration::from_secs(5))
        .expect("the first run prints a key");
    let key = curl
        .split("Apikey ")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_owned();
    for platform in ["x", "tiktok", "instagram"] {
        let control = app
            .client
            .post(format!("{}/sandbox/_control", server.address))
            .json(&json!({"platform": platform, "expires_in": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(control.status(), StatusCode::OK);
    }
    for platform in ["x", "tiktok", "instagram"] {
        let done = app
            .connect_via_api(
                &server.api(""),
                &key,
                platform,
                "default",
                Consent::Allow { person: 0 },
            )
            .await;
        assert_eq!(done.status, StatusCode::OK, "{platform}: {}", done.body);
    }
    // Wait for refreshes, so refresh answers went through the process too.
    wait::until(WAIT, "refreshes", async || {
        let calls: Vec<Value> = app
            .client
            .get(format!("{}/sandbox/_control/calls", server.address))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let refreshes = calls
            .iter()
            .filter(|c| c["endpoint"] == "token" || c["endpoint"] == "refresh")
            .count();
        refreshes >= 8
    })
    .await;
    server.terminate();
    let logged = server.drain_output().join("\n");
    assert!(logged.contains("oauth"), "the log was read:\n{logged}");
    for secret in [
        "sbx-at-",
        "sbx-rt-",
        "code_verifier",
        "client_secret=sandbox",
    ] {
        assert!(!logged.contains(secret), "{secret} in the log:\n{logged}");
    }
    let db = postgate::db::Db::connect(
        &postgate::db::DatabaseUrl::parse(&fresh.url).unwrap(),
        1,
        Duration::from_secs(5),
    )
    .unwrap();
    let rows = db
        .run(|c| {
            use diesel::prelude::*;
            use postgate::db::schema::{oauth_states, oauth_tokens};
            let tokens: Vec<(String, Option<String>)> = oauth_tokens::table
                .select((oauth_tokens::access_token, oauth_tokens::refresh_token))
                .load(c)
                .unwrap();
            let verifiers: Vec<String> = oauth_states::table
                .select(oauth_states::pkce_verifier)
                .load(c)
                .unwrap();
            Ok::<_, postgate::error::ApiError>((tokens, verifiers))
        })
        .await
        .unwrap();
    assert_eq!(rows.0.len(), 3);
    for (access, refresh) in &rows.0 {
        assert!(access.starts_with("v1.") && !access.contains("sbx-"));
        assert!(
            refresh
                .as_deref()
                .is_none_or(|r| r.starts_with("v1.") && !r.contains("sbx-"))
        );
    }
    assert_eq!(
        rows.0.iter().filter(|(_, r)| r.is_some()).count(),
        2,
        "Instagram has none"
    );
    assert!(
        rows.1.iter().all(|v| v.starts_with("v1.")),
        "PKCE verifiers sealed too"
    );
    if app.test_db.backend == Backend::Sqlite {
        let db_path = fresh.url.trim_start_matches("sqlite://").to_owned();
        assert!(std::path::Path::new(&db_path).exists(), "{db_path}");
        for file in [db_path.clone(), format!("{db_path}-wal")] {
            // The write-ahead log may have been checkpointed away; the database may not.
            let Ok(bytes) = std::fs::read(&file) else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains("sbx-at-") && !text.contains("sbx-rt-"),
                "plaintext token in {file}"
            );
        }
    }
}
