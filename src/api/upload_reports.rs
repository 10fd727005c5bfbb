//! `GET /api/uploadposts/status` and `/history`: where uploads stand, per platform.

use super::extract::Authenticated;
use crate::db::uploads::{self, HistoryFilter, JobRef};
use crate::domain::time;
use crate::error::ApiError;
use crate::publish::report;
use crate::state::AppState;
use actix_web::HttpResponse;
use actix_web::web::{Data, Query};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
pub struct StatusQuery {
    request_id: Option<String>,
    job_id: Option<String>,
}

#[tracing::instrument(skip_all, fields(account = %auth.0.id))]
#[utoipa::path(get, path = "/api/uploadposts/status", tag = "publishing", security(("apikey" = [])),
    params(("request_id" = Option<String>, Query, description = "The upload's request_id"), ("job_id" = Option<String>, Query, description = "Or its job_id")),
    responses((status = 200, description = "`{request_id, status, completed, total, results[…], last_update}`; `success` only once final", body = super::responses::UploadStatus),
              (status = 404, description = "`{status: \"not_found\"}`", body = crate::error::ErrorBody)))]
pub async fn status(
    state: Data<AppState>,
    auth: Authenticated,
    query: Query<StatusQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let (id, by_job) = match (non_empty(query.job_id), non_empty(query.request_id)) {
        (Some(job), _) => (job, true),
        (None, Some(request)) => (request, false),
        (None, None) => {
            return Err(ApiError::UploadRejected(
                "request_id or job_id is required".to_owned(),
            ));
        }
    };
    let account_id = auth.0.id;
    let lookup = id.clone();
    let found = state
        .db
        .run(move |conn| {
            let by = if by_job {
                JobRef::Job(&lookup)
            } else {
                JobRef::Request(&lookup)
            };
            let Some(job) = uploads::find(conn, &account_id, by)? else {
                return Ok(None);
            };
            let targets = uploads::targets_of(conn, &[&job.id])?;
            Ok::<_, ApiError>(Some((job, targets)))
        })
        .await?;
    let (job, targets) = found.ok_or(ApiError::UploadNotFound { id, by_job })?;
    Ok(HttpResponse::Ok().json(report::status(&job, &targets, by_job, time::now())))
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

#[derive(Debug, Deserialize)]
pub struct HistoryQuery {
    page: Option<String>,
    limit: Option<String>,
    platform: Option<String>,
    status: Option<String>,
    profile_username: Option<String>,
    profile: Option<String>,
    request_id: Option<String>,
    job_id: Option<String>,
    external_id: Option<String>,
    start: Option<String>,
    end: Option<String>,
}

/// History pages are at most this long ([mcp] asks for up to 200).
const MAX_LIMIT: i64 = 200;
/// `start` and `end` may be at most this far apart.
const MAX_SPAN_DAYS: i64 = 62;
/// `in_progress` looks back this far.
const IN_PROGRESS_HOURS: i64 = 24;
const IN_PROGRESS_MAX: i64 = 100;

impl HistoryQuery {
    fn page_and_limit(&self) -> Result<(i64, i64), ApiError> {
        let number =
            |raw: &Option<String>, default: i64, max: i64, what: &str| match non_empty(raw.clone())
            {
                None => Ok(default),
                Some(s) => s
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| ApiError::UploadRejected(format!("Invalid {what}"))),
            };
        Ok((
            number(&self.page, 1, 1_000_000, "page")?,
            number(&self.limit, 10, MAX_LIMIT, "limit")?,
        ))
    }

    fn filter(&self) -> Result<HistoryFilter, ApiError> {
        let success = match non_empty(self.status.clone()).as_deref() {
            None => None,
            Some("success") => Some(true),
            Some("failed") => Some(false),
            Some(_) => {
                return Err(ApiError::UploadRejected(
                    "status must be success or failed".to_owned(),
                ));
            }
        };
        let (from, to) = match (non_empty(self.start.clone()), non_empty(self.end.clone())) {
            (None, None) => (None, None),
            (Some(start), Some(end)) => {
                let from = instant(&start, false)?;
                let to = instant(&end, true)?;
                if to <= from || to - from > Duration::days(MAX_SPAN_DAYS) {
                    return Err(ApiError::UploadRejected(
                        "start must be before end, at most two months apart".to_owned(),
                    ));
                }
                (Some(from), Some(to))
            }
            _ => {
                return Err(ApiError::UploadRejected(
                    "start and end must be given together".to_owned(),
                ));
            }
        };
        Ok(HistoryFilter {
            platform: non_empty(self.platform.clone())
                .map(|p| crate::domain::Platform::parse(&p).map_or(p, |p| p.key().to_owned())),
            success,
            profile_username: non_empty(self.profile_username.clone())
                .or_else(|| non_empty(self.profile.clone())),
            request_id: non_empty(self.request_id.clone()),
            job_id: non_empty(self.job_id.clone()),
            external_id: non_empty(self.external_id.clone()),
            from,
            to,
        })
    }
}

