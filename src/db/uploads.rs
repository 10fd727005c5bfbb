//! Uploads: a job per accepted upload and a target per platform it names, leased by workers
//! the way the webhook outbox leases deliveries.
//!
//! A target's lease is its `locked_until`: a worker acts on a target only while the value it
//! set is still there, so a worker that lost its lease (it stalled past it and another took
//! over) can neither start a call nor record an outcome. `call_started_at` is committed before
//! a call that makes a post and cleared with its outcome; a target claimed with it still set
//! had a call whose outcome is unknown.

use super::DbConn;
use super::outbox::{self, Queued};
use super::profiles::Profile;
use super::schema::{
    profiles, upload_idempotency, upload_jobs, upload_media, upload_processing, upload_targets,
};
use crate::domain::upload::{JobState, TargetState};
use crate::domain::webhooks::Event;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = upload_jobs)]
pub struct Job {
    /// The `job_id` of the wire.
    pub id: String,
    pub request_id: String,
    pub account_id: String,
    pub profile_id: String,
    /// A `PostKind`.
    pub kind: String,
    pub title: Option<String>,
    pub caption: Option<String>,
    pub external_id: Option<String>,
    /// JSON: what to publish (`publish::engine::Payload`).
    pub payload: String,
    pub is_async: bool,
    /// A `JobState`.
    pub state: String,
    pub scheduled_for: Option<NaiveDateTime>,
    pub queued: bool,
    pub credits: i32,
    pub created_at: NaiveDateTime,
}

#[derive(
    Debug, Clone, PartialEq, Eq, Queryable, QueryableByName, Selectable, Insertable, AsChangeset,
)]
#[diesel(table_name = upload_targets, treat_none_as_null = true)]
pub struct Target {
    pub job_id: String,
    /// A platform key.
    pub platform: String,
    /// A `TargetState`.
    pub state: String,
    pub connection_id: Option<String>,
    pub attempts: i32,
    pub due_at: NaiveDateTime,
    /// The lease: set by whoever works on the target.
    pub locked_until: Option<NaiveDateTime>,
    pub first_call_at: Option<NaiveDateTime>,
    /// Set while a call that makes the post is under way.
    pub call_started_at: Option<NaiveDateTime>,
    /// The per-platform result object of the wire, as JSON.
    pub result: Option<String>,
    pub platform_post_id: Option<String>,
    pub post_url: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub updated_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

/// A target whose platform is processing the post (`publish::publisher::Progress::Pending`).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = upload_processing)]
pub struct Processing {
    pub job_id: String,
    pub platform: String,
    /// JSON: what the publisher needs to go on.
    pub state: String,
    /// When the platform started on it.
    pub since: NaiveDateTime,
}

/// Where the platform's processing of a target stands, if it is processing it.
pub fn processing_of(
    conn: &mut DbConn,
    job_id: &str,
    platform: &str,
) -> QueryResult<Option<Processing>> {
    upload_processing::table
        .find((job_id, platform))
        .select(Processing::as_select())
        .first(conn)
        .optional()
}

impl Target {
    pub fn state(&self) -> TargetState {
        TargetState::parse(&self.state).unwrap_or(TargetState::Failed)
    }

