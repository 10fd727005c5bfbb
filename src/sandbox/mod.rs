//! The sandbox: an emulator of every platform's sign-in and account APIs, mounted under
//! `/sandbox/<platform>/<the platform's own path>` when the sandbox is on, speaking each
//! platform's wire format (`wire`). A consent page lets a person pick a fake account
//! (`people`). The publish emulators (`publish`) keep what was published and show it at
//! `/sandbox/<platform>/_posts/<id>`. Tests script failures through `POST /sandbox/_control`.
//!
//! Its state (codes, tokens, settings, faults, the call log, posts and media) is in the
//! database (`db::sandbox`), media bytes in the data directory, so a restarted server still
//! honours what it issued and several processes on one database are one platform.

mod consent;
mod endpoints;
pub mod people;
pub mod publish;
mod wire;

use crate::db::sandbox::{self as state, SettingsChange};
use crate::db::{Db, DbConn, DbError};
use crate::domain::Platform;
use crate::oauth::providers;
use crate::urls::Urls;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{self, Data, Json};
use diesel::QueryResult;
use serde::Deserialize;
use serde_json::json;
use std::path::PathBuf;

/// A grant the emulator issued: who, for what.
#[derive(Debug, Clone)]
struct Grant {
    platform: Platform,
    person: usize,
    scopes: Vec<String>,
}

impl Grant {
    /// The grant a stored code or token carries (`person` and `scopes` as stored).
    fn stored(platform: Platform, person: i64, scopes: &str) -> Self {
        Self {
            platform,
            person: usize::try_from(person).unwrap_or_default(),
            scopes: serde_json::from_str(scopes).unwrap_or_default(),
        }
    }

    fn person(&self) -> i64 {
        i64::try_from(self.person).unwrap_or_default()
    }

    fn scopes_json(&self) -> String {
        json!(self.scopes).to_string()
    }
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
    /// Answers after 2 seconds: a call that is on the wire long enough for a test to act
    /// (stop the server) while it is, and shorter than any client's timeout.
    Delayed,
    /// 400 `invalid_grant` (or the platform's equivalent).
    InvalidGrant,
    /// The platform's 401 for an access token that was revoked.
    TokenRevoked,
    /// No failure: the call is answered as usual. Scripts a failure of a later call of the
    /// same endpoint (Graph's calls share one).
    Pass,
    /// A chunk of a chunked or resumable upload is refused, as the platform refuses one
    /// (the emulator of the endpoint answers it).
    ChunkRejected,
    /// The upload the call finishes fails the platform's processing: its status later
    /// reports the failure.
    ProcessingFailed,
    /// The platform's quota (daily posts or API units) is used up.
    QuotaExceeded,
}

impl Fault {
    const ALL: [Fault; 10] = [
        Fault::ServerError,
        Fault::RateLimited,
        Fault::Slow,
        Fault::Delayed,
        Fault::InvalidGrant,
        Fault::TokenRevoked,
        Fault::Pass,
        Fault::ChunkRejected,
        Fault::ProcessingFailed,
        Fault::QuotaExceeded,
    ];

    /// The name it is stored under, as `_control` spells it.
    fn key(self) -> &'static str {
        match self {
            Fault::ServerError => "server_error",
            Fault::RateLimited => "rate_limited",
            Fault::Slow => "slow",
            Fault::Delayed => "delayed",
            Fault::InvalidGrant => "invalid_grant",
            Fault::TokenRevoked => "token_revoked",
            Fault::Pass => "pass",
            Fault::ChunkRejected => "chunk_rejected",
            Fault::ProcessingFailed => "processing_failed",
            Fault::QuotaExceeded => "quota_exceeded",
        }
    }

    /// Whether a publish emulator answers it itself, where and as its platform would.
    fn is_the_emulators(self) -> bool {
        matches!(
            self,
            Fault::ChunkRejected | Fault::ProcessingFailed | Fault::QuotaExceeded
        )
    }

    fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.key() == key)
    }
}

/// The emulator's storage failed: it answers as a platform that is down.
#[derive(Debug, thiserror::Error)]
pub enum Down {
    #[error(transparent)]
    Pool(#[from] DbError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    /// Media could not be written or read.
    #[error("media storage: {0}")]
    Disk(String),
}

impl Down {
    fn log(&self) {
        tracing::error!(error = %self, "sandbox storage failed");
    }

