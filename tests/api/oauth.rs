//! Connecting accounts end to end against the built-in emulator, over real HTTP: every
//! platform's round trip, the ways platforms fail, tampering with the state, the Connect API,
//! disconnecting, refreshing, and tokens that never appear in plaintext.

use crate::cases;
use crate::support::connect::link_id_of;
use crate::support::process::ServerProcess;
use crate::support::receiver::Receiver;
use crate::support::sandbox::{Consent, PHONE_UA};
use crate::support::{Backend, TestApp, TestDb, send};
use postgate::db::oauth_tokens;
use postgate::domain::Platform;
use postgate::sandbox::people;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

cases![
    every_platform_connects_and_disconnects,
    the_same_identity_reconnects_in_place_another_replaces_it,
    denied_consent_is_reported_in_the_page_language,
    missing_permissions_are_refused,
    platform_failures_during_the_exchange,
    tampered_reused_and_expired_states_are_refused,
    phones_go_through_the_bounce_page,
    connect_api_start_and_return,
    disconnect_by_api_revokes_at_the_platform,
    deleting_a_profile_revokes_its_grants,
    bluesky_rejects_a_wrong_app_password,
    refresh_keeps_tokens_fresh_and_rotates,
    an_identity_belongs_to_one_account,
    transient_refresh_failures_never_flag_the_account,
    revoked_grant_requires_reauth_until_reconnected,
    a_grant_without_a_refresh_token_lapses_unflagged,
    connection_events_reach_the_webhook,
    pages_boards_and_locations_are_listed_live,
    pages_and_locations_are_pinned,
    a_lapsed_token_is_renewed_before_listing,
    a_slow_platform_does_not_hold_up_the_page,
    tokens_never_appear_in_plaintext,
    one_refresh_lease_among_many_takers,
];

const WAIT: Duration = Duration::from_secs(15);

/// Upload-Post shows an unconnected platform as `""` (lists) or `null`.
fn not_connected(v: &Value) -> bool {
    v.is_null() || v == ""
}

/// Every platform a link can offer.
fn all_platforms() -> Vec<&'static str> {
    Platform::ALL.iter().map(|p| p.key()).collect()
}

async fn stored_tokens(
    app: &TestApp,
    username: &str,
    platform: &str,
) -> Option<oauth_tokens::StoredTokens> {
    let profile_id = app.profile_id(username).await;
    let platform = platform.to_owned();
    app.with_db(move |c| {
        let connection = postgate::db::connections::find(c, &profile_id, &platform).unwrap()?;
        oauth_tokens::get(c, &connection.id).unwrap()
    })
    .await
}

