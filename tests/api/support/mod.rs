//! The test application: the real server (`startup.rs`) on port 0 with a fresh database per
//! test — a temp-file SQLite, or a uniquely named PostgreSQL database dropped afterwards.

pub mod browser;
pub mod clients;
pub mod connect;
pub mod contract;
pub mod outbox;
pub mod process;
pub mod proxy;
pub mod receiver;
pub mod routes;
pub mod s3;
pub mod sandbox;
pub mod snapshot;
pub mod video;
pub mod wait;

use diesel::{Connection, PgConnection, RunQueryDsl};
use futures::future::LocalBoxFuture;
use postgate::config::{RawPlan, RawSettings, Settings};
use postgate::db::{self, Db};
use postgate::domain::{Limit, Secret};
use postgate::startup::{Application, open_database};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;
use std::process::Command;
use tempfile::TempDir;

pub const PG_ENV: &str = "POSTGATE_TEST_POSTGRES_URL";
/// `required`: tests that need installed tools (Chromium, the SDKs) fail instead of being
/// skipped when the tools are missing. `scripts/test` installs them and sets this.
pub const TOOLS_ENV: &str = "POSTGATE_TEST_TOOLS";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

pub type CaseFn = for<'a> fn(&'a TestApp) -> LocalBoxFuture<'a, ()>;

pub struct Case {
    pub name: String,
    pub run: CaseFn,
}

/// `cases![a, b]` lists a module's test functions (`async fn a(app: &TestApp)`).
#[macro_export]
macro_rules! cases {
    ($($f:ident),* $(,)?) => {
        pub fn cases() -> Vec<$crate::support::Case> {
            let module = module_path!().trim_start_matches("api::");
            vec![$($crate::support::Case {
                name: format!("{module}::{}", stringify!($f)),
                run: |app| Box::pin($f(app)),
            }),*]
        }
    };
}

