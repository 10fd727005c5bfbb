//! A link's scope means the same on the page and on every API that takes it as `Bearer`:
//! its platforms, read-only calendars, revocation, plan-blocked profiles, sign-ins bound to
//! their link, and the origins a link holder may return to.

use crate::cases;
use crate::support::connect::link_id_of;
use crate::support::sandbox::{APP_PASSWORD, Consent};
use crate::support::{TestApp, send};
use postgate::domain::Platform;
use postgate::sandbox::people;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

cases![
    a_platform_restricted_link_touches_no_other_platform,
    a_readonly_link_writes_nothing_through_bearer,
    a_revoked_link_is_refused_on_every_bearer_api_and_page,
    a_plan_blocked_profile_gets_nothing_set_up_by_api_key,
    a_sign_in_started_with_a_link_stops_when_the_link_is_revoked,
    a_link_holder_returns_only_to_allowed_origins,
];

fn as_link(app: &TestApp, method: Method, path: &str, token: &str, body: Value) -> RequestBuilder {
    app.client
        .request(method, app.api(path))
        .bearer_auth(token)
        .json(&body)
}

/// Asserts the answer's status and `error_code`.
async fn refused(req: RequestBuilder, status: StatusCode, code: &str, what: &str) {
    let (s, body) = send(req).await;
    assert_eq!(s, status, "{what}: {body}");
    assert_eq!(body["error_code"], code, "{what}: {body}");
    assert_eq!(body["success"], false, "{what}");
}

fn is_connected(account: &Value) -> bool {
    account.is_object()
}

