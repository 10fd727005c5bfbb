//! The job engine: accepts uploads into the database, and takes each platform of each upload
//! to its publisher exactly once.
//!
//! Every attempt runs under a lease on its target (`db::uploads`). An upload that is due now
//! is stored already leased by the process that accepted it, which starts on it at once (and
//! a synchronous request waits for it); anything else — scheduled uploads, retries, and the
//! work of a process that died — is found by the worker loop. Before a call that makes a
//! post, the target records that the call started; a target found with that mark had a call
//! whose outcome is unknown, and is reconciled with the platform (`Publisher::find`) before
//! anything is sent again, or fails as `outcome_unknown` where the platform cannot be asked.

use super::publisher::{Attachment, Call, MediaSource, Post, Progress, PublishError, Published};
use super::publishers;
use super::results;
use crate::config::PublishingSettings;
use crate::db::connections::{self, Connection};
use crate::db::outbox::Queued;
use crate::db::profiles::{self, Profile};
use crate::db::uploads::{self, Finish, Job, Processing, Target};
use crate::db::{Db, DbConn, accounts, is_unique_violation, queue, usage};
use crate::domain::upload::{Fields, JobState, PostKind, TargetState};
use crate::domain::usage::{CapViolation, Period};
use crate::domain::{Limit, Platform, time};
use crate::error::ApiError;
use crate::metrics::{PublishMetrics, PublishOutcome};
use crate::oauth::{OAuth, refresh};
use crate::supervisor::{self, Detached};
use chrono::{Duration, NaiveDateTime};
use futures_util::future::join_all;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

/// What a job publishes, as stored in its `payload` column.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Payload {
    pub fields: Fields,
    pub media: Vec<super::publisher::Media>,
    /// Files of the request's other media fields (covers, thumbnails).
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// The zone a scheduled date was read in, and the date as sent, for the schedule list.
    pub timezone: Option<String>,
    pub original_scheduled: Option<String>,
}

impl Payload {
    /// Every stored item the upload holds: its media and its attachments.
    pub fn media_ids(&self) -> Vec<String> {
        self.media
            .iter()
            .chain(self.attachments.iter().map(|a| &a.media))
            .map(|m| m.id.clone())
            .collect()
    }
}

/// When an accepted upload goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Now,
    /// At a scheduled date.
    At(NaiveDateTime),
    /// In the profile's next free queue slot, with at most this many posts per slot when
    /// given (else the queue's setting).
    Queue {
        max_per_slot: Option<u32>,
    },
}

/// An upload request, validated and with its media stored.
#[derive(Debug, Clone)]
pub struct Submission {
    pub account_id: String,
    pub profile: Profile,
    pub kind: PostKind,
    pub platforms: Vec<Platform>,
    pub payload: Payload,
    /// The client's `request_id`, when it chose one.
    pub request_id: Option<String>,
    /// `Idempotency-Key` (or its aliases): a repeat within a day gets the first job.
    pub idempotency_key: Option<String>,
    pub external_id: Option<String>,
    pub is_async: bool,
    pub when: When,
    /// The account's monthly post allowance: one credit per platform.
    pub allowance: Limit,
}

/// What accepting an upload came to.
#[derive(Debug, Clone)]
pub enum Accepted {
    /// A new job; `lease` is set when this process holds its targets and must run them.
    New {
        job: Job,
        targets: Vec<Target>,
        lease: Option<NaiveDateTime>,
    },
    /// The key was used within the last day: the job it made.
    Repeat(Job),
}

/// Idempotency keys are remembered this long.
const KEY_LIFETIME_HOURS: i64 = 24;
/// Tokens that lapse within this are renewed before publishing.
const TOKEN_MARGIN: std::time::Duration = std::time::Duration::from_secs(120);

pub struct Engine {
    db: Db,
    oauth: Arc<OAuth>,
    media: Arc<dyn MediaSource>,
    settings: PublishingSettings,
    metrics: PublishMetrics,
    /// Wakes this process's worker: new due work, or a retry planned.
    wake: Notify,
    /// Wakes requests waiting for an upload to settle: an outcome was recorded here.
    progress: Notify,
    /// Where publishing runs that requests started (`start`) run: a stop waits for them as
    /// for the worker's own items.
    detached: Detached,
}

