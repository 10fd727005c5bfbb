//! The Connect API: starting and finishing a connection without the hosted page, and
//! disconnecting by API or by deleting the profile, which revokes the grants.

use crate::support::sandbox::Consent;
use crate::support::wait::{self, WAIT};
use crate::support::{TestApp, send};
use crate::{assert_wire, cases};
use reqwest::{Method, StatusCode};
use serde_json::json;

cases![
    connect_api_start_and_return,
    disconnect_by_api_revokes_at_the_platform,
    deleting_a_profile_revokes_its_grants,
];

async fn connect_api_start_and_return(app: &TestApp) {
    app.create_profile("api-user").await;
    let back = format!("{}/after-connect?from=app", app.address);
    let (status, started) = send(app.post(
        "/oauth/google-business/start",
        &json!({"profile": "api-user", "redirect_url": back}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    assert_eq!(started["platform"], "google_business");
    assert_eq!(started["expires_in"], 900);
    let state = started["state"].as_str().unwrap();
    assert!(state.len() >= 32, "at least 190 bits");
    let authorize = started["authorize_url"].as_str().unwrap();
    assert!(authorize.contains(&format!("state={state}")));
    assert!(authorize.contains("code_challenge_method=S256"));
    assert!(authorize.contains("access_type=offline"));
    assert_wire!("oauth_start_200", status, started, {
        ".body.state" => "[state]",
        ".body.authorize_url" => "[authorize_url]",
    });
    let callback = app.consent(authorize, Consent::Allow { person: 0 }).await;
    let hop = app.hop(&callback).await;
    let location = hop.location.unwrap();
    assert!(location.starts_with(&back), "{location}");
    assert!(
        location.contains("connect_status=success&platform=google_business"),
        "{location}"
    );
    assert!(
        app.social_account("api-user", "google_business")
            .await
            .is_object()
    );
    // Cancelled: Upload-Post's parameters.
    let (_, started) = send(app.post(
        "/oauth/twitter/start",
        &json!({"profile": "api-user", "redirect_url": back}),
    ))
    .await;
    assert_eq!(started["platform"], "x", "twitter is x");
    let callback = app
        .consent(started["authorize_url"].as_str().unwrap(), Consent::Deny)
        .await;
    let location = app.hop(&callback).await.location.unwrap();
    assert!(
        location.contains("connect_status=cancelled&platform=x&error_code=ACCESS_DENIED"),
        "{location}"
    );
    // Without a redirect_url: a page says how it went.
    let (_, started) =
        send(app.post("/oauth/linkedin/start", &json!({"profile": "api-user"}))).await;
    let callback = app
        .consent(
            started["authorize_url"].as_str().unwrap(),
            Consent::Allow { person: 0 },
        )
        .await;
    let done = app.hop(&callback).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(
        done.body
            .contains("LinkedIn is connected. You can close this window.")
    );
    // With the profile's own token instead of the API key.
    let token = app.link_token("api-user", json!({})).await;
    assert_eq!(
        app.status_as_link(Method::POST, "/oauth/tiktok/start", &token, json!({}))
            .await,
        StatusCode::OK
    );
    // Refusals.
    let readonly = app
        .link_token("api-user", json!({"readonly_calendar": true}))
        .await;
    assert_eq!(
        app.status_as_link(Method::POST, "/oauth/tiktok/start", &readonly, json!({}))
            .await,
        StatusCode::FORBIDDEN
    );
    for (i, (path, body, status, code)) in [
        (
            "/oauth/tiktok/start",
            json!({}),
            StatusCode::BAD_REQUEST,
            "INVALID_FIELD",
        ),
        (
            "/oauth/tiktok/start",
            json!({"profile": "nobody"}),
            StatusCode::NOT_FOUND,
            "PROFILE_NOT_FOUND",
        ),
        (
            "/oauth/myspace/start",
            json!({"profile": "api-user"}),
            StatusCode::NOT_FOUND,
            "UNKNOWN_PLATFORM",
        ),
        (
            "/oauth/bluesky/start",
            json!({"profile": "api-user"}),
            StatusCode::BAD_REQUEST,
            "UNSUPPORTED_SIGN_IN",
        ),
        (
            "/oauth/tiktok/start",
            json!({"profile": "api-user", "redirect_url": "javascript:alert(1)"}),
            StatusCode::BAD_REQUEST,
            "INVALID_FIELD",
        ),
        (
            "/oauth/tiktok/start",
            json!({"profile": "api-user", "redirect_url": format!("https://a.example/{}", "x".repeat(2001))}),
            StatusCode::BAD_REQUEST,
            "INVALID_FIELD",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let (s, body) = send(app.post(path, &body)).await;
        assert_eq!(s, status, "{path}: {body}");
        assert_eq!(body["error_code"], code, "{path}: {body}");
        assert_eq!(body["success"], false);
        assert_wire!(
            format!("oauth_start_{}_{i}_{}", s.as_u16(), code.to_lowercase()),
            s,
            body
        );
    }
    // Another account cannot start for this profile.
    let (_, other_key) = app.new_account("default").await;
    let (s, _) = send(app.post_as(
        &other_key,
        "/oauth/tiktok/start",
        &json!({"profile": "api-user"}),
    ))
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn disconnect_by_api_revokes_at_the_platform(app: &TestApp) {
    let token = app.profile_with_link("leaving", json!({})).await;
    app.connect_on_page(&token, "x", Consent::Allow { person: 0 })
        .await;
    let (_, other_key) = app.new_account("default").await;
    let (status, _) = send(app.delete_as(
        &other_key,
        "/users/social",
        &json!({"username": "leaving", "platform": "x"}),
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not another tenant's");
    let (status, body) = send(app.delete(
        "/users/social",
        &json!({"username": "leaving", "platform": "twitter"}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["revoked_at_platform"], true);
    assert_eq!(body["platform"], "x");
    assert_wire!("social_delete_200", status, body);
    assert!(
        app.sandbox_calls()
            .await
            .iter()
            .any(|(p, e, _)| p == "x" && e == "revoke")
    );
    let (status, body) = send(app.delete(
        "/users/social",
        &json!({"username": "leaving", "platform": "x"}),
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error_code"], "NOT_CONNECTED");
    assert_wire!("social_delete_404_not_connected", status, body);
    let (status, body) = send(app.delete("/users/social", &json!({"username": "leaving"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_wire!("social_delete_400_no_platform", status, body);
}

async fn deleting_a_profile_revokes_its_grants(app: &TestApp) {
    let token = app.profile_with_link("doomed", json!({})).await;
    for platform in ["tiktok", "bluesky"] {
        app.connect_on_page(&token, platform, Consent::Allow { person: 0 })
            .await;
    }
    let (status, _) = send(app.delete("/users", &json!({"username": "doomed"}))).await;
    assert_eq!(status, StatusCode::OK);
    wait::until(WAIT, "revocations after the deletion", async || {
        let calls = app.sandbox_calls().await;
        calls.iter().any(|(p, e, _)| p == "tiktok" && e == "revoke")
            && calls
                .iter()
                .any(|(p, e, _)| p == "bluesky" && e == "delete_session")
    })
    .await;
    let left = app
        .with_db(|c| {
            use diesel::prelude::*;
            postgate::db::schema::oauth_tokens::table
                .count()
                .get_result::<i64>(c)
                .unwrap()
        })
        .await;
    assert_eq!(left, 0, "the tokens went with the profile");
}
