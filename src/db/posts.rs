//! A profile's posts as the connect page's calendar shows them: one per platform of each
//! upload, scheduled or done, read from the publishing engine's jobs and targets.

use super::DbConn;
use super::schema::{upload_jobs, upload_targets};
use super::uploads::{self, Job, ScheduleChange, Target};
use crate::domain::time;
use crate::domain::upload::{JobState, TargetState};
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub const STATUS_SCHEDULED: &str = "scheduled";
pub const STATUS_PUBLISHED: &str = "published";
pub const STATUS_FAILED: &str = "failed";

/// One platform of one upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    /// The upload's job id: cancelling it cancels every platform of the upload.
    pub id: String,
    pub platform: String,
    /// One of the `STATUS_*` values.
    pub status: String,
    pub title: Option<String>,
    pub body: Option<String>,
    /// When it goes (or went) out.
    pub scheduled_for: NaiveDateTime,
}

impl Post {
    fn of(job: &Job, target: &Target) -> Self {
        let status = match target.state() {
            TargetState::Completed => STATUS_PUBLISHED,
            TargetState::Failed | TargetState::Skipped => STATUS_FAILED,
            _ => STATUS_SCHEDULED,
        };
        Self {
            id: job.id.clone(),
            platform: target.platform.clone(),
            status: status.to_owned(),
            title: job.title.clone(),
            body: job.caption.clone(),
            scheduled_for: when(job, target),
        }
    }
}

/// A scheduled post is at its date; anything else where it went out (or was accepted).
fn when(job: &Job, target: &Target) -> NaiveDateTime {
    target
        .finished_at
        .filter(|_| job.state != JobState::Scheduled.as_str())
        .or(job.scheduled_for)
        .unwrap_or(job.created_at)
}

/// The profile's posts in `[from, to)`, cancelled ones left out, in time order.
pub fn in_range(
    conn: &mut DbConn,
    profile_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<Post>> {
    // A post shows at one of three times (see `when`): fetch what has any of them in range,
    // then keep what shows in range.
    let rows: Vec<(Job, Target)> = upload_targets::table
        .inner_join(upload_jobs::table)
        .filter(upload_jobs::profile_id.eq(profile_id))
        .filter(upload_jobs::state.ne(JobState::Cancelled.as_str()))
        .filter(
            upload_jobs::scheduled_for
                .ge(from)
                .and(upload_jobs::scheduled_for.lt(to))
                .or(upload_targets::finished_at
                    .ge(from)
                    .and(upload_targets::finished_at.lt(to)))
                .or(upload_jobs::created_at
                    .ge(from)
                    .and(upload_jobs::created_at.lt(to))),
        )
        .select((Job::as_select(), Target::as_select()))
        .load(conn)?;
    let mut posts: Vec<Post> = rows
        .iter()
        .map(|(job, target)| Post::of(job, target))
        .filter(|p| p.scheduled_for >= from && p.scheduled_for < to)
        .collect();
    posts.sort_by(|a, b| (a.scheduled_for, &a.id).cmp(&(b.scheduled_for, &b.id)));
    Ok(posts)
}

/// Cancels one of the profile's scheduled uploads (its credits come back); `None` if the
/// profile has no such upload still scheduled, else the media to delete.
pub fn cancel(
    conn: &mut DbConn,
    profile_id: &str,
    job_id: &str,
) -> QueryResult<Option<Vec<String>>> {
    let account_id: Option<String> = upload_jobs::table
        .filter(upload_jobs::id.eq(job_id))
        .filter(upload_jobs::profile_id.eq(profile_id))
        .select(upload_jobs::account_id)
        .first(conn)
        .optional()?;
    let Some(account_id) = account_id else {
        return Ok(None);
    };
    let change =
        uploads::cancel_scheduled(conn, &account_id, job_id, Some(profile_id), time::now())?;
    Ok(match change {
        ScheduleChange::Done(cancelled) => Some(cancelled.media),
        _ => None,
    })
}
