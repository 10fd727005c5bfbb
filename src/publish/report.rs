//! How an upload is reported: the status body (publishing reference 1.5) and history rows
//! (1.7), from a job and its targets.

use crate::db::uploads::{Job, Target};
use crate::domain::upload::{JobState, TargetState};
use chrono::{Duration, NaiveDateTime};
use serde_json::{Map, Value, json};

/// An upload with no activity for this long is reported failed.
const SILENT_FOR_HOURS: i64 = 1;
const SILENT_MESSAGE: &str = "Upload appears to have failed (no activity for over 1 hour)";

crate::domain::wire::wire_names! {
    /// Where an upload stands as a whole: the status body's `status`.
    pub enum Lifecycle {
        /// Scheduled for later.
        Pending = "pending",
        /// Due, waiting for a worker.
        Queued = "queued",
        Processing = "processing",
        /// Some platforms are done, others not yet.
        InProgress = "in_progress",
        /// Every platform is final, at least one published.
        Completed = "completed",
        /// Every platform is final and none published (or nothing moved for an hour).
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

crate::domain::wire::wire_names! {
    /// Whether the scheduler still has work for the upload: the status body's
    /// `scheduler_status`.
    pub enum SchedulerStatus {
        Scheduled = "scheduled",
        Running = "running",
        Finished = "finished",
    }
}

impl Lifecycle {
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }

    /// Where a job stands. `silent`: no activity for an hour while not terminal.
    pub fn of(job: &Job, targets: &[Target], now: NaiveDateTime) -> (Self, bool) {
        if job.state == JobState::Cancelled.as_str() {
            return (Self::Cancelled, false);
        }
        let states: Vec<TargetState> = targets.iter().map(Target::state).collect();
        let all_final = states.iter().all(|s| s.is_final());
        if all_final {
            let any_published = states.contains(&TargetState::Completed);
            return (
                if any_published {
                    Self::Completed
                } else {
                    Self::Failed
                },
                false,
            );
        }
        if job.state == JobState::Scheduled.as_str() {
            return (Self::Pending, false);
        }
        let last = last_update(job, targets);
        if now - last > Duration::hours(SILENT_FOR_HOURS) {
            return (Self::Failed, true);
        }
        let lifecycle = if states.iter().any(|s| s.is_final()) {
            Self::InProgress
        } else if states
            .iter()
            .any(|s| matches!(s, TargetState::Processing | TargetState::Retryable))
        {
            Self::Processing
        } else {
            Self::Queued
        };
        (lifecycle, false)
    }
}

fn last_update(job: &Job, targets: &[Target]) -> NaiveDateTime {
    targets
        .iter()
        .map(|t| t.updated_at)
        .max()
        .unwrap_or(job.created_at)
        .max(job.created_at)
}

/// Milliseconds and a `Z`, as history and status show times.
pub fn timestamp(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The status body. `by_job`: asked for by `job_id` (echoed as such).
pub fn status(job: &Job, targets: &[Target], by_job: bool, now: NaiveDateTime) -> Value {
    let (lifecycle, silent) = Lifecycle::of(job, targets, now);
    let count = |s: TargetState| targets.iter().filter(|t| t.state() == s).count();
    let results: Vec<Value> = targets.iter().map(|t| platform_status(job, t)).collect();
    let mut body = Map::new();
    if lifecycle.is_terminal() {
        // Only a final body says `success`: the n8n poller stops when it reads true.
        body.insert("success".into(), (lifecycle == Lifecycle::Completed).into());
    }
    body.insert("request_id".into(), job.request_id.clone().into());
    if by_job || job.scheduled_for.is_some() || job.is_async {
        body.insert("job_id".into(), job.id.clone().into());
    }
    body.insert("external_id".into(), job.external_id.clone().into());
    body.insert("status".into(), lifecycle.as_str().into());
    let scheduler = if lifecycle.is_terminal() {
        SchedulerStatus::Finished
    } else if lifecycle == Lifecycle::Pending {
        SchedulerStatus::Scheduled
    } else {
        SchedulerStatus::Running
    };
    body.insert("scheduler_status".into(), scheduler.as_str().into());
    let final_count = targets.iter().filter(|t| t.state().is_final()).count();
    body.insert("completed".into(), final_count.into());
    body.insert("total".into(), targets.len().into());
    body.insert("failed".into(), count(TargetState::Failed).into());
    body.insert("retryable".into(), count(TargetState::Retryable).into());
    body.insert("skipped".into(), count(TargetState::Skipped).into());
    if let Some(at) = job.scheduled_for {
        body.insert("scheduled_date".into(), timestamp(at).into());
    }
    body.insert(
        "message".into(),
        if silent {
            SILENT_MESSAGE.to_owned()
        } else {
            format!("{final_count} of {} platforms done", targets.len())
        }
        .into(),
    );
    body.insert("results".into(), results.into());
    body.insert(
        "last_update".into(),
        timestamp(last_update(job, targets)).into(),
    );
    Value::Object(body)
}

/// One platform of the status body's `results`.
fn platform_status(job: &Job, t: &Target) -> Value {
    let state = t.state();
    let mut out = Map::new();
    out.insert("platform".into(), t.platform.clone().into());
    let success = state == TargetState::Completed;
    out.insert("success".into(), success.into());
    out.insert("status".into(), state.as_str().into());
    out.insert(
        "message".into(),
        match state {
            TargetState::Queued => "Queued".to_owned(),
            TargetState::Processing => "Processing".to_owned(),
            TargetState::Completed => "Published".to_owned(),
            _ => t
                .error_message
                .clone()
                .unwrap_or_else(|| "Failed".to_owned()),
        }
        .into(),
    );
    out.insert("attempts".into(), t.attempts.into());
    out.insert("platform_post_id".into(), t.platform_post_id.clone().into());
    out.insert("post_url".into(), t.post_url.clone().into());
    out.insert("error_code".into(), t.error_code.clone().into());
    out.insert("error_message".into(), t.error_message.clone().into());
    if let Some(result) = t.result_json() {
        for key in ["failure_stage", "skip_reason", "error_source", "warnings"] {
            if let Some(v) = result.get(key) {
                out.insert(key.into(), v.clone());
            }
        }
        if !success && let Some(r) = result.get("retryable") {
            out.insert("retryable".into(), r.clone());
        }
    }
    out.insert(
        "upload_timestamp".into(),
        timestamp(t.finished_at.unwrap_or(t.updated_at)).into(),
    );
    out.insert("request_id".into(), job.request_id.clone().into());
    out.insert("job_id".into(), job.id.clone().into());
    Value::Object(out)
}

/// A history row: one platform of one upload.
pub fn history_row(
    job: &Job,
    t: &Target,
    profile_username: &str,
    user_email: Option<&str>,
    total_platforms: usize,
    media_bytes: u64,
) -> Value {
    let result = t.result_json().unwrap_or(Value::Null);
    let field = |k: &str| result.get(k).cloned().unwrap_or(Value::Null);
    json!({
        "user_email": user_email,
        "profile_username": profile_username,
        "platform": t.platform,
        "media_type": job.kind,
        "upload_timestamp": timestamp(t.finished_at.unwrap_or(t.updated_at)),
        "success": t.state() == TargetState::Completed,
        "status": t.state().as_str(),
        "platform_post_id": result.get("post_ids").cloned().unwrap_or_else(|| t.platform_post_id.clone().into()),
        "post_url": t.post_url,
        "error_message": t.error_message,
        "error_code": t.error_code,
        "media_size_bytes": media_bytes,
        "post_title": job.title,
        "post_caption": job.caption,
        "is_async": job.is_async,
        "job_id": job.id,
        "request_id": job.request_id,
        "external_id": job.external_id,
        "request_total_platforms": total_platforms,
        "dashboard": false,
        "video_was_transcoded": false,
        "changes": field("changes"),
        "prevalidation_metadata": field("prevalidation_metadata"),
        "fallback_to_inbox": false,
    })
}
