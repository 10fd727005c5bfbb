//! Building the application: the same code for `postgate serve` and for the tests.

use crate::api::upload_form::UploadFormConfig;
use crate::assets::AssetUrls;
use crate::config::Settings;
use crate::db::{self, Db};
use crate::key_files;
use crate::limits::{self, AuthGuard, LinkLimits, RequestLimiter};
use crate::media::{self, Library};
use crate::metrics::{Metrics, Scrape, TaskMetrics};
use crate::oauth::{self, OAuth, http::Http, registry::Platforms, targets::TargetCache};
use crate::publish::engine::Engine;
use crate::routes;
use crate::sandbox::Sandbox;
use crate::state::AppState;
use crate::supervisor::{Backoff, Detached, Supervisor};
use crate::telemetry;
use crate::urls::Urls;
use crate::webhooks::{self, worker::Worker};
use actix_web::dev::{Server, ServerHandle};
use actix_web::http::KeepAlive;
use actix_web::{App, HttpServer, web};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing_actix_web::TracingLogger;
use url::Url;

/// Connects, applies pending migrations and checks that every account's plan is configured.
/// Blocking.
pub fn open_database(settings: &Settings) -> anyhow::Result<Db> {
    let db = Db::connect(
        &settings.database.url,
        settings.database.pool_size,
        settings.database.timeout,
    )?;
    let mut conn = db.conn()?;
    let applied = db::migrations::run(&mut conn)?;
    if !applied.is_empty() {
        tracing::info!(?applied, "applied migrations");
    }
    let unknown: Vec<String> = db::accounts::plans_in_use(&mut conn)?
        .into_iter()
        .filter(|p| settings.plans.get(p).is_none())
        .collect();
    if !unknown.is_empty() {
        anyhow::bail!(
            "accounts use plans that are not in the plan table: {}. Add them to the configuration \
             or move the accounts with `postgate accounts set-plan`.",
            unknown.join(", ")
        );
    }
    drop(conn);
    Ok(db)
}

pub struct Application {
    server: Server,
    /// `None` when this process leaves delivery to others.
    worker: Option<Arc<Worker>>,
    /// What the token refresh engine runs with; `None` when it runs elsewhere.
    refresher: Option<Arc<OAuth>>,
    /// Sweeps expired and orphaned media.
    media: Library,
    /// The publishing worker's engine; `None` when this process leaves it to others.
    publisher: Option<Arc<Engine>>,
    /// Work requests started without waiting for it (uploads' publishing runs among it).
    detached: Detached,
    sweep_every: std::time::Duration,
    /// What the supervisor of the background tasks records.
    task_metrics: TaskMetrics,
    /// How long a stop waits for in-flight requests and the workers' current items.
    shutdown_timeout: Duration,
    addr: SocketAddr,
    public_url: Url,
}