async fn every_platform_connects_and_disconnects(app: &TestApp) {
    let token = app
        .profile_with_link("everyone", json!({"language": "en"}))
        .await;
    for platform in Platform::ALL {
        let key = platform.key();
        let page = app
            .connect_on_page(&token, key, Consent::Allow { person: 1 })
            .await;
        assert_eq!(page.status, StatusCode::OK, "{key}: {}", page.body);
        assert!(
            page.body
                .contains(&format!("{} is connected.", platform.display_name())),
            "{key}: the page says so"
        );
        assert!(page.body.contains(&format!("data-platform=\"{key}\"")));
        let account = app.social_account("everyone", key).await;
        assert_eq!(
            account["username"],
            people::platform_id(platform, 1),
            "{key}: {account}"
        );
        let handle = people::handle(platform, 1);
        let shown_handle = account["handle"].as_str().unwrap_or_default();
        assert!(
            shown_handle == handle
                || (key == "facebook" || key == "linkedin") && shown_handle.is_empty(),
            "{key}: handle {account}"
        );
        assert_eq!(account["display_name"], "Sam Chen", "{key}");
        assert!(
            account["social_images"]
                .as_str()
                .unwrap_or_default()
                .contains("/_avatar/1"),
            "{key}: avatar {account}"
        );
        assert_eq!(account["reauth_required"], false);
        if key == "tiktok" {
            let caps: Vec<&str> = account["capabilities"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert!(
                caps.contains(&"video_privacy") && caps.contains(&"draft"),
                "{caps:?}"
            );
        }
        // Stored encrypted, bound to the connection, with a refresh scheduled where the
        // platform's token expires.
        let stored = stored_tokens(app, "everyone", key)
            .await
            .expect("tokens stored");
        assert!(stored.access_token.starts_with("v1."), "{key}");
        assert!(!stored.access_token.contains("sbx-"), "{key}: sealed");
        assert!(stored.expires_at.is_some(), "{key}: expiry known");
        assert!(stored.refresh_due_at.is_some(), "{key}: refresh scheduled");
    }
    // The page and validate-jwt show all of them.
    let page = app.page(&format!("/connect?token={token}")).await;
    assert!(page.body.contains("11 of 11 connected"), "{}", page.body);
    assert!(page.body.contains("@samchen"));
    let (status, validated) = send(
        app.client
            .get(app.api("/users/validate-jwt"))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for key in all_platforms() {
        assert!(
            validated["profile"]["social_accounts"][key].is_object(),
            "{key}"
        );
    }
    // Disconnect each from the page: revoked at the platform where it can be, then gone.
    for platform in Platform::ALL {
        let key = platform.key();
        let csrf = app.page(&format!("/connect?token={token}")).await.csrf();
        let done = app
            .post_form(
                "/connect/disconnect",
                &[("token", &token), ("csrf", &csrf), ("platform", key)],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{key}: {}", done.body);
        let back = app.page(done.header("location")).await;
        assert!(
            back.body
                .contains(&format!("{} was disconnected.", platform.display_name())),
            "{key}"
        );
        assert!(
            not_connected(&app.social_account("everyone", key).await),
            "{key}"
        );
        assert!(
            stored_tokens(app, "everyone", key).await.is_none(),
            "{key}: tokens wiped"
        );
    }
    let calls = app.sandbox_calls().await;
    for (platform, endpoint) in [
        ("facebook", "permissions"),
        ("linkedin", "revoke"),
        ("tiktok", "revoke"),
        ("youtube", "revoke"),
        ("google_business", "revoke"),
        ("x", "revoke"),
        ("reddit", "revoke"),
        ("bluesky", "delete_session"),
    ] {
        assert!(
            calls
                .iter()
                .any(|(p, e, m)| p == platform && e == endpoint && m != "GET"),
            "{platform} revoked at {endpoint}: {calls:?}"
        );
    }
}

async fn the_same_identity_reconnects_in_place_another_replaces_it(app: &TestApp) {
    let receiver = Receiver::start().await;
    let (status, _) = send(app.post(
        "/users/notifications",
        &json!({"webhook_url": receiver.url}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    let token = app.profile_with_link("again", json!({})).await;
    app.connect_on_page(&token, "facebook", Consent::Allow { person: 0 })
        .await;
    let profile_id = app.profile_id("again").await;
    let first = app
        .with_db({
            let p = profile_id.clone();
            move |c| {
                postgate::db::connections::find(c, &p, "facebook")
                    .unwrap()
                    .unwrap()
            }
        })
        .await;
    app.with_db({
        let id = first.id.clone();
        move |c| {
            postgate::db::connections::pin(
                c,
                &id,
                Some(("109876543210001", "Alex Rivera's Bakery")),
            )
            .unwrap()
        }
    })
    .await;
    // Same person: the same row, the pin kept.
    let page = app
        .connect_on_page(&token, "facebook", Consent::Allow { person: 0 })
        .await;
    assert!(page.body.contains("Facebook is connected."));
    let again = app
        .with_db({
            let p = profile_id.clone();
            move |c| {
                postgate::db::connections::find(c, &p, "facebook")
                    .unwrap()
                    .unwrap()
            }
        })
        .await;
    assert_eq!(again.id, first.id);
    assert_eq!(again.selected_target_id.as_deref(), Some("109876543210001"));
    // "Use another account" forces the platform to ask again; another person replaces.
    let switch = app.press_connect(&token, "facebook", None, true).await;
    let authorize = switch.location.unwrap();
    assert!(
        authorize.contains("auth_type=reauthenticate"),
        "{authorize}"
    );
    let callback = app.consent(&authorize, Consent::Allow { person: 1 }).await;
    app.hop(&callback).await;
    let replaced = app
        .with_db(move |c| {
            postgate::db::connections::find(c, &profile_id, "facebook")
                .unwrap()
                .unwrap()
        })
        .await;
    assert_eq!(
        replaced.platform_user_id,
        people::platform_id(Platform::Facebook, 1)
    );
    assert_eq!(
        replaced.selected_target_id, None,
        "a pin belongs to the old identity"
    );
    // The old identity's grant was revoked.
    assert!(
        app.sandbox_calls()
            .await
            .iter()
            .any(|(p, e, m)| p == "facebook" && e == "permissions" && m == "DELETE")
    );
}

async fn denied_consent_is_reported_in_the_page_language(app: &TestApp) {
    let token = app
        .profile_with_link(
            "shy",
            json!({"language": "es", "platforms": ["facebook", "linkedin", "x"]}),
        )
        .await;
    for (platform, name) in [
        ("facebook", "Facebook"),
        ("linkedin", "LinkedIn"),
        ("x", "X"),
    ] {
        let page = app.connect_on_page(&token, platform, Consent::Deny).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body
                .contains(&format!("Cancelaste el inicio de sesión en {name}.")),
            "{platform}: {}",
            page.body
        );
        assert!(not_connected(&app.social_account("shy", platform).await));
    }
}

async fn missing_permissions_are_refused(app: &TestApp) {
    let token = app.profile_with_link("stingy", json!({})).await;
    let page = app
        .connect_on_page(
            &token,
            "tiktok",
            Consent::AllowWithout {
                person: 0,
                scope: "video.publish",
            },
        )
        .await;
    assert!(
        page.body
            .contains("Please allow every permission TikTok asks for. Missing: video.publish"),
        "{}",
        page.body
    );
    assert!(not_connected(&app.social_account("stingy", "tiktok").await));
}

async fn platform_failures_during_the_exchange(app: &TestApp) {
    let token = app.profile_with_link("unlucky", json!({})).await;
    // The platform's own refusal is named.
    app.sandbox_control(TestApp::faults("pinterest", "token", &["invalid_grant"]))
        .await;
    let page = app
        .connect_on_page(&token, "pinterest", Consent::Allow { person: 0 })
        .await;
    assert!(
        page.body.contains("Pinterest could not be connected."),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Pinterest said: invalid_grant"),
        "{}",
        page.body
    );
    // An outage, and a platform too slow to answer, are failures without blame.
    for fault in ["server_error", "slow"] {
        app.sandbox_control(TestApp::faults("youtube", "token", &[fault]))
            .await;
        let page = app
            .connect_on_page(&token, "youtube", Consent::Allow { person: 0 })
            .await;
        assert!(
            page.body.contains("YouTube could not be connected."),
            "{fault}: {}",
            page.body
        );
    }
    // A failing identity call after a good exchange stores nothing.
    app.sandbox_control(TestApp::faults("x", "me", &["server_error"]))
        .await;
    let page = app
        .connect_on_page(&token, "x", Consent::Allow { person: 0 })
        .await;
    assert!(page.body.contains("X could not be connected."));
    for p in ["pinterest", "youtube", "x"] {
        assert!(
            not_connected(&app.social_account("unlucky", p).await),
            "{p}"
        );
    }
    // And the next try works.
    let page = app
        .connect_on_page(&token, "x", Consent::Allow { person: 0 })
        .await;
    assert!(page.body.contains("X is connected."));
}

async fn tampered_reused_and_expired_states_are_refused(app: &TestApp) {
    let token = app.profile_with_link("tamper", json!({})).await;
    let start = app.press_connect(&token, "tiktok", None, false).await;
    let callback = app
        .consent(&start.location.unwrap(), Consent::Allow { person: 0 })
        .await;
    // The callback for another platform does not accept this state.
    let other = callback.replace("/callback/tiktok", "/callback/x");
    let hop = app.hop(&other).await;
    assert_eq!(hop.status, StatusCode::SEE_OTHER);
    let page = app
        .page(hop.location.unwrap().trim_start_matches(&app.address))
        .await;
    assert!(
        page.body.contains("took too long or was already used"),
        "{}",
        page.body
    );
    // … and the state was spent by that attempt: the real callback is refused too.
    let hop = app.hop(&callback).await;
    assert_eq!(hop.status, StatusCode::BAD_REQUEST);
    assert!(hop.body.contains("INVALID_STATE"));
    // A forged state, and none at all.
    for url in [
        "/api/uploadposts/oauth/callback/tiktok?state=forged&code=x",
        "/api/uploadposts/oauth/callback/tiktok?code=x",
        "/api/uploadposts/oauth/callback/nope?state=a&code=b",
    ] {
        let hop = app.hop(url).await;
        assert!(hop.status.is_client_error(), "{url}: {}", hop.status);
        assert!(!hop.body.contains("tamper"), "nothing about anyone");
    }
    // An expired state.
    let start = app.press_connect(&token, "tiktok", None, false).await;
    let callback = app
        .consent(&start.location.unwrap(), Consent::Allow { person: 0 })
        .await;
    let the_link = link_id_of(&token);
    app.with_db(move |c| {
        use diesel::prelude::*;
        use postgate::db::schema::oauth_states::dsl::*;
        diesel::update(oauth_states.filter(link_id.eq(Some(the_link))))
            .set(expires_at.eq(postgate::domain::time::now() - chrono::Duration::minutes(1)))
            .execute(c)
            .unwrap();
    })
    .await;
    let hop = app.hop(&callback).await;
    let page = app
        .page(hop.location.unwrap().trim_start_matches(&app.address))
        .await;
    assert!(page.body.contains("took too long"), "{}", page.body);
    // A state whose link was revoked in the meantime connects nothing.
    let start = app.press_connect(&token, "tiktok", None, false).await;
    let callback = app
        .consent(&start.location.unwrap(), Consent::Allow { person: 0 })
        .await;
    let (status, _) = send(app.post("/users/revoke-jwt", &json!({"jwt": token}))).await;
    assert_eq!(status, StatusCode::OK);
    app.hop(&callback).await;
    assert!(not_connected(&app.social_account("tamper", "tiktok").await));
    // A page outcome can only be shown to its own link.
    let other = app.profile_with_link("bystander", json!({})).await;
    let page = app
        .page(&format!("/connect?token={other}&oauth=anything"))
        .await;
    assert!(!page.body.contains("class=\"notice"));
}

async fn phones_go_through_the_bounce_page(app: &TestApp) {
    let token = app.profile_with_link("phone", json!({})).await;
    let start = app
        .press_connect(&token, "instagram", Some(PHONE_UA), false)
        .await;
    assert_eq!(start.status, StatusCode::SEE_OTHER);
    let bounce = start.location.unwrap();
    assert!(
        bounce.starts_with("/api/uploadposts/oauth/bounce?id="),
        "{bounce}"
    );
    let page = app.hop_as(&bounce, Some(PHONE_UA)).await;
    assert_eq!(page.status, StatusCode::OK);
    let marker = "id=\"continue\" class=\"button primary wide\" href=\"";
    let start_at = page.body.find(marker).expect("continue link") + marker.len();
    let authorize = page.body[start_at..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert!(
        authorize.contains("/sandbox/instagram/oauth/authorize?"),
        "{authorize}"
    );
    let callback = app.consent(&authorize, Consent::Allow { person: 2 }).await;
    let back = app.hop(&callback).await;
    let page = app
        .page(back.location.unwrap().trim_start_matches(&app.address))
        .await;
    assert!(page.body.contains("Instagram is connected."));
    // Desktop browsers go straight to the platform.
    let desktop = app.press_connect(&token, "instagram", None, false).await;
    assert!(
        desktop
            .location
            .unwrap()
            .contains("/sandbox/instagram/oauth/authorize?")
    );
}

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
    for (path, body, status, code) in [
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
    ] {
        let (s, body) = send(app.post(path, &body)).await;
        assert_eq!(s, status, "{path}: {body}");
        assert_eq!(body["error_code"], code, "{path}: {body}");
        assert_eq!(body["success"], false);
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
    let (status, _) = send(app.delete("/users/social", &json!({"username": "leaving"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn deleting_a_profile_revokes_its_grants(app: &TestApp) {
    let token = app.profile_with_link("doomed", json!({})).await;
    for platform in ["tiktok", "bluesky"] {
        app.connect_on_page(&token, platform, Consent::Allow { person: 0 })
            .await;
    }
    let (status, _) = send(app.delete("/users", &json!({"username": "doomed"}))).await;
    assert_eq!(status, StatusCode::OK);
    wait_for("revocations after the deletion", async || {
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

async fn bluesky_rejects_a_wrong_app_password(app: &TestApp) {
    let token = app
        .profile_with_link("sky", json!({"language": "de"}))
        .await;
    let page = app.connect_on_page(&token, "bluesky", Consent::Deny).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body
            .contains("Bluesky hat dieses Handle und App-Passwort nicht akzeptiert."),
        "{}",
        page.body
    );
    assert!(!page.body.contains("wrong"), "the password is never echoed");
    let page = app
        .connect_on_page(&token, "bluesky", Consent::Allow { person: 0 })
        .await;
    assert!(page.body.contains("Bluesky ist verbunden."));
    assert_eq!(
        app.social_account("sky", "bluesky").await["handle"],
        "alex-rivera.bsky.social"
    );
}

async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + WAIT;
    while std::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn refresh_keeps_tokens_fresh_and_rotates(app: &TestApp) {
    // Tokens that live 2 seconds, on every platform: each provider's refresh (standard
    // grants, Meta's token trades, Bluesky sessions) runs against the emulator. X, TikTok,
    // Pinterest and Bluesky rotate refresh tokens, so a second refresh only works if the
    // first one's token was stored.
    for platform in Platform::ALL {
        app.sandbox_control(json!({"platform": platform.key(), "expires_in": 2}))
            .await;
    }
    let token = app.profile_with_link("fresh", json!({})).await;
    let mut first = Vec::new();
    for platform in Platform::ALL {
        app.connect_on_page(&token, platform.key(), Consent::Allow { person: 0 })
            .await;
        first.push(
            stored_tokens(app, "fresh", platform.key())
                .await
                .expect("stored"),
        );
    }
    let rotating = ["x", "tiktok", "pinterest", "bluesky"];
    wait_for("two refreshes of every platform", async || {
        let mut all = true;
        for (i, platform) in Platform::ALL.iter().enumerate() {
            let now = stored_tokens(app, "fresh", platform.key()).await.unwrap();
            let before = &first[i];
            // Each refresh comes at 1.5 s of a 2 s life: two move the expiry 3 s on.
            all &= now.expires_at.unwrap()
                > before.expires_at.unwrap() + chrono::Duration::milliseconds(2500);
        }
        all
    })
    .await;
    for (i, platform) in Platform::ALL.iter().enumerate() {
        let key = platform.key();
        let now = stored_tokens(app, "fresh", key).await.unwrap();
        assert_ne!(
            now.access_token, first[i].access_token,
            "{key}: a new access token"
        );
        assert_eq!(now.refresh_failures, 0, "{key}: {:?}", now.last_error);
        assert!(now.refresh_due_at.is_some(), "{key}: still scheduled");
        assert_eq!(
            first[i].refresh_token.is_some(),
            now.refresh_token.is_some(),
            "{key}: never replaced by an empty one"
        );
        assert_eq!(
            app.social_account("fresh", key).await["reauth_required"],
            false,
            "{key}"
        );
    }
    let calls = app.sandbox_calls().await;
    for key in rotating {
        let endpoint = if key == "bluesky" {
            "refresh_session"
        } else {
            "token"
        };
        let n = calls
            .iter()
            .filter(|(p, e, _)| p == key && e == endpoint)
            .count();
        assert!(n >= 3, "{key}: {n} calls to {endpoint}");
    }
}

async fn an_identity_belongs_to_one_account(app: &TestApp) {
    let token = app.profile_with_link("mine", json!({})).await;
    app.connect_on_page(&token, "tiktok", Consent::Allow { person: 1 })
        .await;
    // Another profile of the same account may connect it too.
    let sibling = app.profile_with_link("sibling", json!({})).await;
    let page = app
        .connect_on_page(&sibling, "tiktok", Consent::Allow { person: 1 })
        .await;
    assert!(page.body.contains("TikTok is connected."));
    // Another API account may not.
    let (_, other_key) = app.new_account("default").await;
    let (_, created) =
        send(app.post_as(&other_key, "/users", &json!({"username": "theirs"}))).await;
    assert_eq!(created["success"], true);
    let (_, link) = send(app.post_as(
        &other_key,
        "/users/generate-jwt",
        &json!({"username": "theirs"}),
    ))
    .await;
    let url = link["access_url"].as_str().unwrap();
    let theirs = url.split("token=").nth(1).unwrap().to_owned();
    let page = app
        .connect_on_page(&theirs, "tiktok", Consent::Allow { person: 1 })
        .await;
    assert!(
        page.body
            .contains("This TikTok account is already connected to another workspace."),
        "{}",
        page.body
    );
    let (_, profile) = send(app.get_as(&other_key, "/users/theirs")).await;
    assert!(not_connected(
        &profile["profile"]["social_accounts"]["tiktok"]
    ));
}

async fn transient_refresh_failures_never_flag_the_account(app: &TestApp) {
    app.sandbox_control(json!({"platform": "tiktok", "expires_in": 1}))
        .await;
    let token = app.profile_with_link("bumpy", json!({})).await;
    app.connect_on_page(&token, "tiktok", Consent::Allow { person: 0 })
        .await;
    app.sandbox_control(json!({"platform": "tiktok", "expires_in": 3600}))
        .await;
    app.sandbox_control(TestApp::faults(
        "tiktok",
        "token",
        &["server_error", "rate_limited", "slow"],
    ))
    .await;
    wait_for("a refresh after three transient failures", async || {
        let stored = stored_tokens(app, "bumpy", "tiktok").await.unwrap();
        stored.refresh_failures == 0
            && stored
                .expires_at
                .is_some_and(|e| e > postgate::domain::time::now() + chrono::Duration::minutes(30))
    })
    .await;
    assert_eq!(
        app.social_account("bumpy", "tiktok").await["reauth_required"],
        false
    );
}

async fn revoked_grant_requires_reauth_until_reconnected(app: &TestApp) {
    app.sandbox_control(json!({"platform": "linkedin", "expires_in": 1}))
        .await;
    let token = app.profile_with_link("revoked", json!({})).await;
    app.connect_on_page(&token, "linkedin", Consent::Allow { person: 0 })
        .await;
    app.sandbox_control(json!({"platform": "linkedin", "expires_in": 3600}))
        .await;
    app.sandbox_control(TestApp::faults("linkedin", "token", &["invalid_grant"]))
        .await;
    wait_for("reauth_required", async || {
        app.social_account("revoked", "linkedin").await["reauth_required"] == true
    })
    .await;
    let stored = stored_tokens(app, "revoked", "linkedin").await.unwrap();
    assert_eq!(stored.refresh_due_at, None, "no more refreshes");
    assert_eq!(stored.last_error.as_deref(), Some("invalid_grant"));
    let page = app.page(&format!("/connect?token={token}")).await;
    assert!(page.body.contains("Reconnect needed"));
    let page = app
        .connect_on_page(&token, "linkedin", Consent::Allow { person: 0 })
        .await;
    assert!(page.body.contains("LinkedIn is connected."));
    assert_eq!(
        app.social_account("revoked", "linkedin").await["reauth_required"],
        false
    );
}

/// A LinkedIn app that gives no refresh token: nothing can renew the grant, so it is never
/// scheduled, stays connected through three quarters of its life and beyond, and is flagged
/// only when used after it lapsed. (Meta's platforms give no refresh token either, but renew
/// with the token itself: `refresh_keeps_tokens_fresh_and_rotates`.)
async fn a_grant_without_a_refresh_token_lapses_unflagged(app: &TestApp) {
    app.sandbox_control(json!({"platform": "linkedin", "expires_in": 2, "refresh_tokens": false}))
        .await;
    let token = app.profile_with_link("no-refresh", json!({})).await;
    app.connect_on_page(&token, "linkedin", Consent::Allow { person: 0 })
        .await;
    let stored = stored_tokens(app, "no-refresh", "linkedin").await.unwrap();
    assert!(stored.refresh_token.is_none());
    assert_eq!(stored.refresh_due_at, None, "nothing to schedule");
    // A row scheduled anyway (stored before this was known) is unscheduled, not flagged.
    let id = stored.connection_id.clone();
    app.with_db(move |c| {
        use diesel::prelude::*;
        use postgate::db::schema::oauth_tokens::dsl::*;
        diesel::update(oauth_tokens.find(&id))
            .set(refresh_due_at.eq(Some(postgate::domain::time::now())))
            .execute(c)
            .unwrap();
    })
    .await;
    wait_for("the engine to unschedule it", async || {
        let now = stored_tokens(app, "no-refresh", "linkedin").await.unwrap();
        now.refresh_due_at.is_none() && now.last_error.as_deref() == Some("no_refresh_token")
    })
    .await;
    // Past three quarters of the life (1.5 s), with the engine looking every 100 ms.
    tokio::time::sleep(Duration::from_millis(1800)).await;
    let account = app.social_account("no-refresh", "linkedin").await;
    assert_eq!(account["reauth_required"], false, "{account}");
    let token_calls = |calls: &[(String, String, String)]| {
        calls
            .iter()
            .filter(|(p, e, _)| p == "linkedin" && e == "token")
            .count()
    };
    assert_eq!(
        token_calls(&app.sandbox_calls().await),
        1,
        "the code exchange only"
    );
    // Lapsed: the first use reports it and flags the account, without asking the platform.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let before = app.sandbox_calls().await.len();
    let (status, body) = send(app.get("/linkedin/pages?profile=no-refresh")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["error_code"], "PLATFORM_ERROR", "{body}");
    assert_eq!(
        app.sandbox_calls().await.len(),
        before,
        "no call with a dead token"
    );
    let account = app.social_account("no-refresh", "linkedin").await;
    assert_eq!(account["reauth_required"], true, "{account}");
    let profile_id = app.profile_id("no-refresh").await;
    let connection = app
        .with_db(move |c| {
            postgate::db::connections::find(c, &profile_id, "linkedin")
                .unwrap()
                .unwrap()
        })
        .await;
    assert_eq!(connection.reauth_reason.as_deref(), Some("token_expired"));
}

async fn connection_events_reach_the_webhook(app: &TestApp) {
    let receiver = Receiver::start().await;
    let (status, _) = send(app.post(
        "/users/notifications",
        &json!({"webhook_url": receiver.url}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    app.sandbox_control(json!({"platform": "threads", "expires_in": 1}))
        .await;
    let token = app.profile_with_link("events", json!({})).await;
    app.connect_on_page(&token, "threads", Consent::Allow { person: 0 })
        .await;
    app.sandbox_control(TestApp::faults("threads", "refresh", &["invalid_grant"]))
        .await;
    wait_for("reauth", async || {
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
}

async fn pages_boards_and_locations_are_listed_live(app: &TestApp) {
    let token = app.profile_with_link("lister", json!({})).await;
    for platform in ["facebook", "linkedin", "pinterest", "google_business"] {
        app.connect_on_page(&token, platform, Consent::Allow { person: 0 })
            .await;
    }
    let other = app.profile_with_link("second", json!({})).await;
    app.connect_on_page(&other, "facebook", Consent::Allow { person: 1 })
        .await;
    app.connect_on_page(&other, "linkedin", Consent::Allow { person: 2 })
        .await;

    let expected = people::targets(Platform::Facebook, 0);
    let (status, body) = send(app.get("/facebook/pages?profile=lister")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pages = body["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0]["id"], expected[0].0);
    assert_eq!(pages[0]["page_id"], expected[0].0);
    assert_eq!(pages[0]["name"], expected[0].1);
    assert_eq!(pages[0]["page_name"], expected[0].1);
    assert_eq!(pages[0]["profile"], "lister");
    assert_eq!(
        pages[0]["account_id"],
        people::platform_id(Platform::Facebook, 0)
    );
    assert!(pages[0]["followers"].is_i64() && pages[0]["likes"].is_i64());
    assert!(pages[0]["picture"].as_str().unwrap().contains("/_avatar/"));
    let (_, all) = send(app.get("/facebook/pages")).await;
    assert_eq!(
        all["pages"].as_array().unwrap().len(),
        4,
        "every profile's pages"
    );
    for query in ["?profile=__manual_user__", "?profile=nobody"] {
        let (status, body) = send(app.get(&format!("/facebook/pages{query}"))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{query}");
        assert_eq!(body["error_code"], "PROFILE_NOT_FOUND");
    }
    // Another tenant sees none of it.
    let (_, other_key) = app.new_account("default").await;
    let (status, body) = send(app.get_as(&other_key, "/facebook/pages")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["pages"], json!([]));

    let (status, body) = send(app.get("/linkedin/pages?profile=lister")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["pages"][0]["id"],
        people::targets(Platform::Linkedin, 0)[0].0
    );
    assert_eq!(body["pages"][0]["vanityName"], "consulting");
    let (status, body) = send(app.get("/linkedin/pages?profile=second")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no pages is a 404: {body}");

    let (status, body) = send(app.get("/pinterest/boards?profile=lister")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["boards"].as_array().unwrap().len(), 3);
    assert_eq!(body["boards"][2]["privacy"], "SECRET");
    assert_eq!(body["pinterest_account_used"], "alex.rivera");
    let (status, _) = send(app.get("/pinterest/boards?profile=second")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, body) = send(app.get("/google-business/locations?profile=lister")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let locations = body["locations"].as_array().unwrap();
    assert_eq!(locations.len(), 2);
    assert_eq!(
        locations[0]["name"],
        "accounts/123456781/locations/111111111"
    );
    assert_eq!(locations[0]["title"], "Main Street Store");
    assert_eq!(locations[0]["account_id"], "accounts_123456781_111111111");

    // A refusal by the platform is a 502 naming it; an outage a 503.
    // (Connected through the API, so no page has listed its Pages yet.)
    app.create_profile("third").await;
    let done = app
        .connect_via_api(
            &app.api(""),
            &app.api_key,
            "facebook",
            "third",
            Consent::Allow { person: 2 },
        )
        .await;
    assert_eq!(done.status, StatusCode::OK);
    app.sandbox_control(TestApp::faults(
        "facebook",
        "accounts",
        &["invalid_grant", "server_error"],
    ))
    .await;
    let (status, body) = send(app.get("/facebook/pages?profile=third")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Facebook refused")
    );
    let (status, body) = send(app.get("/facebook/pages?profile=third")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let (status, body) = send(app.get("/facebook/pages?profile=third")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["pages"], json!([]), "this person manages no Pages");
}

async fn pages_and_locations_are_pinned(app: &TestApp) {
    let token = app.profile_with_link("pinner", json!({})).await;
    app.connect_on_page(&token, "facebook", Consent::Allow { person: 0 })
        .await;
    app.connect_on_page(&token, "google_business", Consent::Allow { person: 0 })
        .await;
    let page = people::targets(Platform::Facebook, 0)[1].clone();

    let (status, body) = send(app.get("/users/facebook-page?profile_username=pinner")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["pages"].as_array().unwrap().len(), 2);
    assert_eq!(body["selected_page_id"], Value::Null);
    let (status, body) = send(app.post(
        "/users/facebook-page",
        &json!({"profile_username": "pinner", "facebook_page_id": page.0}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"success": true, "facebook_page_id": page.0, "facebook_page_name": page.1})
    );
    let (_, profile) = send(app.get("/users/pinner")).await;
    assert_eq!(profile["profile"]["selected_page_id"], page.0);
    assert_eq!(profile["profile"]["selected_page_name"], page.1);
    let (status, body) = send(app.post(
        "/users/facebook-page",
        &json!({"profile_username": "pinner", "facebook_page_id": "999"}),
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = send(app.post(
        "/users/facebook-page",
        &json!({"profile_username": "pinner"}),
    ))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = send(app.delete(
        "/users/facebook-page",
        &json!({"profile_username": "pinner"}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = send(app.get("/users/facebook-page?profile_username=pinner")).await;
    assert_eq!(body["selected_page_id"], Value::Null);

    // Locations: any of the three spellings, and the Python SDK's /select form.
    for given in [
        "accounts/123456781/locations/222222221",
        "locations/111111111",
        "222222221",
    ] {
        let (status, body) = send(app.post(
            "/users/google-business-location",
            &json!({"profile_username": "pinner", "gbp_location_id": given}),
        ))
        .await;
        assert_eq!(status, StatusCode::OK, "{given}: {body}");
        assert!(
            body["gbp_location_id"]
                .as_str()
                .unwrap()
                .starts_with("accounts/123456781/locations/")
        );
    }
    let (status, body) = send(app.post(
        "/google-business/locations/select",
        &json!({"profile": "pinner", "location_id": "111111111"}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["google_business_id"],
        "accounts/123456781/locations/111111111"
    );
    assert_eq!(body["display_name"], "Main Street Store");
    let (_, body) = send(app.get("/users/google-business-location?profile_username=pinner")).await;
    assert_eq!(
        body["selected_location_id"],
        "accounts/123456781/locations/111111111"
    );
    assert_eq!(body["selected_location_name"], "Main Street Store");
    assert_eq!(body["locations"][0]["account_name"], "Alex Rivera");

    // The profile's own link token works; a read-only one may look but not pin.
    assert_eq!(
        app.status_as_link(
            Method::POST,
            "/users/facebook-page",
            &token,
            json!({"facebook_page_id": page.0})
        )
        .await,
        StatusCode::OK
    );
    let readonly = app
        .link_token("pinner", json!({"readonly_calendar": true}))
        .await;
    assert_eq!(
        app.status_as_link(Method::GET, "/users/facebook-page", &readonly, json!({}))
            .await,
        StatusCode::OK
    );
    assert_eq!(
        app.status_as_link(Method::DELETE, "/users/facebook-page", &readonly, json!({}))
            .await,
        StatusCode::FORBIDDEN
    );
    // Another tenant cannot pin this profile's Page.
    let (_, other_key) = app.new_account("default").await;
    let (status, _) = send(app.post_as(
        &other_key,
        "/users/facebook-page",
        &json!({"profile_username": "pinner", "facebook_page_id": page.0}),
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The page's picker: the live list, the pinned one selected, and a POST to choose.
    let shown = app.page(&format!("/connect?token={token}")).await;
    assert!(
        shown
            .body
            .contains("<label for=\"pick-facebook\">Page to post to</label>"),
        "{}",
        shown.body
    );
    assert!(
        shown
            .body
            .contains(&format!("<option value=\"{}\" selected>", page.0))
    );
    assert!(
        shown
            .body
            .contains("<label for=\"pick-google_business\">Location to post to</label>")
    );
    let other_page = people::targets(Platform::Facebook, 0)[0].clone();
    let csrf = shown.csrf();
    let done = app
        .post_form(
            "/connect/pin",
            &[
                ("token", &token),
                ("csrf", &csrf),
                ("platform", "facebook"),
                ("target", &other_page.0),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let back = app.page(done.header("location")).await;
    assert!(back.body.contains("Your choice for Facebook is saved."));
    assert!(
        back.body
            .contains(&format!("<option value=\"{}\" selected>", other_page.0))
    );
    let refused = app
        .post_form(
            "/connect/pin",
            &[
                ("token", &token),
                ("csrf", &csrf),
                ("platform", "facebook"),
                ("target", "not-mine"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    // No Facebook connection: 404.
    app.create_profile("unlinked").await;
    let (status, body) = send(app.get("/users/facebook-page?profile_username=unlinked")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error_code"], "NOT_CONNECTED");
}

/// With no refresh engine in this process, a list call that finds the access token lapsed
/// renews it first instead of failing.
async fn a_lapsed_token_is_renewed_before_listing(app: &TestApp) {
    let quiet = TestApp::spawn_with(app.test_db.backend, |s| s.oauth_refresh_worker = false).await;
    let app = &quiet;
    app.sandbox_control(json!({"platform": "pinterest", "expires_in": 1}))
        .await;
    let token = app.profile_with_link("lapsed", json!({})).await;
    app.connect_on_page(&token, "pinterest", Consent::Allow { person: 0 })
        .await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, body) = send(app.get("/pinterest/boards?profile=lapsed")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["boards"].as_array().unwrap().len(), 3);
    let refreshes = app
        .sandbox_calls()
        .await
        .iter()
        .filter(|(p, e, _)| p == "pinterest" && e == "token")
        .count();
    assert_eq!(refreshes, 2, "the code exchange and one refresh");
}

/// The page shows without the Page picker rather than wait for a platform that is slow to
/// list them (here with a platform timeout longer than the page's patience).
async fn a_slow_platform_does_not_hold_up_the_page(app: &TestApp) {
    let patient = TestApp::spawn_with(app.test_db.backend, |s| s.oauth_timeout_seconds = 20).await;
    let app = &patient;
    let token = app.profile_with_link("slowpoke", json!({})).await;
    let done = app
        .connect_via_api(
            &app.api(""),
            &app.api_key,
            "facebook",
            "slowpoke",
            Consent::Allow { person: 0 },
        )
        .await;
    assert_eq!(done.status, StatusCode::OK);
    app.sandbox_control(TestApp::faults("facebook", "accounts", &["slow"]))
        .await;
    let started = std::time::Instant::now();
    let page = app.page(&format!("/connect?token={token}")).await;
    let waited = started.elapsed();
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("data-platform=\"facebook\""));
    assert!(
        !page.body.contains("pick-facebook"),
        "no picker without the list"
    );
    assert!(
        waited < Duration::from_secs(6),
        "the page waited {waited:?}"
    );
    // Once the platform answers again, the picker is back.
    let page = app.page(&format!("/connect?token={token}")).await;
    assert!(page.body.contains("pick-facebook"));
}

/// A real `postgate serve` with the sandbox on (by environment): connect, refresh, then look
/// for any token the emulator issued in everything the process logged and, on SQLite, in the
/// database files themselves.
async fn tokens_never_appear_in_plaintext(app: &TestApp) {
    // A database of its own: this test's in-process server would otherwise refresh the
    // process's tokens against its own emulator.
    let fresh = TestDb::new(app.test_db.backend);
    let mut cmd = app.cli();
    cmd.env("POSTGATE_DATABASE_URL", &fresh.url)
        .env("POSTGATE_SANDBOX", "true")
        .env("POSTGATE_OAUTH_REFRESH_INTERVAL_MS", "100")
        .env("POSTGATE_LOG", "debug");
    let mut server = tokio::task::spawn_blocking(move || ServerProcess::start(cmd))
        .await
        .unwrap();
    let curl = server
        .stdout_line("curl -H", Duration::from_secs(5))
        .expect("the first run prints a key");
    let key = curl
        .split("Apikey ")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_owned();
    for platform in ["x", "tiktok", "instagram"] {
        let control = app
            .client
            .post(format!("{}/sandbox/_control", server.address))
            .json(&json!({"platform": platform, "expires_in": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(control.status(), StatusCode::OK);
    }
    for platform in ["x", "tiktok", "instagram"] {
        let done = app
            .connect_via_api(
                &server.api(""),
                &key,
                platform,
                "default",
                Consent::Allow { person: 0 },
            )
            .await;
        assert_eq!(done.status, StatusCode::OK, "{platform}: {}", done.body);
    }
    // Wait for refreshes, so refresh answers went through the process too.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let calls: Vec<Value> = app
            .client
            .get(format!("{}/sandbox/_control/calls", server.address))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let refreshes = calls
            .iter()
            .filter(|c| c["endpoint"] == "token" || c["endpoint"] == "refresh")
            .count();
        if refreshes >= 8 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no refreshes: {calls:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.terminate();
    let logged = server.drain_output().join("\n");
    assert!(logged.contains("oauth"), "the log was read:\n{logged}");
    for secret in [
        "sbx-at-",
        "sbx-rt-",
        "code_verifier",
        "client_secret=sandbox",
    ] {
        assert!(!logged.contains(secret), "{secret} in the log:\n{logged}");
    }
    let db = postgate::db::Db::connect(
        &postgate::db::DatabaseUrl::parse(&fresh.url).unwrap(),
        1,
        Duration::from_secs(5),
    )
    .unwrap();
    let rows = db
        .run(|c| {
            use diesel::prelude::*;
            use postgate::db::schema::{oauth_states, oauth_tokens};
            let tokens: Vec<(String, Option<String>)> = oauth_tokens::table
                .select((oauth_tokens::access_token, oauth_tokens::refresh_token))
                .load(c)
                .unwrap();
            let verifiers: Vec<String> = oauth_states::table
                .select(oauth_states::pkce_verifier)
                .load(c)
                .unwrap();
            Ok::<_, postgate::error::ApiError>((tokens, verifiers))
        })
        .await
        .unwrap();
    assert_eq!(rows.0.len(), 3);
    for (access, refresh) in &rows.0 {
        assert!(access.starts_with("v1.") && !access.contains("sbx-"));
        assert!(
            refresh
                .as_deref()
                .is_none_or(|r| r.starts_with("v1.") && !r.contains("sbx-"))
        );
    }
    assert_eq!(
        rows.0.iter().filter(|(_, r)| r.is_some()).count(),
        2,
        "Instagram has none"
    );
    assert!(
        rows.1.iter().all(|v| v.starts_with("v1.")),
        "PKCE verifiers sealed too"
    );
    if app.test_db.backend == Backend::Sqlite {
        let db_path = fresh.url.trim_start_matches("sqlite://").to_owned();
        assert!(std::path::Path::new(&db_path).exists(), "{db_path}");
        for file in [db_path.clone(), format!("{db_path}-wal")] {
            // The write-ahead log may have been checkpointed away; the database may not.
            let Ok(bytes) = std::fs::read(&file) else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains("sbx-at-") && !text.contains("sbx-rt-"),
                "plaintext token in {file}"
            );
        }
    }
}

/// The refresh lease: many takers at once, on either database, and exactly one wins.
async fn one_refresh_lease_among_many_takers(app: &TestApp) {
    let token = app.profile_with_link("leased", json!({})).await;
    app.connect_on_page(&token, "pinterest", Consent::Allow { person: 0 })
        .await;
    let profile_id = app.profile_id("leased").await;
    let connection_id = app
        .with_db(move |c| {
            postgate::db::connections::find(c, &profile_id, "pinterest")
                .unwrap()
                .unwrap()
                .id
        })
        .await;
    // Due now, and no lease held.
    let id = connection_id.clone();
    app.with_db(move |c| {
        use diesel::prelude::*;
        use postgate::db::schema::oauth_tokens::dsl::*;
        diesel::update(oauth_tokens.find(&id))
            .set(refresh_due_at.eq(Some(
                postgate::domain::time::now() + chrono::Duration::days(1),
            )))
            .execute(c)
            .unwrap();
    })
    .await;
    let later = postgate::domain::time::now() + chrono::Duration::days(2);
    let takers: Vec<_> = (0..8)
        .map(|_| {
            let db = app.db.clone();
            let id = connection_id.clone();
            std::thread::spawn(move || {
                let mut conn = db.conn().unwrap();
                oauth_tokens::lease(&mut conn, &id, later, later + chrono::Duration::minutes(1))
                    .unwrap()
            })
        })
        .collect();
    let won = takers
        .into_iter()
        .map(|t| t.join().unwrap())
        .filter(|w| *w)
        .count();
    assert_eq!(won, 1, "exactly one taker holds the lease");
}
