//! X's chunked media upload (API v2) as the emulator answers it:
//! `POST /2/media/upload/initialize`, `POST /2/media/upload/{id}/append` (multipart:
//! `segment_index`, `media`), `POST /2/media/upload/{id}/finalize` and
//! `GET /2/media/upload?command=STATUS&media_id=`. Segments are written to disk as they
//! come, in order; processing ends `processing_delay` after FINALIZE.

use super::super::super::{Down, Fault, Sandbox};
use super::super::{person_id, snowflake, write_part};
use super::{X, invalid, not_found};
use crate::db::sandbox::{self as state, MEDIA_READY, Media};
use crate::domain::time;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{Duration, NaiveDateTime};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;

const VIDEO_TYPES: [&str; 2] = ["video/mp4", "video/quicktime"];
const CATEGORIES: [&str; 2] = ["tweet_video", "amplify_video"];
const MAX_TOTAL_BYTES: u64 = 512 * 1024 * 1024;
/// X takes segments of at most 5 MB.
const MAX_SEGMENT_BYTES: usize = 5 * 1024 * 1024;
const MAX_SEGMENT_INDEX: u64 = 999;
/// A media id stays usable this long after its upload began.
const EXPIRES_AFTER_SECS: i64 = 86_400;

const UPLOADING: &str = "uploading";
const PROCESSING: &str = "processing";

/// The progress of one upload, kept in the media row's `upload`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Progress {
    total_bytes: u64,
    media_category: String,
    /// Bytes accepted so far, in order.
    received: u64,
    /// The index the next segment must have.
    next_segment: u64,
    finalized_at: Option<NaiveDateTime>,
    /// Processing will fail (the `processing_failed` fault).
    fails: bool,
}

impl Progress {
    fn of(media: &Media) -> Self {
        serde_json::from_str(&media.upload).unwrap_or_default()
    }
}

/// X's 429 when the app's monthly usage cap is used up.
pub fn usage_capped() -> HttpResponse {
    HttpResponse::TooManyRequests().json(json!({
        "title": "UsageCapExceeded",
        "detail": "Usage cap exceeded: Monthly product cap",
        "type": "https://api.twitter.com/2/problems/usage-capped",
        "period": "Monthly",
        "scope": "Product",
    }))
}

/// Whether a stored item can go on a post: an image, or a video X finished processing.
pub fn attachable(media: &Media, delay: Duration) -> bool {
    match media.state.as_str() {
        MEDIA_READY => true,
        PROCESSING => {
            let progress = Progress::of(media);
            !progress.fails
                && progress
                    .finalized_at
                    .is_some_and(|at| at + delay <= time::now())
        }
        _ => false,
    }
}

fn media_key(id: &str) -> String {
    format!("7_{id}")
}

/// `POST /2/media/upload/initialize` with `{media_type, total_bytes, media_category}`.
pub async fn initialize(
    sandbox: &Sandbox,
    person: usize,
    body: &Bytes,
) -> Result<HttpResponse, Down> {
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let Some(media_type) = request["media_type"]
        .as_str()
        .filter(|t| VIDEO_TYPES.contains(t))
    else {
        return Ok(invalid(
            "media_type: video/mp4 or video/quicktime is required",
        ));
    };
    let Some(total_bytes) = request["total_bytes"]
        .as_u64()
        .filter(|n| (1..=MAX_TOTAL_BYTES).contains(n))
    else {
        return Ok(invalid("total_bytes: from 1 to 536870912"));
    };
    let category = request["media_category"].as_str().unwrap_or("tweet_video");
    if !CATEGORIES.contains(&category) {
        return Ok(invalid("media_category: tweet_video or amplify_video"));
    }
    let id = snowflake();
    let progress = Progress {
        total_bytes,
        media_category: category.to_owned(),
        ..Progress::default()
    };
    let row = Media {
        platform: X.key().to_owned(),
        person: person_id(person),
        id: id.clone(),
        content_type: media_type.to_owned(),
        size: 0,
        alt_text: None,
        created_at: time::now(),
        state: UPLOADING.to_owned(),
        upload: json!(progress).to_string(),
    };
    sandbox
        .run(move |conn| state::insert_media(conn, &row))
        .await?;
    Ok(HttpResponse::Ok().json(json!({"data": {
        "id": id, "media_key": media_key(&id), "expires_after_secs": EXPIRES_AFTER_SECS,
    }})))
}

