//! Code written for Upload-Post works unchanged: the official Python and npm SDKs, pinned and
//! unmodified but for the base URL, run their suites (`tests/clients/`) against Postgate.

use crate::cases;
use crate::support::clients::run_suite;
use crate::support::receiver::Receiver;
use crate::support::sandbox::Consent;
use crate::support::{TestApp, send, video};
use postgate::domain::Platform;
use std::time::Duration;

cases![
    python_sdk,
    npm_sdk,
    python_sdk_everywhere,
    npm_sdk_everywhere
];

/// A profile connected, through the sandbox, to every platform with Pages, boards or
/// locations (as its first fake person).
async fn connect_for_sdk(app: &TestApp, username: &str) {
    let token = app.profile_with_link(username, serde_json::json!({})).await;
    for platform in [
        "facebook",
        "linkedin",
        "pinterest",
        "google_business",
        "x",
        "bluesky",
    ] {
        let page = app
            .connect_on_page(&token, platform, Consent::Allow { person: 0 })
            .await;
        assert!(page.body.contains("is connected."), "{platform}");
    }
}

async fn python_sdk(app: &TestApp) {
    let receiver = Receiver::start().await;
    connect_for_sdk(app, "py-pages").await;
    let out = run_suite(
        "python",
        "suite",
        &app.url("/api"),
        &app.api_key,
        &[
            ("WEBHOOK_URL", &receiver.url),
            ("PAGES_PROFILE", "py-pages"),
        ],
    )
    .await;
    for method in [
        "create_user",
        "list_users",
        "generate_jwt",
        "validate_jwt",
        "get_user_preferences",
        "update_user_preferences",
        "get_notification_config",
        "update_notification_config",
        "get_facebook_pages",
        "get_linkedin_pages",
        "get_pinterest_boards",
        "get_google_business_locations",
        "select_google_business_location",
        "upload_text",
        "get_status",
        "upload_photos",
        "get_history",
        "get_job_status",
        "list_scheduled",
        "edit_scheduled",
        "cancel_scheduled",
        "retry_post",
        "unpublish_post",
        "delete_user",
    ] {
        assert!(
            out.contains(&format!("python: {method} ok")),
            "{method} not covered:\n{out}"
        );
    }
}

async fn npm_sdk(app: &TestApp) {
    let receiver = Receiver::start().await;
    connect_for_sdk(app, "node-pages").await;
    let out = run_suite(
        "node",
        "suite",
        &app.url("/api"),
        &app.api_key,
        &[
            ("WEBHOOK_URL", &receiver.url),
            ("PAGES_PROFILE", "node-pages"),
        ],
    )
    .await;
    for method in [
        "createUser",
        "listUsers",
        "generateJwt",
        "validateJwt",
        "getUserPreferences",
        "updateUserPreferences",
        "getNotificationConfig",
        "updateNotificationConfig",
        "testNotifications",
        "getFacebookPages",
        "getLinkedinPages",
        "getPinterestBoards",
        "getGoogleBusinessLocations",
        "selectGoogleBusinessLocation",
        "uploadText",
        "idempotencyKey",
        "getStatus",
        "uploadPhotos",
        "getHistory",
        "getJobStatus",
        "listScheduled",
        "editScheduled",
        "cancelScheduled",
        "retryPost",
        "unpublishPost",
        "deleteUser",
    ] {
        assert!(
            out.contains(&format!("node: {method} ok")),
            "{method} not covered:\n{out}"
        );
    }
    // The test notification the SDK asked for reaches the webhook it configured, signed.
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("node: testNotifications ok "))
        .expect("delivery id")
        .to_owned();
    let got = receiver.wait_for_accepted(1, Duration::from_secs(15)).await;
    assert_eq!(got[0].delivery_id(), id);
    let (_, config) = send(app.get("/users/notifications")).await;
    let secret = config["config"]["webhook_secret"].as_str().unwrap();
    assert!(got[0].signed_with(secret));
}

/// A profile connected to every platform, through the sandbox, as its first fake person;
/// the emulators process uploads quickly.
async fn connect_everywhere(app: &TestApp, username: &str) {
    let token = app.profile_with_link(username, serde_json::json!({})).await;
    for platform in Platform::ALL {
        let page = app
            .connect_on_page(&token, platform.key(), Consent::Allow { person: 0 })
            .await;
        assert!(page.body.contains("is connected."), "{platform:?}");
        app.sandbox_control(serde_json::json!({"platform": platform.key(), "processing_ms": 200}))
            .await;
    }
}

/// Runs an SDK's `everywhere` suite: `upload_video` to all eleven platforms and
/// `upload_photos` to the ten that take photos, each polled until final.
async fn everywhere(app: &TestApp, language: &str, username: &str) -> String {
    // Twenty-one posts: more than the test plan's monthly allowance.
    // The thumbnail (a poster Reddit needs for a video) is fetched from a local server.
    let app = &TestApp::spawn_with(app.test_db.backend, |raw| {
        if let Some(plan) = raw.plans.get_mut("default") {
            plan.monthly_posts = postgate::domain::Limit::Unlimited;
        }
        raw.webhooks_allow_private_targets = true;
    })
    .await;
    let files = crate::media::file_server().await;
    connect_everywhere(app, username).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tour.mp4");
    // Vertical, 12 s, a few megabytes: within every platform's limits, several chunks on
    // the chunked ones.
    std::fs::write(&path, video::mp4(12_000, 1080, 1920, 6 << 20)).unwrap();
    run_suite(
        language,
        "everywhere",
        &app.url("/api"),
        &app.api_key,
        &[
            ("EVERYWHERE_PROFILE", username),
            ("VIDEO", path.to_str().unwrap()),
            ("THUMBNAIL_URL", &format!("{files}/files/pixel.jpg")),
        ],
    )
    .await
}

async fn python_sdk_everywhere(app: &TestApp) {
    let out = everywhere(app, "python", "py-everywhere").await;
    for call in ["upload_video everywhere", "upload_photos everywhere"] {
        assert!(
            out.contains(&format!("python: {call} ok")),
            "{call}:\n{out}"
        );
    }
}

async fn npm_sdk_everywhere(app: &TestApp) {
    let out = everywhere(app, "node", "node-everywhere").await;
    for call in ["upload everywhere", "uploadPhotos everywhere"] {
        assert!(out.contains(&format!("node: {call} ok")), "{call}:\n{out}");
    }
}
