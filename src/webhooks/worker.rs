//! The delivery worker: claims due deliveries, sends them, records the outcome, and sleeps
//! when there is nothing to do until woken by a new event or the next poll. Every process
//! runs one; the claim's lease and row locks keep them from sending anything twice. It also
//! applies the retry policy: a delivery is given up once its retry window (from its
//! `retry_from`, for `retry_for`) is over.

use super::secrets;
use super::sender::{Attempt, Sender};
use crate::config::WebhookSettings;
use crate::db::Db;
use crate::db::outbox::{self, Claimed};
use crate::domain::time;
use crate::domain::token_cipher::TokenCipher;
use crate::metrics::WebhookMetrics;
use crate::supervisor;
use chrono::{Duration, NaiveDateTime};
use rand::RngExt;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How often the delivery log is pruned (also once at start).
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);
/// The longest wait between two attempts.
const MAX_BACKOFF_SECONDS: f64 = 3600.0;

/// When to try again after `attempts` failed attempts: the base delay doubled per attempt
/// (capped at an hour), ±20% jitter so failing receivers are not hit in lockstep; `None`
/// once that is past the retry window.
pub fn next_attempt(
    base: std::time::Duration,
    attempts: i32,
    now: NaiveDateTime,
    retry_until: NaiveDateTime,
) -> Option<NaiveDateTime> {
    let doubled = base.as_secs_f64() * 2f64.powi((attempts - 1).clamp(0, 30));
    let jitter = rand::rng().random_range(0.8..1.2);
    let delay = doubled.min(MAX_BACKOFF_SECONDS) * jitter;
    let at = now + Duration::microseconds((delay * 1e6) as i64);
    (at <= retry_until).then_some(at)
}

pub struct Worker {
    db: Db,
    sender: Sender,
    /// Opens the accounts' signing secrets.
    cipher: Arc<TokenCipher>,
    settings: WebhookSettings,
    metrics: WebhookMetrics,
}

impl Worker {
    pub fn new(
        db: Db,
        cipher: Arc<TokenCipher>,
        settings: WebhookSettings,
        metrics: WebhookMetrics,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            sender: Sender::new(settings.timeout, settings.allow_private_targets)?,
            db,
            cipher,
            settings,
            metrics,
        })
    }

    /// Delivers until `stop` turns true, then finishes the attempts in flight. Up to
    /// `concurrency` attempts run at once and free slots are refilled while others still
    /// run, so one slow receiver holds one slot, never the others.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        // A lease outlives any attempt, so a claim is never taken over while still running.
        let lease = Duration::from_std(self.settings.timeout).unwrap_or(Duration::seconds(60))
            + Duration::seconds(5);
        let slots = self.settings.concurrency as usize;
        let mut in_flight: JoinSet<()> = JoinSet::new();
        // Claim when half the slots are free (or all): each claim is a query, and a busy
        // worker should pay for it once per several deliveries, not once per delivery.
        let refill_at = (slots / 2).max(1);
        let mut next_prune = tokio::time::Instant::now();
        while !*stop.borrow() {
            if tokio::time::Instant::now() >= next_prune {
                self.prune().await;
                next_prune = tokio::time::Instant::now() + PRUNE_EVERY;
            }
            let free = slots.saturating_sub(in_flight.len());
            if free >= refill_at || in_flight.is_empty() {
                let now = time::now();
                let claimed = self
                    .db
                    .run(move |conn| {
                        outbox::claim(conn, now, lease, free as i64).map_err(anyhow::Error::from)
                    })
                    .await;
                match claimed {
                    Ok(batch) => {
                        for c in batch {
                            let worker = self.clone();
                            in_flight.spawn(async move { worker.deliver(c).await });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "webhook worker cannot claim deliveries"),
                }
            }
            // Wait for a slot to free up (an attempt's end may also release the next event
            // of its profile), new work in this process, the next poll, or the stop.
            tokio::select! {
                Some(ended) = in_flight.join_next(), if !in_flight.is_empty() => {
                    supervisor::item_ended("webhooks", ended);
                }
                () = self.db.deliveries_queued() => {}
                () = tokio::time::sleep(self.settings.poll) => {}
                _ = stop.changed() => {}
            }
            while let Some(ended) = in_flight.try_join_next() {
                supervisor::item_ended("webhooks", ended);
            }
        }
        while let Some(ended) = in_flight.join_next().await {
            supervisor::item_ended("webhooks", ended);
        }
    }

    /// Drops log entries past their retention; any process may do it, repeats are harmless.
    async fn prune(&self) {
        let before = time::now() - self.settings.keep_log;
        let pruned = self
            .db
            .run(move |conn| outbox::prune(conn, before).map_err(anyhow::Error::from))
            .await;
        match pruned {
            Ok(0) => {}
            Ok(n) => tracing::info!(deliveries = n, "pruned the webhook delivery log"),
            Err(e) => tracing::warn!(error = %e, "cannot prune the webhook delivery log"),
        }
    }

    /// The account's signing secret: a delivery is never sent unsigned.
    fn secret(&self, claimed: &Claimed) -> Result<String, Attempt> {
        let d = &claimed.delivery;
        let sealed = claimed
            .sealed_webhook_secret
            .as_deref()
            .ok_or_else(|| Attempt::not_sent("not sent: the account has no signing secret"))?;
        secrets::open(&self.cipher, &d.account_id, sealed).map_err(|e| {
            tracing::warn!(delivery = %d.id, error = %e, "cannot open a webhook signing secret");
            Attempt::not_sent("not sent: the signing secret cannot be read")
        })
    }

    async fn deliver(&self, claimed: Claimed) {
        let attempt = match self.secret(&claimed) {
            Ok(secret) => {
                self.sender
                    .attempt(&claimed.delivery, &secret, time::now())
                    .await
            }
            Err(not_sent) => not_sent,
        };
        let d = claimed.delivery;
        let now = time::now();
        let retry_until = d.retry_from + self.settings.retry_for;
        let outcome = attempt
            .outcome(|| next_attempt(self.settings.retry_base, d.attempts + 1, now, retry_until));
        match &outcome {
            outbox::Outcome::Delivered { status } => {
                tracing::info!(delivery = %d.id, event = %d.event, status, "webhook delivered");
            }
            outbox::Outcome::Failed {
                status,
                error,
                retry_at,
            } => tracing::warn!(
                delivery = %d.id, event = %d.event, ?status, %error, ?retry_at,
                "webhook attempt failed"
            ),
        }
        let pause = self.settings.pause;
        let metrics = self.metrics.clone();
        let recorded = self
            .db
            .run(move |conn| {
                let paused = outbox::record(conn, &d, &outcome, now, pause)?;
                metrics.attempt(&outcome, paused);
                Ok::<_, anyhow::Error>(())
            })
            .await;
        if let Err(e) = recorded {
            // The lease runs out and the delivery is sent again: at least once, never lost.
            tracing::warn!(error = %e, "cannot record a webhook attempt");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_stops_at_the_window() {
        let now = time::now();
        let base = std::time::Duration::from_secs(10);
        let far = now + Duration::days(1);
        for (attempts, expected) in [(1, 10.0), (2, 20.0), (3, 40.0), (20, 3600.0)] {
            let at = next_attempt(base, attempts, now, far).unwrap();
            let secs = (at - now).num_milliseconds() as f64 / 1000.0;
            assert!(
                (expected * 0.8..=expected * 1.2).contains(&secs),
                "attempt {attempts}: {secs}"
            );
        }
        assert_eq!(next_attempt(base, 1, now, now + Duration::seconds(5)), None);
    }
}