/// `POST /2/media/upload/{id}/append` and `…/{id}/finalize`.
pub async fn session(
    sandbox: &Sandbox,
    person: usize,
    tail: &str,
    req: &HttpRequest,
    body: &Bytes,
    fault: Option<Fault>,
) -> Result<HttpResponse, Down> {
    let Some((id, action)) = tail.split_once('/') else {
        return Ok(not_found("This endpoint does not exist."));
    };
    let wanted = id.to_owned();
    let Some(media) = sandbox
        .run(move |conn| state::find_media(conn, X, Some(person_id(person)), &wanted))
        .await?
    else {
        return Ok(invalid("media_id: no such upload"));
    };
    let mut progress = Progress::of(&media);
    // The call that carries it dooms the upload's processing; it is answered as usual.
    if fault == Some(Fault::ProcessingFailed) {
        progress.fails = true;
    }
    match action {
        "append" if fault == Some(Fault::ChunkRejected) => {
            Ok(HttpResponse::BadRequest().json(json!({
                "errors": [{"message": "Segment was not appended: the bytes did not arrive whole"}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request",
            })))
        }
        "append" => append(sandbox, media, progress, req, body).await,
        "finalize" => finalize(sandbox, media, progress).await,
        _ => Ok(not_found("This endpoint does not exist.")),
    }
}

/// The `segment_index` and `media` parts of an APPEND body.
async fn segment(req: &HttpRequest, body: &Bytes) -> Result<(u64, Bytes), &'static str> {
    let stream = futures_util::stream::once(std::future::ready(Ok::<
        _,
        actix_web::error::PayloadError,
    >(body.clone())));
    let mut parts = actix_multipart::Multipart::new(req.headers(), stream);
    let (mut index, mut media) = (None, None);
    while let Some(part) = parts.next().await {
        let Ok(mut part) = part else {
            return Err("the body must be multipart/form-data");
        };
        let name = part.name().unwrap_or_default().to_owned();
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let Ok(chunk) = chunk else {
                return Err("the body must be multipart/form-data");
            };
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "segment_index" => {
                index = std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|s| s.trim().parse::<u64>().ok());
            }
            "media" => media = Some(Bytes::from(bytes)),
            _ => {}
        }
    }
    let Some(index) = index.filter(|i| *i <= MAX_SEGMENT_INDEX) else {
        return Err("segment_index: from 0 to 999 is required");
    };
    let media = media.ok_or("media: the segment's bytes are required")?;
    Ok((index, media))
}

async fn append(
    sandbox: &Sandbox,
    media: Media,
    mut progress: Progress,
    req: &HttpRequest,
    body: &Bytes,
) -> Result<HttpResponse, Down> {
    if media.state != UPLOADING {
        return Ok(invalid("media_id: the upload was finalized"));
    }
    let (index, bytes) = match segment(req, body).await {
        Ok(found) => found,
        Err(problem) => return Ok(invalid(problem)),
    };
    let ok = HttpResponse::Ok().json(json!({"data": {
        "expires_at": (media.created_at.and_utc().timestamp() + EXPIRES_AFTER_SECS),
    }}));
    // A segment sent again after a lost answer: X already has it.
    if index < progress.next_segment {
        return Ok(ok);
    }
    if index > progress.next_segment {
        return Ok(invalid(&format!(
            "segment_index: segment {} is expected next",
            progress.next_segment
        )));
    }
    if bytes.len() > MAX_SEGMENT_BYTES {
        return Ok(invalid("media: a segment is at most 5 MB"));
    }
    let end = progress.received + bytes.len() as u64;
    if end > progress.total_bytes {
        return Ok(invalid("media: the segments exceed total_bytes"));
    }
    write_part(sandbox, X, &media.id, progress.received, bytes).await?;
    progress.received = end;
    progress.next_segment += 1;
    save(sandbox, &media, UPLOADING, &progress).await?;
    Ok(ok)
}

