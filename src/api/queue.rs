//! `/api/uploadposts/queue/*`: a profile's posting queue — its settings, a preview of the
//! coming slots with the posts in them, the next free slot, and slots marked full by hand.
//!
//! The profile is `profile_username` (alias `profile`), in the query or a JSON body; without
//! one, the account's default profile (the MCP server leaves it out). A profile JWT scopes
//! the call to its own profile, as on Upload-Post's schedule endpoints.

use super::accounts::{ProfileAccess, named_field};
use super::extract::JsonObject;
use crate::db::profiles::DEFAULT_PROFILE_USERNAME;
use crate::db::queue;
use crate::domain::profile_fields::FieldError;
use crate::domain::queue::{
    QueueSettings, SettingsChange, flag, horizon, slot_instant, utc_offset,
};
use crate::error::ApiError;
use crate::links::scope::Act;
use crate::state::AppState;
use actix_web::web::{Data, Query};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The preview's default window, in days, and its bounds.
const PREVIEW_DAYS: i64 = 7;
const MAX_PREVIEW_DAYS: i64 = 60;
const MAX_PREVIEW_COUNT: usize = 200;

/// Longest profile name looked up (usernames are at most 100 characters).
const MAX_PROFILE_CHARS: usize = 256;

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    profile_username: Option<String>,
    profile: Option<String>,
    days: Option<String>,
    count: Option<String>,
    slot_datetime: Option<String>,
}

fn query_text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The profile the call is about, from the body if it names one, else the query.
async fn profile_access(
    req: &HttpRequest,
    state: &Data<AppState>,
    query: &QueueQuery,
    body: Option<&JsonObject>,
    act: Act,
) -> Result<ProfileAccess, ApiError> {
    let from_body = match body {
        Some(body) => named_field(body, &["profile_username", "profile"], MAX_PROFILE_CHARS)?,
        None => None,
    };
    let name = from_body
        .filter(|n| !n.is_empty())
        .or_else(|| query_text(&query.profile_username).map(str::to_owned))
        .or_else(|| query_text(&query.profile).map(str::to_owned))
        .unwrap_or_else(|| DEFAULT_PROFILE_USERNAME.to_owned());
    ProfileAccess::resolve(req, state, Some(&name), "profile_username", act).await
}

/// The settings with the manually full slots still to come.
async fn settings_view(
    state: &Data<AppState>,
    profile_id: String,
    settings: Option<QueueSettings>,
) -> Result<Value, ApiError> {
    state
        .db
        .run(move |conn| {
            let now = Utc::now();
            let settings = match settings {
                Some(s) => s,
                None => queue::settings(conn, &profile_id)?,
            };
            let full = queue::full_slots(conn, &profile_id, now, horizon(now))?;
            Ok::<_, ApiError>(settings.view(&full))
        })
        .await
}

/// `GET /api/uploadposts/queue/settings`.
#[tracing::instrument(skip_all)]
#[utoipa::path(get, path = "/api/uploadposts/queue/settings", tag = "queue", security(("apikey" = []), ("link_token" = [])), params(("profile_username" = Option<String>, Query, description = "The profile (alias `profile`); default: the account's default profile")), responses((status = 200, description = "`{success, queue_settings: {timezone, slots: [{hour, minute}], days_of_week (0 = Monday), max_posts_per_slot, full_slots}}`; defaults: America/New_York, 9:00/12:00/17:00, every day, 1 per slot", body = super::responses::QueueSettingsAnswer), (status = 404, description = "PROFILE_NOT_FOUND", body = crate::error::ErrorBody)))]
pub async fn get_settings(
    req: HttpRequest,
    state: Data<AppState>,
    query: Query<QueueQuery>,
) -> Result<HttpResponse, ApiError> {
    let access = profile_access(&req, &state, &query, None, Act::Read).await?;
    let view = settings_view(&state, access.profile.id, None).await?;
    Ok(HttpResponse::Ok().json(json!({"success": true, "queue_settings": view})))
}

/// `POST /api/uploadposts/queue/settings`: a partial update; fields left out keep their
/// value.
#[tracing::instrument(skip_all)]
#[utoipa::path(post, path = "/api/uploadposts/queue/settings", tag = "queue", security(("apikey" = []), ("link_token" = [])), request_body = Option<super::schemas::QueueSettingsChange>, responses((status = 200, description = "`{success, message, queue_settings}` after the change", body = super::responses::QueueSettingsAnswer), (status = 400, description = "INVALID_FIELD: a bad timezone, slot, day or max_posts_per_slot", body = crate::error::ErrorBody), (status = 403, description = "READONLY_CALENDAR", body = crate::error::ErrorBody), (status = 404, description = "PROFILE_NOT_FOUND", body = crate::error::ErrorBody)))]
pub async fn update_settings(
    req: HttpRequest,
    state: Data<AppState>,
    query: Query<QueueQuery>,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let change = SettingsChange::from_json(&body.0)?;
    let access = profile_access(&req, &state, &query, Some(&body), Act::Edit).await?;
    let (account_id, profile_id) = (access.account.id, access.profile.id.clone());
    let updated = state
        .db
        .run(move |conn| {
            queue::update_settings(conn, &account_id, &profile_id, &change).map_err(ApiError::from)
        })
        .await?;
    let view = settings_view(&state, access.profile.id, Some(updated)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "message": "Queue settings updated",
        "queue_settings": view,
    })))
}

