//! What the n8n node (n8n-nodes-upload-post 0.1.32) reads, reproduced request for request:
//! its credential test and its dropdown loaders (profiles, Facebook and LinkedIn pages,
//! Pinterest boards).

use crate::cases;
use crate::support::sandbox::Consent;
use crate::support::{TestApp, send};
use reqwest::StatusCode;
use serde_json::Value;
use serde_json::json;

cases![credential_test, profile_dropdown, page_and_board_dropdowns];

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

/// n8n's option list from a listing: `resp[key]`, else `resp.data`, items' `id` and `name`.
fn options(resp: &Value, key: &str) -> Vec<(String, String)> {
    resp.get(key)
        .or_else(|| resp.get("data"))
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    (
                        i["name"].as_str().unwrap_or_default().to_owned(),
                        i["id"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The Facebook page, LinkedIn page and Pinterest board loaders: `GET …?profile=<chosen>`,
/// errors swallowed into an empty list; LinkedIn adds a fixed "Me (Personal Profile)".
/// Before a profile is picked, n8n sends its `__manual_user__` sentinel.
async fn page_and_board_dropdowns(app: &TestApp) {
    let token = app.profile_with_link("n8n-pages", json!({})).await;
    for platform in ["facebook", "linkedin", "pinterest"] {
        app.connect_on_page(&token, platform, Consent::Allow { person: 0 })
            .await;
    }
    let load = |path: &str, key: &'static str| {
        let req = app.get(path);
        async move {
            let (status, resp) = send(req).await;
            (status, options(&resp, key))
        }
    };
    let (status, fb) = load("/facebook/pages?profile=n8n-pages", "pages").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fb.len(), 2);
    assert!(
        fb.iter()
            .all(|(name, id)| !name.is_empty() && !id.is_empty()),
        "{fb:?}"
    );
    let (_, mut linkedin) = load("/linkedin/pages?profile=n8n-pages", "pages").await;
    linkedin.insert(0, ("Me (Personal Profile)".to_owned(), "me".to_owned()));
    assert_eq!(linkedin.len(), 3);
    assert!(
        linkedin[1].1.starts_with("urn:li:organization:"),
        "{linkedin:?}"
    );
    let (_, boards) = load("/pinterest/boards?profile=n8n-pages", "boards").await;
    assert_eq!(
        boards.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["Summer Recipes", "Home Ideas", "Drafts"]
    );
    // The sentinel is an unknown profile: a clean 404 that n8n turns into an empty list.
    let (status, sentinel) = load("/facebook/pages?profile=__manual_user__", "pages").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(sentinel.is_empty());
}
