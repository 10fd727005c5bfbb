//! Webhook delivery by real `postgate serve` processes: killed mid-delivery and restarted,
//! and two processes sharing one PostgreSQL database.

use crate::support::process::ServerProcess;
use crate::support::receiver::Receiver;
use crate::support::{Backend, TestApp, send};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// Runs on both backends.
pub mod both {
    use super::*;
    crate::cases![killed_mid_delivery_then_restarted_delivers_everything];
}

/// Runs on PostgreSQL only: several processes on one SQLite file is not a supported setup.
pub mod postgres_only {
    use super::*;
    crate::cases![two_processes_deliver_each_event_once];
}

/// An in-process app that serves the API but leaves delivery to the processes under test.
async fn api_only(app: &TestApp) -> TestApp {
    TestApp::spawn_with(app.test_db.backend, |raw| raw.webhooks_worker = false).await
}

async fn killed_mid_delivery_then_restarted_delivers_everything(app: &TestApp) {
    let api = api_only(app).await;
    let receiver = Receiver::start().await;
    receiver.set_delay(Duration::from_millis(300));
    let (status, _) = send(api.post(
        "/users/notifications",
        &json!({"webhook_url": receiver.url}),
    ))
    .await;
    assert!(status.is_success());
    let mut emitted = Vec::new();
    for _ in 0..20 {
        let (_, body) = send(api.post("/users/notifications/test", &json!({}))).await;
        emitted.push(body["delivery_id"].as_str().unwrap().to_owned());
    }
    let cli = api.cli();
    let mut first = tokio::task::spawn_blocking(move || ServerProcess::start(cli))
        .await
        .unwrap();
    // Kill it while a delivery is on the wire: some done, one in flight.
    receiver
        .wait_until(
            Duration::from_secs(20),
            "three deliveries and one in flight",
            |got| got.len() >= 3 && receiver.in_flight() > 0,
        )
        .await;
    first.kill();
    let before_restart = receiver.received().len();
    assert!(
        before_restart < 20,
        "the first process finished before it was killed"
    );
    let cli = api.cli();
    let _second = tokio::task::spawn_blocking(move || ServerProcess::start(cli))
        .await
        .unwrap();
    let emitted_set: HashSet<&str> = emitted.iter().map(String::as_str).collect();
    let got = receiver
        .wait_until(
            Duration::from_secs(60),
            "every event after the restart",
            |got| {
                let ids: HashSet<&str> = got.iter().map(|r| r.delivery_id()).collect();
                emitted_set.is_subset(&ids)
            },
        )
        .await;
    // At least once, under the delivery ids given when the events were made.
    for r in &got {
        assert!(emitted_set.contains(r.delivery_id()), "unknown delivery id");
    }
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for r in &got {
        *counts.entry(r.delivery_id()).or_default() += 1;
    }
    let repeated = counts.values().filter(|n| **n > 1).count();
    assert!(
        repeated <= 1,
        "only the delivery in flight at the kill may repeat: {counts:?}"
    );
    api.stop().await;
}

async fn two_processes_deliver_each_event_once(app: &TestApp) {
    assert_eq!(app.test_db.backend, Backend::Postgres);
    let api = api_only(app).await;
    let receiver = Receiver::start().await;
    send(api.post(
        "/users/notifications",
        &json!({"webhook_url": receiver.url}),
    ))
    .await;
    // 1 000 events over 10 profiles, so both processes have parallel work.
    let mut names = Vec::new();
    for i in 0..9 {
        let name = format!("p{i}");
        api.create_profile(&name).await;
        names.push(name);
    }
    names.push("default".to_owned());
    let account = api.account_id.clone();
    let emitted = api.emit_round_robin(&account, names, 1000).await;
    let started = Instant::now();
    let (c1, c2) = (api.cli(), api.cli());
    let a = std::thread::spawn(move || ServerProcess::start(c1));
    let b = tokio::task::spawn_blocking(move || ServerProcess::start(c2))
        .await
        .unwrap();
    let mut a = a.join().unwrap();
    let mut b = b;
    receiver
        .wait_for_accepted(1000, Duration::from_secs(120))
        .await;
    let elapsed = started.elapsed();
    // A stopping process finishes and records the attempts it has in flight: after this,
    // nothing more can arrive and the outbox is final.
    a.terminate();
    b.terminate();
    // Every row delivered by one attempt: a row two processes claimed would count two.
    let deliveries = api.deliveries().await;
    assert_eq!(deliveries.len(), 1000);
    for d in &deliveries {
        assert_eq!(
            (d.state.as_str(), d.attempts),
            (postgate::db::outbox::DELIVERED, 1),
            "{}",
            d.id
        );
    }
    let got = receiver.received();
    let ids: HashSet<&str> = got.iter().map(|r| r.delivery_id()).collect();
    assert_eq!(ids.len(), 1000, "every event delivered");
    assert_eq!(got.len(), 1000, "no event delivered twice");
    // Each profile's events arrived in the order they were made.
    let position: HashMap<&str, usize> = got
        .iter()
        .enumerate()
        .map(|(i, r)| (r.delivery_id(), i))
        .collect();
    let mut last_by_profile: HashMap<&str, usize> = HashMap::new();
    for (profile, id) in &emitted {
        let at = position[id.as_str()];
        if let Some(previous) = last_by_profile.insert(profile, at) {
            assert!(previous < at, "profile {profile}: out of order");
        }
    }
    let longest = api.longest_webhook_delay().await;
    println!(
        "two processes: 1000 webhooks in {:.2} s ({:.0}/s), longest delay {} ms",
        elapsed.as_secs_f64(),
        1000.0 / elapsed.as_secs_f64(),
        longest.num_milliseconds()
    );
    api.stop().await;
}
