//! Connection events (connected, reauth required, disconnected) reaching the webhook.

use crate::cases;
use crate::support::sandbox::Consent;
use crate::support::wait::{self, WAIT};
use crate::support::{TestApp, send};
use reqwest::StatusCode;
use serde_json::{Value, json};

cases![connection_events_reach_the_webhook];

async fn connection_events_reach_the_webhook(app: &TestApp) {
    let receiver = app.receiving_webhooks().await;
    app.sandbox_control(json!({"platform": "threads", "expires_in": 1}))
        .await;
    let token = app.profile_with_link("events", json!({})).await;
    app.connect_on_page(&token, "threads", Consent::Allow { person: 0 })
        .await;
    app.sandbox_control(TestApp::faults("threads", "refresh", &["invalid_grant"]))
        .await;
    wait::until(WAIT, "reauth", async || {
        app.social_account("events", "threads").await["reauth_required"] == true
    })
    .await;
    let (status, _) = send(app.delete(
        "/users/social",
        &json!({"username": "events", "platform": "threads"}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    let got = receiver.wait_for_accepted(3, WAIT).await;
    let events: Vec<Value> = got.iter().map(|r| r.json()).collect();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "social_account_connected",
            "social_account_reauth_required",
            "social_account_disconnected"
        ]
    );
    assert_eq!(events[0]["account_name"], "alex.rivera");
    assert_eq!(events[0]["platform"], "threads");
    assert_eq!(events[0]["profile_username"], "events");
    assert_eq!(events[0]["status"], "connected");
    assert_eq!(events[1]["reason"], "OAuthException");
    assert_eq!(events[2]["reason"], "manual_disconnect");
    for event in &events {
        let name = format!("webhook_body_{}", event["event"].as_str().unwrap());
        crate::assert_json_wire!(name, app.scrub(event), {});
    }
}
