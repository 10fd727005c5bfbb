//! What the n8n node (n8n-nodes-upload-post 0.1.32) reads, reproduced request for request:
//! its credential test and its profile dropdown loader.

use crate::cases;
use crate::support::{TestApp, send};
use reqwest::StatusCode;
use serde_json::Value;

cases![credential_test, profile_dropdown];

/// `GET /uploadposts/me` with `Authorization: Apikey <key>` and n8n's headers: any 2xx
/// passes, anything else fails the credential.
async fn credential_test(app: &TestApp) {
    let me = |key: &str| {
        app.client
            .get(app.api("/me"))
            .header("Authorization", format!("Apikey {key}"))
            .header("Accept", "application/json,text/html,application/xhtml+xml,application/xml,text/*;q=0.9, image/*;q=0.8, */*;q=0.7")
            .header("User-Agent", "n8n")
    };
    let (status, body) = send(me(&app.api_key)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    let (unlimited_id, unlimited_key) = app.new_account("unlimited").await;
    let (_, body) = send(me(&unlimited_key)).await;
    assert_eq!(body["account"]["id"], unlimited_id);
    assert_eq!(body["plan"], "Unlimited");
    assert!(body["limits"]["profiles"].is_null());
    let (status, _) = send(me("pgk_not_a_key")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// The loader lists `profiles[].username`, naming the platforms whose `social_accounts`
/// entry is an object (connected); `""` entries must not count.
async fn profile_dropdown(app: &TestApp) {
    app.create_profile("n8n-user").await;
    app.insert_connection("n8n-user", "tiktok", "dancer", false)
        .await;
    app.insert_connection("n8n-user", "linkedin", "pro", true)
        .await;
    let (status, resp) = send(app.get("/users")).await;
    assert_eq!(status, StatusCode::OK);
    let options: Vec<(String, String)> = resp["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let connected: Vec<&str> = p["social_accounts"]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(_, v)| matches!(v, Value::Object(_)))
                .map(|(k, _)| k.as_str())
                .collect();
            let username = p["username"].as_str().unwrap().to_owned();
            let name = if connected.is_empty() {
                username.clone()
            } else {
                format!("{username} ({})", connected.join(", "))
            };
            (name, username)
        })
        .collect();
    assert!(options.contains(&("default".to_owned(), "default".to_owned())));
    assert!(
        options.contains(&(
            "n8n-user (tiktok, linkedin)".to_owned(),
            "n8n-user".to_owned()
        )),
        "{options:?}"
    );
}
