//! `POST /api/upload_text`, `/api/upload_photos`, `/api/upload` and `/api/upload_document`:
//! read the request (any encoding real clients use), store its media, hand it to the
//! publishing engine, and answer in the shape its mode calls for (publishing reference 1.4).

use super::extract::Authenticated;
use super::upload_form::{MediaInput, UploadForm, UploadFormConfig};
use crate::db::profiles;
use crate::db::uploads::{self, Job, JobRef, Target};
use crate::db::usage as db_usage;
use crate::domain::platform_list::PlatformList;
use crate::domain::profile_fields::FieldError;
use crate::domain::queue;
use crate::domain::schedule::{ScheduledDate, utc_z};
use crate::domain::upload::{Fields, JobState, MediaKind, PostKind};
use crate::domain::usage::{Period, Usage};
use crate::domain::{Limit, Username};
use crate::domain::{text, time};
use crate::error::ApiError;
use crate::publish::engine::{Accepted, Payload, Submission, When};
use crate::publish::publisher::{Attachment, Media};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::web::{self, Data};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Map, Value, json};

/// `external_id` is a label of at most this many characters.
const MAX_EXTERNAL_ID: usize = 255;
/// Client-chosen request ids and idempotency keys are at most this long.
const MAX_KEY: usize = 200;

#[utoipa::path(post, path = "/api/upload_text", tag = "publishing", security(("apikey" = [])),
    request_body(content = String, description = "Form fields (multipart, urlencoded or JSON): `user`, `platform[]`, `title`, per-platform fields, `scheduled_date`, `add_to_queue`, `async_upload`", content_type = "multipart/form-data"),
    responses((status = 200, description = "`{success, results{platform:{…}}, usage}`, or `{success, message, request_id, job_id}` when it continues in the background", body = super::responses::UploadAnswer),
              (status = 202, description = "Scheduled or queued: `{success, job_id, scheduled_date}`", body = super::responses::UploadScheduled)))]
pub async fn upload_text(
    state: Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    submit(state, auth, req, payload, PostKind::Text).await
}

#[utoipa::path(post, path = "/api/upload_photos", tag = "publishing", security(("apikey" = [])),
    request_body(content = String, description = "As `/api/upload_text`, with `photos[]` (files or URLs)", content_type = "multipart/form-data"),
    responses((status = 200, description = "As `/api/upload_text`", body = super::responses::UploadAnswer),
              (status = 202, description = "Scheduled or queued", body = super::responses::UploadScheduled)))]
pub async fn upload_photos(
    state: Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    submit(state, auth, req, payload, PostKind::Photos).await
}

#[utoipa::path(post, path = "/api/upload", tag = "publishing", security(("apikey" = [])),
    request_body(content = String, description = "As `/api/upload_text`, with `video` (a file or a URL)", content_type = "multipart/form-data"),
    responses((status = 200, description = "As `/api/upload_text`", body = super::responses::UploadAnswer),
              (status = 202, description = "Scheduled or queued", body = super::responses::UploadScheduled)))]
pub async fn upload_video(
    state: Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    submit(state, auth, req, payload, PostKind::Video).await
}

#[utoipa::path(post, path = "/api/upload_document", tag = "publishing", security(("apikey" = [])),
    request_body(content = String, description = "As `/api/upload_text`, with `document` (PDF, PPT, PPTX, DOC or DOCX); LinkedIn only", content_type = "multipart/form-data"),
    responses((status = 200, description = "`{success, message, request_id, results}`", body = super::responses::UploadAnswer),
              (status = 202, description = "Scheduled or queued", body = super::responses::UploadScheduled)))]
pub async fn upload_document(
    state: Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    submit(state, auth, req, payload, PostKind::Document).await
}

/// Which media field each kind of upload publishes, and what it may hold.
fn media_rules(kind: PostKind) -> Option<(&'static str, &'static [MediaKind])> {
    match kind {
        PostKind::Text => None,
        PostKind::Photos => Some(("photos", &[MediaKind::Image, MediaKind::Video])),
        PostKind::Video => Some(("video", &[MediaKind::Video])),
        PostKind::Document => Some(("document", &[MediaKind::Document])),
    }
}

/// The request's idempotency key: `Idempotency-Key`, `X-Idempotency-Key`.
fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    ["idempotency-key", "x-idempotency-key"]
        .iter()
        .find_map(|h| req.headers().get(*h))
        .map(|v| bounded("Idempotency-Key", v.to_str().unwrap_or_default(), MAX_KEY))
        .transpose()
        .map(Option::flatten)
}

