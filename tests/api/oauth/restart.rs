//! The sandbox keeps its state in the database: a server started after another stopped
//! honours the tokens, faults, settings and call log of the first, and servers sharing
//! one database are one platform (a code works once, whichever of them it is shown to, even
//! raced; a scripted fault fails exactly one call).

use super::stored_tokens;
use crate::cases;
use crate::support::sandbox::Consent;
use crate::support::wait::{self, WAIT};
use crate::support::{TestApp, send};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use postgate::oauth::registry::{SANDBOX_CLIENT_PREFIX, SANDBOX_SECRET_PREFIX};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;

cases![
    a_restarted_server_honours_what_the_sandbox_issued,
    a_code_works_once_across_servers,
];

async fn a_restarted_server_honours_what_the_sandbox_issued(app: &TestApp) {
    // X rotates refresh tokens: the new server's refresh only works with the token the
    // old server's emulator issued. Its tokens live long enough that the old server
    // never refreshes them itself.
    app.sandbox_control(json!({"platform": "x", "expires_in": 6}))
        .await;
    let token = app.profile_with_link("keeper", json!({})).await;
    for platform in ["facebook", "x"] {
        app.connect_on_page(&token, platform, Consent::Allow { person: 0 })
            .await;
    }
    let before = stored_tokens(app, "keeper", "x").await.expect("stored");
    app.sandbox_control(TestApp::faults("linkedin", "userinfo", &["server_error"]))
        .await;
    let calls = app.sandbox_calls().await;
    assert!(calls.contains(&("facebook".into(), "token".into(), "POST".into())));
    app.stop().await;

    let other = TestApp::spawn_with(app.test_db.backend, |raw| {
        raw.database_url = Some(app.test_db.url.clone());
        raw.data_dir = app.test_db.dir.path().to_owned();
    })
    .await;
    // The call log and the scripted fault outlived the first server.
    let after = other.sandbox_calls().await;
    assert_eq!(after[..calls.len()], calls[..]);
    let userinfo = other.url("/sandbox/linkedin/v2/userinfo");
    let first = other.client.get(&userinfo).bearer_auth("x").send().await;
    assert_eq!(first.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE);
    let second = other.client.get(&userinfo).bearer_auth("x").send().await;
    assert_eq!(
        second.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "the fault was used up"
    );

    // A listing with the access token the first server's emulator issued.
    let (status, body) = send(other.get_as(&app.api_key, "/facebook/pages?profile=keeper")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["pages"].as_array().unwrap().len(), 2, "{body}");

    // The new server's refresh engine rotates the first server's refresh token, with the
    // lifetime set before the restart (the first server's pool still reads the database).
    wait::until(
        WAIT,
        "the X tokens refreshed by the new server",
        async || {
            let now = stored_tokens(app, "keeper", "x").await.unwrap();
            now.access_token != before.access_token
        },
    )
    .await;
    let now = stored_tokens(app, "keeper", "x").await.unwrap();
    assert_eq!(now.refresh_failures, 0, "{:?}", now.last_error);
    assert_ne!(now.refresh_token, before.refresh_token, "rotated");
    let life = now.expires_at.unwrap() - postgate::domain::time::now();
    assert!(life <= chrono::Duration::seconds(6), "{life}");
    let refreshes = other.sandbox_calls().await[after.len()..]
        .iter()
        .filter(|c| c.0 == "x" && c.1 == "token")
        .count();
    assert!(
        refreshes >= 1,
        "the refresh reached the new server's emulator"
    );
}

async fn a_code_works_once_across_servers(app: &TestApp) {
    // A second server on the same database whose public URL is the first's, as two
    // processes behind one address would be: a code issued by one redeems at the other.
    let twin = TestApp::spawn_with(app.test_db.backend, |raw| {
        raw.database_url = Some(app.test_db.url.clone());
        raw.data_dir = app.test_db.dir.path().to_owned();
        raw.public_url = Some(app.address.clone());
    })
    .await;
    let redirect_uri = callback_of(app).await;
    let code = new_code(app, &redirect_uri).await;
    let (status, tokens) = redeem(&twin, &code, &redirect_uri).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (status, again) = redeem(app, &code, &redirect_uri).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{again}");
    assert_eq!(again["error"], "invalid_grant");
    // And the token the twin issued works at the first server.
    let me = app
        .client
        .get(app.url("/sandbox/linkedin/v2/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);

    // Raced: one redemption wins.
    let code = new_code(app, &redirect_uri).await;
    let (a, b) = tokio::join!(
        redeem(&twin, &code, &redirect_uri),
        redeem(app, &code, &redirect_uri)
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::BAD_REQUEST],
        "{a:?} {b:?}"
    );

    // Two scripted faults, four racing calls on the two servers: each fault used once.
    app.sandbox_control(TestApp::faults(
        "linkedin",
        "userinfo",
        &["server_error", "server_error"],
    ))
    .await;
    let userinfo = |server: &TestApp| {
        server
            .client
            .get(server.url("/sandbox/linkedin/v2/userinfo"))
            .bearer_auth("x")
            .send()
    };
    let answers = futures::future::join_all([
        userinfo(app),
        userinfo(&twin),
        userinfo(app),
        userinfo(&twin),
    ])
    .await;
    let failed = answers
        .iter()
        .filter(|r| r.as_ref().unwrap().status() == StatusCode::SERVICE_UNAVAILABLE)
        .count();
    assert_eq!(failed, 2);
}

/// Allows LinkedIn on `app`'s consent page directly: the code it sends back.
async fn new_code(app: &TestApp, redirect_uri: &str) -> String {
    let consent = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/sandbox/linkedin/_consent"))
        .form(&[
            ("redirect_uri", redirect_uri),
            ("state", "s"),
            ("code_challenge", ""),
            ("decision", "allow"),
            ("person", "1"),
            ("scope", "openid"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(consent.status(), StatusCode::FOUND);
    let back = url::Url::parse(consent.headers()["location"].to_str().unwrap()).unwrap();
    back.query_pairs()
        .find(|(k, _)| k == "code")
        .expect("a code")
        .1
        .into_owned()
}

/// The redirect URI Postgate registers for LinkedIn on `app`, from an authorization it starts.
async fn callback_of(app: &TestApp) -> String {
    app.create_profile("twin").await;
    let (status, started) =
        send(app.post("/oauth/linkedin/start", &json!({"profile": "twin"}))).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let authorize = url::Url::parse(started["authorize_url"].as_str().unwrap()).unwrap();
    let query: HashMap<String, String> = authorize.query_pairs().into_owned().collect();
    query["redirect_uri"].clone()
}

/// Redeems `code` at `app`'s LinkedIn token endpoint with the sandbox app's credentials.
async fn redeem(app: &TestApp, code: &str, redirect_uri: &str) -> (StatusCode, Value) {
    let id = format!("{SANDBOX_CLIENT_PREFIX}linkedin");
    let secret = format!("{SANDBOX_SECRET_PREFIX}linkedin");
    let resp = app
        .client
        .post(app.url("/sandbox/linkedin/oauth/v2/accessToken"))
        .header(
            "Authorization",
            format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))),
        )
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", &id),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap())
}
