//! The sandbox: an emulator of every platform's sign-in and account APIs, mounted under
//! `/sandbox/<platform>/<the platform's own path>` when the sandbox is on, speaking each
//! platform's wire format (`wire`). A consent page lets a person pick a fake account
//! (`people`). Tests script failures through `POST /sandbox/_control`.
//!
//! State lives in this process's memory: the sandbox is for trying Postgate and for tests,
//! on one process.

mod consent;
mod endpoints;
pub mod people;
mod wire;

use crate::domain::Platform;
use crate::oauth::providers;
use crate::urls::Urls;
use actix_web::HttpResponse;
use actix_web::web::{self, Data, Json};
use serde::Deserialize;
use serde_json::json;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// A grant the emulator issued: who, for what.
#[derive(Debug, Clone)]
struct Grant {
    platform: Platform,
    person: usize,
    scopes: Vec<String>,
    redirect_uri: String,
    challenge: Option<String>,
}

/// An issued token: its grant and when it lapses.
#[derive(Debug, Clone)]
struct Issued {
    grant: Grant,
    expires_at: chrono::NaiveDateTime,
}

/// How a scripted call fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// 503 with the platform's error body.
    ServerError,
    /// 429.
    RateLimited,
    /// Answers after 30 seconds (longer than any client should wait).
    Slow,
    /// 400 `invalid_grant` (or the platform's equivalent).
    InvalidGrant,
}

#[derive(Default)]
struct Emulator {
    codes: HashMap<String, Grant>,
    access: HashMap<String, Issued>,
    refresh: HashMap<String, Issued>,
    faults: HashMap<(Platform, String), VecDeque<Fault>>,
    /// Access-token lifetime per platform, when a test shortened it.
    expires_in: HashMap<Platform, i64>,
    /// Every call: (platform, endpoint name, method).
    calls: Vec<(Platform, &'static str, String)>,
}

/// The emulator: its state, and where it and Postgate are reached.
pub struct Sandbox {
    inner: Mutex<Emulator>,
    urls: Urls,
}

impl Sandbox {
    pub fn new(urls: Urls) -> Self {
        Self {
            inner: Mutex::new(Emulator::default()),
            urls,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Emulator) -> T) -> T {
        // A panic while holding the lock cannot leave the maps half-written in a way that
        // matters to an emulator; keep serving.
        let mut guard = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }
}

/// Mounts the emulator.
pub fn configure(cfg: &mut web::ServiceConfig, sandbox: Data<Sandbox>) {
    cfg.app_data(sandbox)
        .route("/sandbox/_control", web::post().to(control))
        .route("/sandbox/_control/calls", web::get().to(calls))
        .route(
            "/sandbox/{platform}/_consent",
            web::post().to(consent::decide),
        )
        .route(
            "/sandbox/{platform}/_avatar/{n}",
            web::get().to(consent::avatar),
        );
    for platform in Platform::ALL {
        for (name, url) in providers::for_platform(platform).endpoints() {
            let Ok(url) = url::Url::parse(url) else {
                continue;
            };
            let mut path = format!("/sandbox/{}{}", platform.key(), url.path());
            // Endpoints that are bases (`…/organizations/`) take the rest of the path.
            if path.ends_with('/') {
                path.push_str("{tail:.*}");
            }
            let name: &'static str = name;
            cfg.route(
                &path,
                web::route().to(move |req, body, sandbox| {
                    endpoints::handle(platform, name, req, body, sandbox)
                }),
            );
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ControlRequest {
    platform: String,
    /// An endpoint name (`token`, `me`, …) and the failures its next calls get, in order.
    endpoint: Option<String>,
    #[serde(default)]
    faults: Vec<Fault>,
    /// Lifetime of the access tokens issued from now on.
    expires_in: Option<i64>,
}

async fn control(sandbox: Data<Sandbox>, body: Json<ControlRequest>) -> HttpResponse {
    let Some(platform) = Platform::parse(&body.platform) else {
        return HttpResponse::BadRequest().json(json!({"error": "unknown platform"}));
    };
    sandbox.with(|e| {
        if let Some(endpoint) = &body.endpoint {
            e.faults
                .entry((platform, endpoint.clone()))
                .or_default()
                .extend(body.faults.iter().copied());
        }
        if let Some(s) = body.expires_in {
            e.expires_in.insert(platform, s);
        }
    });
    HttpResponse::Ok().json(json!({"ok": true}))
}

async fn calls(sandbox: Data<Sandbox>) -> HttpResponse {
    let calls: Vec<_> = sandbox.with(|e| {
        e.calls
            .iter()
            .map(|(p, name, method)| json!({"platform": p.key(), "endpoint": name, "method": method}))
            .collect()
    });
    HttpResponse::Ok().json(calls)
}
