//! Settings: defaults, then an optional TOML file, then `POSTGATE_*` environment variables,
//! then command-line flags. Validated once; the rest of the program sees only `Settings`.

use crate::domain::connect_settings::RedirectOrigins;
use crate::domain::database_url::DatabaseUrl;
use crate::domain::link_token::MIN_SECRET_BYTES;
use crate::domain::{Limit, Plan, Platform, Secret};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use url::Url;

#[cfg(test)]
mod documented;

/// Environment variables that belong to tools around Postgate, not to its settings.
const FOREIGN_ENV_PREFIXES: &[&str] = &["test_", "config"];

/// The settings as written by the operator, before validation. Not `Debug`: the database
/// URL in it may carry a password (`DatabaseUrl` redacts it once validated). Secrets are
/// never serialized, so they have no built-in default and are `None` or empty when unset.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    /// `production` refuses to start without configured secrets (and, later, the sandbox).
    pub env: Environment,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub database_pool_size: u32,
    /// How long a request waits for a free database connection before a 503.
    pub database_timeout_seconds: u64,
    pub listen: String,
    pub public_url: Option<String>,
    /// HTTP worker threads; defaults to the number of CPU cores.
    pub workers: Option<usize>,
    /// On SIGTERM/SIGINT, how long in-flight requests and the background workers' current
    /// items have to finish before the process exits anyway.
    pub shutdown_timeout_seconds: u64,
    pub default_plan: String,
    pub plans: BTreeMap<String, RawPlan>,
    pub log: String,
    pub log_format: LogFormat,
    /// Serve Prometheus metrics at `GET /metrics`.
    pub metrics: bool,
    /// When set, `/metrics` needs `Authorization: Bearer <token>`.
    #[serde(skip_serializing)]
    pub metrics_token: Option<Secret>,
    /// Requests per minute per API account and process; 0 turns limiting off.
    pub rate_limit_per_minute: u32,
    /// Bad API keys from one address within `auth_block_seconds` before it is blocked; 0 turns this off.
    pub auth_failure_limit: u32,
    pub auth_block_seconds: u64,
    /// Take the client address from the last `X-Forwarded-For` entry (behind a proxy).
    pub trust_proxy_headers: bool,
    /// Requests per minute that open one connect link (pages, forms, the Bearer API); 0 turns
    /// this off.
    pub link_rate_limit_per_minute: u32,
    /// Requests per minute from one client address that carry a link token or a sign-in
    /// state; 0 turns this off.
    pub link_rate_limit_per_address_per_minute: u32,
    /// App-password sign-ins a link or an address may get wrong within
    /// `signin_block_seconds` before it is blocked; 0 turns this off.
    pub signin_failure_limit: u32,
    pub signin_block_seconds: u64,
    /// How long a client may take to send a request's headers.
    pub http_header_timeout_seconds: u64,
    /// How long an idle connection is kept open for another request; 0 closes it after each
    /// response (see the README for why that is the default).
    pub http_keep_alive_seconds: u64,
    /// How long a closing connection waits for the client to take the rest of the response.
    pub http_disconnect_timeout_seconds: u64,
    /// The longest wait for the next byte of a request body.
    pub http_body_idle_timeout_seconds: u64,
    /// The slowest a request body may arrive on average, past the first
    /// `http_body_idle_timeout_seconds`; 0 turns this off.
    pub http_body_min_bytes_per_second: u64,
    /// Open connections at most, over all workers (each holds a file descriptor).
    pub http_max_connections: u32,
    /// Signs connect links (at least 32 bytes). Unset outside production: generated once
    /// into the data directory.
    #[serde(skip_serializing)]
    pub link_signing_key: Option<Secret>,
    /// Keys that signed links still in circulation, accepted but never used to sign.
    #[serde(default, skip_serializing)]
    pub link_signing_previous_keys: Vec<Secret>,
    /// Encrypts OAuth tokens at rest (at least 32 bytes). Unset outside production:
    /// generated once into the data directory.
    #[serde(skip_serializing)]
    pub token_encryption_key: Option<Secret>,
    /// Keys that encrypted tokens still stored; read, never used to encrypt.
    #[serde(default, skip_serializing)]
    pub token_encryption_previous_keys: Vec<Secret>,
    /// Run a delivery worker in this process (turn off for API-only processes).
    pub webhooks_worker: bool,
    /// Deliver webhooks to loopback, private and link-local addresses (tests, labs).
    pub webhooks_allow_private_targets: bool,
    /// How long a receiver has to answer.
    pub webhooks_timeout_seconds: u64,
    /// How long a delivery is retried before it is marked failed.
    pub webhooks_retry_hours: u64,
    /// The first retry's delay; each next one doubles, up to an hour, with jitter.
    pub webhooks_retry_base_ms: u64,
    /// Deliveries in flight at once, per process.
    pub webhooks_concurrency: u32,
    /// How often an idle delivery worker looks for deliveries other processes queued.
    pub webhooks_poll_ms: u64,
    /// How long a target is paused after five failures in a row.
    pub webhooks_pause_minutes: u64,
    /// How long delivered and failed deliveries stay in the log.
    pub webhooks_log_days: u64,
    /// Mount the emulator of every platform under `/sandbox/` and connect to it instead of
    /// the real platforms (refused in production).
    pub sandbox: bool,
    /// Each platform's OAuth app, by platform key (`platforms.tiktok.client_id`, …).
    pub platforms: BTreeMap<String, RawPlatform>,
    /// How long a platform has to answer.
    pub oauth_timeout_seconds: u64,
    /// Sign-ins a profile may have pending at once; starting one more drops the oldest.
    pub oauth_max_pending_states: u32,
    /// Origins (`https://host[:port]`) a connect-link holder may name as the Connect API's
    /// `redirect_url`, besides the server's own, the link's `redirect_url` and the
    /// account's `allowed_redirect_origins` preference.
    pub allowed_redirect_origins: Vec<String>,
    /// Run the token refresh engine in this process.
    pub oauth_refresh_worker: bool,
    /// How often the refresh engine looks for tokens due.
    pub oauth_refresh_interval_ms: u64,
    /// The first retry after a transient refresh failure; each next one doubles, up to an
    /// hour.
    pub oauth_refresh_retry_base_ms: u64,
    /// The largest file one upload request may carry.
    pub uploads_max_file_mb: u64,
    /// Files (media parts) per upload request.
    pub uploads_max_files: u32,
    /// The whole body of an upload request, files included.
    pub uploads_max_body_mb: u64,
    /// Text fields per upload request.
    pub uploads_max_fields: u32,
    /// The longest text field.
    pub uploads_max_field_kb: u64,
    /// All text fields of a request together (and the whole body when it is not multipart).
    pub uploads_max_text_kb: u64,
    /// Run a publishing worker in this process (scheduled posts, retries, work of processes
    /// that died); uploads accepted here are published here either way.
    pub publishing_worker: bool,
    /// How long a synchronous upload request waits before answering as an async one.
    pub publishing_sync_budget_seconds: u64,
    /// How long a worker owns a platform of an upload; past it, another process takes over.
    pub publishing_lease_seconds: u64,
    /// Attempts per platform before a retryable failure becomes final.
    pub publishing_max_attempts: u32,
    /// The first retry's delay; each next one doubles, up to an hour.
    pub publishing_retry_base_ms: u64,
    /// Platforms of uploads published at once, per process.
    pub publishing_concurrency: u32,
    /// How often an idle publishing worker looks for due work.
    pub publishing_poll_ms: u64,
    /// How long a finished upload's media is kept (for `/posts/retry` and the schedule's
    /// preview) before the sweeper deletes it.
    pub publishing_media_retention_hours: u64,
    /// How long a platform may process an upload (a video) before its post fails as
    /// `processing_timeout`.
    pub publishing_processing_timeout_minutes: u64,
    /// The longest pause between two looks at an upload a platform is processing; the
    /// pauses grow with the time it has taken, up to this.
    pub publishing_processing_poll_max_seconds: u64,
    /// Where uploaded and fetched media is kept: `local` (`<data_dir>/media`) or `s3`.
    pub media_store: MediaStoreKind,
    /// The bucket, with `media_store = "s3"`.
    pub media_s3_bucket: Option<String>,
    /// The S3-compatible service's URL; unset for AWS itself.
    pub media_s3_endpoint: Option<String>,
    pub media_s3_region: String,
    pub media_s3_access_key_id: Option<String>,
    #[serde(skip_serializing)]
    pub media_s3_secret_access_key: Option<Secret>,
    /// Allow an `http://` endpoint (a store on the local network).
    pub media_s3_allow_http: bool,
    /// The largest image, video and document accepted, in MB.
    pub media_max_image_mb: u64,
    pub media_max_video_mb: u64,
    pub media_max_document_mb: u64,
    /// The most media kept at once, in MB; an upload that would pass it is refused.
    pub media_max_stored_mb: u64,
    /// How long fetching a media URL may take.
    pub media_fetch_timeout_seconds: u64,
    /// How often expired media and objects without a row are deleted.
    pub media_sweep_interval_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaStoreKind {
    Local,
    S3,
}

