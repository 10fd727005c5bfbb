//! Preferences, notification settings and webhook delivery against a real receiver.

use crate::support::receiver::Receiver;
use crate::support::sandbox::Consent;
use crate::support::wait::{self, WAIT};
use crate::support::{TestApp, send};
use crate::{assert_wire, cases};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Duration;

cases![
    preferences_in_both_spellings,
    notification_settings_on_both_paths,
    notification_settings_refuse_bad_input,
    private_targets_are_refused_unless_allowed,
    test_event_is_signed_as_documented,
    rotated_secret_signs_the_next_delivery,
    profile_deletion_reports_each_account_disconnected,
    profile_webhooks_get_their_profiles_events,
    failing_receiver_gets_the_event_once_it_recovers,
    events_of_a_profile_arrive_in_order,
    circuit_breaker_pauses_without_dropping,
    retries_stop_when_the_window_ends,
    delivery_log_and_redelivery,
    a_slow_receiver_does_not_hold_up_others,
    the_log_keeps_finished_deliveries_for_30_days,
    every_emitting_path_wakes_the_worker,
];

pub async fn set_webhook(app: &TestApp, url: &str, extra: Value) -> Value {
    let mut body = json!({ "webhook_url": url });
    if let Value::Object(map) = extra {
        body.as_object_mut().unwrap().extend(map);
    }
    let (status, resp) = send(app.post("/users/notifications", &body)).await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    resp
}

