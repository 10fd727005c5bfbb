//! `GET /metrics`: off by default, the Prometheus text format when on, requests by route
//! template, the pool, webhook, refresh and publishing outcomes, the background tasks'
//! restarts, and `metrics_token`.

use crate::cases;
use crate::support::sandbox::Consent;
use crate::support::wait::{self, WAIT};
use crate::support::{TestApp, send};
use reqwest::StatusCode;
use serde_json::json;

cases![
    off_by_default_it_is_the_json_404,
    requests_are_counted_by_route_template_and_timed,
    webhook_backlog_and_delivery_outcomes,
    refresh_outcomes,
    publishing_outcomes_by_platform,
    metrics_token_is_enforced,
    background_tasks_are_supervised,
];

/// A scrape, checked for status and content type.
async fn scrape(app: &TestApp) -> String {
    let resp = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    resp.text().await.unwrap()
}

/// The value of `series` (name and labels as written), if the scrape lists it.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Scrapes until every `(series, value)` holds; the last scrape.
async fn wait_for_samples(app: &TestApp, expected: &[(&str, f64)]) -> String {
    let mut text = String::new();
    let what = format!("the samples {expected:?}");
    wait::until(WAIT, &what, async || {
        text = scrape(app).await;
        expected
            .iter()
            .all(|(series, value)| sample(&text, series) == Some(*value))
    })
    .await;
    text
}