/// One platform's app as the operator registered it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlatform {
    pub enabled: Option<bool>,
    pub client_id: Option<String>,
    #[serde(skip_serializing)]
    pub client_secret: Option<Secret>,
    /// Replaces the scopes Postgate requests.
    pub scopes: Option<Vec<String>>,
    /// Moves named endpoints (see the README's platform table).
    #[serde(default)]
    pub endpoints: BTreeMap<String, String>,
}

/// A platform's validated settings.
#[derive(Debug, Clone)]
pub struct PlatformSettings {
    pub enabled: bool,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub scopes: Option<Vec<String>>,
    pub endpoints: BTreeMap<String, String>,
}

/// How accounts are connected and kept connected: `sandbox`, `platforms` and `oauth_*`.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    pub sandbox: bool,
    pub platforms: BTreeMap<Platform, PlatformSettings>,
    pub timeout: std::time::Duration,
    pub max_pending_states: u32,
    pub refresh_worker: bool,
    pub refresh_interval: std::time::Duration,
    pub refresh_retry_base: std::time::Duration,
    /// `allowed_redirect_origins`.
    pub allowed_redirect_origins: RedirectOrigins,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlan {
    pub display_name: Option<String>,
    pub profiles: Limit,
    #[serde(default = "unlimited")]
    pub monthly_posts: Limit,
}