/// Which slots the preview shows: the next `count`, or those of the next `days`.
enum Window {
    Days(i64),
    Count(usize),
}

impl Window {
    fn from_query(query: &QueueQuery) -> Result<Self, FieldError> {
        let number = |field: &'static str, text: &str, max: i64| {
            text.parse::<i64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    FieldError::new(field, format!("must be an integer from 1 to {max}"))
                })
        };
        if let Some(count) = query_text(&query.count) {
            return Ok(Self::Count(
                number("count", count, MAX_PREVIEW_COUNT as i64)? as usize,
            ));
        }
        match query_text(&query.days) {
            Some(days) => Ok(Self::Days(number("days", days, MAX_PREVIEW_DAYS)?)),
            None => Ok(Self::Days(PREVIEW_DAYS)),
        }
    }

    fn slots(&self, settings: &QueueSettings, now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        match *self {
            Self::Days(days) => settings.slots_between(now, now + Duration::days(days)),
            Self::Count(count) => {
                let mut all = settings.slots_between(now, horizon(now));
                all.truncate(count);
                all
            }
        }
    }
}

/// `GET /api/uploadposts/queue/preview`.
#[tracing::instrument(skip_all)]
#[utoipa::path(get, path = "/api/uploadposts/queue/preview", tag = "queue", security(("apikey" = []), ("link_token" = [])), params(("profile_username" = Option<String>, Query, description = "The profile (alias `profile`)"), ("days" = Option<u32>, Query, description = "Slots of the next 1-60 days (default 7)"), ("count" = Option<u32>, Query, description = "Instead of days: the next 1-200 slots")), responses((status = 200, description = "`{success, timezone, slots: [{datetime_utc, datetime_local, available, post_count, max_posts_per_slot, is_full, manually_full, scheduled_posts: [{job_id, title, platforms}]}], next_available: {datetime_utc, datetime_local, timezone} | null}`", body = super::responses::QueuePreview), (status = 400, description = "days or count out of range", body = crate::error::ErrorBody), (status = 404, description = "PROFILE_NOT_FOUND", body = crate::error::ErrorBody)))]
pub async fn preview(
    req: HttpRequest,
    state: Data<AppState>,
    query: Query<QueueQuery>,
) -> Result<HttpResponse, ApiError> {
    let window = Window::from_query(&query)?;
    let access = profile_access(&req, &state, &query, None, Act::Read).await?;
    let profile_id = access.profile.id;
    let body = state
        .db
        .run(move |conn| {
            let now = Utc::now();
            let settings = queue::settings(conn, &profile_id)?;
            let occupancy = queue::occupancy(conn, &profile_id, now, horizon(now))?;
            let slots = window.slots(&settings, now);
            let mut posts: HashMap<DateTime<Utc>, Vec<Value>> = HashMap::new();
            if let Some(last) = slots.last() {
                let end = *last + Duration::seconds(1);
                for job in queue::queued_jobs(conn, &profile_id, now, end)? {
                    posts.entry(job.slot).or_default().push(json!({
                        "job_id": job.job_id,
                        "title": job.title,
                        "platforms": job.platforms,
                    }));
                }
            }
            let rows: Vec<Value> = slots
                .iter()
                .map(|at| {
                    let listed = posts.get(at).map_or(&[][..], Vec::as_slice);
                    settings.preview_row(*at, &occupancy, listed)
                })
                .collect();
            let next = settings.next_available(now, &occupancy, None);
            Ok::<_, ApiError>(json!({
                "success": true,
                "timezone": settings.timezone().as_str(),
                "slots": rows,
                "next_available": next.map(|at| settings.slot_view(at)),
            }))
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /api/uploadposts/queue/next-slot`.
#[tracing::instrument(skip_all)]
#[utoipa::path(get, path = "/api/uploadposts/queue/next-slot", tag = "queue", security(("apikey" = []), ("link_token" = [])), params(("profile_username" = Option<String>, Query, description = "The profile (alias `profile`)")), responses((status = 200, description = "`{success, next_slot: {datetime_utc, datetime_local, timezone} | null}`: null when every slot of the next 365 days is taken", body = super::responses::NextSlot), (status = 404, description = "PROFILE_NOT_FOUND", body = crate::error::ErrorBody)))]
pub async fn next_slot(
    req: HttpRequest,
    state: Data<AppState>,
    query: Query<QueueQuery>,
) -> Result<HttpResponse, ApiError> {
    let access = profile_access(&req, &state, &query, None, Act::Read).await?;
    let profile_id = access.profile.id;
    let next = state
        .db
        .run(move |conn| {
            let settings = queue::settings(conn, &profile_id)?;
            let next = queue::next_free_slot(conn, &profile_id, &settings, Utc::now(), None)?;
            Ok::<_, ApiError>(next.map(|at| settings.slot_view(at)))
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({"success": true, "next_slot": next})))
}

/// The slot a slot-full call names: `slot_datetime` (or `datetime_utc`, `datetime`) in the
/// body, else in the query.
fn named_slot(body: &JsonObject, query: &QueueQuery) -> Result<DateTime<Utc>, ApiError> {
    let text = named_field(body, &["slot_datetime", "datetime_utc", "datetime"], 64)?
        .filter(|t| !t.is_empty())
        .or_else(|| query_text(&query.slot_datetime).map(str::to_owned))
        .ok_or_else(|| FieldError::new("slot_datetime", "is required"))?;
    Ok(slot_instant("slot_datetime", &text)?)
}

/// Marks or frees one slot. Only an upcoming slot of the queue can be marked; any instant
/// can be freed.
async fn set_slot_full(
    req: HttpRequest,
    state: Data<AppState>,
    query: Query<QueueQuery>,
    body: JsonObject,
    full: bool,
) -> Result<HttpResponse, ApiError> {
    let at = named_slot(&body, &query)?;
    let access = profile_access(&req, &state, &query, Some(&body), Act::Edit).await?;
    let (account_id, profile_id) = (access.account.id, access.profile.id);
    state
        .db
        .run(move |conn| {
            if full {
                let now = Utc::now();
                let settings = queue::settings(conn, &profile_id)?;
                if at <= now || at > horizon(now) || !settings.is_slot(at) {
                    return Err(FieldError::new(
                        "slot_datetime",
                        "is not an upcoming slot of this queue (see /queue/preview)",
                    )
                    .into());
                }
            }
            queue::set_slot_full(conn, &account_id, &profile_id, at, full).map_err(ApiError::from)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "message": if full { "Slot marked as full" } else { "Slot is no longer marked as full" },
        "slot_datetime": utc_offset(at),
        "manually_full": full,
    })))
}

/// `POST /api/uploadposts/queue/slot-full`: `full` (default true) marks the slot, `false`
/// frees it.
#[tracing::instrument(skip_all)]
#[utoipa::path(post, path = "/api/uploadposts/queue/slot-full", tag = "queue", security(("apikey" = []), ("link_token" = [])), request_body = super::schemas::QueueSlotFull, responses((status = 200, description = "`{success, message, slot_datetime, manually_full}`", body = super::responses::SlotMarked), (status = 400, description = "slot_datetime missing, unreadable, or not an upcoming slot", body = crate::error::ErrorBody), (status = 403, description = "READONLY_CALENDAR", body = crate::error::ErrorBody), (status = 404, description = "PROFILE_NOT_FOUND", body = crate::error::ErrorBody)))]
pub async fn mark_slot_full(
    req: HttpRequest,
    state: Data<AppState>,
    query: Query<QueueQuery>,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let full = match body.get("full") {
        None | Some(Value::Null) => true,
        Some(v) => flag("full", v)?,
    };
    set_slot_full(req, state, query, body, full).await
}

/// `DELETE /api/uploadposts/queue/slot-full`: frees a slot marked full (body or query).
#[tracing::instrument(skip_all)]
#[utoipa::path(delete, path = "/api/uploadposts/queue/slot-full", tag = "queue", security(("apikey" = []), ("link_token" = [])), params(("profile_username" = Option<String>, Query, description = "The profile, if not in the body"), ("slot_datetime" = Option<String>, Query, description = "The slot, if not in the body")), request_body = Option<super::schemas::QueueSlotFull>, responses((status = 200, description = "`{success, message, slot_datetime, manually_full: false}`", body = super::responses::SlotMarked), (status = 400, description = "slot_datetime missing or unreadable", body = crate::error::ErrorBody), (status = 403, description = "READONLY_CALENDAR", body = crate::error::ErrorBody), (status = 404, description = "PROFILE_NOT_FOUND", body = crate::error::ErrorBody)))]
pub async fn free_slot(
    req: HttpRequest,
    state: Data<AppState>,
    query: Query<QueueQuery>,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    set_slot_full(req, state, query, body, false).await
}
