//! Pages, boards and locations: listed live from the platform, pinned per connection, and a
//! slow platform that does not hold up the page.

use crate::support::sandbox::Consent;
use crate::support::{TestApp, send};
use crate::{assert_wire, cases};
use postgate::domain::Platform;
use postgate::sandbox::people;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

cases![
    pages_boards_and_locations_are_listed_live,
    pages_and_locations_are_pinned,
    a_slow_platform_does_not_hold_up_the_page,
];

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
    assert_wire!("facebook_pages_200", status, app.scrub(&body));
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
    assert_wire!("linkedin_pages_200", status, app.scrub(&body));
    let (status, body) = send(app.get("/linkedin/pages?profile=second")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no pages is a 404: {body}");
    assert_wire!("linkedin_pages_404_none", status, body);

    let (status, body) = send(app.get("/pinterest/boards?profile=lister")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["boards"].as_array().unwrap().len(), 3);
    assert_eq!(body["boards"][2]["privacy"], "SECRET");
    assert_eq!(body["pinterest_account_used"], "alex.rivera");
    assert_wire!("pinterest_boards_200", status, app.scrub(&body));
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
    assert_wire!("google_business_locations_200", status, app.scrub(&body));

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
    assert_wire!("facebook_pages_502_refused", status, body);
    let (status, body) = send(app.get("/facebook/pages?profile=third")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_wire!("facebook_pages_503_unavailable", status, body);
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
    assert_wire!("facebook_page_get_200", status, app.scrub(&body));
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
    assert_wire!("facebook_page_set_404_unknown_page", status, body);
    let (status, body) = send(app.post(
        "/users/facebook-page",
        &json!({"profile_username": "pinner"}),
    ))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_wire!("facebook_page_set_400_missing_page", status, body);
    let (status, body) = send(app.delete(
        "/users/facebook-page",
        &json!({"profile_username": "pinner"}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_wire!("facebook_page_delete_200", status, body);
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
    assert_wire!("google_business_select_200", status, body);
    let (status, body) =
        send(app.get("/users/google-business-location?profile_username=pinner")).await;
    assert_eq!(
        body["selected_location_id"],
        "accounts/123456781/locations/111111111"
    );
    assert_eq!(body["selected_location_name"], "Main Street Store");
    assert_eq!(body["locations"][0]["account_name"], "Alex Rivera");
    assert_wire!("google_business_location_get_200", status, app.scrub(&body));

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
    assert_wire!("facebook_page_404_not_connected", status, body);
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