fn unlimited() -> Limit {
    Limit::Unlimited
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

impl Default for RawSettings {
    fn default() -> Self {
        let plan = |profiles, posts| RawPlan {
            display_name: None,
            profiles: Limit::Max(profiles),
            monthly_posts: Limit::Max(posts),
        };
        let plans = BTreeMap::from([
            ("default".to_owned(), plan(10, 10)),
            ("basic".to_owned(), plan(25, 500)),
            ("professional".to_owned(), plan(100, 2_000)),
            ("advanced".to_owned(), plan(250, 5_000)),
            ("business".to_owned(), plan(1_000, 20_000)),
            (
                "unlimited".to_owned(),
                RawPlan {
                    display_name: None,
                    profiles: Limit::Unlimited,
                    monthly_posts: Limit::Unlimited,
                },
            ),
        ]);
        Self {
            env: Environment::Development,
            data_dir: PathBuf::from("./postgate-data"),
            database_url: None,
            database_pool_size: 8,
            database_timeout_seconds: 10,
            listen: "127.0.0.1:8080".to_owned(),
            public_url: None,
            workers: None,
            shutdown_timeout_seconds: 30,
            default_plan: "default".to_owned(),
            plans,
            log: "info".to_owned(),
            log_format: LogFormat::Pretty,
            metrics: false,
            metrics_token: None,
            rate_limit_per_minute: 600,
            auth_failure_limit: 10,
            auth_block_seconds: 300,
            trust_proxy_headers: false,
            link_rate_limit_per_minute: 120,
            link_rate_limit_per_address_per_minute: 600,
            signin_failure_limit: 5,
            signin_block_seconds: 900,
            http_header_timeout_seconds: 10,
            http_keep_alive_seconds: 0,
            http_disconnect_timeout_seconds: 5,
            http_body_idle_timeout_seconds: 30,
            http_body_min_bytes_per_second: 500,
            http_max_connections: 512,
            link_signing_key: None,
            link_signing_previous_keys: Vec::new(),
            token_encryption_key: None,
            token_encryption_previous_keys: Vec::new(),
            webhooks_worker: true,
            webhooks_allow_private_targets: false,
            webhooks_timeout_seconds: 10,
            webhooks_retry_hours: 24,
            webhooks_retry_base_ms: 10_000,
            webhooks_concurrency: 8,
            webhooks_poll_ms: 500,
            webhooks_pause_minutes: 30,
            webhooks_log_days: 30,
            sandbox: false,
            platforms: BTreeMap::new(),
            oauth_timeout_seconds: 15,
            oauth_max_pending_states: 10,
            allowed_redirect_origins: Vec::new(),
            oauth_refresh_worker: true,
            oauth_refresh_interval_ms: 30_000,
            oauth_refresh_retry_base_ms: 30_000,
            uploads_max_file_mb: 1024,
            uploads_max_files: 40,
            uploads_max_body_mb: 2048,
            uploads_max_fields: 1000,
            uploads_max_field_kb: 256,
            uploads_max_text_kb: 2048,
            publishing_worker: true,
            publishing_sync_budget_seconds: 59,
            publishing_lease_seconds: 600,
            publishing_max_attempts: 5,
            publishing_retry_base_ms: 30_000,
            publishing_concurrency: 8,
            publishing_poll_ms: 1000,
            publishing_media_retention_hours: 168,
            publishing_processing_timeout_minutes: 120,
            publishing_processing_poll_max_seconds: 60,
            media_store: MediaStoreKind::Local,
            media_s3_bucket: None,
            media_s3_endpoint: None,
            media_s3_region: "us-east-1".to_owned(),
            media_s3_access_key_id: None,
            media_s3_secret_access_key: None,
            media_s3_allow_http: false,
            media_max_image_mb: 20,
            media_max_video_mb: 2048,
            media_max_document_mb: 100,
            media_max_stored_mb: 50 * 1024,
            media_fetch_timeout_seconds: 120,
            media_sweep_interval_ms: 600_000,
        }
    }
}

/// Validated settings, grouped as the keys are named: each group holds the keys of one
/// prefix (`database_*` in `database`, `webhooks_*` in `webhooks`, …) under their names
/// without it, so every key has one home. The keys themselves stay flat (see the README).
#[derive(Debug, Clone)]
pub struct Settings {
    pub env: Environment,
    pub data_dir: PathBuf,
    /// `listen`, `public_url`, `workers`, `trust_proxy_headers`, `shutdown_timeout_seconds`.
    pub server: ServerSettings,
    /// `http_*`: how long clients may take, and how many may be connected.
    pub http: HttpSettings,
    /// `database_url`, `database_pool_size`, `database_timeout_seconds`.
    pub database: DatabaseSettings,
    /// `plans` and `default_plan`.
    pub plans: Plans,
    /// `log` and `log_format`.
    pub log: LogSettings,
    /// `rate_limit_per_minute`, `auth_*`, `link_rate_limit_*`, `signin_*`.
    pub limits: LimitSettings,
    /// `link_signing_key` and `link_signing_previous_keys`.
    pub links: KeySettings,
    /// `token_encryption_key` and `token_encryption_previous_keys`.
    pub tokens: KeySettings,
    /// `webhooks_*`.
    pub webhooks: WebhookSettings,
    /// `sandbox`, `platforms`, `oauth_*`, `allowed_redirect_origins`.
    pub oauth: OAuthSettings,
    /// `metrics` and `metrics_token`.
    pub metrics: MetricsSettings,
    /// `uploads_*`.
    pub uploads: UploadSettings,
    /// `publishing_*`.
    pub publishing: PublishingSettings,
    /// `media_*`, and `webhooks_allow_private_targets` for media URLs.
    pub media: MediaSettings,
}

/// Where media is kept, how big it may be, and how it is fetched.
#[derive(Debug, Clone)]
pub struct MediaSettings {
    pub store: MediaStore,
    pub max_image_bytes: u64,
    pub max_video_bytes: u64,
    pub max_document_bytes: u64,
    pub max_stored_bytes: u64,
    pub fetch_timeout: std::time::Duration,
    pub sweep_interval: std::time::Duration,
    /// The switch that lets webhooks reach private addresses lets media URLs do so too.
    pub allow_private_urls: bool,
}

#[derive(Debug, Clone)]
pub enum MediaStore {
    /// `<data_dir>/media`.
    Local,
    S3(S3Settings),
}

#[derive(Debug, Clone)]
pub struct S3Settings {
    pub bucket: String,
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
    pub allow_http: bool,
}

/// Where and how HTTP is served.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    /// As configured; `None` means "derive from the address we actually bound".
    pub public_url: Option<Url>,
    pub workers: Option<usize>,
    pub trust_proxy_headers: bool,
    /// `shutdown_timeout_seconds`.
    pub shutdown_timeout: std::time::Duration,
}

