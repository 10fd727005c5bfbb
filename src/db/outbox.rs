//! The webhook outbox: deliveries written in the same transaction as the change they report,
//! claimed by delivery workers with a lease, and their outcome.
//!
//! Claiming is the one place with backend-specific SQL: PostgreSQL adds
//! `FOR UPDATE OF d SKIP LOCKED` to the claim's subquery, so that several processes never
//! claim the same row.
//!
//! How long a delivery is retried is the worker's policy, not the event's: a delivery
//! records only when its retry window started (its creation, or its last redelivery) and the
//! worker adds its own `retry_for` when an attempt fails. Code that queues events thus knows
//! nothing of delivery settings, and a changed setting applies to deliveries already queued.

use super::DbConn;
use super::notifications;
use super::profiles::Profile;
use super::schema::{notification_configs, webhook_circuits, webhook_deliveries};
use crate::domain::secrets::new_random_id;
use crate::domain::time;
use crate::domain::webhooks::Event;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";
/// Consecutive failures after which a target is paused.
pub const CIRCUIT_FAILURES: i32 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    pub seq: i64,
    /// Stable across retries: the `X-Upload-Post-Delivery` header.
    pub id: String,
    pub account_id: String,
    pub event: String,
    /// The exact bytes every attempt sends.
    pub body: String,
    pub target_url: String,
    /// Deliveries with the same target and key go out in order (the profile, else the
    /// account).
    pub ordering_key: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    /// When the retry window started: creation, or the last redelivery.
    pub retry_from: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = webhook_deliveries)]
struct NewDelivery<'a> {
    id: String,
    account_id: &'a str,
    event: &'a str,
    body: &'a str,
    target_url: &'a str,
    ordering_key: &'a str,
    state: &'a str,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    retry_from: NaiveDateTime,
    created_at: NaiveDateTime,
}

/// The result of work that may have queued deliveries, and how many it queued. Only
/// `Db::run_queueing` opens it in a server, and it wakes the delivery worker when something
/// was queued: no caller has to remember to.
#[must_use = "queued deliveries wait for the next poll unless run through Db::run_queueing"]
#[derive(Debug)]
pub struct Queued<T> {
    value: T,
    deliveries: usize,
}

impl<T> Queued<T> {
    pub(super) fn new(value: T, deliveries: usize) -> Self {
        Self { value, deliveries }
    }

    /// A result that queued nothing.
    pub fn nothing(value: T) -> Self {
        Self::new(value, 0)
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Queued<U> {
        Queued::new(f(self.value), self.deliveries)
    }

    pub(super) fn deliveries(&self) -> usize {
        self.deliveries
    }

    pub(super) fn into_parts(self) -> (T, usize) {
        (self.value, self.deliveries)
    }

    /// The value, for a process that runs no delivery worker (the CLI): the serving
    /// processes' workers find the deliveries at their next poll.
    pub fn without_wake(self) -> T {
        self.value
    }
}

/// Queues `body` for every target subscribed to `event`: the account's webhook and the
/// profile's own. Call it inside the transaction that makes the change. Returns the new
/// deliveries' ids. The test event goes to the account webhook whatever the subscription.
pub fn emit(
    conn: &mut DbConn,
    account_id: &str,
    profile: Option<&Profile>,
    event: Event,
    body: &serde_json::Value,
) -> QueryResult<Queued<Vec<String>>> {
    let config = notifications::get(conn, account_id)?;
    let mut targets: Vec<String> = Vec::new();
    if !event.is_subscribable() {
        targets.extend(config.webhook_url.clone());
    } else {
        if config.events().is_on(event.as_str()) {
            targets.extend(config.webhook_target().map(str::to_owned));
        }
        if let Some(hook) = profile
            .map(|p| notifications::profile_webhook(conn, &p.id))
            .transpose()?
            .flatten()
            .filter(|h| h.events().is_on(event.as_str()))
        {
            targets.push(hook.webhook_url);
        }
    }
    targets.dedup();
    let body = body.to_string();
    let now = time::now();
    let ordering_key = profile.map_or(account_id, |p| p.id.as_str());
    let mut ids = Vec::with_capacity(targets.len());
    for target in &targets {
        let id = format!("dlv_{}", new_random_id(24));
        diesel::insert_into(webhook_deliveries::table)
            .values(NewDelivery {
                id: id.clone(),
                account_id,
                event: event.as_str(),
                body: &body,
                target_url: target,
                ordering_key,
                state: PENDING,
                attempts: 0,
                next_attempt_at: now,
                retry_from: now,
                created_at: now,
            })
            .execute(conn)?;
        ids.push(id);
    }
    let queued = ids.len();
    Ok(Queued::new(ids, queued))
}

/// A claimed delivery and the account's current signing secret, sealed.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery: Delivery,
    pub sealed_webhook_secret: Option<String>,
}

