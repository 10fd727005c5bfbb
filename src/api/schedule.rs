//! `/api/uploadposts/schedule`: scheduled posts — the list, cancelling, moving and editing
//! one, and its media preview. The API key sees the account's posts; a profile JWT
//! (`Authorization: Bearer`) only its profile's, and a read-only link cannot change them.

use super::accounts::ProfileAccess;
use super::extract::{Authenticated, JsonObject};
use crate::db::accounts::Account;
use crate::db::profiles::{self, Profile};
use crate::db::uploads::{self, Job, ScheduleChange};
use crate::domain::profile_fields::FieldError;
use crate::domain::schedule::{ScheduledDate, utc_z};
use crate::domain::{Username, time};
use crate::error::ApiError;
use crate::links::scope::Act;
use crate::publish::engine::Payload;
use crate::publish::publisher::MediaSource;
use crate::state::AppState;
use crate::web::bearer_token;
use actix_web::web::{Data, Path, Query};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// Who is asking: the account, and the profile a profile JWT limits it to.
async fn caller(
    req: &HttpRequest,
    state: &Data<AppState>,
    act: Act,
) -> Result<(Account, Option<Profile>), ApiError> {
    if bearer_token(req).is_some() {
        let access = ProfileAccess::resolve(req, state, None, "profile_username", act).await?;
        return Ok((access.account, Some(access.profile)));
    }
    Ok((Authenticated::extract(req).await?.0, None))
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    profile_username: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

/// A date filter; malformed ones are ignored, as Upload-Post does.
fn instant(raw: &Option<String>) -> Option<NaiveDateTime> {
    let raw = raw.as_deref()?.trim();
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.naive_utc())
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

fn number(raw: &Option<String>, max: i64) -> Option<i64> {
    raw.as_deref()?
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (0..=max).contains(n))
}

#[tracing::instrument(skip_all)]
#[utoipa::path(get, path = "/api/uploadposts/schedule", tag = "publishing", security(("apikey" = []), ("link_token" = [])),
    params(("profile_username" = Option<String>, Query, description = "One profile"), ("from" = Option<String>, Query, description = "Due at or after (ISO); malformed values are ignored, as Upload-Post does"),
           ("to" = Option<String>, Query, description = "Due before (ISO)"), ("limit" = Option<String>, Query, description = "Page size (a whole number; anything else is ignored)"), ("offset" = Option<String>, Query, description = "Skip (a whole number; anything else is ignored)")),
    responses((status = 200, description = "`{scheduled_posts[{job_id, scheduled_date, post_type, profile_username, title, caption, platforms, …}], total, limit, offset}`", body = super::responses::ScheduledPosts)))]
pub async fn list(
    req: HttpRequest,
    state: Data<AppState>,
    query: Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let (account, scoped) = caller(&req, &state, Act::Read).await?;
    let limit = number(&query.limit, 1000).filter(|n| *n > 0);
    let offset = number(&query.offset, i64::MAX).unwrap_or(0);
    let (from, to) = (instant(&query.from), instant(&query.to));
    let named = query
        .profile_username
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(Username::parse)
        .transpose()?;
    let account_id = account.id.clone();
    let (rows, total) = state
        .db
        .run(move |conn| {
            let profile_id = match (scoped, named) {
                (Some(p), _) => Some(p.id),
                (None, Some(name)) => match profiles::find(conn, &account_id, &name)? {
                    Some(p) => Some(p.id),
                    None => return Ok((Vec::new(), 0)),
                },
                (None, None) => None,
            };
            let (jobs, total) = uploads::scheduled(
                conn,
                &account_id,
                profile_id.as_deref(),
                from,
                to,
                offset,
                limit,
            )?;
            let ids: Vec<&str> = jobs.iter().map(|(j, _)| j.id.as_str()).collect();
            let targets = uploads::targets_of(conn, &ids)?;
            let rows: Vec<(Job, String, Vec<String>)> = jobs
                .into_iter()
                .map(|(job, username)| {
                    let platforms = targets
                        .iter()
                        .filter(|t| t.job_id == job.id)
                        .map(|t| t.platform.clone())
                        .collect();
                    (job, username, platforms)
                })
                .collect();
            Ok::<_, ApiError>((rows, total))
        })
        .await?;
    let posts: Vec<Value> = rows
        .iter()
        .map(|(job, username, platforms)| scheduled_view(&state.media, job, username, platforms))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "scheduled_posts": posts,
        "total": total,
        "limit": limit,
        "offset": offset,
    })))
}