/// How fast a body must arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyPace {
    /// The longest wait for the next byte; also the grace before `min_rate` applies.
    pub idle: std::time::Duration,
    /// Bytes per second on average, over the time spent waiting for the client; 0: no rate.
    pub min_rate: u64,
}

/// Timeouts and the connection bound of the HTTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpSettings {
    pub header_timeout: std::time::Duration,
    /// `None`: one request per connection.
    pub keep_alive: Option<std::time::Duration>,
    pub disconnect_timeout: std::time::Duration,
    /// `http_body_idle_timeout_seconds` and `http_body_min_bytes_per_second`.
    pub body: BodyPace,
    pub max_connections: usize,
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: DatabaseUrl,
    pub pool_size: u32,
    pub timeout: std::time::Duration,
}

#[derive(Debug, Clone)]
pub struct LogSettings {
    /// The `log` key: a tracing filter such as `info` or `postgate=debug`.
    pub filter: String,
    pub format: LogFormat,
}

/// Request and authentication limits, per process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSettings {
    pub rate_limit_per_minute: u32,
    pub auth_failure_limit: u32,
    pub auth_block_seconds: u64,
    pub link_rate_limit_per_minute: u32,
    pub link_rate_limit_per_address_per_minute: u32,
    pub signin_failure_limit: u32,
    pub signin_block_seconds: u64,
}

/// A secret key in use (unset: generated into the data directory outside production) and
/// the keys it replaced, still accepted for what they made.
#[derive(Debug, Clone)]
pub struct KeySettings {
    pub key: Option<Secret>,
    pub previous_keys: Vec<Secret>,
}

/// Whether and to whom `/metrics` is served.
#[derive(Debug, Clone)]
pub struct MetricsSettings {
    pub enabled: bool,
    pub token: Option<Secret>,
}

/// What one upload request may carry, in bytes and counts (the keys give MB and KB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadSettings {
    pub max_file_bytes: u64,
    pub max_files: usize,
    pub max_body_bytes: u64,
    pub max_fields: usize,
    pub max_field_bytes: u64,
    pub max_text_bytes: u64,
}

/// How uploads are published (`publishing_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishingSettings {
    pub worker: bool,
    pub sync_budget: std::time::Duration,
    /// Longer than any publish takes, so a lease runs out only when its holder died or
    /// stalled.
    pub lease: std::time::Duration,
    pub max_attempts: i32,
    pub retry_base: std::time::Duration,
    pub concurrency: u32,
    pub poll: std::time::Duration,
    /// `publishing_media_retention_hours`.
    pub media_retention: chrono::Duration,
    /// `publishing_processing_timeout_minutes`.
    pub processing_timeout: chrono::Duration,
    /// `publishing_processing_poll_max_seconds`.
    pub processing_poll_max: std::time::Duration,
}

/// How webhooks are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookSettings {
    pub worker: bool,
    pub allow_private_targets: bool,
    pub timeout: std::time::Duration,
    /// `webhooks_retry_hours`.
    pub retry_for: chrono::Duration,
    pub retry_base: std::time::Duration,
    pub concurrency: u32,
    pub poll: std::time::Duration,
    pub pause: chrono::Duration,
    /// `webhooks_log_days`.
    pub keep_log: chrono::Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("configuration: {0}")]
    Invalid(String),
}

fn invalid(msg: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(msg.into())
}

/// A secret key setting (empty means unset) and its previous keys, each long enough.
fn key_settings(
    name: &str,
    key: Option<Secret>,
    previous_keys: Vec<Secret>,
) -> Result<KeySettings, ConfigError> {
    let key = key.filter(|k| !k.expose().trim().is_empty());
    if key
        .iter()
        .chain(&previous_keys)
        .any(|k| k.expose().trim().len() < MIN_SECRET_BYTES)
    {
        return Err(invalid(format!(
            "{name}: keys must be at least {MIN_SECRET_BYTES} bytes long"
        )));
    }
    Ok(KeySettings { key, previous_keys })
}

impl Settings {
    /// The layered sources: defaults, the TOML file if any, the environment, then `overrides`
    /// (command-line flags).
    pub fn figment(config_file: Option<&Path>, overrides: Figment) -> Figment {
        let mut figment = Figment::from(Serialized::defaults(RawSettings::default()));
        if let Some(path) = config_file {
            figment = figment.merge(Toml::file_exact(path));
        }
        figment
            .merge(Env::prefixed("POSTGATE_").split("__").filter(|key| {
                !FOREIGN_ENV_PREFIXES
                    .iter()
                    .any(|p| key.as_str().starts_with(p))
            }))
            .merge(overrides)
    }

    pub fn load(figment: &Figment) -> Result<Self, ConfigError> {
        let raw: RawSettings = figment.extract().map_err(Box::new)?;
        Self::from_raw(raw)
    }