async fn save(
    sandbox: &Sandbox,
    media: &Media,
    step: &'static str,
    progress: &Progress,
) -> Result<(), Down> {
    let (person, id, upload) = (media.person, media.id.clone(), json!(progress).to_string());
    let size = i64::try_from(progress.received).unwrap_or(i64::MAX);
    sandbox
        .run(move |conn| state::set_media_upload(conn, X, person, &id, step, &upload, Some(size)))
        .await?;
    Ok(())
}

async fn finalize(
    sandbox: &Sandbox,
    media: Media,
    mut progress: Progress,
) -> Result<HttpResponse, Down> {
    if media.state == UPLOADING {
        if progress.received != progress.total_bytes {
            return Ok(invalid(&format!(
                "Segments do not add up to provided total file size: {} of {} bytes",
                progress.received, progress.total_bytes
            )));
        }
        progress.finalized_at = Some(time::now());
        save(sandbox, &media, PROCESSING, &progress).await?;
    }
    let delay = sandbox.processing_delay(X).await?;
    let mut data = json!({
        "id": media.id, "media_key": media_key(&media.id), "size": progress.received,
        "expires_after_secs": EXPIRES_AFTER_SECS,
    });
    data["processing_info"] = processing_info(&progress, delay);
    Ok(HttpResponse::Ok().json(json!({ "data": data })))
}

/// Where processing stands: `pending` right after FINALIZE, `in_progress` while the
/// delay runs, then `succeeded` or `failed`.
fn processing_info(progress: &Progress, delay: Duration) -> Value {
    let Some(finalized_at) = progress.finalized_at else {
        return json!({"state": "pending", "check_after_secs": 1});
    };
    let ready_at = finalized_at + delay;
    let now = time::now();
    if now < ready_at {
        let left = (ready_at - now).num_milliseconds();
        let done = if delay.num_milliseconds() > 0 {
            100 - left * 100 / delay.num_milliseconds()
        } else {
            100
        };
        let state = if done == 0 { "pending" } else { "in_progress" };
        return json!({
            "state": state,
            "check_after_secs": (left + 999) / 1000,
            "progress_percent": done,
        });
    }
    if progress.fails {
        return json!({"state": "failed", "progress_percent": 100, "error": {
            "code": 1, "name": "InvalidMedia",
            "message": "Invalid or Unsupported media, Reason: UnsupportedMedia.",
        }});
    }
    json!({"state": "succeeded", "progress_percent": 100})
}

/// `GET /2/media/upload?command=STATUS&media_id=…`.
pub async fn status(
    sandbox: &Sandbox,
    person: usize,
    params: &HashMap<String, String>,
) -> Result<HttpResponse, Down> {
    if params.get("command").map(String::as_str) != Some("STATUS") {
        return Ok(invalid("command: STATUS is the only command of GET"));
    }
    let Some(id) = params.get("media_id").cloned() else {
        return Ok(invalid("media_id: is required"));
    };
    let Some(media) = sandbox
        .run(move |conn| state::find_media(conn, X, Some(person_id(person)), &id))
        .await?
    else {
        return Ok(invalid("media_id: no such upload"));
    };
    let progress = Progress::of(&media);
    if media.state == UPLOADING {
        return Ok(invalid("media_id: the upload was not finalized"));
    }
    let delay = sandbox.processing_delay(X).await?;
    let mut data = json!({"id": media.id, "media_key": media_key(&media.id)});
    if media.state == PROCESSING {
        data["processing_info"] = processing_info(&progress, delay);
    }
    Ok(HttpResponse::Ok().json(json!({ "data": data })))
}
