//! A real webhook receiver on loopback: records every request, checks nothing itself, and
//! can be told to fail or to answer slowly.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request as the receiver got it.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HashMap<String, String>,
    pub body: String,
    /// What the receiver answered.
    pub status: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("webhook body is JSON")
    }

    pub fn delivery_id(&self) -> &str {
        self.header("x-upload-post-delivery")
    }

    /// Whether the signature header is HMAC-SHA256(secret, "<timestamp>.<body>"), computed
    /// here independently of Postgate's code.
    pub fn signed_with(&self, secret: &str) -> bool {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(self.header("x-upload-post-timestamp").as_bytes());
        mac.update(b".");
        mac.update(self.body.as_bytes());
        let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        self.header("x-upload-post-signature") == expected
    }
}

#[derive(Default)]
struct Behaviour {
    received: Vec<Received>,
    /// Answer 500 to this many more requests.
    fail_next: usize,
    delay: Duration,
}

pub struct Receiver {
    /// The URL to register as a webhook.
    pub url: String,
    state: Arc<Mutex<Behaviour>>,
}

async fn record(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Arc<Mutex<Behaviour>>>,
) -> HttpResponse {
    let delay = state.lock().unwrap().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut s = state.lock().unwrap();
    let status = if s.fail_next > 0 {
        s.fail_next -= 1;
        500
    } else {
        200
    };
    s.received.push(Received {
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
        status,
    });
    let mut resp = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
    if status == 200 {
        resp.finish()
    } else {
        resp.body("receiver says no\n")
    }
}

impl Receiver {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(Behaviour::default()));
        let data = web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(record))
        })
        .workers(2)
        .bind("127.0.0.1:0")
        .expect("bind receiver");
        let addr = server.addrs()[0];
        // Runs until the test's runtime ends.
        tokio::spawn(server.run());
        Self {
            url: format!("http://{addr}/hooks/postgate"),
            state,
        }
    }

    pub fn fail_next(&self, n: usize) {
        self.state.lock().unwrap().fail_next = n;
    }

    pub fn set_delay(&self, delay: Duration) {
        self.state.lock().unwrap().delay = delay;
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// The requests answered 2xx.
    pub fn accepted(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.status == 200)
            .collect()
    }

    /// Waits until `done` holds for the requests so far, or panics after `timeout`.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        what: &str,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.received();
            if done(&got) {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; got {} requests",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for `n` accepted requests.
    pub async fn wait_for_accepted(&self, n: usize, timeout: Duration) -> Vec<Received> {
        self.wait_until(timeout, &format!("{n} accepted deliveries"), |got| {
            got.iter().filter(|r| r.status == 200).count() >= n
        })
        .await;
        self.accepted()
    }
}

impl super::TestApp {
    /// Queues `n` `social_account_disconnected` events for the account's profiles `names`,
    /// round robin, in one transaction. Returns (profile id, delivery id) per event, in order.
    pub async fn emit_round_robin(
        &self,
        account: &str,
        names: Vec<String>,
        n: usize,
    ) -> Vec<(String, String)> {
        use diesel::Connection;
        use postgate::db::{outbox, profiles};
        use postgate::domain::webhooks::Event;
        let account = account.to_owned();
        self.with_db(move |c| {
            c.transaction(|c| {
                let profiles: Vec<_> = names
                    .iter()
                    .map(|name| profiles::find(c, &account, name).map(|p| p.expect("profile")))
                    .collect::<Result<_, _>>()?;
                let mut out = Vec::with_capacity(n);
                for i in 0..n {
                    let p = &profiles[i % profiles.len()];
                    let event = Event::SocialAccountDisconnected;
                    let body = serde_json::json!({"event": event, "n": i});
                    // Not through `Db::run_queueing`: the worker finds them at its next poll.
                    let ids = outbox::emit(c, &account, Some(p), event, &body)?.without_wake();
                    out.push((p.id.clone(), ids[0].clone()));
                }
                diesel::QueryResult::Ok(out)
            })
            .expect("emit events")
        })
        .await
    }

    /// The longest time any delivered webhook waited from its event's commit.
    pub async fn longest_webhook_delay(&self) -> chrono::Duration {
        self.with_db(|c| {
            use diesel::prelude::*;
            use postgate::db::schema::webhook_deliveries::dsl::*;
            webhook_deliveries
                .select((created_at, delivered_at))
                .load::<(chrono::NaiveDateTime, Option<chrono::NaiveDateTime>)>(c)
                .expect("deliveries")
                .into_iter()
                .filter_map(|(made, done)| done.map(|d| d - made))
                .max()
                .unwrap_or_default()
        })
        .await
    }
}
