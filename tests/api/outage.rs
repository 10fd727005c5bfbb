//! PostgreSQL going away under load and coming back, without restarting Postgate: the
//! server reaches the database through a proxy on loopback that the test cuts and restores
//! (the PostgreSQL server itself is shared with the other tests and stays up).

use crate::support::proxy::Proxy;
use crate::support::wait::until;
use crate::support::{Backend, PG_ENV, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::net::ToSocketAddrs;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Runs on PostgreSQL only: an SQLite file cannot become unreachable.
pub mod postgres_only {
    use super::*;
    crate::cases![database_outage_answers_503_then_recovers_without_restart];
}

/// One answer as the load saw it.
struct Answer {
    what: &'static str,
    status: StatusCode,
    retry_after: Option<String>,
    body: Value,
}

async fn answer(what: &'static str, req: reqwest::RequestBuilder) -> Answer {
    let resp = req.send().await.expect("the server answers");
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = resp.text().await.expect("body");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{what}: not JSON ({e}), status {status}: {text:?}"));
    Answer {
        what,
        status,
        retry_after,
        body,
    }
}

async fn ready(app: &TestApp) -> Answer {
    answer("readyz", app.client.get(app.url("/readyz"))).await
}

/// Reads and writes, over and over, until `done`.
async fn load(app: Arc<TestApp>, worker: usize, done: Arc<AtomicBool>) -> Vec<Answer> {
    let mut answers = Vec::new();
    let mut n = 0;
    while !done.load(Ordering::SeqCst) {
        n += 1;
        answers.push(answer("list", app.get("/users")).await);
        let body = json!({ "username": format!("load-{worker}-{n}") });
        answers.push(answer("create", app.post("/users", &body)).await);
    }
    answers
}

async fn database_outage_answers_503_then_recovers_without_restart(app: &TestApp) {
    assert_eq!(app.test_db.backend, Backend::Postgres);
    let admin = url::Url::parse(&std::env::var(PG_ENV).unwrap()).unwrap();
    let upstream = (
        admin.host_str().unwrap(),
        admin.port_or_known_default().unwrap(),
    )
        .to_socket_addrs()
        .unwrap()
        .next()
        .unwrap();
    let proxy = Proxy::start(upstream).await;
    let proxy_addr = proxy.addr;
    let app = Arc::new(
        TestApp::spawn_with(Backend::Postgres, move |raw| {
            let mut url = url::Url::parse(raw.database_url.as_deref().unwrap()).unwrap();
            url.set_host(Some(&proxy_addr.ip().to_string())).unwrap();
            url.set_port(Some(proxy_addr.port())).unwrap();
            raw.database_url = Some(url.to_string());
            // A request gives up on the pool after a second instead of ten.
            raw.database_timeout_seconds = 1;
            raw.rate_limit_per_minute = 0;
            raw.plans.get_mut("default").unwrap().profiles = postgate::domain::Limit::Unlimited;
        })
        .await,
    );
    assert_eq!(ready(&app).await.status, StatusCode::OK);

    let done = Arc::new(AtomicBool::new(false));
    let loads: Vec<_> = (0..6)
        .map(|worker| tokio::spawn(load(app.clone(), worker, done.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;

    proxy.cut();
    until(Duration::from_secs(30), "/readyz to fail", async || {
        ready(&app).await.status == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;
    let down = ready(&app).await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(down.body["success"], false);
    assert_eq!(down.body["error_code"], "SERVICE_UNAVAILABLE");
    assert!(down.retry_after.is_some());
    // The load keeps running into the outage for a while.
    tokio::time::sleep(Duration::from_secs(2)).await;

    proxy.restore();
    until(
        Duration::from_secs(30),
        "/readyz to pass again",
        async || ready(&app).await.status == StatusCode::OK,
    )
    .await;
    until(
        Duration::from_secs(30),
        "writes to succeed again",
        async || {
            let body = json!({ "username": format!("after-{}", uuid::Uuid::now_v7()) });
            answer("create", app.post("/users", &body)).await.status == StatusCode::CREATED
        },
    )
    .await;
    done.store(true, Ordering::SeqCst);
    let mut answers = Vec::new();
    for l in loads {
        answers.extend(l.await.unwrap());
    }

    let unavailable: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.status == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(!unavailable.is_empty(), "the load never saw the outage");
    for a in &answers {
        assert!(
            [
                StatusCode::OK,
                StatusCode::CREATED,
                StatusCode::SERVICE_UNAVAILABLE
            ]
            .contains(&a.status),
            "{} answered {}: {}",
            a.what,
            a.status,
            a.body
        );
    }
    for a in unavailable {
        assert_eq!(a.body["success"], false, "{}", a.body);
        assert_eq!(a.body["error_code"], "SERVICE_UNAVAILABLE", "{}", a.body);
        assert_eq!(
            a.retry_after.as_deref(),
            Some("5"),
            "{}: {}",
            a.what,
            a.body
        );
    }
    // Served by the same process all along: what was written before and after is there.
    let (status, list) = crate::support::send(app.get("/users")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list["profiles"].as_array().unwrap().len() > 1, "{list}");
}
