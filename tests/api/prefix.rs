//! Postgate behind a reverse proxy under a path prefix: `public_url` carries `/postgate/`,
//! every URL handed out carries it, and requests work whether the proxy strips the prefix
//! or passes the path through.

use crate::cases;
use crate::support::sandbox::Consent;
use crate::support::{TestApp, send};
use reqwest::StatusCode;
use serde_json::json;

cases![
    links_pages_and_forms_carry_the_prefix,
    a_sandbox_connection_goes_through_the_prefix
];

const PUBLIC: &str = "https://proxy.example/postgate";

async fn behind_proxy(app: &TestApp) -> TestApp {
    TestApp::spawn_with(app.test_db.backend, |raw| {
        raw.public_url = Some(format!("{PUBLIC}/"));
    })
    .await
}

/// What the proxy does with a URL Postgate handed out: the same path on the real server,
/// with the prefix kept (`strip == false`) or removed.
fn through_proxy(app: &TestApp, url: &str, strip: bool) -> String {
    let path = url.strip_prefix("https://proxy.example").unwrap_or(url);
    assert!(
        path.starts_with("/postgate/"),
        "not under the prefix: {url}"
    );
    if strip {
        app.url(&path["/postgate".len()..])
    } else {
        app.url(path)
    }
}

/// Every `href`, `action` and `src` of a page.
fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attr in ["href=\"", "action=\"", "src=\""] {
        let mut rest = html;
        while let Some(at) = rest.find(attr) {
            rest = &rest[at + attr.len()..];
            let end = rest.find('"').expect("closing quote");
            found.push(rest[..end].replace("&#38;", "&").replace("&amp;", "&"));
        }
    }
    found
}

async fn links_pages_and_forms_carry_the_prefix(app: &TestApp) {
    let app = behind_proxy(app).await;
    app.create_profile("olivia").await;
    let (status, body) = send(app.post(
        "/users/generate-jwt",
        &json!({"username": "olivia", "show_calendar": true}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access_url = body["access_url"].as_str().unwrap().to_owned();
    assert!(
        access_url.starts_with(&format!("{PUBLIC}/connect?token=")),
        "{access_url}"
    );
    for strip in [false, true] {
        let page = app
            .client
            .get(through_proxy(&app, &access_url, strip))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK, "strip={strip}");
        let html = page.text().await.unwrap();
        let refs = references(&html);
        assert!(
            refs.iter().any(|r| r.contains("/connect/start")),
            "{refs:?}"
        );
        assert!(
            refs.iter().any(|r| r.contains("/connect/calendar")),
            "{refs:?}"
        );
        for r in refs.iter().filter(|r| r.starts_with('/')) {
            assert!(
                r.starts_with("/postgate/"),
                "a link without the prefix: {r}"
            );
        }
        // Every same-origin link the page shows answers through the proxy.
        for r in refs.iter().filter(|r| r.starts_with("/postgate/")) {
            if html.contains(&format!("action=\"{r}\"")) {
                continue;
            }
            let resp = app
                .client
                .get(through_proxy(&app, r, strip))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::OK, "{r} (strip={strip})");
        }
    }
    // The API answers under the prefix too.
    let me = app.with_key(
        app.client.get(app.url("/postgate/api/uploadposts/me")),
        &app.api_key,
    );
    assert_eq!(send(me).await.0, StatusCode::OK);
    // A path that only starts like the prefix is not stripped.
    let near = app
        .client
        .get(app.url("/postgateway/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(near.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

async fn a_sandbox_connection_goes_through_the_prefix(app: &TestApp) {
    let app = behind_proxy(app).await;
    let token = app.profile_with_link("olivia", json!({})).await;
    let start = app.press_connect(&token, "x", None, false).await;
    assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.body);
    let authorize = start.location.expect("to the consent page");
    assert!(
        authorize.starts_with(&format!("{PUBLIC}/sandbox/x/")),
        "{authorize}"
    );
    assert!(
        authorize.contains("redirect_uri=https%3A%2F%2Fproxy.example%2Fpostgate%2Fapi%2Fuploadposts%2Foauth%2Fcallback%2Fx"),
        "{authorize}"
    );
    let consent_page = app.hop(&through_proxy(&app, &authorize, false)).await;
    assert_eq!(consent_page.status, StatusCode::OK);
    assert!(
        consent_page
            .body
            .contains("action=\"/postgate/sandbox/x/_consent\""),
        "{}",
        consent_page.body
    );
    let callback = app
        .consent(
            &through_proxy(&app, &authorize, true),
            Consent::Allow { person: 0 },
        )
        .await;
    assert!(
        callback.starts_with(&format!("{PUBLIC}/api/uploadposts/oauth/callback/x?")),
        "{callback}"
    );
    let returned = app.hop(&through_proxy(&app, &callback, true)).await;
    assert_eq!(returned.status, StatusCode::SEE_OTHER, "{}", returned.body);
    let back = returned.location.expect("back to the page");
    assert!(
        back.starts_with(&format!("{PUBLIC}/connect?token=")),
        "{back}"
    );
    let page = app.hop(&through_proxy(&app, &back, false)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("notice success"), "{}", page.body);
    app.stop().await;
}
