//! The connect page over HTTP: rendering, languages, the calendar, forms, error pages,
//! security headers and the mobile OAuth bounce.

use crate::cases;
use crate::support::TestApp;
use crate::support::connect::{Page, link_id_of};
use postgate::assets::{ASSETS, Asset};
use postgate::connect::i18n::Texts;
use postgate::domain::Platform;
use postgate::domain::connect_settings::UiLabels;
use postgate::domain::language::Language;
use reqwest::StatusCode;
use serde_json::json;

cases![
    page_shows_branding_platforms_and_redirect,
    page_escapes_everything_users_supply,
    page_has_strict_security_headers,
    page_speaks_seven_languages_with_precedence,
    ui_labels_override_page_strings,
    page_shows_connection_states,
    calendar_shows_the_month_with_the_accounts_week_start,
    calendar_flags_redirect,
    readonly_calendar_has_no_controls_and_refuses_mutations,
    forms_need_the_links_csrf_token,
    cancelling_a_scheduled_post,
    connect_button_reports_an_unconfigured_platform,
    bad_links_get_a_localized_401_page,
    unknown_paths_get_a_404_page,
    bounce_redirects_only_to_a_pending_state,
    static_assets_are_served_and_cached,
    page_shows_each_platforms_logo,
    rendered_html_snapshots,
];

fn texts(language: Language) -> Texts {
    Texts::new(language, UiLabels::default())
}

async fn connect_page(app: &TestApp, token: &str) -> Page {
    app.page(&format!("/connect?token={token}")).await
}