/// Leases what is due in one statement, so it is atomic on both backends (and takes
/// SQLite's write lock up front): the first pending delivery of each target and ordering
/// key (each profile's events go out in order), none of a paused target.
/// (Placeholders are numbered in order of first use: SQLite numbers `$n` that way.)
const CLAIM: &str = "UPDATE webhook_deliveries SET locked_until = $1 WHERE seq IN ( \
     SELECT d.seq FROM webhook_deliveries d \
     WHERE d.state = 'pending' AND d.next_attempt_at <= $2 \
     AND (d.locked_until IS NULL OR d.locked_until <= $2) \
     AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.target_url = d.target_url \
         AND e.ordering_key = d.ordering_key AND e.state = 'pending' AND e.seq < d.seq) \
     AND NOT EXISTS (SELECT 1 FROM webhook_circuits c WHERE c.account_id = d.account_id \
         AND c.target_url = d.target_url AND c.paused_until > $2) \
     ORDER BY d.seq LIMIT $3 {lock}) RETURNING *";

/// Takes up to `limit` due deliveries for `lease`, with their accounts' secrets.
pub fn claim(
    conn: &mut DbConn,
    now: NaiveDateTime,
    lease: Duration,
    limit: i64,
) -> QueryResult<Vec<Claimed>> {
    let lock = match conn {
        DbConn::Pg(_) => "FOR UPDATE OF d SKIP LOCKED",
        DbConn::Sqlite(_) => "",
    };
    let mut claimed: Vec<Delivery> = diesel::sql_query(CLAIM.replace("{lock}", lock))
        .bind::<Timestamp, _>(now + lease)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load(conn)?;
    claimed.sort_by_key(|d| d.seq);
    let mut accounts: Vec<&str> = claimed.iter().map(|d| d.account_id.as_str()).collect();
    accounts.sort_unstable();
    accounts.dedup();
    let secrets: Vec<(String, Option<String>)> = notification_configs::table
        .filter(notification_configs::account_id.eq_any(&accounts))
        .select((
            notification_configs::account_id,
            notification_configs::sealed_webhook_secret,
        ))
        .load(conn)?;
    Ok(claimed
        .into_iter()
        .map(|delivery| {
            let sealed_webhook_secret = secrets
                .iter()
                .find(|(a, _)| *a == delivery.account_id)
                .and_then(|(_, s)| s.clone());
            Claimed {
                delivery,
                sealed_webhook_secret,
            }
        })
        .collect())
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub enum Outcome {
    Delivered {
        status: i32,
    },
    /// Retry at `retry_at`, or give up (`None`).
    Failed {
        status: Option<i32>,
        error: String,
        retry_at: Option<NaiveDateTime>,
    },
}

/// Records an attempt and updates the target's circuit: a success closes it, the fifth
/// failure in a row pauses the target for `pause`. Returns whether this attempt paused it.
pub fn record(
    conn: &mut DbConn,
    delivery: &Delivery,
    outcome: &Outcome,
    now: NaiveDateTime,
    pause: Duration,
) -> QueryResult<bool> {
    use webhook_deliveries::dsl as d;
    conn.transaction(|conn| {
        let row = webhook_deliveries::table.filter(d::seq.eq(delivery.seq));
        let attempts = d::attempts + 1;
        match outcome {
            Outcome::Delivered { status } => {
                diesel::update(row)
                    .set((
                        d::state.eq(DELIVERED),
                        d::attempts.eq(attempts),
                        d::last_status.eq(Some(*status)),
                        d::last_error.eq(None::<String>),
                        d::delivered_at.eq(Some(now)),
                        d::locked_until.eq(None::<NaiveDateTime>),
                    ))
                    .execute(conn)?;
            }
            Outcome::Failed {
                status,
                error,
                retry_at,
            } => {
                diesel::update(row)
                    .set((
                        d::state.eq(if retry_at.is_some() { PENDING } else { FAILED }),
                        d::attempts.eq(attempts),
                        d::last_status.eq(*status),
                        d::last_error.eq(Some(error.as_str())),
                        d::next_attempt_at.eq(retry_at.unwrap_or(now)),
                        d::locked_until.eq(None::<NaiveDateTime>),
                    ))
                    .execute(conn)?;
            }
        }
        let failed = matches!(outcome, Outcome::Failed { .. });
        update_circuit(
            conn,
            &delivery.account_id,
            &delivery.target_url,
            failed,
            now,
            pause,
        )
    })
}

fn update_circuit(
    conn: &mut DbConn,
    account_id: &str,
    target_url: &str,
    failed: bool,
    now: NaiveDateTime,
    pause: Duration,
) -> QueryResult<bool> {
    use webhook_circuits::dsl as c;
    let key = webhook_circuits::table
        .filter(c::account_id.eq(account_id))
        .filter(c::target_url.eq(target_url));
    let previous: Option<i32> = key.select(c::consecutive_failures).first(conn).optional()?;
    if !failed && previous.is_none() {
        // A target that never failed needs no row.
        return Ok(false);
    }
    let failures = if failed { previous.unwrap_or(0) + 1 } else { 0 };
    let (failures, paused_until) = if failures >= CIRCUIT_FAILURES {
        (0, Some(now + pause))
    } else {
        (failures, None)
    };
    let updated = diesel::update(key)
        .set((
            c::consecutive_failures.eq(failures),
            c::paused_until.eq(paused_until),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(webhook_circuits::table)
            .values((
                c::account_id.eq(account_id),
                c::target_url.eq(target_url),
                c::consecutive_failures.eq(failures),
                c::paused_until.eq(paused_until),
            ))
            .execute(conn)?;
    }
    Ok(paused_until.is_some())
}

/// How many deliveries are waiting to be sent or retried (the state index answers it).
pub fn pending_count(conn: &mut DbConn) -> QueryResult<i64> {
    use webhook_deliveries::dsl as d;
    webhook_deliveries::table
        .filter(d::state.eq(PENDING))
        .count()
        .get_result(conn)
}

/// The account's deliveries, newest first: those before `before_seq` if given, in `state`
/// if given.
pub fn list(
    conn: &mut DbConn,
    account_id: &str,
    state: Option<&str>,
    before_seq: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Delivery>> {
    use webhook_deliveries::dsl as d;
    let mut query = webhook_deliveries::table
        .filter(d::account_id.eq(account_id))
        .select(Delivery::as_select())
        .order(d::seq.desc())
        .limit(limit)
        .into_boxed();
    if let Some(state) = state {
        query = query.filter(d::state.eq(state.to_owned()));
    }
    if let Some(before) = before_seq {
        query = query.filter(d::seq.lt(before));
    }
    query.load(conn)
}

/// One delivery of any account, by id (the CLI's view).
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Delivery>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::id.eq(id))
        .select(Delivery::as_select())
        .first(conn)
        .optional()
}

/// Queues a delivered or failed delivery again, now, with a fresh retry window. Pending
/// ones are left alone. Whether the delivery exists (for this account, if given).
pub fn redeliver(
    conn: &mut DbConn,
    account_id: Option<&str>,
    id: &str,
) -> QueryResult<Queued<bool>> {
    use webhook_deliveries::dsl as d;
    let now = time::now();
    let mut query = webhook_deliveries::table.filter(d::id.eq(id)).into_boxed();
    if let Some(account_id) = account_id {
        query = query.filter(d::account_id.eq(account_id.to_owned()));
    }
    let Some(seq) = query.select(d::seq).first::<i64>(conn).optional()? else {
        return Ok(Queued::nothing(false));
    };
    let queued = diesel::update(
        webhook_deliveries::table
            .filter(d::seq.eq(seq))
            .filter(d::state.ne(PENDING)),
    )
    .set((
        d::state.eq(PENDING),
        d::next_attempt_at.eq(now),
        d::retry_from.eq(now),
        d::locked_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(Queued::new(true, queued))
}

/// Deletes delivered and failed deliveries created before `before` (the log's retention);
/// pending ones are never touched. Returns how many went.
pub fn prune(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    use webhook_deliveries::dsl as d;
    diesel::delete(
        webhook_deliveries::table
            .filter(d::state.ne(PENDING))
            .filter(d::created_at.lt(before)),
    )
    .execute(conn)
}
