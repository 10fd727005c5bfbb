//! Prometheus metrics: the registry and its instruments, one set per `Application` (no
//! globals, so tests stay independent), and the `GET /metrics` handler.
//!
//! Each part of Postgate that records gets its own instruments struct, registered in
//! `Metrics::new` and handed to the code that records (`HttpMetrics` to the middleware,
//! `WebhookMetrics` to the delivery worker, `RefreshMetrics` to the refresh engine,
//! `PublishMetrics` to the publishing engine, `TaskMetrics` to the supervisor of the
//! background tasks). Values that live elsewhere (the pool, the
//! outbox, the publishing backlog) are read when scraped.

pub mod endpoint;
mod http;

pub use endpoint::Scrape;
pub use http::HttpMetrics;

use crate::db::PoolState;
use crate::db::outbox::Outcome;
use crate::domain::Platform;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::Arc;

/// A label naming what something came to.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

/// Counts per outcome. Every outcome is created up front, so a scrape shows zeros rather
/// than nothing before the first event.
#[derive(Clone, Debug, Default)]
struct Outcomes(Family<OutcomeLabel, Counter>);

impl Outcomes {
    fn new(outcomes: &[&'static str]) -> Self {
        let this = Self::default();
        for &outcome in outcomes {
            drop(this.0.get_or_create(&OutcomeLabel { outcome }));
        }
        this
    }

    fn inc(&self, outcome: &'static str) {
        self.0.get_or_create(&OutcomeLabel { outcome }).inc();
    }
}

/// What the webhook delivery worker records.
#[derive(Clone, Debug)]
pub struct WebhookMetrics {
    attempts: Outcomes,
    pauses: Counter,
    /// Set when scraped.
    backlog: Gauge,
}

impl WebhookMetrics {
    fn register(registry: &mut Registry) -> Self {
        let this = Self {
            attempts: Outcomes::new(&["delivered", "retried", "failed"]),
            pauses: Counter::default(),
            backlog: Gauge::default(),
        };
        registry.register(
            "attempts",
            "Delivery attempts by outcome: delivered, retried (failed, tried again later) or \
             failed (given up)",
            this.attempts.0.clone(),
        );
        registry.register(
            "target_pauses",
            "Times a target was paused after failing five times in a row",
            this.pauses.clone(),
        );
        registry.register(
            "pending_deliveries",
            "Deliveries waiting to be sent or retried, across all processes",
            this.backlog.clone(),
        );
        this
    }

    /// One attempt's outcome, and whether it paused its target.
    pub fn attempt(&self, outcome: &Outcome, paused_target: bool) {
        self.attempts.inc(match outcome {
            Outcome::Delivered { .. } => "delivered",
            Outcome::Failed {
                retry_at: Some(_), ..
            } => "retried",
            Outcome::Failed { retry_at: None, .. } => "failed",
        });
        if paused_target {
            self.pauses.inc();
        }
    }
}

/// How a token refresh ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    Refreshed,
    /// Retried later; the account is not flagged.
    TransientFailure,
    /// The platform refused for good: the account must be reconnected.
    ReauthRequired,
}

impl RefreshOutcome {
    const ALL: [Self; 3] = [
        Self::Refreshed,
        Self::TransientFailure,
        Self::ReauthRequired,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::Refreshed => "refreshed",
            Self::TransientFailure => "transient_failure",
            Self::ReauthRequired => "reauth_required",
        }
    }
}

/// What the token refresh engine records.
#[derive(Clone, Debug)]
pub struct RefreshMetrics {
    outcomes: Outcomes,
}

impl RefreshMetrics {
    fn register(registry: &mut Registry) -> Self {
        let this = Self {
            outcomes: Outcomes::new(&RefreshOutcome::ALL.map(RefreshOutcome::label)),
        };
        registry.register(
            "refreshes",
            "Token refreshes by outcome: refreshed, transient_failure or reauth_required",
            this.outcomes.0.clone(),
        );
        this
    }

    pub fn record(&self, outcome: RefreshOutcome) {
        self.outcomes.inc(outcome.label());
    }
}

/// How one publishing attempt on one platform ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublishOutcome {
    Published,
    /// A retryable failure: tried again later.
    Retried,
    /// The call's outcome is unknown: the next attempt looks the post up first.
    InDoubt,
    /// Failed for good.
    Failed,
    /// Never attempted: the profile has no account there.
    Skipped,
}

