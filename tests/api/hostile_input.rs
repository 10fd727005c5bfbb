//! Hostile strings on every route of the route table: a NUL byte (which PostgreSQL refuses
//! in text), a lone surrogate and invisible format characters, in each path parameter,
//! query member and body member the server reads. Every answer is a 4xx, never a 5xx, on
//! both backends; the route list comes from the app itself, so a new route is covered the
//! day it is added.

use crate::cases;
use crate::support::TestApp;
use crate::support::routes::{fill, probe, probed_routes};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

cases![
    nul_bytes_anywhere_are_a_4xx_on_every_route,
    usernames_are_one_profile_whatever_their_unicode_form,
    format_characters_in_identifiers_are_refused,
];

/// Members the handlers read, from query strings and JSON bodies alike.
const MEMBERS: &[&str] = &[
    "username",
    "user",
    "profile_username",
    "platform",
    "platforms",
    "request_id",
    "job_id",
    "post_id",
    "external_id",
    "name",
    "title",
    "description",
    "webhook_url",
    "url",
    "redirect_url",
    "logo_image",
    "connect_title",
    "connect_description",
    "language",
    "scheduled_date",
    "timezone",
    "date",
    "page_id",
    "location_id",
    "slot",
    "token",
    "state",
    "code",
    "id",
];

/// A value of the right shape for each member, so that only the hostile one is wrong.
fn valid(member: &str) -> Value {
    match member {
        "username" | "user" | "profile_username" => json!("olivia"),
        "platform" => json!("x"),
        "platforms" => json!(["x"]),
        "webhook_url" | "url" | "redirect_url" | "logo_image" => {
            json!("https://example.com/hook")
        }
        "scheduled_date" | "date" => json!("2030-01-01T10:00:00Z"),
        "timezone" => json!("UTC"),
        "language" => json!("en"),
        _ => json!("value"),
    }
}

fn body_with(hostile_member: &str, hostile: &str) -> Value {
    let mut body = serde_json::Map::new();
    for m in MEMBERS {
        let value = if *m == hostile_member {
            match valid(m) {
                Value::Array(_) => json!([hostile]),
                _ => json!(hostile),
            }
        } else {
            valid(m)
        };
        body.insert((*m).to_owned(), value);
    }
    body.insert(
        "metadata".to_owned(),
        if hostile_member == "metadata" {
            json!({ "k": hostile })
        } else {
            json!({ "k": "v" })
        },
    );
    Value::Object(body)
}

fn query_with(hostile_member: &str, hostile: &str) -> Vec<(String, String)> {
    MEMBERS
        .iter()
        .map(|m| {
            let value = if *m == hostile_member {
                hostile.to_owned()
            } else {
                match valid(m) {
                    Value::String(s) => s,
                    other => other[0].as_str().unwrap_or("x").to_owned(),
                }
            };
            ((*m).to_owned(), value)
        })
        .collect()
}