    pub fn from_raw(raw: RawSettings) -> Result<Self, ConfigError> {
        let listen: SocketAddr = raw.listen.parse().map_err(|_| {
            invalid(format!(
                "listen: {:?} is not an address like 127.0.0.1:8080 or [::]:8080",
                raw.listen
            ))
        })?;
        // Empty means unset, as for database_url (`POSTGATE_PUBLIC_URL=` in a unit file).
        let public_url = raw
            .public_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .map(parse_public_url)
            .transpose()?;
        let database_url = match raw.database_url {
            Some(url) if !url.trim().is_empty() => url,
            _ => format!("sqlite://{}", raw.data_dir.join("postgate.db").display()),
        };
        let database =
            DatabaseUrl::parse(&database_url).map_err(|e| invalid(format!("database_url: {e}")))?;
        if !(1..=200).contains(&raw.database_pool_size) {
            return Err(invalid("database_pool_size: must be between 1 and 200"));
        }
        if !(1..=300).contains(&raw.database_timeout_seconds) {
            return Err(invalid(
                "database_timeout_seconds: must be between 1 and 300",
            ));
        }
        if raw.workers == Some(0) {
            return Err(invalid("workers: must be at least 1"));
        }
        let plans = Plans::from_raw(raw.plans, &raw.default_plan)?;
        let links = key_settings(
            "link_signing_key",
            raw.link_signing_key,
            raw.link_signing_previous_keys,
        )?;
        let tokens = key_settings(
            "token_encryption_key",
            raw.token_encryption_key,
            raw.token_encryption_previous_keys,
        )?;
        let in_range = |name: &str, value: u64, range: std::ops::RangeInclusive<u64>| {
            if range.contains(&value) {
                Ok(value)
            } else {
                Err(invalid(format!(
                    "{name}: must be between {} and {}",
                    range.start(),
                    range.end()
                )))
            }
        };
        let webhooks = WebhookSettings {
            worker: raw.webhooks_worker,
            allow_private_targets: raw.webhooks_allow_private_targets,
            timeout: std::time::Duration::from_secs(in_range(
                "webhooks_timeout_seconds",
                raw.webhooks_timeout_seconds,
                1..=60,
            )?),
            retry_for: chrono::Duration::hours(in_range(
                "webhooks_retry_hours",
                raw.webhooks_retry_hours,
                1..=720,
            )? as i64),
            retry_base: std::time::Duration::from_millis(in_range(
                "webhooks_retry_base_ms",
                raw.webhooks_retry_base_ms,
                10..=3_600_000,
            )?),
            concurrency: in_range(
                "webhooks_concurrency",
                raw.webhooks_concurrency.into(),
                1..=256,
            )? as u32,
            poll: std::time::Duration::from_millis(in_range(
                "webhooks_poll_ms",
                raw.webhooks_poll_ms,
                10..=60_000,
            )?),
            pause: chrono::Duration::minutes(in_range(
                "webhooks_pause_minutes",
                raw.webhooks_pause_minutes,
                1..=1440,
            )? as i64),
            keep_log: chrono::Duration::days(in_range(
                "webhooks_log_days",
                raw.webhooks_log_days,
                1..=3650,
            )? as i64),
        };
        if raw.sandbox && raw.env == Environment::Production {
            return Err(invalid(
                "sandbox: the platform emulator cannot run in production (env = production)",
            ));
        }
        let oauth = OAuthSettings {
            sandbox: raw.sandbox,
            platforms: platform_settings(raw.platforms)?,
            timeout: std::time::Duration::from_secs(in_range(
                "oauth_timeout_seconds",
                raw.oauth_timeout_seconds,
                1..=120,
            )?),
            max_pending_states: in_range(
                "oauth_max_pending_states",
                raw.oauth_max_pending_states.into(),
                1..=1000,
            )? as u32,
            refresh_worker: raw.oauth_refresh_worker,
            refresh_interval: std::time::Duration::from_millis(in_range(
                "oauth_refresh_interval_ms",
                raw.oauth_refresh_interval_ms,
                50..=3_600_000,
            )?),
            refresh_retry_base: std::time::Duration::from_millis(in_range(
                "oauth_refresh_retry_base_ms",
                raw.oauth_refresh_retry_base_ms,
                10..=3_600_000,
            )?),
            allowed_redirect_origins: RedirectOrigins::parse(
                "allowed_redirect_origins",
                raw.allowed_redirect_origins.iter().map(String::as_str),
            )
            .map_err(|e| invalid(e.to_string()))?,
        };
        const KB: u64 = 1024;
        const MB: u64 = 1024 * KB;
        let uploads = UploadSettings {
            max_file_bytes: in_range("uploads_max_file_mb", raw.uploads_max_file_mb, 1..=102_400)?
                * MB,
            max_files: in_range("uploads_max_files", raw.uploads_max_files.into(), 1..=1000)?
                as usize,
            max_body_bytes: in_range("uploads_max_body_mb", raw.uploads_max_body_mb, 1..=204_800)?
                * MB,
            max_fields: in_range(
                "uploads_max_fields",
                raw.uploads_max_fields.into(),
                1..=100_000,
            )? as usize,
            max_field_bytes: in_range(
                "uploads_max_field_kb",
                raw.uploads_max_field_kb,
                1..=102_400,
            )? * KB,
            max_text_bytes: in_range(
                "uploads_max_text_kb",
                raw.uploads_max_text_kb,
                1..=1_048_576,
            )? * KB,
        };
        let publishing = PublishingSettings {
            worker: raw.publishing_worker,
            sync_budget: std::time::Duration::from_secs(in_range(
                "publishing_sync_budget_seconds",
                raw.publishing_sync_budget_seconds,
                1..=600,
            )?),
            lease: std::time::Duration::from_secs(in_range(
                "publishing_lease_seconds",
                raw.publishing_lease_seconds,
                2..=86_400,
            )?),
            max_attempts: in_range(
                "publishing_max_attempts",
                raw.publishing_max_attempts.into(),
                1..=50,
            )? as i32,
            retry_base: std::time::Duration::from_millis(in_range(
                "publishing_retry_base_ms",
                raw.publishing_retry_base_ms,
                10..=3_600_000,
            )?),
            concurrency: in_range(
                "publishing_concurrency",
                raw.publishing_concurrency.into(),
                1..=256,
            )? as u32,
            poll: std::time::Duration::from_millis(in_range(
                "publishing_poll_ms",
                raw.publishing_poll_ms,
                10..=60_000,
            )?),
            media_retention: chrono::Duration::hours(in_range(
                "publishing_media_retention_hours",
                raw.publishing_media_retention_hours,
                0..=87_600,
            )? as i64),
            processing_timeout: chrono::Duration::minutes(in_range(
                "publishing_processing_timeout_minutes",
                raw.publishing_processing_timeout_minutes,
                1..=10_080,
            )? as i64),
            processing_poll_max: std::time::Duration::from_secs(in_range(
                "publishing_processing_poll_max_seconds",
                raw.publishing_processing_poll_max_seconds,
                1..=3600,
            )?),
        };
        let set = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let store = match raw.media_store {
            MediaStoreKind::Local => MediaStore::Local,
            MediaStoreKind::S3 => MediaStore::S3(S3Settings {
                bucket: set(raw.media_s3_bucket).ok_or_else(|| {
                    invalid("media_s3_bucket: required with media_store = \"s3\"")
                })?,
                endpoint: set(raw.media_s3_endpoint),
                region: raw.media_s3_region,
                access_key_id: set(raw.media_s3_access_key_id),
                secret_access_key: raw
                    .media_s3_secret_access_key
                    .filter(|s| !s.expose().trim().is_empty()),
                allow_http: raw.media_s3_allow_http,
            }),
        };
        let media = MediaSettings {
            store,
            max_image_bytes: in_range("media_max_image_mb", raw.media_max_image_mb, 1..=1024)? * MB,
            max_video_bytes: in_range("media_max_video_mb", raw.media_max_video_mb, 1..=65_536)?
                * MB,
            max_document_bytes: in_range(
                "media_max_document_mb",
                raw.media_max_document_mb,
                1..=1024,
            )? * MB,
            max_stored_bytes: in_range(
                "media_max_stored_mb",
                raw.media_max_stored_mb,
                1..=1 << 30,
            )? * MB,
            fetch_timeout: std::time::Duration::from_secs(in_range(
                "media_fetch_timeout_seconds",
                raw.media_fetch_timeout_seconds,
                1..=3600,
            )?),
            sweep_interval: std::time::Duration::from_millis(in_range(
                "media_sweep_interval_ms",
                raw.media_sweep_interval_ms,
                50..=86_400_000,
            )?),
            allow_private_urls: raw.webhooks_allow_private_targets,
        };
        let seconds = |name: &str, value: u64, range: std::ops::RangeInclusive<u64>| {
            in_range(name, value, range).map(std::time::Duration::from_secs)
        };
        let http = HttpSettings {
            header_timeout: seconds(
                "http_header_timeout_seconds",
                raw.http_header_timeout_seconds,
                1..=300,
            )?,
            keep_alive: Some(seconds(
                "http_keep_alive_seconds",
                raw.http_keep_alive_seconds,
                0..=3600,
            )?)
            .filter(|d| !d.is_zero()),
            disconnect_timeout: seconds(
                "http_disconnect_timeout_seconds",
                raw.http_disconnect_timeout_seconds,
                1..=300,
            )?,
            body: BodyPace {
                idle: seconds(
                    "http_body_idle_timeout_seconds",
                    raw.http_body_idle_timeout_seconds,
                    1..=3600,
                )?,
                min_rate: in_range(
                    "http_body_min_bytes_per_second",
                    raw.http_body_min_bytes_per_second,
                    0..=1 << 30,
                )?,
            },
            max_connections: in_range(
                "http_max_connections",
                raw.http_max_connections.into(),
                1..=1_000_000,
            )? as usize,
        };
        Ok(Self {
            env: raw.env,
            data_dir: raw.data_dir,
            server: ServerSettings {
                listen,
                public_url,
                workers: raw.workers,
                trust_proxy_headers: raw.trust_proxy_headers,
                shutdown_timeout: seconds(
                    "shutdown_timeout_seconds",
                    raw.shutdown_timeout_seconds,
                    1..=3600,
                )?,
            },
            http,
            database: DatabaseSettings {
                url: database,
                pool_size: raw.database_pool_size,
                timeout: std::time::Duration::from_secs(raw.database_timeout_seconds),
            },
            plans,
            log: LogSettings {
                filter: raw.log,
                format: raw.log_format,
            },
            limits: LimitSettings {
                rate_limit_per_minute: raw.rate_limit_per_minute,
                auth_failure_limit: raw.auth_failure_limit,
                auth_block_seconds: raw.auth_block_seconds,
                link_rate_limit_per_minute: raw.link_rate_limit_per_minute,
                link_rate_limit_per_address_per_minute: raw.link_rate_limit_per_address_per_minute,
                signin_failure_limit: raw.signin_failure_limit,
                signin_block_seconds: in_range(
                    "signin_block_seconds",
                    raw.signin_block_seconds,
                    1..=86_400,
                )?,
            },
            links,
            tokens,
            metrics: MetricsSettings {
                enabled: raw.metrics,
                // Empty means unset, as for the other secrets.
                token: raw.metrics_token.filter(|t| !t.expose().trim().is_empty()),
            },
            webhooks,
            oauth,
            uploads,
            publishing,
            media,
        })
    }
}