/// A client label, trimmed; empty means absent; too long is refused.
fn bounded(what: &str, raw: &str, max: usize) -> Result<Option<String>, ApiError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    if raw.chars().count() > max {
        return Err(ApiError::UploadRejected(format!(
            "{what} is longer than {max} characters"
        )));
    }
    if text::has_invisible(raw) {
        return Err(ApiError::UploadRejected(format!(
            "{what} must not contain control or invisible formatting characters"
        )));
    }
    Ok(Some(raw.to_owned()))
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// One path for the four endpoints. The body is read only once the caller is known: a
/// request with a bad key never spools a file.
async fn submit(
    state: Data<AppState>,
    auth: Authenticated,
    req: HttpRequest,
    payload: web::Payload,
    kind: PostKind,
) -> Result<HttpResponse, ApiError> {
    let account = auth.0;
    let config = req
        .app_data::<Data<UploadFormConfig>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("UploadFormConfig missing")))?;
    let UploadForm { mut fields, media } =
        UploadForm::read(&req, payload.into_inner(), &config).await?;
    let username = fields
        .text("user")
        .ok_or_else(|| ApiError::UploadRejected("Username required in form data".to_owned()))
        .and_then(|u| Ok(Username::parse(u)?))?;
    if kind == PostKind::Document && fields.all("platform").is_empty() {
        fields.push("platform", "linkedin");
    }
    let platforms = PlatformList::from_fields(&fields)?;
    if kind != PostKind::Photos && fields.text("title").is_none() {
        return Err(ApiError::UploadRejected(
            match kind {
                PostKind::Video => "Video file and title are required",
                PostKind::Document => "Document file and title are required",
                _ => "Title is required",
            }
            .to_owned(),
        ));
    }
    let when = schedule(&fields)?;
    let request_id = fields
        .text("request_id")
        .or_else(|| header(&req, "x-request-id"))
        .map(|r| bounded("request_id", r, MAX_KEY))
        .transpose()?
        .flatten();
    let idempotency_key = idempotency_key(&req)?;
    let external_id = fields
        .text("external_id")
        .or_else(|| header(&req, "x-external-id"))
        .map(|e| bounded("external_id", e, MAX_EXTERNAL_ID))
        .transpose()?
        .flatten();
    let is_async = fields.flag("async_upload")?.unwrap_or(false);
    let allowance = state.plan_of(&account)?.monthly_posts;
    let account_id = account.id.clone();
    let (profile, repeat) = {
        let (key, request) = (idempotency_key.clone(), request_id.clone());
        state
            .db
            .run(move |conn| {
                let profile = profiles::find(conn, &account_id, &username)?;
                let since = time::now() - chrono::Duration::hours(24);
                let repeat = match (&key, &request) {
                    (Some(k), _) => uploads::by_idempotency_key(conn, &account_id, k, since)?,
                    (None, Some(r)) => uploads::find(conn, &account_id, JobRef::Request(r))?,
                    (None, None) => None,
                };
                Ok::<_, ApiError>((profile, repeat))
            })
            .await?
    };
    let profile = profile.ok_or(ApiError::NothingFound("User not found"))?;
    // A repeat costs nothing: no media is stored again.
    if let Some(job) = repeat {
        return answer_repeat(&state, job).await;
    }
    let (stored, attachments) =
        store_media(&state, &account.id, &profile.id, kind, media, &fields).await?;
    let (timezone, original_scheduled) = match &when {
        Scheduling::At(date) => (
            Some(date.original_timezone().as_str().to_owned()),
            Some(date.original_scheduled_str().to_owned()),
        ),
        _ => (None, None),
    };
    let submission = Submission {
        account_id: account.id.clone(),
        profile,
        kind,
        platforms: platforms.as_slice().to_vec(),
        payload: Payload {
            fields,
            media: stored,
            attachments,
            timezone,
            original_scheduled,
        },
        request_id,
        idempotency_key,
        external_id,
        is_async,
        when: when.resolve(),
        allowance,
    };
    let when = submission.when;
    let engine = state.publishing.clone();
    let media_ids = submission.payload.media_ids();
    let accepted = match engine.accept(submission).await {
        Ok(accepted) => accepted,
        Err(refused) => {
            // Nothing will publish what was stored for a refused upload.
            state.media.discard(&media_ids).await;
            return Err(refused);
        }
    };
    match accepted {
        Accepted::Repeat(job) => answer_repeat(&state, job).await,
        Accepted::New {
            job,
            targets,
            lease: Some(lease),
        } => {
            let total = targets.len();
            let running = engine.start(job.clone(), targets, lease);
            if is_async {
                return Ok(HttpResponse::Ok().json(async_body(&job, total, false)));
            }
            // A platform that processes the upload (a video) leaves its post waiting when the
            // run ends: the answer waits for that too, within the same budget.
            let until = tokio::time::Instant::now() + engine.settings().sync_budget;
            if tokio::time::timeout_at(until, running).await.is_err() {
                return Ok(HttpResponse::Ok().json(async_body(&job, total, true)));
            }
            let (targets, settled) = engine.settle(&job, until).await?;
            if !settled {
                return Ok(HttpResponse::Ok().json(async_body(&job, total, true)));
            }
            let mut body = sync_body(&job, &targets);
            body["usage"] = usage_now(&state, &account.id, allowance).await?;
            Ok(HttpResponse::Ok().json(body))
        }
        Accepted::New { job, .. } => Ok(HttpResponse::build(StatusCode::ACCEPTED)
            .json(scheduled_body(&job, matches!(when, When::Queue { .. })))),
    }
}

