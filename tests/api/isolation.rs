//! Tenant isolation, generated from the route table: every route, with every form of
//! identifier that names another tenant's data (in the path, the query and the body), sent
//! with a second tenant's API key and with its link as `Bearer`. No answer may carry the
//! first tenant's data, a path naming its data is refused, nothing is a 5xx, and afterwards
//! the first tenant's data reads exactly as before. A new route is covered the day it is added.

use crate::cases;
use crate::support::routes::{fill, probe, probed_routes};
use crate::support::{TestApp, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

cases![another_tenants_credentials_never_reach_a_tenants_data];

// Strings only A's data contains, planted in what A owns.
const METADATA: &str = "tenantA-metadata-5b1";
const HANDLE: &str = "tenantAhandle5b1";
const CAPTION: &str = "tenantA-caption-5b1";
const FILE: &str = "tenantA-file-5b1";
const TITLE: &str = "tenantA-title-5b1";
/// All of them: A reads each of them back, so their absence from B's answers means something.
const PLANTED: [&str; 5] = [METADATA, HANDLE, CAPTION, FILE, TITLE];

/// What tenant A owns, and strings only A's data contains (the planted ones and A's ids).
struct TenantA {
    job_id: String,
    media_id: String,
    link_id: String,
    token: String,
    markers: Vec<String>,
}

async fn tenant_a(app: &TestApp) -> TenantA {
    let (status, body) = send(app.post(
        "/users",
        &json!({"username": "olivia", "external_id": "crm-olivia",
                "metadata": {"note": METADATA}}),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let profile_id = app.profile_id("olivia").await;
    app.insert_connection("olivia", "x", HANDLE, false).await;
    let job_id = app
        .insert_post("olivia", "x", "scheduled", "2031-05-01T10:00:00", CAPTION)
        .await;
    let (status, staged) = send(app.post(
        "/media-uploads",
        &json!({"filename": format!("{FILE}.png"), "content_type": "image/png",
                "content_length": 10, "media_type": "image", "source": "local"}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{staged}");
    let token = app
        .link_token("olivia", json!({"connect_title": TITLE}))
        .await;
    let link_id = crate::support::connect::link_id_of(&token);
    TenantA {
        job_id,
        media_id: staged["upload_id"].as_str().unwrap().to_owned(),
        link_id,
        token,
        markers: PLANTED
            .into_iter()
            .chain([profile_id.as_str(), app.account_id.as_str()])
            .map(str::to_owned)
            .collect(),
    }
}

/// What A reads of its own data; compared before and after the probes.
async fn a_reads(app: &TestApp, a: &TenantA) -> Vec<Value> {
    let mut seen = Vec::new();
    for path in [
        "/users".to_owned(),
        "/users/olivia".to_owned(),
        format!("/status?job_id={}", a.job_id),
        "/schedule".to_owned(),
        format!("/media-uploads/{}", a.media_id),
        "/notification-config".to_owned(),
        "/users/preferences".to_owned(),
    ] {
        let (status, body) = send(app.get(&path)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        seen.push(json!({ "path": path, "body": body }));
    }
    let (status, body) = send(
        app.client
            .post(app.api("/users/validate-jwt"))
            .header("Authorization", format!("Bearer {}", a.token)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "A's link still works: {body}");
    seen.push(body);
    seen
}

async fn another_tenants_credentials_never_reach_a_tenants_data(app: &TestApp) {
    let app = &TestApp::spawn_without_limits(app.test_db.backend, |_| {}).await;
    let a = tenant_a(app).await;
    let before = a_reads(app, &a).await;
    for marker in PLANTED {
        assert!(
            before.iter().any(|v| v.to_string().contains(marker)),
            "A can read its own {marker}, so its absence below means something"
        );
    }

    let (_, key_b) = app.new_account("default").await;
    let (status, body) = send(app.post_as(&key_b, "/users", &json!({"username": "bob"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) =
        send(app.post_as(&key_b, "/users/generate-jwt", &json!({"username": "bob"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token_b = body["access_url"]
        .as_str()
        .unwrap()
        .split_once("token=")
        .unwrap()
        .1
        .to_owned();
    let auths = [format!("Apikey {key_b}"), format!("Bearer {token_b}")];

    // Each way a request can name A's data.
    let identifiers: Vec<(&str, String)> = vec![
        ("username", "olivia".to_owned()),
        ("user", "olivia".to_owned()),
        ("profile_username", "olivia".to_owned()),
        ("external_id", "crm-olivia".to_owned()),
        ("request_id", a.job_id.clone()),
        ("job_id", a.job_id.clone()),
        ("post_id", a.job_id.clone()),
        ("id", a.media_id.clone()),
        ("upload_id", a.media_id.clone()),
        ("link_id", a.link_id.clone()),
    ];
    let path_value = |name: &str| match name {
        "platform" => "x".to_owned(),
        "username" => "olivia".to_owned(),
        "job_id" => a.job_id.clone(),
        "id" => a.media_id.clone(),
        other => panic!("a path parameter this test does not know: {other}"),
    };
    let mut probes = 0;
    for (method, path) in probed_routes() {
        if path.starts_with("/static/") {
            continue;
        }
        let filled = fill(&path, path_value);
        let names_a = filled != fill(&path, |_| "x".to_owned());
        for auth in &auths {
            // In the path alone, then each identifier in the query and the body.
            let mut variants: Vec<Option<(&str, &String)>> = vec![None];
            variants.extend(identifiers.iter().map(|(m, v)| Some((*m, v))));
            for variant in variants {
                let query: Vec<(String, String)> = variant
                    .iter()
                    .map(|(m, v)| ((*m).to_owned(), (*v).clone()))
                    .chain([("token".to_owned(), token_b.clone())])
                    .collect();
                let body = (method != Method::GET).then(|| {
                    let mut body = serde_json::Map::new();
                    if let Some((m, v)) = variant {
                        body.insert(m.to_owned(), json!(v));
                    }
                    body.insert("token".to_owned(), json!(token_b));
                    Value::Object(body)
                });
                let (status, text) =
                    probe(app, &method, &filled, auth, &query, body.as_ref()).await;
                probes += 1;
                for marker in &a.markers {
                    assert!(
                        !text.contains(marker.as_str()),
                        "{method} {filled} as B ({variant:?}) answered {status} with A's {marker}: {text}"
                    );
                }
                if names_a && variant.is_none() {
                    assert!(
                        status.is_client_error(),
                        "{method} {filled} names A's data and B got {status}: {text}"
                    );
                }
            }
        }
        // B may create its own "olivia" (usernames are per account): remove it so that the
        // next route's probes name A's profile only.
        let (status, body) =
            send(app.delete_as(&key_b, "/users", &json!({"username": "olivia"}))).await;
        assert!(
            status == StatusCode::OK || status == StatusCode::NOT_FOUND,
            "{status}: {body}"
        );
    }
    assert!(probes > 1000, "{probes} probes");

    // Nothing B did changed what A sees.
    let after = a_reads(app, &a).await;
    assert_eq!(before, after);
}