async fn off_by_default_it_is_the_json_404(app: &TestApp) {
    let (status, body) = send(app.client.get(app.url("/metrics"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error_code"], "NOT_FOUND");
}

async fn requests_are_counted_by_route_template_and_timed(app: &TestApp) {
    let app = TestApp::spawn_with_metrics(app.test_db.backend, None).await;
    assert_eq!(app.create_profile("alice").await.0, StatusCode::CREATED);
    for path in ["/users/alice", "/users/alice", "/users/nobody"] {
        app.get(path).send().await.unwrap();
    }
    app.client
        .get(app.url("/no/such/alice"))
        .send()
        .await
        .unwrap();
    let text = scrape(&app).await;
    let one = "/api/uploadposts/users/{username}";
    for (series, value) in [
        (
            format!("postgate_http_requests_total{{method=\"GET\",route=\"{one}\",status=\"200\"}}"),
            2.0,
        ),
        (
            format!("postgate_http_requests_total{{method=\"GET\",route=\"{one}\",status=\"404\"}}"),
            1.0,
        ),
        (
            "postgate_http_requests_total{method=\"POST\",route=\"/api/uploadposts/users\",status=\"201\"}".to_owned(),
            1.0,
        ),
        (
            "postgate_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}"
                .to_owned(),
            1.0,
        ),
        (
            format!("postgate_http_request_duration_seconds_count{{method=\"GET\",route=\"{one}\"}}"),
            3.0,
        ),
        (
            format!(
                "postgate_http_request_duration_seconds_bucket{{method=\"GET\",route=\"{one}\",le=\"+Inf\"}}"
            ),
            3.0,
        ),
        ("postgate_db_pool_connections_max".to_owned(), 4.0),
    ] {
        assert_eq!(sample(&text, &series), Some(value), "{series} in:\n{text}");
    }
    // The scrape's own connection is back in the pool when the gauges are read.
    assert!(sample(&text, "postgate_db_pool_connections_idle").unwrap() >= 1.0);
    assert!(sample(&text, "postgate_db_pool_connections_in_use").is_some());
    // Background workers may be queued for a connection at that instant: only its presence
    // is certain.
    assert!(sample(&text, "postgate_db_pool_waiting").is_some());
    // Raw paths never become labels.
    assert!(!text.contains("alice"), "{text}");
    assert!(!text.contains("nobody"), "{text}");
    assert!(text.contains("# TYPE postgate_http_request_duration_seconds histogram"));
}

async fn webhook_backlog_and_delivery_outcomes(app: &TestApp) {
    let app = TestApp::spawn_with_metrics(app.test_db.backend, None).await;
    let receiver = app.receiving_webhooks().await;
    let attempts =
        |outcome: &str| format!("postgate_webhook_attempts_total{{outcome=\"{outcome}\"}}");
    let text = scrape(&app).await;
    assert_eq!(sample(&text, &attempts("delivered")), Some(0.0), "{text}");
    assert_eq!(
        sample(&text, "postgate_webhook_pending_deliveries"),
        Some(0.0)
    );

    // One delivered at once.
    let test_event = || send(app.post("/users/notifications/test", &json!({})));
    assert_eq!(test_event().await.0, StatusCode::OK);
    wait_for_samples(
        &app,
        &[
            (&attempts("delivered"), 1.0),
            ("postgate_webhook_pending_deliveries", 0.0),
        ],
    )
    .await;

    // Five failures in a row: each retried, then the target paused with the delivery kept.
    receiver.fail_next(usize::MAX);
    assert_eq!(test_event().await.0, StatusCode::OK);
    wait_for_samples(
        &app,
        &[
            (&attempts("retried"), 5.0),
            ("postgate_webhook_target_pauses_total", 1.0),
            ("postgate_webhook_pending_deliveries", 1.0),
            (&attempts("delivered"), 1.0),
            (&attempts("failed"), 0.0),
        ],
    )
    .await;
}

async fn refresh_outcomes(app: &TestApp) {
    let app = TestApp::spawn_with_metrics(app.test_db.backend, None).await;
    let outcome = |o: &str| format!("postgate_oauth_refreshes_total{{outcome=\"{o}\"}}");
    // Tokens that lapse at once. TikTok's refresh then fails once and succeeds; LinkedIn's
    // grant is revoked. (Faults are set after connecting: the code exchange uses the same
    // endpoint.)
    let token = app.profile_with_link("fresh", json!({})).await;
    for (platform, fault) in [("tiktok", "server_error"), ("linkedin", "invalid_grant")] {
        app.sandbox_control(json!({"platform": platform, "expires_in": 1}))
            .await;
        app.connect_on_page(&token, platform, Consent::Allow { person: 0 })
            .await;
        app.sandbox_control(json!({"platform": platform, "expires_in": 3600}))
            .await;
        app.sandbox_control(TestApp::faults(platform, "token", &[fault]))
            .await;
    }
    wait_for_samples(
        &app,
        &[
            (&outcome("transient_failure"), 1.0),
            (&outcome("refreshed"), 1.0),
            (&outcome("reauth_required"), 1.0),
        ],
    )
    .await;
}

async fn publishing_outcomes_by_platform(app: &TestApp) {
    let app = TestApp::spawn_with_metrics(app.test_db.backend, None).await;
    let attempts = |platform: &str, outcome: &str| {
        format!("postgate_publish_attempts_total{{platform=\"{platform}\",outcome=\"{outcome}\"}}")
    };
    crate::uploads::olivia(&app).await;
    // X is rate limited once, then publishes; LinkedIn is not connected.
    app.sandbox_control(json!({"platform": "x", "endpoint": "tweets", "faults": ["rate_limited"]}))
        .await;
    let (status, body) = crate::uploads::upload_form(
        &app,
        "upload_text",
        &[
            ("user", "olivia"),
            ("platform[]", "x"),
            ("platform[]", "bluesky"),
            ("platform[]", "linkedin"),
            ("title", "Counted"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let text = wait_for_samples(
        &app,
        &[
            (&attempts("x", "retried"), 1.0),
            (&attempts("x", "published"), 1.0),
            (&attempts("bluesky", "published"), 1.0),
            (&attempts("linkedin", "skipped"), 1.0),
            ("postgate_publish_pending_targets", 0.0),
        ],
    )
    .await;
    assert_eq!(sample(&text, &attempts("x", "failed")), Some(0.0));
    assert_eq!(sample(&text, &attempts("x", "in_doubt")), Some(0.0));
}

async fn metrics_token_is_enforced(app: &TestApp) {
    let token = "scrape-me-0123456789";
    let app = TestApp::spawn_with_metrics(app.test_db.backend, Some(token)).await;
    let url = app.url("/metrics");
    for authorization in [
        None,
        Some("Bearer wrong".to_owned()),
        Some(format!("Bearer {token}x")),
        Some(format!("Apikey {token}")),
    ] {
        let mut req = app.client.get(&url);
        if let Some(a) = &authorization {
            req = req.header("Authorization", a);
        }
        let (status, body) = send(req).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{authorization:?}");
        assert_eq!(
            body,
            json!({"success": false, "message": "A valid metrics token is required", "error_code": "UNAUTHORIZED"})
        );
    }
    let resp = app
        .client
        .get(&url)
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("postgate_http_requests_total")
    );
}

/// Every background task this process runs is under the supervisor, which exports its
/// restart count from the start; a task left to other processes is not listed. (That a
/// failing task is restarted and counted is the supervisor's unit test.)
async fn background_tasks_are_supervised(app: &TestApp) {
    let app = TestApp::spawn_with(app.test_db.backend, |raw| {
        raw.metrics = true;
        raw.webhooks_worker = false;
    })
    .await;
    let text = scrape(&app).await;
    let restarts = |task: &str| {
        sample(
            &text,
            &format!("postgate_background_task_restarts_total{{task=\"{task}\"}}"),
        )
    };
    for task in ["refresh", "publishing", "media_sweeper"] {
        assert_eq!(restarts(task), Some(0.0), "{task} in:\n{text}");
    }
    assert_eq!(restarts("webhooks"), None, "{text}");
}