/// The account's post usage this month, as sync answers carry it.
async fn usage_now(
    state: &AppState,
    account_id: &str,
    allowance: Limit,
) -> Result<Value, ApiError> {
    let account_id = account_id.to_owned();
    let period = Period::containing(time::now());
    let count = state
        .db
        .run(move |conn| db_usage::current(conn, &account_id, &period).map_err(ApiError::from))
        .await?;
    serde_json::to_value(Usage::new(
        count,
        allowance,
        &Period::containing(time::now()),
    ))
    .map_err(|e| ApiError::Internal(e.into()))
}

/// When the request asked for its upload to go out.
enum Scheduling {
    Now,
    At(ScheduledDate),
    Queue(Option<u32>),
}

impl Scheduling {
    fn resolve(&self) -> When {
        match self {
            Self::Now => When::Now,
            Self::At(date) => When::At(date.naive_utc()),
            Self::Queue(max_per_slot) => When::Queue {
                max_per_slot: *max_per_slot,
            },
        }
    }
}

/// `scheduled_date` (with `timezone`), or `add_to_queue` (with `max_posts_per_slot`); not
/// both.
fn schedule(fields: &Fields) -> Result<Scheduling, ApiError> {
    let queued = fields.flag("add_to_queue")?.unwrap_or(false);
    match (fields.text("scheduled_date"), queued) {
        (Some(_), true) => Err(ApiError::UploadRejected(
            "scheduled_date and add_to_queue cannot be combined".to_owned(),
        )),
        (Some(raw), false) => {
            let date = ScheduledDate::parse(raw, fields.text("timezone"), chrono::Utc::now())
                .map_err(FieldError::from)?;
            Ok(Scheduling::At(date))
        }
        (None, true) => {
            let max = fields
                .text("max_posts_per_slot")
                .map(|raw| queue::max_posts_per_slot("max_posts_per_slot", &raw.into()))
                .transpose()?;
            Ok(Scheduling::Queue(max))
        }
        (None, false) => Ok(Scheduling::Now),
    }
}

/// Fields whose files are kept with the upload besides its own media (covers, thumbnails),
/// with the kinds each takes; the publishers read them as the post's attachments.
const ATTACHMENT_FIELDS: &[(&str, &[MediaKind])] = &[
    ("cover_image", &[MediaKind::Image]),
    ("thumbnail", &[MediaKind::Image]),
    ("tiktok_cover_image", &[MediaKind::Image]),
    ("x_article_cover_media", &[MediaKind::Image]),
    ("first_comment_media", &[MediaKind::Image, MediaKind::Video]),
];

/// Text fields naming an attachment by URL (the official SDKs send `thumbnail_url`, never a
/// file), fetched like media URLs when no file came for that attachment.
const ATTACHMENT_URLS: &[(&str, &str)] = &[("thumbnail_url", "thumbnail")];

