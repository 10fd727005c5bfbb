//! Signing secrets: every delivery is signed, whichever way the account configured its
//! webhooks (and after clearing them), and secrets are sealed at rest, those stored in clear
//! by earlier versions included.

use crate::cases;
use crate::support::receiver::Receiver;
use crate::support::wait::{self, WAIT};
use crate::support::{TestApp, send};
use crate::webhooks::{secret_of, send_test, set_webhook};
use diesel::prelude::*;
use postgate::db::notifications;
use postgate::db::schema::notification_configs;
use reqwest::StatusCode;
use serde_json::json;

cases![
    every_webhook_path_signs_its_deliveries,
    a_delivery_without_a_secret_is_not_sent,
    secrets_are_sealed_at_rest,
    secrets_stored_in_clear_are_sealed_at_start,
];

/// The account's secret as stored.
async fn stored_secret(app: &TestApp, account_id: &str) -> Option<String> {
    let account_id = account_id.to_owned();
    app.with_db(move |c| {
        notifications::get(c, &account_id)
            .unwrap()
            .sealed_webhook_secret
    })
    .await
}

/// Writes the stored secret directly, as an earlier version could have left it.
async fn store_secret(app: &TestApp, account_id: &str, value: Option<&str>) {
    let (account_id, value) = (account_id.to_owned(), value.map(str::to_owned));
    app.with_db(move |c| {
        diesel::update(notification_configs::table.find(&account_id))
            .set(notification_configs::sealed_webhook_secret.eq(value))
            .execute(c)
            .unwrap()
    })
    .await;
}

/// Gives `username` (a new profile of the account behind `key`) a webhook to `receiver`.
async fn hooked_profile(app: &TestApp, key: &str, username: &str, receiver: &Receiver) {
    let (status, body) = send(app.post_as(key, "/users", &json!({"username": username}))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = send(app.post_as(
        key,
        "/users/profile-webhook",
        &json!({"profile_username": username, "webhook_url": receiver.url,
                "webhook_events": ["social_account_disconnected"]}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// A `social_account_disconnected` for the profile webhook of a new profile of the app's
/// account.
async fn profile_event(app: &TestApp, username: &str, receiver: &Receiver) {
    hooked_profile(app, &app.api_key, username, receiver).await;
    app.insert_connection(username, "youtube", "channel", false)
        .await;
    let (status, body) = send(app.delete("/users", &json!({"username": username}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn every_webhook_path_signs_its_deliveries(app: &TestApp) {
    let profile_hook = Receiver::start().await;
    // A profile webhook is the account's first webhook: it brings the secret.
    profile_event(app, "first", &profile_hook).await;
    profile_hook.wait_for_accepted(1, WAIT).await;
    let (_, settings) = send(app.get("/users/notifications")).await;
    let secret = settings["notifications"]["webhook_secret"]
        .as_str()
        .expect("a profile webhook gives the account a secret")
        .to_owned();
    // The account's own webhook, on the Python SDK's path, keeps it.
    let account_hook = Receiver::start().await;
    let (status, body) = send(app.post(
        "/notification-config",
        &json!({"webhook_url": account_hook.url}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(secret_of(app).await, secret);
    send_test(app).await;
    // Cleared: the secret stays, and the profile webhooks still sign with it.
    let (status, _) = send(app.delete("/users/notifications", &json!({}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(secret_of(app).await, secret);
    profile_event(app, "second", &profile_hook).await;
    // Set again on the docs' path: the same secret.
    set_webhook(app, &account_hook.url, json!({})).await;
    send_test(app).await;
    let account_got = account_hook.wait_for_accepted(2, WAIT).await;
    let profile_got = profile_hook.wait_for_accepted(2, WAIT).await;
    for r in account_got.iter().chain(&profile_got) {
        assert!(r.signed_with(&secret), "not signed: {:?}", r.headers);
    }
}

async fn a_delivery_without_a_secret_is_not_sent(app: &TestApp) {
    let receiver = app.receiving_webhooks().await;
    store_secret(app, &app.account_id, None).await;
    let id = send_test(app).await;
    let mut error = None;
    wait::until(WAIT, "the attempt to be recorded", async || {
        let (_, log) = send(app.get("/users/webhook-deliveries")).await;
        error = log["deliveries"]
            .as_array()
            .and_then(|all| all.iter().find(|d| d["id"] == id.as_str()))
            .and_then(|d| d["last_error"].as_str().map(str::to_owned));
        error.is_some()
    })
    .await;
    assert_eq!(
        error.as_deref(),
        Some("not sent: the account has no signing secret")
    );
    assert!(receiver.received().is_empty(), "sent unsigned");
}

async fn secrets_are_sealed_at_rest(app: &TestApp) {
    let receiver = app.receiving_webhooks().await;
    let secret = secret_of(app).await;
    let stored = stored_secret(app, &app.account_id).await.expect("stored");
    assert!(
        !stored.contains(&secret) && !stored.contains("whsec_"),
        "{stored}"
    );
    send_test(app).await;
    let got = receiver.wait_for_accepted(1, WAIT).await;
    assert!(got[0].signed_with(&secret));
    // A rotated secret is sealed too, and GET shows it in clear to its owner.
    let (_, body) = send(app.post("/users/webhook-secret", &json!({}))).await;
    let rotated = body["webhook_secret"].as_str().unwrap().to_owned();
    let stored = stored_secret(app, &app.account_id).await.expect("stored");
    assert!(!stored.contains(&rotated) && !stored.contains("whsec_"));
    assert_eq!(secret_of(app).await, rotated);
}

async fn secrets_stored_in_clear_are_sealed_at_start(app: &TestApp) {
    // As earlier versions left them: a secret in clear, and a profile webhook whose account
    // has no secret.
    let receiver = app.receiving_webhooks().await;
    let clear = "whsec_storedinclearbyanearlierversion";
    store_secret(app, &app.account_id, Some(clear)).await;
    let (other_id, other_key) = app.new_account("default").await;
    hooked_profile(app, &other_key, "unsigned", &receiver).await;
    store_secret(app, &other_id, None).await;
    app.stop().await;

    let restarted = TestApp::spawn_with(app.test_db.backend, |raw| {
        raw.database_url = Some(app.test_db.url.clone());
        raw.data_dir = app.test_db.dir.path().to_owned();
    })
    .await;
    let stored = stored_secret(&restarted, &app.account_id)
        .await
        .expect("kept");
    assert!(!stored.contains(clear), "{stored}");
    let (_, settings) = send(restarted.get_as(&app.api_key, "/users/notifications")).await;
    assert_eq!(settings["notifications"]["webhook_secret"], clear);
    let (_, settings) = send(restarted.get_as(&other_key, "/users/notifications")).await;
    assert!(
        settings["notifications"]["webhook_secret"]
            .as_str()
            .is_some_and(|s| s.starts_with("whsec_")),
        "{settings}"
    );
    let sealed = stored_secret(&restarted, &other_id).await.expect("created");
    assert!(!sealed.contains("whsec_"));
    let (status, _) =
        send(restarted.post_as(&app.api_key, "/users/notifications/test", &json!({}))).await;
    assert_eq!(status, StatusCode::OK);
    let got = receiver.wait_for_accepted(1, WAIT).await;
    assert!(got[0].signed_with(clear));
}
