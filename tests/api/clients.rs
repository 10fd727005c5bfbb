//! Code written for Upload-Post works unchanged: the official Python and npm SDKs, pinned and
//! unmodified but for the base URL, run their suites (`tests/clients/`) against Postgate.

use crate::cases;
use crate::support::clients::run_suite;
use crate::support::receiver::Receiver;
use crate::support::sandbox::Consent;
use crate::support::{TestApp, send};
use std::time::Duration;

cases![python_sdk, npm_sdk];

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
        &app.url("/api"),
        &app.api_key,
        &receiver.url,
        "py-pages",
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
        &app.url("/api"),
        &app.api_key,
        &receiver.url,
        "node-pages",
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