    pub fn result_json(&self) -> Option<serde_json::Value> {
        self.result
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
    }
}

/// Stores a new job with its targets and the idempotency key it answers to if any, and
/// queues `upload_completed` for targets that are final from the start (skipped platforms).
/// `Err` with a unique violation when the key (or the request id) is already taken: the
/// caller then answers with the job that took it.
#[allow(clippy::too_many_arguments)]
pub fn insert(
    conn: &mut DbConn,
    job: &Job,
    profile: &Profile,
    targets: &[Target],
    media_ids: &[String],
    idempotency_key: Option<&str>,
    final_from_start: &[serde_json::Value],
) -> QueryResult<Queued<()>> {
    diesel::insert_into(upload_jobs::table)
        .values(job)
        .execute(conn)?;
    // One statement per row: batch inserts do not exist for the two-backend connection.
    for target in targets {
        diesel::insert_into(upload_targets::table)
            .values(target)
            .execute(conn)?;
    }
    let media_ids: std::collections::BTreeSet<&String> = media_ids.iter().collect();
    for media_id in media_ids {
        diesel::insert_into(upload_media::table)
            .values((
                upload_media::job_id.eq(&job.id),
                upload_media::media_id.eq(media_id),
            ))
            .execute(conn)?;
    }
    if let Some(key) = idempotency_key {
        diesel::insert_into(upload_idempotency::table)
            .values((
                upload_idempotency::account_id.eq(&job.account_id),
                upload_idempotency::key.eq(key),
                upload_idempotency::job_id.eq(&job.id),
                upload_idempotency::created_at.eq(job.created_at),
            ))
            .execute(conn)?;
    }
    let mut queued = 0;
    for body in final_from_start {
        queued += outbox::emit(
            conn,
            &job.account_id,
            Some(profile),
            Event::UploadCompleted,
            body,
        )?
        .deliveries();
    }
    Ok(Queued::new((), queued))
}

/// The job an idempotency key answered to since `since`; an older use of the key is
/// forgotten, so that the key can be used again.
pub fn by_idempotency_key(
    conn: &mut DbConn,
    account_id: &str,
    key: &str,
    since: NaiveDateTime,
) -> QueryResult<Option<Job>> {
    use upload_idempotency::dsl as k;
    diesel::delete(
        upload_idempotency::table
            .filter(k::account_id.eq(account_id))
            .filter(k::key.eq(key))
            .filter(k::created_at.lt(since)),
    )
    .execute(conn)?;
    upload_idempotency::table
        .inner_join(upload_jobs::table)
        .filter(k::account_id.eq(account_id))
        .filter(k::key.eq(key))
        .select(Job::as_select())
        .first(conn)
        .optional()
}

/// How a status request names an upload.
#[derive(Debug, Clone, Copy)]
pub enum JobRef<'a> {
    Job(&'a str),
    Request(&'a str),
}

/// One of the account's jobs.
pub fn find(conn: &mut DbConn, account_id: &str, by: JobRef<'_>) -> QueryResult<Option<Job>> {
    use upload_jobs::dsl as j;
    let query = upload_jobs::table
        .filter(j::account_id.eq(account_id))
        .select(Job::as_select())
        .into_boxed();
    match by {
        JobRef::Job(id) => query.filter(j::id.eq(id.to_owned())),
        JobRef::Request(id) => query.filter(j::request_id.eq(id.to_owned())),
    }
    .first(conn)
    .optional()
}

/// The targets of some jobs, in a stable order.
pub fn targets_of(conn: &mut DbConn, job_ids: &[&str]) -> QueryResult<Vec<Target>> {
    upload_targets::table
        .filter(upload_targets::job_id.eq_any(job_ids))
        .select(Target::as_select())
        .order((upload_targets::job_id, upload_targets::platform))
        .load(conn)
}

/// Leases what is due in one statement, atomic on both backends like the outbox's claim:
/// queued and retryable targets whose time has come, and targets whose holder's lease ran
/// out (a crashed or stalled worker), of jobs that are not cancelled. Scheduled jobs whose
/// targets were taken become active.
const CLAIM: &str = "UPDATE upload_targets SET locked_until = $1, state = 'processing', \
     attempts = attempts + 1, updated_at = $2 WHERE (job_id, platform) IN ( \
     SELECT t.job_id, t.platform FROM upload_targets t JOIN upload_jobs j ON j.id = t.job_id \
     WHERE t.state IN ('queued', 'retryable', 'processing') AND t.due_at <= $2 \
     AND (t.locked_until IS NULL OR t.locked_until <= $2) \
     AND j.state IN ('scheduled', 'active') \
     ORDER BY t.due_at LIMIT $3 {lock}) RETURNING *";

/// Takes up to `limit` due targets until `lease_until`, with their jobs.
pub fn claim(
    conn: &mut DbConn,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<(Job, Target)>> {
    let lock = match conn {
        DbConn::Pg(_) => "FOR UPDATE OF t SKIP LOCKED",
        DbConn::Sqlite(_) => "",
    };
    let targets: Vec<Target> = diesel::sql_query(CLAIM.replace("{lock}", lock))
        .bind::<Timestamp, _>(lease_until)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load(conn)?;
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = targets.iter().map(|t| t.job_id.as_str()).collect();
    diesel::update(
        upload_jobs::table
            .filter(upload_jobs::id.eq_any(&ids))
            .filter(upload_jobs::state.eq(JobState::Scheduled.as_str())),
    )
    .set(upload_jobs::state.eq(JobState::Active.as_str()))
    .execute(conn)?;
    let jobs: Vec<Job> = upload_jobs::table
        .filter(upload_jobs::id.eq_any(&ids))
        .select(Job::as_select())
        .load(conn)?;
    Ok(targets
        .into_iter()
        .filter_map(|t| {
            let job = jobs.iter().find(|j| j.id == t.job_id)?.clone();
            Some((job, t))
        })
        .collect())
}

/// The row of one target, as long as `lease` is still its lease.
macro_rules! leased {
    ($job_id:expr, $platform:expr, $lease:expr) => {
        upload_targets::table
            .filter(upload_targets::job_id.eq($job_id))
            .filter(upload_targets::platform.eq($platform))
            .filter(upload_targets::locked_until.eq(Some($lease)))
    };
}

/// Records that a call which makes the post is about to start, and which account it goes
/// to. False when the lease was lost: the caller must not make the call.
pub fn start_call(
    conn: &mut DbConn,
    job_id: &str,
    platform: &str,
    lease: NaiveDateTime,
    connection_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    use upload_targets::dsl as t;
    let n = diesel::update(leased!(job_id, platform, lease))
        .set((
            t::call_started_at.eq(Some(now)),
            t::first_call_at.eq(diesel::dsl::sql::<diesel::sql_types::Nullable<Timestamp>>(
                "COALESCE(first_call_at, ",
            )
            .bind::<Timestamp, _>(now)
            .sql(")")),
            t::connection_id.eq(Some(connection_id)),
            t::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// How an attempt on a target ended.
#[derive(Debug, Clone)]
pub enum Finish {
    /// The post is up.
    Published {
        result: serde_json::Value,
        post_id: String,
        url: Option<String>,
    },
    /// Final failure (or a skip): nothing more will be tried.
    Failed {
        state: TargetState,
        result: serde_json::Value,
        code: String,
        message: String,
    },
    /// The platform is processing the post: call again at `at` with `state`. Not an
    /// attempt: the claim that picks it up again does not use up one of the target's tries.
    Wait {
        at: NaiveDateTime,
        state: serde_json::Value,
    },
    /// Try again at `at`. `in_doubt`: the last call's outcome is unknown, so the next attempt
    /// must look the post up first.
    Retry {
        at: NaiveDateTime,
        in_doubt: bool,
        result: serde_json::Value,
        code: String,
        message: String,
    },
}

/// When an outcome is recorded, and how long the job's media stays if that closes the job.
#[derive(Debug, Clone, Copy)]
pub struct Recorded {
    pub now: NaiveDateTime,
    pub keep_media_until: NaiveDateTime,
}

/// Records an attempt's outcome while `lease` is still the target's lease and releases it.
/// A final outcome also queues `upload_completed` (its body built by `webhook` from the
/// job's profile and the result) and closes the job once every target is final — all in one
/// transaction. False when the lease was lost: someone else owns the target now, and this
/// outcome is dropped.
pub fn finish(
    conn: &mut DbConn,
    job: &Job,
    platform: &str,
    lease: NaiveDateTime,
    outcome: &Finish,
    Recorded {
        now,
        keep_media_until,
    }: Recorded,
    webhook: impl FnOnce(&Profile, &serde_json::Value) -> serde_json::Value,
) -> QueryResult<Queued<bool>> {
    use upload_targets::dsl as t;
    conn.transaction(|conn| {
        let row = leased!(&job.id, platform, lease);
        let none = None::<NaiveDateTime>;
        let (n, final_result) = match outcome {
            Finish::Published {
                result,
                post_id,
                url,
            } => (
                diesel::update(row)
                    .set((
                        t::state.eq(TargetState::Completed.as_str()),
                        t::result.eq(Some(result.to_string())),
                        t::platform_post_id.eq(Some(post_id)),
                        t::post_url.eq(url.as_deref()),
                        t::error_code.eq(None::<String>),
                        t::error_message.eq(None::<String>),
                        t::call_started_at.eq(none),
                        t::locked_until.eq(none),
                        t::finished_at.eq(Some(now)),
                        t::updated_at.eq(now),
                    ))
                    .execute(conn)?,
                Some(result),
            ),
            Finish::Failed {
                state,
                result,
                code,
                message,
            } => (
                diesel::update(row)
                    .set((
                        t::state.eq(state.as_str()),
                        t::result.eq(Some(result.to_string())),
                        t::error_code.eq(Some(code)),
                        t::error_message.eq(Some(message)),
                        t::call_started_at.eq(none),
                        t::locked_until.eq(none),
                        t::finished_at.eq(Some(now)),
                        t::updated_at.eq(now),
                    ))
                    .execute(conn)?,
                Some(result),
            ),
            Finish::Wait { at, state } => {
                let n = diesel::update(row)
                    .set((
                        t::attempts.eq(t::attempts - 1),
                        t::call_started_at.eq(none),
                        t::due_at.eq(at),
                        t::locked_until.eq(none),
                        t::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                // The lease keeps other writers off this target, so update-or-insert is safe
                // (MultiConnection has no ON CONFLICT).
                if n == 1 {
                    let state = state.to_string();
                    let updated =
                        diesel::update(upload_processing::table.find((&job.id, platform)))
                            .set(upload_processing::state.eq(&state))
                            .execute(conn)?;
                    if updated == 0 {
                        diesel::insert_into(upload_processing::table)
                            .values(&Processing {
                                job_id: job.id.clone(),
                                platform: platform.to_owned(),
                                state,
                                since: now,
                            })
                            .execute(conn)?;
                    }
                }
                (n, None)
            }
            Finish::Retry {
                at,
                in_doubt,
                result,
                code,
                message,
            } => {
                // An unknown outcome keeps `call_started_at`: the next attempt reconciles.
                let started = if *in_doubt {
                    diesel::dsl::sql::<diesel::sql_types::Nullable<Timestamp>>("call_started_at")
                } else {
                    diesel::dsl::sql::<diesel::sql_types::Nullable<Timestamp>>("NULL")
                };
                (
                    diesel::update(row)
                        .set((
                            t::state.eq(TargetState::Retryable.as_str()),
                            t::result.eq(Some(result.to_string())),
                            t::error_code.eq(Some(code)),
                            t::error_message.eq(Some(message)),
                            t::call_started_at.eq(started),
                            t::due_at.eq(at),
                            t::locked_until.eq(none),
                            t::updated_at.eq(now),
                        ))
                        .execute(conn)?,
                    None,
                )
            }
        };
        let Some(result) = final_result.filter(|_| n == 1) else {
            return Ok(Queued::nothing(n == 1));
        };
        diesel::delete(upload_processing::table.find((&job.id, platform))).execute(conn)?;
        let profile: Profile = profiles::table
            .find(&job.profile_id)
            .select(Profile::as_select())
            .first(conn)?;
        let body = webhook(&profile, result);
        let queued = outbox::emit(
            conn,
            &job.account_id,
            Some(&profile),
            Event::UploadCompleted,
            &body,
        )?;
        close_if_final(conn, &job.id, keep_media_until)?;
        Ok(queued.map(|_| true))
    })
}

/// Marks the job done once none of its targets can change any more, and lets its media go
/// at `keep_media_until`.
fn close_if_final(
    conn: &mut DbConn,
    job_id: &str,
    keep_media_until: NaiveDateTime,
) -> QueryResult<()> {
    use upload_targets::dsl as t;
    // Two targets finishing at once would each see the other still open under PostgreSQL's
    // read committed, and nobody would close the job: a no-op write locks the job row first,
    // so the second waits and then counts the first's outcome.
    diesel::update(upload_jobs::table.find(job_id))
        .set(upload_jobs::state.eq(upload_jobs::state))
        .execute(conn)?;
    let open: i64 = upload_targets::table
        .filter(t::job_id.eq(job_id))
        .filter(t::state.ne_all([
            TargetState::Completed.as_str(),
            TargetState::Failed.as_str(),
            TargetState::Skipped.as_str(),
        ]))
        .count()
        .get_result(conn)?;
    if open == 0 {
        diesel::update(
            upload_jobs::table
                .filter(upload_jobs::id.eq(job_id))
                .filter(upload_jobs::state.eq(JobState::Active.as_str())),
        )
        .set(upload_jobs::state.eq(JobState::Done.as_str()))
        .execute(conn)?;
        keep_media(conn, job_id, Some(keep_media_until))?;
    }
    Ok(())
}

/// Sets when a job's media expires: `None` holds it for good (the job may publish again),
/// a time lets it go then. Every job has media of its own (a URL, even one of a staged
/// upload, is fetched into a new item), so no other job is affected. Returns the items.
fn keep_media(
    conn: &mut DbConn,
    job_id: &str,
    until: Option<NaiveDateTime>,
) -> QueryResult<Vec<String>> {
    let ids: Vec<String> = upload_media::table
        .filter(upload_media::job_id.eq(job_id))
        .select(upload_media::media_id)
        .load(conn)?;
    super::media::set_expiry(conn, &ids, until)?;
    Ok(ids)
}

/// Platforms of due uploads that are not final yet, across all processes (the publishing
/// backlog a scrape reports).
pub fn pending_count(conn: &mut DbConn) -> QueryResult<i64> {
    use upload_targets::dsl as t;
    upload_targets::table
        .inner_join(upload_jobs::table)
        .filter(upload_jobs::state.eq(JobState::Active.as_str()))
        .filter(t::state.eq_any([
            TargetState::Queued.as_str(),
            TargetState::Processing.as_str(),
            TargetState::Retryable.as_str(),
        ]))
        .count()
        .get_result(conn)
}

/// History's filters (publishing reference 1.7); `None` = any.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    pub platform: Option<String>,
    /// `success`: published; `failed`: failed or skipped.
    pub success: Option<bool>,
    pub profile_username: Option<String>,
    pub request_id: Option<String>,
    pub job_id: Option<String>,
    pub external_id: Option<String>,
    /// Finished in `[from, to)`.
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
}

/// A history row's parts: the job, one of its targets, and the profile's username.
pub type HistoryRow = (Job, Target, String);

macro_rules! history_query {
    ($account_id:expr, $f:expr) => {{
        use upload_targets::dsl as t;
        let mut q = upload_targets::table
            .inner_join(upload_jobs::table.inner_join(profiles::table))
            .filter(upload_jobs::account_id.eq($account_id.to_owned()))
            .into_boxed();
        let f: &HistoryFilter = $f;
        if let Some(p) = &f.platform {
            q = q.filter(t::platform.eq(p.clone()));
        }
        q = match f.success {
            Some(true) => q.filter(t::state.eq(TargetState::Completed.as_str())),
            Some(false) => q.filter(
                t::state.eq_any([TargetState::Failed.as_str(), TargetState::Skipped.as_str()]),
            ),
            None => q.filter(t::state.eq_any([
                TargetState::Completed.as_str(),
                TargetState::Failed.as_str(),
                TargetState::Skipped.as_str(),
            ])),
        };
        if let Some(u) = &f.profile_username {
            q = q.filter(profiles::username.eq(u.clone()));
        }
        if let Some(r) = &f.request_id {
            q = q.filter(upload_jobs::request_id.eq(r.clone()));
        }
        if let Some(j) = &f.job_id {
            q = q.filter(upload_jobs::id.eq(j.clone()));
        }
        if let Some(e) = &f.external_id {
            q = q.filter(upload_jobs::external_id.eq(e.clone()));
        }
        if let Some(from) = f.from {
            q = q.filter(t::finished_at.ge(from));
        }
        if let Some(to) = f.to {
            q = q.filter(t::finished_at.lt(to));
        }
        q
    }};
}

/// One page of the account's final per-platform outcomes, newest first, and how many there
/// are in all.
pub fn history(
    conn: &mut DbConn,
    account_id: &str,
    filter: &HistoryFilter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<HistoryRow>, i64)> {
    let total: i64 = history_query!(account_id, filter)
        .count()
        .get_result(conn)?;
    let rows = history_query!(account_id, filter)
        .select((Job::as_select(), Target::as_select(), profiles::username))
        .order((
            upload_targets::finished_at.desc(),
            upload_targets::job_id.desc(),
            upload_targets::platform,
        ))
        .offset(offset)
        .limit(limit)
        .load(conn)?;
    Ok((rows, total))
}

/// The account's uploads accepted since `since` that still have a platform to go, with the
/// profile's username, newest first (history's `in_progress`).
pub fn in_progress(
    conn: &mut DbConn,
    account_id: &str,
    profile_username: Option<&str>,
    since: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<(Job, String)>> {
    let mut q = upload_jobs::table
        .inner_join(profiles::table)
        .filter(upload_jobs::account_id.eq(account_id))
        .filter(upload_jobs::state.eq(JobState::Active.as_str()))
        .filter(upload_jobs::created_at.ge(since))
        .select((Job::as_select(), profiles::username))
        .order(upload_jobs::created_at.desc())
        .limit(limit)
        .into_boxed();
    if let Some(u) = profile_username {
        q = q.filter(profiles::username.eq(u.to_owned()));
    }
    q.load(conn)
}

/// The account's scheduled (not yet due) jobs, of one profile if given, due in `[from, to)`
/// when given, soonest first, with their profiles' usernames; and how many there are.
pub fn scheduled(
    conn: &mut DbConn,
    account_id: &str,
    profile_id: Option<&str>,
    from: Option<NaiveDateTime>,
    to: Option<NaiveDateTime>,
    offset: i64,
    limit: Option<i64>,
) -> QueryResult<(Vec<(Job, String)>, i64)> {
    macro_rules! query {
        () => {{
            let mut q = upload_jobs::table
                .inner_join(profiles::table)
                .filter(upload_jobs::account_id.eq(account_id.to_owned()))
                .filter(upload_jobs::state.eq(JobState::Scheduled.as_str()))
                .into_boxed();
            if let Some(p) = profile_id {
                q = q.filter(upload_jobs::profile_id.eq(p.to_owned()));
            }
            if let Some(from) = from {
                q = q.filter(upload_jobs::scheduled_for.ge(from));
            }
            if let Some(to) = to {
                q = q.filter(upload_jobs::scheduled_for.lt(to));
            }
            q
        }};
    }
    let total: i64 = query!().count().get_result(conn)?;
    // SQLite takes OFFSET only with a LIMIT.
    let rows = query!()
        .select((Job::as_select(), profiles::username))
        .order((upload_jobs::scheduled_for, upload_jobs::id))
        .offset(offset)
        .limit(limit.unwrap_or(i64::MAX))
        .load(conn)?;
    Ok((rows, total))
}

/// One of the account's jobs (of `profile_id` when given).
fn pending_job(
    conn: &mut DbConn,
    account_id: &str,
    job_id: &str,
    profile_id: Option<&str>,
) -> QueryResult<Option<Job>> {
    let mut q = upload_jobs::table
        .filter(upload_jobs::account_id.eq(account_id.to_owned()))
        .filter(upload_jobs::id.eq(job_id.to_owned()))
        .select(Job::as_select())
        .into_boxed();
    if let Some(p) = profile_id {
        q = q.filter(upload_jobs::profile_id.eq(p.to_owned()));
    }
    q.first(conn).optional()
}

/// Why a scheduled job could not be changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleChange<T> {
    Done(T),
    NotFound,
    /// It is already running, done or cancelled.
    NotScheduled,
}

/// A cancelled job.
#[derive(Debug)]
pub struct Cancelled {
    pub job: Job,
    /// Credits given back.
    pub credits: i32,
    /// Its media, expired now: the caller deletes it at once (else the sweeper does).
    pub media: Vec<String>,
}

/// Cancels a job that has not started, giving back its credits to the period they were
/// taken from.
pub fn cancel_scheduled(
    conn: &mut DbConn,
    account_id: &str,
    job_id: &str,
    profile_id: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<ScheduleChange<Cancelled>> {
    conn.transaction(|conn| {
        super::accounts::lock(conn, account_id)?;
        let Some(job) = pending_job(conn, account_id, job_id, profile_id)? else {
            return Ok(ScheduleChange::NotFound);
        };
        if job.state != JobState::Scheduled.as_str() {
            return Ok(ScheduleChange::NotScheduled);
        }
        diesel::update(upload_jobs::table.filter(upload_jobs::id.eq(job_id)))
            .set(upload_jobs::state.eq(JobState::Cancelled.as_str()))
            .execute(conn)?;
        diesel::update(upload_targets::table.filter(upload_targets::job_id.eq(job_id)))
            .set((
                upload_targets::state.eq(TargetState::Failed.as_str()),
                upload_targets::error_code.eq(Some("cancelled")),
                upload_targets::error_message.eq(Some("The scheduled post was cancelled")),
                upload_targets::finished_at.eq(Some(now)),
                upload_targets::updated_at.eq(now),
            ))
            .execute(conn)?;
        let credits = job.credits.max(0);
        super::usage::refund(
            conn,
            account_id,
            &crate::domain::usage::Period::containing(job.created_at),
            u32::try_from(credits).unwrap_or(0),
        )?;
        let media = keep_media(conn, job_id, Some(now))?;
        Ok(ScheduleChange::Done(Cancelled {
            job,
            credits,
            media,
        }))
    })
}

/// Moves a job that has not started to `at`, and replaces its payload when given.
pub fn edit_scheduled(
    conn: &mut DbConn,
    account_id: &str,
    job_id: &str,
    profile_id: Option<&str>,
    at: Option<NaiveDateTime>,
    edit: Option<(String, Option<String>, Option<String>)>,
    now: NaiveDateTime,
) -> QueryResult<ScheduleChange<Job>> {
    conn.transaction(|conn| {
        super::accounts::lock(conn, account_id)?;
        let Some(job) = pending_job(conn, account_id, job_id, profile_id)? else {
            return Ok(ScheduleChange::NotFound);
        };
        if job.state != JobState::Scheduled.as_str() {
            return Ok(ScheduleChange::NotScheduled);
        }
        let row = upload_jobs::table.filter(upload_jobs::id.eq(job_id));
        if let Some(at) = at {
            diesel::update(row)
                .set(upload_jobs::scheduled_for.eq(Some(at)))
                .execute(conn)?;
            diesel::update(upload_targets::table.filter(upload_targets::job_id.eq(job_id)))
                .set((
                    upload_targets::due_at.eq(at),
                    upload_targets::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        if let Some((payload, title, caption)) = edit {
            diesel::update(upload_jobs::table.filter(upload_jobs::id.eq(job_id)))
                .set((
                    upload_jobs::payload.eq(payload),
                    upload_jobs::title.eq(title),
                    upload_jobs::caption.eq(caption),
                ))
                .execute(conn)?;
        }
        let job = pending_job(conn, account_id, &job.id, profile_id)?.unwrap_or(job);
        Ok(ScheduleChange::Done(job))
    })
}

/// Queues a job's failed platforms again, due now (skipped ones stay skipped: the account is
/// not there). A platform whose last call's outcome is unknown is reconciled first, as
/// always. Returns how many were queued; `None` when the job is not the account's.
pub fn retry_failed(
    conn: &mut DbConn,
    account_id: &str,
    by: JobRef<'_>,
    now: NaiveDateTime,
) -> QueryResult<Option<(Job, usize)>> {
    conn.transaction(|conn| {
        super::accounts::lock(conn, account_id)?;
        let Some(job) = find(conn, account_id, by)? else {
            return Ok(None);
        };
        if job.state == JobState::Cancelled.as_str() {
            return Ok(Some((job, 0)));
        }
        let n = diesel::update(
            upload_targets::table
                .filter(upload_targets::job_id.eq(&job.id))
                .filter(upload_targets::state.eq(TargetState::Failed.as_str())),
        )
        .set((
            upload_targets::state.eq(TargetState::Queued.as_str()),
            upload_targets::attempts.eq(0),
            upload_targets::due_at.eq(now),
            upload_targets::locked_until.eq(None::<NaiveDateTime>),
            upload_targets::finished_at.eq(None::<NaiveDateTime>),
            upload_targets::updated_at.eq(now),
        ))
        .execute(conn)?;
        if n > 0 {
            diesel::update(upload_jobs::table.filter(upload_jobs::id.eq(&job.id)))
                .set(upload_jobs::state.eq(JobState::Active.as_str()))
                .execute(conn)?;
            keep_media(conn, &job.id, None)?;
        }
        Ok(Some((job, n)))
    })
}