pub async fn secret_of(app: &TestApp) -> String {
    let (_, resp) = send(app.get("/users/notifications")).await;
    resp["notifications"]["webhook_secret"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub async fn send_test(app: &TestApp) -> String {
    let (status, resp) = send(app.post("/users/notifications/test", &json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    resp["delivery_id"].as_str().unwrap().to_owned()
}

async fn preferences_in_both_spellings(app: &TestApp) {
    let (status, body) = send(app.get("/users/preferences")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"success": true, "preferences": {
            "weekStartDay": 1, "week_start_day": 1
        }, "allowed_redirect_origins": []})
    );
    let (status, body) = send(app.post("/users/preferences", &json!({"week_start_day": 0}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["preferences"],
        json!({"weekStartDay": 0, "week_start_day": 0})
    );
    let (_, me) = send(app.get("/me")).await;
    assert_eq!(me["preferences"]["weekStartDay"], 0);
    let (_, body) = send(app.post("/users/preferences", &json!({"weekStartDay": 1}))).await;
    assert_eq!(body["preferences"]["week_start_day"], 1);
    // The Python SDK's empty POST: no body, no content type. Nothing changes.
    let resp = app
        .with_key(app.client.post(app.api("/users/preferences")), &app.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["preferences"]["weekStartDay"], 1);
    for bad in [
        json!({"weekStartDay": 2}),
        json!({"week_start_day": "0"}),
        json!({"weekStartDay": -1}),
    ] {
        let (status, body) = send(app.post("/users/preferences", &bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(
            body["message"],
            "weekStartDay must be 0 (Sunday) or 1 (Monday)"
        );
    }
    let (status, body) = send(app.post(
        "/users/preferences",
        &json!({"weekStartDay": 0, "week_start_day": 1}),
    ))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_wire!("preferences_400_both_spellings_differ", status, body);
    let (_, body) = send(app.get("/users/preferences")).await;
    assert_eq!(
        body["preferences"]["weekStartDay"], 1,
        "refused requests changed nothing"
    );
}

async fn notification_settings_on_both_paths(app: &TestApp) {
    let (status, empty) = send(app.get("/users/notifications")).await;
    assert_eq!(status, StatusCode::OK);
    assert_wire!("notifications_get_200_empty", status, empty);
    assert_eq!(empty["notifications"]["webhook_url"], Value::Null);
    assert_eq!(empty["notifications"]["webhook_secret"], Value::Null);
    assert_eq!(empty["notifications"]["channels"]["webhook"], false);
    assert_eq!(
        empty["notifications"]["webhook_events"]["upload_completed"],
        true
    );
    // The npm SDK's shape: events as a list, extra channels' settings.
    let saved = set_webhook(
        app,
        "https://hooks.example.com/postgate",
        json!({"webhook_events": ["social_account_connected", "social_account_reauth_required"],
               "telegram_chat_id": "123456789"}),
    )
    .await;
    assert_eq!(
        saved["notifications"], saved["config"],
        "both keys carry the settings"
    );
    assert_wire!("notifications_post_200", StatusCode::OK, saved, {
        ".body.notifications.webhook_secret" => "[secret]",
        ".body.config.webhook_secret" => "[secret]",
    });
    let n = &saved["notifications"];
    assert_eq!(n["webhook_url"], "https://hooks.example.com/postgate");
    assert!(n["webhook_secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(n["channels"]["webhook"], true);
    assert_eq!(n["telegram_chat_id"], "123456789");
    assert_eq!(
        n["webhook_events"],
        json!({"upload_completed": false, "social_account_connected": true,
               "social_account_disconnected": false, "social_account_reauth_required": true})
    );
    // The Python SDK's path, and its argument-less POST: no body at all.
    let (status, via_py) = send(app.get("/notification-config")).await;
    assert_eq!(via_py["config"], saved["config"]);
    assert_wire!("notification_config_get_200", status, via_py, {
        ".body.config.webhook_secret" => "[secret]",
        ".body.notifications.webhook_secret" => "[secret]",
    });
    let resp = app
        .with_key(
            app.client.post(app.api("/notification-config")),
            &app.api_key,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["config"], saved["config"],
        "an empty POST changes nothing"
    );
    // The docs' shape: a map; then null for every event.
    let (_, body) = send(app.post(
        "/notification-config",
        &json!({"webhook_events": {"upload_completed": true}}),
    ))
    .await;
    assert_eq!(body["config"]["webhook_events"]["upload_completed"], true);
    assert_eq!(
        body["config"]["webhook_events"]["social_account_connected"],
        false
    );
    let (_, body) = send(app.post("/users/notifications", &json!({"webhook_events": null}))).await;
    assert_eq!(
        body["config"]["webhook_events"]["social_account_disconnected"],
        true
    );
    // The secret survives an unrelated change.
    assert_eq!(
        body["config"]["webhook_secret"],
        saved["config"]["webhook_secret"]
    );
    // channels as a list.
    let (_, body) =
        send(app.post("/users/notifications", &json!({"channels": ["telegram"]}))).await;
    assert_eq!(body["config"]["channels"]["webhook"], false);
    assert_eq!(body["config"]["channels"]["telegram"], true);
    // DELETE removes the webhook, not Telegram, nor the signing secret.
    let (status, body) = send(app.delete("/users/notifications", &json!({}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_wire!("notifications_delete_200", status, body, {
        ".body.notifications.webhook_secret" => "[secret]",
        ".body.config.webhook_secret" => "[secret]",
    });
    let n = &body["notifications"];
    assert_eq!(n["webhook_url"], Value::Null);
    assert_eq!(n["webhook_secret"], saved["config"]["webhook_secret"]);
    assert_eq!(n["channels"]["webhook"], false);
    assert_eq!(n["telegram_chat_id"], "123456789");
    // Another account sees its own, empty settings.
    let (_, other) = app.new_account("default").await;
    let (_, theirs) = send(app.get_as(&other, "/users/notifications")).await;
    assert_eq!(theirs["notifications"]["telegram_chat_id"], Value::Null);
}

async fn notification_settings_refuse_bad_input(app: &TestApp) {
    for (body, message) in [
        (
            json!({"webhook_url": "ftp://x.example.com"}),
            "webhook_url must be an absolute http(s) URL",
        ),
        (
            json!({"webhook_url": "https://u:p@x.example.com"}),
            "user name or password",
        ),
        (json!({"webhook_url": 5}), "webhook_url must be a string"),
        (
            json!({"webhook_events": "all"}),
            "webhook_events must be a list of names or a map of booleans",
        ),
        (
            json!({"webhook_events": {"upload_completed": "yes"}}),
            "webhook_events['upload_completed'] must be true or false",
        ),
        (
            json!({"webhook_events": ["Not An Event"]}),
            "is not an event or channel name",
        ),
        (
            json!({"channels": {"webhook": 1}}),
            "channels['webhook'] must be true or false",
        ),
        (
            json!({"slack_webhook_url": "nope"}),
            "slack_webhook_url must be an absolute http(s) URL",
        ),
    ] {
        let (status, resp) = send(app.post("/users/notifications", &body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {resp}");
        assert!(
            resp["message"].as_str().unwrap().contains(message),
            "{body}: {resp}"
        );
    }
    let (status, resp) = send(app.post("/users/notifications/test", &json!({}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no webhook yet: {resp}");
    assert_wire!("notifications_test_400_no_webhook", status, resp);
    let (_, body) = send(app.get("/users/notifications")).await;
    assert_eq!(
        body["notifications"]["webhook_url"],
        Value::Null,
        "nothing was stored"
    );
}

async fn private_targets_are_refused_unless_allowed(app: &TestApp) {
    let strict = TestApp::spawn_with(app.test_db.backend, |raw| {
        raw.webhooks_allow_private_targets = false;
    })
    .await;
    strict.create_profile("p").await;
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.7/hook",
        "http://192.168.1.20/hook",
        "http://localhost:3000/hook",
        "http://metadata.google.internal/",
        "http://[::ffff:127.0.0.1]/hook",
    ] {
        let (status, resp) =
            send(strict.post("/users/notifications", &json!({"webhook_url": url}))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {resp}");
        let (status, _) = send(strict.post(
            "/users/profile-webhook",
            &json!({"profile_username": "p", "webhook_url": url}),
        ))
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "profile webhook {url}");
    }
    // A target stored while allowed (or reached by DNS) is checked again at delivery. (A
    // public one first, so that the account has its signing secret.)
    set_webhook(&strict, "https://hooks.example.com/x", json!({})).await;
    let receiver = Receiver::start().await;
    let strict_account = strict.account_id.clone();
    let url = receiver.url.clone();
    strict
        .with_db(move |c| {
            postgate::db::notifications::update(c, &strict_account, |cfg| {
                cfg.webhook_url = Some(url);
                cfg.channels = r#"{"webhook":true}"#.to_owned();
            })
            .unwrap();
        })
        .await;
    let (status, resp) = send(strict.post("/users/notifications/test", &json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    let id = resp["delivery_id"].as_str().unwrap().to_owned();
    let mut attempted = Value::Null;
    wait::until(WAIT, "an attempt", async || {
        let (_, log) = send(strict.get("/users/webhook-deliveries")).await;
        attempted = log["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == id.as_str())
            .cloned()
            .unwrap();
        attempted["attempts"].as_i64().unwrap() > 0
    })
    .await;
    assert_eq!(
        attempted["last_error"],
        "the target is not a public address"
    );
    assert_eq!(attempted["last_status"], Value::Null);
    assert!(
        receiver.received().is_empty(),
        "nothing reached the private target"
    );
    strict.stop().await;
}

async fn test_event_is_signed_as_documented(app: &TestApp) {
    let receiver = Receiver::start().await;
    set_webhook(app, &receiver.url, json!({})).await;
    let secret = secret_of(app).await;
    let id = send_test(app).await;
    let got = receiver.wait_for_accepted(1, WAIT).await;
    let r = &got[0];
    assert_eq!(r.delivery_id(), id);
    assert_eq!(r.header("x-upload-post-event"), "webhook_test");
    assert_eq!(r.header("user-agent"), "Upload-Post-Webhooks/1.0");
    assert_eq!(r.header("content-type"), "application/json");
    let ts: i64 = r.header("x-upload-post-timestamp").parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - ts).abs() < 60);
    assert!(
        r.signed_with(&secret),
        "signature does not verify: {:?}",
        r.headers
    );
    assert!(!r.signed_with("whsec_wrong"));
    let body = r.json();
    assert_eq!(body["event"], "webhook_test");
    assert_eq!(body["user_email"], "ops@example.com");
    crate::assert_json_wire!("webhook_body_webhook_test", body, {});
}

async fn rotated_secret_signs_the_next_delivery(app: &TestApp) {
    let receiver = Receiver::start().await;
    set_webhook(app, &receiver.url, json!({})).await;
    let old = secret_of(app).await;
    let (status, body) = send(app.post("/users/webhook-secret", &json!({}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_wire!("webhook_secret_200", status, body, {
        ".body.webhook_secret" => "[secret]",
    });
    let new = body["webhook_secret"].as_str().unwrap().to_owned();
    assert!(new.starts_with("whsec_"));
    assert_ne!(new, old);
    assert_eq!(secret_of(app).await, new);
    send_test(app).await;
    let got = receiver.wait_for_accepted(1, WAIT).await;
    assert!(got[0].signed_with(&new));
    assert!(!got[0].signed_with(&old));
}

async fn profile_deletion_reports_each_account_disconnected(app: &TestApp) {
    let receiver = Receiver::start().await;
    set_webhook(app, &receiver.url, json!({})).await;
    app.create_profile("leaving").await;
    app.insert_connection("leaving", "tiktok", "dancer", false)
        .await;
    app.insert_connection("leaving", "x", "talker", false).await;
    app.create_profile("quiet").await;
    let (status, _) = send(app.delete("/users", &json!({"username": "leaving"}))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(app.delete("/users", &json!({"username": "quiet"}))).await;
    assert_eq!(status, StatusCode::OK);
    let got = receiver.wait_for_accepted(2, WAIT).await;
    let mut platforms: Vec<String> = got
        .iter()
        .map(|r| r.json()["platform"].as_str().unwrap().to_owned())
        .collect();
    platforms.sort();
    assert_eq!(platforms, ["tiktok", "x"]);
    for r in &got {
        let body = r.json();
        assert_eq!(
            r.header("x-upload-post-event"),
            "social_account_disconnected"
        );
        assert_eq!(body["status"], "disconnected");
        assert_eq!(body["reason"], "profile_deleted");
        assert_eq!(body["profile_username"], "leaving");
        assert!(["dancer", "talker"].contains(&body["account_name"].as_str().unwrap()));
        let created = body["created_at"].as_str().unwrap();
        assert_eq!(
            created.len(),
            "2026-11-24T10:00:00.000000".len(),
            "{created}"
        );
    }
    // Unsubscribed events are not sent.
    set_webhook(
        app,
        &receiver.url,
        json!({"webhook_events": {"social_account_disconnected": false}}),
    )
    .await;
    app.create_profile("muted").await;
    app.insert_connection("muted", "tiktok", "m", false).await;
    send(app.delete("/users", &json!({"username": "muted"}))).await;
    // Events are queued in the transaction that makes the change: none was, so none can come.
    let queued = app.deliveries().await;
    assert_eq!(queued.len(), 2, "{queued:?}");
    assert!(queued.iter().all(|d| !d.body.contains("muted")));
}

async fn profile_webhooks_get_their_profiles_events(app: &TestApp) {
    let account_hook = Receiver::start().await;
    let profile_hook = Receiver::start().await;
    set_webhook(app, &account_hook.url, json!({})).await;
    app.create_profile("hooked").await;
    let (status, body) = send(app.get("/users/profile-webhook?profile_username=hooked")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["webhook_url"], Value::Null);
    assert_wire!("profile_webhook_get_200_none", status, body);
    let (status, body) = send(app.post(
        "/users/profile-webhook",
        &json!({"profile_username": "hooked", "webhook_url": profile_hook.url,
                "webhook_events": ["social_account_disconnected"]}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["profile_username"], "hooked");
    assert_eq!(body["webhook_url"], profile_hook.url.as_str());
    assert_eq!(body["webhook_events"]["social_account_disconnected"], true);
    assert_eq!(body["webhook_events"]["upload_completed"], false);
    assert_wire!("profile_webhook_post_200", status, body, {
        ".body.webhook_url" => "[receiver]",
    });
    let (_, read) = send(app.get("/users/profile-webhook?profile_username=hooked")).await;
    assert_eq!(read["webhook_url"], profile_hook.url.as_str());
    for (req, status) in [
        (app.get("/users/profile-webhook"), StatusCode::BAD_REQUEST),
        (
            app.get("/users/profile-webhook?profile_username=ghost"),
            StatusCode::NOT_FOUND,
        ),
    ] {
        assert_eq!(send(req).await.0, status);
    }
    app.insert_connection("hooked", "youtube", "channel", false)
        .await;
    send(app.delete("/users", &json!({"username": "hooked"}))).await;
    let account_got = account_hook.wait_for_accepted(1, WAIT).await;
    let profile_got = profile_hook.wait_for_accepted(1, WAIT).await;
    // The same event, signed with the account's secret, each with its own delivery id.
    let secret = secret_of(app).await;
    assert_eq!(account_got[0].body, profile_got[0].body);
    assert!(profile_got[0].signed_with(&secret));
    assert_ne!(account_got[0].delivery_id(), profile_got[0].delivery_id());
    // Deleting a profile webhook.
    app.create_profile("unhooked").await;
    send(app.post(
        "/users/profile-webhook",
        &json!({"profile_username": "unhooked", "webhook_url": profile_hook.url}),
    ))
    .await;
    let (status, body) = send(app.delete(
        "/users/profile-webhook",
        &json!({"profile_username": "unhooked"}),
    ))
    .await;
    assert_eq!(
        (status, body["deleted"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    assert_wire!("profile_webhook_delete_200", status, body);
    let (_, body) = send(app.delete(
        "/users/profile-webhook",
        &json!({"profile_username": "unhooked"}),
    ))
    .await;
    assert_eq!(body["deleted"], false);
}

async fn failing_receiver_gets_the_event_once_it_recovers(app: &TestApp) {
    let receiver = Receiver::start().await;
    receiver.fail_next(3);
    set_webhook(app, &receiver.url, json!({})).await;
    let id = send_test(app).await;
    let got = receiver.wait_for_accepted(1, WAIT).await;
    let all = receiver.received();
    assert_eq!(all.len(), 4, "three failures, then success");
    assert!(
        all.iter().all(|r| r.delivery_id() == id),
        "one delivery id across retries"
    );
    assert!(
        all.windows(2).all(|w| w[0].body == w[1].body),
        "identical bodies"
    );
    assert_eq!(got.len(), 1);
    app.wait_for_delivered(1).await;
    let (_, log) = send(app.get("/users/webhook-deliveries")).await;
    let d = &log["deliveries"][0];
    assert_eq!(d["id"], id.as_str());
    assert_eq!(d["state"], "delivered");
    assert_eq!(d["attempts"], 4);
    assert_eq!(d["last_status"], 200);
    assert_eq!(d["last_error"], Value::Null);
}

async fn events_of_a_profile_arrive_in_order(app: &TestApp) {
    let receiver = Receiver::start().await;
    receiver.fail_next(2);
    set_webhook(app, &receiver.url, json!({})).await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(send_test(app).await);
    }
    let accepted = receiver.wait_for_accepted(6, WAIT).await;
    let order: Vec<&str> = accepted.iter().map(|r| r.delivery_id()).collect();
    assert_eq!(order, ids.iter().map(String::as_str).collect::<Vec<_>>());
}

async fn circuit_breaker_pauses_without_dropping(app: &TestApp) {
    let receiver = Receiver::start().await;
    receiver.fail_next(usize::MAX);
    set_webhook(app, &receiver.url, json!({})).await;
    let id = send_test(app).await;
    wait::until(WAIT, "five recorded attempts", async || {
        app.deliveries().await[0].attempts >= 5
    })
    .await;
    assert_eq!(app.deliveries().await[0].attempts, 5);
    assert!(
        app.claimable_now().await.is_empty(),
        "paused after five failures in a row"
    );
    assert_eq!(receiver.received().len(), 5);
    let (_, log) = send(app.get("/users/webhook-deliveries")).await;
    let d = &log["deliveries"][0];
    assert_eq!(d["id"], id.as_str());
    assert_eq!(d["state"], "pending", "kept, not dropped");
    assert_eq!(d["last_status"], 500);
    // The log quotes what the receiver said.
    assert_eq!(
        d["last_error"],
        "HTTP 500 Internal Server Error: receiver says no"
    );
    let target = receiver.url.clone();
    let paused = app
        .with_db(move |c| {
            use diesel::prelude::*;
            use postgate::db::schema::webhook_circuits::dsl::*;
            webhook_circuits
                .filter(target_url.eq(&target))
                .select(paused_until)
                .first::<Option<chrono::NaiveDateTime>>(c)
                .unwrap()
        })
        .await
        .expect("the target is paused");
    let minutes = (paused - postgate::domain::time::now()).num_minutes();
    assert!((28..=30).contains(&minutes), "{minutes}");
    // When the pause ends, delivery resumes and succeeds.
    receiver.fail_next(0);
    let target = receiver.url.clone();
    app.with_db(move |c| {
        use diesel::prelude::*;
        use postgate::db::schema::webhook_circuits::dsl::*;
        diesel::update(webhook_circuits.filter(target_url.eq(&target)))
            .set(paused_until.eq(None::<chrono::NaiveDateTime>))
            .execute(c)
            .unwrap();
        use postgate::db::schema::webhook_deliveries::dsl as d;
        diesel::update(d::webhook_deliveries)
            .set(d::next_attempt_at.eq(postgate::domain::time::now()))
            .execute(c)
            .unwrap();
    })
    .await;
    let got = receiver.wait_for_accepted(1, WAIT).await;
    assert_eq!(got[0].delivery_id(), id);
}

async fn retries_stop_when_the_window_ends(app: &TestApp) {
    let receiver = Receiver::start().await;
    receiver.fail_next(usize::MAX);
    set_webhook(app, &receiver.url, json!({})).await;
    // A delivery whose 24 hours are over (the default window): its next failure is its last.
    app.with_db(|c| {
        use diesel::prelude::*;
        use postgate::db::schema::webhook_deliveries::dsl::*;
        let _ = diesel::delete(webhook_deliveries).execute(c);
    })
    .await;
    let id = send_test(app).await;
    app.with_db(move |c| {
        use diesel::prelude::*;
        use postgate::db::schema::webhook_deliveries::dsl as d;
        diesel::update(d::webhook_deliveries.filter(d::id.eq(&id)))
            .set(d::retry_from.eq(postgate::domain::time::now() - chrono::Duration::hours(24)))
            .execute(c)
            .unwrap();
    })
    .await;
    receiver
        .wait_until(WAIT, "one attempt", |got| !got.is_empty())
        .await;
    let mut failed = Value::Null;
    wait::until(WAIT, "the delivery marked failed", async || {
        let (_, log) = send(app.get("/users/webhook-deliveries?state=failed")).await;
        failed = log["deliveries"][0].clone();
        !failed.is_null()
    })
    .await;
    let attempts = failed["attempts"].as_u64().unwrap() as usize;
    assert_eq!(attempts, receiver.received().len());
    assert!(
        app.claimable_now().await.is_empty(),
        "no attempt after failing"
    );
}

async fn delivery_log_and_redelivery(app: &TestApp) {
    let receiver = Receiver::start().await;
    set_webhook(app, &receiver.url, json!({})).await;
    let first = send_test(app).await;
    let second = send_test(app).await;
    receiver.wait_for_accepted(2, WAIT).await;
    app.wait_for_delivered(2).await;
    let (status, log) = send(app.get("/users/webhook-deliveries?limit=1")).await;
    assert_eq!(status, StatusCode::OK);
    let page: Vec<&Value> = log["deliveries"].as_array().unwrap().iter().collect();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0]["id"], second.as_str(), "newest first");
    let cursor = log["next_before"].as_i64().unwrap();
    assert_wire!("webhook_deliveries_200_page", status, log, {
        ".body.deliveries[].id" => "[delivery_id]",
        ".body.deliveries[].target_url" => "[receiver]",
        ".body.deliveries[].delivered_at" => "[timestamp]",
        ".body.deliveries[].next_attempt_at" => "[timestamp]",
        ".body.next_before" => "[cursor]",
    });
    let (_, older) = send(app.get(&format!("/users/webhook-deliveries?before={cursor}"))).await;
    assert_eq!(older["deliveries"][0]["id"], first.as_str());
    assert_eq!(older["deliveries"][0]["event"], "webhook_test");
    assert_eq!(older["deliveries"][0]["target_url"], receiver.url.as_str());
    for bad in ["state=lost", "limit=0", "limit=501", "before=x"] {
        let (status, body) = send(app.get(&format!("/users/webhook-deliveries?{bad}"))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        if bad == "limit=0" {
            assert_wire!("webhook_deliveries_400_limit", status, body);
        }
    }
    // Redeliver: the same id and body again.
    let (status, body) =
        send(app.post("/users/webhook-deliveries/redeliver", &json!({"id": first}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_wire!("redeliver_200", status, body, {".body.id" => "[delivery_id]"});
    let got = receiver.wait_for_accepted(3, WAIT).await;
    assert_eq!(got[2].delivery_id(), first);
    assert_eq!(got[2].body, got[0].body);
    let (status, body) = send(app.post(
        "/users/webhook-deliveries/redeliver",
        &json!({"id": "dlv_nope"}),
    ))
    .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::NOT_FOUND, Some("DELIVERY_NOT_FOUND"))
    );
    assert_wire!("redeliver_404", status, body);
    // Other accounts see none of it.
    let (_, other) = app.new_account("default").await;
    let (_, theirs) = send(app.get_as(&other, "/users/webhook-deliveries")).await;
    assert_eq!(theirs["deliveries"], json!([]));
    let (status, _) = send(app.post_as(
        &other,
        "/users/webhook-deliveries/redeliver",
        &json!({"id": first}),
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let received = receiver.received();
    let ids: HashSet<&str> = received.iter().map(|r| r.delivery_id()).collect();
    assert_eq!(ids.len(), 2);
}

/// The slow receiver holds its first request until the end, well within a timeout longer
/// than the test, so the fast one's events can only arrive if they do not wait for it.
async fn a_slow_receiver_does_not_hold_up_others(app: &TestApp) {
    let patient = TestApp::spawn_with(app.test_db.backend, |raw| {
        raw.webhooks_timeout_seconds = 60;
    })
    .await;
    let app = &patient;
    let fast = Receiver::start().await;
    let slow = Receiver::start().await;
    slow.hold();
    set_webhook(app, &fast.url, json!({})).await;
    app.create_profile("slowpoke").await;
    send(app.post(
        "/users/profile-webhook",
        &json!({"profile_username": "slowpoke", "webhook_url": slow.url}),
    ))
    .await;
    let account = app.account_id.clone();
    app.emit_round_robin(&account, vec!["slowpoke".to_owned()], 5)
        .await;
    fast.wait_for_accepted(5, WAIT).await;
    assert!(
        slow.received().is_empty(),
        "the slow receiver answered nothing"
    );
    wait::until(WAIT, "the slow receiver's first request", async || {
        slow.in_flight() > 0
    })
    .await;
    assert_eq!(slow.in_flight(), 1, "one request at a time per target");
    let slow_attempts: Vec<i32> = app
        .deliveries()
        .await
        .iter()
        .filter(|d| d.target_url == slow.url)
        .map(|d| d.attempts)
        .collect();
    assert_eq!(
        slow_attempts, [0; 5],
        "its first attempt is still in flight"
    );
    // Answered, the slow receiver gets the rest in order, and the app can stop.
    slow.release();
    slow.wait_for_accepted(5, WAIT).await;
    patient.stop().await;
}

async fn the_log_keeps_finished_deliveries_for_30_days(app: &TestApp) {
    use diesel::prelude::*;
    use postgate::db::schema::webhook_deliveries::dsl as d;
    let account = app.account_id.clone();
    app.with_db(move |c| {
        let now = postgate::domain::time::now();
        for (id, state, age_days) in [
            ("dlv_old_delivered", "delivered", 31),
            ("dlv_old_failed", "failed", 40),
            ("dlv_old_pending", "pending", 45),
            ("dlv_recent_delivered", "delivered", 29),
        ] {
            let made = now - chrono::Duration::days(age_days);
            diesel::insert_into(d::webhook_deliveries)
                .values((
                    d::id.eq(id),
                    d::account_id.eq(&account),
                    d::event.eq("webhook_test"),
                    d::body.eq("{}"),
                    d::target_url.eq("http://127.0.0.1:9/hook"),
                    d::ordering_key.eq(id),
                    d::state.eq(state),
                    d::attempts.eq(1),
                    // Never due: this test is about the log, not delivery.
                    d::next_attempt_at.eq(now + chrono::Duration::days(365)),
                    d::retry_from.eq(now),
                    d::created_at.eq(made),
                ))
                .execute(c)
                .unwrap();
        }
    })
    .await;
    // A process starting on the database prunes the log first thing.
    let other = TestApp::spawn_with(app.test_db.backend, |raw| {
        raw.database_url = Some(app.test_db.url.clone());
    })
    .await;
    wait::until(WAIT, "the old deliveries pruned", async || {
        let mut left: Vec<String> = app.deliveries().await.into_iter().map(|d| d.id).collect();
        left.sort();
        left == ["dlv_old_pending", "dlv_recent_delivered"]
    })
    .await;
    other.stop().await;
}

/// Each way an event is queued in a server wakes its worker: with a poll interval of a
/// minute, only the wake can deliver within seconds.
async fn every_emitting_path_wakes_the_worker(app: &TestApp) {
    const PROMPTLY: Duration = Duration::from_secs(5);
    let app = &TestApp::spawn_with(app.test_db.backend, |raw| raw.webhooks_poll_ms = 60_000).await;
    let receiver = Receiver::start().await;
    set_webhook(app, &receiver.url, json!({})).await;
    let mut expected = 0;
    let mut delivered = async |what: &str| {
        expected += 1;
        let got = receiver.wait_for_accepted(expected, PROMPTLY).await;
        // Let the worker record the attempt and go back to sleep, so the next event can
        // only be found through a wake.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let last = got.last().unwrap().json();
        assert_eq!(last["event"], what, "{last}");
        last
    };
    // The test event, and its redelivery.
    let id = send_test(app).await;
    delivered("webhook_test").await;
    let (status, _) =
        send(app.post("/users/webhook-deliveries/redeliver", &json!({"id": id}))).await;
    assert_eq!(status, StatusCode::OK);
    delivered("webhook_test").await;
    // Connecting on the page, the refresh engine flagging the grant, disconnecting by API.
    app.sandbox_control(json!({"platform": "threads", "expires_in": 1}))
        .await;
    let token = app.profile_with_link("woken", json!({})).await;
    app.connect_on_page(&token, "threads", Consent::Allow { person: 0 })
        .await;
    delivered("social_account_connected").await;
    app.sandbox_control(TestApp::faults("threads", "refresh", &["invalid_grant"]))
        .await;
    delivered("social_account_reauth_required").await;
    let (status, _) = send(app.delete(
        "/users/social",
        &json!({"username": "woken", "platform": "threads"}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    let body = delivered("social_account_disconnected").await;
    assert_eq!(body["reason"], "manual_disconnect");
    // Deleting a profile with a connection.
    app.insert_connection("woken", "tiktok", "dancer", false)
        .await;
    let (status, _) = send(app.delete("/users", &json!({"username": "woken"}))).await;
    assert_eq!(status, StatusCode::OK);
    let body = delivered("social_account_disconnected").await;
    assert_eq!(body["reason"], "profile_deleted");
}