async fn a_platform_restricted_link_touches_no_other_platform(app: &TestApp) {
    let app = &TestApp::spawn_without_limits(app.test_db.backend, |_| {}).await;
    let everything = app.profile_with_link("scoped", json!({})).await;
    for platform in ["x", "facebook", "google_business"] {
        app.connect_on_page(&everything, platform, Consent::Allow { person: 0 })
            .await;
    }
    let tiktok = app
        .link_token("scoped", json!({"platforms": ["tiktok"]}))
        .await;
    let page_id = people::targets(Platform::Facebook, 0)[0].0.clone();
    let location = people::targets(Platform::GoogleBusiness, 0)[0].0.clone();
    for (method, path, body) in [
        (Method::DELETE, "/users/social", json!({"platform": "x"})),
        (
            Method::DELETE,
            "/users/social",
            json!({"platform": "twitter"}),
        ),
        (Method::POST, "/oauth/x/start", json!({})),
        (Method::POST, "/oauth/facebook/start", json!({})),
        (Method::GET, "/users/facebook-page", json!({})),
        (
            Method::POST,
            "/users/facebook-page",
            json!({"facebook_page_id": page_id}),
        ),
        (Method::DELETE, "/users/facebook-page", json!({})),
        (Method::GET, "/users/google-business-location", json!({})),
        (
            Method::POST,
            "/users/google-business-location",
            json!({"gbp_location_id": location}),
        ),
        (Method::DELETE, "/users/google-business-location", json!({})),
        (
            Method::POST,
            "/google-business/locations/select",
            json!({"location_id": location}),
        ),
    ] {
        refused(
            as_link(app, method.clone(), path, &tiktok, body),
            StatusCode::FORBIDDEN,
            "PLATFORM_NOT_OFFERED",
            &format!("{method} {path}"),
        )
        .await;
    }
    assert!(is_connected(&app.social_account("scoped", "x").await));
    assert!(
        app.connection("scoped", "facebook")
            .await
            .selected_target_id
            .is_none(),
        "nothing pinned"
    );
    // Its own platform works.
    let (status, body) = send(as_link(
        app,
        Method::POST,
        "/oauth/tiktok/start",
        &tiktok,
        json!({}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The page says the same, in HTML.
    let csrf = app.page(&format!("/connect?token={tiktok}")).await.csrf();
    for (path, extra) in [
        ("/connect/start", None),
        ("/connect/disconnect", None),
        ("/connect/pin", Some(page_id.as_str())),
    ] {
        let mut fields = vec![
            ("token", tiktok.as_str()),
            ("csrf", &csrf),
            ("platform", "x"),
        ];
        if let Some(target) = extra {
            fields[2] = ("platform", "facebook");
            fields.push(("target", target));
        }
        let page = app.post_form(path, &fields).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}: {}", page.body);
        assert!(page.body.contains("PLATFORM_NOT_OFFERED"), "{path}");
    }
    let page = app
        .page(&format!("/connect/signin?token={tiktok}&platform=bluesky"))
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("PLATFORM_NOT_OFFERED"));
    assert!(is_connected(&app.social_account("scoped", "x").await));
    app.stop().await;
}

async fn a_readonly_link_writes_nothing_through_bearer(app: &TestApp) {
    let app = &TestApp::spawn_without_limits(app.test_db.backend, |_| {}).await;
    let everything = app.profile_with_link("reader", json!({})).await;
    app.connect_on_page(&everything, "facebook", Consent::Allow { person: 0 })
        .await;
    let readonly = app
        .link_token("reader", json!({"readonly_calendar": true}))
        .await;
    let page_id = people::targets(Platform::Facebook, 0)[0].0.clone();
    for (method, path, body) in [
        (Method::POST, "/oauth/tiktok/start", json!({})),
        (
            Method::DELETE,
            "/users/social",
            json!({"platform": "facebook"}),
        ),
        (
            Method::POST,
            "/users/facebook-page",
            json!({"facebook_page_id": page_id}),
        ),
        (Method::DELETE, "/users/facebook-page", json!({})),
        (
            Method::POST,
            "/queue/settings",
            json!({"max_posts_per_slot": 2}),
        ),
        (
            Method::POST,
            "/queue/slot-full",
            json!({"slot_datetime": "2030-01-01T09:00:00Z"}),
        ),
        (Method::DELETE, "/schedule/some-job", json!({})),
        (
            Method::PATCH,
            "/schedule/some-job",
            json!({"scheduled_date": "2030-01-01T09:00:00Z"}),
        ),
    ] {
        refused(
            as_link(app, method.clone(), path, &readonly, body),
            StatusCode::FORBIDDEN,
            "READONLY_CALENDAR",
            &format!("{method} {path}"),
        )
        .await;
    }
    assert!(is_connected(
        &app.social_account("reader", "facebook").await
    ));
    // Reading is what a calendar link is for.
    for path in ["/users/facebook-page", "/queue/settings", "/schedule"] {
        let (status, body) = send(app.client.get(app.api(path)).bearer_auth(&readonly)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    app.stop().await;
}

async fn a_revoked_link_is_refused_on_every_bearer_api_and_page(app: &TestApp) {
    let app = &TestApp::spawn_without_limits(app.test_db.backend, |_| {}).await;
    let token = app.profile_with_link("gone", json!({})).await;
    app.connect_on_page(&token, "facebook", Consent::Allow { person: 0 })
        .await;
    let csrf = app.page(&format!("/connect?token={token}")).await.csrf();
    let (status, _) = send(app.post("/users/revoke-jwt", &json!({"jwt": token}))).await;
    assert_eq!(status, StatusCode::OK);
    for (method, path, body) in [
        (Method::GET, "/users/validate-jwt", json!({})),
        (Method::POST, "/users/validate-jwt", json!({})),
        (Method::POST, "/oauth/tiktok/start", json!({})),
        (
            Method::DELETE,
            "/users/social",
            json!({"platform": "facebook"}),
        ),
        (Method::GET, "/users/facebook-page", json!({})),
        (
            Method::POST,
            "/users/facebook-page",
            json!({"facebook_page_id": "1"}),
        ),
        (Method::DELETE, "/users/facebook-page", json!({})),
        (Method::GET, "/users/google-business-location", json!({})),
        (
            Method::POST,
            "/users/google-business-location",
            json!({"gbp_location_id": "1"}),
        ),
        (Method::DELETE, "/users/google-business-location", json!({})),
        (
            Method::POST,
            "/google-business/locations/select",
            json!({"location_id": "1"}),
        ),
        (Method::GET, "/schedule", json!({})),
        (Method::DELETE, "/schedule/some-job", json!({})),
        (Method::PATCH, "/schedule/some-job", json!({"title": "t"})),
        (Method::POST, "/schedule/some-job", json!({"title": "t"})),
        (Method::GET, "/schedule/some-job/preview", json!({})),
        (Method::GET, "/queue/settings", json!({})),
        (
            Method::POST,
            "/queue/settings",
            json!({"max_posts_per_slot": 2}),
        ),
        (Method::GET, "/queue/preview", json!({})),
        (Method::GET, "/queue/next-slot", json!({})),
        (
            Method::POST,
            "/queue/slot-full",
            json!({"slot_datetime": "2030-01-01T09:00:00Z"}),
        ),
        (
            Method::DELETE,
            "/queue/slot-full",
            json!({"slot_datetime": "2030-01-01T09:00:00Z"}),
        ),
    ] {
        refused(
            as_link(app, method.clone(), path, &token, body),
            StatusCode::UNAUTHORIZED,
            "INVALID_TOKEN",
            &format!("{method} {path}"),
        )
        .await;
    }
    assert!(is_connected(&app.social_account("gone", "facebook").await));
    for path in [
        format!("/connect?token={token}"),
        format!("/connect/calendar?token={token}"),
        format!("/connect/signin?token={token}&platform=bluesky"),
    ] {
        let page = app.page(&path).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(page.body.contains("INVALID_TOKEN"), "{path}");
    }
    let base = [("token", token.as_str()), ("csrf", csrf.as_str())];
    for (path, extra) in [
        ("/connect/start", vec![("platform", "tiktok")]),
        ("/connect/disconnect", vec![("platform", "facebook")]),
        (
            "/connect/pin",
            vec![("platform", "facebook"), ("target", "1")],
        ),
        (
            "/connect/signin",
            vec![
                ("platform", "bluesky"),
                ("identifier", "alex-rivera.bsky.social"),
                ("password", APP_PASSWORD),
            ],
        ),
        (
            "/connect/calendar/cancel",
            vec![("post_id", "some-post"), ("month", "2030-01")],
        ),
    ] {
        let fields: Vec<(&str, &str)> = base.iter().copied().chain(extra).collect();
        let page = app.post_form(path, &fields).await;
        assert_eq!(
            page.status,
            StatusCode::UNAUTHORIZED,
            "{path}: {}",
            page.body
        );
        assert!(page.body.contains("INVALID_TOKEN"), "{path}");
    }
    assert!(is_connected(&app.social_account("gone", "facebook").await));
    assert!(!is_connected(&app.social_account("gone", "bluesky").await));
    app.stop().await;
}

async fn a_plan_blocked_profile_gets_nothing_set_up_by_api_key(app: &TestApp) {
    let (account, key) = app.new_account("eleven").await;
    for name in ["first", "second", "third"] {
        let (status, _) = send(app.post_as(&key, "/users", &json!({"username": name}))).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let api = app.api("");
    let hop = app
        .connect_via_api(
            &api,
            &key,
            "facebook",
            "third",
            Consent::Allow { person: 0 },
        )
        .await;
    assert_eq!(hop.status, StatusCode::OK, "{}", hop.body);
    // Down to three profiles: the default, "first" and "second"; "third" is blocked.
    app.with_db(move |c| postgate::db::accounts::set_plan(c, &account, "three").unwrap())
        .await;
    let page_id = people::targets(Platform::Facebook, 0)[0].0.clone();
    for (path, body) in [
        ("/oauth/tiktok/start", json!({"profile": "third"})),
        (
            "/users/facebook-page",
            json!({"profile_username": "third", "facebook_page_id": page_id}),
        ),
        (
            "/users/profile-webhook",
            json!({"profile_username": "third", "webhook_url": "https://hooks.example.com/p"}),
        ),
    ] {
        refused(
            app.post_as(&key, path, &body),
            StatusCode::FORBIDDEN,
            "PROFILE_BLOCKED",
            path,
        )
        .await;
    }
    // Reading, and shedding what it has, still work; a profile within the plan is untouched.
    let (status, body) =
        send(app.get_as(&key, "/users/facebook-page?profile_username=third")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["selected_page_id"].is_null(), "nothing pinned: {body}");
    let (status, body) = send(app.delete_as(
        &key,
        "/users/social",
        &json!({"username": "third", "platform": "facebook"}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) =
        send(app.post_as(&key, "/oauth/tiktok/start", &json!({"profile": "second"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn a_sign_in_started_with_a_link_stops_when_the_link_is_revoked(app: &TestApp) {
    // Through the Connect API with the link's token: back to the caller with the failure.
    let token = app.profile_with_link("bound", json!({})).await;
    let back = format!("{}/after-connect", app.address);
    let (status, started) = send(as_link(
        app,
        Method::POST,
        "/oauth/tiktok/start",
        &token,
        json!({"redirect_url": back}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let callback = app
        .consent(
            started["authorize_url"].as_str().unwrap(),
            Consent::Allow { person: 0 },
        )
        .await;
    let (status, _) = send(app.post("/users/revoke-jwt", &json!({"jwt": token}))).await;
    assert_eq!(status, StatusCode::OK);
    let location = app
        .hop(&callback)
        .await
        .location
        .expect("back to the caller");
    assert!(location.starts_with(&back), "{location}");
    assert!(
        location.contains("connect_status=error&platform=tiktok&error_code=CONNECTION_FAILED"),
        "{location}"
    );
    assert!(!is_connected(&app.social_account("bound", "tiktok").await));
    // Without a redirect_url: the result page says it failed.
    let token = app.link_token("bound", json!({})).await;
    let (_, started) = send(as_link(
        app,
        Method::POST,
        "/oauth/x/start",
        &token,
        json!({}),
    ))
    .await;
    let callback = app
        .consent(
            started["authorize_url"].as_str().unwrap(),
            Consent::Allow { person: 0 },
        )
        .await;
    let (status, _) =
        send(app.post("/users/revoke-jwt", &json!({"link_id": link_id_of(&token)}))).await;
    assert_eq!(status, StatusCode::OK);
    let done = app.hop(&callback).await;
    assert_eq!(done.status, StatusCode::BAD_REQUEST, "{}", done.body);
    assert!(!is_connected(&app.social_account("bound", "x").await));
    // The app-password sign-in: the form of a link revoked since stores nothing.
    let token = app.link_token("bound", json!({})).await;
    let start = app.press_connect(&token, "bluesky", None, false).await;
    let form = app.page(&start.location.expect("the sign-in form")).await;
    let csrf = form.csrf();
    let (status, _) = send(app.post("/users/revoke-jwt", &json!({"jwt": token}))).await;
    assert_eq!(status, StatusCode::OK);
    let handle = people::handle(Platform::Bluesky, 0);
    let page = app
        .post_form(
            "/connect/signin",
            &[
                ("token", &token),
                ("csrf", &csrf),
                ("platform", "bluesky"),
                ("identifier", &handle),
                ("password", APP_PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(!is_connected(&app.social_account("bound", "bluesky").await));
}

async fn a_link_holder_returns_only_to_allowed_origins(app: &TestApp) {
    let app = &TestApp::spawn_without_limits(app.test_db.backend, |raw| {
        raw.allowed_redirect_origins = vec!["https://partner.example".to_owned()];
    })
    .await;
    let token = app
        .profile_with_link(
            "returning",
            json!({"redirect_url": "https://app.example.com/done"}),
        )
        .await;
    let start = |url: String| {
        as_link(
            app,
            Method::POST,
            "/oauth/tiktok/start",
            &token,
            json!({"redirect_url": url}),
        )
    };
    for url in [
        "https://app.example.com/elsewhere?x=1".to_owned(),
        format!("{}/after-connect", app.address),
        "https://partner.example/callback".to_owned(),
    ] {
        let (status, body) = send(start(url.clone())).await;
        assert_eq!(status, StatusCode::OK, "{url}: {body}");
    }
    for url in [
        "https://evil.example/steal",
        "https://app.example.com:8443/done",
        "https://partner.example.evil.example/",
        "https://mine.example/callback",
    ] {
        refused(
            start(url.to_owned()),
            StatusCode::BAD_REQUEST,
            "INVALID_FIELD",
            url,
        )
        .await;
    }
    // The account allows another origin: from then on its links may return there.
    let (status, body) = send(app.post(
        "/users/preferences",
        &json!({"allowed_redirect_origins": ["https://Mine.example/"]}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["allowed_redirect_origins"],
        json!(["https://mine.example"])
    );
    let (status, body) = send(start("https://mine.example/callback".to_owned())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, me) = send(app.get("/me")).await;
    assert_eq!(
        me["allowed_redirect_origins"],
        json!(["https://mine.example"])
    );
    for bad in [
        json!(["https://mine.example/path"]),
        json!(["http://mine.example"]),
        json!("https://mine.example"),
    ] {
        refused(
            app.post(
                "/users/preferences",
                &json!({"allowed_redirect_origins": bad}),
            ),
            StatusCode::BAD_REQUEST,
            "INVALID_FIELD",
            &bad.to_string(),
        )
        .await;
    }
    // Cleared: back to the defaults.
    let (status, body) = send(app.post(
        "/users/preferences",
        &json!({"allowed_redirect_origins": null}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["allowed_redirect_origins"], json!([]));
    refused(
        start("https://mine.example/callback".to_owned()),
        StatusCode::BAD_REQUEST,
        "INVALID_FIELD",
        "cleared",
    )
    .await;
    // The API key's owner may send the browser anywhere.
    let (status, body) = send(app.post(
        "/oauth/tiktok/start",
        &json!({"profile": "returning", "redirect_url": "https://evil.example/anywhere"}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.stop().await;
}
