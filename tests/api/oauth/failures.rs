//! The ways a connection fails: consent denied, permissions missing, the platform failing
//! during the exchange, and a state that was tampered with, reused or expired.

use super::not_connected;
use crate::cases;
use crate::support::connect::link_id_of;
use crate::support::sandbox::Consent;
use crate::support::{TestApp, send};
use reqwest::StatusCode;
use serde_json::json;

cases![
    denied_consent_is_reported_in_the_page_language,
    missing_permissions_are_refused,
    platform_failures_during_the_exchange,
    tampered_reused_and_expired_states_are_refused,
];

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
