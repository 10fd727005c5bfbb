//! A real webhook receiver on loopback: records every request, checks nothing itself, and
//! can be told to fail or to answer slowly.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

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
    /// Requests that reached the receiver, answered or not yet.
    arrived: usize,
    received: Vec<Received>,
    /// Answer 500 to this many more requests.
    fail_next: usize,
    delay: Duration,
}

pub struct Receiver {
    /// The URL to register as a webhook.
    pub url: String,
    state: Arc<Mutex<Behaviour>>,
    /// `true` while requests may be answered; closed, they wait until it opens.
    gate: web::Data<watch::Sender<bool>>,
}

async fn record(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Arc<Mutex<Behaviour>>>,
    gate: web::Data<watch::Sender<bool>>,
) -> HttpResponse {
    let delay = {
        let mut s = state.lock().unwrap();
        s.arrived += 1;
        s.delay
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let _ = gate.subscribe().wait_for(|open| *open).await;
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
        let gate = web::Data::new(watch::Sender::new(true));
        let shared_gate = gate.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(shared_gate.clone())
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
            gate,
        }
    }

    pub fn fail_next(&self, n: usize) {
        self.state.lock().unwrap().fail_next = n;
    }

    /// Requests from now on wait, unanswered, until `release`.
    pub fn hold(&self) {
        self.gate.send_replace(false);
    }

    pub fn release(&self) {
        self.gate.send_replace(true);
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

    /// Requests that arrived and are not answered yet (held by the delay).
    pub fn in_flight(&self) -> usize {
        let s = self.state.lock().unwrap();
        s.arrived - s.received.len()
    }

    /// Waits until `done` holds for the requests so far, or panics after `timeout`.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        what: &str,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        super::wait::until(timeout, what, async || done(&self.received())).await;
        self.received()
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
    /// A receiver that the account's webhook points at.
    pub async fn receiving_webhooks(&self) -> Receiver {
        let receiver = Receiver::start().await;
        let (status, body) = super::send(self.post(
            "/users/notifications",
            &serde_json::json!({"webhook_url": receiver.url}),
        ))
        .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        receiver
    }
}