/// One scheduled post as the list shows it.
fn scheduled_view(
    media: &dyn MediaSource,
    job: &Job,
    username: &str,
    platforms: &[String],
) -> Value {
    let payload: Option<Payload> = serde_json::from_str(&job.payload).ok();
    let content: Map<String, Value> = platforms
        .iter()
        .map(|p| {
            let fields = payload.as_ref().map(|pl| &pl.fields);
            let title = fields.and_then(|f| f.for_platform(p, "title"));
            let caption = fields.and_then(|f| f.for_platform(p, "description"));
            (p.clone(), json!({"title": title, "caption": caption}))
        })
        .collect();
    let first = payload.as_ref().and_then(|p| p.media.first());
    json!({
        "job_id": job.id,
        "request_id": job.request_id,
        "scheduled_date": job.scheduled_for.map(|t| utc_z(t.and_utc())),
        "post_type": if job.kind == "document" { "unknown" } else { job.kind.as_str() },
        "profile_username": username,
        "title": job.title,
        "caption": job.caption,
        "description": job.caption,
        "external_id": job.external_id,
        "source_filename": first.and_then(|m| m.filename.clone()),
        "platforms": platforms,
        "platform_content": content,
        "queued": job.queued,
        "has_cover": false,
        "cover_preview_url": Value::Null,
        "has_preview": first.is_some(),
        "preview_url": first.map(|m| media.public_url(m)),
        "thumbnail_url": Value::Null,
        "original_timezone": payload.as_ref().and_then(|p| p.timezone.clone()),
        "original_scheduled_str": payload.as_ref().and_then(|p| p.original_scheduled.clone()),
    })
}

fn changed<T>(change: ScheduleChange<T>) -> Result<T, ApiError> {
    match change {
        ScheduleChange::Done(v) => Ok(v),
        ScheduleChange::NotFound => Err(ApiError::JobNotFound),
        ScheduleChange::NotScheduled => Err(ApiError::UploadRejected(
            "This job is no longer scheduled: it has started, finished or been cancelled"
                .to_owned(),
        )),
    }
}

#[tracing::instrument(skip_all)]
#[utoipa::path(delete, path = "/api/uploadposts/schedule/{job_id}", tag = "publishing", security(("apikey" = []), ("link_token" = [])),
    params(("job_id" = String, Path, description = "The scheduled job")),
    responses((status = 200, description = "`{success, message, credits_refunded}`", body = super::responses::ScheduleCancelled),
              (status = 403, description = "READONLY_CALENDAR", body = crate::error::ErrorBody)))]
pub async fn cancel(
    req: HttpRequest,
    state: Data<AppState>,
    job_id: Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (account, scoped) = caller(&req, &state, Act::Edit).await?;
    let id = job_id.into_inner();
    let (account_id, job) = (account.id.clone(), id.clone());
    let profile_id = scoped.map(|p| p.id);
    let change = state
        .db
        .run(move |conn| {
            uploads::cancel_scheduled(conn, &account_id, &job, profile_id.as_deref(), time::now())
                .map_err(ApiError::from)
        })
        .await?;
    let cancelled = changed(change)?;
    state.media.discard(&cancelled.media).await;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "message": format!("Job {id} cancelled and assets deleted."),
        "credits_refunded": cancelled.credits,
    })))
}

#[tracing::instrument(skip_all)]
#[utoipa::path(patch, path = "/api/uploadposts/schedule/{job_id}", tag = "publishing", security(("apikey" = []), ("link_token" = [])),
    params(("job_id" = String, Path, description = "The scheduled job")),
    request_body = Option<super::schemas::ScheduleEdit>,
    responses((status = 200, description = "`{success, job_id, scheduled_date, title, caption}`", body = super::responses::ScheduleEdited),
              (status = 403, description = "READONLY_CALENDAR", body = crate::error::ErrorBody)))]
