//! The connect page in headless Chromium, at desktop and phone sizes with desktop and phone
//! User-Agents. Screenshots land in `target/screenshots/`.

use crate::cases;
use crate::support::TestApp;
use crate::support::browser::{
    self, assert_clean, desktop, look, phone, screenshot, step, visible_controls,
};
use crate::support::connect::link_id_of;
use postgate::connect::i18n::Texts;
use postgate::domain::connect_settings::UiLabels;
use postgate::domain::language::Language;
use serde_json::{Value, json};

cases![
    connect_page_in_seven_languages_on_desktop_and_phone,
    keyboard_reaches_every_control_with_a_visible_focus,
    calendar_month_on_desktop_and_phone,
    readonly_calendar_has_no_working_controls,
    connect_through_the_sandbox_and_error_pages,
    bounce_follows_to_the_authorize_url_on_a_phone,
];

/// A branded profile with three connections (one needing reconnection), using `logo` for
/// the logo and avatars.
async fn branded_profile(app: &TestApp, username: &str, logo: &str) {
    app.create_profile(username).await;
    app.insert_connection(username, "tiktok", "dancer.studio", false)
        .await;
    app.insert_connection(username, "instagram", "acme.photos", true)
        .await;
    app.insert_connection(username, "linkedin", "acme-inc", false)
        .await;
    let username = username.to_owned();
    let avatar = logo.replace("acme-logo.svg", "avatar.svg");
    app.with_db(move |c| {
        use diesel::prelude::*;
        use postgate::db::schema::{profiles, social_connections};
        let ids = profiles::table
            .filter(profiles::username.eq(&username))
            .select(profiles::id);
        diesel::update(
            social_connections::table.filter(social_connections::profile_id.eq_any(ids)),
        )
        .set(social_connections::avatar_url.eq(avatar))
        .execute(c)
        .unwrap();
    })
    .await;
}

const BRANDED_PLATFORMS: [&str; 6] = [
    "tiktok",
    "instagram",
    "linkedin",
    "youtube",
    "x",
    "google_business",
];

fn branding(logo: &str) -> Value {
    json!({
        "logo_image": logo,
        "connect_title": null,
        "redirect_url": "https://app.acme.example/settings",
        "platforms": BRANDED_PLATFORMS,
    })
}

fn collected_text(c: &Value) -> &str {
    c["text"].as_str().unwrap_or_default()
}

/// Each platform's logo is on the collected page, loaded (the browser decoded it) and
/// visible, at its fingerprinted URL, with an empty alt: the platform's name is beside it.
fn assert_logos_load(page: &Value, platforms: &[&str], name: &str) {
    let images = page["images"].as_array().unwrap();
    for key in platforms {
        let url = format!(
            "/static/{}",
            postgate::assets::ASSETS
                .iter()
                .find(|a| a.source == format!("platforms/{key}.svg"))
                .unwrap()
                .name
        );
        let logo = images
            .iter()
            .find(|i| i["src"].as_str().unwrap().ends_with(&url))
            .unwrap_or_else(|| panic!("{name}: no {key} logo at {url}"));
        assert!(
            logo["natural_width"].as_u64().unwrap() > 0,
            "{name}: {logo}"
        );
        assert_eq!(logo["visible"], true, "{name}: {logo}");
        assert_eq!(logo["alt"], "", "{name}: {logo}");
    }
}