async fn nul_bytes_anywhere_are_a_4xx_on_every_route(app: &TestApp) {
    let app = &TestApp::spawn_without_limits(app.test_db.backend, |_| {}).await;
    assert_eq!(app.create_profile("olivia").await.0, StatusCode::CREATED);
    let token = app.link_token("olivia", json!({})).await;
    let routes = probed_routes();
    let auths = [format!("Apikey {}", app.api_key), format!("Bearer {token}")];
    let mut refused = 0;
    for hostile in ["a\u{0}b", "\u{0}"] {
        for (method, path) in &routes {
            let has_body = *method != Method::GET;
            for auth in &auths {
                // In a path parameter.
                let filled = fill(path, |name| {
                    if name == "platform" { "x" } else { hostile }.to_owned()
                });
                if filled != *path {
                    let body = has_body.then(|| body_with("", hostile));
                    probe(app, method, &filled, auth, &[], body.as_ref()).await;
                }
                let filled = fill(path, |name| {
                    if name == "platform" { "x" } else { "olivia" }.to_owned()
                });
                for member in MEMBERS.iter().chain(&["metadata"]) {
                    let query = query_with(member, hostile);
                    let body = has_body.then(|| body_with(member, hostile));
                    let (status, _) =
                        probe(app, method, &filled, auth, &query, body.as_ref()).await;
                    if status == StatusCode::BAD_REQUEST {
                        refused += 1;
                    }
                }
            }
        }
    }
    assert!(refused > 0, "some request was refused as bad input");
    for upload in [
        "/api/upload_text",
        "/api/upload_photos",
        "/api/upload",
        "/api/upload_document",
    ] {
        for field in [
            "user",
            "title",
            "description",
            "platform[]",
            "request_id",
            "external_id",
            "scheduled_date",
            "timezone",
            "first_comment",
        ] {
            let mut form = reqwest::multipart::Form::new();
            for (name, value) in [
                ("user", "olivia"),
                ("platform[]", "x"),
                ("title", "hello"),
                (field, "a\u{0}b"),
            ] {
                form = form.text(name, value);
            }
            let resp = app
                .client
                .post(app.url(upload))
                .header("Authorization", format!("Apikey {}", app.api_key))
                .multipart(form)
                .send()
                .await
                .unwrap();
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            assert!(
                !status.is_server_error(),
                "{upload} {field}: {status} {text}"
            );
        }
    }
    // A lone surrogate can only be written as a JSON escape.
    for path in [
        "/api/uploadposts/users",
        "/api/uploadposts/users/generate-jwt",
    ] {
        let resp = app
            .client
            .post(app.url(path))
            .header("Authorization", format!("Apikey {}", app.api_key))
            .header("Content-Type", "application/json")
            .body(r#"{"username":"a\ud800b"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{path}");
    }
    // The profile the probes aimed at is intact.
    let (status, body) = crate::support::send(app.get("/users/olivia")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn usernames_are_one_profile_whatever_their_unicode_form(app: &TestApp) {
    // "José" composed (U+00E9) and decomposed (e + U+0301) look the same: one profile.
    let composed = "Jos\u{e9}";
    let decomposed = "Jose\u{301}";
    let (status, body) = app.create_profile(decomposed).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["profile"]["username"], composed,
        "stored in NFC: {body}"
    );
    let (status, body) = app.create_profile(composed).await;
    assert_eq!(status, StatusCode::CONFLICT, "the same name twice: {body}");
    let encoded: String = url::form_urlencoded::byte_serialize(decomposed.as_bytes()).collect();
    let (status, body) = crate::support::send(app.get(&format!("/users/{encoded}"))).await;
    assert_eq!(status, StatusCode::OK, "found by either form: {body}");
    assert_eq!(body["profile"]["username"], composed);
}

async fn format_characters_in_identifiers_are_refused(app: &TestApp) {
    assert_eq!(app.create_profile("olivia").await.0, StatusCode::CREATED);
    for bad in [
        "oli\u{200B}via",  // zero-width space
        "oli\u{202E}via",  // right-to-left override
        "oli\u{2066}via",  // left-to-right isolate
        "oli\u{AD}via",    // soft hyphen
        "oli\u{180E}via",  // Mongolian vowel separator
        "oli\u{E0001}via", // language tag
        "oli\u{1}via",
    ] {
        let (status, body) = app.create_profile(bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}: {body}");
        assert_eq!(body["success"], false);
    }
    let (status, body) = crate::support::send(app.post(
        "/users",
        &json!({"username": "kim", "external_id": "crm\u{200B}42"}),
    ))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("external_id"),
        "{body}"
    );
    // Identifiers the client chooses for uploads obey the same rule.
    for (member, bad) in [("external_id", "e\u{200B}1"), ("request_id", "r\u{202E}1")] {
        let form = reqwest::multipart::Form::new()
            .text("user", "olivia")
            .text("platform[]", "x")
            .text("title", "hello")
            .text(member, bad);
        let (status, body) = crate::support::send(
            app.client
                .post(app.url("/api/upload_text"))
                .header("Authorization", format!("Apikey {}", app.api_key))
                .multipart(form),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{member}={bad:?}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(member),
            "refused for the {member}: {body}"
        );
    }
}