pub async fn edit(
    req: HttpRequest,
    state: Data<AppState>,
    job_id: Path<String>,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let (account, scoped) = caller(&req, &state, Act::Edit).await?;
    let text = |name: &'static str| -> Result<Option<String>, ApiError> {
        match body.get(name) {
            None | Some(Value::Null) => Ok(None),
            // An empty string means "not given", as clients send it.
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(FieldError::new(name, "must be a string").into()),
        }
    };
    let (date, zone, title, caption) = (
        text("scheduled_date")?,
        text("timezone")?,
        text("title")?,
        text("caption")?,
    );
    if date.is_none() && title.is_none() && caption.is_none() {
        return Err(ApiError::UploadRejected(
            "Nothing to change: send scheduled_date, title or caption".to_owned(),
        ));
    }
    let at = date
        .map(|d| ScheduledDate::parse(&d, zone.as_deref(), chrono::Utc::now()))
        .transpose()
        .map_err(FieldError::from)?;
    let (account_id, id) = (account.id.clone(), job_id.into_inner());
    let profile_id = scoped.map(|p| p.id);
    let change = state
        .db
        .run(move |conn| {
            let edit = if title.is_some() || caption.is_some() {
                let Some(job) = uploads::find(conn, &account_id, uploads::JobRef::Job(&id))? else {
                    return Ok(ScheduleChange::NotFound);
                };
                let mut payload: Payload =
                    serde_json::from_str(&job.payload).map_err(|e| ApiError::Internal(e.into()))?;
                if let Some(t) = &title {
                    payload.fields.remove("title");
                    payload.fields.push("title", t.clone());
                }
                if let Some(c) = &caption {
                    payload.fields.remove("description");
                    payload.fields.push("description", c.clone());
                }
                let stored =
                    serde_json::to_string(&payload).map_err(|e| ApiError::Internal(e.into()))?;
                Some((
                    stored,
                    title.clone().or(job.title),
                    caption.clone().or(job.caption),
                ))
            } else {
                None
            };
            uploads::edit_scheduled(
                conn,
                &account_id,
                &id,
                profile_id.as_deref(),
                at.as_ref().map(ScheduledDate::naive_utc),
                edit,
                time::now(),
            )
            .map_err(ApiError::from)
        })
        .await?;
    let job = changed(change)?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "job_id": job.id,
        "scheduled_date": job.scheduled_for.map(|t| utc_z(t.and_utc())),
        "title": job.title,
        "caption": job.caption,
    })))
}

/// n8n's "Edit Scheduled" sends POST: the same edit.
#[utoipa::path(post, path = "/api/uploadposts/schedule/{job_id}", tag = "publishing", security(("apikey" = []), ("link_token" = [])),
    params(("job_id" = String, Path, description = "The scheduled job")),
    request_body = Option<super::schemas::ScheduleEdit>,
    responses((status = 200, description = "As PATCH", body = super::responses::ScheduleEdited)))]
pub async fn edit_by_post(
    req: HttpRequest,
    state: Data<AppState>,
    job_id: Path<String>,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    edit(req, state, job_id, body).await
}

#[tracing::instrument(skip_all)]
#[utoipa::path(get, path = "/api/uploadposts/schedule/{job_id}/preview", tag = "publishing", security(("apikey" = []), ("link_token" = [])),
    params(("job_id" = String, Path, description = "The scheduled job")),
    responses((status = 200, description = "`{success, job_id, media[{media_type, content_type, url}]}`: signed URLs valid for hours", body = super::responses::SchedulePreview)))]
pub async fn preview(
    req: HttpRequest,
    state: Data<AppState>,
    job_id: Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (account, scoped) = caller(&req, &state, Act::Read).await?;
    let (account_id, id) = (account.id.clone(), job_id.into_inner());
    let job = state
        .db
        .run(move |conn| {
            uploads::find(conn, &account_id, uploads::JobRef::Job(&id)).map_err(ApiError::from)
        })
        .await?
        .filter(|j| scoped.as_ref().is_none_or(|p| p.id == j.profile_id))
        .ok_or(ApiError::JobNotFound)?;
    let payload: Payload =
        serde_json::from_str(&job.payload).map_err(|e| ApiError::Internal(e.into()))?;
    let media: Vec<Value> = payload
        .media
        .iter()
        .map(|m| {
            json!({
                "media_type": m.kind.as_str(),
                "content_type": m.content_type,
                "url": state.media.public_url(m),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({"success": true, "job_id": job.id, "media": media})))
}