impl ServerSettings {
    /// The base of every link we hand out: the configured public URL, else the address we
    /// are actually listening on (`0.0.0.0` shown as loopback).
    pub fn effective_public_url(&self, bound: SocketAddr) -> Url {
        self.public_url.clone().unwrap_or_else(|| local_url(bound))
    }
}

/// This process as its own machine reaches it: the address we listen on (`0.0.0.0` as
/// loopback).
pub fn local_url(bound: SocketAddr) -> Url {
    let ip = match bound.ip() {
        ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    let base = format!("http://{}", SocketAddr::new(ip, bound.port()));
    Url::parse(&base).expect("a socket address always forms a valid URL")
}

/// Platform keys checked (either spelling: `google-business`, `twitter`), empty strings as
/// unset, and Bluesky on unless switched off: it needs no app registration.
fn platform_settings(
    raw: BTreeMap<String, RawPlatform>,
) -> Result<BTreeMap<Platform, PlatformSettings>, ConfigError> {
    let set = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let mut platforms = BTreeMap::new();
    for (key, p) in raw {
        let platform = Platform::parse(&key).ok_or_else(|| {
            invalid(format!(
                "platforms: {key:?} is not a platform this server knows"
            ))
        })?;
        platforms.insert(
            platform,
            PlatformSettings {
                enabled: p.enabled.unwrap_or(true),
                client_id: set(p.client_id),
                client_secret: p.client_secret.filter(|s| !s.expose().trim().is_empty()),
                scopes: p.scopes.filter(|s| !s.is_empty()),
                endpoints: p.endpoints,
            },
        );
    }
    platforms
        .entry(Platform::Bluesky)
        .or_insert_with(|| PlatformSettings {
            enabled: true,
            client_id: None,
            client_secret: None,
            scopes: None,
            endpoints: BTreeMap::new(),
        });
    Ok(platforms)
}

fn parse_public_url(raw: &str) -> Result<Url, ConfigError> {
    let url =
        Url::parse(raw).map_err(|e| invalid(format!("public_url: {raw:?} is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid(format!(
            "public_url: {raw:?} must be an absolute http(s) URL"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(invalid(format!(
            "public_url: {raw:?} must not carry credentials, a query or a fragment"
        )));
    }
    // Requests may arrive with the prefix still on; stripping one of our own first segments
    // would send them to another route.
    let first = url.path().trim_start_matches('/').split('/').next();
    if let Some(first) = first.filter(|s| crate::urls::OWN_SEGMENTS.contains(s)) {
        return Err(invalid(format!(
            "public_url: {raw:?}: its path may not start with /{first}, a path Postgate serves"
        )));
    }
    Ok(url)
}

/// The plan table.
#[derive(Debug, Clone)]
pub struct Plans {
    plans: BTreeMap<String, Plan>,
    default: String,
}

impl Plans {
    fn from_raw(raw: BTreeMap<String, RawPlan>, default: &str) -> Result<Self, ConfigError> {
        let mut plans = BTreeMap::new();
        for (name, p) in raw {
            let valid_name = !name.is_empty()
                && name.len() <= 32
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
            if !valid_name {
                return Err(invalid(format!(
                    "plans: {name:?} is not a valid plan name (1-32 of a-z, 0-9, '_', '-')"
                )));
            }
            let display_name = p.display_name.unwrap_or_else(|| capitalize(&name));
            plans.insert(
                name.clone(),
                Plan {
                    name,
                    display_name,
                    profiles: p.profiles,
                    monthly_posts: p.monthly_posts,
                },
            );
        }
        if !plans.contains_key(default) {
            return Err(invalid(format!(
                "default_plan: {default:?} is not in the plan table (known: {})",
                plans.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        Ok(Self {
            plans,
            default: default.to_owned(),
        })
    }

    pub fn get(&self, name: &str) -> Option<&Plan> {
        self.plans.get(name)
    }

    pub fn default_plan(&self) -> &Plan {
        &self.plans[&self.default]
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.plans.keys().map(String::as_str)
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(overrides: &[(&str, &str)], toml: Option<&str>) -> Result<Settings, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(RawSettings::default()));
        if let Some(t) = toml {
            figment = figment.merge(Toml::string(t));
        }
        for (k, v) in overrides {
            figment = figment.merge((*k, *v));
        }
        Settings::load(&figment)
    }

    #[test]
    fn defaults_are_valid() {
        let s = load(&[], None).unwrap();
        assert_eq!(s.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.plans.default_plan().name, "default");
        assert_eq!(s.plans.default_plan().display_name, "Default");
        assert_eq!(s.plans.default_plan().profiles, Limit::Max(10));
        assert_eq!(s.plans.get("unlimited").unwrap().profiles, Limit::Unlimited);
        assert_eq!(
            s.database.url.backend(),
            crate::domain::database_url::Backend::Sqlite
        );
        assert_eq!(
            s.server
                .effective_public_url("0.0.0.0:9000".parse().unwrap())
                .as_str(),
            "http://127.0.0.1:9000/"
        );
    }

    #[test]
    fn upload_limits_are_read_in_their_units() {
        let s = load(&[], None).unwrap().uploads;
        assert_eq!(s.max_file_bytes, 1024 * 1024 * 1024);
        assert_eq!(s.max_files, 40);
        let s = load(
            &[],
            Some("uploads_max_field_kb = 2\nuploads_max_body_mb = 3"),
        )
        .unwrap()
        .uploads;
        assert_eq!(s.max_field_bytes, 2048);
        assert_eq!(s.max_body_bytes, 3 * 1024 * 1024);
    }

    #[test]
    fn toml_plans_merge_with_defaults() {
        let s = load(
            &[],
            Some("default_plan = \"gold\"\n[plans.gold]\nprofiles = 3\ndisplay_name = \"Gold Tier\"\n[plans.basic]\nprofiles = \"unlimited\"\n"),
        )
        .unwrap();
        assert_eq!(s.plans.default_plan().display_name, "Gold Tier");
        assert_eq!(s.plans.get("basic").unwrap().profiles, Limit::Unlimited);
        assert!(s.plans.get("professional").is_some());
    }

    #[test]
    fn clear_messages_for_bad_values() {
        let msg = |o: &[(&str, &str)], t: Option<&str>| load(o, t).unwrap_err().to_string();
        assert!(msg(&[("listen", "localhost")], None).contains("listen"));
        assert!(msg(&[("public_url", "ftp://x")], None).contains("public_url"));
        assert!(
            load(&[("public_url", " ")], None)
                .unwrap()
                .server
                .public_url
                .is_none()
        );
        assert!(
            load(&[("database_url", "")], None)
                .unwrap()
                .database
                .url
                .sqlite_file()
                .is_some()
        );
        assert!(msg(&[("public_url", "https://x/?a=1")], None).contains("query"));
        // A prefix may not be one of our own first segments: stripping it would reroute.
        assert!(msg(&[("public_url", "https://x/api/")], None).contains("/api"));
        assert!(msg(&[("public_url", "https://x/connect")], None).contains("/connect"));
        assert!(
            load(&[("metrics_token", " ")], None)
                .unwrap()
                .metrics
                .token
                .is_none()
        );
        assert!(msg(&[("database_url", "mysql://x")], None).contains("database_url"));
        assert!(msg(&[("default_plan", "gold")], None).contains("not in the plan table"));
        assert!(msg(&[], Some("[plans.Gold]\nprofiles = 1")).contains("plan name"));
        assert!(msg(&[], Some("[plans.x]\nprofiles = \"many\"")).contains("unlimited"));
        assert!(msg(&[], Some("lisen = \"1\"")).contains("lisen"));
        assert!(msg(&[("link_signing_key", "short")], None).contains("32 bytes"));
        assert!(msg(&[("env", "staging")], None).contains("env"));
        assert!(msg(&[("webhooks_timeout_seconds", "0")], None).contains("webhooks_timeout"));
        assert!(
            msg(&[], Some("shutdown_timeout_seconds = 0"))
                .contains("shutdown_timeout_seconds: must be between 1 and 3600")
        );
        assert!(
            msg(&[], Some("uploads_max_files = 0")).contains("uploads_max_files: must be between")
        );
        assert!(msg(&[("media_store", "s3")], None).contains("media_s3_bucket"));
        assert!(msg(&[("media_max_image_mb", "0")], None).contains("media_max_image_mb"));
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let secrets = [
            "link-signing-key-0123456789abcdefghij",
            "previous-link-key-0123456789abcdefghij",
            "token-encryption-key-0123456789abcdefgh",
            "previous-token-key-0123456789abcdefghi",
            "tiktok-client-secret-value",
            "database-password-value",
        ];
        let toml = format!(
            "link_signing_key = \"{}\"\nlink_signing_previous_keys = [\"{}\"]\n\
             token_encryption_key = \"{}\"\ntoken_encryption_previous_keys = [\"{}\"]\n\
             database_url = \"postgres://postgate:{}@db.internal/postgate\"\n\
             [platforms.tiktok]\nclient_id = \"tiktok-client-id\"\nclient_secret = \"{}\"\n",
            secrets[0], secrets[1], secrets[2], secrets[3], secrets[5], secrets[4]
        );
        let s = load(&[], Some(&toml)).unwrap();
        let debug = format!("{s:?}");
        for secret in secrets {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        // The dump is a real one, and every secret is there to be used.
        assert!(debug.contains("tiktok-client-id"), "{debug}");
        assert_eq!(s.links.key.as_ref().unwrap().expose(), secrets[0]);
        assert_eq!(s.links.previous_keys[0].expose(), secrets[1]);
        assert_eq!(s.tokens.key.as_ref().unwrap().expose(), secrets[2]);
        assert_eq!(s.tokens.previous_keys[0].expose(), secrets[3]);
        let tiktok = &s.oauth.platforms[&Platform::Tiktok];
        assert_eq!(tiktok.client_secret.as_ref().unwrap().expose(), secrets[4]);
        let s3 = load(
            &[
                ("media_store", "s3"),
                ("media_s3_bucket", "media"),
                ("media_s3_secret_access_key", "s3-secret-access-key-value"),
            ],
            None,
        )
        .unwrap();
        assert!(!format!("{s3:?}").contains("s3-secret-access-key-value"));
        let MediaStore::S3(bucket) = &s3.media.store else {
            panic!("an S3 store")
        };
        assert_eq!(
            bucket.secret_access_key.as_ref().unwrap().expose(),
            "s3-secret-access-key-value"
        );
        // An empty secret is unset, as for every other key.
        let unset = load(&[("token_encryption_key", "")], None).unwrap();
        assert!(unset.tokens.key.is_none());
    }
}