async fn page_shows_branding_platforms_and_redirect(app: &TestApp) {
    let token = app
        .profile_with_link(
            "brand",
            json!({
                "logo_image": "https://cdn.example.com/acme.png",
                "connect_title": "Connect to Acme",
                "connect_description": "Link the channels Acme should post to.",
                "redirect_url": "https://acme.example.com/back?step=2",
                "redirect_button_text": "Return to Acme",
                "platforms": ["instagram", "linkedin", "bluesky"],
            }),
        )
        .await;
    let page = connect_page(app, &token).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.header("content-type").starts_with("text/html"));
    assert!(
        page.body
            .contains(r#"<img class="logo" src="https://cdn.example.com/acme.png""#)
    );
    assert!(page.body.contains("<h1>Connect to Acme</h1>"));
    assert!(page.body.contains("Link the channels Acme should post to."));
    assert!(
        page.body
            .contains(r#"href="https://acme.example.com/back?step=2""#)
    );
    assert!(page.body.contains("Return to Acme"));
    assert_eq!(page.count("class=\"platform "), 3);
    for name in ["Instagram", "LinkedIn", "Bluesky"] {
        assert!(
            page.body.contains(&format!(
                "<h3>{name} <span class=\"sandbox-tag\">Sandbox</span></h3>"
            )),
            "{name}, labelled as the emulator"
        );
    }
    assert!(!page.body.contains("<h3>TikTok"));
    assert!(page.body.contains("0 of 3 connected"));
    // The calendar tab is there by default.
    assert!(
        page.body
            .contains(&format!("/connect/calendar?token={token}"))
    );
    // Defaults without branding: the documented title, description and no redirect button.
    let token = app.link_token("brand", json!({})).await;
    let page = connect_page(app, &token).await;
    assert!(page.body.contains("<h1>Connect Social Media Accounts</h1>"));
    assert!(
        page.body
            .contains("Connect your social media accounts to manage your posts.")
    );
    assert!(!page.body.contains("class=\"done\""));
    assert!(!page.body.contains("class=\"logo\""));
    assert_eq!(page.count("class=\"platform "), 11);
}

async fn page_escapes_everything_users_supply(app: &TestApp) {
    let evil = r#"<script>alert("x")</script>&'"#;
    let token = app
        .profile_with_link(
            "escape",
            json!({
                "connect_title": evil,
                "connect_description": evil,
                "redirect_button_text": evil,
                "redirect_url": "https://example.com/?a=\"><script>alert(1)</script>",
                "ui_labels": {"connect.connectButton": evil, "connect.progress": evil},
            }),
        )
        .await;
    app.insert_connection("escape", "tiktok", "<img src=x onerror=alert(1)>", false)
        .await;
    let page = connect_page(app, &token).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    assert!(!page.body.contains("<img src=x"));
    assert!(
        page.body
            .contains("&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#38;&#39;")
    );
    assert!(!page.body.contains(r#""><script>"#));
}

async fn page_has_strict_security_headers(app: &TestApp) {
    let token = app.profile_with_link("headers", json!({})).await;
    let pages = [
        connect_page(app, &token).await,
        app.page(&format!("/connect/calendar?token={token}")).await,
        app.page("/connect?token=bad").await,
        app.page("/connect/nowhere").await,
    ];
    for page in pages {
        let csp = page.header("content-security-policy");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert_eq!(page.header("x-content-type-options"), "nosniff");
        assert_eq!(page.header("referrer-policy"), "no-referrer");
        assert_eq!(page.header("cache-control"), "no-store");
        assert_eq!(page.header("x-frame-options"), "DENY");
        // No inline script or style anywhere.
        assert!(!page.body.contains("<script>"), "{}", page.body);
        assert!(!page.body.contains("style="));
        assert!(!page.body.contains("<style"));
    }
    // A loopback http logo (development) is allowed by exactly its origin.
    let token = app
        .link_token(
            "headers",
            json!({"logo_image": "http://127.0.0.1:9/logo.png"}),
        )
        .await;
    let page = connect_page(app, &token).await;
    assert!(
        page.header("content-security-policy")
            .contains("img-src 'self' http://127.0.0.1:9 https:")
    );
}

async fn page_speaks_seven_languages_with_precedence(app: &TestApp) {
    app.create_profile("polyglot").await;
    for language in Language::ALL {
        let token = app
            .link_token("polyglot", json!({"language": language.code()}))
            .await;
        // The link's language beats the browser's.
        let page = app
            .page_in(&format!("/connect?token={token}"), "fr-FR,fr;q=0.9")
            .await;
        assert_eq!(page.status, StatusCode::OK);
        let t = texts(language);
        assert!(
            page.body
                .contains(&format!("<html lang=\"{}\">", language.code())),
            "{language:?}"
        );
        assert!(
            page.body
                .contains(&format!("<h1>{}</h1>", html_escape(t.get("connect.title")))),
            "{language:?}"
        );
        assert!(
            page.body
                .contains(&html_escape(t.get("connect.connectButton"))),
            "{language:?}"
        );
    }
    // The profile's stored language applies to a link without one.
    let (status, _) = app
        .generate_link(json!({"username": "polyglot", "language": null}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let no_language = app.link_token("polyglot", json!({})).await;
    // Without any, the browser's wins; then English.
    let page = app
        .page_in(
            &format!("/connect?token={no_language}"),
            "pl;q=0.5, de;q=0.9, it",
        )
        .await;
    assert!(page.body.contains("<html lang=\"de\">"));
    let page = app
        .page_in(&format!("/connect?token={no_language}"), "it, ja")
        .await;
    assert!(page.body.contains("<html lang=\"en\">"));
    app.generate_link(json!({"username": "polyglot", "language": "tr"}))
        .await;
    let page = app
        .page_in(&format!("/connect?token={no_language}"), "de")
        .await;
    assert!(
        page.body.contains("<html lang=\"tr\">"),
        "profile language beats the browser"
    );
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

async fn ui_labels_override_page_strings(app: &TestApp) {
    let token = app
        .profile_with_link(
            "labelled",
            json!({
                "language": "de",
                "ui_labels": {
                    "connect.connectButton": "Jetzt koppeln",
                    "connect.title": "Kanäle verbinden",
                    "connect.progress": "{count}/{total} fertig",
                    "unknown.key": "never shown",
                },
            }),
        )
        .await;
    let page = connect_page(app, &token).await;
    assert!(page.body.contains(">Jetzt koppeln</button>"));
    assert!(page.body.contains("<h1>Kanäle verbinden</h1>"));
    assert!(page.body.contains("0/11 fertig"));
    assert!(!page.body.contains("never shown"));
    // An explicit connect_title still beats the label.
    let token = app
        .link_token("labelled", json!({"connect_title": "Explicit"}))
        .await;
    assert!(
        connect_page(app, &token)
            .await
            .body
            .contains("<h1>Explicit</h1>")
    );
}

async fn page_shows_connection_states(app: &TestApp) {
    let token = app
        .profile_with_link("states", json!({"platforms": ["tiktok", "instagram", "x"]}))
        .await;
    app.insert_connection("states", "tiktok", "dancer", false)
        .await;
    app.insert_connection("states", "instagram", "photos", true)
        .await;
    let page = connect_page(app, &token).await;
    let html = &page.body;
    assert!(html.contains(r#"class="platform connected" data-platform="tiktok""#));
    assert!(html.contains(r#"class="platform reauth" data-platform="instagram""#));
    assert!(html.contains(r#"class="platform not-connected" data-platform="x""#));
    assert!(html.contains("@dancer"));
    assert!(html.contains("dancer Display"));
    assert!(html.contains(r#"src="https://cdn.example.com/dancer.png""#));
    assert!(html.contains("Reconnect needed"));
    assert!(html.contains("1 of 3 connected"));
    assert_eq!(page.count(">Reconnect</button>"), 2);
    assert_eq!(page.count(">Connect</button>"), 1);
}

async fn set_week_start(app: &TestApp, day: i32) {
    let account = app.account_id.clone();
    app.with_db(move |c| {
        use diesel::prelude::*;
        use postgate::db::schema::accounts::dsl::*;
        diesel::update(accounts.find(&account))
            .set(week_start_day.eq(day))
            .execute(c)
            .unwrap();
    })
    .await;
}

async fn calendar_shows_the_month_with_the_accounts_week_start(app: &TestApp) {
    let token = app.profile_with_link("cal", json!({})).await;
    app.insert_post(
        "cal",
        "tiktok",
        "scheduled",
        "2030-03-05T10:30:00",
        "Spring launch teaser",
    )
    .await;
    app.insert_post(
        "cal",
        "instagram",
        "published",
        "2030-03-01T08:00:00",
        "Hello March",
    )
    .await;
    app.insert_post("cal", "x", "failed", "2030-03-31T23:59:00", "Month end")
        .await;
    app.insert_post(
        "cal",
        "x",
        "cancelled",
        "2030-03-10T12:00:00",
        "Cancelled one",
    )
    .await;
    app.insert_post("cal", "x", "scheduled", "2030-04-02T12:00:00", "April post")
        .await;
    // Another profile's post never shows.
    app.profile_with_link("cal-other", json!({})).await;
    app.insert_post(
        "cal-other",
        "x",
        "scheduled",
        "2030-03-06T12:00:00",
        "Not yours",
    )
    .await;
    let path = format!("/connect/calendar?token={token}&month=2030-03");
    set_week_start(app, 1).await;
    let page = app.page(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let html = &page.body;
    assert!(html.contains("March 2030"));
    assert!(html.contains("Spring launch teaser"));
    assert!(html.contains("Hello March"));
    assert!(html.contains("Month end"));
    assert!(!html.contains("Cancelled one"));
    assert!(!html.contains("Not yours"));
    // April's post is in the grid (a trailing day) but not in March's list.
    assert!(!html.contains("April post"));
    assert_eq!(page.count("class=\"post "), 3);
    assert!(html.contains("10:30"));
    assert!(html.contains("Published"));
    assert!(html.contains("Failed"));
    // 1 March 2030 is a Friday: Monday-first weeks start on 25 February.
    let first_header = html.split("<th scope=\"col\">").nth(1).unwrap();
    assert!(first_header.starts_with("Mon"), "{first_header}");
    let first_cell = html.split("<td class=\"").nth(1).unwrap();
    assert!(first_cell.starts_with("other"), "{first_cell}");
    assert!(first_cell.contains(">25<"), "{first_cell}");
    // Sunday-first: the grid starts on 24 February.
    set_week_start(app, 0).await;
    let page = app.page(&path).await;
    assert!(
        page.body
            .split("<th scope=\"col\">")
            .nth(1)
            .unwrap()
            .starts_with("Sun")
    );
    assert!(
        page.body
            .split("<td class=\"")
            .nth(1)
            .unwrap()
            .contains(">24<")
    );
    // Month navigation links, and a bad month falls back to the current one.
    assert!(page.body.contains("month=2030-02"));
    assert!(page.body.contains("month=2030-04"));
    let page = app
        .page(&format!("/connect/calendar?token={token}&month=garbage"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let now = chrono::Utc::now();
    let month_name = texts(Language::En)
        .get(&format!("calendar.month.{}", chrono::Datelike::month(&now)))
        .to_owned();
    assert!(page.body.contains(&month_name));
}

async fn calendar_flags_redirect(app: &TestApp) {
    app.create_profile("flags").await;
    // show_calendar false: no tab, and the calendar URL falls back to /connect.
    let hidden = app
        .link_token("flags", json!({"show_calendar": false}))
        .await;
    let page = connect_page(app, &hidden).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("/connect/calendar"));
    let page = app.page(&format!("/connect/calendar?token={hidden}")).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.header("location"), format!("/connect?token={hidden}"));
    // readonly: every path lands on the calendar.
    let readonly = app
        .link_token(
            "flags",
            json!({"readonly_calendar": true, "show_calendar": false}),
        )
        .await;
    let page = connect_page(app, &readonly).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.header("location"),
        format!("/connect/calendar?token={readonly}")
    );
    let page = app
        .page(&format!("/connect/calendar?token={readonly}"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
}

async fn readonly_calendar_has_no_controls_and_refuses_mutations(app: &TestApp) {
    let token = app
        .profile_with_link(
            "ro",
            json!({"readonly_calendar": true, "redirect_url": "https://example.com/"}),
        )
        .await;
    let post = app
        .insert_post(
            "ro",
            "tiktok",
            "scheduled",
            "2030-03-05T10:30:00",
            "Locked post",
        )
        .await;
    let page = app
        .page(&format!("/connect/calendar?token={token}&month=2030-03"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Locked post"));
    assert!(page.body.contains("View only"));
    assert!(!page.body.contains("<form"), "{}", page.body);
    assert!(!page.body.contains("<button"));
    assert!(!page.body.contains("name=\"csrf\""));
    // No way to the accounts tab.
    assert!(!page.body.contains("href=\"/connect?token"));
    // The server refuses mutations whatever the page shows, even with a valid CSRF token.
    let signer =
        postgate::domain::link_token::LinkSigner::new(crate::support::TEST_LINK_SIGNING_KEY, &[])
            .unwrap();
    let link_id = link_id_of(&token);
    let csrf = signer.csrf_token(&link_id);
    for (path, fields) in [
        (
            "/connect/calendar/cancel",
            vec![
                ("token", token.as_str()),
                ("csrf", csrf.as_str()),
                ("post_id", post.as_str()),
            ],
        ),
        (
            "/connect/start",
            vec![
                ("token", token.as_str()),
                ("csrf", csrf.as_str()),
                ("platform", "tiktok"),
            ],
        ),
    ] {
        let page = app.post_form(path, &fields).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.body.contains("READONLY_CALENDAR"), "{path}");
        assert!(page.body.contains("This calendar is read-only."));
    }
    let page = app
        .page(&format!("/connect/calendar?token={token}&month=2030-03"))
        .await;
    assert!(
        page.body.contains("Locked post"),
        "the post was not cancelled"
    );
}

async fn forms_need_the_links_csrf_token(app: &TestApp) {
    let token = app.profile_with_link("csrf", json!({})).await;
    let other = app.link_token("csrf", json!({})).await;
    let post = app
        .insert_post("csrf", "x", "scheduled", "2030-03-05T10:30:00", "Keep me")
        .await;
    let other_csrf = connect_page(app, &other).await.csrf();
    for csrf in ["", "00", "zz-not-hex", other_csrf.as_str()] {
        let page = app
            .post_form(
                "/connect/calendar/cancel",
                &[("token", &token), ("csrf", csrf), ("post_id", &post)],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "csrf {csrf:?}");
        assert!(page.body.contains("CSRF_FAILED"));
    }
    // Missing fields: a 400 page, not a plain-text error.
    let page = app
        .post_form("/connect/calendar/cancel", &[("token", &token)])
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.header("content-type").starts_with("text/html"));
    // A forged token is a 401 before anything else.
    let page = app
        .post_form(
            "/connect/start",
            &[("token", "bad"), ("csrf", &other_csrf), ("platform", "x")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    // GET on a form route is not allowed.
    assert_eq!(
        app.page("/connect/start").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    let page = app
        .page(&format!("/connect/calendar?token={token}&month=2030-03"))
        .await;
    assert!(page.body.contains("Keep me"));
}

async fn cancelling_a_scheduled_post(app: &TestApp) {
    let token = app.profile_with_link("cancel", json!({})).await;
    let post = app
        .insert_post(
            "cancel",
            "tiktok",
            "scheduled",
            "2030-03-05T10:30:00",
            "Soon gone",
        )
        .await;
    let published = app
        .insert_post("cancel", "x", "published", "2020-03-05T10:30:00", "History")
        .await;
    let page = app
        .page(&format!("/connect/calendar?token={token}&month=2030-03"))
        .await;
    assert_eq!(page.count("action=\"/connect/calendar/cancel\""), 1);
    let csrf = page.csrf();
    let done = app
        .post_form(
            "/connect/calendar/cancel",
            &[
                ("token", &token),
                ("csrf", &csrf),
                ("post_id", &post),
                ("month", "2030-03"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(
        done.header("location"),
        format!("/connect/calendar?token={token}&month=2030-03")
    );
    let page = app
        .page(&format!("/connect/calendar?token={token}&month=2030-03"))
        .await;
    assert!(!page.body.contains("Soon gone"));
    // Twice, published posts, and other profiles' posts: nothing to cancel.
    app.profile_with_link("cancel-other", json!({})).await;
    let foreign = app
        .insert_post(
            "cancel-other",
            "x",
            "scheduled",
            "2030-03-05T10:30:00",
            "Foreign",
        )
        .await;
    for id in [&post, &published, &foreign, &"nope".to_owned()] {
        let page = app
            .post_form(
                "/connect/calendar/cancel",
                &[("token", &token), ("csrf", &csrf), ("post_id", id)],
            )
            .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{id}");
        assert!(page.body.contains("POST_NOT_FOUND"));
    }
}

/// Without the sandbox, only platforms with an app (and Bluesky, which needs none) show, and
/// a hand-made form for another gets the localized 503.
async fn connect_button_reports_an_unconfigured_platform(app: &TestApp) {
    let real = TestApp::spawn_with(app.test_db.backend, |s| {
        s.sandbox = false;
        s.platforms.insert(
            "x".to_owned(),
            postgate::config::RawPlatform {
                client_id: Some("x-client".to_owned()),
                client_secret: Some(postgate::domain::Secret::new("x-secret")),
                ..Default::default()
            },
        );
    })
    .await;
    let app = &real;
    let token = app
        .profile_with_link(
            "start",
            json!({"platforms": ["tiktok", "x", "bluesky"], "language": "es"}),
        )
        .await;
    let shown = connect_page(app, &token).await;
    assert_eq!(shown.count("class=\"platform "), 2, "{}", shown.body);
    assert!(shown.body.contains("data-platform=\"x\""));
    assert!(shown.body.contains("data-platform=\"bluesky\""));
    assert!(!shown.body.contains("sandbox-tag"));
    // The consent page of a configured platform is a place the page's forms may lead to.
    assert!(
        shown
            .header("content-security-policy")
            .contains("form-action 'self' https://x.com")
    );
    let csrf = shown.csrf();
    let page = app
        .post_form(
            "/connect/start",
            &[("token", &token), ("csrf", &csrf), ("platform", "tiktok")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.body.contains("PLATFORM_NOT_CONFIGURED"));
    let t = texts(Language::Es);
    assert!(
        page.body
            .contains(&html_escape(t.get("error.platformNotConfigured")))
    );
    assert!(
        page.body
            .contains(&format!("href=\"/connect?token={token}\"")),
        "a way back"
    );
    // A platform the link does not offer.
    let page = app
        .post_form(
            "/connect/start",
            &[
                ("token", &token),
                ("csrf", &csrf),
                ("platform", "instagram"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("PLATFORM_NOT_OFFERED"));
}

async fn bad_links_get_a_localized_401_page(app: &TestApp) {
    let token = app.profile_with_link("err", json!({})).await;
    let (status, _) =
        crate::support::send(app.post("/users/revoke-jwt", &json!({"jwt": token}))).await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/connect".to_owned(),
        "/connect?token=".to_owned(),
        "/connect?token=abc.def.ghi".to_owned(),
        format!("/connect?token={token}"),
        format!("/connect/calendar?token={token}"),
    ] {
        let page = app.page_in(&path, "de-DE,de;q=0.9").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(page.body.contains("<html lang=\"de\">"), "{path}");
        let t = texts(Language::De);
        assert!(
            page.body.contains(&html_escape(t.get("error.linkTitle"))),
            "{path}"
        );
        assert!(page.body.contains("INVALID_TOKEN"));
        for internal in [
            "diesel",
            "sql",
            "panick",
            "token revoked",
            "token signature",
        ] {
            assert!(
                !page.body.to_lowercase().contains(internal),
                "{path}: {internal}"
            );
        }
    }
}

async fn unknown_paths_get_a_404_page(app: &TestApp) {
    for path in ["/connect/", "/connect/nope", "/connect/calendar/2030"] {
        let page = app.page_in(path, "fr").await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            page.header("content-type").starts_with("text/html"),
            "{path}"
        );
        assert!(
            page.body
                .contains(&html_escape(texts(Language::Fr).get("error.notFoundTitle"))),
            "{path}"
        );
    }
}

async fn bounce_redirects_only_to_a_pending_state(app: &TestApp) {
    let token = app.profile_with_link("bounce", json!({})).await;
    let link = link_id_of(&token);
    let target = "https://www.instagram.com/oauth/authorize?client_id=1&state=abc&redirect_uri=https%3A%2F%2Fx";
    let id = app.insert_oauth_state(&link, target, 900).await;
    let page = app
        .page(&format!("/api/uploadposts/oauth/bounce?id={id}&url=https://evil.example.com&redirect=https://evil.example.com"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let escaped_target = target.replace('&', "&#38;");
    assert!(
        page.body.contains(&format!(
            "<a id=\"continue\" class=\"button primary wide\" href=\"{escaped_target}\""
        )),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!(
        "<script src=\"{}\"></script>",
        static_url(asset("bounce.js"))
    )));
    assert!(!page.body.contains("evil"));
    assert!(
        page.header("content-security-policy")
            .contains("script-src 'self'")
    );
    assert_eq!(page.header("referrer-policy"), "no-referrer");
    // Unknown, expired, and revoked-link states lead nowhere.
    let expired = app.insert_oauth_state(&link, target, -1).await;
    let other = app.link_token("bounce", json!({})).await;
    let other_link = link_id_of(&other);
    let of_revoked = app.insert_oauth_state(&other_link, target, 900).await;
    let (status, _) =
        crate::support::send(app.post("/users/revoke-jwt", &json!({"link_id": other_link}))).await;
    assert_eq!(status, StatusCode::OK);
    for bad in ["", "nope", &expired, &of_revoked, &"x".repeat(500)] {
        let page = app
            .page(&format!("/api/uploadposts/oauth/bounce?id={bad}"))
            .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{bad}");
        assert!(!page.body.contains("instagram.com"), "{bad}");
        assert!(page.body.contains("OAUTH_STATE_NOT_FOUND"));
    }
    let page = app.page("/api/uploadposts/oauth/bounce").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    // The state's own link being used up does not matter for the bounce, only the state.
    let used = app.insert_oauth_state(&link, target, 900).await;
    let used_id = used.clone();
    app.with_db(move |c| {
        use diesel::prelude::*;
        use postgate::db::schema::oauth_states::dsl::*;
        diesel::update(oauth_states.find(&used_id))
            .set(used_at.eq(postgate::domain::time::now()))
            .execute(c)
            .unwrap();
    })
    .await;
    assert_eq!(
        app.page(&format!("/api/uploadposts/oauth/bounce?id={used}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// The asset of `static/` at `source`.
fn asset(source: &str) -> &'static Asset {
    ASSETS.iter().find(|a| a.source == source).unwrap()
}

async fn static_assets_are_served_and_cached(app: &TestApp) {
    let css = asset("connect.css");
    assert!(
        static_url(css).starts_with("/static/connect."),
        "{}",
        static_url(css)
    );
    let page = app.page(&static_url(css)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.header("content-type").starts_with("text/css"));
    assert_eq!(
        page.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(page.body.contains(":root"));
    let js = app.page(&static_url(asset("bounce.js"))).await;
    assert!(js.header("content-type").starts_with("text/javascript"));
    assert!(js.body.contains("location.replace"));
    // A client holding the file asks whether it changed: it has not.
    let etag = page.header("etag");
    assert!(etag.starts_with("W/\""), "{etag}");
    let again = app
        .client
        .get(app.url(&static_url(css)))
        .header("If-None-Match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["etag"], etag);
    // Compressed for browsers that ask; pages never are (they carry tokens).
    let gz = app
        .client
        .get(app.url(&static_url(css)))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let token = app.profile_with_link("gzip", json!({})).await;
    let page = app
        .client
        .get(app.url(&format!("/connect?token={token}")))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert!(page.headers().get("content-encoding").is_none());
    // Only the current fingerprinted name serves a file: not the bare name, nor another hash.
    let hash = css.name.split('.').nth(1).unwrap();
    let stale = static_url(css).replace(hash, "00000000");
    assert_ne!(stale, static_url(css));
    for path in [
        "/static/connect.css",
        "/static/platforms/tiktok.svg",
        "/static/tiktok.svg",
        stale.as_str(),
        "/static/../Cargo.toml",
        "/static/nope.css",
    ] {
        assert_eq!(app.page(path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
}

/// Every platform row shows the platform's logo, served from `static/platforms/` under its
/// fingerprinted name; the row's heading names the platform, so the image is decorative.
async fn page_shows_each_platforms_logo(app: &TestApp) {
    let token = app.profile_with_link("logos", json!({})).await;
    let page = connect_page(app, &token).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for platform in Platform::ALL {
        let logo = asset(&format!("platforms/{}.svg", platform.key()));
        let row = page
            .body
            .split(&format!("data-platform=\"{}\"", platform.key()))
            .nth(1)
            .and_then(|rest| rest.split("</li>").next())
            .unwrap_or_else(|| panic!("no row for {platform:?}"));
        assert!(
            row.contains(&format!(
                r#"<img class="platform-logo" src="{}" alt="" width="40" height="40">"#,
                static_url(logo)
            )),
            "{platform:?}: {row}"
        );
        assert!(
            row.contains(&format!("<h3>{}", platform.display_name())),
            "{platform:?}: {row}"
        );
        let svg = app.page(&static_url(logo)).await;
        assert_eq!(svg.status, StatusCode::OK, "{platform:?}");
        assert_eq!(svg.header("content-type"), "image/svg+xml");
        assert_eq!(
            svg.header("cache-control"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(svg.body.as_bytes(), logo.body, "{platform:?}");
        assert!(svg.body.starts_with("<svg "), "{platform:?}");
        for banned in ["<script", "href", "url("] {
            assert!(!svg.body.contains(banned), "{platform:?}: {banned}");
        }
    }
    // Same origin: the pages' policy lets the logos load.
    assert!(
        page.header("content-security-policy")
            .contains("img-src 'self'")
    );
}

/// The page with what changes per run (tokens, CSRF, post ids) masked, and the assets'
/// content hashes, which change with every edit of a file.
fn stable(html: &str, token: &str) -> String {
    let mut out = html.replace(token, "[token]");
    for asset in ASSETS.iter() {
        let (stem, rest) = asset.name.split_once('.').unwrap();
        let extension = rest.split_once('.').unwrap().1;
        out = out.replace(
            &static_url(asset),
            &format!("/static/{stem}.[hash].{extension}"),
        );
    }
    for marker in [r#"name="csrf" value=""#, r#"data-post=""#] {
        let mut rest = out.as_str();
        let mut masked = String::new();
        while let Some(i) = rest.find(marker) {
            masked.push_str(&rest[..i + marker.len()]);
            rest = &rest[i + marker.len()..];
            let end = rest.find('"').unwrap_or(rest.len());
            masked.push_str("[masked]");
            rest = &rest[end..];
        }
        masked.push_str(rest);
        out = masked;
    }
    out
}

async fn rendered_html_snapshots(app: &TestApp) {
    let token = app.profile_with_link("snap", json!({})).await;
    let page = connect_page(app, &token).await;
    insta::assert_snapshot!("page_default_en", stable(&page.body, &token));
    let token = app
        .link_token(
            "snap",
            json!({
                "language": "de",
                "logo_image": "https://cdn.example.com/acme.png",
                "connect_title": "Acme Social",
                "redirect_url": "https://acme.example.com/done",
                "platforms": ["tiktok", "instagram", "youtube"],
            }),
        )
        .await;
    app.insert_connection("snap", "tiktok", "dancer", false)
        .await;
    app.insert_connection("snap", "instagram", "photos", true)
        .await;
    let page = connect_page(app, &token).await;
    insta::assert_snapshot!("page_branded_de_connected", stable(&page.body, &token));
    let token = app
        .link_token("snap", json!({"readonly_calendar": true, "language": "en"}))
        .await;
    app.insert_post(
        "snap",
        "tiktok",
        "scheduled",
        "2030-03-05T10:30:00",
        "Spring launch",
    )
    .await;
    app.insert_post(
        "snap",
        "youtube",
        "published",
        "2030-03-01T08:00:00",
        "Hello March",
    )
    .await;
    let account = app.account_id.clone();
    app.with_db(move |c| {
        use diesel::prelude::*;
        use postgate::db::schema::accounts::dsl::*;
        diesel::update(accounts.find(&account))
            .set(week_start_day.eq(1))
            .execute(c)
            .unwrap();
    })
    .await;
    let page = app
        .page(&format!("/connect/calendar?token={token}&month=2030-03"))
        .await;
    insta::assert_snapshot!("calendar_readonly_en", stable(&page.body, &token));
}

/// The path a static file is served at.
fn static_url(asset: &Asset) -> String {
    format!("/static/{}", asset.name)
}