impl Engine {
    pub fn new(
        db: Db,
        oauth: Arc<OAuth>,
        media: Arc<dyn MediaSource>,
        settings: PublishingSettings,
        metrics: PublishMetrics,
        detached: Detached,
    ) -> Self {
        Self {
            db,
            oauth,
            media,
            settings,
            metrics,
            wake: Notify::new(),
            progress: Notify::new(),
            detached,
        }
    }

    pub fn settings(&self) -> &PublishingSettings {
        &self.settings
    }

    /// Queues a job's failed platforms again; `None` when the account has no such job.
    pub async fn retry(
        &self,
        account_id: &str,
        job_id: Option<String>,
        request_id: Option<String>,
    ) -> Result<Option<(Job, usize)>, ApiError> {
        let account_id = account_id.to_owned();
        let retried = self
            .db
            .run(move |conn| {
                let by = match (&job_id, &request_id) {
                    (Some(j), _) => uploads::JobRef::Job(j),
                    (None, Some(r)) => uploads::JobRef::Request(r),
                    (None, None) => return Ok(None),
                };
                uploads::retry_failed(conn, &account_id, by, time::now()).map_err(ApiError::from)
            })
            .await?;
        if retried.as_ref().is_some_and(|(_, n)| *n > 0) {
            self.wake.notify_one();
        }
        Ok(retried)
    }

    /// Deletes a post that `connection`'s account made on its platform.
    pub async fn unpublish(
        &self,
        connection: &Connection,
        platform: Platform,
        post_id: &str,
    ) -> Result<(), PublishError> {
        let publisher = publishers::for_platform(platform);
        let app = self.oauth.platforms.get(platform).ok_or_else(|| {
            PublishError::unsupported(
                "platform_not_configured",
                format!(
                    "{} is not configured on this server",
                    platform.display_name()
                ),
            )
        })?;
        let tokens = refresh::usable_tokens(&self.oauth, &connection.id, platform, TOKEN_MARGIN)
            .await
            .map_err(|e| PublishError::Reauth {
                reason: "token_unusable".to_owned(),
                message: e.to_string(),
            })?;
        let call = Call {
            app,
            connection,
            tokens: &tokens,
            media: self.media.as_ref(),
            marker: post_id,
            since: time::now(),
            resume: None,
        };
        publisher.unpublish(&call, post_id).await
    }

    fn lease_until(&self, now: NaiveDateTime) -> NaiveDateTime {
        now + Duration::from_std(self.settings.lease).unwrap_or(Duration::minutes(10))
    }

    /// Stores the upload (or finds the job its key already made). An upload due now comes
    /// back leased to this process: call `start` with it.
    pub async fn accept(&self, submission: Submission) -> Result<Accepted, ApiError> {
        let submission = Arc::new(submission);
        // A concurrent repeat of the same key loses the insert race: it then finds the job
        // the winner made.
        for _ in 0..3 {
            let s = submission.clone();
            let now = time::now();
            let lease = self.lease_until(now);
            let attempt = self
                .db
                .run_queueing(move |conn| insert(conn, &s, now, lease))
                .await;
            match attempt {
                Err(InsertError::Taken) => continue,
                Err(InsertError::Api(e)) => return Err(e),
                Ok(accepted) => {
                    if let Accepted::New { targets, .. } = &accepted {
                        self.count_skipped(targets);
                    }
                    return Ok(accepted);
                }
            }
        }
        Err(ApiError::Internal(anyhow::anyhow!(
            "an idempotency key kept colliding without a job to show for it"
        )))
    }

    /// Platforms skipped when the upload was accepted never reach `finish`: counted here.
    fn count_skipped(&self, targets: &[Target]) {
        for t in targets.iter().filter(|t| t.state() == TargetState::Skipped) {
            if let Some(platform) = Platform::parse(&t.platform) {
                self.metrics.record(platform, PublishOutcome::Skipped);
            }
        }
    }

