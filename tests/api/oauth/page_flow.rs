//! Connecting on the hosted page: every platform's round trip, reconnecting, phones, Bluesky's
//! app passwords, and one identity per account.

use super::{all_platforms, not_connected, stored_tokens};
use crate::cases;
use crate::support::sandbox::{Consent, PHONE_UA};
use crate::support::{TestApp, send};
use postgate::domain::Platform;
use postgate::sandbox::people;
use reqwest::StatusCode;
use serde_json::{Value, json};

cases![
    every_platform_connects_and_disconnects,
    the_same_identity_reconnects_in_place_another_replaces_it,
    phones_go_through_the_bounce_page,
    bluesky_rejects_a_wrong_app_password,
    an_identity_belongs_to_one_account,
];

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
    let _receiver = app.receiving_webhooks().await;
    let token = app.profile_with_link("again", json!({})).await;
    app.connect_on_page(&token, "facebook", Consent::Allow { person: 0 })
        .await;
    let first = app.connection("again", "facebook").await;
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
    let again = app.connection("again", "facebook").await;
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
    let replaced = app.connection("again", "facebook").await;
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
