//! Request quotas (`X-RateLimit-*`, 429), blocking addresses that keep guessing keys, rate
//! limits on links per link and per address, guessing app passwords, and the cap on pending
//! sign-ins.

use crate::support::sandbox::{APP_PASSWORD, PHONE_UA};
use crate::support::{TestApp, send};
use crate::{assert_wire, cases};
use postgate::domain::Platform;
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::{Value, json};
use std::net::IpAddr;

cases![
    authenticated_responses_carry_quota_headers,
    requests_past_the_quota_are_429,
    bad_keys_block_the_address,
    behind_a_proxy_the_forwarded_address_counts,
    a_valid_key_between_guesses_does_not_reset_the_count,
    a_link_is_rate_limited_on_its_pages_and_its_api,
    an_address_is_rate_limited_across_links_and_states,
    wrong_app_passwords_block_the_link_and_the_address,
    pending_sign_ins_per_profile_are_capped,
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
    // 300 s from the last failure; a second may have turned over since.
    let retry_after = header(resp.headers(), "retry-after");
    assert!((299..=300).contains(&retry_after), "{retry_after}");
    let status = resp.status();
    let mut body: serde_json::Value = resp.json().await.unwrap();
    let message = body["message"].as_str().unwrap().replace(
        &format!("in {retry_after} seconds"),
        "in <Retry-After> seconds",
    );
    body["message"] = message.into();
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
    // An IPv6 host holds a whole /64: guesses spread over it count as one address.
    for host in 1..=3 {
        assert_eq!(
            send(me("pgk_guess", &format!("2001:db8:7:1::{host}")))
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        send(me(&proxied.api_key, "2001:db8:7:1:ffff::1")).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        send(me(&proxied.api_key, "2001:db8:7:2::1")).await.0,
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

/// A client sending from `ip` (any 127.x address reaches the test server) that does not
/// follow redirects.
fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from(ip))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Status, `Retry-After` and body.
async fn answer(req: RequestBuilder) -> (StatusCode, Option<u64>, String) {
    let resp = req.send().await.expect("request reached the server");
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (resp.status(), retry_after, resp.text().await.unwrap())
}

fn minute() -> u64 {
    postgate::limits::unix_now() / 60
}

/// A 429 in the API's JSON and one as the page's HTML, each with `Retry-After`.
fn assert_refused(
    api: &(StatusCode, Option<u64>, String),
    page: &(StatusCode, Option<u64>, String),
) {
    assert_eq!(api.0, StatusCode::TOO_MANY_REQUESTS, "{}", api.2);
    assert!((1..=60).contains(&api.1.unwrap()), "{api:?}");
    let body: Value = serde_json::from_str(&api.2).unwrap();
    assert_eq!(body["success"], false);
    assert_eq!(body["error_code"], "RATE_LIMITED");
    assert_eq!(page.0, StatusCode::TOO_MANY_REQUESTS, "{}", page.2);
    assert!((1..=60).contains(&page.1.unwrap()), "{page:?}");
    assert!(page.2.contains("Too many attempts") && page.2.contains("RATE_LIMITED"));
}

async fn a_link_is_rate_limited_on_its_pages_and_its_api(app: &TestApp) {
    let limited = TestApp::spawn_with(app.test_db.backend, |s| {
        s.link_rate_limit_per_minute = 3;
        s.link_rate_limit_per_address_per_minute = 0;
    })
    .await;
    let (here, there) = (client_from([127, 0, 0, 1]), client_from([127, 0, 0, 2]));
    // A minute boundary inside the burst resets the window; try again if that happened.
    for attempt in 0..3 {
        let began = minute();
        let token = limited
            .profile_with_link(&format!("per-link-{attempt}"), json!({}))
            .await;
        let page =
            |client: &reqwest::Client| client.get(limited.url(&format!("/connect?token={token}")));
        let validate = |client: &reqwest::Client| {
            client
                .get(limited.api("/users/validate-jwt"))
                .bearer_auth(&token)
        };
        // The page, the Bearer API and an OAuth start, from two addresses: three uses.
        assert_eq!(answer(page(&here)).await.0, StatusCode::OK);
        assert_eq!(answer(validate(&there)).await.0, StatusCode::OK);
        let start = there
            .post(limited.api("/oauth/tiktok/start"))
            .bearer_auth(&token)
            .json(&json!({}));
        assert_eq!(answer(start).await.0, StatusCode::OK);
        let api = answer(validate(&here)).await;
        let html = answer(page(&there)).await;
        if minute() != began && attempt < 2 {
            continue;
        }
        assert_refused(&api, &html);
        // Another link of the same profile has its own count.
        let other = limited
            .link_token(&format!("per-link-{attempt}"), json!({}))
            .await;
        let other_page = here.get(limited.url(&format!("/connect?token={other}")));
        assert_eq!(answer(other_page).await.0, StatusCode::OK);
        break;
    }
    limited.stop().await;
}

async fn an_address_is_rate_limited_across_links_and_states(app: &TestApp) {
    let limited = TestApp::spawn_with(app.test_db.backend, |s| {
        s.link_rate_limit_per_minute = 0;
        s.link_rate_limit_per_address_per_minute = 3;
    })
    .await;
    let (here, there) = (client_from([127, 0, 0, 1]), client_from([127, 0, 0, 2]));
    for attempt in 0..3 {
        let began = minute();
        let mut tokens = Vec::new();
        for n in 0..3 {
            tokens.push(
                limited
                    .profile_with_link(&format!("per-address-{attempt}-{n}"), json!({}))
                    .await,
            );
        }
        let page = |client: &reqwest::Client, token: &str| {
            client.get(limited.url(&format!("/connect?token={token}")))
        };
        // Two links' pages and a callback with a made-up state: three from this address.
        assert_eq!(answer(page(&here, &tokens[0])).await.0, StatusCode::OK);
        assert_eq!(answer(page(&here, &tokens[1])).await.0, StatusCode::OK);
        let callback = here.get(limited.api("/oauth/callback/tiktok?state=made-up&code=x"));
        assert_eq!(answer(callback).await.0, StatusCode::BAD_REQUEST);
        let api = answer(
            here.get(limited.api("/users/validate-jwt"))
                .bearer_auth(&tokens[2]),
        )
        .await;
        let bounce = answer(here.get(limited.api("/oauth/bounce?id=made-up"))).await;
        if minute() != began && attempt < 2 {
            continue;
        }
        assert_refused(&api, &bounce);
        // Another address is not affected.
        assert_eq!(answer(page(&there, &tokens[2])).await.0, StatusCode::OK);
        break;
    }
    limited.stop().await;
}

/// Signs in to Bluesky on `token`'s page from `client`: status, `Retry-After`, body.
async fn sign_in(
    app: &TestApp,
    client: &reqwest::Client,
    token: &str,
    password: &str,
) -> (StatusCode, Option<u64>, String) {
    let form =
        answer(client.get(app.url(&format!("/connect/signin?token={token}&platform=bluesky"))))
            .await
            .2;
    let marker = r#"name="csrf" value=""#;
    let start = form.find(marker).expect("a CSRF field") + marker.len();
    let csrf = &form[start..start + form[start..].find('"').unwrap()];
    let identifier = postgate::sandbox::people::handle(Platform::Bluesky, 0);
    answer(client.post(app.url("/connect/signin")).form(&[
        ("token", token),
        ("csrf", csrf),
        ("platform", "bluesky"),
        ("identifier", identifier.as_str()),
        ("password", password),
    ]))
    .await
}

async fn wrong_app_passwords_block_the_link_and_the_address(app: &TestApp) {
    let guarded = TestApp::spawn_with(app.test_db.backend, |s| s.signin_failure_limit = 2).await;
    let (here, there) = (client_from([127, 0, 0, 1]), client_from([127, 0, 0, 2]));
    let a = guarded.profile_with_link("sky-a", json!({})).await;
    let b = guarded.profile_with_link("sky-b", json!({})).await;
    for _ in 0..2 {
        let wrong = sign_in(&guarded, &here, &a, "guess-guess-guess-00").await;
        assert_eq!(wrong.0, StatusCode::BAD_REQUEST, "{}", wrong.2);
    }
    // Even the right password is refused now, without asking Bluesky: the link is blocked
    // from anywhere, and the address for any link.
    for (client, token) in [(&here, &a), (&there, &a), (&here, &b)] {
        let (status, retry_after, body) = sign_in(&guarded, client, token, APP_PASSWORD).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        // A second may tick over between the block and this probe.
        assert!(
            retry_after.is_some_and(|s| (899..=900).contains(&s)),
            "{retry_after:?}"
        );
        assert!(body.contains("AUTH_BLOCKED"), "{body}");
    }
    let (status, _, body) = sign_in(&guarded, &there, &b, APP_PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(
        guarded.social_account("sky-b", "bluesky").await["handle"],
        postgate::sandbox::people::handle(Platform::Bluesky, 0)
    );
    guarded.stop().await;
}

async fn pending_sign_ins_per_profile_are_capped(app: &TestApp) {
    let capped = TestApp::spawn_with(app.test_db.backend, |s| s.oauth_max_pending_states = 3).await;
    let token = capped.profile_with_link("capped", json!({})).await;
    let profile = capped.profile_id("capped").await;
    let pending = || {
        let profile = profile.clone();
        capped.with_db(move |c| {
            use diesel::prelude::*;
            use postgate::db::schema::oauth_states::dsl::*;
            oauth_states
                .filter(profile_id.eq(&profile))
                .filter(used_at.is_null())
                .count()
                .get_result::<i64>(c)
                .unwrap()
        })
    };
    // Phones go through the bounce page, which is addressed by the pending state.
    let mut bounces = Vec::new();
    for _ in 0..5 {
        let start = capped
            .press_connect(&token, "tiktok", Some(PHONE_UA), false)
            .await;
        assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.body);
        bounces.push(start.location.unwrap());
    }
    assert_eq!(pending().await, 3);
    // The oldest made room; the newest work.
    let mut statuses = Vec::new();
    for bounce in &bounces {
        statuses.push(capped.hop(bounce).await.status);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::NOT_FOUND,
            StatusCode::NOT_FOUND,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK
        ]
    );
    // Starts through the API count against the same profile.
    let (status, _) = send(capped.post("/oauth/tiktok/start", &json!({"profile": "capped"}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pending().await, 3);
    assert_eq!(capped.hop(&bounces[2]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(capped.hop(&bounces[4]).await.status, StatusCode::OK);
    capped.stop().await;
}