    fn answer(&self, platform: Platform) -> HttpResponse {
        self.log();
        wire::error(
            platform,
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "The service is temporarily unavailable",
        )
    }
}

/// The emulator: where its state is kept, and where it and Postgate are reached.
pub struct Sandbox {
    db: Db,
    urls: Urls,
    /// Where uploaded media is written (`<data_dir>/sandbox/media`).
    media_dir: PathBuf,
}

impl Sandbox {
    pub fn new(db: Db, urls: Urls, media_dir: PathBuf) -> Self {
        Self {
            db,
            urls,
            media_dir,
        }
    }

    /// How long `platform` takes to process an upload: `processing_ms` of the control
    /// endpoint, else a couple of seconds — long enough that a client must poll.
    pub async fn processing_delay(&self, platform: Platform) -> Result<chrono::Duration, Down> {
        const DEFAULT_MS: i64 = 2000;
        let set = self
            .run(move |conn| state::settings(conn, platform))
            .await?;
        Ok(chrono::Duration::milliseconds(
            set.and_then(|s| s.processing_ms).unwrap_or(DEFAULT_MS),
        ))
    }

    /// Runs storage work on the blocking pool.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DbConn) -> QueryResult<T> + Send + 'static,
    ) -> Result<T, Down> {
        self.db.run(move |conn| f(conn).map_err(Down::from)).await
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
        )
        .route(
            "/sandbox/{platform}/_posts/{id}",
            web::get().to(publish::post_page),
        )
        .route(
            "/sandbox/{platform}/_media/{id}",
            web::get().to(publish::media),
        )
        .route(publish::s3::ROUTE, web::post().to(publish::s3::upload))
        .service(
            web::resource(publish::linkedin::UPLOAD_ROUTE)
                .app_data(web::PayloadConfig::new(publish::linkedin::MAX_UPLOAD_BYTES))
                .route(web::put().to(publish::linkedin::upload)),
        )
        .service(
            web::resource(publish::tiktok::UPLOAD_ROUTE)
                .app_data(web::PayloadConfig::new(publish::tiktok::MAX_CHUNK_BYTES))
                .route(web::put().to(publish::tiktok::upload)),
        )
        .route(
            publish::bluesky::video::UPLOAD_ROUTE,
            web::post().to(publish::bluesky::video::upload),
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
            cfg.service(
                web::resource(&path)
                    .app_data(web::PayloadConfig::new(publish::body_limit(platform, name)))
                    .route(web::route().to(move |req, body, sandbox| {
                        endpoints::handle(platform, name, req, body, sandbox)
                    })),
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
    /// `false`: grants from now on come without a refresh token, as some apps' do (a
    /// LinkedIn app without refresh tokens, a Google consent that gave none).
    refresh_tokens: Option<bool>,
    /// How long the platform takes to process an upload (a video, a container) from now
    /// on, in milliseconds.
    processing_ms: Option<i64>,
}

async fn control(sandbox: Data<Sandbox>, body: Json<ControlRequest>) -> HttpResponse {
    let Some(platform) = Platform::parse(&body.platform) else {
        return HttpResponse::BadRequest().json(json!({"error": "unknown platform"}));
    };
    let body = body.into_inner();
    if body
        .processing_ms
        .is_some_and(|ms| !(0..=86_400_000).contains(&ms))
    {
        return HttpResponse::BadRequest()
            .json(json!({"error": "processing_ms: from 0 to 86400000"}));
    }
    let change = SettingsChange {
        expires_in: body.expires_in,
        refresh_tokens: body.refresh_tokens,
        processing_ms: body.processing_ms,
    };
    let saved = sandbox
        .run(move |conn| {
            if let Some(endpoint) = &body.endpoint {
                let faults: Vec<&str> = body.faults.iter().map(|f| f.key()).collect();
                state::push_faults(conn, platform, endpoint, &faults)?;
            }
            state::change_settings(conn, platform, change)
        })
        .await;
    match saved {
        Ok(()) => HttpResponse::Ok().json(json!({"ok": true})),
        Err(down) => down.answer(platform),
    }
}

async fn calls(sandbox: Data<Sandbox>) -> HttpResponse {
    match sandbox.run(state::calls).await {
        Ok(calls) => HttpResponse::Ok().json(
            calls
                .iter()
                .map(
                    |c| json!({"platform": c.platform, "endpoint": c.endpoint, "method": c.method}),
                )
                .collect::<Vec<_>>(),
        ),
        Err(down) => {
            down.log();
            HttpResponse::ServiceUnavailable().json(json!({"error": "storage unavailable"}))
        }
    }
}