    /// Publishes a job's targets that this process holds, all platforms at once. Runs to the
    /// end even when the request that started it is gone.
    pub fn start(
        self: &Arc<Self>,
        job: Job,
        targets: Vec<Target>,
        lease: NaiveDateTime,
    ) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        let run = async move {
            let runs = targets
                .into_iter()
                .filter(|t| t.state() == TargetState::Processing)
                .map(|t| engine.run_target(&job, t, lease));
            join_all(runs).await;
        };
        self.detached.spawn(run)
    }

    /// Waits while a platform of `job` is processing it, until `until`: its targets as they
    /// are then, and whether none is processing any more. A platform that failed for now
    /// (`retryable`) is not waited for: its retry comes later than a request should wait.
    /// Outcomes recorded by this process wake it; those of others are seen at the worker's
    /// polling pace.
    pub async fn settle(
        &self,
        job: &Job,
        until: tokio::time::Instant,
    ) -> Result<(Vec<Target>, bool), ApiError> {
        loop {
            // Made before the read, so that an outcome recorded after it still wakes us.
            let recorded = self.progress.notified();
            let id = job.id.clone();
            let targets = self
                .db
                .run(move |conn| uploads::targets_of(conn, &[&id]).map_err(ApiError::from))
                .await?;
            let settled = targets.iter().all(|t| t.state() != TargetState::Processing);
            if settled || tokio::time::Instant::now() >= until {
                return Ok((targets, settled));
            }
            let pause = tokio::time::Instant::now() + self.settings.poll;
            tokio::select! {
                () = recorded => {}
                () = tokio::time::sleep_until(pause.min(until)) => {}
            }
        }
    }

    /// Claims and publishes due targets until `stop` turns true, then finishes what is in
    /// flight.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let slots = self.settings.concurrency.max(1) as usize;
        let mut in_flight: JoinSet<()> = JoinSet::new();
        while !*stop.borrow() {
            let free = slots.saturating_sub(in_flight.len());
            if free > 0 {
                let now = time::now();
                let lease = self.lease_until(now);
                let claimed = self
                    .db
                    .run(move |conn| {
                        uploads::claim(conn, now, lease, free as i64).map_err(ApiError::from)
                    })
                    .await;
                match claimed {
                    Ok(batch) => {
                        for (job, target) in batch {
                            let engine = self.clone();
                            in_flight.spawn(async move {
                                engine.run_target(&job, target, lease).await;
                            });
                        }
                    }
                    Err(e) => e.log_if_ours(),
                }
            }
            tokio::select! {
                Some(ended) = in_flight.join_next(), if !in_flight.is_empty() => {
                    supervisor::item_ended("publishing", ended);
                }
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.settings.poll) => {}
                _ = stop.changed() => {}
            }
            while let Some(ended) = in_flight.try_join_next() {
                supervisor::item_ended("publishing", ended);
            }
        }
        while let Some(ended) = in_flight.join_next().await {
            supervisor::item_ended("publishing", ended);
        }
    }

    /// One attempt on one target, start to recorded outcome.
    async fn run_target(&self, job: &Job, target: Target, lease: NaiveDateTime) {
        let outcome = self.attempt(job, &target, lease).await;
        let Some(outcome) = outcome else {
            return;
        };
        if let Err(e) = self.finish(job, &target, lease, outcome).await {
            // The lease runs out and the target is taken again; `call_started_at` makes that
            // attempt reconcile instead of posting twice.
            tracing::warn!(job = %job.id, platform = %target.platform, error = %e, "cannot record a publish outcome");
        }
    }

    /// Decides an attempt's outcome; `None` when the lease was lost before the call.
    async fn attempt(&self, job: &Job, target: &Target, lease: NaiveDateTime) -> Option<Finish> {
        let Some(platform) = Platform::parse(&target.platform) else {
            return Some(final_failure(
                "platform_not_supported",
                "Unknown platform",
                "client",
            ));
        };
        let prepared = match self.prepare(job, target, platform).await {
            Ok(p) => p,
            Err(finish) => return Some(finish),
        };
        let Prepared {
            connection,
            post,
            publisher,
            processing,
        } = prepared;
        let Some(app) = self.oauth.platforms.get(platform) else {
            return Some(final_failure(
                "platform_not_configured",
                &format!(
                    "{} is not configured on this server",
                    platform.display_name()
                ),
                "platform",
            ));
        };
        let tokens =
            match refresh::usable_tokens(&self.oauth, &connection.id, platform, TOKEN_MARGIN).await
            {
                Ok(t) => t,
                Err(ApiError::PlatformRefused(..) | ApiError::NotConnected(_)) => {
                    return Some(final_failure(
                        "account_reauth_required",
                        &format!(
                            "The {} account must be connected again",
                            platform.display_name()
                        ),
                        "platform",
                    ));
                }
                Err(e) => {
                    return Some(self.retry_or_fail(
                        target,
                        PublishError::refused("platform_unavailable", e.to_string(), true),
                        false,
                    ));
                }
            };
        let marker = format!("{}:{}", job.id, target.platform);
        let resume: Option<serde_json::Value> = processing
            .as_ref()
            .and_then(|p| serde_json::from_str(&p.state).ok());
        let call = Call {
            app,
            connection: &connection,
            tokens: &tokens,
            media: self.media.as_ref(),
            marker: &marker,
            // The same for every attempt (Bluesky's record key derives from it), and never
            // after the first call.
            since: job.scheduled_for.unwrap_or(job.created_at),
            resume: resume.as_ref(),
        };
        if target.call_started_at.is_some() {
            match publisher.find(&call, &post).await {
                Ok(Some(found)) => return Some(published(found)),
                Ok(None) => {}
                Err(PublishError::Unsupported { .. }) => {
                    return Some(final_failure(
                        "outcome_unknown",
                        "An earlier attempt was interrupted and the platform cannot tell whether \
                         it published the post; it was not sent again",
                        "platform",
                    ));
                }
                Err(e) => return Some(self.retry_or_fail(target, e, true)),
            }
        }
        if let Some(since) = processing.as_ref().map(|p| p.since)
            && time::now() - since > self.settings.processing_timeout
        {
            return Some(final_failure(
                "processing_timeout",
                &format!(
                    "{} did not finish processing the upload within {} minutes",
                    platform.display_name(),
                    self.settings.processing_timeout.num_minutes()
                ),
                "platform",
            ));
        }
        let (job_id, name, conn_id, now) = (
            job.id.clone(),
            target.platform.clone(),
            connection.id.clone(),
            time::now(),
        );
        let started = self
            .db
            .run(move |conn| {
                uploads::start_call(conn, &job_id, &name, lease, &conn_id, now)
                    .map_err(ApiError::from)
            })
            .await;
        match started {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => {
                e.log_if_ours();
                return None;
            }
        }
        match publisher.publish(&call, &post).await {
            Ok(Progress::Done(mut done)) => {
                done.warnings.extend(publishers::ignored_options(
                    publisher.platform(),
                    &post.fields,
                ));
                Some(published(done))
            }
            Ok(Progress::Pending { state, after }) => Some(Finish::Wait {
                at: time::now() + self.next_look(processing.as_ref(), after),
                state,
            }),
            Err(PublishError::Reauth { reason, message }) => {
                let id = connection.id.clone();
                let flagged = self
                    .db
                    .run_queueing(move |conn| {
                        connections::require_reauth(conn, &id, &reason).map_err(ApiError::from)
                    })
                    .await;
                if let Err(e) = flagged {
                    e.log_if_ours();
                }
                Some(final_failure(
                    "account_reauth_required",
                    &message,
                    "platform",
                ))
            }
            Err(e @ PublishError::InDoubt(_)) => Some(self.retry_or_fail(target, e, true)),
            Err(e) => Some(self.retry_or_fail(target, e, false)),
        }
    }

    /// The account, the post and the publisher, or the final outcome when one is missing.
    async fn prepare(
        &self,
        job: &Job,
        target: &Target,
        platform: Platform,
    ) -> Result<Prepared, Finish> {
        let payload: Payload = serde_json::from_str(&job.payload).map_err(|e| {
            tracing::error!(job = %job.id, error = %e, "unreadable job payload");
            final_failure("internal_error", "The upload could not be read", "platform")
        })?;
        let kind = PostKind::parse(&job.kind).unwrap_or(PostKind::Text);
        let profile_id = job.profile_id.clone();
        let job_id = job.id.clone();
        let name = target.platform.clone();
        // A scheduled post passed no daily cap when it was accepted: it is checked now, before
        // its first call (a call in doubt is reconciled, never refused).
        let check_cap = job.scheduled_for.is_some() && target.call_started_at.is_none();
        let found = self
            .db
            .run(move |conn| {
                let all = connections::for_profiles(conn, &[&profile_id])?;
                let profile = profiles::find_by_id(conn, &profile_id)?;
                let connection = all.into_iter().find(|c| c.platform == name);
                let processing = uploads::processing_of(conn, &job_id, &name)?;
                let used = match &connection {
                    // This target is `processing`, so the window counts it: the others are
                    // one fewer.
                    Some(c) if check_cap => {
                        Some(usage::used_last_24h(conn, &c.id, time::now())? - 1)
                    }
                    _ => None,
                };
                Ok::<_, ApiError>((connection, profile, used, processing))
            })
            .await;
        let (connection, profile, used, processing) = match found {
            Ok(found) => found,
            Err(e) => {
                return Err(self.retry_or_fail(
                    target,
                    PublishError::refused("storage_unavailable", e.to_string(), true),
                    target.call_started_at.is_some(),
                ));
            }
        };
        let Some(connection) = connection else {
            let username = profile.map(|p| p.username).unwrap_or_default();
            return Err(Finish::Failed {
                state: TargetState::Skipped,
                result: results::skipped(&username, platform),
                code: "profile_platform_mapping_invalid".into(),
                message: "The profile has no account on this platform".into(),
            });
        };
        if connection.reauth_required {
            return Err(final_failure(
                "account_reauth_required",
                &format!(
                    "The {} account must be connected again",
                    platform.display_name()
                ),
                "platform",
            ));
        }
        if let Some(v) = used.and_then(|used| CapViolation::check(platform, used)) {
            return Err(final_failure("daily_cap_reached", &v.message(), "client"));
        }
        let publisher = publishers::for_platform(platform);
        let post = Post {
            kind,
            media: payload.media,
            attachments: payload.attachments,
            fields: payload.fields,
        };
        if let Err(e) = publisher.check(&post) {
            return Err(Finish::Failed {
                state: TargetState::Failed,
                result: results::precheck(e.code(), &e.to_string(), e.source()),
                code: e.code().to_owned(),
                message: e.to_string(),
            });
        }
        Ok(Prepared {
            connection,
            post,
            publisher,
            processing,
        })
    }

    /// When to look again at a post the platform is processing: what the publisher asked,
    /// or a quarter of the time it has taken so far when that is longer (a slow platform is
    /// asked less often), never more than `processing_poll_max` apart.
    fn next_look(&self, processing: Option<&Processing>, asked: std::time::Duration) -> Duration {
        let taken = processing
            .map(|p| (time::now() - p.since).to_std().unwrap_or_default())
            .unwrap_or_default();
        let pause = asked.max(taken / 4).min(self.settings.processing_poll_max);
        Duration::from_std(pause).unwrap_or(Duration::seconds(1))
    }

    /// A failure that may pass later: retried with backoff while attempts remain. A call in
    /// doubt that runs out of attempts ends `outcome_unknown`.
    fn retry_or_fail(&self, target: &Target, e: PublishError, in_doubt: bool) -> Finish {
        let retryable = e.retryable() || matches!(e, PublishError::InDoubt(_));
        if retryable && target.attempts < self.settings.max_attempts {
            let base = self.settings.retry_base.as_secs_f64();
            let delay = base * 2f64.powi((target.attempts - 1).clamp(0, 16));
            let at = time::now() + Duration::milliseconds((delay.min(3600.0) * 1000.0) as i64);
            return Finish::Retry {
                at,
                in_doubt,
                result: results::failed(&e, true),
                code: e.code().to_owned(),
                message: e.to_string(),
            };
        }
        Finish::Failed {
            state: TargetState::Failed,
            result: results::failed(&e, false),
            code: e.code().to_owned(),
            message: e.to_string(),
        }
    }

    async fn finish(
        &self,
        job: &Job,
        target: &Target,
        lease: NaiveDateTime,
        outcome: Finish,
    ) -> Result<(), ApiError> {
        let later = matches!(outcome, Finish::Retry { .. } | Finish::Wait { .. });
        let counted = match &outcome {
            Finish::Published { .. } => Some(PublishOutcome::Published),
            Finish::Retry { in_doubt: true, .. } => Some(PublishOutcome::InDoubt),
            Finish::Retry { .. } => Some(PublishOutcome::Retried),
            Finish::Failed {
                state: TargetState::Skipped,
                ..
            } => Some(PublishOutcome::Skipped),
            Finish::Failed { .. } => Some(PublishOutcome::Failed),
            // Not an attempt's outcome: the attempt goes on later.
            Finish::Wait { .. } => None,
        };
        let retention = self.settings.media_retention;
        let job = job.clone();
        let platform = target.platform.clone();
        let recorded = self
            .db
            .run_queueing(move |conn| {
                let email = accounts::find(conn, &job.account_id)?.and_then(|a| a.email);
                let now = time::now();
                uploads::finish(
                    conn,
                    &job,
                    &platform,
                    lease,
                    &outcome,
                    uploads::Recorded {
                        now,
                        keep_media_until: now + retention,
                    },
                    |profile, result| {
                        results::completed_event(
                            &job,
                            email.as_deref(),
                            &profile.username,
                            &platform,
                            result,
                            now,
                        )
                    },
                )
                .map_err(ApiError::from)
            })
            .await?;
        if recorded {
            if let (Some(platform), Some(counted)) = (Platform::parse(&target.platform), counted) {
                self.metrics.record(platform, counted);
            }
            if later {
                self.wake.notify_one();
            }
            self.progress.notify_waiters();
        }
        Ok(())
    }
}