/// A `YYYY-MM-DD` date (the whole day: `end_of_day` takes its end) or an ISO instant.
fn instant(raw: &str, end_of_day: bool) -> Result<NaiveDateTime, ApiError> {
    if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let start = day.and_hms_opt(0, 0, 0).unwrap_or_default();
        return Ok(if end_of_day {
            start + Duration::days(1)
        } else {
            start
        });
    }
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|t| t.naive_utc())
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f"))
        .map_err(|_| ApiError::UploadRejected(format!("Invalid date: {raw}")))
}

#[tracing::instrument(skip_all, fields(account = %auth.0.id))]
#[utoipa::path(get, path = "/api/uploadposts/history", tag = "publishing", security(("apikey" = [])),
    params(("page" = Option<i64>, Query, description = "From 1"), ("limit" = Option<i64>, Query, description = "1–200, default 10"),
           ("platform" = Option<String>, Query, description = "One platform"), ("status" = Option<String>, Query, description = "success | failed"),
           ("profile_username" = Option<String>, Query, description = "One profile (alias `profile`)"), ("request_id" = Option<String>, Query, description = "Exact"),
           ("job_id" = Option<String>, Query, description = "Exact"), ("external_id" = Option<String>, Query, description = "Exact"),
           ("start" = Option<String>, Query, description = "With `end`: YYYY-MM-DD or ISO, at most two months apart"), ("end" = Option<String>, Query, description = "See `start`")),
    responses((status = 200, description = "`{history[…], in_progress[…], total, page, limit}`: one row per platform per upload, newest first", body = super::responses::UploadHistory),
              (status = 400, description = "`{error: \"Invalid page\"}` and the like", body = crate::error::ErrorBody)))]
pub async fn history(
    state: Data<AppState>,
    auth: Authenticated,
    query: Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let (page, limit) = query.page_and_limit()?;
    let filter = query.filter()?;
    let account = auth.0;
    let account_id = account.id.clone();
    let now = time::now();
    let (rows, total, running) = state
        .db
        .run(move |conn| {
            let (rows, total) =
                uploads::history(conn, &account_id, &filter, (page - 1) * limit, limit)?;
            let running = uploads::in_progress(
                conn,
                &account_id,
                filter.profile_username.as_deref(),
                now - Duration::hours(IN_PROGRESS_HOURS),
                IN_PROGRESS_MAX,
            )?;
            let mut job_ids: Vec<&str> = rows.iter().map(|(j, _, _)| j.id.as_str()).collect();
            job_ids.extend(running.iter().map(|(j, _)| j.id.as_str()));
            job_ids.sort_unstable();
            job_ids.dedup();
            let targets = uploads::targets_of(conn, &job_ids)?;
            let running = running
                .into_iter()
                .map(|(job, _)| {
                    let own: Vec<_> = targets
                        .iter()
                        .filter(|t| t.job_id == job.id)
                        .cloned()
                        .collect();
                    (job, own)
                })
                .collect::<Vec<_>>();
            let totals: Vec<(String, usize)> = rows
                .iter()
                .map(|(j, _, _)| {
                    (
                        j.id.clone(),
                        targets.iter().filter(|t| t.job_id == j.id).count(),
                    )
                })
                .collect();
            Ok::<_, ApiError>((
                rows.into_iter().zip(totals).collect::<Vec<_>>(),
                total,
                running,
            ))
        })
        .await?;
    let history: Vec<_> = rows
        .iter()
        .map(|((job, target, username), (_, count))| {
            report::history_row(
                job,
                target,
                username,
                account.email.as_deref(),
                *count,
                media_bytes(job),
            )
        })
        .collect();
    let in_progress: Vec<_> = running
        .iter()
        .filter(|(job, targets)| filter_matches(&query, job, targets))
        .map(|(job, targets)| report::status(job, targets, true, now))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "history": history,
        "in_progress": in_progress,
        "total": total,
        "page": page,
        "limit": limit,
    })))
}

/// The filters that apply to a running upload as a whole.
fn filter_matches(query: &HistoryQuery, job: &uploads::Job, targets: &[uploads::Target]) -> bool {
    let eq = |want: &Option<String>, have: Option<&str>| {
        non_empty(want.clone()).is_none_or(|w| have == Some(w.as_str()))
    };
    eq(&query.request_id, Some(&job.request_id))
        && eq(&query.job_id, Some(&job.id))
        && eq(&query.external_id, job.external_id.as_deref())
        && non_empty(query.platform.clone()).is_none_or(|p| {
            let key = crate::domain::Platform::parse(&p).map_or(p, |p| p.key().to_owned());
            targets.iter().any(|t| t.platform == key)
        })
}

/// The bytes of media an upload carried.
fn media_bytes(job: &uploads::Job) -> u64 {
    serde_json::from_str::<crate::publish::engine::Payload>(&job.payload)
        .map(|p| {
            p.media
                .iter()
                .chain(p.attachments.iter().map(|a| &a.media))
                .map(|m| m.size)
                .sum()
        })
        .unwrap_or(0)
}
