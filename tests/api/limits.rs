//! Request quotas (`X-RateLimit-*`, 429) and blocking addresses that keep guessing keys.

use crate::support::{TestApp, send};
use crate::{assert_wire, cases};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use std::net::IpAddr;

cases![
    authenticated_responses_carry_quota_headers,
    requests_past_the_quota_are_429,
    bad_keys_block_the_address,
    behind_a_proxy_the_forwarded_address_counts,
    a_valid_key_between_guesses_does_not_reset_the_count,
];

fn header(headers: &HeaderMap, name: &str) -> u64 {
    headers[name].to_str().unwrap().parse().unwrap()
}

async fn authenticated_responses_carry_quota_headers(app: &TestApp) {
    let first = app.get("/me").send().await.unwrap();
    assert_eq!(header(first.headers(), "x-ratelimit-limit"), 600);
    let remaining = header(first.headers(), "x-ratelimit-remaining");
    assert!(header(first.headers(), "x-ratelimit-reset") > 1_700_000_000);
    // Error responses carry them too.
    let missing = app.get("/users/nobody").send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let now_remaining = header(missing.headers(), "x-ratelimit-remaining");
    // Unless the minute turned over in between, one more request was counted.
    assert!(
        now_remaining == remaining - 1 || now_remaining == 599,
        "{remaining} -> {now_remaining}"
    );
    // Requests that never authenticated are not counted against anyone.
    let anonymous = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert!(anonymous.headers().get("x-ratelimit-limit").is_none());
}

async fn requests_past_the_quota_are_429(app: &TestApp) {
    let limited = TestApp::spawn_with(app.test_db.backend, |s| s.rate_limit_per_minute = 5).await;
    // A minute boundary inside the burst resets the window; try again if that happened.
    for attempt in 0..3 {
        let (_, key) = limited.new_account("default").await;
        let mut statuses = Vec::new();
        let mut resets = Vec::new();
        let mut last = None;
        for _ in 0..6 {
            let resp = limited
                .with_key(limited.client.get(limited.api("/me")), &key)
                .send()
                .await
                .unwrap();
            statuses.push(resp.status());
            resets.push(header(resp.headers(), "x-ratelimit-reset"));
            last = Some(resp);
        }
        if resets.iter().any(|r| *r != resets[0]) && attempt < 2 {
            continue;
        }
        assert_eq!(statuses[..5], [StatusCode::OK; 5]);
        let resp = last.unwrap();
        assert_eq!(header(resp.headers(), "x-ratelimit-remaining"), 0);
        assert!((1..=60).contains(&header(resp.headers(), "retry-after")));
        let status = resp.status();
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_wire!("rate_limited_429", status, body);
        // Another account has its own quota.
        assert_eq!(send(limited.get("/me")).await.0, StatusCode::OK);
        break;
    }
    limited.stop().await;
}

async fn bad_keys_block_the_address(app: &TestApp) {
    for _ in 0..9 {
        assert_eq!(
            send(app.get_as("pgk_guess", "/me")).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(send(app.get("/me")).await.0, StatusCode::OK);
    assert_eq!(
        send(app.get_as("pgk_guess", "/me")).await.0,
        StatusCode::UNAUTHORIZED
    );
    // Ten failures within the window block the address, even for a good key.
    let resp = app.get("/me").send().await.unwrap();
    assert_eq!(header(resp.headers(), "retry-after"), 300);
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_wire!("auth_blocked_429", status, body);
    // Another address is not affected.
    let elsewhere = reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    assert_eq!(
        send(app.with_key(elsewhere.get(app.api("/me")), &app.api_key))
            .await
            .0,
        StatusCode::OK
    );
}

async fn behind_a_proxy_the_forwarded_address_counts(app: &TestApp) {
    let proxied = TestApp::spawn_with(app.test_db.backend, |s| {
        s.trust_proxy_headers = true;
        s.auth_failure_limit = 3;
    })
    .await;
    let me = |key: &str, forwarded: &str| {
        proxied
            .with_key(proxied.client.get(proxied.api("/me")), key)
            .header("X-Forwarded-For", forwarded)
    };
    for _ in 0..3 {
        // The client claims 203.0.113.7; the proxy appended the real 198.51.100.9.
        assert_eq!(
            send(me("pgk_guess", "203.0.113.7, 198.51.100.9")).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        send(me(&proxied.api_key, "198.51.100.9")).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        send(me(&proxied.api_key, "203.0.113.7")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        send(me(&proxied.api_key, "198.51.100.10")).await.0,
        StatusCode::OK
    );
    proxied.stop().await;
}

async fn a_valid_key_between_guesses_does_not_reset_the_count(app: &TestApp) {
    let guarded = TestApp::spawn_with(app.test_db.backend, |s| s.auth_failure_limit = 3).await;
    let me = |key: &str| guarded.with_key(guarded.client.get(guarded.api("/me")), key);
    for round in 0..3 {
        // An attacker with one key of their own interleaves it with guesses.
        assert_eq!(
            send(me(&guarded.api_key)).await.0,
            StatusCode::OK,
            "{round}"
        );
        assert_eq!(
            send(me("pgk_guess")).await.0,
            StatusCode::UNAUTHORIZED,
            "{round}"
        );
    }
    assert_eq!(
        send(me(&guarded.api_key)).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    guarded.stop().await;
}