async fn connect_page_in_seven_languages_on_desktop_and_phone(app: &TestApp) {
    let logo = browser::serve_logo();
    branded_profile(app, "acme", &logo).await;
    let mut visits = Vec::new();
    for language in Language::ALL {
        let mut settings = branding(&logo);
        settings["language"] = language.code().into();
        let token = app.link_token("acme", settings).await;
        let url = app.url(&format!("/connect?token={token}"));
        let code = language.code();
        let steps = |size: &str| look(&url, &format!("connect-{code}-{size}"));
        visits.push(desktop(&format!("{code}-desktop"), steps("desktop")));
        visits.push(phone(&format!("{code}-phone"), steps("phone")));
    }
    let reports = browser::run(visits).await;
    for (report, language) in reports.chunks(2).zip(Language::ALL) {
        let t = Texts::new(language, UiLabels::default());
        for visit in report {
            let name = visit["name"].as_str().unwrap();
            assert_clean(visit);
            assert_eq!(step(visit, 0)["status"], 200, "{name}");
            let page = step(visit, 1);
            assert_eq!(page["lang"], language.code(), "{name}");
            assert_eq!(
                page["horizontal_overflow"], false,
                "{name}: scrolls sideways"
            );
            assert_eq!(page["broken_images"], 0, "{name}");
            assert_eq!(page["stylesheets_loaded"], 1, "{name}");
            assert_logos_load(page, &BRANDED_PLATFORMS, name);
            let text = collected_text(page);
            for key in [
                "connect.title",
                "connect.connected",
                "connect.reauthRequired",
                "connect.redirectButton",
            ] {
                assert!(
                    text.contains(t.get(key)),
                    "{name}: {key} {:?} not visible",
                    t.get(key)
                );
            }
            assert!(text.contains("@dancer.studio"), "{name}");
            assert!(
                page["images"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|i| i["visible"] == true),
                "{name}"
            );
            // Six platforms, three of them connected (which adds "use another account" and
            // "disconnect"): twelve visible buttons that fit the screen, each naming its
            // platform.
            let controls = visible_controls(page);
            let buttons: Vec<&&Value> = controls.iter().filter(|c| c["tag"] == "button").collect();
            assert_eq!(buttons.len(), 12, "{name}");
            let width = if name.ends_with("phone") {
                360.0
            } else {
                1280.0
            };
            for b in &buttons {
                assert!(
                    !b["text"].as_str().unwrap().is_empty(),
                    "{name}: empty button"
                );
                let right = b["box"]["x"].as_f64().unwrap() + b["box"]["width"].as_f64().unwrap();
                assert!(right <= width, "{name}: a button sticks out");
                assert!(
                    b["box"]["height"].as_f64().unwrap() >= 44.0,
                    "{name}: small touch target"
                );
                let label = b["aria_label"].as_str().unwrap();
                assert!(
                    postgate::domain::Platform::ALL
                        .iter()
                        .any(|p| label.ends_with(p.display_name())),
                    "{name}: button {label:?} names its platform"
                );
            }
            let done = controls
                .iter()
                .find(|c| c["href"] == "https://app.acme.example/settings")
                .unwrap_or_else(|| panic!("{name}: no redirect button"));
            assert_eq!(done["text"], t.get("connect.redirectButton"), "{name}");
        }
    }
}

