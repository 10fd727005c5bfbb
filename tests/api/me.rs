//! `GET /api/uploadposts/me`.

use crate::support::{TestApp, send};
use crate::{assert_wire, cases};
use reqwest::StatusCode;

cases![me_describes_the_account, me_is_what_n8n_checks];

async fn me_describes_the_account(app: &TestApp) {
    app.create_profile("one").await;
    let (status, body) = send(app.get("/me")).await;
    assert_eq!(body["usage"]["profiles"], 2);
    assert_wire!("me_200", status, body);
}

/// n8n's credential test: `GET /me` with the `Apikey` header; any 2xx means valid.
async fn me_is_what_n8n_checks(app: &TestApp) {
    let req = app
        .client
        .get(app.api("/me"))
        .header("Authorization", format!("Apikey {}", app.api_key))
        .header("Accept", "application/json,text/html,application/xhtml+xml,application/xml,text/*;q=0.9, image/*;q=0.8, */*;q=0.7")
        .header("User-Agent", "n8n");
    let (status, body) = send(req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["success"], true);
    let (unlimited_id, unlimited_key) = app.new_account("unlimited").await;
    let (_, body) = send(app.get_as(&unlimited_key, "/me")).await;
    assert_eq!(body["account"]["id"], unlimited_id);
    assert_eq!(body["plan"], "Unlimited");
    assert!(body["limits"]["profiles"].is_null());
}