impl Application {
    /// Binds the listener (port 0 picks a free one) and builds the server; it runs once
    /// awaited.
    pub fn build(settings: &Settings, db: Db) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.server.listen)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.server.listen))?;
        let addr = listener.local_addr()?;
        let public_url = settings.server.effective_public_url(addr);
        let urls = Urls::new(&public_url);
        let metrics = Metrics::new();
        let cipher = Arc::new(key_files::token_cipher(settings)?);
        webhooks::secrets::upgrade(&mut *db.conn()?, &cipher)?;
        let worker = settings
            .webhooks
            .worker
            .then(|| {
                let metrics = metrics.webhooks.clone();
                Worker::new(db.clone(), cipher.clone(), settings.webhooks, metrics).map(Arc::new)
            })
            .transpose()?;
        let http = Http::new(settings.oauth.timeout)?;
        let platforms = Platforms::new(
            &settings.oauth.platforms,
            settings.oauth.sandbox,
            &urls,
            &Urls::new(&crate::config::local_url(addr)),
            &http,
        )?;
        if settings.oauth.sandbox {
            tracing::warn!(
                "sandbox is on: every platform is the built-in emulator at {public_url}sandbox/"
            );
        }
        let oauth = Arc::new(OAuth {
            db: db.clone(),
            platforms,
            cipher,
            settings: settings.oauth.clone(),
            targets: TargetCache::default(),
            metrics: metrics.refresh.clone(),
        });
        let refresher = settings.oauth.refresh_worker.then(|| oauth.clone());
        let library = Library::open(settings, db.clone(), urls.clone(), metrics.media.clone())?;
        let detached = Detached::on_current_runtime();
        let publishing = Arc::new(Engine::new(
            db.clone(),
            oauth.clone(),
            Arc::new(library.clone()),
            settings.publishing,
            metrics.publishing.clone(),
            detached.clone(),
        ));
        let publisher = settings.publishing.worker.then(|| publishing.clone());
        let state = web::Data::new(AppState {
            db,
            plans: settings.plans.clone(),
            urls: urls.clone(),
            assets: Arc::new(AssetUrls::new(&urls)),
            requests: RequestLimiter::new(settings.limits.rate_limit_per_minute),
            auth_guard: AuthGuard::new(
                settings.limits.auth_failure_limit,
                settings.limits.auth_block_seconds,
            ),
            link_limits: LinkLimits::new(&settings.limits),
            trust_proxy_headers: settings.server.trust_proxy_headers,
            link_signer: key_files::link_signer(settings)?,
            webhooks: settings.webhooks,
            oauth,
            media: library.clone(),
            publishing,
            detached: detached.clone(),
        });
        let sandbox = settings.oauth.sandbox.then(|| {
            web::Data::new(Sandbox::new(
                state.db.clone(),
                urls.clone(),
                settings.data_dir.join("sandbox").join("media"),
            ))
        });
        let scrape = Scrape::new(&metrics, &state.db, &settings.metrics);
        let upload_form = web::Data::new(UploadFormConfig::from_settings(settings)?);
        let http = settings.http;
        let task_metrics = metrics.tasks.clone();
        let shutdown_timeout = settings.server.shutdown_timeout;
        let workers = settings.server.workers.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        let server = HttpServer::new(move || {
            let prefix: std::sync::Arc<str> = urls.prefix().into();
            let http_metrics = metrics.http.clone();
            let link_state = state.clone();
            App::new()
                // Innermost: they see the path with the prefix stripped, and the metrics see
                // their answers.
                .wrap(actix_web::middleware::from_fn(move |req, next| {
                    limits::body::paced_bodies(http.body, req, next)
                }))
                .wrap(actix_web::middleware::from_fn(move |req, next| {
                    crate::links::admission::bearer_links(link_state.clone(), req, next)
                }))
                .wrap(actix_web::middleware::from_fn(move |req, next| {
                    http_metrics.clone().middleware(req, next)
                }))
                .wrap(actix_web::middleware::from_fn(routes::refuse_nul_in_url))
                .wrap(actix_web::middleware::from_fn(move |req, next| {
                    routes::strip_prefix(prefix.clone(), req, next)
                }))
                .wrap(actix_web::middleware::from_fn(telemetry::request_id_header))
                .wrap(TracingLogger::<telemetry::RequestSpan>::new())
                .app_data(state.clone())
                .app_data(upload_form.clone())
                .configure(|cfg| routes::configure(cfg, sandbox.clone(), scrape.clone()))
        })
        .workers(workers)
        // `run_until_stopped` listens for the signals: it stops the background workers too,
        // under the same deadline.
        .disable_signals()
        .shutdown_timeout(shutdown_timeout.as_secs())
        // actix bounds connections per worker; the setting is for the whole process.
        .max_connections(http.max_connections.div_ceil(workers))
        .client_request_timeout(http.header_timeout)
        .client_disconnect_timeout(http.disconnect_timeout)
        .keep_alive(
            http.keep_alive
                .map_or(KeepAlive::Disabled, KeepAlive::Timeout),
        )
        .listen(listener)?;
        Ok(Self {
            server: server.run(),
            worker,
            refresher,
            media: library,
            sweep_every: settings.media.sweep_interval,
            task_metrics,
            shutdown_timeout,
            publisher,
            detached,
            addr,
            public_url,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn public_url(&self) -> &Url {
        &self.public_url
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves, publishes, delivers webhooks and sweeps media until SIGINT/SIGTERM or
    /// `ServerHandle::stop`. The background tasks run under a supervisor that restarts them
    /// when they fail. On a signal, new connections are refused and the workers take no new
    /// items; in-flight requests and the workers' current items get `shutdown_timeout_seconds`
    /// (from the signal) to finish, and whatever is left is abandoned: a worker's item stays
    /// leased and is taken over once its lease lapses.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let (stop, stopped) = watch::channel(false);
        let supervisor = Supervisor::new(stopped, self.task_metrics, Backoff::DEFAULT);
        let mut tasks = Vec::new();
        if let Some(worker) = self.worker {
            tasks.push(supervisor.spawn("webhooks", move |stop| worker.clone().run(stop)));
        }
        if let Some(oauth) = self.refresher {
            tasks.push(supervisor.spawn("refresh", move |stop| {
                oauth::refresh::run(oauth.clone(), stop)
            }));
        }
        if let Some(engine) = self.publisher {
            tasks.push(supervisor.spawn("publishing", move |stop| engine.clone().run(stop)));
        }

        let (library, every) = (self.media, self.sweep_every);
        tasks.push(supervisor.spawn("media_sweeper", move |stop| {
            media::sweeper::run(library.clone(), every, stop)
        }));
        let handle = self.server.handle();
        let mut server = self.server;
        let (served, deadline) = tokio::select! {
            served = &mut server => (served, Instant::now() + self.shutdown_timeout),
            () = shutdown_signal() => {
                let deadline = Instant::now() + self.shutdown_timeout;
                tracing::info!(
                    timeout_seconds = self.shutdown_timeout.as_secs(),
                    "stopping: finishing in-flight requests and the workers' current items"
                );
                let _ = stop.send(true);
                // Graceful: bounded by the server's shutdown timeout, the same deadline. The
                // command is sent at once; the server future carries it out.
                drop(handle.stop(true));
                (server.await, deadline)
            }
        };
        let _ = stop.send(true);
        // What requests started and left running (uploads' publishing runs) is current work
        // too, whoever runs the worker.
        let detached = self.detached;
        tasks.push(tokio::spawn(async move { detached.finish().await }));
        for task in tasks {
            if tokio::time::timeout_at(deadline, task).await.is_err() {
                tracing::warn!(
                    timeout_seconds = self.shutdown_timeout.as_secs(),
                    "background work did not finish within shutdown_timeout_seconds; leaving it \
                     to be taken over once its lease lapses"
                );
                break;
            }
        }
        served
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C); never if neither can be listened for.
async fn shutdown_signal() {
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => drop(signal.recv().await),
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = terminate => {}
        Ok(()) = tokio::signal::ctrl_c() => {}
    }
}