async fn keyboard_reaches_every_control_with_a_visible_focus(app: &TestApp) {
    let token = app
        .profile_with_link(
            "keys",
            json!({"platforms": ["tiktok", "x"], "redirect_url": "https://example.com/"}),
        )
        .await;
    let url = app.url(&format!("/connect?token={token}"));
    let visits = vec![desktop(
        "keyboard",
        json!([
            {"action": "goto", "url": url},
            {"action": "tab", "count": 6},
        ]),
    )];
    let report = &browser::run(visits).await[0];
    assert_clean(report);
    let focused = step(report, 1)["focused"].as_array().unwrap();
    let names: Vec<&str> = focused
        .iter()
        .map(|f| f["text"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        [
            "Skip to content",
            "Accounts",
            "Calendar",
            "Connect",
            "Connect",
            "Logout connection"
        ],
        "tab order"
    );
    for f in focused {
        assert_eq!(f["outline_visible"], true, "no visible focus on {f}");
    }
}

async fn calendar_month_on_desktop_and_phone(app: &TestApp) {
    let logo = browser::serve_logo();
    branded_profile(app, "calendar", &logo).await;
    let posts = [
        (
            "tiktok",
            "scheduled",
            "2030-03-05T10:30:00",
            "Spring collection teaser: 15 seconds of colour",
        ),
        (
            "instagram",
            "published",
            "2030-03-02T08:00:00",
            "Behind the scenes at the studio",
        ),
        (
            "linkedin",
            "scheduled",
            "2030-03-05T16:00:00",
            "We are hiring two designers",
        ),
        ("x", "failed", "2030-03-12T12:00:00", "Launch thread"),
        (
            "youtube",
            "scheduled",
            "2030-03-28T18:00:00",
            "Full runway video",
        ),
    ];
    for (platform, status, at, text) in posts {
        app.insert_post("calendar", platform, status, at, text)
            .await;
    }
    let token = app.link_token("calendar", branding(&logo)).await;
    let url = app.url(&format!("/connect/calendar?token={token}&month=2030-03"));
    let steps = |size: &str| look(&url, &format!("calendar-en-{size}"));
    let reports = browser::run(vec![
        desktop("desktop", steps("desktop")),
        phone("phone", steps("phone")),
    ])
    .await;
    for visit in &reports {
        assert_clean(visit);
        let page = step(visit, 1);
        assert_eq!(page["horizontal_overflow"], false, "{}", visit["name"]);
        let platforms = posts.map(|(platform, ..)| platform);
        assert_logos_load(page, &platforms, visit["name"].as_str().unwrap());
        let text = collected_text(page);
        assert!(text.contains("March 2030"));
        for (_, _, _, post) in posts {
            assert!(text.contains(post), "{}: {post}", visit["name"]);
        }
        let cancels = visible_controls(page)
            .into_iter()
            .filter(|c| c["tag"] == "button" && c["text"] == "Cancel post")
            .count();
        assert_eq!(cancels, 3, "{}: one per scheduled post", visit["name"]);
    }
}

async fn readonly_calendar_has_no_working_controls(app: &TestApp) {
    app.create_profile("viewer").await;
    // The redirect lands on the current month.
    let at = chrono::Utc::now().format("%Y-%m-15T10:30:00").to_string();
    app.insert_post("viewer", "tiktok", "scheduled", &at, "Locked in")
        .await;
    let token = app
        .link_token(
            "viewer",
            json!({"readonly_calendar": true, "language": "fr"}),
        )
        .await;
    // Any page of a read-only link lands on the calendar.
    let url = app.url(&format!("/connect?token={token}"));
    let steps = |size: &str| look(&url, &format!("calendar-readonly-fr-{size}"));
    let reports = browser::run(vec![
        desktop("desktop", steps("desktop")),
        phone("phone", steps("phone")),
    ])
    .await;
    let t = Texts::new(Language::Fr, UiLabels::default());
    for visit in &reports {
        assert_clean(visit);
        let page = step(visit, 1);
        assert!(
            page["url"].as_str().unwrap().contains("/connect/calendar?"),
            "{}",
            visit["name"]
        );
        assert!(collected_text(page).contains(t.get("calendar.readonlyNotice")));
        assert!(collected_text(page).contains("Locked in"));
        // Only navigation is left: no button, no input, no form anywhere on the page.
        for c in page["controls"].as_array().unwrap() {
            assert_eq!(c["tag"], "a", "{}: a working control: {c}", visit["name"]);
            assert!(c["form_action"].is_null(), "{c}");
            let href = c["href"].as_str().unwrap();
            assert!(
                href.contains("/connect/calendar?") || href.ends_with("#main"),
                "{href}"
            );
        }
    }
}

/// Connecting through the sandbox as a person would: Connect, the platform's consent page,
/// Allow, and back to the page with the account shown. On a desktop (Turkish), and on a
/// phone, where Connect goes through the bounce page (whose redirect
/// `bounce_follows_to_the_authorize_url_on_a_phone` checks).
async fn connect_through_the_sandbox_and_error_pages(app: &TestApp) {
    let token = app
        .profile_with_link(
            "clicker",
            json!({"platforms": ["youtube", "x", "facebook"], "language": "tr"}),
        )
        .await;
    let url = app.url(&format!("/connect?token={token}"));
    let bad = app.url("/connect?token=expired.or.forged");
    let click_through = |platform: &str, shot: &str| {
        json!([
            {"action": "goto", "url": url},
            {"action": "click", "selector": format!("li[data-platform={platform}] button[type=submit]"), "wait_for_navigation": true},
            {"action": "wait_for_url", "contains": format!("/sandbox/{platform}/")},
            {"action": "collect"},
            {"action": "screenshot", "path": screenshot(&format!("{shot}-consent"))},
            {"action": "click", "selector": "#allow", "wait_for_navigation": true},
            {"action": "wait_for_url", "contains": "oauth="},
            {"action": "collect"},
            {"action": "screenshot", "path": screenshot(shot), "full_page": true},
        ])
    };
    let on_desktop = desktop(
        "sandbox-desktop",
        click_through("youtube", "sandbox-youtube-tr-desktop"),
    );
    let on_phone = phone("sandbox-phone", click_through("x", "sandbox-x-tr-phone"));
    // No language on this request: the browser's Turkish decides.
    let mut bad_link = phone("bad-link", look(&bad, "invalid-link-tr-phone"));
    bad_link["locale"] = "tr-TR".into();
    let reports = browser::run(vec![on_desktop, on_phone, bad_link]).await;
    let t = Texts::new(Language::Tr, UiLabels::default());
    for (report, name, handle) in [
        (&reports[0], "YouTube", "@alexrivera"),
        (&reports[1], "X", "@alex.rivera"),
    ] {
        let consent = step(report, 3);
        assert!(
            collected_text(consent).contains(&format!("Sign in to {name}")),
            "{name}: {consent}"
        );
        let back = step(report, 7);
        let text = collected_text(back);
        assert!(
            text.contains(&t.fill("notice.connected", &[("platform", name)])),
            "{name}: {text}"
        );
        assert!(text.contains(handle), "{name}: {text}");
        assert_eq!(back["horizontal_overflow"], false, "{name}");
        assert_eq!(back["broken_images"], 0, "{name}: the avatar loads");
        assert_clean(report);
    }
    let bad = &reports[2];
    assert_eq!(step(bad, 0)["status"], 401);
    let page = step(bad, 1);
    assert_eq!(page["lang"], "tr");
    assert!(collected_text(page).contains(t.get("error.linkTitle")));
    assert_eq!(page["horizontal_overflow"], false);
    // The error pages load their stylesheet like every page.
    assert_eq!(page["stylesheets_loaded"], 1);
    assert_eq!(bad["csp_violations"], json!([]));
}

async fn bounce_follows_to_the_authorize_url_on_a_phone(app: &TestApp) {
    let token = app.profile_with_link("mobile", json!({})).await;
    // The "platform" is our own health endpoint, so the test can see where the bounce led.
    let authorize = app.url("/healthz?client_id=abc&state=xyz");
    let id = app
        .insert_oauth_state(&link_id_of(&token), &authorize, 900)
        .await;
    let bounce = app.url(&format!("/api/uploadposts/oauth/bounce?id={id}"));
    let visits = vec![phone(
        "bounce",
        json!([
            {"action": "goto", "url": bounce},
            {"action": "wait_for_url", "contains": "/healthz?client_id=abc&state=xyz"},
            {"action": "collect"},
        ]),
    )];
    let report = &browser::run(visits).await[0];
    assert_eq!(step(report, 0)["status"], 200);
    assert_eq!(
        step(report, 1)["ok"],
        true,
        "the script did not redirect: {}",
        step(report, 1)
    );
    assert_eq!(step(report, 2)["url"], authorize);
    assert_clean(report);
}
