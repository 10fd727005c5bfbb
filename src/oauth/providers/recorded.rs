//! Tests of the providers against the answers the platforms document: the fixtures under
//! `fixtures/<platform>/` are replayed by a local server standing in for the platform, so
//! what runs is each provider's own requests, the shared HTTP reading, and its parsing.

use super::for_platform;
use crate::domain::Platform;
use crate::oauth::TokenSet;
use crate::oauth::http::Http;
use crate::oauth::provider::{self, App, AppConfig};
use actix_web::{HttpRequest, HttpResponse, HttpServer, web};
use chrono::NaiveDateTime;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

/// One recorded answer: the path it answers (the documented endpoint's path), its HTTP
/// status and its body.
pub type Answer = (&'static str, u16, &'static str);

/// What is left to answer, by path.
type Script = Arc<Mutex<BTreeMap<String, VecDeque<(u16, &'static str)>>>>;

/// The platform's app pointed at a local server that answers each path with its recorded
/// answers, in order (the last one repeats). An unrecorded path gets a 404.
pub async fn replay(platform: Platform, answers: &[Answer]) -> App {
    let script = Script::default();
    for (path, status, body) in answers {
        script
            .lock()
            .expect("script")
            .entry((*path).to_owned())
            .or_default()
            .push_back((*status, body));
    }
    let script = web::Data::new(script);
    let server = HttpServer::new(move || {
        actix_web::App::new()
            .app_data(script.clone())
            .default_service(web::to(answer))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("bind the replay server");
    let base = url::Url::parse(&format!("http://{}/", server.addrs()[0])).expect("base URL");
    actix_web::rt::spawn(server.run());
    let provider = for_platform(platform);
    let endpoints = provider::endpoints(provider, &BTreeMap::new()).expect("endpoints");
    let config = AppConfig {
        client_id: "client-id".to_owned(),
        client_secret: crate::domain::Secret::new("client-secret"),
        endpoints: provider::moved_to_sandbox(&endpoints, &base, &base),
        scopes: None,
        redirect_uri: url::Url::parse("https://postgate.example/callback").expect("URL"),
        sandbox: false,
    };
    let http = Http::new(std::time::Duration::from_secs(5)).expect("HTTP client");
    App::new(provider, config, http)
}

async fn answer(req: HttpRequest, script: web::Data<Script>) -> HttpResponse {
    let mut script = script.lock().expect("script");
    let next = script.get_mut(req.path()).and_then(|queue| {
        if queue.len() > 1 {
            queue.pop_front()
        } else {
            queue.front().copied()
        }
    });
    let (status, body) = next.unwrap_or((404, r#"{"error": "not recorded"}"#));
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("status"))
        .content_type("application/json")
        .body(body)
}

/// Tokens as Postgate holds them between calls.
/// The tokens a successful code exchange against the replayed platform gives.
pub async fn exchanged(app: &App) -> TokenSet {
    app.provider
        .exchange(app, "code", "verifier")
        .await
        .expect("the code exchange succeeds")
}

pub fn tokens(access: &str, refresh: Option<&str>, user_id: Option<&str>) -> TokenSet {
    TokenSet {
        access_token: access.to_owned(),
        refresh_token: refresh.map(str::to_owned),
        expires_at: None,
        refresh_expires_at: None,
        scopes: None,
        user_id: user_id.map(str::to_owned),
    }
}

/// `at` is `seconds` from now, give or take the test's own run time.
pub fn assert_in(at: Option<NaiveDateTime>, seconds: i64) {
    let at = at.expect("an expiry");
    let expected = crate::domain::time::now() + chrono::Duration::seconds(seconds);
    let off = (at - expected).num_seconds().abs();
    assert!(off < 60, "{at} is not {seconds} s from now");
}

/// The scopes as a list of `&str`, for comparing.
pub fn scopes(tokens: &TokenSet) -> Vec<&str> {
    tokens.scopes.iter().flatten().map(String::as_str).collect()
}
