//! Routing, methods, probes: the server answers JSON for everything.

use crate::support::process::ServerProcess;
use crate::support::{TestApp, send};
use crate::{assert_wire, cases};
use reqwest::StatusCode;
use serde_json::Value;

cases![
    wrong_method_is_405_json,
    unknown_path_is_404_json,
    probes,
    head_works_wherever_get_does,
    a_saturated_database_is_503_json,
    responses_carry_a_request_id,
    a_client_request_id_is_echoed_when_valid,
    json_log_lines_carry_the_request_id,
];

async fn wrong_method_is_405_json(app: &TestApp) {
    let resp = app
        .with_key(app.client.put(app.api("/users")), &app.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["allow"], "GET, HEAD, POST, DELETE");
    let (status, body) = send(app.with_key(app.client.put(app.api("/users")), &app.api_key)).await;
    assert_wire!("method_405", status, body);
    for (method, path) in [
        ("POST", "/me"),
        ("PATCH", "/users"),
        ("DELETE", "/users/default"),
        ("POST", "/users/default"),
    ] {
        let req = app.with_key(
            app.client.request(method.parse().unwrap(), app.api(path)),
            &app.api_key,
        );
        assert_eq!(
            send(req).await.0,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
    }
}

async fn unknown_path_is_404_json(app: &TestApp) {
    let (status, body) = send(app.client.get(app.url("/nope"))).await;
    assert_wire!("route_404", status, body);
    for path in [
        "/api/uploadposts/nope",
        "/api/uploadposts/users/a/b",
        "/api",
        "/",
    ] {
        assert_eq!(
            send(app.client.get(app.url(path))).await.0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

async fn probes(app: &TestApp) {
    let (status, body) = send(app.client.get(app.url("/healthz"))).await;
    assert_wire!("healthz_200", status, body);
    let (status, mut body) = send(app.client.get(app.url("/readyz"))).await;
    assert_eq!(body["database"], app.test_db.backend.name());
    body["database"] = "[backend]".into();
    assert_wire!("readyz_200", status, body);
}

async fn responses_carry_a_request_id(app: &TestApp) {
    let mut seen = std::collections::HashSet::new();
    for path in ["/healthz", "/nope", "/api/uploadposts/me"] {
        let resp = app.client.get(app.url(path)).send().await.unwrap();
        let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(id.len(), 36, "{id}");
        assert!(seen.insert(id));
    }
}

async fn head_works_wherever_get_does(app: &TestApp) {
    for path in [
        "/api/uploadposts/me",
        "/api/uploadposts/users",
        "/api/uploadposts/users/default",
        "/healthz",
    ] {
        let resp = app
            .with_key(app.client.head(app.url(path)), &app.api_key)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert!(resp.bytes().await.unwrap().is_empty());
    }
}

async fn a_saturated_database_is_503_json(app: &TestApp) {
    let small = TestApp::spawn_with(app.test_db.backend, |s| {
        s.database_pool_size = 1;
        s.database_timeout_seconds = 1;
    })
    .await;
    // Hold the only connection.
    let db = small.db.clone();
    let held = tokio::task::spawn_blocking(move || db.conn().unwrap())
        .await
        .unwrap();
    let (status, body) = send(small.get("/me")).await;
    assert_wire!("database_busy_503", status, body);
    let (status, body) = send(small.client.get(small.url("/readyz"))).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("SERVICE_UNAVAILABLE"))
    );
    drop(held);
    assert_eq!(send(small.get("/me")).await.0, StatusCode::OK);
    small.stop().await;
}

async fn a_client_request_id_is_echoed_when_valid(app: &TestApp) {
    let id_for = async |sent: &str| {
        let resp = app
            .client
            .get(app.url("/healthz"))
            .header("X-Request-Id", sent)
            .send()
            .await
            .unwrap();
        resp.headers()["x-request-id"].to_str().unwrap().to_owned()
    };
    let longest = "a".repeat(64);
    for valid in ["client-42", "A.b_C-9", longest.as_str()] {
        assert_eq!(id_for(valid).await, valid);
    }
    let too_long = "a".repeat(65);
    for invalid in ["", "has space", "semi;colon", "quote\"", too_long.as_str()] {
        let id = id_for(invalid).await;
        assert_ne!(id, invalid);
        assert_eq!(id.len(), 36, "{invalid:?} replaced by a generated id: {id}");
    }
}

/// A real `postgate serve` with JSON logs: a line logged while answering a request carries
/// the request's id.
async fn json_log_lines_carry_the_request_id(app: &TestApp) {
    let mut server = tokio::task::spawn_blocking({
        let cmd = app.cli();
        move || ServerProcess::start(cmd)
    })
    .await
    .unwrap();
    // No platform is configured in that process: the refusal is logged as a warning.
    let start = app
        .client
        .post(server.api("/oauth/tiktok/start"))
        .header("Authorization", format!("Apikey {}", app.api_key))
        .header("X-Request-Id", "trace-me-123")
        .json(&serde_json::json!({"profile": "default"}));
    let (status, body) = send(start).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let lines = tokio::task::spawn_blocking(move || server.drain_output())
        .await
        .unwrap();
    let logged: Vec<Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["fields"]["message"] == "platform not available")
        .collect();
    assert_eq!(logged.len(), 1, "{lines:#?}");
    let spans = logged[0]["spans"].as_array().expect("the request's spans");
    assert_eq!(spans[0]["name"], "HTTP request", "{}", logged[0]);
    assert_eq!(spans[0]["request_id"], "trace-me-123", "{}", logged[0]);
    assert_eq!(
        spans[0]["http.route"],
        "/api/uploadposts/oauth/{platform}/start"
    );
}