impl PublishOutcome {
    const ALL: [Self; 5] = [
        Self::Published,
        Self::Retried,
        Self::InDoubt,
        Self::Failed,
        Self::Skipped,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::Published => "published",
            Self::Retried => "retried",
            Self::InDoubt => "in_doubt",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PublishLabels {
    platform: &'static str,
    outcome: &'static str,
}

/// What the publishing engine records.
#[derive(Clone, Debug, Default)]
pub struct PublishMetrics {
    attempts: Family<PublishLabels, Counter>,
    /// Set when scraped.
    backlog: Gauge,
}

impl PublishMetrics {
    fn register(registry: &mut Registry) -> Self {
        let this = Self::default();
        for platform in Platform::ALL {
            for outcome in PublishOutcome::ALL {
                drop(this.attempts.get_or_create(&PublishLabels {
                    platform: platform.key(),
                    outcome: outcome.label(),
                }));
            }
        }
        registry.register(
            "attempts",
            "Publishing attempts by platform and outcome: published, retried, in_doubt \
             (looked up before the next try), failed or skipped",
            this.attempts.clone(),
        );
        registry.register(
            "pending_targets",
            "Platforms of due uploads not published or failed yet, across all processes",
            this.backlog.clone(),
        );
        this
    }

    pub fn record(&self, platform: Platform, outcome: PublishOutcome) {
        self.attempts
            .get_or_create(&PublishLabels {
                platform: platform.key(),
                outcome: outcome.label(),
            })
            .inc();
    }
}

/// Values counted in the database at scrape time; `None` when the count failed (the last
/// value stays).
#[derive(Clone, Copy, Debug, Default)]
pub struct Backlogs {
    pub webhooks: Option<i64>,
    pub publishing: Option<i64>,
}

/// Media storage, as the media library last counted it.
#[derive(Clone, Debug, Default)]
pub struct MediaMetrics {
    stored: Gauge,
    budget: Gauge,
}

impl MediaMetrics {
    fn register(registry: &mut Registry) -> Self {
        let this = Self::default();
        registry.register(
            "stored_bytes",
            "Bytes of media stored or reserved by staged uploads, across all processes",
            this.stored.clone(),
        );
        registry.register(
            "budget_bytes",
            "The most media bytes kept at once (media_max_stored_mb)",
            this.budget.clone(),
        );
        this
    }

    pub fn usage(&self, stored: u64, budget: u64) {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        self.stored.set(n(stored));
        self.budget.set(n(budget));
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TaskLabel {
    task: &'static str,
}

/// What the supervisor of the background tasks records.
#[derive(Clone, Debug, Default)]
pub struct TaskMetrics {
    restarts: Family<TaskLabel, Counter>,
}

impl TaskMetrics {
    fn register(registry: &mut Registry) -> Self {
        let this = Self::default();
        registry.register(
            "restarts",
            "Times a background task panicked or ended before the stop and was started again",
            this.restarts.clone(),
        );
        this
    }

    /// Shows the task's count (zero) before its first restart.
    pub fn watch(&self, task: &'static str) {
        drop(self.restarts.get_or_create(&TaskLabel { task }));
    }

    pub fn restarted(&self, task: &'static str) {
        self.restarts.get_or_create(&TaskLabel { task }).inc();
    }
}

/// The database pool, as last scraped.
#[derive(Clone, Debug, Default)]
struct PoolGauges {
    in_use: Gauge,
    idle: Gauge,
    max: Gauge,
    waiting: Gauge,
}

impl PoolGauges {
    fn register(registry: &mut Registry) -> Self {
        let this = Self::default();
        for (name, help, gauge) in [
            ("connections_in_use", "Connections lent out", &this.in_use),
            (
                "connections_idle",
                "Open connections not in use",
                &this.idle,
            ),
            (
                "connections_max",
                "The pool's size (database_pool_size)",
                &this.max,
            ),
            (
                "waiting",
                "Tasks waiting for a free connection",
                &this.waiting,
            ),
        ] {
            registry.register(name, help, gauge.clone());
        }
        this
    }

    fn set(&self, pool: PoolState) {
        let n = |v: u32| i64::from(v);
        self.in_use
            .set(n(pool.connections.saturating_sub(pool.idle)));
        self.idle.set(n(pool.idle));
        self.max.set(n(pool.max));
        self.waiting.set(pool.waiting as i64);
    }
}

/// The registry and every instrument. Cheap to clone: clones share the values.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub http: HttpMetrics,
    pub webhooks: WebhookMetrics,
    pub refresh: RefreshMetrics,
    pub media: MediaMetrics,
    pub publishing: PublishMetrics,
    pub tasks: TaskMetrics,
    pool: PoolGauges,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("postgate");
        let http = HttpMetrics::register(registry.sub_registry_with_prefix("http"));
        let pool = PoolGauges::register(registry.sub_registry_with_prefix("db_pool"));
        let webhooks = WebhookMetrics::register(registry.sub_registry_with_prefix("webhook"));
        let refresh = RefreshMetrics::register(registry.sub_registry_with_prefix("oauth"));
        let media = MediaMetrics::register(registry.sub_registry_with_prefix("media"));
        let publishing = PublishMetrics::register(registry.sub_registry_with_prefix("publish"));
        let tasks = TaskMetrics::register(registry.sub_registry_with_prefix("background_task"));
        Self {
            registry: Arc::new(registry),
            http,
            webhooks,
            refresh,
            media,
            publishing,
            tasks,
            pool,
        }
    }

    /// Everything in the Prometheus text format, with the values read at scrape time:
    /// the pool's state, and the backlogs that could be counted.
    pub fn render(&self, pool: PoolState, backlogs: Backlogs) -> String {
        self.pool.set(pool);
        if let Some(n) = backlogs.webhooks {
            self.webhooks.backlog.set(n);
        }
        if let Some(n) = backlogs.publishing {
            self.publishing.backlog.set(n);
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    fn pool() -> PoolState {
        PoolState {
            max: 8,
            connections: 3,
            idle: 1,
            waiting: 2,
        }
    }

    #[test]
    fn outcomes_and_pool_render_in_the_text_format() {
        let m = Metrics::new();
        let failed = |retry_at: Option<NaiveDateTime>| Outcome::Failed {
            status: Some(500),
            error: "no".into(),
            retry_at,
        };
        m.webhooks
            .attempt(&Outcome::Delivered { status: 200 }, false);
        m.webhooks
            .attempt(&failed(Some(NaiveDateTime::default())), true);
        m.webhooks.attempt(&failed(None), false);
        m.refresh.record(RefreshOutcome::ReauthRequired);
        m.publishing
            .record(Platform::Bluesky, PublishOutcome::InDoubt);
        m.tasks.watch("sweeper");
        m.tasks.restarted("refresh");
        let text = m.render(
            pool(),
            Backlogs {
                webhooks: Some(7),
                publishing: Some(3),
            },
        );
        for line in [
            "postgate_webhook_attempts_total{outcome=\"delivered\"} 1",
            "postgate_webhook_attempts_total{outcome=\"retried\"} 1",
            "postgate_webhook_attempts_total{outcome=\"failed\"} 1",
            "postgate_webhook_target_pauses_total 1",
            "postgate_webhook_pending_deliveries 7",
            "postgate_publish_pending_targets 3",
            "postgate_publish_attempts_total{platform=\"bluesky\",outcome=\"in_doubt\"} 1",
            "postgate_publish_attempts_total{platform=\"x\",outcome=\"published\"} 0",
            "postgate_oauth_refreshes_total{outcome=\"reauth_required\"} 1",
            "postgate_oauth_refreshes_total{outcome=\"refreshed\"} 0",
            "postgate_db_pool_connections_in_use 2",
            "postgate_db_pool_connections_idle 1",
            "postgate_db_pool_connections_max 8",
            "postgate_db_pool_waiting 2",
            "postgate_background_task_restarts_total{task=\"refresh\"} 1",
            "postgate_background_task_restarts_total{task=\"sweeper\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
        }
        // A backlog that could not be counted keeps its last value.
        assert!(
            m.render(pool(), Backlogs::default())
                .contains("postgate_webhook_pending_deliveries 7")
        );
    }

    #[test]
    fn each_metrics_value_is_separate() {
        let a = Metrics::new();
        let b = Metrics::new();
        a.refresh.record(RefreshOutcome::Refreshed);
        let text = b.render(pool(), Backlogs::default());
        assert!(text.contains("postgate_oauth_refreshes_total{outcome=\"refreshed\"} 0"));
    }
}