/// Stores the request's media of the kind's field, in order, and the files of the
/// attachment fields; others are ignored. What was stored is deleted again when a part
/// is refused.
async fn store_media(
    state: &AppState,
    account_id: &str,
    profile_id: &str,
    kind: PostKind,
    parts: Vec<super::upload_form::MediaPart>,
    fields: &Fields,
) -> Result<(Vec<Media>, Vec<Attachment>), ApiError> {
    let main = media_rules(kind);
    let mut stored = Vec::new();
    let mut attachments = Vec::new();
    let mut outcome = Ok(());
    for part in parts {
        let own = main.filter(|(field, _)| *field == part.field);
        let allowed = match own {
            Some((_, allowed)) => allowed,
            None => match ATTACHMENT_FIELDS.iter().find(|(f, _)| *f == part.field) {
                Some((_, allowed)) => *allowed,
                None => continue,
            },
        };
        match ingest(state, account_id, profile_id, part.input, allowed).await {
            Ok(media) if own.is_some() => stored.push(media),
            Ok(media) => attachments.push(Attachment {
                field: part.field,
                media,
            }),
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    for (url_field, field) in ATTACHMENT_URLS {
        let given = attachments.iter().any(|a| a.field == *field);
        let (Ok(()), false, Some(url)) = (&outcome, given, fields.text(url_field)) else {
            continue;
        };
        let fetched = state
            .media
            .ingest_url(account_id, Some(profile_id), url, &[MediaKind::Image])
            .await;
        match fetched {
            Ok(media) => attachments.push(Attachment {
                field: (*field).to_owned(),
                media,
            }),
            Err(e) => outcome = Err(e.into()),
        }
    }
    if outcome.is_ok() && main.is_some() && stored.is_empty() {
        outcome = Err(ApiError::UploadRejected(match kind {
            PostKind::Photos => "At least one photo is required (photos[])".to_owned(),
            PostKind::Video => "Video file and title are required".to_owned(),
            _ => "Document file and title are required".to_owned(),
        }));
    }
    if let Err(e) = outcome {
        let ids: Vec<String> = stored
            .iter()
            .chain(attachments.iter().map(|a| &a.media))
            .map(|m| m.id.clone())
            .collect();
        state.media.discard(&ids).await;
        return Err(e);
    }
    Ok((stored, attachments))
}

/// Stores one media part: a file the request carried, or what its URL serves.
async fn ingest(
    state: &AppState,
    account_id: &str,
    profile_id: &str,
    input: MediaInput,
    allowed: &[MediaKind],
) -> Result<Media, ApiError> {
    let media = match input {
        MediaInput::File { path, filename, .. } => {
            state
                .media
                .ingest_file(
                    account_id,
                    Some(profile_id),
                    &path,
                    filename.as_deref(),
                    allowed,
                )
                .await?
        }
        MediaInput::Url(url) => {
            state
                .media
                .ingest_url(account_id, Some(profile_id), url.as_str(), allowed)
                .await?
        }
    };
    Ok(media)
}

async fn targets_of(state: &AppState, job: &Job) -> Result<Vec<Target>, ApiError> {
    let id = job.id.clone();
    state
        .db
        .run(move |conn| uploads::targets_of(conn, &[&id]).map_err(ApiError::from))
        .await
}

/// The synchronous answer: every platform's result, keyed by platform.
fn sync_body(job: &Job, targets: &[Target]) -> Value {
    let results: Map<String, Value> = targets
        .iter()
        .map(|t| {
            let result = t.result_json().unwrap_or_else(|| {
                json!({"success": false, "status": t.state().as_str(), "error": t.error_message})
            });
            (t.platform.clone(), result)
        })
        .collect();
    let mut body = json!({
        "success": true,
        "request_id": job.request_id,
        "job_id": job.id,
        "results": results,
    });
    if job.kind == PostKind::Document.as_str() {
        body["message"] = "Document uploaded successfully".into();
    }
    body
}

/// The background answer; `fallback`: a synchronous request that ran out of time.
fn async_body(job: &Job, total_platforms: usize, fallback: bool) -> Value {
    json!({
        "success": true,
        "message": if fallback {
            "Upload is taking longer than expected and continues in the background. Poll the status endpoint with request_id or job_id."
        } else {
            "Upload initiated successfully in background."
        },
        "request_id": job.request_id,
        "job_id": job.id,
        "total_platforms": total_platforms,
    })
}

/// The 202 of a scheduled upload (`scheduled_date` in UTC with `Z`), or of a queued one
/// (the queue's `+00:00` style, and the slot).
fn scheduled_body(job: &Job, queued: bool) -> Value {
    let at = job.scheduled_for.map(|t| t.and_utc());
    let mut body = json!({
        "success": true,
        "job_id": job.id,
        "request_id": job.request_id,
        "scheduled_date": at.map(utc_z),
    });
    if queued {
        let slot = at.map(queue::utc_offset);
        body["scheduled_date"] = slot.clone().into();
        body["queue_slot"] = slot.into();
        body["message"] = "Post added to queue".into();
    }
    body
}

/// A repeat of an earlier request: the answer the first one would give now.
async fn answer_repeat(state: &AppState, job: Job) -> Result<HttpResponse, ApiError> {
    let targets = targets_of(state, &job).await?;
    let mut body = if job.state == JobState::Scheduled.as_str() {
        scheduled_body(&job, job.queued)
    } else if targets.iter().all(|t| t.state().is_final()) {
        sync_body(&job, &targets)
    } else {
        async_body(&job, targets.len(), false)
    };
    body["idempotent_replay"] = true.into();
    let status = if job.state == JobState::Scheduled.as_str() {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(body))
}