/// A database nobody else uses, removed when dropped.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    pub dir: TempDir,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("postgate.db").display());
                Self {
                    url,
                    backend,
                    dir,
                    pg: None,
                }
            }
            Backend::Postgres => {
                let admin = std::env::var(PG_ENV).expect("POSTGATE_TEST_POSTGRES_URL");
                let name = format!("postgate_t_{}", uuid::Uuid::now_v7().simple());
                let mut conn = PgConnection::establish(&admin)
                    .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {admin}: {e}"));
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .expect("create database");
                let mut url = url::Url::parse(&admin).expect("test PostgreSQL URL");
                url.set_path(&name);
                Self {
                    url: url.to_string(),
                    backend,
                    dir,
                    pg: Some((admin, name)),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg
            && let Ok(mut conn) = PgConnection::establish(admin)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

/// Signs the in-process servers' links; tests use it to forge tokens on purpose.
pub const TEST_LINK_SIGNING_KEY: &str = "postgate-test-link-signing-key-0123456789";

/// Webhooks in tests go to receivers on loopback, time out fast and retry fast.
pub const TEST_WEBHOOK_TIMEOUT_SECONDS: u64 = 2;
pub const TEST_WEBHOOK_RETRY_BASE_MS: u64 = 50;

/// Plans the tests add to the defaults, in-process and for spawned `postgate` processes.
const TEST_PLANS: [(&str, u64); 2] = [("eleven", 11), ("three", 3)];

/// How long the server waits for a platform (the emulator's "slow" fault waits longer).
pub const TEST_OAUTH_TIMEOUT_SECONDS: u64 = 2;

/// Settings every test starts from: a free port, small pools, and a few extra plans.
pub fn test_settings(db_url: &str) -> RawSettings {
    let mut raw = RawSettings {
        database_url: Some(db_url.to_owned()),
        listen: "127.0.0.1:0".to_owned(),
        workers: Some(2),
        database_pool_size: 4,
        link_signing_key: Some(Secret::new(TEST_LINK_SIGNING_KEY)),
        webhooks_allow_private_targets: true,
        webhooks_timeout_seconds: TEST_WEBHOOK_TIMEOUT_SECONDS,
        webhooks_retry_base_ms: TEST_WEBHOOK_RETRY_BASE_MS,
        // Every platform is the built-in emulator, as a newcomer would run it.
        sandbox: true,
        oauth_timeout_seconds: TEST_OAUTH_TIMEOUT_SECONDS,
        oauth_refresh_interval_ms: 100,
        oauth_refresh_retry_base_ms: 100,
        publishing_retry_base_ms: 100,
        publishing_poll_ms: 50,
        ..RawSettings::default()
    };
    for (name, n) in TEST_PLANS {
        raw.plans.insert(
            name.to_owned(),
            RawPlan {
                display_name: None,
                profiles: Limit::Max(n),
                monthly_posts: Limit::Unlimited,
            },
        );
    }
    raw
}

pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub api_key: String,
    pub account_id: String,
    pub client: reqwest::Client,
    pub db: Db,
    handle: actix_web::dev::ServerHandle,
    // Last: dropped after the server and pool are gone.
    pub test_db: TestDb,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// A server whose settings `customize` has adjusted.
    pub async fn spawn_with(backend: Backend, customize: impl FnOnce(&mut RawSettings)) -> Self {
        let test_db = TestDb::new(backend);
        let mut raw = test_settings(&test_db.url);
        // The test's own data directory (generated keys, media), as `cli()` and
        // `raw_settings()` use it.
        raw.data_dir = test_db.dir.path().to_owned();
        customize(&mut raw);
        let settings = Settings::from_raw(raw).expect("test settings");
        let db = {
            let settings = settings.clone();
            tokio::task::spawn_blocking(move || open_database(&settings))
                .await
                .unwrap()
                .expect("open database")
        };
        let app = Application::build(&settings, db.clone()).expect("build app");
        let address = format!("http://{}", app.addr());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        let mut this = Self {
            address,
            api_key: String::new(),
            account_id: String::new(),
            client: reqwest::Client::new(),
            db,
            handle,
            test_db,
        };
        let (account_id, api_key) = this.new_account("default").await;
        this.account_id = account_id;
        this.api_key = api_key;
        this
    }

    /// A server with `/metrics` on, behind `token` if given.
    /// An app with every request limit off, customized further by `customize`: for the suites
    /// that send thousands of requests with one key, one link or bad keys.
    pub async fn spawn_without_limits(
        backend: Backend,
        customize: impl FnOnce(&mut RawSettings),
    ) -> Self {
        Self::spawn_with(backend, |raw| {
            raw.rate_limit_per_minute = 0;
            raw.auth_failure_limit = 0;
            raw.link_rate_limit_per_minute = 0;
            raw.link_rate_limit_per_address_per_minute = 0;
            customize(raw);
        })
        .await
    }

    pub async fn spawn_with_metrics(backend: Backend, token: Option<&str>) -> Self {
        Self::spawn_with(backend, |raw| {
            raw.metrics = true;
            raw.metrics_token = token.map(postgate::domain::Secret::new);
        })
        .await
    }

    /// Another API account on `plan`: `(account_id, api_key)`.
    pub async fn new_account(&self, plan: &str) -> (String, String) {
        let db = self.db.clone();
        let plan = plan.to_owned();
        let created = tokio::task::spawn_blocking(move || {
            db::accounts::create(
                &mut db.conn().unwrap(),
                "test account",
                Some("ops@example.com"),
                &plan,
            )
        })
        .await
        .unwrap()
        .expect("create account");
        (created.account.id, created.api_key.full)
    }

    /// The settings this app runs with, before any customization: its database, and its
    /// data directory (where the generated token key is).
    pub fn raw_settings(&self) -> RawSettings {
        let mut raw = test_settings(&self.test_db.url);
        raw.data_dir = self.test_db.dir.path().to_owned();
        raw
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// `/api/uploadposts` + path.
    pub fn api(&self, path: &str) -> String {
        self.url(&format!("/api/uploadposts{path}"))
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.get_as(&self.api_key, path)
    }

    pub fn post(&self, path: &str, body: &Value) -> RequestBuilder {
        self.post_as(&self.api_key, path, body)
    }

    pub fn delete(&self, path: &str, body: &Value) -> RequestBuilder {
        self.delete_as(&self.api_key, path, body)
    }

    /// The same calls with another account's key.
    pub fn get_as(&self, key: &str, path: &str) -> RequestBuilder {
        self.with_key(self.client.get(self.api(path)), key)
    }

    pub fn post_as(&self, key: &str, path: &str, body: &Value) -> RequestBuilder {
        self.with_key(self.client.post(self.api(path)).json(body), key)
    }

    pub fn delete_as(&self, key: &str, path: &str, body: &Value) -> RequestBuilder {
        self.with_key(self.client.delete(self.api(path)).json(body), key)
    }

    pub fn with_key(&self, req: RequestBuilder, key: &str) -> RequestBuilder {
        req.header("Authorization", format!("Apikey {key}"))
    }

    pub async fn create_profile(&self, username: &str) -> (StatusCode, Value) {
        send(self.post("/users", &serde_json::json!({ "username": username }))).await
    }

    /// The `postgate` binary, pointed at this test's database.
    pub fn cli(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_postgate"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("POSTGATE_DATABASE_URL", &self.test_db.url)
            .env("POSTGATE_DATA_DIR", self.test_db.dir.path())
            .current_dir(self.test_db.dir.path());
        for (name, n) in TEST_PLANS {
            cmd.env(
                format!("POSTGATE_PLANS__{}__PROFILES", name.to_uppercase()),
                n.to_string(),
            );
        }
        cmd.env("POSTGATE_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true")
            .env(
                "POSTGATE_WEBHOOKS_TIMEOUT_SECONDS",
                TEST_WEBHOOK_TIMEOUT_SECONDS.to_string(),
            )
            .env(
                "POSTGATE_WEBHOOKS_RETRY_BASE_MS",
                TEST_WEBHOOK_RETRY_BASE_MS.to_string(),
            );
        cmd
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command at once; the runtime is going away anyway.
        drop(self.handle.stop(false));
    }
}

/// The usernames of a `GET /users` response, in order.
pub fn usernames(list: &Value) -> Vec<&str> {
    list["profiles"]
        .as_array()
        .expect("profiles")
        .iter()
        .map(|p| p["username"].as_str().expect("username"))
        .collect()
}

/// Sends a request and reads a JSON body (the server must always answer JSON).
/// The body must also match what the OpenAPI document promises for that route and status.
pub async fn send(req: RequestBuilder) -> (StatusCode, Value) {
    let (client, request) = req.build_split();
    let request = request.expect("a well-formed request");
    let (method, path) = (request.method().clone(), request.url().path().to_owned());
    let resp = client
        .execute(request)
        .await
        .expect("request reached the server");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("not JSON ({e}), status {status}: {text:?}"));
    contract::check(method.as_str(), &path, status.as_u16(), &body);
    (status, body)
}

/// Runs `postgate` and returns (success, stdout, stderr); a death by signal is spelled out.
pub fn run_cli(mut cmd: Command) -> (bool, String, String) {
    let out = cmd.output().expect("run postgate");
    let mut stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.code().is_none() {
        stderr.push_str(&format!("\n[postgate died: {}]", out.status));
    }
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}
