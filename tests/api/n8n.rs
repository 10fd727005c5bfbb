//! What the n8n node (n8n-nodes-upload-post 0.1.32) reads, reproduced request for request:
//! its credential test, its dropdown loaders (profiles, Facebook and LinkedIn pages,
//! Pinterest boards), and its publishing: an upload with the node's explicit defaults, its
//! "wait for completion" poller, and its "Edit Scheduled" POST.

use crate::cases;
use crate::support::sandbox::Consent;
use crate::support::{TestApp, send};
use reqwest::StatusCode;
use serde_json::Value;
use serde_json::json;

cases![
    credential_test,
    profile_dropdown,
    page_and_board_dropdowns,
    upload_and_wait_for_completion,
    edit_scheduled_by_post,
];

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

/// The node's upload: always multipart, `async_upload` on by default, empty strings for
/// fields left blank, and its explicit defaults for other platforms' options.
async fn n8n_upload(app: &TestApp, extra: &[(&str, &str)]) -> Value {
    let mut form = reqwest::multipart::Form::new()
        .text("user", "n8n-poster")
        .text("platform[]", "bluesky")
        .text("title", "From a workflow")
        .text("async_upload", "true")
        .text("facebook_page_id", "")
        .text("disable_duet", "false")
        .text("share_to_feed", "true")
        .text("cover_timestamp", "1000");
    for (k, v) in extra {
        form = form.text(k.to_string(), v.to_string());
    }
    let (status, body) = send(
        app.client
            .post(app.url("/api/upload_text"))
            .header("Authorization", format!("Apikey {}", app.api_key))
            .header("User-Agent", "n8n")
            .multipart(form),
    )
    .await;
    assert!(status.is_success(), "{status}: {body}");
    body
}

async fn connected_poster(app: &TestApp) {
    let token = app.profile_with_link("n8n-poster", json!({})).await;
    app.connect_on_page(&token, "bluesky", Consent::Allow { person: 0 })
        .await;
}

/// "Wait for completion": poll status with the upload's `request_id` until `success` is
/// true or the lower-cased status is one of success/completed/failed/error.
async fn upload_and_wait_for_completion(app: &TestApp) {
    connected_poster(app).await;
    let body = n8n_upload(app, &[]).await;
    let request_id = body["request_id"].as_str().expect("request_id").to_owned();
    let mut last = Value::Null;
    for _ in 0..300 {
        let (status, polled) = send(app.get(&format!("/status?request_id={request_id}"))).await;
        assert_eq!(status, StatusCode::OK, "{polled}");
        let state = polled["status"].as_str().unwrap_or("").to_lowercase();
        let stop = polled["success"] == true
            || ["success", "completed", "failed", "error"].contains(&state.as_str());
        if !stop {
            assert!(
                polled.get("success").is_none(),
                "success before the end: {polled}"
            );
        }
        last = polled;
        if stop {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(last["status"], "completed", "{last}");
    assert_eq!(last["results"][0]["success"], true, "{last}");
}

/// "Edit Scheduled" POSTs the new date, with the `Z` n8n appends when there is no offset.
async fn edit_scheduled_by_post(app: &TestApp) {
    connected_poster(app).await;
    let at = |hours| {
        (chrono::Utc::now() + chrono::Duration::hours(hours))
            .format("%Y-%m-%dT%H:%M:%S.000Z")
            .to_string()
    };
    let body = n8n_upload(app, &[("scheduled_date", &at(2))]).await;
    let job_id = body["job_id"].as_str().expect("job_id").to_owned();
    let (status, edited) = send(app.post(
        &format!("/schedule/{job_id}"),
        &json!({"scheduled_date": at(4)}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["job_id"], job_id.as_str());
    let (status, deleted) = send(app.delete(&format!("/schedule/{job_id}"), &json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
}
