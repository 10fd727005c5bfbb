//! A profile's posting queue: its settings, the slots marked full by hand, and how full each
//! slot is, counted from the queued upload jobs.

use super::schema::{queue_full_slots, queue_settings, upload_jobs, upload_targets};
use super::{DbConn, accounts};
use crate::domain::queue::{Occupancy, QueueSettings, SettingsChange, horizon};
use crate::domain::time;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use std::collections::HashMap;

/// The `upload_jobs.state` of a cancelled job, which gives its slot back.
const CANCELLED: &str = "cancelled";

/// The profile's settings; Upload-Post's defaults until first changed.
pub fn settings(conn: &mut DbConn, profile_id: &str) -> QueryResult<QueueSettings> {
    let stored: Option<String> = queue_settings::table
        .find(profile_id)
        .select(queue_settings::settings)
        .first(conn)
        .optional()?;
    match stored {
        None => Ok(QueueSettings::default()),
        Some(text) => QueueSettings::from_stored(&text)
            .map_err(|e| diesel::result::Error::DeserializationError(e.into())),
    }
}

/// Applies a partial change under the account's lock (so two changes cannot lose one
/// another) and returns the settings as stored.
pub fn update_settings(
    conn: &mut DbConn,
    account_id: &str,
    profile_id: &str,
    change: &SettingsChange,
) -> QueryResult<QueueSettings> {
    conn.transaction(|conn| {
        accounts::lock(conn, account_id)?;
        let updated = change.apply(&settings(conn, profile_id)?);
        let now = time::now();
        let text = updated.to_stored();
        let n = diesel::update(queue_settings::table.find(profile_id))
            .set((
                queue_settings::settings.eq(&text),
                queue_settings::updated_at.eq(now),
            ))
            .execute(conn)?;
        if n == 0 {
            diesel::insert_into(queue_settings::table)
                .values((
                    queue_settings::profile_id.eq(profile_id),
                    queue_settings::settings.eq(&text),
                    queue_settings::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(updated)
    })
}

/// Marks a slot full by hand, or frees it; idempotent. Under the account's lock, so two
/// marks of one slot cannot both insert.
pub fn set_slot_full(
    conn: &mut DbConn,
    account_id: &str,
    profile_id: &str,
    at: DateTime<Utc>,
    full: bool,
) -> QueryResult<()> {
    let slot = queue_full_slots::table.find((profile_id, at.naive_utc()));
    conn.transaction(|conn| {
        accounts::lock(conn, account_id)?;
        if !full {
            diesel::delete(slot).execute(conn)?;
        } else if slot.count().get_result::<i64>(conn)? == 0 {
            diesel::insert_into(queue_full_slots::table)
                .values((
                    queue_full_slots::profile_id.eq(profile_id),
                    queue_full_slots::slot_at.eq(at.naive_utc()),
                    queue_full_slots::created_at.eq(time::now()),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// The slots marked full in `(from, to)`, in time order.
pub fn full_slots(
    conn: &mut DbConn,
    profile_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<Vec<DateTime<Utc>>> {
    let rows: Vec<NaiveDateTime> = queue_full_slots::table
        .filter(queue_full_slots::profile_id.eq(profile_id))
        .filter(queue_full_slots::slot_at.gt(from.naive_utc()))
        .filter(queue_full_slots::slot_at.lt(to.naive_utc()))
        .select(queue_full_slots::slot_at)
        .order(queue_full_slots::slot_at)
        .load(conn)?;
    Ok(rows.into_iter().map(|t| t.and_utc()).collect())
}

/// How full the slots in `(from, to)` are: queued jobs that are not cancelled, per
/// instant, and the slots marked full.
pub fn occupancy(
    conn: &mut DbConn,
    profile_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<Occupancy> {
    // Counted here: a boxed query cannot be grouped, and a profile queues a few posts a day.
    let due: Vec<Option<NaiveDateTime>> = queued_in(profile_id, from, to)
        .select(upload_jobs::scheduled_for)
        .load(conn)?;
    let mut counts: HashMap<DateTime<Utc>, u32> = HashMap::new();
    for at in due.into_iter().flatten() {
        *counts.entry(at.and_utc()).or_default() += 1;
    }
    Ok(Occupancy::new(
        counts,
        full_slots(conn, profile_id, from, to)?,
    ))
}

/// A queued job as the preview lists it under its slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedJob {
    pub slot: DateTime<Utc>,
    pub job_id: String,
    pub title: Option<String>,
    /// In the order of the job's targets.
    pub platforms: Vec<String>,
}

/// The queued jobs (not cancelled) in `(from, to)`, by slot then id.
pub fn queued_jobs(
    conn: &mut DbConn,
    profile_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<Vec<QueuedJob>> {
    let jobs: Vec<(String, Option<String>, Option<NaiveDateTime>)> =
        queued_in(profile_id, from, to)
            .select((
                upload_jobs::id,
                upload_jobs::title,
                upload_jobs::scheduled_for,
            ))
            .order((upload_jobs::scheduled_for, upload_jobs::id))
            .load(conn)?;
    let ids: Vec<&str> = jobs.iter().map(|(id, ..)| id.as_str()).collect();
    let mut platforms: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, String)> = upload_targets::table
            .filter(upload_targets::job_id.eq_any(chunk))
            .select((upload_targets::job_id, upload_targets::platform))
            .order((upload_targets::job_id, upload_targets::platform))
            .load(conn)?;
        for (job, platform) in rows {
            platforms.entry(job).or_default().push(platform);
        }
    }
    Ok(jobs
        .into_iter()
        .filter_map(|(job_id, title, at)| {
            Some(QueuedJob {
                slot: at?.and_utc(),
                platforms: platforms.remove(&job_id).unwrap_or_default(),
                job_id,
                title,
            })
        })
        .collect())
}

/// The first slot after `now` with room for one more post (`max_per_slot` overriding the
/// setting), or `None` when every slot of the scheduling horizon is taken.
///
/// To take the slot, call this inside the transaction that inserts the job, after
/// `accounts::lock`: the lock makes concurrent uploads of the account wait, so two of them
/// never both see the last place of a slot free.
pub fn next_free_slot(
    conn: &mut DbConn,
    profile_id: &str,
    settings: &QueueSettings,
    now: DateTime<Utc>,
    max_per_slot: Option<u32>,
) -> QueryResult<Option<DateTime<Utc>>> {
    let occupancy = occupancy(conn, profile_id, now, horizon(now))?;
    Ok(settings.next_available(now, &occupancy, max_per_slot))
}

/// The profile's queued, not cancelled, jobs due in `(from, to)`.
fn queued_in(
    profile_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> upload_jobs::BoxedQuery<'static, super::MultiBackend> {
    upload_jobs::table
        .filter(upload_jobs::profile_id.eq(profile_id.to_owned()))
        .filter(upload_jobs::queued.eq(true))
        .filter(upload_jobs::state.ne(CANCELLED))
        .filter(upload_jobs::scheduled_for.gt(from.naive_utc()))
        .filter(upload_jobs::scheduled_for.lt(to.naive_utc()))
        .into_boxed()
}