struct Prepared {
    connection: Connection,
    post: Post,
    publisher: &'static dyn super::publisher::Publisher,
    /// Where the platform's processing of the post stands, when it is processing it.
    processing: Option<Processing>,
}

fn published(p: Published) -> Finish {
    Finish::Published {
        result: results::published(&p),
        post_id: p.post_id,
        url: p.url,
    }
}

fn final_failure(code: &str, message: &str, source: &str) -> Finish {
    Finish::Failed {
        state: TargetState::Failed,
        result: results::precheck(code, message, source),
        code: code.to_owned(),
        message: message.to_owned(),
    }
}

enum InsertError {
    /// The idempotency key or request id was taken by a concurrent insert.
    Taken,
    Api(ApiError),
}

impl From<crate::db::DbError> for InsertError {
    fn from(e: crate::db::DbError) -> Self {
        Self::Api(e.into())
    }
}

impl From<diesel::result::Error> for InsertError {
    fn from(e: diesel::result::Error) -> Self {
        if is_unique_violation(&e) {
            Self::Taken
        } else {
            Self::Api(e.into())
        }
    }
}

/// The accept transaction: the key's earlier job, or a new job with its targets.
fn insert(
    conn: &mut DbConn,
    s: &Submission,
    now: NaiveDateTime,
    lease: NaiveDateTime,
) -> Result<Queued<Accepted>, InsertError> {
    use diesel::Connection as _;
    conn.transaction(|conn| {
        // Uploads of one account take credits, caps and queue slots one at a time.
        accounts::lock(conn, &s.account_id)?;
        let since = now - Duration::hours(KEY_LIFETIME_HOURS);
        if let Some(key) = &s.idempotency_key
            && let Some(job) = uploads::by_idempotency_key(conn, &s.account_id, key, since)?
        {
            return Ok(Queued::nothing(Accepted::Repeat(job)));
        }
        if let Some(request_id) = &s.request_id
            && let Some(job) =
                uploads::find(conn, &s.account_id, uploads::JobRef::Request(request_id))?
        {
            return Ok(Queued::nothing(Accepted::Repeat(job)));
        }
        let connected = connections::for_profiles(conn, &[&s.profile.id])?;
        let job_id = format!("job_{}", uuid::Uuid::now_v7().simple());
        let due_now = s.when == When::Now;
        let (state, scheduled_for, queued) = match s.when {
            When::Now => (JobState::Active, None, false),
            When::At(utc) => (JobState::Scheduled, Some(utc), false),
            When::Queue { max_per_slot } => {
                let settings = queue::settings(conn, &s.profile.id)?;
                let slot = queue::next_free_slot(
                    conn,
                    &s.profile.id,
                    &settings,
                    now.and_utc(),
                    max_per_slot,
                )?
                .ok_or_else(|| {
                    InsertError::Api(ApiError::UploadRejected(
                        "The queue has no free slot in the next year".to_owned(),
                    ))
                })?;
                (JobState::Scheduled, Some(slot.naive_utc()), true)
            }
        };
        let mut targets = Vec::with_capacity(s.platforms.len());
        let mut skipped = Vec::new();
        for platform in &s.platforms {
            let connection = connected.iter().find(|c| c.platform == platform.key());
            // Scheduled uploads keep every platform and check again when they run.
            let skip = due_now && connection.is_none();
            let (state, result) = if skip {
                skipped.push(*platform);
                (
                    TargetState::Skipped,
                    Some(results::skipped(&s.profile.username, *platform)),
                )
            } else if due_now {
                (TargetState::Processing, None)
            } else {
                (TargetState::Queued, None)
            };
            targets.push(Target {
                job_id: job_id.clone(),
                platform: platform.key().to_owned(),
                state: state.as_str().to_owned(),
                connection_id: connection.map(|c| c.id.clone()),
                attempts: i32::from(state == TargetState::Processing),
                due_at: scheduled_for.unwrap_or(now),
                locked_until: (state == TargetState::Processing).then_some(lease),
                first_call_at: None,
                call_started_at: None,
                result: result.as_ref().map(|r| r.to_string()),
                platform_post_id: None,
                post_url: None,
                error_code: skip.then(|| "profile_platform_mapping_invalid".to_owned()),
                error_message: result
                    .as_ref()
                    .and_then(|r| r["error"].as_str().map(str::to_owned)),
                updated_at: now,
                finished_at: skip.then_some(now),
            });
        }
        if skipped.len() == targets.len() {
            return Err(InsertError::Api(ApiError::NoConnectedPlatform(
                skipped
                    .iter()
                    .map(|p| {
                        (
                            p.key().to_owned(),
                            results::skipped(&s.profile.username, *p)["error"]
                                .as_str()
                                .unwrap_or_default()
                                .to_owned(),
                        )
                    })
                    .collect(),
            )));
        }
        let going = targets
            .iter()
            .filter(|t| t.state() != TargetState::Skipped)
            .collect::<Vec<_>>();
        if due_now {
            let mut violations = Vec::new();
            for t in &going {
                let (Some(id), Some(platform)) = (&t.connection_id, Platform::parse(&t.platform))
                else {
                    continue;
                };
                violations.extend(CapViolation::check(
                    platform,
                    usage::used_last_24h(conn, id, now)?,
                ));
            }
            if !violations.is_empty() {
                return Err(InsertError::Api(ApiError::DailyCapReached(violations)));
            }
        }
        let credits = u32::try_from(going.len()).unwrap_or(u32::MAX);
        usage::reserve(
            conn,
            &s.account_id,
            &Period::containing(now),
            credits,
            s.allowance,
        )?
        .map_err(|e| InsertError::Api(e.into()))?;
        let job = Job {
            id: job_id.clone(),
            request_id: s.request_id.clone().unwrap_or_else(|| job_id.clone()),
            account_id: s.account_id.clone(),
            profile_id: s.profile.id.clone(),
            kind: s.kind.as_str().to_owned(),
            title: s.payload.fields.text("title").map(str::to_owned),
            caption: s.payload.fields.text("description").map(str::to_owned),
            external_id: s.external_id.clone(),
            payload: serde_json::to_string(&s.payload)
                .map_err(|e| InsertError::Api(ApiError::Internal(e.into())))?,
            is_async: s.is_async,
            state: state.as_str().to_owned(),
            scheduled_for,
            queued,
            credits: i32::try_from(credits).unwrap_or(i32::MAX),
            created_at: now,
        };
        let email = accounts::find(conn, &s.account_id)?.and_then(|a| a.email);
        let events: Vec<serde_json::Value> = skipped
            .iter()
            .map(|platform| {
                results::completed_event(
                    &job,
                    email.as_deref(),
                    &s.profile.username,
                    platform.key(),
                    &results::skipped(&s.profile.username, *platform),
                    now,
                )
            })
            .collect();
        let media_ids = s.payload.media_ids();
        let queued = uploads::insert(
            conn,
            &job,
            &s.profile,
            &targets,
            &media_ids,
            s.idempotency_key.as_deref(),
            &events,
        )?;
        let accepted = Accepted::New {
            job,
            targets,
            lease: due_now.then_some(lease),
        };
        Ok(queued.map(|()| accepted))
    })
}
